// Package route53model is Route 53 DNS failover as AWS documents it, made executable: which
// record a resolver gets for the service name, minute by minute, from the data points that
// reach CloudWatch. Route 53 itself cannot run here, so the routing design is proven against
// this model instead, fed from the synthesized templates (template.go), never from re-typed
// numbers (docs/design.md, "Forced failover" and "Static stability").
//
// Each rule cites the page it comes from. Where the documentation is silent, the model takes
// the worst case and says so (Assumptions): a real account settles those (docs/runbook.md).
package route53model

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Documentation the rules come from.
const (
	// DocAlarmConfig: a CLOUDWATCH_METRIC health check keeps only these alarm settings:
	// ComparisonOperator, EvaluationPeriods, MetricName, Namespace, Period, Statistic,
	// Threshold, Dimensions. Never TreatMissingData, DatapointsToAlarm or the alarm's state.
	DocAlarmConfig = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html"
	// DocHealth: Route 53 evaluates the alarm's data stream; with too little data it uses
	// InsufficientDataHealthStatus; a calculated check is healthy when at least
	// HealthThreshold children are.
	DocHealth = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html"
	// DocInsufficient: Healthy, Unhealthy, or LastKnownStatus (healthy for a new check).
	DocInsufficient = "https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html"
	// DocFailover: the primary record answers while healthy; otherwise the secondary; a
	// record without a health check is always healthy; when both are unhealthy Route 53
	// answers with the primary.
	DocFailover = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html"
	// DocTTL: resolvers cache an answer for the record's TTL.
	DocTTL = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-basic.html#rrsets-values-basic-ttl"
	// DocScheduler: a rate(1 minute) schedule with its flexible time window OFF invokes its
	// target once a minute; a universal target's PutMetricData sets no Timestamp, so CloudWatch
	// stamps the point when it receives it.
	DocScheduler = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#rate-based"
	// DocPutMetricData: a data point without Timestamp is stamped at receipt.
	DocPutMetricData = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html"
)

// MetricKey names one metric's data stream in one region.
type MetricKey struct {
	Region, Namespace, Name string
	// Dimensions are "name=value" pairs, sorted.
	Dimensions string
}

// String is the key for messages.
func (k MetricKey) String() string {
	return fmt.Sprintf("%s/%s{%s}@%s", k.Namespace, k.Name, k.Dimensions, k.Region)
}

// Alarm is what Route 53 copies of a CloudWatch alarm (DocAlarmConfig): nothing else of the
// alarm is seen, so nothing else is here.
type Alarm struct {
	Name               string
	Metric             MetricKey
	Statistic          string
	Period             time.Duration
	EvaluationPeriods  int
	Threshold          float64
	ComparisonOperator string
}

// Health check types and InsufficientDataHealthStatus values (DocInsufficient).
const (
	TypeMetric       = "CLOUDWATCH_METRIC"
	TypeCalculated   = "CALCULATED"
	InsufficientOK   = "Healthy"
	InsufficientBad  = "Unhealthy"
	InsufficientLast = "LastKnownStatus"
)

// HealthCheck is one Route 53 health check.
type HealthCheck struct {
	ID   string
	Type string
	// Alarm and Insufficient are for TypeMetric.
	Alarm        *Alarm
	Insufficient string
	// Children and Threshold are for TypeCalculated.
	Children  []string
	Threshold int
}

// Record is one failover record of the service name.
type Record struct {
	// Failover is PRIMARY or SECONDARY; HealthCheck "" means none (always healthy).
	Failover    string
	HealthCheck string
	TTL         time.Duration
	// Stack is where the record comes from, for messages.
	Stack string
}

// Failover roles.
const (
	Primary   = "PRIMARY"
	Secondary = "SECONDARY"
)

// Publisher is something that publishes a data point every Every, at Offset into each
// interval: the canary (its schedule rule), the switch's heartbeat and request schedules.
type Publisher struct {
	Name   string
	Metric MetricKey
	Value  float64
	Every  time.Duration
	// Stamped is true when the publisher sets the Timestamp itself (the canary stamps its
	// run), false when CloudWatch stamps it at receipt (a universal target: DocScheduler).
	Stamped bool
}

// Point is one data point: stamped At, visible in CloudWatch from Arrives.
type Point struct {
	Metric  MetricKey
	At      time.Time
	Arrives time.Time
	Value   float64
}

// Assumptions are what the documentation does not say, fixed at the worst case the design
// must survive.
type Assumptions struct {
	// Visibility is how long after its arrival a point can be first used in an evaluation.
	Visibility time.Duration
	// CompletePeriodsOnly: an evaluation uses the latest EvaluationPeriods periods that have
	// ended, not the one in progress.
	CompletePeriodsOnly bool
	// EveryPeriodOnItsOwn: any period of the evaluation without a data point makes the whole
	// evaluation insufficient (the docs do not say how many empty periods Route 53 tolerates:
	// the worst case is none).
	EveryPeriodOnItsOwn bool
}

// WorstCase are the assumptions the design is proven under.
var WorstCase = Assumptions{Visibility: time.Minute, CompletePeriodsOnly: true, EveryPeriodOnItsOwn: true}

// Model is the health checks and records of one environment's service name.
type Model struct {
	Checks  map[string]*HealthCheck
	Records []Record
	Assume  Assumptions
	// last holds LastKnownStatus per check.
	last map[string]bool
}

// State is an alarm evaluation's outcome.
type State string

// Alarm states.
const (
	OK           State = "OK"
	InAlarm      State = "ALARM"
	Insufficient State = "INSUFFICIENT_DATA"
)

