package route53model

import (
	"fmt"
	"time"
)

// Shift is how long a forced switch takes, from the request to clients resolving the other
// record: the model's best and worst case under WorstCase assumptions, over every phase of the
// request against the publishers' minute and the alarm's period.
type Shift struct {
	// Best and Worst are from the request to Route 53 answering the other record; WorstClient
	// adds the TTL a resolver may still serve the old answer for (DocTTL).
	Best, Worst, WorstClient time.Duration
	// Basis says what it was computed from, for the terminal and the evidence.
	Basis string
}

// String is the shift for a terminal.
func (s Shift) String() string {
	return fmt.Sprintf("%s-%s after the request (clients within %s, TTL included; %s)", s.Best, s.Worst, s.WorstClient, s.Basis)
}

// ShiftToDR is the time from `drctl route --to dr` to Route 53 answering SECONDARY, and
// ShiftBack (clear) the time back to PRIMARY, with a healthy primary throughout.
func (e *Environment) ShiftToDR() (Shift, error) { return e.shift(true) }

// ShiftBack is the time from `drctl route --to primary` to Route 53 answering PRIMARY again.
func (e *Environment) ShiftBack() (Shift, error) { return e.shift(false) }

func (e *Environment) shift(toDR bool) (Shift, error) {
	if e.OverrideAlarm == nil || e.Request.Every == 0 {
		return Shift{}, fmt.Errorf("no held forced switch in these templates (no heartbeat schedule)")
	}
	period := e.OverrideAlarm.Period
	warm := 3 * period
	s := Shift{Best: time.Duration(1<<63 - 1)}
	// Every phase of the request against the period, in model steps.
	for phase := time.Duration(0); phase < period; phase += Step {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		req := start.Add(warm + phase)
		horizon := req.Add(4 * period)
		var pts []Point
		pts = append(pts, Run{Publisher: e.Canary, From: start, To: horizon.Add(4 * period)}.Points()...)
		pts = append(pts, Run{Publisher: e.Heartbeat, From: start, To: horizon.Add(4 * period)}.Points()...)
		want := Secondary
		if toDR {
			pts = append(pts, e.requestFrom(req, horizon.Add(4*period))...)
		} else {
			// Requested from the start, cleared at req: the request schedule is deleted.
			pts = append(pts, e.requestFrom(start, req)...)
			want = Primary
		}
		tl := e.Model.Run(pts, start, horizon.Add(4*period))
		at, ok := tl.FirstFrom(req, want)
		if !ok {
			return Shift{}, fmt.Errorf("the answer never became %s within %s of the request", want, 4*period)
		}
		d := at.Sub(req)
		s.Best, s.Worst = min(s.Best, d), max(s.Worst, d)
	}
	s.WorstClient = s.Worst + e.Model.TTL()
	s.Basis = fmt.Sprintf("model of Route 53 over the synthesized templates: the override alarm's %s %s period, a publish every %s, TTL %s; worst-case assumptions: %s",
		e.OverrideAlarm.Statistic, e.OverrideAlarm.Period, e.Request.Every, e.Model.TTL(), WorstCase.describe())
	return s, nil
}

// requestFrom is the request schedule's points from its creation until its deletion: the
// first publish is within one interval of the creation (DocScheduler), taken here as one
// full interval later (the worst case).
func (e *Environment) requestFrom(created, deleted time.Time) []Point {
	return Run{Publisher: e.Request, From: created, To: deleted, Offset: e.Request.Every}.Points()
}

func (a Assumptions) describe() string {
	return fmt.Sprintf("a point is usable %s after it arrives, only ended periods count, an empty period is insufficient data", a.Visibility)
}
