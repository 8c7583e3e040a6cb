package main

// The canary's on-demand validate mode (issue 11, validate/README.md, "Where it runs"): a serverless
// endpoint is reachable only inside its VPC, and the canary already runs there, so
// `validate --via-function` and drctl invoke it with a contract.CanaryValidateRequest and get
// back the validator's report.json document, the same schema a local `validate --format json` prints.
// No health metric is published: an operator's validation must never move traffic.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// ToolName is report.json's tool name when the canary ran the checks.
const ToolName = "valkey-dr-canary"

// validateMargin is kept back from the function's own deadline so that cleanup runs and the
// report gets back to the caller before Lambda kills the invocation.
const validateMargin = 10 * time.Second

// runIDPattern is what a caller's runId may be: it becomes part of every key the run writes,
// so nothing that could be a glob or break a hash tag.
var runIDPattern = regexp.MustCompile(`^[a-z0-9]{8,32}$`)

// Handle is the Lambda entry point: a contract.CanaryValidateRequest (what validate
// --via-function sends) runs the validation and returns the report; anything else (the schedule) is the health check of Invoke.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (any, error) {
	var probe struct {
		Mode *string `json:"mode"`
	}
	// A scheduled event is a JSON object without "mode"; unparsable input is not ours to
	// refuse on the schedule path (the health metric must keep flowing).
	if json.Unmarshal(event, &probe) == nil && probe.Mode != nil {
		var req contract.CanaryValidateRequest
		dec := json.NewDecoder(bytes.NewReader(event))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, fmt.Errorf("validate request: %v: want {\"mode\":\"validate\",\"runId\":\"...\",\"checks\":\"all\"}", err)
		}
		return h.Validate(ctx, req)
	}
	return h.Invoke(ctx, event)
}

// Validate runs the requested checks once and returns the report (verdict fail is a report,
// not an error). It returns an error only when it could not run: a bad request, bad
// configuration, the password unreadable. It never publishes metrics.
func (h *Handler) Validate(ctx context.Context, req contract.CanaryValidateRequest) (*report.Report, error) {
	now := h.Now
	if now == nil {
		now = time.Now
	}
	if req.Mode != contract.CanaryModeValidate {
		return nil, fmt.Errorf("validate request: mode %q: want %q", req.Mode, contract.CanaryModeValidate)
	}
	var table []checks.Check
	switch req.Checks {
	case "", contract.CanaryChecksAll:
		req.Checks, table = contract.CanaryChecksAll, checks.Table
	case contract.CanaryChecksCanary:
		table = checks.CanaryChecks()
	default:
		return nil, fmt.Errorf("validate request: checks %q: want %q or %q", req.Checks, contract.CanaryChecksAll, contract.CanaryChecksCanary)
	}
	runID := req.RunID
	if runID == "" {
		runID = checks.NewRunID()
	} else if !runIDPattern.MatchString(runID) {
		return nil, fmt.Errorf("validate request: runId %q: want 8-32 lower-case letters and digits", runID)
	}
	cfg, err := contract.CanaryConfigFromEnv(h.Getenv)
	if err != nil {
		return nil, err
	}
	tc := targetConfig(cfg)
	// The validator's own defaults, so that the report says what a local run would.
	tc.Sessions, tc.Timeout, tc.DNSNames = target.DefaultSessions, target.DefaultTimeout, req.DNSNames
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - validateMargin; left < tc.Timeout {
			if left <= 0 {
				return nil, fmt.Errorf("validate request: the function's timeout leaves no time for the checks (%v left)", time.Until(dl).Round(time.Second))
			}
			tc.Timeout = left
		}
	}
	tg, err := target.Resolve(ctx, tc, target.Deps{Getenv: func(string) string { return "" }, Secrets: h.Secrets, AWSCredentials: h.AWSCredentials})
	if err != nil {
		return nil, err
	}
	ran := ranIn(ctx, cfg.Region)
	env := &checks.Env{Target: tg, Version: "canary-" + toolVersion(), RunID: runID}
	rep := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: ToolName, Version: toolVersion(), GoVersion: runtime.Version()},
		RunID:         runID,
		KeyPrefix:     env.Prefix(),
		StartedAt:     now().UTC(),
		Target:        report.Target{Endpoint: tg.Addr(), ReaderEndpoint: tg.ReaderAddr(), DNSNames: tg.DNSNames},
		Options: map[string]any{"endpoint": tg.Addr(), "auth": string(tg.Auth.Mode), "user": tg.Auth.User, "cacheName": cfg.CacheName,
			"region": cfg.Region, "checks": req.Checks, "timeout": tg.Timeout.String(), "sessions": tg.Sessions,
			"client": env.ClientOptionsEvidence(), contract.OptionRanIn: ran},
	}
	if tg.Auth.Mode == contract.AuthPassword {
		// Where the password came from, never the password.
		rep.Options["passwordSource"], rep.Options["password"] = tg.Auth.PasswordSource, "[REDACTED]"
	}
	rep.Checks = (&checks.Runner{Checks: table, Now: h.Now}).Run(ctx, env)
	if env.Server.ClientMode != "" {
		s := env.Server
		rep.Server = &s
	}
	rep.Finish(now())
	h.logValidate(rep, ran)
	return rep, nil
}

// targetConfig is the canary's target: the stack's endpoint and auth mode from its environment.
func targetConfig(cfg contract.CanaryConfig) target.Config {
	tc := target.Config{ReaderPort: cfg.ReaderPort, User: cfg.User, CAFile: cfg.CAFile,
		TLSServerName: cfg.TLSServerName, Timeout: cfg.Timeout, Sessions: contract.CanarySessions, Region: cfg.Region}
	if cfg.Endpoint != "" && cfg.Port != 0 {
		tc.Endpoint = net.JoinHostPort(cfg.Endpoint, strconv.Itoa(cfg.Port))
	}
	switch cfg.AuthMode {
	case "password":
		tc.PasswordSecretARN = cfg.SecretArn
	case "iam":
		tc.IAM, tc.CacheName = true, cfg.CacheName
	}
	return tc
}

// ranIn reads the invocation's identity from the Lambda runtime (empty outside Lambda).
func ranIn(ctx context.Context, region string) contract.RanIn {
	r := contract.RanIn{Where: contract.RanInLambda, FunctionName: lambdacontext.FunctionName, LogGroup: lambdacontext.LogGroupName,
		LogStream: lambdacontext.LogStreamName, Region: region}
	if r.FunctionName == "" {
		r.FunctionName = os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.FunctionArn, r.RequestID = lc.InvokedFunctionArn, lc.AwsRequestID
	}
	return r
}

// logValidate writes one JSON line: the verdict and where, never a secret (the report's
// options are already redacted; only counts are logged).
func (h *Handler) logValidate(rep *report.Report, ran contract.RanIn) {
	if h.Log == nil {
		return
	}
	b, err := json.Marshal(map[string]any{"level": "INFO", "msg": "on-demand validation", "runId": rep.RunID,
		"verdict": rep.Verdict, "summary": rep.Summary, "ranIn": ran})
	if err != nil {
		return
	}
	fmt.Fprintln(h.Log, string(b))
}
