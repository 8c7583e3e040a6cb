package stacks_test

import (
	"strings"
	"testing"

	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// synthDNS builds the after-validation DNS stack of env's DR cell, as `--context stack=dns`
// does.
func synthDNS(t *testing.T, o synthOpts) (*drcontext.Config, map[string]any) {
	t.Helper()
	cfg := o.load(t)
	app := cdktest.NewApp(t)
	s := stacks.NewDNSStack(app, cfg)
	return cfg, cdktest.Template(t, s.Stack)
}

// Runbook step 3 after step 4: the DR cache's records are their own stack, deployed after
// validation; the cache stack made on the night holds none (docs/design.md, "Static
// stability").
func TestDNSStackOfTheDRCache(t *testing.T) {
	for _, o := range []synthOpts{
		{env: "example", mode: "stateless"},
		// prod's drPosture is standby: the stateless stack beside it owns no service record.
		{env: "prod", mode: "stateless"},
		{env: "prod", mode: "stateless", posture: drcontext.DrModeStateless},
	} {
		t.Run(goldenName(o), func(t *testing.T) {
			cfg, tmpl := synthDNS(t, o)
			recs := cdktest.Resources(tmpl, "AWS::Route53::RecordSet")
			wantSecondary := 1
			if !cfg.OwnsServiceRecord() {
				wantSecondary = 0
				if !strings.Contains(cfg.RegionalDNSName(), ".dr.") {
					t.Errorf("regional name %s: a DR mode beside the posture carries its stack role", cfg.RegionalDNSName())
				}
			}
			if len(recs) != 1+wantSecondary {
				t.Fatalf("want the regional and %d SECONDARY record, got %d", wantSecondary, len(recs))
			}
			var secondary int
			for id, r := range recs {
				p := cdktest.Props(r)
				target, _ := p["ResourceRecords"].([]any)
				if len(target) != 1 || !strings.HasPrefix(target[0].(string), "{{resolve:ssm:"+cfg.SSMPrefix()+"/") {
					t.Errorf("%s: target %v is not the cache stack's SSM parameter (a dynamic reference: no export ties the stacks)", id, p["ResourceRecords"])
				}
				if p["Failover"] == "SECONDARY" {
					secondary++
					if p["HealthCheckId"] != nil {
						t.Errorf("%s: the SECONDARY carries a health check: %v", id, p["HealthCheckId"])
					}
				}
			}
			if secondary != wantSecondary {
				t.Errorf("want %d SECONDARY record, got %d", wantSecondary, secondary)
			}
			for _, typ := range []string{"AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::Route53::HealthCheck"} {
				if n := len(cdktest.Resources(tmpl, typ)); n != 0 {
					t.Errorf("%d %s in the DNS stack", n, typ)
				}
			}
			cdktest.Golden(t, goldenName(o)+"-dns", tmpl)
		})
	}
}

// The stack an activation creates on the night needs neither IAM's nor Route 53's control
// plane (both in us-east-1, prod's primary region): its canary runs under the role the switch
// stack made in peacetime.
func TestDRStackCreatesNoGlobalControlPlaneResource(t *testing.T) {
	for _, env := range []string{"example", "prod"} {
		t.Run(env, func(t *testing.T) {
			s := synth(t, synthOpts{env: env, mode: string(drcontext.NightMode().Name)})
			for id, r := range s.tmpl["Resources"].(map[string]any) {
				typ := r.(map[string]any)["Type"].(string)
				if strings.HasPrefix(typ, "AWS::IAM::") || strings.HasPrefix(typ, "AWS::Route53::") {
					t.Errorf("%s (%s) in the stack made on the night", id, typ)
				}
			}
			_, fn := only(t, s.tmpl, "AWS::Lambda::Function")
			role, _ := cdktest.Props(fn)["Role"].(string)
			if !strings.HasSuffix(role, ":role/"+s.cfg.DRCanaryRoleName()) {
				t.Errorf("the canary's role is %v, want the switch stack's %s", cdktest.Props(fn)["Role"], s.cfg.DRCanaryRoleName())
			}
			primary := synth(t, synthOpts{env: env, mode: "none"})
			if primary.sw == nil {
				t.Fatal("no switch stack with the primary")
			}
			roles := cdktest.Resources(cdktest.Template(t, primary.sw.Stack), "AWS::IAM::Role")
			var names []string
			for _, r := range roles {
				n, _ := cdktest.Props(r)["RoleName"].(string)
				names = append(names, n)
			}
			if !strings.Contains(strings.Join(names, " "), s.cfg.DRCanaryRoleName()) {
				t.Errorf("the switch stack's roles %v do not include the DR canary's %s", names, s.cfg.DRCanaryRoleName())
			}
		})
	}
}
