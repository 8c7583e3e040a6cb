package dr

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

func drDescribe(protected bool) drexec.Step {
	tp := "false"
	if protected {
		tp = "true"
	}
	return drexec.Step{Match: "cloudformation:DescribeStacks " + drStack + " @us-west-2", Result: drexec.Result{Stdout: []byte(
		`{"Stacks":[{"StackStatus":"CREATE_COMPLETE","EnableTerminationProtection":` + tp + `,"Outputs":[]}]}`)}}
}

// dnsDescribe is the DR cache's DNS stack (docs/design.md, "Static stability").
func dnsDescribe(protected bool) drexec.Step {
	st := drDescribe(protected)
	st.Match = "cloudformation:DescribeStacks " + drStack + "-dns @us-west-2"
	return st
}

var (
	dnsAbsent      = drexec.Step{Match: "DescribeStacks " + drStack + "-dns", Err: noSuchStack(drStack + "-dns")}
	tpOffDNS       = drexec.Step{Match: "cloudformation:UpdateTerminationProtection " + drStack + "-dns enable=false @us-west-2"}
	destroyDNSOK   = drexec.Step{Match: "bin/cdk destroy " + drStack + "-dns", Result: drexec.Result{Stdout: []byte("ValkeyDr-prod-us-west-2-dr-dns: destroyed\n")}}
	primaryServing = primaryDescribe(`{"OutputKey":"ServiceDnsName","OutputValue":"sessions.cache.prod.internal.example.com"}`)
	primaryHeld    = primaryDescribe(`{"OutputKey":"EndpointAddress","OutputValue":"x"}`)
	tpOff          = drexec.Step{Match: "cloudformation:UpdateTerminationProtection " + drStack + " enable=false @us-west-2"}
	destroyOK      = drexec.Step{Match: "bin/cdk destroy", Result: drexec.Result{Stdout: []byte("ValkeyDr-prod-us-west-2-dr: destroyed\n")}}
)

func TestTeardownSeamRefusesWithoutConfirmation(t *testing.T) {
	for name, confirm := range map[string]string{"no CONFIRM": "", "a CONFIRM naming another stack": "ValkeyDr-prod-us-east-1-primary"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, synth)
			e.opts.Confirm = confirm
			res, err := Teardown(context.Background(), e.opts.teardown(), e.deps)
			wantErr(t, err, 2, "confirm", "CONFIRM=ValkeyDr-prod-us-west-2-dr", "nothing was deleted")
			if res != nil {
				t.Fatal("a refusal produced a result")
			}
			// The plan was printed from the synthesized template; no AWS command ran.
			for _, want := range []string{"Teardown plan", "gc-sessions-prod-dr: DELETED", "AWS::ElastiCache::ServerlessCache", "SessionCache",
				"AWS::Route53::RecordSet", "CNAME sessions.cache.prod.internal.example.com (SECONDARY)", "termination protection ON"} {
				if !strings.Contains(e.out.String(), want) {
					t.Errorf("plan lacks %q:\n%s", want, e.out.String())
				}
			}
			// Two synths, the cache stack and its DNS stack: no AWS.
			if calls := e.calls(); len(calls) != 2 || !strings.Contains(calls[0], "bin/cdk synth ValkeyDr-prod-us-west-2-dr ") ||
				!strings.Contains(calls[1], "bin/cdk synth ValkeyDr-prod-us-west-2-dr-dns ") {
				t.Fatalf("commands %q: want only the synths", calls)
			}
			if _, err := os.Stat(e.opts.EvidenceRoot); !os.IsNotExist(err) {
				t.Fatalf("a refusal created an evidence directory (%v)", err)
			}
			e.noDeployClaim(false)
		})
	}
}

