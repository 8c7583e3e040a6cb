package main

// validate --via-function: run the checks where the cache is reachable. A serverless endpoint
// answers only inside its VPC, so a laptop or CI runner invokes the stack's health canary
// (its on-demand validate mode, validate/canary/validatemode.go) synchronously and writes the
// report it returns exactly as a local run would (report.json, junit.xml, summary.md), plus
// invocation.json: which function, which request, which log stream.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// InvokeAPI is the one Lambda call the validator makes; the SDK client satisfies it.
type InvokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ InvokeAPI = (*lambda.Client)(nil)

// InvocationFile is the record of the invocation beside the report.
const InvocationFile = "invocation.json"

// DefaultInvokeTimeout bounds the synchronous invoke: the canary's own timeout (50 s,
// constructs/canary) plus a cold start and the round trip.
const DefaultInvokeTimeout = 90 * time.Second

// viaFunctionExclusive are the flags that say how to reach and authenticate to the cache: the
// canary uses its stack's own endpoint and credentials, so they cannot apply.
var viaFunctionExclusive = []string{"endpoint", "user", "password-file", "password-secret-arn", "iam", "cache-name",
	"ca-file", "tls-server-name", "insecure-plaintext", "reader-port", "sessions"}

// Invocation is invocation.json: where the checks ran.
type Invocation struct {
	Function        string          `json:"function"`
	Region          string          `json:"region"`
	RequestID       string          `json:"requestId,omitempty"`
	ExecutedVersion string          `json:"executedVersion,omitempty"`
	StatusCode      int32           `json:"statusCode,omitempty"`
	FunctionError   string          `json:"functionError,omitempty"`
	RanIn           *contract.RanIn `json:"ranIn,omitempty"`
	Request         any             `json:"request"`
	// LogTail is the last 4 KB of the invocation's log (LogType Tail): the canary logs no
	// secret.
	LogTail string `json:"logTail,omitempty"`
}

// runViaFunction is `run --via-function`: one synchronous invoke, then the report's evidence.
func runViaFunction(ctx context.Context, fs *flag.FlagSet, o options, d deps, stdout, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "%s: --via-function %s: %s\n", toolName, o.viaFunction, fmt.Sprintf(format, args...))
		return contract.ExitUsage
	}
	var conflict []string
	fs.Visit(func(f *flag.Flag) {
		for _, n := range viaFunctionExclusive {
			if f.Name == n {
				conflict = append(conflict, "--"+n)
			}
		}
	})
	if len(conflict) > 0 {
		return fail("%s not accepted with it: the canary connects with its stack's own endpoint and credentials (use --outputs/--stack, --dns-name, --region)", strings.Join(conflict, ", "))
	}
	region := o.cfg.Region
	if arnRegion := lambdaARNRegion(o.viaFunction); arnRegion != "" {
		if region != "" && region != arnRegion {
			return fail("--region %s, but the function ARN is in %s: give one region", region, arnRegion)
		}
		region = arnRegion
	}
	dnsNames := append([]string{}, o.cfg.DNSNames...)
	if o.cfg.OutputsFile != "" {
		_, out, err := target.LoadOutputs(o.cfg.OutputsFile, o.cfg.Stack)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", toolName, termsafe.Escape(err.Error()))
			return contract.ExitUsage
		}
		if region == "" {
			region = out[contract.KeyRegion] // the stack's own region
		}
		for _, k := range []string{contract.KeyRegionalDNSName, contract.KeyServiceDNSName} {
			if n := strings.TrimSuffix(out[k], "."); n != "" {
				dnsNames = append(dnsNames, n)
			}
		}
	}
	if region == "" && d.getenv != nil {
		region = d.getenv("AWS_REGION")
	}
	if region == "" {
		return fail("no region: give --region (the stack's region) or a function ARN")
	}
	if o.evidenceDir != "" {
		if err := checkWritable(o.evidenceDir); err != nil {
			fmt.Fprintf(stderr, "%s: --evidence-dir %q: %v: want a writable directory\n", toolName, o.evidenceDir, err)
			return contract.ExitUsage
		}
	}
	if d.lambda == nil {
		return fail("no Lambda client")
	}
	api, err := d.lambda(ctx, region)
	if err != nil {
		return fail("AWS configuration: %v", err)
	}
	req := contract.CanaryValidateRequest{Mode: contract.CanaryModeValidate, RunID: checks.NewRunID(), Checks: contract.CanaryChecksAll, DNSNames: dnsNames}
	payload, _ := json.Marshal(req)
	text := o.format == "text"
	if text && !o.quiet {
		fmt.Fprintf(stdout, "%s %s: validating through %s in %s (run %s; the checks run inside the cache's VPC)\n", toolName, toolVersion(), o.viaFunction, region, req.RunID)
	}
	timeout := d.invokeTimeout
	if timeout <= 0 {
		timeout = DefaultInvokeTimeout
	}
	ictx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := api.Invoke(ictx, &lambda.InvokeInput{FunctionName: aws.String(o.viaFunction), InvocationType: lambdatypes.InvocationTypeRequestResponse,
		LogType: lambdatypes.LogTypeTail, Payload: payload})
	if err != nil {
		return fail("%s", invokeError(err, region, timeout))
	}
	inv := Invocation{Function: o.viaFunction, Region: region, ExecutedVersion: aws.ToString(out.ExecutedVersion), StatusCode: out.StatusCode,
		FunctionError: aws.ToString(out.FunctionError), Request: req}
	if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); ok {
		inv.RequestID = id
	}
	if out.LogResult != nil {
		if b, err := base64.StdEncoding.DecodeString(*out.LogResult); err == nil {
			inv.LogTail = string(b)
		}
	}
	if inv.FunctionError != "" {
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		_ = json.Unmarshal(out.Payload, &fe)
		if inv.LogTail != "" {
			fmt.Fprintf(stderr, "--- log tail of the invocation ---\n%s\n---\n", strings.TrimSpace(inv.LogTail))
		}
		writeInvocation(o.evidenceDir, inv, stderr)
		hint := "see the log tail above and the function's log group"
		if strings.Contains(fe.ErrorType, "Timedout") || strings.Contains(fe.ErrorMessage, "timed out") {
			hint = "the function timed out: the cache or Secrets Manager is unreachable from its subnets (NAT gateway or createVpcEndpoints in cdk.json)"
		}
		return fail("the canary could not run the checks (FunctionError %s: %s: %s): %s", inv.FunctionError, fe.ErrorType, oneLine(fe.ErrorMessage), hint)
	}
	var rep report.Report
	dec := json.NewDecoder(bytes.NewReader(out.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		writeInvocation(o.evidenceDir, inv, stderr)
		return fail("the response is not a report.json document (%v): is this the valkey-dr canary, and of this version?", err)
	}
	if rep.SchemaVersion != report.SchemaVersion {
		writeInvocation(o.evidenceDir, inv, stderr)
		return fail("the report has schemaVersion %d, this validator reads %d: deploy the canary of this checkout", rep.SchemaVersion, report.SchemaVersion)
	}
	for i := range rep.Checks {
		// Duration is not in the JSON (DurationMs is): the live lines read it.
		rep.Checks[i].Duration = time.Duration(rep.Checks[i].DurationMs * float64(time.Millisecond))
	}
	if ran, ok := rep.Options[contract.OptionRanIn].(map[string]any); ok {
		b, _ := json.Marshal(ran)
		var r contract.RanIn
		if json.Unmarshal(b, &r) == nil {
			inv.RanIn = &r
			if inv.RequestID == "" {
				inv.RequestID = r.RequestID
			}
		}
	}
	if text && !o.quiet {
		for _, r := range rep.Checks {
			report.LiveLine(stdout, r)
		}
	}
	code := rep.ExitCode
	if o.evidenceDir != "" {
		paths, err := report.WriteEvidence(o.evidenceDir, &rep)
		if err == nil {
			err = writeInvocation(o.evidenceDir, inv, stderr)
			paths = append(paths, filepath.Join(o.evidenceDir, InvocationFile))
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
			code = contract.ExitUsage
		} else if text && !o.quiet {
			fmt.Fprintf(stdout, "evidence written to %s (%s); ran in %s, request %s\n", o.evidenceDir, evidenceNames(paths), o.viaFunction, inv.RequestID)
		}
	}
	if text {
		report.WriteSummary(stdout, &rep)
	} else if err := report.WriteJSON(stdout, &rep); err != nil {
		fmt.Fprintf(stderr, "%s: write report: %v\n", toolName, err)
		return contract.ExitUsage
	}
	return code
}

