package route53model

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/assembly"
)

// The synthesized templates: the golden files of package stacks, which its tests keep equal to
// what the app synthesizes (go test ./stacks/ -update rewrites them). prod: primary in
// us-east-1, DR region us-west-2, drPosture standby: the SECONDARY is the warm standby's own
// record (docs/design.md, "Warm standby").
func prod(t *testing.T) *Environment {
	t.Helper()
	return load(t, "../../stacks/testdata", "prod-none.json", "prod-switch.json", "prod-standby.json")
}

// prodStateless is prod with the runbook's stateless posture: the SECONDARY is the DNS stack's,
// deployed after validation.
func prodStateless(t *testing.T) *Environment {
	t.Helper()
	return load(t, "../../stacks/testdata", "prod-none.json", "prod-switch.json", "posture-stateless-prod-stateless-dns.json")
}

// old is the design before the held switch, as it was synthesized (testdata/old-*: the goldens
// of commit f778f65): one publish per request, TreatMissingData ignore, a 3-of-3 one-minute
// health alarm.
func old(t *testing.T) *Environment {
	t.Helper()
	return load(t, "testdata", "old-prod-none.json", "old-prod-switch.json", "old-prod-stateless.json")
}

func load(t *testing.T, dir, primary, sw, secondary string) *Environment {
	t.Helper()
	read := func(name string) *assembly.Template {
		tpl, err := assembly.ReadTemplate(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return tpl
	}
	env, err := FromTemplates(Stacks{Primary: read(primary), PrimaryRegion: "us-east-1", Switch: read(sw), SwitchRegion: "us-west-2", Secondary: read(secondary)})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// scenario is what the publishers do over a window; the check reads the answer timeline.
type scenario struct {
	canary    func(e *Environment) Run
	heartbeat func(e *Environment) Run
	request   []window // request schedule present (drctl route --to dr) over these windows
	check     func(t *testing.T, e *Environment, tl Timeline)
}

type window struct{ from, to time.Duration }

const horizon = 3 * time.Hour

func (s scenario) run(t *testing.T, e *Environment) Timeline {
	t.Helper()
	var pts []Point
	canary := Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon)}
	if s.canary != nil {
		canary = s.canary(e)
	}
	pts = append(pts, canary.Points()...)
	if e.Heartbeat.Every > 0 {
		hb := Run{Publisher: e.Heartbeat, From: t0, To: t0.Add(horizon)}
		if s.heartbeat != nil {
			hb = s.heartbeat(e)
		}
		pts = append(pts, hb.Points()...)
	}
	for _, w := range s.request {
		pts = append(pts, e.requestFrom(t0.Add(w.from), t0.Add(w.to))...)
	}
	return e.Model.Run(pts, t0, t0.Add(horizon))
}

// settle skips the first periods, when the model has seen no complete period yet.
const settle = 15 * time.Minute

func always(role string) func(*testing.T, *Environment, Timeline) {
	return func(t *testing.T, e *Environment, tl Timeline) {
		t.Helper()
		for at := t0.Add(settle); at.Before(t0.Add(horizon)); at = at.Add(Step) {
			if got := tl.At(at); got != role {
				t.Fatalf("at +%s Route 53 answers %s, want %s throughout (changes: %v)", at.Sub(t0), got, role, changes(tl))
			}
		}
	}
}

// changes are the timeline's changes after the first periods (the model starts with no data).
func changes(tl Timeline) []Change {
	var out []Change
	for _, c := range tl.Changes() {
		if c.At.After(t0.Add(settle)) {
			out = append(out, c)
		}
	}
	return out
}

// seeded jitter: the same every run, so a failure reproduces.
func jitter(maxDelay time.Duration, seed int64) func(int) time.Duration {
	r := rand.New(rand.NewSource(seed))
	cache := map[int]time.Duration{}
	return func(n int) time.Duration {
		if d, ok := cache[n]; ok {
			return d
		}
		cache[n] = time.Duration(r.Int63n(int64(maxDelay)))
		return cache[n]
	}
}

