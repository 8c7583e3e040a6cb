package dr

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

const primEndpoint = "gc-sessions-prod-new123.serverless.use1.cache.amazonaws.com"

// heldDeploy matches the held deploy: of the assembly the preflight synthesized and checked
// (cdk deploy --app <work>/cdk.out.held).
const heldDeploy = "/cdk.out.held --no-version-reporting"

var (
	deployHeldOK    = drexec.Step{Match: heldDeploy, Do: deployDo(primEndpoint)}
	deployReleaseOK = drexec.Step{Match: "bin/cdk deploy " + primStack, Do: deployDo(primEndpoint)}
)

// failbackScript: the primary stack exists and CloudFormation holds the template the held
// synth gives (no replacement).
func failbackScript(held, validator, release drexec.Step) []drexec.Step {
	return []drexec.Step{stsOK, bootOK("us-east-1"), buildOK, synth, primaryDescribe(""), deployedTemplate(primStack, "prod-none.json", nil), held, validator, release}
}

func TestFailbackSeamHappyPath(t *testing.T) {
	e := newEnv(t, failbackScript(deployHeldOK, validatorOK, deployReleaseOK)...)
	res, err := Failback(context.Background(), e.opts.failback(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	w, r := res.Run.Work, repoAbs(t)
	want := []string{
		// The identity check at the regional STS endpoint of the primary region (failback acts there).
		"sdk sts:GetCallerIdentity @us-east-1",
		"sdk cloudformation:DescribeStacks CDKToolkit @us-east-1",
		"go build -o " + w + "/valkey-dr-validate ./validate",
		// The DR cache's records are its DNS stack's (docs/design.md, "Static stability").
		r + "/bin/cdk synth ValkeyDr-prod-us-west-2-dr-dns --quiet --no-notices --no-version-reporting --no-validation --output " + w + "/cdk.out.dr --context environment=prod --context region=us-west-2 --context drMode=stateless --context stack=dns",
		// The held assembly, gated, then the replacement check against the deployed template
		// (docs/design.md, "Replacement-safe updates"), then the deploy of what was checked.
		r + "/bin/cdk synth ValkeyDr-prod-us-east-1-primary --quiet --no-notices --no-version-reporting --output " + w + "/cdk.out.held --context environment=prod --context region=us-east-1 --context drMode=none --context holdPrimaryRouting=true",
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-east-1-primary @us-east-1",
		"sdk cloudformation:GetTemplate ValkeyDr-prod-us-east-1-primary @us-east-1",
		r + "/bin/cdk deploy ValkeyDr-prod-us-east-1-primary --app " + w + "/cdk.out.held --no-version-reporting --require-approval never --outputs-file " + w + "/cdk-outputs-held.json --progress events",
		w + "/valkey-dr-validate --outputs " + w + "/cdk-outputs-held.json --stack ValkeyDr-prod-us-east-1-primary --evidence-dir " + w + "/validation --via-function gc-sessions-canary --region us-east-1",
		// The release: synthesized, gated, checked against the deployed (now held) template,
		// and deployed as checked.
		r + "/bin/cdk synth ValkeyDr-prod-us-east-1-primary --quiet --no-notices --no-version-reporting --output " + w + "/cdk.out.released --context environment=prod --context region=us-east-1 --context drMode=none",
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-east-1-primary @us-east-1",
		"sdk cloudformation:GetTemplate ValkeyDr-prod-us-east-1-primary @us-east-1",
		r + "/bin/cdk deploy ValkeyDr-prod-us-east-1-primary --app " + w + "/cdk.out.released --no-version-reporting --require-approval never --outputs-file " + w + "/cdk-outputs-released.json --progress events",
		// The failover request is cleared AFTER the release (preflight_canary.go, clearFailover):
		// SDK calls in the DR region, the identity check there first.
		"sdk sts:GetCallerIdentity @us-west-2",
	}
	if got := e.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	files := readBundle(t, res)
	p := phases(t, files)
	if p["deploy (PRIMARY record held)"] != "ok" || p["validation"] != "ok" || p["canary preflight"] != "ok" || p["routing release (deploy)"] != "ok" || p["publish primary"] != "ok" {
		t.Fatalf("phases %v", p)
	}
	if len(sdkCalls(e, "scheduler:DeleteSchedule")) != 1 || len(e.sw.creates) != 0 {
		t.Fatalf("failback: %v, want one DeleteSchedule of the request (the request cleared)", sdkCalls(e, "scheduler:"))
	}
	for _, f := range []string{"stack-outputs-held.json", "stack-outputs-released.json", "deploy-held.log", "deploy-release.log", "replacement-release.json", "routing/failback-release.md",
		"canary-preflight.json", "route-before.json", "route-after.json"} {
		if _, ok := files[f]; !ok {
			t.Errorf("bundle lacks %s", f)
		}
	}
	// The golden prod-none template has the PRIMARY record; the synthesized "held" one in this
	// fake is the same file, so the change is read from the real templates in cfn's tests. Here:
	// the DR cache's SECONDARY record (its DNS stack's) stays until teardown.
	var rc struct {
		After []struct{ Stack, Failover string }
	}
	json.Unmarshal([]byte(files["routing/failback-release.json"]), &rc)
	found := false
	for _, r := range rc.After {
		found = found || (r.Stack == drStack+"-dns" && r.Failover == "SECONDARY")
	}
	if !found {
		t.Fatalf("the DR SECONDARY record is missing from the routing after failback: %s", files["routing/failback-release.json"])
	}
	if !strings.Contains(e.out.String(), "make dr-teardown ENV=prod CONFIRM=ValkeyDr-prod-us-west-2-dr") {
		t.Fatalf("no next step:\n%s", e.out.String())
	}
}

func TestFailbackSeamFailures(t *testing.T) {
	for name, tc := range map[string]struct {
		script  []drexec.Step
		msg     []string
		lastCmd string
		phases  map[string]string
		// noSuccess: the canary has published no Success data point.
		noSuccess bool
	}{
		"no credentials": {script: []drexec.Step{stsNoCreds}, msg: []string{"no usable AWS credentials"}, lastCmd: "sts:GetCallerIdentity @us-east-1",
			phases: map[string]string{"preflight": "failed", "deploy (PRIMARY record held)": "not run", "routing release (deploy)": "not run"}},
		"the primary region is not bootstrapped": {script: []drexec.Step{stsOK, {Match: "CDKToolkit", Err: noSuchStack("CDKToolkit")}},
			msg: []string{"us-east-1", "not bootstrapped", "bin/cdk bootstrap aws://333333333333/us-east-1"}, lastCmd: "CDKToolkit"},
		"a failed held deploy releases nothing": {
			script: failbackScript(drexec.Step{Match: heldDeploy, Result: drexec.Result{ExitCode: 1}}, validatorOK, deployReleaseOK),
			msg:    []string{"cdk deploy ValkeyDr-prod-us-east-1-primary exited 1"}, lastCmd: heldDeploy,
			phases: map[string]string{"deploy (PRIMARY record held)": "failed", "validation": "not run", "routing release (deploy)": "not run"}},
		"a failed validation keeps routing on DR": {
			script: failbackScript(deployHeldOK, validatorBad, deployReleaseOK),
			msg:    []string{"validation failed"}, lastCmd: "valkey-dr-validate",
			phases: map[string]string{"validation": "failed", "routing release (deploy)": "not run"}},
		"a canary that never published Success holds the release": {
			script: failbackScript(deployHeldOK, validatorOK, deployReleaseOK), noSuccess: true,
			msg:     []string{"routing NOT released: the canary gc-sessions-canary has not published Success", "createVpcEndpoints for us-east-1 in cdk.json"},
			lastCmd: "valkey-dr-validate", phases: map[string]string{"validation": "ok", "canary preflight": "failed", "routing release (deploy)": "not run"}},
		"a failed release deploy": {
			script: failbackScript(deployHeldOK, validatorOK, drexec.Step{Match: "bin/cdk deploy " + primStack, Result: drexec.Result{ExitCode: 1}}),
			msg:    []string{"exited 1"}, lastCmd: "--outputs-file",
			phases: map[string]string{"validation": "ok", "routing release (deploy)": "failed"}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, tc.script...)
			if tc.noSuccess {
				e.sw.success = nil
			}
			res, err := Failback(context.Background(), e.opts.failback(), e.deps)
			wantErr(t, err, 1, tc.msg...)
			if c := sdkCalls(e, "scheduler:DeleteSchedule"); len(c) != 0 || len(e.sw.creates) != 0 {
				t.Errorf("a failed failback changed the routing request: %v", c)
			}
			if strings.Contains(e.out.String(), "FAILBACK FINISHED") || strings.Contains(e.out.String(), "owns the service name again") {
				t.Fatalf("a failed failback claims routing was released:\n%s", e.out.String())
			}
			calls := e.calls()
			if last := calls[len(calls)-1]; !strings.Contains(last, tc.lastCmd) {
				t.Fatalf("last command %q, want %q", last, tc.lastCmd)
			}
			got := phases(t, readBundle(t, res))
			for k, v := range tc.phases {
				if got[k] != v {
					t.Errorf("phase %s = %q, want %q (all %v)", k, got[k], v, got)
				}
			}
		})
	}
	t.Run("no ENV is a usage error", func(t *testing.T) {
		e := newEnv(t)
		e.opts.Environment = ""
		_, err := Failback(context.Background(), e.opts.failback(), e.deps)
		wantErr(t, err, 2, "ENV is required")
		if len(e.calls()) != 0 {
			t.Fatalf("commands ran: %v", e.calls())
		}
	})
}
