package stacks_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// `cdk deploy --context environment=prod --context region=us-west-2 --context drMode=standby`
// deploys, in peacetime, ONE stack: the empty DR cache with the stateless baseline, its canary
// (health metric and on-demand validation) under a role of its own, its SSM application config,
// the regional record and the SECONDARY record (docs/design.md, "Warm standby").
func TestStandbyStack(t *testing.T) {
	s := synth(t, synthOpts{env: "prod", mode: "standby", region: "us-west-2"})
	if s.sw != nil {
		t.Fatal("a standby synth builds the switch stack too: `cdk deploy` would find two stacks")
	}
	if s.cfg.StackID() != "ValkeyDr-prod-us-west-2-standby" || !*s.stack.TerminationProtection() {
		t.Errorf("stack %s, termination protection %v", s.cfg.StackID(), *s.stack.TerminationProtection())
	}
	_, cache := only(t, s.tmpl, "AWS::ElastiCache::ServerlessCache")
	p := cdktest.Props(cache)
	if p["ServerlessCacheName"] != "gc-sessions-prod-standby" || p["SnapshotRetentionLimit"] != float64(0) || p["SnapshotArnsToRestore"] != nil {
		t.Errorf("cache %v: want gc-sessions-prod-standby, no snapshots, no restore", p)
	}
	if p["KmsKeyId"] == nil || p["UserGroupId"] == nil {
		t.Errorf("cache lacks the production baseline (CMK, user group): %v", p)
	}
	_, fn := only(t, s.tmpl, "AWS::Lambda::Function")
	if role := fmt.Sprint(cdktest.Props(fn)["Role"]); !strings.Contains(role, "Fn::GetAtt") {
		t.Errorf("the canary's role is %s: a stack deployed in peacetime owns its canary's role", role)
	}
	if n := len(cdktest.Resources(s.tmpl, "AWS::IAM::Role")); n == 0 {
		t.Error("no IAM role: the canary runs under its own role")
	}
	params := map[string]bool{}
	for _, r := range cdktest.Resources(s.tmpl, "AWS::SSM::Parameter") {
		params[fmt.Sprint(cdktest.Props(r)["Name"])] = true
	}
	for _, n := range []string{"endpoint-address", "port", "reader-port", "auth-mode", "user-name", "secret-arn"} {
		if !params["/valkey-dr/prod/"+n] {
			t.Errorf("no SSM parameter /valkey-dr/prod/%s (got %v)", n, params)
		}
	}
	recs := cdktest.Resources(s.tmpl, "AWS::Route53::RecordSet")
	names := map[string]string{}
	for _, r := range recs {
		rp := cdktest.Props(r)
		names[fmt.Sprint(rp["Name"])] = fmt.Sprint(rp["Failover"], "/", rp["SetIdentifier"])
		if rp["HealthCheckId"] != nil {
			t.Errorf("record %v carries a health check: only the PRIMARY does", rp["Name"])
		}
	}
	want := map[string]string{"sessions.us-west-2.cache.prod.internal.example.com": "<nil>/<nil>", "sessions.cache.prod.internal.example.com": "SECONDARY/secondary"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("records %v, want %v", names, want)
	}
	if n := len(cdktest.Resources(s.tmpl, "AWS::Route53::HealthCheck")); n != 0 {
		t.Errorf("%d health checks in the standby stack", n)
	}
	outs, _ := s.tmpl["Outputs"].(map[string]any)
	for _, k := range []string{contract.KeyCanaryFunctionName, contract.KeyServiceDNSName, contract.KeyRegionalDNSName, contract.KeyEndpointAddress} {
		if outs[k] == nil {
			t.Errorf("no output %s", k)
		}
	}
	if d, _ := s.tmpl["Description"].(string); !strings.Contains(d, "warm standby") {
		t.Errorf("description %q does not say what the stack is", d)
	}
}

