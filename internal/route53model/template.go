package route53model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
)

// Environment is one environment's routing as synthesized: the model of its service name and
// the publishers that feed it.
type Environment struct {
	Model *Model
	// Canary publishes the primary cache's health (its schedule rule in the primary template,
	// its metric from the alarm the PRIMARY health check reads).
	Canary Publisher
	// Heartbeat is the switch stack's schedule ("not requested"); Every 0 when the switch has
	// none (the design before the held switch).
	Heartbeat Publisher
	// Request is what `drctl route --to dr` publishes: the heartbeat's schedule and metric with
	// contract.FailoverValueRequested (the request schedule is made on the night, never in a
	// template; drctl builds it from the same contract functions).
	Request Publisher
	// HealthAlarm and OverrideAlarm are the alarms the PRIMARY's health checks read.
	HealthAlarm, OverrideAlarm *Alarm
}

// Stacks are the templates an environment's routing comes from.
type Stacks struct {
	// Primary holds the PRIMARY record, its health checks and the canary; PrimaryRegion is
	// where it is deployed.
	Primary       *assembly.Template
	PrimaryRegion string
	// Switch is the always-on DR-region stack (alarm, heartbeat); SwitchRegion its region.
	Switch       *assembly.Template
	SwitchRegion string
	// Secondary holds the SECONDARY record (the DR stack's DNS stack).
	Secondary *assembly.Template
}

// FromTemplates reads the model from the synthesized templates.
func FromTemplates(s Stacks) (*Environment, error) {
	env := &Environment{Model: &Model{Checks: map[string]*HealthCheck{}, Assume: WorstCase}}
	alarms := map[string]*Alarm{} // by AlarmName
	byLogical := map[string]*Alarm{}
	// An alarm no health check reads may use what Route 53 does not accept (a percentile):
	// its problem matters only if a check reads it.
	bad := map[string]error{}
	for _, t := range []struct {
		tpl    *assembly.Template
		region string
	}{{s.Primary, s.PrimaryRegion}, {s.Switch, s.SwitchRegion}} {
		for id, r := range t.tpl.Resources {
			if r.Type != "AWS::CloudWatch::Alarm" {
				continue
			}
			a, err := alarmOf(r.Properties, t.region)
			if err != nil {
				bad[str(r.Properties["AlarmName"])], bad[id] = err, err
				continue
			}
			alarms[a.Name] = a
			if t.tpl == s.Primary {
				byLogical[id] = a
			}
		}
	}
	for id, r := range s.Primary.Resources {
		if r.Type != "AWS::Route53::HealthCheck" {
			continue
		}
		hc, err := checkOf(id, r.Properties, alarms, byLogical, bad)
		if err != nil {
			return nil, fmt.Errorf("health check %s: %w", id, err)
		}
		env.Model.Checks[id] = hc
	}
	for _, t := range []*assembly.Template{s.Primary, s.Secondary} {
		for id, r := range t.Resources {
			if r.Type != "AWS::Route53::RecordSet" || r.Properties["Failover"] == nil {
				continue
			}
			rec := Record{Failover: str(r.Properties["Failover"]), HealthCheck: ref(r.Properties["HealthCheckId"]), Stack: id}
			ttl, err := strconv.Atoi(str(r.Properties["TTL"]))
			if err != nil {
				return nil, fmt.Errorf("record %s: TTL %v: %w", id, r.Properties["TTL"], err)
			}
			rec.TTL = time.Duration(ttl) * time.Second
			env.Model.Records = append(env.Model.Records, rec)
		}
	}
	sort.Slice(env.Model.Records, func(i, j int) bool { return env.Model.Records[i].Failover < env.Model.Records[j].Failover })
	if len(env.Model.Records) != 2 || env.Model.Records[0].Failover != Primary || env.Model.Records[1].Failover != Secondary {
		return nil, fmt.Errorf("want one PRIMARY and one SECONDARY record, found %d", len(env.Model.Records))
	}
	// The PRIMARY's checks: the calculated one's children, or the one check.
	primary := env.Model.Checks[env.Model.Records[0].HealthCheck]
	if primary == nil {
		return nil, fmt.Errorf("the PRIMARY record has no health check in the template")
	}
	leaves := []*HealthCheck{primary}
	if primary.Type == TypeCalculated {
		leaves = nil
		for _, c := range primary.Children {
			leaves = append(leaves, env.Model.Checks[c])
		}
	}
	for _, hc := range leaves {
		if hc == nil || hc.Alarm == nil {
			return nil, fmt.Errorf("a child of the PRIMARY's health check is not a CLOUDWATCH_METRIC check of a known alarm")
		}
		if hc.Alarm.Metric.Namespace == contract.RoutingNamespace {
			env.OverrideAlarm = hc.Alarm
		} else {
			env.HealthAlarm = hc.Alarm
		}
	}
	if env.HealthAlarm == nil {
		return nil, fmt.Errorf("no health alarm under the PRIMARY record")
	}
	every, err := canaryRate(s.Primary)
	if err != nil {
		return nil, err
	}
	env.Canary = Publisher{Name: "canary", Metric: env.HealthAlarm.Metric, Value: 1, Every: every, Stamped: true}
	if env.OverrideAlarm != nil {
		env.Heartbeat, env.Request, err = switchPublishers(s.Switch, s.SwitchRegion, env.OverrideAlarm)
		if err != nil {
			return nil, err
		}
	}
	return env, nil
}

