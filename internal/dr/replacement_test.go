package dr

// Seam tests of the replacement check (replacement.go; docs/design.md, "Replacement-safe
// updates"): CloudFormation's GetTemplate is answered by the command script with a golden
// template of stacks/testdata, edited as an earlier deploy would have left it. AWS IS NOT
// CALLED; what CloudFormation really does with the update only a real account settles.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	drexec "github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// deployedTemplate answers GetTemplate of stack with a golden template, edited by edit (the
// Resources map) when given.
func deployedTemplate(stack, golden string, edit func(rs map[string]any)) drexec.Step {
	return drexec.Step{Match: "cloudformation:GetTemplate " + stack + " @", Do: func(drexec.Cmd) error { return nil },
		Result: drexec.Result{Stdout: goldenTemplate(golden, edit)}}
}

func goldenTemplate(golden string, edit func(rs map[string]any)) []byte {
	b, err := os.ReadFile(filepath.Join(repo, "stacks", "testdata", golden))
	if err != nil {
		panic(err) // test fixture: the golden templates are in the repository
	}
	if edit == nil {
		return b
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		panic(err)
	}
	edit(tmpl["Resources"].(map[string]any))
	out, err := json.Marshal(tmpl)
	if err != nil {
		panic(err)
	}
	return out
}

// otherSubnets: the deployed cache was created in other subnets than the ones cdk.json names
// now (a subnet swapped in cdk.json since the last deploy).
func otherSubnets(rs map[string]any) {
	p := rs["SessionCache"].(map[string]any)["Properties"].(map[string]any)
	p["SubnetIds"] = []any{"subnet-0f2b4d6e8a0c35791", "subnet-0a3c5e7f9b1d46802", "subnet-0123456789abcdef0"}
}

// failbackWith is failbackScript with the primary's deployed template step replaced.
func failbackWith(describe, template drexec.Step) []drexec.Step {
	return []drexec.Step{stsOK, bootOK("us-east-1"), buildOK, synth, describe, template, deployHeldOK, validatorOK, deployReleaseOK}
}

func preflightRecord(t *testing.T, files map[string]string) replacementRecord {
	t.Helper()
	var pre struct {
		Replacement replacementRecord `json:"replacement"`
	}
	if err := json.Unmarshal([]byte(files["preflight.json"]), &pre); err != nil {
		t.Fatalf("preflight.json: %v\n%s", err, files["preflight.json"])
	}
	return pre.Replacement
}

func deployed(e *env) bool {
	for _, c := range e.calls() {
		if strings.Contains(c, "bin/cdk deploy") {
			return true
		}
	}
	return false
}

func TestReplacementSeamFailbackRefusesAnUpdateThatCannotSucceed(t *testing.T) {
	e := newEnv(t, failbackWith(primaryDescribe(""), deployedTemplate(primStack, "prod-none.json", otherSubnets))...)
	res, err := Failback(context.Background(), e.opts.failback(), e.deps)
	wantErr(t, err, 2, "the deploy of "+primStack+" in us-east-1 cannot succeed", "SessionCache (AWS::ElastiCache::ServerlessCache, name \"gc-sessions-prod\")",
		`SubnetIds ["subnet-0f2b4d6e8a0c35791","subnet-0a3c5e7f9b1d46802","subnet-0123456789abcdef0"] -> [`, "the update fails and rolls back",
		"give the cache a new name (cdk.json environments.prod.cache.name)", "sessions in it are lost", primStack+" was not deployed", "--allow-replacement (make: ALLOW_REPLACEMENT=yes)")
	if deployed(e) {
		t.Fatalf("a refused failback ran cdk deploy: %v", e.calls())
	}
	e.noDeployClaim(false)
	files := readBundle(t, res)
	if p := phases(t, files); p["preflight"] != "failed" || p["deploy (PRIMARY record held)"] != "not run" || p["routing release (deploy)"] != "not run" {
		t.Fatalf("phases %v", p)
	}
	rec := preflightRecord(t, files)
	if rec.Deployed != "UPDATE_COMPLETE" || len(rec.Findings) != 1 || !rec.Findings[0].Blocking || rec.Acknowledged {
		t.Fatalf("preflight.json replacement: %+v", rec)
	}
	if c := sdkCalls(e, "scheduler:"); len(c) != 0 {
		t.Fatalf("a refused failback touched the switch: %v", c)
	}
}

