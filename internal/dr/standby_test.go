package dr

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

const standbyEndpoint = "gc-sessions-prod-standby-abc123.serverless.usw2.cache.amazonaws.com"

// standbyDescribe is DescribeStacks of the warm standby in the DR region: present, healthy,
// with the outputs its stack declares (stacks/testdata/prod-standby.json).
func standbyDescribe(status string) drexec.Step {
	outputs := `{"OutputKey":"EndpointAddress","OutputValue":"` + standbyEndpoint + `"},{"OutputKey":"EndpointPort","OutputValue":"6379"},` +
		`{"OutputKey":"ReaderPort","OutputValue":"6380"},{"OutputKey":"AuthMode","OutputValue":"password"},{"OutputKey":"UserName","OutputValue":"app"},` +
		`{"OutputKey":"SecretArn","OutputValue":"arn:aws:secretsmanager:us-west-2:333333333333:secret:x"},` +
		`{"OutputKey":"CanaryFunctionName","OutputValue":"gc-sessions-prod-standby-canary"},{"OutputKey":"Environment","OutputValue":"prod"},` +
		`{"OutputKey":"DrMode","OutputValue":"standby"},{"OutputKey":"ServiceDnsName","OutputValue":"sessions.cache.prod.internal.example.com"}`
	return drexec.Step{Match: "cloudformation:DescribeStacks " + prodStandbyStack + " @us-west-2", Result: drexec.Result{Stdout: []byte(
		`{"Stacks":[{"StackStatus":"` + status + `","EnableTerminationProtection":true,"Outputs":[` + outputs + `]}]}`)}}
}

func standbyEnv(t *testing.T, script ...drexec.Step) *env {
	t.Helper()
	e := newEnv(t, script...)
	e.opts.Repo, e.opts.Region = standbyRepo, "us-west-2"
	return e
}