func alarmOf(p map[string]any, region string) (*Alarm, error) {
	if p["Metrics"] != nil {
		return nil, fmt.Errorf("metric math: Route 53 health checks do not support it (%s)", DocAlarmConfig)
	}
	a := &Alarm{Name: str(p["AlarmName"]), Statistic: str(p["Statistic"]), ComparisonOperator: str(p["ComparisonOperator"]),
		Metric: MetricKey{Region: region, Namespace: str(p["Namespace"]), Name: str(p["MetricName"]), Dimensions: dims(p["Dimensions"])}}
	period, ok1 := num(p["Period"])
	evals, ok2 := num(p["EvaluationPeriods"])
	thr, ok3 := num(p["Threshold"])
	if p["ExtendedStatistic"] != nil {
		return nil, fmt.Errorf("extended statistic %v: Route 53 reads Statistic only (%s)", p["ExtendedStatistic"], DocAlarmConfig)
	}
	if !ok1 || !ok2 || !ok3 || a.Name == "" || a.Statistic == "" {
		return nil, fmt.Errorf("name, statistic, period, evaluation periods and threshold must be literal (got %v)", p)
	}
	a.Period, a.EvaluationPeriods, a.Threshold = time.Duration(period)*time.Second, int(evals), thr
	return a, nil
}

func checkOf(id string, p map[string]any, alarms, byLogical map[string]*Alarm, bad map[string]error) (*HealthCheck, error) {
	cfg, _ := p["HealthCheckConfig"].(map[string]any)
	hc := &HealthCheck{ID: id, Type: str(cfg["Type"]), Insufficient: str(cfg["InsufficientDataHealthStatus"])}
	switch hc.Type {
	case TypeMetric:
		ai, _ := cfg["AlarmIdentifier"].(map[string]any)
		name := str(ai["Name"])
		if name != "" {
			hc.Alarm = alarms[name]
		} else {
			name = ref(ai["Name"])
			hc.Alarm = byLogical[name]
		}
		if err := bad[name]; err != nil {
			return nil, fmt.Errorf("alarm %s: %w", name, err)
		}
		if hc.Alarm == nil {
			return nil, fmt.Errorf("alarm %v is in none of the templates", ai["Name"])
		}
		if hc.Alarm.Metric.Region != str(ai["Region"]) {
			return nil, fmt.Errorf("alarm %s is in %s, the check reads %s", hc.Alarm.Name, hc.Alarm.Metric.Region, str(ai["Region"]))
		}
		if hc.Insufficient == "" {
			hc.Insufficient = InsufficientLast // the API's default (DocInsufficient)
		}
	case TypeCalculated:
		for _, c := range list(cfg["ChildHealthChecks"]) {
			hc.Children = append(hc.Children, ref(c))
		}
		n, _ := num(cfg["HealthThreshold"])
		hc.Threshold = int(n)
	default:
		return nil, fmt.Errorf("type %q is not modelled", hc.Type)
	}
	return hc, nil
}

// canaryRate is the rate of the primary template's one scheduled rule (the canary's).
func canaryRate(t *assembly.Template) (time.Duration, error) {
	var found []time.Duration
	for id, r := range t.Resources {
		if r.Type != "AWS::Events::Rule" || r.Properties["ScheduleExpression"] == nil {
			continue
		}
		d, err := Rate(str(r.Properties["ScheduleExpression"]))
		if err != nil {
			return 0, fmt.Errorf("rule %s: %w", id, err)
		}
		found = append(found, d)
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("want the canary's one schedule rule in the primary template, found %d", len(found))
	}
	return found[0], nil
}

// switchPublishers are the heartbeat schedule of the switch template and the request drctl
// makes from it.
func switchPublishers(t *assembly.Template, region string, override *Alarm) (hb, req Publisher, err error) {
	for id, r := range t.Resources {
		if r.Type != "AWS::Scheduler::Schedule" {
			continue
		}
		target, _ := r.Properties["Target"].(map[string]any)
		if str(target["Arn"]) != contract.PutMetricDataTarget {
			continue
		}
		var in contract.PutMetricDataRequest
		if err := json.Unmarshal([]byte(str(target["Input"])), &in); err != nil || len(in.MetricData) != 1 {
			return hb, req, fmt.Errorf("schedule %s: input is not one PutMetricData datum: %v", id, err)
		}
		d := in.MetricData[0]
		var ds []string
		for _, x := range d.Dimensions {
			ds = append(ds, x.Name+"="+x.Value)
		}
		sort.Strings(ds)
		key := MetricKey{Region: region, Namespace: in.Namespace, Name: d.MetricName, Dimensions: strings.Join(ds, ",")}
		if key != override.Metric {
			return hb, req, fmt.Errorf("schedule %s publishes %s, the override alarm reads %s", id, key, override.Metric)
		}
		every, err := Rate(str(r.Properties["ScheduleExpression"]))
		if err != nil {
			return hb, req, fmt.Errorf("schedule %s: %w", id, err)
		}
		hb = Publisher{Name: "heartbeat", Metric: key, Value: d.Value, Every: every}
		req = Publisher{Name: "request", Metric: key, Value: contract.FailoverValueRequested, Every: every}
		return hb, req, nil
	}
	return hb, req, nil
}

var rateRE = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours)\)$`)

// Rate is the interval of a rate() schedule expression.
func Rate(expr string) (time.Duration, error) {
	m := rateRE.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q: only rate(N minutes|hours) is modelled", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := time.Minute
	if strings.HasPrefix(m[2], "hour") {
		unit = time.Hour
	}
	return time.Duration(n) * unit, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// ref is the logical id a Ref or Fn::GetAtt names.
func ref(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		return str(ga[0])
	}
	return ""
}

func dims(v any) string {
	var out []string
	for _, d := range list(v) {
		m, _ := d.(map[string]any)
		out = append(out, str(m["Name"])+"="+str(m["Value"]))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
