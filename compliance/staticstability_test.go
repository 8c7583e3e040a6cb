package compliance

import (
	"reflect"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
)

// globalResources is what the DR stack held before the static-stability change: the health
// canary's role and policy, the Route 53 records; and what may stay: a Route 53 Resolver rule
// (regional), the function itself, a custom resource whose provider role is imported.
const globalResources = `{"Resources": {
  "CanaryRole": {"Type": "AWS::IAM::Role", "Properties": {}},
  "CanaryPolicy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {}},
  "CanaryFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Role": "arn:aws:iam::111111111111:role/ValkeyDr-example-dr-canary"}},
  "DnsServiceRecord": {"Type": "AWS::Route53::RecordSet", "Properties": {"Name": "sessions.cache.example.com", "TTL": "30"}},
  "ResolverRule": {"Type": "AWS::Route53Resolver::ResolverRule", "Properties": {}},
  "Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Fn::GetAtt": ["CanaryFunction", "Arn"]}}}
}}`

func globalStack(t *testing.T, name string, mode drcontext.DrMode) *Stack {
	t.Helper()
	s := &Stack{Name: name, TemplatePath: name + ".template.json", Facts: Facts{Environment: "example", DrMode: mode}}
	s.Template.Resources = map[string]Resource{}
	for id, r := range obj(t, globalResources).(map[string]any)["Resources"].(map[string]any) {
		m := r.(map[string]any)
		s.Template.Resources[id] = Resource{Type: m["Type"].(string), Properties: m["Properties"].(map[string]any)}
	}
	return s
}

func TestNightStackCallsNoGlobalControlPlane(t *testing.T) {
	for name, tc := range map[string]struct {
		stack string
		mode  drcontext.DrMode
		want  []string // logical ids with a finding, sorted
	}{
		"the DR cache stack: IAM and Route 53 fire, Resolver and Lambda do not": {"ValkeyDr-example-us-west-2-dr", drcontext.DrModeStateless,
			[]string{"CanaryPolicy", "CanaryRole", "DnsServiceRecord"}},
		"a same-region drill's DR stack is deployed the same way": {"ValkeyDr-example-us-east-1-dr", drcontext.DrModeStateless,
			[]string{"CanaryPolicy", "CanaryRole", "DnsServiceRecord"}},
		"the primary stack is deployed in peacetime":      {"ValkeyDr-example-us-east-1-primary", drcontext.DrModeNone, nil},
		"the switch stack is always on":                   {"ValkeyDr-example-switch", drcontext.DrModeNone, nil},
		"the switch stack even with the DR cell's facts":  {"ValkeyDr-example-switch", drcontext.DrModeStateless, nil},
		"the separate DR DNS step is best effort":         {"ValkeyDr-example-us-west-2-dr-dns", drcontext.DrModeStateless, nil},
		"the evidence stack has drMode none facts":        {"ValkeyDr-example-evidence", drcontext.DrModeNone, nil},
		"an unknown drMode is not judged (as by VDR-009)": {"ValkeyDr-example-us-west-2-dr", drcontext.DrMode("warm"), nil},
		"a stack with facts the gate never filled is not": {"Stray", "", nil},
	} {
		t.Run(name, func(t *testing.T) {
			s := globalStack(t, tc.stack, tc.mode)
			got := nightNoGlobalControlPlane(s)
			var ids []string
			for _, f := range got {
				ids = append(ids, f.LogicalID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("findings on %v, want %v:\n%s", ids, tc.want, findingsText(got))
			}
		})
	}
}

func TestNightStackFindingNamesTypeControlPlaneAndDoc(t *testing.T) {
	s := globalStack(t, "ValkeyDr-example-us-west-2-dr", drcontext.DrModeStateless)
	var record *Finding
	for _, f := range CheckStack(s) {
		if f.RuleID == RuleNightStaticStable && f.LogicalID == "DnsServiceRecord" {
			record = &f
		}
	}
	if record == nil {
		t.Fatal("no VDR-015 finding on the record")
	}
	msg := record.String()
	for _, want := range []string{"VDR-015", "(DnsServiceRecord)", "AWS::Route53::RecordSet", "Route 53", "us-east-1",
		"appendix-b---edge-network-global-service-guidance.html", "always-on stack in the DR region", "best-effort DNS step"} {
		if !strings.Contains(msg, want) {
			t.Errorf("finding lacks %q:\n%s", want, msg)
		}
	}
	if record.Location != "Type" {
		t.Errorf("location %q", record.Location)
	}
}

func TestGlobalControlPlaneTable(t *testing.T) {
	for _, g := range GlobalControlPlanes {
		if g.Service == "" || g.ControlPlane == "" || !strings.HasPrefix(g.Doc, "https://docs.aws.amazon.com/") || !strings.HasPrefix(g.Pattern, "AWS::") {
			t.Errorf("incomplete row %+v", g)
		}
	}
	for typ, want := range map[string]string{
		"AWS::IAM::Role":                              "IAM",
		"AWS::IAM::InstanceProfile":                   "IAM",
		"AWS::Route53::RecordSet":                     "Route 53",
		"AWS::Route53::HealthCheck":                   "Route 53",
		"AWS::Route53::HostedZone":                    "Route 53",
		"AWS::CloudFront::Distribution":               "CloudFront",
		"AWS::GlobalAccelerator::Accelerator":         "Global Accelerator",
		"AWS::Organizations::Policy":                  "AWS Organizations",
		"AWS::Route53RecoveryControl::RoutingControl": "Route 53 ARC routing control",
		"AWS::Route53RecoveryReadiness::Cell":         "Route 53 ARC readiness check",
		"AWS::Shield::Protection":                     "Shield Advanced",
		"AWS::Route53Resolver::ResolverRule":          "",
		"AWS::Route53Resolver::FirewallRuleGroup":     "",
		"AWS::Route53Profiles::Profile":               "",
		"AWS::Lambda::Function":                       "",
		"AWS::ElastiCache::ServerlessCache":           "",
		"AWS::IAMX::Fake":                             "",
	} {
		g, ok := GlobalControlPlaneOf(typ)
		if got := map[bool]string{true: g.Service}[ok]; got != want {
			t.Errorf("%s: row %q, want %q", typ, got, want)
		}
	}
}

func TestPeacetimeStacksAreNeverOnTheNight(t *testing.T) {
	for _, p := range PeacetimeStacks {
		s := &Stack{Name: "ValkeyDr-example" + p.Suffix, Facts: Facts{DrMode: drcontext.DrModeStateless}}
		if DeployedOnTheNight(s) {
			t.Errorf("%s is judged as deployed on the night", s.Name)
		}
		if p.Why == "" {
			t.Errorf("%s: no reason", p.Suffix)
		}
	}
	if !DeployedOnTheNight(&Stack{Name: "ValkeyDr-example-us-west-2-dr", Facts: Facts{DrMode: drcontext.DrModeStateless}}) {
		t.Error("the DR cache stack is not judged as deployed on the night")
	}
	// The warm standby is deployed in peacetime: its canary role and records are its own.
	if DeployedOnTheNight(&Stack{Name: "ValkeyDr-prod-us-west-2-standby", Facts: Facts{DrMode: drcontext.DrModeStandby}}) {
		t.Error("the warm standby is judged as deployed on the night")
	}
}
