package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
)

// TestValidateModeReturnsTheValidatorsReport runs the on-demand mode against real valkey-server
// in the serverless shape (one hostname, 6379 and a read port): the full table runs, reader and
// session lifecycle included, the response is a report.json document (decoded strictly into
// the validator's own type), no metric is published and no key is left behind.
func TestValidateModeReturnsTheValidatorsReport(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	s := newSetup(c, valkeytest.AppPassword)
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-0001",
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:111111111111:function:example-sessions-canary"})
	out, err := s.handler().Handle(ctx, json.RawMessage(`{"mode":"validate","runId":"abcdef0123456789","checks":"all"}`))
	if err != nil {
		t.Fatalf("validate mode: %v\n%s", err, s.log.String())
	}
	// What the Lambda runtime sends back is the JSON of the response.
	payload, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("the response is not a report.json document: %v\n%s", err, payload)
	}
	if rep.SchemaVersion != report.SchemaVersion || rep.RunID != "abcdef0123456789" || rep.Tool.Name != ToolName {
		t.Errorf("schema %d run %q tool %q", rep.SchemaVersion, rep.RunID, rep.Tool.Name)
	}
	if len(rep.Checks) != len(checks.Table) {
		t.Fatalf("%d checks, want the whole table (%d)", len(rep.Checks), len(checks.Table))
	}
	for i, r := range rep.Checks {
		want := report.Pass
		if r.Name == "dns-names" {
			want = report.Skip // no names were asked for
		}
		if r.Status == report.Warn && want == report.Pass {
			want = report.Warn // the test CA's short-lived certificate
		}
		if r.Name != checks.Table[i].Name || r.Status != want {
			t.Errorf("check %d: %s %s (%s), want %s %s", i, r.Name, r.Status, r.Detail, checks.Table[i].Name, want)
		}
	}
	if rep.Verdict != report.Pass || rep.ExitCode != 0 {
		t.Errorf("verdict %s exit %d", rep.Verdict, rep.ExitCode)
	}
	ran, _ := rep.Options["ranIn"].(map[string]any)
	if ran["where"] != "lambda" || ran["requestId"] != "req-0001" || !strings.HasSuffix(ran["functionArn"].(string), ":function:example-sessions-canary") {
		t.Errorf("ranIn %v", rep.Options["ranIn"])
	}
	if len(s.metrics.calls) != 0 {
		t.Errorf("validate mode published %d metric calls: an operator's validation must not touch the health metric", len(s.metrics.calls))
	}
	if n := valkeytest.DBSize(t, c); n != 0 {
		t.Errorf("DBSIZE after validate mode = %d, want 0", n)
	}
	for _, b := range [][]byte{payload, s.log.Bytes()} {
		if bytes.Contains(b, []byte(valkeytest.AppPassword)) {
			t.Error("the password is in the response or the log")
		}
	}
}

// TestValidateModeFailingCacheIsAReport: a cache that fails a check is a report with verdict
// fail (the caller writes it and exits 1), not a failed invocation.
func TestValidateModeFailingCacheIsAReport(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	s := newSetup(c, valkeytest.AppPassword)
	s.secrets.value = `{"username":"app","password":"wrong-password-0123456789"}`
	out, err := s.handler().Handle(t.Context(), json.RawMessage(`{"mode":"validate","checks":"all"}`))
	if err != nil {
		t.Fatalf("validate mode: %v", err)
	}
	rep := out.(*report.Report)
	if rep.Verdict != report.Fail || rep.ExitCode != 1 {
		t.Errorf("verdict %s exit %d, want fail 1", rep.Verdict, rep.ExitCode)
	}
	if len(s.metrics.calls) != 0 {
		t.Error("validate mode published metrics")
	}
}

func TestValidateModeRefusesBadRequests(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := &setup{env: map[string]string{}, metrics: &fakeMetrics{}}
	for name, tc := range map[string]struct{ event, wantedError string }{
		"an unknown mode":      {`{"mode":"restore"}`, `mode "restore": want "validate"`},
		"an unknown selection": {`{"mode":"validate","checks":"some"}`, `checks "some": want "all" or "canary"`},
		"a run id with a glob": {`{"mode":"validate","runId":"abc*defgh"}`, `runId "abc*defgh": want 8-32 lower-case letters and digits`},
		"an unknown field":     {`{"mode":"validate","check":"all"}`, `unknown field "check"`},
		"no configuration":     {`{"mode":"validate"}`, "CANARY_PORT is not set"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.handler().Handle(t.Context(), json.RawMessage(tc.event))
			if err == nil || !strings.Contains(err.Error(), tc.wantedError) {
				t.Fatalf("error %v, want %q", err, tc.wantedError)
			}
			if len(s.metrics.calls) != 0 {
				t.Error("a refused request published metrics")
			}
		})
	}
}

// TestHandleScheduledEventIsTheHealthCheck: the entry point Lambda starts (Handle) sends an
// EventBridge event, which has no "mode", to the health check, which publishes Success.
func TestHandleScheduledEventIsTheHealthCheck(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	s := newSetup(c, valkeytest.AppPassword)
	out, err := s.handler().Handle(t.Context(), json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`))
	if err != nil {
		t.Fatalf("%v\n%s", err, s.log.String())
	}
	res, ok := out.(Result)
	if !ok || !res.Success || !res.Published {
		t.Fatalf("response %T %+v, want a published health-check Result", out, out)
	}
	if v, ok := datum(t, s.metrics, "Success"); !ok || v != 1 {
		t.Errorf("Success = %v (published %v)", v, ok)
	}
}