func TestTeardownSeam(t *testing.T) {
	for name, tc := range map[string]struct {
		script      []drexec.Step
		disableTP   bool
		withoutPrim bool
		code        int
		msg         []string
		lastCmd     string
		// noDNS: the DNS stack does not exist, so only the cache stack is destroyed.
		noDNS bool
	}{
		"termination protection stays on unless asked": {
			script: []drexec.Step{synth, stsOK, drDescribe(true)}, code: 2,
			msg: []string{"termination protection ON", "DISABLE_TERMINATION_PROTECTION=yes", "nothing was deleted"}, lastCmd: "cloudformation:DescribeStacks " + drStack},
		"turned off on request, then destroyed": {
			script: []drexec.Step{synth, stsOK, drDescribe(true), dnsDescribe(true), primaryServing, tpOff, tpOffDNS, destroyDNSOK, destroyOK}, disableTP: true, lastCmd: "bin/cdk destroy"},
		"an unprotected stack needs no flag": {
			script: []drexec.Step{synth, stsOK, drDescribe(false), dnsDescribe(false), primaryServing, destroyDNSOK, destroyOK}, lastCmd: "bin/cdk destroy"},
		"the DNS step never ran, Route 53 down on the night: only the cache stack is destroyed": {
			script: []drexec.Step{synth, stsOK, drDescribe(false), dnsAbsent, primaryServing, destroyOK}, lastCmd: "bin/cdk destroy", noDNS: true},
		"a failed DNS destroy keeps the cache stack": {
			script: []drexec.Step{synth, stsOK, drDescribe(false), dnsDescribe(false), primaryServing,
				{Match: "bin/cdk destroy " + drStack + "-dns", Result: drexec.Result{ExitCode: 1}}},
			code: 1, msg: []string{"cdk destroy ValkeyDr-prod-us-west-2-dr-dns exited 1", "ValkeyDr-prod-us-west-2-dr was NOT destroyed"}, lastCmd: "bin/cdk destroy " + drStack + "-dns"},
		"no credentials": {
			script: []drexec.Step{synth, stsNoCreds}, code: 1, msg: []string{"no usable AWS credentials"}, lastCmd: "sts:GetCallerIdentity @us-west-2"},
		"a stack that does not exist": {
			script: []drexec.Step{synth, stsOK, {Match: "DescribeStacks " + drStack, Err: noSuchStack(drStack)}}, code: 1,
			msg: []string{"does not exist in us-west-2", "nothing to tear down"}, lastCmd: drStack},
		"failback not finished": {
			script: []drexec.Step{synth, stsOK, drDescribe(false), dnsDescribe(false), primaryHeld}, code: 1,
			msg: []string{"is not serving", "make dr-failback ENV=prod", "ALLOW_WITHOUT_PRIMARY=yes"}, lastCmd: primStack},
		"failback not finished, removal without primary requested": {
			script: []drexec.Step{synth, stsOK, drDescribe(false), dnsDescribe(false), primaryHeld, destroyDNSOK, destroyOK}, withoutPrim: true, lastCmd: "bin/cdk destroy"},
		"turning termination protection off fails": {
			script: []drexec.Step{synth, stsOK, drDescribe(true), dnsDescribe(false), primaryServing,
				{Match: "UpdateTerminationProtection", Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: cloudformation:UpdateTerminationProtection"}}},
			disableTP: true, code: 1, msg: []string{"cloudformation:UpdateTerminationProtection ValkeyDr-prod-us-west-2-dr in us-west-2", "access denied to cloudformation:UpdateTerminationProtection"}, lastCmd: "UpdateTerminationProtection"},
		"a failed destroy": {
			script: []drexec.Step{synth, stsOK, drDescribe(false), dnsDescribe(false), primaryServing, destroyDNSOK,
				{Match: "bin/cdk destroy", Result: drexec.Result{ExitCode: 1, Stderr: []byte("DELETE_FAILED")}}},
			code: 1, msg: []string{"cdk destroy ValkeyDr-prod-us-west-2-dr exited 1", "DELETE_FAILED"}, lastCmd: "bin/cdk destroy"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, tc.script...)
			e.opts.Confirm = drStack
			e.opts.DisableTerminationProtection = tc.disableTP
			e.opts.AllowWithoutPrimary = tc.withoutPrim
			res, err := Teardown(context.Background(), e.opts.teardown(), e.deps)
			calls := e.calls()
			if last := calls[len(calls)-1]; !strings.Contains(last, tc.lastCmd) {
				t.Fatalf("last command %q, want %q", last, tc.lastCmd)
			}
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("%v\n%s", err, e.out.String())
				}
				files := readBundle(t, res)
				if !strings.Contains(files["plan.txt"], "gc-sessions-prod-dr") || !strings.Contains(files["metadata.json"], `"confirmedBy": "CONFIRM=ValkeyDr-prod-us-west-2-dr"`) {
					t.Fatalf("plan/metadata missing:\n%s", files["metadata.json"])
				}
				if !strings.Contains(files["routing/teardown.md"], "| removed | sessions.cache.prod.internal.example.com | CNAME | SECONDARY |") {
					t.Fatalf("routing:\n%s", files["routing/teardown.md"])
				}
				want := repoAbs(t) + "/bin/cdk destroy ValkeyDr-prod-us-west-2-dr --force --no-version-reporting --output " +
					res.Run.Work + "/cdk.out --context environment=prod --context region=us-west-2 --context drMode=stateless"
				if calls[len(calls)-1] != want {
					t.Fatalf("destroy:\n got %s\nwant %s", calls[len(calls)-1], want)
				}
				if tc.disableTP != strings.Contains(strings.Join(calls, "\n"), "sdk cloudformation:UpdateTerminationProtection "+drStack+" enable=false @us-west-2") {
					t.Fatalf("termination protection command present = %v, want %v", !tc.disableTP, tc.disableTP)
				}
				// The records first, then the cache they point at.
				dnsDestroy := repoAbs(t) + "/bin/cdk destroy ValkeyDr-prod-us-west-2-dr-dns --force --no-version-reporting --output " +
					res.Run.Work + "/cdk.out.dns --context environment=prod --context region=us-west-2 --context drMode=stateless --context stack=dns"
				if got := slices.Contains(calls, dnsDestroy); got == tc.noDNS || (!tc.noDNS && calls[len(calls)-2] != dnsDestroy) {
					t.Fatalf("DNS stack destroyed first = %v, want %v:\n%s", got, !tc.noDNS, strings.Join(calls, "\n"))
				}
				return
			}
			wantErr(t, err, tc.code, tc.msg...)
			e.noDeployClaim(false)
			if strings.Contains(strings.Join(calls, "\n"), "bin/cdk destroy") && !strings.Contains(tc.lastCmd, "destroy") {
				t.Fatal("cdk destroy ran")
			}
			phases(t, readBundle(t, res))
		})
	}
}