func TestReplacementSeamFailbackAllowReplacementDeploysAndRecordsIt(t *testing.T) {
	e := newEnv(t, failbackWith(primaryDescribe(""), deployedTemplate(primStack, "prod-none.json", otherSubnets))...)
	e.opts.AllowReplacement = true
	res, err := Failback(context.Background(), e.opts.failback(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if !deployed(e) || !strings.Contains(e.out.String(), "REPLACEMENT ACKNOWLEDGED (--allow-replacement)") {
		t.Fatalf("the acknowledged replacement did not deploy or say so:\n%s", e.out.String())
	}
	rec := preflightRecord(t, readBundle(t, res))
	if !rec.Acknowledged || len(rec.Findings) != 1 || rec.Findings[0].Changes[0].Property != "SubnetIds" {
		t.Fatalf("the evidence does not record the acknowledged replacement: %+v", rec)
	}
}

func TestReplacementSeamFailbackDeploysWhenThereIsNothingToCompare(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: arn:aws:sts::333333333333:assumed-role/CloudOps/ops is not authorized to perform: cloudformation:GetTemplate"}
	for name, tc := range map[string]struct {
		describe, template drexec.Step
		record, out        string
		noted              bool
	}{
		"the stack does not exist yet": {
			describe: drexec.Step{Match: "cloudformation:DescribeStacks " + primStack + " @", Err: noSuchStack(primStack)},
			// GetTemplate must not be asked: an unexpected call would answer with an error.
			template: drexec.Step{Match: "cloudformation:GetTemplate", Err: errors.New("GetTemplate of a stack that does not exist")},
			record:   "absent: the stack does not exist yet, nothing to compare", out: "does not exist in us-east-1 yet: nothing to replace"},
		"GetTemplate denied": {
			describe: primaryDescribe(""), template: drexec.Step{Match: "cloudformation:GetTemplate " + primStack, Err: denied},
			record: "access denied to cloudformation:GetTemplate", out: "NOTE: replacement check of " + primStack + " in us-east-1 not checked", noted: true},
		"the primary region's CloudFormation does not answer": {
			describe: drexec.Step{Match: "cloudformation:DescribeStacks " + primStack + " @", Err: errors.New("dial tcp: lookup cloudformation.us-east-1.amazonaws.com: i/o timeout")},
			template: drexec.Step{Match: "cloudformation:GetTemplate", Err: errors.New("not asked")},
			record:   "i/o timeout", out: "the deploy goes ahead", noted: true},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, failbackWith(tc.describe, tc.template)...)
			res, err := Failback(context.Background(), e.opts.failback(), e.deps)
			if err != nil {
				t.Fatalf("%v\n%s", err, e.out.String())
			}
			if !deployed(e) || !strings.Contains(e.out.String(), tc.out) {
				t.Fatalf("want the deploy and %q:\n%s", tc.out, e.out.String())
			}
			rec := preflightRecord(t, readBundle(t, res))
			got := rec.Deployed
			if tc.noted {
				got = rec.Note
			}
			if !strings.Contains(got, tc.record) || len(rec.Findings) != 0 {
				t.Fatalf("preflight.json replacement %+v: want %q", rec, tc.record)
			}
			if name == "the stack does not exist yet" && len(sdkCalls(e, "cloudformation:GetTemplate")) != 0 {
				t.Fatalf("GetTemplate of a stack that does not exist: %v", e.sdk)
			}
		})
	}
}