func TestRoutingScenariosOnTheSynthesizedProdTemplates(t *testing.T) {
	e := prod(t)
	if e.Heartbeat.Every == 0 {
		t.Fatal("the prod switch template has no heartbeat schedule")
	}
	held := window{time.Hour, 2 * time.Hour}
	cases := map[string]scenario{
		"steady and healthy: the PRIMARY answers throughout": {check: always(Primary)},
		"one missed canary point does not fail the primary over": {
			canary: func(e *Environment) Run {
				return Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon), Miss: map[int]bool{60: true}}
			},
			check: always(Primary)},
		"every canary point up to 50 s late does not fail the primary over": {
			canary: func(e *Environment) Run {
				return Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon), Delay: jitter(50*time.Second, 1)}
			},
			check: always(Primary)},
		"one canary point 50 s late, one duplicated": {
			canary: func(e *Environment) Run {
				return Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon), Delay: func(n int) time.Duration {
					if n == 61 {
						return 50 * time.Second
					}
					return 0
				}, Duplicate: map[int]bool{62: true}}
			},
			check: always(Primary)},
		"publisher jitter on every schedule (canary and heartbeat fire anywhere in 30 s)": {
			canary: func(e *Environment) Run {
				return Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon), Delay: jitter(30*time.Second, 2)}
			},
			heartbeat: func(e *Environment) Run {
				return Run{Publisher: e.Heartbeat, From: t0, To: t0.Add(horizon), Delay: jitter(30*time.Second, 3)}
			},
			check: always(Primary)},
		"one failed canary run does not fail the primary over": {
			canary: func(e *Environment) Run {
				return Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon), Value: func(n int) float64 {
					if n == 70 {
						return 0
					}
					return 1
				}}
			},
			check: always(Primary)},
		"request set, held for an hour, cleared": {
			request: []window{held},
			check: func(t *testing.T, e *Environment, tl Timeline) {
				shift, err := e.ShiftToDR()
				if err != nil {
					t.Fatal(err)
				}
				back, err := e.ShiftBack()
				if err != nil {
					t.Fatal(err)
				}
				for at := t0.Add(settle); at.Before(t0.Add(horizon)); at = at.Add(Step) {
					want := Primary
					if !at.Before(t0.Add(held.from).Add(shift.Worst)) && at.Before(t0.Add(held.to)) {
						want = Secondary
					}
					if at.After(t0.Add(held.to).Add(back.Worst)) {
						want = Primary
					}
					switch got := tl.At(at); {
					case got == want:
					case at.After(t0.Add(held.from)) && at.Before(t0.Add(held.from).Add(shift.Worst)):
					case !at.Before(t0.Add(held.to)) && at.Before(t0.Add(held.to).Add(back.Worst)):
					default:
						t.Fatalf("at +%s Route 53 answers %s, want %s (changes: %v)", at.Sub(t0), got, want, changes(tl))
					}
				}
				if n := len(changes(tl)); n != 2 {
					t.Errorf("want exactly two changes (to DR, back), got %v", changes(tl))
				}
			}},
		"a held request survives one missed and one 50 s late request point": {
			request: []window{held},
			check: func(t *testing.T, e *Environment, tl Timeline) {
				if n := len(changes(tl)); n != 2 {
					t.Errorf("want two changes, got %v", changes(tl))
				}
			}},
		"primary region gone (no canary data at all): the DR record answers": {
			canary: func(e *Environment) Run {
				return Run{Publisher: e.Canary, From: t0, To: t0.Add(time.Hour)}
			},
			check: func(t *testing.T, e *Environment, tl Timeline) {
				at, ok := tl.FirstFrom(t0.Add(time.Hour), Secondary)
				if !ok {
					t.Fatalf("never failed over (changes %v)", changes(tl))
				}
				if d := at.Sub(t0.Add(time.Hour)); d > 3*e.HealthAlarm.Period {
					t.Errorf("failed over %s after the last canary point: more than three health periods", d)
				}
				for a := at; a.Before(t0.Add(horizon)); a = a.Add(Step) {
					if tl.At(a) != Secondary {
						t.Fatalf("flapped back to %s at +%s", tl.At(a), a.Sub(t0))
					}
				}
			}},
		"DR region gone (no heartbeat): a dead DR region never takes traffic": {
			heartbeat: func(e *Environment) Run { return Run{Publisher: e.Heartbeat, From: t0, To: t0.Add(time.Hour)} },
			check:     always(Primary)},
		"both regions gone: one answer, no flapping": {
			canary:    func(e *Environment) Run { return Run{Publisher: e.Canary, From: t0, To: t0.Add(time.Hour)} },
			heartbeat: func(e *Environment) Run { return Run{Publisher: e.Heartbeat, From: t0, To: t0.Add(time.Hour)} },
			check: func(t *testing.T, e *Environment, tl Timeline) {
				if c := changes(tl); len(c) != 1 || c[0].To != Secondary {
					t.Errorf("want one change to %s, got %v", Secondary, c)
				}
			}},
	}
	// The held request with its own faults: the request schedule's points are built by the
	// model, so inject the faults by thinning them here.
	for name, sc := range cases {
		t.Run(name, func(t *testing.T) {
			tl := sc.run(t, e)
			if name == "a held request survives one missed and one 50 s late request point" {
				tl = faultyRequest(t, e, held)
			}
			sc.check(t, e, tl)
		})
	}
}