// writeInvocation writes invocation.json when there is an evidence dir.
func writeInvocation(dir string, inv Invocation, stderr io.Writer) error {
	if dir == "" {
		return nil
	}
	return report.WriteFile(filepath.Join(dir, InvocationFile), func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(inv)
	})
}

// invokeError says what a failed Invoke means for the operator, naming the fix.
func invokeError(err error, region string, timeout time.Duration) string {
	var nf *lambdatypes.ResourceNotFoundException
	var api smithy.APIError
	switch {
	case errors.As(err, &nf):
		return fmt.Sprintf("no such function in %s (ResourceNotFoundException): use the stack's %s output and the stack's region", region, contract.KeyCanaryFunctionName)
	case errors.As(err, &api) && (api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied"):
		return fmt.Sprintf("not allowed to invoke it (%s): nobody may invoke the canary until granted: attach docs/iam/invoke-canary.json to your role", api.ErrorCode())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %v: the invocation may still be running (see its log group); check the function's timeout and its subnets", timeout)
	case errors.Is(err, context.Canceled):
		return "interrupted before the canary answered"
	}
	return "invoke failed: " + oneLine(err.Error())
}

// lambdaARNRegion returns the region of a function ARN (arn:aws:lambda:<region>:...), "" for a
// plain name.
func lambdaARNRegion(fn string) string {
	p := strings.Split(fn, ":")
	if len(p) >= 7 && p[0] == "arn" && p[2] == "lambda" {
		return p[3]
	}
	return ""
}

// localRanIn says a run of this binary ran here (a bastion, a VPN host), not in the canary.
func localRanIn() contract.RanIn {
	h, _ := os.Hostname()
	return contract.RanIn{Where: contract.RanInLocal, Host: h}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// newLambda is the real Lambda client of deps.
func newLambda(ctx context.Context, region string) (InvokeAPI, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, err
	}
	return lambda.NewFromConfig(cfg), nil
}
