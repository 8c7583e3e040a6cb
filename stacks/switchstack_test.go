package stacks_test

import (
	"encoding/json"
	"fmt"
	"github.com/valkey-dr/valkey-dr/constructs/failover"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
)

// docs/design.md, "Forced failover": the PRIMARY record's health is
// (canary healthy) AND (no failover requested), the request being an alarm in the DR region on
// a metric the operator publishes there, in a stack deployed with the primary.
func TestForcedFailoverSwitch(t *testing.T) {
	s := synth(t, synthOpts{env: "example", mode: "none"})
	if s.sw == nil {
		t.Fatal("drMode=none built no switch stack")
	}
	if got, want := *s.sw.StackName(), "ValkeyDr-example-us-west-2-switch"; got != want {
		t.Errorf("switch stack %q, want %q", got, want)
	}
	if *s.sw.Region() != s.cfg.Env.DrRegion || *s.sw.Account() != s.cfg.Env.Account {
		t.Errorf("switch stack in %s/%s, want the DR region %s of account %s", *s.sw.Account(), *s.sw.Region(), s.cfg.Env.DrRegion, s.cfg.Env.Account)
	}
	deps := s.stack.Dependencies()
	if deps == nil || len(*deps) != 1 || *(*deps)[0].StackName() != *s.sw.StackName() {
		t.Errorf("the primary must depend on the switch stack (cdk deploy <primary> deploys it first): %v", deps)
	}

	// The switch: the alarm and what makes its state hold.
	sw := cdktest.Template(t, s.sw.Stack)
	_, alarm := only(t, sw, "AWS::CloudWatch::Alarm")
	p := cdktest.Props(alarm)
	for k, want := range map[string]any{
		"AlarmName":          s.cfg.FailoverAlarmName(),
		"Namespace":          contract.RoutingNamespace,
		"MetricName":         contract.MetricFailoverRequested,
		"Statistic":          "Maximum",
		"Period":             failover.Period.Seconds(),
		"Threshold":          float64(contract.FailoverValueRequested),
		"ComparisonOperator": "GreaterThanOrEqualToThreshold",
		"EvaluationPeriods":  float64(1),
		// Route 53 never sees TreatMissingData; missing keeps the alarm's own state equal to
		// what Route 53 concludes from the data stream.
		"TreatMissingData": "missing",
	} {
		if p[k] != want {
			t.Errorf("failover alarm %s = %v, want %v", k, p[k], want)
		}
	}
	if dims := fmt.Sprint(p["Dimensions"]); dims != "[map[Name:environment Value:example]]" {
		t.Errorf("failover alarm dimensions %s, want environment=example", dims)
	}
	if !strings.Contains(fmt.Sprint(p["AlarmActions"]), "FailoverTopic") || !strings.Contains(fmt.Sprint(p["OKActions"]), "FailoverTopic") {
		t.Errorf("failover alarm notifies nobody: %v %v", p["AlarmActions"], p["OKActions"])
	}
	// The heartbeat keeps the data stream alive with "not requested", every minute, through
	// the publisher role; the request schedule is drctl's, never the template's.
	scheds := cdktest.Resources(sw, "AWS::Scheduler::Schedule")
	if len(scheds) != 1 {
		t.Fatalf("%d schedules in the switch stack, want the heartbeat only (the request is made by drctl)", len(scheds))
	}
	for _, sc := range scheds {
		sp := cdktest.Props(sc)
		target := sp["Target"].(map[string]any)
		if sp["Name"] != s.cfg.FailoverHeartbeatScheduleName() || sp["ScheduleExpression"] != contract.PublishSchedule ||
			target["Arn"] != contract.PutMetricDataTarget || target["Input"] != contract.RoutingRequestInput(s.cfg.EnvironmentName, contract.FailoverValueCleared) ||
			!strings.Contains(fmt.Sprint(target["RoleArn"]), "FailoverPublisherRole") {
			t.Errorf("heartbeat schedule %v", sp)
		}
	}
	roleNames := map[any]bool{}
	for _, r := range cdktest.Resources(sw, "AWS::IAM::Role") {
		roleNames[cdktest.Props(r)["RoleName"]] = true
	}
	for _, n := range []string{s.cfg.FailoverPublisherRoleName(), s.cfg.DRCanaryRoleName()} {
		if !roleNames[n] {
			t.Errorf("switch stack roles %v: want %s", roleNames, n)
		}
	}
	outs, _ := sw["Outputs"].(map[string]any)
	for _, k := range []string{contract.KeyFailoverAlarmName, contract.KeyFailoverMetricNamespace, contract.KeyFailoverMetricName, contract.KeyFailoverMetricDimension,
		contract.KeyFailoverRequestSchedule, contract.KeyFailoverPublisherRoleArn, contract.KeyFailoverScheduleGroup} {
		if _, ok := outs[k]; !ok {
			t.Errorf("switch stack output %s missing", k)
		}
	}

	// The primary: a calculated check of both, the override on the alarm by name and region.
	hcs := cdktest.Resources(s.tmpl, "AWS::Route53::HealthCheck")
	var calcID, overrideID, canaryID string
	for id, hc := range hcs {
		cfg := cdktest.Props(hc)["HealthCheckConfig"].(map[string]any)
		switch {
		case cfg["Type"] == "CALCULATED":
			calcID = id
		case fmt.Sprint(cfg["AlarmIdentifier"].(map[string]any)["Name"]) == s.cfg.FailoverAlarmName():
			overrideID = id
			if ai := cfg["AlarmIdentifier"].(map[string]any); ai["Region"] != s.cfg.Env.DrRegion {
				t.Errorf("override health check reads region %v, want the DR region %s", ai["Region"], s.cfg.Env.DrRegion)
			}
			if cfg["InsufficientDataHealthStatus"] != "Healthy" {
				t.Errorf("override health check: insufficient data %v, want Healthy (a switch never used moves nothing)", cfg["InsufficientDataHealthStatus"])
			}
		default:
			canaryID = id
		}
	}
	if calcID == "" || overrideID == "" || canaryID == "" {
		t.Fatalf("health checks %v: want canary, override and calculated", hcs)
	}
	calc := cdktest.Props(hcs[calcID])["HealthCheckConfig"].(map[string]any)
	children, _ := calc["ChildHealthChecks"].([]any)
	js, _ := json.Marshal(children)
	if len(children) != 2 || !strings.Contains(string(js), overrideID) || !strings.Contains(string(js), canaryID) {
		t.Errorf("calculated children %s: want the canary check %s and the override %s", js, canaryID, overrideID)
	}
	if calc["HealthThreshold"] != float64(len(children)) {
		t.Errorf("HealthThreshold %v: want all %d children healthy", calc["HealthThreshold"], len(children))
	}
	// No value crosses the regions: the name comes from config on both sides.
	all, _ := json.Marshal(s.tmpl)
	if strings.Contains(string(all), "Fn::ImportValue") || strings.Contains(string(all), "ExportsReader") {
		t.Error("the primary stack references another stack's values: a DR deploy must not depend on another region")
	}
}