// Evaluate is the alarm's state at now from the points (DocHealth: the data stream, not the
// alarm's own state).
func (a *Alarm) Evaluate(points []Point, now time.Time, as Assumptions) State {
	p := a.Period
	end := now.Add(-as.Visibility).Truncate(p)
	if !as.CompletePeriodsOnly {
		end = now.Add(-as.Visibility).Truncate(p).Add(p)
	}
	breaching, empty := 0, 0
	for i := 0; i < a.EvaluationPeriods; i++ {
		hi := end.Add(-time.Duration(i) * p)
		lo := hi.Add(-p)
		var vals []float64
		for _, pt := range points {
			if pt.Metric == a.Metric && !pt.At.Before(lo) && pt.At.Before(hi) && !pt.Arrives.After(now.Add(-as.Visibility)) {
				vals = append(vals, pt.Value)
			}
		}
		if len(vals) == 0 {
			empty++
			continue
		}
		if compare(a.ComparisonOperator, statistic(a.Statistic, vals), a.Threshold) {
			breaching++
		}
	}
	switch {
	case empty == a.EvaluationPeriods, as.EveryPeriodOnItsOwn && empty > 0:
		return Insufficient
	case breaching == a.EvaluationPeriods-empty:
		return InAlarm
	}
	return OK
}

func statistic(name string, v []float64) float64 {
	switch name {
	case "Maximum":
		m := math.Inf(-1)
		for _, x := range v {
			m = math.Max(m, x)
		}
		return m
	case "Minimum":
		m := math.Inf(1)
		for _, x := range v {
			m = math.Min(m, x)
		}
		return m
	case "Sum", "Average":
		s := 0.0
		for _, x := range v {
			s += x
		}
		if name == "Average" {
			return s / float64(len(v))
		}
		return s
	case "SampleCount":
		return float64(len(v))
	}
	panic("route53model: statistic " + name + " is not one Route 53 accepts (" + DocAlarmConfig + ")")
}

func compare(op string, v, t float64) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return v >= t
	case "GreaterThanThreshold":
		return v > t
	case "LessThanThreshold":
		return v < t
	case "LessThanOrEqualToThreshold":
		return v <= t
	}
	panic("route53model: comparison " + op + " is not one Route 53 accepts (" + DocAlarmConfig + ")")
}

// Healthy is a health check's status at now.
func (m *Model) Healthy(id string, points []Point, now time.Time) bool {
	hc, ok := m.Checks[id]
	if !ok {
		panic("route53model: no health check " + id)
	}
	if m.last == nil {
		m.last = map[string]bool{}
	}
	switch hc.Type {
	case TypeMetric:
		var h bool
		switch hc.Alarm.Evaluate(points, now, m.Assume) {
		case OK:
			h = true
		case InAlarm:
			h = false
		default:
			switch hc.Insufficient {
			case InsufficientOK:
				h = true
			case InsufficientBad:
				h = false
			default: // LastKnownStatus; a new check is healthy (DocInsufficient)
				last, seen := m.last[id]
				h = !seen || last
			}
			return h
		}
		m.last[id] = h
		return h
	case TypeCalculated:
		n := 0
		for _, c := range hc.Children {
			if m.Healthy(c, points, now) {
				n++
			}
		}
		return n >= hc.Threshold
	}
	panic("route53model: health check type " + hc.Type)
}

// Answer is the failover role Route 53 answers the service name with at now (DocFailover).
func (m *Model) Answer(points []Point, now time.Time) string {
	healthy := map[string]bool{}
	for _, r := range m.Records {
		healthy[r.Failover] = r.HealthCheck == "" || m.Healthy(r.HealthCheck, points, now)
	}
	if healthy[Primary] || !healthy[Secondary] {
		return Primary
	}
	return Secondary
}

// TTL is the longest TTL of the pair: how long a resolver may keep the previous answer.
func (m *Model) TTL() time.Duration {
	var t time.Duration
	for _, r := range m.Records {
		t = max(t, r.TTL)
	}
	return t
}

// Step is the simulation's clock step: fine enough for one-minute publishers.
const Step = 10 * time.Second

// Timeline is the answer at every Step from start to end.
type Timeline struct {
	Start  time.Time
	Answer []string
}

// Run evaluates the model every Step over [start, end).
func (m *Model) Run(points []Point, start, end time.Time) Timeline {
	sort.Slice(points, func(i, j int) bool { return points[i].At.Before(points[j].At) })
	tl := Timeline{Start: start}
	for t := start; t.Before(end); t = t.Add(Step) {
		tl.Answer = append(tl.Answer, m.Answer(points, t))
	}
	return tl
}

// At is the answer at t.
func (tl Timeline) At(t time.Time) string {
	i := int(t.Sub(tl.Start) / Step)
	if i < 0 || i >= len(tl.Answer) {
		panic(fmt.Sprintf("route53model: %s outside the timeline", t))
	}
	return tl.Answer[i]
}

// Changes are the times the answer changed, with the new answer.
func (tl Timeline) Changes() []Change {
	var out []Change
	for i := 1; i < len(tl.Answer); i++ {
		if tl.Answer[i] != tl.Answer[i-1] {
			out = append(out, Change{At: tl.Start.Add(time.Duration(i) * Step), To: tl.Answer[i]})
		}
	}
	return out
}

// Change is one change of the answer.
type Change struct {
	At time.Time
	To string
}

// FirstFrom is the first time at or after t the answer is role (ok false: never).
func (tl Timeline) FirstFrom(t time.Time, role string) (time.Time, bool) {
	for i := int(t.Sub(tl.Start) / Step); i >= 0 && i < len(tl.Answer); i++ {
		if tl.Answer[i] == role {
			return tl.Start.Add(time.Duration(i) * Step), true
		}
	}
	return time.Time{}, false
}
