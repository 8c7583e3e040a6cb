// Command canary is the health canary of a valkey-dr stack, built as the bootstrap of a Go
// Lambda (provided.al2023, arm64, -tags lambda.norpc): every minute an EventBridge schedule
// invokes it in the cache's VPC; it runs the validator's canary checks (the table rows with
// Canary set) against the cache and publishes Success (1 or 0: the primary path only),
// ReaderSuccess (the read-port path, when a reader port is configured), Latency and
// CommandLatency to CloudWatch (namespace ValkeyDr/Canary, dimension CacheName). The alarm on
// Success, with missing data breaching, is what the PRIMARY record's Route 53 health check
// reads; ReaderSuccess has its own alarm and never moves traffic (docs/design.md, "Serverless as clients see it").
//
// Build: GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o .build/canary/bootstrap ./validate/canary
// (the cdk.json build step does this before every synth).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
)

// version is set with -ldflags "-X main.version=..."; otherwise the VCS revision or "dev".
var version = "dev"

// MetricsAPI is the one CloudWatch call the canary makes; the SDK client satisfies it.
type MetricsAPI interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

var _ MetricsAPI = (*cloudwatch.Client)(nil)

// Handler is the canary: its fields are the outside world (tests replace the AWS APIs, never
// the Valkey protocol).
type Handler struct {
	// Getenv reads the configuration (contract.Env*).
	Getenv func(string) string
	// Secrets returns a Secrets Manager client (password mode).
	Secrets target.SecretsFactory
	// AWSCredentials returns the credentials IAM tokens are signed with (iam mode).
	AWSCredentials func(ctx context.Context, region string) (aws.CredentialsProvider, error)
	// Metrics returns the CloudWatch client.
	Metrics func(ctx context.Context, region string) (MetricsAPI, error)
	// Log receives one JSON line per run (CloudWatch Logs in Lambda).
	Log io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// CheckLine is one check in the log line.
type CheckLine struct {
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	Path       string  `json:"path"`
	DurationMs float64 `json:"durationMs"`
	Detail     string  `json:"detail"`
	ErrorClass string  `json:"errorClass,omitempty"`
}

// Result is what one run found; it is also the Lambda's response and its log line.
type Result struct {
	Canary           string      `json:"canary"`
	Version          string      `json:"version"`
	CacheName        string      `json:"cacheName,omitempty"`
	Endpoint         string      `json:"endpoint,omitempty"`
	RunID            string      `json:"runId,omitempty"`
	Success          bool        `json:"success"`
	ReaderSuccess    *bool       `json:"readerSuccess,omitempty"`
	ReaderFailed     []string    `json:"readerFailed,omitempty"`
	LatencyMs        float64     `json:"latencyMs"`
	CommandLatencyMs float64     `json:"commandLatencyMs,omitempty"`
	Failed           []string    `json:"failed,omitempty"`
	Error            string      `json:"error,omitempty"`
	Published        bool        `json:"published"`
	Checks           []CheckLine `json:"checks,omitempty"`
}

func main() {
	h := &Handler{
		Getenv:         os.Getenv,
		Secrets:        target.AWSSecrets,
		AWSCredentials: target.AWSCredentials,
		Metrics: func(ctx context.Context, region string) (MetricsAPI, error) {
			cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
			if err != nil {
				return nil, err
			}
			return cloudwatch.NewFromConfig(cfg), nil
		},
		Log: os.Stdout,
	}
	// Handle: the schedule runs the health check, a validate request the full table.
	lambda.Start(h.Handle)
}

// Invoke is the Lambda entry point; the scheduled event carries nothing the canary needs. It
// returns an error (a failed invocation: Lambda's Errors metric, the dead-letter queue) only
// when the canary itself could not do its job: bad configuration, the password unreadable, the
// metrics not published. An unhealthy cache is a successful run that published Success 0.
func (h *Handler) Invoke(ctx context.Context, _ json.RawMessage) (Result, error) {
	return h.Run(ctx)
}

// Run runs the checks once and publishes the metrics.
func (h *Handler) Run(ctx context.Context) (Result, error) {
	now := h.Now
	if now == nil {
		now = time.Now
	}
	res := Result{Canary: "valkey-dr-canary", Version: toolVersion()}
	cfg, cfgErr := contract.CanaryConfigFromEnv(h.Getenv)
	res.CacheName = cfg.CacheName
	if cfg.Endpoint != "" && cfg.Port != 0 {
		res.Endpoint = net.JoinHostPort(cfg.Endpoint, strconv.Itoa(cfg.Port))
	}
	var runErr error
	var tg *target.Target
	if cfgErr != nil {
		runErr = cfgErr
	} else {
		tc := targetConfig(cfg)
		// No environment passwords: the Lambda's environment is configuration, not secrets.
		deps := target.Deps{Getenv: func(string) string { return "" }, Secrets: h.Secrets, AWSCredentials: h.AWSCredentials}
		tg, runErr = target.Resolve(ctx, tc, deps)
	}
	start := now()
	if runErr == nil {
		env := &checks.Env{Target: tg, Version: "canary-" + res.Version, RunID: checks.NewRunID()}
		res.RunID = env.RunID
		table := checks.CanaryChecks()
		results := (&checks.Runner{Checks: table, Now: h.Now}).Run(ctx, env)
		res.Success = true
		readerRan, readerOK := false, true
		for i, r := range results {
			path := table[i].Path
			res.Checks = append(res.Checks, CheckLine{Name: r.Name, Status: string(r.Status), Path: string(path),
				DurationMs: r.DurationMs, Detail: r.Detail, ErrorClass: r.ErrorClass})
			switch {
			case path == checks.PathReader:
				// The read port is reported on its own and never fails the primary over.
				if r.Status != report.Skip || r.SkippedBecause != "" {
					readerRan = true
				}
				if r.Status == report.Fail || r.SkippedBecause != "" {
					readerOK = false
					res.ReaderFailed = append(res.ReaderFailed, r.Name)
				}
			case r.Status == report.Fail:
				res.Success = false
				res.Failed = append(res.Failed, r.Name)
			}
			if r.Name == "set-get" && r.Status == report.Pass {
				set, _ := r.Evidence["setMs"].(float64)
				get, _ := r.Evidence["getMs"].(float64)
				res.CommandLatencyMs = set + get
			}
		}
		if readerRan {
			res.ReaderSuccess = &readerOK
		}
	} else {
		res.Error = runErr.Error()
	}
	res.LatencyMs = report.Ms(now().Sub(start))

	pubErr := h.publish(ctx, cfg, res, now())
	res.Published = pubErr == nil
	if pubErr != nil {
		res.Error = joinMsg(res.Error, pubErr.Error())
	}
	h.log(res)
	return res, errors.Join(runErr, pubErr)
}

// publish sends the run's data points. Without a cache name there is no dimension to publish
// under: the missing data then turns the health alarm, as it should.
func (h *Handler) publish(ctx context.Context, cfg contract.CanaryConfig, res Result, at time.Time) error {
	if cfg.CacheName == "" || h.Metrics == nil {
		return errors.New("metrics not published: no cache name or no CloudWatch client")
	}
	api, err := h.Metrics(ctx, cfg.Region)
	if err != nil {
		return fmt.Errorf("metrics not published: AWS config: %w", err)
	}
	dims := []types.Dimension{{Name: aws.String(contract.CanaryDimension), Value: aws.String(cfg.CacheName)}}
	success := 0.0
	if res.Success {
		success = 1
	}
	data := []types.MetricDatum{
		{MetricName: aws.String(contract.MetricSuccess), Dimensions: dims, Timestamp: aws.Time(at), Value: aws.Float64(success), Unit: types.StandardUnitNone},
		{MetricName: aws.String(contract.MetricLatency), Dimensions: dims, Timestamp: aws.Time(at), Value: aws.Float64(res.LatencyMs), Unit: types.StandardUnitMilliseconds},
	}
	if res.ReaderSuccess != nil {
		v := 0.0
		if *res.ReaderSuccess {
			v = 1
		}
		data = append(data, types.MetricDatum{MetricName: aws.String(contract.MetricReaderSuccess), Dimensions: dims,
			Timestamp: aws.Time(at), Value: aws.Float64(v), Unit: types.StandardUnitNone})
	}
	if res.CommandLatencyMs > 0 {
		data = append(data, types.MetricDatum{MetricName: aws.String(contract.MetricCommandLatency), Dimensions: dims,
			Timestamp: aws.Time(at), Value: aws.Float64(res.CommandLatencyMs), Unit: types.StandardUnitMilliseconds})
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := api.PutMetricData(pctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(cfg.Namespace), MetricData: data}); err != nil {
		return fmt.Errorf("metrics not published (check the function's subnets reach CloudWatch through a NAT gateway or a monitoring VPC endpoint): %w", err)
	}
	return nil
}

// log writes the run as one JSON line (secrets never reach it: the target redacts them and
// errors never carry secret contents).
func (h *Handler) log(res Result) {
	if h.Log == nil {
		return
	}
	b, err := json.Marshal(struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Result
	}{Level: level(res), Msg: "canary run", Result: res})
	if err != nil {
		return
	}
	fmt.Fprintln(h.Log, string(b))
}

func level(r Result) string {
	switch {
	case r.Error != "":
		return "ERROR"
	case !r.Success:
		return "WARN"
	}
	return "INFO"
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func toolVersion() string { return buildinfo.Version(version) }