func faultyRequest(t *testing.T, e *Environment, w window) Timeline {
	t.Helper()
	pts := Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon)}.Points()
	pts = append(pts, Run{Publisher: e.Heartbeat, From: t0, To: t0.Add(horizon)}.Points()...)
	pts = append(pts, Run{Publisher: e.Request, From: t0.Add(w.from), To: t0.Add(w.to), Offset: e.Request.Every,
		Miss:  map[int]bool{20: true},
		Delay: func(n int) time.Duration { return map[bool]time.Duration{true: 50 * time.Second}[n == 30] }}.Points()...)
	return e.Model.Run(pts, t0, t0.Add(horizon))
}

// The design before this one: a request is one data point, and Route 53 releases it a period
// later (its alarm's TreatMissingData ignore is invisible to Route 53).
func TestTheOldSwitchReleasesItselfWithinTheHour(t *testing.T) {
	e := old(t)
	if e.OverrideAlarm == nil {
		t.Fatal("the old templates have no override alarm")
	}
	request := Point{Metric: e.OverrideAlarm.Metric, At: t0.Add(time.Hour), Arrives: t0.Add(time.Hour), Value: 1}
	pts := append(Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon)}.Points(), request)
	tl := e.Model.Run(pts, t0, t0.Add(horizon))
	at, ok := tl.FirstFrom(t0.Add(time.Hour), Secondary)
	if !ok {
		t.Fatal("the old switch never moved traffic at all")
	}
	back, ok := tl.FirstFrom(at, Primary)
	if !ok || back.After(t0.Add(2*time.Hour)) {
		t.Fatalf("the old switch held for the hour (changes %v): the model does not show the defect", changes(tl))
	}
	t.Logf("old design: DR at +%s, released by itself at +%s", at.Sub(t0), back.Sub(t0))
}

// The old primary health alarm (3 of 3 one-minute periods, which Route 53 cannot see) fails a
// healthy primary over on one missed canary point; the new one does not (above).
func TestTheOldHealthCheckFailsOverOnOneMissedPoint(t *testing.T) {
	e := old(t)
	run := Run{Publisher: e.Canary, From: t0, To: t0.Add(horizon), Miss: map[int]bool{60: true}}
	tl := e.Model.Run(run.Points(), t0, t0.Add(horizon))
	if _, ok := tl.FirstFrom(t0.Add(settle), Secondary); !ok {
		t.Fatal("one missed point did not move the old design: the model does not show the defect")
	}
}

func TestShiftTimesFromTheTemplates(t *testing.T) {
	e := prod(t)
	to, err := e.ShiftToDR()
	if err != nil {
		t.Fatal(err)
	}
	back, err := e.ShiftBack()
	if err != nil {
		t.Fatal(err)
	}
	p := e.OverrideAlarm.Period
	for name, s := range map[string]Shift{"to DR": to, "back": back} {
		if s.Best <= 0 || s.Worst < s.Best || s.Worst > 3*p || s.WorstClient != s.Worst+e.Model.TTL() {
			t.Errorf("%s: %+v is not within (0, 3 periods of %s]", name, s, p)
		}
	}
	t.Logf("to DR: %s", to)
	t.Logf("back: %s", back)
}

// The model builds from the primary + switch + warm standby templates (the standby's stack
// holds its regional record, alarms and canary besides the SECONDARY) and shifts exactly as
// with the stateless posture's DNS stack: the switch decides, not which stack owns the
// SECONDARY. A standby's activation is this switch plus validation, no deploy.
func TestShiftTimesWithTheWarmStandby(t *testing.T) {
	standby, stateless := prod(t), prodStateless(t)
	for _, e := range []*Environment{standby, stateless} {
		if len(e.Model.Records) != 2 || e.Model.Records[1].Failover != Secondary || e.Model.Records[1].HealthCheck != "" {
			t.Fatalf("records %+v: want PRIMARY and a SECONDARY without health check", e.Model.Records)
		}
	}
	a, err := standby.ShiftToDR()
	if err != nil {
		t.Fatal(err)
	}
	b, err := stateless.ShiftToDR()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("to DR: standby %s, stateless %s", a, b)
	}
	t.Logf("standby, to DR: %s (plus validation; no deploy)", a)
}

