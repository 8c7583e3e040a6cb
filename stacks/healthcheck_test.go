package stacks_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/dns"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
)

// settingsOf reads, from a synthesized alarm, what Route 53 copies of it.
func settingsOf(alarm map[string]any) dns.AlarmSettings {
	p := cdktest.Props(alarm)
	dims := map[string]string{}
	for _, d := range p["Dimensions"].([]any) {
		m := d.(map[string]any)
		dims[m["Name"].(string)] = m["Value"].(string)
	}
	return dns.AlarmSettings{Namespace: p["Namespace"].(string), MetricName: p["MetricName"].(string), Dimensions: dims,
		Statistic: p["Statistic"].(string), PeriodSeconds: int(p["Period"].(float64)), EvaluationPeriods: int(p["EvaluationPeriods"].(float64)),
		Threshold: p["Threshold"].(float64), ComparisonOperator: p["ComparisonOperator"].(string)}
}

// Route 53 copies an alarm's settings when a health check is created and never refreshes them:
// the health checks' logical ids carry a fingerprint of the settings as synthesized, so
// retuning an alarm replaces the check that reads it.
func TestHealthChecksFollowTheAlarmSettingsTheyRead(t *testing.T) {
	s := synth(t, synthOpts{env: "prod", mode: "none"})
	healthID, health := byPrefix(t, s.tmpl, "AWS::CloudWatch::Alarm", "Monitoringcachehealth")
	_, override := only(t, cdktest.Template(t, s.sw.Stack), "AWS::CloudWatch::Alarm")
	want := map[string]string{
		"health":   "DnsPrimaryHealthCheck" + settingsOf(health).Fingerprint(),
		"override": "DnsFailoverOverrideHealthCheck" + settingsOf(override).Fingerprint(),
	}
	found := map[string]bool{}
	for id, hc := range cdktest.Resources(s.tmpl, "AWS::Route53::HealthCheck") {
		cfg := cdktest.Props(hc)["HealthCheckConfig"].(map[string]any)
		name := js(cfg["AlarmIdentifier"])
		switch {
		case strings.Contains(name, healthID):
			found["health"] = strings.HasPrefix(id, want["health"])
		case strings.Contains(name, s.cfg.FailoverAlarmName()):
			found["override"] = strings.HasPrefix(id, want["override"])
		}
	}
	for k, w := range want {
		if !found[k] {
			t.Errorf("the %s health check's logical id does not start with %s (the fingerprint of its alarm as synthesized)", k, w)
		}
	}

	// Two synths that differ only in a setting Route 53 copies: two different health checks.
	ids := map[string]bool{}
	for _, period := range []int{300, 600} {
		app := cdktest.NewApp(t)
		st := awscdk.NewStack(app, jsii.String("S"), nil)
		dns.New(st, "Dns", &dns.Props{HostedZoneID: "Z1", RegionalName: "a.example.com", ServiceName: "s.example.com", Role: contract.RolePrimary,
			Target: jsii.String("x"), TTLSeconds: 30, HealthAlarmName: jsii.String("alarm"), HealthAlarmRegion: "us-east-1",
			HealthAlarmSettings: dns.AlarmSettings{Namespace: "N", MetricName: "M", Statistic: "Average", PeriodSeconds: period,
				EvaluationPeriods: 1, Threshold: 0.5, ComparisonOperator: "LessThanThreshold"}})
		for id := range cdktest.Resources(cdktest.Template(t, st), "AWS::Route53::HealthCheck") {
			ids[id] = true
		}
	}
	if len(ids) != 2 {
		t.Errorf("health check ids %v: want a different check for a different period", ids)
	}
}
