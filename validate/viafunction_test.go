package main

// The --via-function path at its SDK seam: a fake Lambda client stands in for the service.
// AWS WAS NOT CALLED by any test here; what a real invoke returns (request ids, the log tail,
// the function's error payloads) is modelled on the Lambda API reference, and only a deploy
// in a real account settles it.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/report"
)

// fakeLambda answers Invoke from a script and records the request.
type fakeLambda struct {
	out   *lambda.InvokeOutput
	err   error
	block bool // wait for the deadline, as an invoke that never answers
	got   *lambda.InvokeInput
}

func (f *fakeLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.got = in
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.out, f.err
}

func viaDeps(f *fakeLambda) deps {
	d := defaultDeps()
	d.getenv = func(string) string { return "" }
	d.lambda = func(context.Context, string) (InvokeAPI, error) { return f, nil }
	d.invokeTimeout = 200 * 1e6 // 200 ms: the "never answers" case must not hold the test
	return d
}

const canaryArn = "arn:aws:lambda:us-west-2:111111111111:function:example-sessions-canary"

func TestViaFunctionFailures(t *testing.T) {
	fnErr := func(typ, msg string) *lambda.InvokeOutput {
		p, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
		return &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"), Payload: p,
			LogResult: aws.String(base64.StdEncoding.EncodeToString([]byte("START RequestId: r-1\nERROR canary configuration\nEND")))}
	}
	for name, tc := range map[string]struct {
		args        []string
		fake        *fakeLambda
		wantedError string
		invoked     bool
	}{
		"the function does not exist": {
			fake:        &fakeLambda{err: &lambdatypes.ResourceNotFoundException{Message: aws.String("Function not found: " + canaryArn)}},
			wantedError: "no such function in us-west-2 (ResourceNotFoundException): use the stack's CanaryFunctionName output", invoked: true,
		},
		"the caller may not invoke it": {
			fake:        &fakeLambda{err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: lambda:InvokeFunction"}},
			wantedError: "not allowed to invoke it (AccessDeniedException): nobody may invoke the canary until granted: attach docs/iam/invoke-canary.json", invoked: true,
		},
		"the invoke never answers": {
			fake: &fakeLambda{block: true}, wantedError: "no answer within 200ms", invoked: true,
		},
		"the function fails (Unhandled) with an error payload": {
			fake:        &fakeLambda{out: fnErr("errorString", "canary configuration: CANARY_PORT is not set")},
			wantedError: "the canary could not run the checks (FunctionError Unhandled: errorString: canary configuration: CANARY_PORT is not set)", invoked: true,
		},
		"the function times out": {
			fake:        &fakeLambda{out: fnErr("Sandbox.Timedout", "Task timed out after 50.05 seconds")},
			wantedError: "the function timed out: the cache or Secrets Manager is unreachable from its subnets (NAT gateway or createVpcEndpoints in cdk.json)", invoked: true,
		},
		"a response that is not a report": {
			fake:        &fakeLambda{out: &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{"canary":"valkey-dr-canary","success":true}`)}},
			wantedError: "the response is not a report.json document", invoked: true,
		},
		"credentials flags with it": {
			args: []string{"--endpoint", "h:6379", "--password-file", "/dev/null"}, fake: &fakeLambda{},
			wantedError: "--endpoint, --password-file not accepted with it: the canary connects with its stack's own endpoint and credentials",
		},
		"a region that contradicts the ARN": {
			args: []string{"--region", "eu-west-1"}, fake: &fakeLambda{},
			wantedError: "--region eu-west-1, but the function ARN is in us-west-2",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "evidence")
			var out, errb bytes.Buffer
			args := append([]string{"--via-function", canaryArn, "--evidence-dir", dir}, tc.args...)
			code := run(args, &out, &errb, viaDeps(tc.fake))
			t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
			if code != contract.ExitUsage {
				t.Errorf("exit %d, want %d", code, contract.ExitUsage)
			}
			if !strings.Contains(errb.String(), tc.wantedError) {
				t.Errorf("stderr does not say %q", tc.wantedError)
			}
			if (tc.fake.got != nil) != tc.invoked {
				t.Errorf("invoked %v, want %v", tc.fake.got != nil, tc.invoked)
			}
			if _, err := os.Stat(filepath.Join(dir, contract.ReportFile)); err == nil {
				t.Error("a report.json was written for a run that never ran the checks")
			}
		})
	}
}

// TestViaFunctionWritesWhatALocalRunWrites runs the validator locally against real valkey-server
// (the serverless-shaped stand-in), hands its report.json to the fake Lambda as the canary's
// response, and requires --via-function to write report.json, junit.xml and summary.md byte for
// byte as the local run did, plus invocation.json saying where the checks ran.
func TestViaFunctionWritesWhatALocalRunWrites(t *testing.T) {
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	local := filepath.Join(t.TempDir(), "local")
	d := defaultDeps()
	d.getenv = func(k string) string { return pw(valkeytest.AppPassword)[k] }
	var out, errb bytes.Buffer
	args := append(tlsArgs(c.Primary, valkeytest.AppUser), "--reader-port", strconv.Itoa(c.Replica.Port), "--evidence-dir", local, "--quiet")
	if code := run(args, &out, &errb, d); code != contract.ExitOK {
		t.Fatalf("local run exit %d: %s %s", code, out.String(), errb.String())
	}
	payload, err := os.ReadFile(filepath.Join(local, contract.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLambda{out: &lambda.InvokeOutput{StatusCode: 200, ExecutedVersion: aws.String("$LATEST"), Payload: payload,
		LogResult: aws.String(base64.StdEncoding.EncodeToString([]byte("START RequestId: r-2\n{\"msg\":\"on-demand validation\"}\nEND")))}}
	outputs := filepath.Join(t.TempDir(), "cdk-outputs.json")
	b, _ := json.Marshal(map[string]any{"ValkeyDr-test-us-west-2-dr": map[string]string{contract.KeyRegion: "us-west-2",
		contract.KeyRegionalDNSName: "session.us-west-2.internal.example.", contract.KeyCanaryFunctionName: "example-sessions-canary"}})
	if err := os.WriteFile(outputs, b, 0o600); err != nil {
		t.Fatal(err)
	}
	via := filepath.Join(t.TempDir(), "via")
	out.Reset()
	errb.Reset()
	code := run([]string{"--via-function", "example-sessions-canary", "--outputs", outputs, "--evidence-dir", via}, &out, &errb, viaDeps(f))
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != contract.ExitOK {
		t.Fatalf("exit %d", code)
	}
	// The same document: report.json equal to the local run's once both are decoded (a struct
	// inside options/evidence comes back from JSON as an object, whose keys the encoder sorts);
	// junit.xml byte for byte; and all three byte for byte what the report writers make of the
	// local run's report.json.
	var want, got any
	a, _ := os.ReadFile(filepath.Join(local, contract.ReportFile))
	bb, err := os.ReadFile(filepath.Join(via, contract.ReportFile))
	if err != nil || json.Unmarshal(a, &want) != nil || json.Unmarshal(bb, &got) != nil || !reflect.DeepEqual(want, got) {
		t.Errorf("report.json is not the local run's document (%v)", err)
	}
	var rep report.Report
	if err := json.Unmarshal(a, &rep); err != nil {
		t.Fatal(err)
	}
	expected := filepath.Join(t.TempDir(), "expected")
	if _, err := report.WriteEvidence(expected, &rep); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{local, report.JUnitFile}, {expected, contract.ReportFile}, {expected, report.JUnitFile}, {expected, report.MarkdownFile}} {
		a, _ := os.ReadFile(filepath.Join(pair[0], pair[1]))
		b, err := os.ReadFile(filepath.Join(via, pair[1]))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s (%v)", pair[1], pair[0], err)
		}
	}
	// The request: synchronous, with the log tail, the whole table, the outputs' DNS names,
	// in the outputs' region.
	if f.got.InvocationType != lambdatypes.InvocationTypeRequestResponse || f.got.LogType != lambdatypes.LogTypeTail {
		t.Errorf("invocation type %s log type %s", f.got.InvocationType, f.got.LogType)
	}
	var req contract.CanaryValidateRequest
	if err := json.Unmarshal(f.got.Payload, &req); err != nil || req.Mode != contract.CanaryModeValidate || req.Checks != contract.CanaryChecksAll ||
		len(req.DNSNames) != 1 || req.DNSNames[0] != "session.us-west-2.internal.example" || req.RunID == "" {
		t.Errorf("request %s (%v)", f.got.Payload, err)
	}
	var inv Invocation
	ib, err := os.ReadFile(filepath.Join(via, InvocationFile))
	if err != nil || json.Unmarshal(ib, &inv) != nil || inv.Region != "us-west-2" || inv.Function != "example-sessions-canary" ||
		!strings.Contains(inv.LogTail, "on-demand validation") || inv.ExecutedVersion != "$LATEST" {
		t.Errorf("invocation.json %s (%v)", ib, err)
	}
	if !strings.Contains(out.String(), "the checks run inside the cache's VPC") {
		t.Error("the terminal does not say where the checks ran")
	}
}