// The model's rules, each on its own.
func TestAlarmEvaluation(t *testing.T) {
	key := MetricKey{Region: "r", Namespace: "n", Name: "m"}
	a := &Alarm{Metric: key, Statistic: "Maximum", Period: 5 * time.Minute, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	pt := func(at time.Duration, v float64) Point {
		return Point{Metric: key, At: t0.Add(at), Arrives: t0.Add(at), Value: v}
	}
	cases := []struct {
		name   string
		points []Point
		now    time.Duration
		want   State
	}{
		{"no data at all is insufficient", nil, 20 * time.Minute, Insufficient},
		{"a breaching point in the last ended period", []Point{pt(6*time.Minute, 1)}, 11 * time.Minute, InAlarm},
		{"the period in progress does not count", []Point{pt(11*time.Minute, 1)}, 11*time.Minute + 30*time.Second, Insufficient},
		{"a point is usable a minute after it arrives", []Point{pt(9*time.Minute+30*time.Second, 1)}, 10*time.Minute + 30*time.Second, Insufficient},
		{"Maximum: one request among heartbeats wins", []Point{pt(5*time.Minute, 0), pt(6*time.Minute, 1), pt(7*time.Minute, 0)}, 11 * time.Minute, InAlarm},
		{"below the threshold is OK", []Point{pt(5*time.Minute, 0)}, 11 * time.Minute, OK},
		{"another metric is not seen", []Point{{Metric: MetricKey{Region: "other", Namespace: "n", Name: "m"}, At: t0.Add(6 * time.Minute), Arrives: t0.Add(6 * time.Minute), Value: 1}}, 11 * time.Minute, Insufficient},
	}
	for _, c := range cases {
		if got := a.Evaluate(c.points, t0.Add(c.now), WorstCase); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	b := *a
	b.EvaluationPeriods = 3
	pts := []Point{pt(0, 1), pt(10*time.Minute, 1)} // the middle period is empty
	if got := b.Evaluate(pts, t0.Add(16*time.Minute), WorstCase); got != Insufficient {
		t.Errorf("every period on its own: an empty period among three gives %s, want insufficient", got)
	}
	lenient := WorstCase
	lenient.EveryPeriodOnItsOwn = false
	if got := b.Evaluate(pts, t0.Add(16*time.Minute), lenient); got != InAlarm {
		t.Errorf("lenient: %s, want ALARM from the periods that have data", got)
	}
}

func TestFailoverAnswerAndInsufficientData(t *testing.T) {
	key := MetricKey{Region: "r", Namespace: "n", Name: "m"}
	alarm := &Alarm{Metric: key, Statistic: "Maximum", Period: time.Minute, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	for _, c := range []struct {
		insufficient string
		want         string
	}{{InsufficientOK, Primary}, {InsufficientBad, Secondary}, {InsufficientLast, Primary}} {
		m := &Model{Assume: WorstCase, Checks: map[string]*HealthCheck{"hc": {ID: "hc", Type: TypeMetric, Alarm: alarm, Insufficient: c.insufficient}},
			Records: []Record{{Failover: Primary, HealthCheck: "hc"}, {Failover: Secondary}}}
		if got := m.Answer(nil, t0.Add(time.Hour)); got != c.want {
			t.Errorf("no data, InsufficientDataHealthStatus %s: answer %s, want %s", c.insufficient, got, c.want)
		}
	}
	// Both unhealthy: Route 53 answers with the primary (DocFailover).
	m := &Model{Assume: WorstCase, Checks: map[string]*HealthCheck{"hc": {ID: "hc", Type: TypeMetric, Alarm: alarm, Insufficient: InsufficientBad}},
		Records: []Record{{Failover: Primary, HealthCheck: "hc"}, {Failover: Secondary, HealthCheck: "hc"}}}
	if got := m.Answer(nil, t0.Add(time.Hour)); got != Primary {
		t.Errorf("both unhealthy: %s, want PRIMARY", got)
	}
}

func TestFromTemplatesReadsTheSynthesizedConfiguration(t *testing.T) {
	e := prod(t)
	got := fmt.Sprintf("health %s %s %s<%g x%d; override %s %s >=%g x%d; canary every %s; heartbeat every %s value %g; TTL %s",
		e.HealthAlarm.Statistic, e.HealthAlarm.Period, e.HealthAlarm.Metric.Name, e.HealthAlarm.Threshold, e.HealthAlarm.EvaluationPeriods,
		e.OverrideAlarm.Statistic, e.OverrideAlarm.Period, e.OverrideAlarm.Threshold, e.OverrideAlarm.EvaluationPeriods,
		e.Canary.Every, e.Heartbeat.Every, e.Heartbeat.Value, e.Model.TTL())
	t.Log(got)
	if e.HealthAlarm.Metric.Region != "us-east-1" || e.OverrideAlarm.Metric.Region != "us-west-2" {
		t.Errorf("regions: health %s, override %s", e.HealthAlarm.Metric.Region, e.OverrideAlarm.Metric.Region)
	}
	if e.Request.Value != 1 || e.Heartbeat.Value != 0 {
		t.Errorf("request %g, heartbeat %g", e.Request.Value, e.Heartbeat.Value)
	}
}