// In an environment whose drPosture is stateless (example), a standby can be deployed beside
// it (to try it before switching posture) but owns none of the environment's DR names.
func TestStandbyBesideAStatelessPosture(t *testing.T) {
	s := synth(t, synthOpts{env: "example", mode: "standby"})
	for _, r := range cdktest.Resources(s.tmpl, "AWS::Route53::RecordSet") {
		rp := cdktest.Props(r)
		if rp["Failover"] != nil || rp["Name"] != "sessions.standby.us-west-2.cache.internal.example.com" {
			t.Errorf("record %v %v: a standby beside the stateless posture owns only its own regional name", rp["Name"], rp["Failover"])
		}
	}
	for _, r := range cdktest.Resources(s.tmpl, "AWS::SSM::Parameter") {
		if n := fmt.Sprint(cdktest.Props(r)["Name"]); !strings.HasPrefix(n, "/valkey-dr/example/standby/") {
			t.Errorf("SSM parameter %s is not under the standby's own prefix", n)
		}
	}
}

// The primary and the standby of prod, synthesized together as they are deployed: the failover
// pair is complete (PRIMARY + SECONDARY of the service name, one zone, distinct set
// identifiers) and no record set is owned by two stacks (VDR-013's key: name, type, set id).
func TestPrimaryAndStandbyFailoverPair(t *testing.T) {
	ctx := repotest.CDKContext(t)
	app := cdktest.NewApp(t)
	var tmpls = map[string]map[string]any{}
	var built []*stacks.CacheStack
	var sw *stacks.SwitchStack
	for _, mode := range []drcontext.DrMode{drcontext.DrModeNone, drcontext.DrModeStandby} {
		cfg, err := drcontext.Load(drcontext.Input{Environments: ctx[drcontext.KeyEnvironments], Environment: "prod", DrMode: string(mode)})
		if err != nil {
			t.Fatal(err)
		}
		st := stacks.NewCacheStack(app, cfg, stacks.WithCanary(canaryDir))
		if a := stacks.AttachSwitch(app, cfg, st); a != nil {
			sw = a
		}
		built = append(built, st)
	}
	for _, st := range built {
		tmpls[*st.StackName()] = cdktest.Template(t, st.Stack)
	}
	if sw == nil {
		t.Fatal("no switch stack with the primary")
	}
	tmpls[*sw.StackName()] = cdktest.Template(t, sw.Stack)

	owners := map[string][]string{}
	type half struct{ zone, set string }
	pair := map[string]half{}
	for stack, tmpl := range tmpls {
		for _, r := range cdktest.Resources(tmpl, "AWS::Route53::RecordSet") {
			p := cdktest.Props(r)
			key := fmt.Sprintf("%v %v %v", strings.ToLower(strings.TrimSuffix(fmt.Sprint(p["Name"]), ".")), p["Type"], p["SetIdentifier"])
			owners[key] = append(owners[key], stack)
			if p["Name"] == "sessions.cache.prod.internal.example.com" {
				if _, dup := pair[fmt.Sprint(p["Failover"])]; dup {
					t.Errorf("two %v records of the service name", p["Failover"])
				}
				pair[fmt.Sprint(p["Failover"])] = half{fmt.Sprint(p["HostedZoneId"]), fmt.Sprint(p["SetIdentifier"])}
			}
		}
	}
	for key, stacks := range owners {
		if len(stacks) > 1 {
			t.Errorf("record set %s is owned by %v", key, stacks)
		}
	}
	pri, okP := pair["PRIMARY"]
	sec, okS := pair["SECONDARY"]
	switch {
	case !okP || !okS || len(pair) != 2:
		t.Fatalf("failover pair %v: want exactly PRIMARY and SECONDARY", pair)
	case pri.zone != sec.zone || pri.zone != "Z04817263PRODZONE1":
		t.Errorf("the halves are in zones %s and %s: Route 53 fails over only inside one zone", pri.zone, sec.zone)
	case pri.set == sec.set:
		t.Errorf("both halves have set identifier %s", pri.set)
	}
}