// `make dr-activate ENV=prod REGION=us-west-2` on a standby environment: preflight (the standby
// stack present and healthy, read in the DR region), the canary's Success data, validation
// through the canary inside the VPC, then the switch request. No cdk deploy or synth, no
// CloudFormation write, no IAM, no Route 53 call: every SDK call is a regional read in the DR
// region, but the best-effort probe of the primary stack, and the one write is the request
// schedule (EventBridge Scheduler, DR region). Same evidence bundle, the posture recorded.
func TestActivateStandbySeam(t *testing.T) {
	e := standbyEnv(t, standbyDescribe("UPDATE_COMPLETE"), buildOK,
		primaryDescribe(`{"OutputKey":"EndpointAddress","OutputValue":"gc-sessions-prod-xyz.serverless.use1.cache.amazonaws.com"},{"OutputKey":"EndpointPort","OutputValue":"6379"}`),
		validatorOK)
	res, err := Activate(context.Background(), e.opts.activate(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	work := res.Run.Work
	wantCmds := []string{
		"go build -o " + work + "/valkey-dr-validate ./validate",
		work + "/valkey-dr-validate --outputs " + work + "/cdk-outputs.json --stack " + prodStandbyStack + " --evidence-dir " + work + "/validation --via-function gc-sessions-prod-standby-canary --region us-west-2",
	}
	var got []string
	for _, c := range e.calls() {
		if !strings.HasPrefix(c, "sdk ") { // the SDK calls are e.sdk's, below
			got = append(got, c)
		}
	}
	if strings.Join(got, "\n") != strings.Join(wantCmds, "\n") {
		t.Fatalf("commands (no cdk at all):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantCmds, "\n"))
	}
	// The SDK calls in order: identity and the standby (DR region), the primary probe (best
	// effort), the canary's data, then the switch: read, create the request, read back.
	first := []string{
		"sts:GetCallerIdentity @us-west-2",
		"cloudformation:DescribeStacks " + prodStandbyStack + " @us-west-2",
		"cloudformation:DescribeStacks " + primStack + " @us-east-1",
		"cloudwatch:GetMetricData " + "ValkeyDr/Canary @us-west-2",
	}
	if len(e.sdk) < len(first) || strings.Join(e.sdk[:len(first)], "\n") != strings.Join(first, "\n") {
		t.Fatalf("SDK calls:\n%s\nwant first:\n%s", strings.Join(e.sdk, "\n"), strings.Join(first, "\n"))
	}
	created := -1
	for i, c := range e.sdk {
		switch {
		case strings.HasPrefix(c, "route53:"), strings.HasPrefix(c, "iam:"):
			t.Errorf("a global control-plane call on the night: %s", c)
		case strings.HasPrefix(c, "cloudformation:") && !strings.HasPrefix(c, "cloudformation:DescribeStacks "):
			t.Errorf("a CloudFormation write on the night: %s", c)
		case c == "cloudformation:DescribeStacks "+primStack+" @us-east-1":
		case !strings.HasSuffix(c, "@us-west-2"):
			t.Errorf("a call outside the DR region: %s", c)
		case strings.HasPrefix(c, "scheduler:CreateSchedule "):
			if created >= 0 {
				t.Errorf("a second CreateSchedule: %s", c)
			}
			created = i
			if c != "scheduler:CreateSchedule ValkeyDr-prod-failover-request @us-west-2" {
				t.Errorf("the switch request is %s", c)
			}
		}
	}
	if created < 0 || len(e.sw.creates) != 1 {
		t.Fatalf("no switch request (CreateSchedule) after validation:\n%s", strings.Join(e.sdk, "\n"))
	}
	files := readBundle(t, res)
	for _, f := range []string{"metadata.json", "timeline.json", "preflight.json", "stack-outputs.json", "canary-preflight.json", "validation/report.json",
		"route-before.json", "route-after.json", "SHA256SUMS"} {
		if _, ok := files[f]; !ok {
			t.Errorf("bundle lacks %s", f)
		}
	}
	for _, f := range []string{"deploy.log", "deploy-dns.log"} {
		if _, ok := files[f]; ok {
			t.Errorf("bundle has %s: nothing is deployed", f)
		}
	}
	p := phases(t, files)
	if p["preflight"] != "ok" || p["deploy"] != "not performed" || p["canary preflight"] != "ok" || p["validation"] != "ok" || p["publish dr"] != "ok" {
		t.Fatalf("phases %v", p)
	}
	var meta map[string]any
	_ = json.Unmarshal([]byte(files["metadata.json"]), &meta)
	if meta["drPosture"] != "standby" || meta["drMode"] != "standby" || meta["route"] != RouteForce || meta["verdict"] != "pass" {
		t.Fatalf("metadata: posture %v, mode %v, route %v, verdict %v", meta["drPosture"], meta["drMode"], meta["route"], meta["verdict"])
	}
	if !strings.Contains(files["preflight.json"], `"status": "UPDATE_COMPLETE"`) || !strings.Contains(files["stack-outputs.json"], standbyEndpoint) {
		t.Errorf("preflight/outputs do not record the standby:\n%s\n%s", files["preflight.json"], files["stack-outputs.json"])
	}
	if !strings.Contains(e.out.String(), "ACTIVATION FINISHED: stack "+prodStandbyStack+" passed validation and the switch holds traffic on it") {
		t.Errorf("no finish line:\n%s", e.out.String())
	}
}

func TestActivateStandbySeamRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		script []drexec.Step
		code   int
		msg    []string
	}{
		"no standby stack": {script: []drexec.Step{{Match: "DescribeStacks " + prodStandbyStack, Err: noSuchStack(prodStandbyStack)}}, code: 1,
			msg: []string{"the warm standby " + prodStandbyStack + " does not exist in us-west-2", "drPosture is standby", "--context drMode=standby"}},
		"a standby in a failed state": {script: []drexec.Step{standbyDescribe("UPDATE_ROLLBACK_FAILED")}, code: 1,
			msg: []string{"is UPDATE_ROLLBACK_FAILED: it is not in a usable state"}},
		"CloudFormation unreadable": {script: []drexec.Step{{Match: "DescribeStacks " + prodStandbyStack, Err: errors.New("dial tcp: i/o timeout")}}, code: 1,
			msg: []string{"cannot read the warm standby"}},
		"a canary without Success": {script: []drexec.Step{standbyDescribe("CREATE_COMPLETE"), buildOK}, code: 1,
			msg: []string{"routing NOT released: the canary gc-sessions-prod-standby-canary in us-west-2 publishes Success 0"}},
		"a failed validation": {script: []drexec.Step{standbyDescribe("CREATE_COMPLETE"), buildOK, validatorBad}, code: 1,
			msg: []string{"validation failed"}},
	} {
		t.Run(name, func(t *testing.T) {
			e := standbyEnv(t, tc.script...)
			if name == "a canary without Success" {
				e.sw.success = [][]float64{{0, 0}}
			}
			_, err := Activate(context.Background(), e.opts.activate(), e.deps)
			wantErr(t, err, tc.code, tc.msg...)
			if len(e.sw.creates) != 0 {
				t.Fatal("the switch was requested")
			}
			for _, c := range e.calls() {
				if strings.Contains(c, "bin/cdk") {
					t.Fatalf("cdk ran: %s", c)
				}
			}
			e.noDeployClaim(false)
		})
	}
	t.Run("ROUTE=auto validates and leaves the SECONDARY to the health checks", func(t *testing.T) {
		e := standbyEnv(t, standbyDescribe("UPDATE_COMPLETE"), buildOK, validatorOK)
		e.opts.Route = RouteAuto
		if _, err := Activate(context.Background(), e.opts.activate(), e.deps); err != nil {
			t.Fatalf("%v\n%s", err, e.out.String())
		}
		if len(e.sw.creates) != 0 {
			t.Fatal("auto requested the switch")
		}
	})
}

// Failback releases the switch after validating the primary and keeps the standby; teardown of
// the standby is refused unless it is named.
func TestStandbyFailbackAndTeardown(t *testing.T) {
	t.Run("failback validates the primary, releases the switch and keeps the standby", func(t *testing.T) {
		e := standbyEnv(t, failbackScript(deployHeldOK, validatorOK, deployReleaseOK)...)
		e.opts.Region = ""
		res, err := Failback(context.Background(), e.opts.failback(), e.deps)
		if err != nil {
			t.Fatalf("%v\n%s", err, e.out.String())
		}
		var synths []string
		for _, c := range e.calls() {
			if strings.Contains(c, "bin/cdk synth") && !strings.Contains(c, "synth "+primStack+" ") { // the held assembly is the primary's
				synths = append(synths, c)
			}
			if strings.Contains(c, "bin/cdk deploy "+prodStandbyStack) || strings.Contains(c, "bin/cdk destroy") {
				t.Errorf("failback touched the standby: %s", c)
			}
		}
		// The standby's records are its own stack's (no DNS stack).
		if len(synths) != 1 || !strings.Contains(synths[0], "synth "+prodStandbyStack+" ") || strings.Contains(synths[0], "stack=dns") {
			t.Errorf("synths %v: want the standby stack's records", synths)
		}
		if len(sdkCalls(e, "scheduler:DeleteSchedule")) != 1 {
			t.Fatalf("the switch request was not released: %v", sdkCalls(e, "scheduler:"))
		}
		files := readBundle(t, res)
		if p := phases(t, files); p["validation"] != "ok" || p["publish primary"] != "ok" {
			t.Fatalf("phases %v", p)
		}
		out := e.out.String()
		if !strings.Contains(out, "The warm standby "+prodStandbyStack+" stays deployed") || strings.Contains(out, "make dr-teardown") {
			t.Errorf("the finish does not keep the standby:\n%s", out)
		}
	})
	t.Run("teardown is refused unless the standby is named", func(t *testing.T) {
		e := standbyEnv(t, synth)
		_, err := Teardown(context.Background(), e.opts.teardown(), e.deps)
		wantErr(t, err, 2, "refusing to delete "+prodStandbyStack+": it is environment prod's WARM STANDBY (drPosture standby)", "CONFIRM="+prodStandbyStack)
		e.opts.Confirm = "ValkeyDr-prod-us-west-2-dr"
		_, err = Teardown(context.Background(), e.opts.teardown(), e.deps)
		wantErr(t, err, 2, "does not match the stack name")
		if len(e.sdk) != 0 {
			t.Fatalf("AWS was called: %v", e.sdk)
		}
	})
}