func TestSwitchStackOnlyWithThePrimary(t *testing.T) {
	for name, o := range map[string]synthOpts{
		"a DR deploy builds exactly one stack": {env: "example", mode: "stateless"},
		"a same-region drill builds no switch": {env: "example", mode: "stateless", region: "us-east-1", drill: true},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, o)
			if s.sw != nil {
				t.Errorf("drMode=%s built a switch stack", o.mode)
			}
			if n := len(cdktest.Resources(s.tmpl, "AWS::Route53::HealthCheck")); n != 0 {
				t.Errorf("%d health checks in a DR stack", n)
			}
		})
	}
	t.Run("a held-back primary keeps its switch but has no health check", func(t *testing.T) {
		s := synth(t, synthOpts{env: "example", mode: "none", hold: true})
		if s.sw == nil {
			t.Error("the switch stack must stay (an update would otherwise delete the alarm)")
		}
		if n := len(cdktest.Resources(s.tmpl, "AWS::Route53::HealthCheck")); n != 0 {
			t.Errorf("%d health checks with the PRIMARY record held back", n)
		}
	})
	t.Run("prod switch is termination protected", func(t *testing.T) {
		s := synth(t, synthOpts{env: "prod", mode: "none"})
		if s.sw == nil || !*s.sw.TerminationProtection() {
			t.Error("prod switch stack without termination protection")
		}
	})
}

func TestSwitchTemplateMatchesGoldenFile(t *testing.T) {
	for _, env := range []string{"example", "prod"} {
		t.Run(env, func(t *testing.T) {
			s := synth(t, synthOpts{env: env, mode: "none"})
			cdktest.Golden(t, env+"-switch", cdktest.NormalizeAssetHashes(cdktest.Template(t, s.sw.Stack)))
		})
	}
}

// The canary's name is known before the deploy (the drill's stand-in outputs, the operator's
// IAM policy and `validate --via-function` name it); the output says it as a literal.
func TestCanaryFunctionIsNamedFromConfig(t *testing.T) {
	s := synth(t, synthOpts{env: "example", mode: "stateless"})
	_, fn := only(t, s.tmpl, "AWS::Lambda::Function")
	if got := cdktest.Props(fn)["FunctionName"]; got != "example-sessions-dr-canary" || got != s.cfg.CanaryFunctionName() {
		t.Errorf("FunctionName %v, want %s", got, s.cfg.CanaryFunctionName())
	}
	outs, _ := s.tmpl["Outputs"].(map[string]any)
	o, _ := outs[contract.KeyCanaryFunctionName].(map[string]any)
	if o["Value"] != s.cfg.CanaryFunctionName() {
		t.Errorf("output %s = %v, want the literal %s", contract.KeyCanaryFunctionName, o["Value"], s.cfg.CanaryFunctionName())
	}
}