// An activation's DR stack left from an earlier activation: the same check, in the DR region.
func TestReplacementSeamActivateRefusesAnUpdateThatCannotSucceed(t *testing.T) {
	drExists := drexec.Step{Match: "cloudformation:DescribeStacks " + drStack + " @us-west-2", Result: drexec.Result{Stdout: []byte(`{"Stacks":[{"StackStatus":"CREATE_COMPLETE"}]}`)}}
	drSubnets := func(rs map[string]any) {
		rs["SessionCache"].(map[string]any)["Properties"].(map[string]any)["SubnetIds"] = []any{"subnet-0e7a9c1d3f5b80246"}
	}
	for name, allow := range map[string]bool{"refused": false, "acknowledged": true} {
		t.Run(name, func(t *testing.T) {
			script := append([]drexec.Step{drExists, deployedTemplate(drStack, "posture-stateless-prod-stateless.json", drSubnets)}, activationScript(deployOK, validatorOK)...)
			e := newEnv(t, script...)
			e.opts.Region, e.opts.AllowReplacement = "us-west-2", allow
			res, err := Activate(context.Background(), e.opts.activate(), e.deps)
			if c := sdkCalls(e, "cloudformation:GetTemplate"); len(c) != 1 || c[0] != "cloudformation:GetTemplate "+drStack+" @us-west-2" {
				t.Fatalf("GetTemplate calls %v: want one, of the DR stack in the DR region", c)
			}
			rec := preflightRecord(t, readBundle(t, res))
			if len(rec.Findings) != 1 || rec.Findings[0].LogicalID != "SessionCache" || rec.Acknowledged != allow {
				t.Fatalf("preflight.json replacement: %+v", rec)
			}
			if allow {
				if err != nil || !deployed(e) {
					t.Fatalf("--allow-replacement: %v, deployed %v\n%s", err, deployed(e), e.out.String())
				}
				return
			}
			wantErr(t, err, 2, "the deploy of "+drStack+" in us-west-2 cannot succeed", "SubnetIds", "environments.prod.cache.name", "--allow-replacement")
			if deployed(e) {
				t.Fatalf("a refused activation ran cdk deploy: %v", e.calls())
			}
			e.noDeployClaim(false)
		})
	}
}

// The DNS stack left by an earlier activation whose service record has since moved to a new
// logical id: its deploy would create the record while the old one still holds the name.
// The check runs after validation (the cache is deployed and serving through SSM), refuses
// the DNS deploy only, and records what it found.
func TestReplacementSeamActivateChecksTheDNSStack(t *testing.T) {
	dnsStack := drStack + "-dns"
	dnsExists := drexec.Step{Match: "cloudformation:DescribeStacks " + dnsStack + " @us-west-2", Result: drexec.Result{Stdout: []byte(`{"Stacks":[{"StackStatus":"CREATE_COMPLETE"}]}`)}}
	var moved string
	renamed := func(rs map[string]any) {
		for id, r := range rs {
			if p, _ := r.(map[string]any)["Properties"].(map[string]any); p != nil && p["Failover"] == "SECONDARY" {
				moved = id
				rs["Old"+id] = r
				delete(rs, id)
				return
			}
		}
		panic("no SECONDARY record in the DNS golden template")
	}
	for name, allow := range map[string]bool{"refused": false, "acknowledged": true} {
		t.Run(name, func(t *testing.T) {
			script := append([]drexec.Step{dnsExists, deployedTemplate(dnsStack, "posture-stateless-prod-stateless-dns.json", renamed)}, activationScript(deployOK, validatorOK)...)
			e := newEnv(t, script...)
			e.opts.Region, e.opts.AllowReplacement = "us-west-2", allow
			res, err := Activate(context.Background(), e.opts.activate(), e.deps)
			files := readBundle(t, res)
			var rec replacementRecord
			if err := json.Unmarshal([]byte(files["replacement-dns.json"]), &rec); err != nil {
				t.Fatalf("replacement-dns.json: %v", err)
			}
			if rec.Stack != dnsStack || len(rec.Findings) != 1 || rec.Findings[0].Kind != "name-conflict" ||
				rec.Findings[0].LogicalID != moved || rec.Findings[0].FromLogicalID != "Old"+moved || rec.Acknowledged != allow {
				t.Fatalf("replacement-dns.json: %+v", rec)
			}
			dnsDeployed := slices.ContainsFunc(e.calls(), func(c string) bool { return strings.Contains(c, "bin/cdk deploy "+dnsStack) })
			if allow {
				if err != nil || !dnsDeployed {
					t.Fatalf("--allow-replacement: %v, DNS deployed %v\n%s", err, dnsDeployed, e.out.String())
				}
				return
			}
			wantErr(t, err, 2, "the deploy of "+dnsStack+" in us-west-2 cannot succeed", "AWS::Route53::RecordSet", "keep the record's logical id", dnsStack+" was not deployed")
			if dnsDeployed {
				t.Fatalf("a refused DNS step ran its deploy: %v", e.calls())
			}
			if p := phases(t, files); p["deploy"] != "ok" || p["validation"] != "ok" || p["routing"] != "failed" {
				t.Fatalf("phases %v: want the cache deployed and validated, the routing step refused", p)
			}
		})
	}
}

// Failback's release deploys what it checked too: here the released template moves the
// PRIMARY record to a new logical id (the held deploy, checked in preflight, was clean).
// The release is refused with routing still held, the DR cache serving and the request not
// cleared.
func TestReplacementSeamFailbackChecksTheRelease(t *testing.T) {
	// Every synth as usual, but the release's: its PRIMARY record under a new logical id.
	movedPrimary := drexec.Step{Match: "bin/cdk synth", Do: func(c drexec.Cmd) error {
		out := argAfter(c, "--output")
		if !strings.HasSuffix(out, "cdk.out.released") {
			return synthDo(c)
		}
		if err := writeAssembly(out, true, primStack, "prod-none.json"); err != nil {
			return err
		}
		tmpl := goldenTemplate("prod-none.json", func(rs map[string]any) {
			for id, r := range rs {
				if p, _ := r.(map[string]any)["Properties"].(map[string]any); p != nil && p["Failover"] == "PRIMARY" {
					rs["Moved"+id] = r
					delete(rs, id)
					return
				}
			}
			panic("no PRIMARY record in prod-none.json")
		})
		return os.WriteFile(filepath.Join(out, primStack+".template.json"), tmpl, 0o640)
	}}
	script := append([]drexec.Step{movedPrimary}, failbackScript(deployHeldOK, validatorOK, deployReleaseOK)...)
	e := newEnv(t, script...)
	res, err := Failback(context.Background(), e.opts.failback(), e.deps)
	wantErr(t, err, 2, "the deploy of "+primStack+" in us-east-1 cannot succeed", "AWS::Route53::RecordSet", "keep the record's logical id", primStack+" was not deployed")
	for _, c := range e.calls() {
		if strings.Contains(c, "deploy "+primStack+" --app") && strings.Contains(c, "cdk.out.released") {
			t.Fatalf("the refused release ran its deploy: %s", c)
		}
	}
	if c := sdkCalls(e, "scheduler:DeleteSchedule"); len(c) != 0 {
		t.Fatalf("the failover request was cleared although the release was refused: %v", c)
	}
	files := readBundle(t, res)
	if p := phases(t, files); p["deploy (PRIMARY record held)"] != "ok" || p["validation"] != "ok" || p["routing release (deploy)"] != "failed" {
		t.Fatalf("phases %v", p)
	}
	var rec replacementRecord
	if err := json.Unmarshal([]byte(files["replacement-release.json"]), &rec); err != nil || len(rec.Findings) != 1 || rec.Findings[0].Kind != "name-conflict" {
		t.Fatalf("replacement-release.json: %+v %v", rec, err)
	}
	if pre := preflightRecord(t, files); len(pre.Findings) != 0 {
		t.Fatalf("the held deploy's check found %+v: the held template is the golden one", pre.Findings)
	}
}
