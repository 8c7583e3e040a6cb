package procedure

// This file records the phases of a DR procedure with UTC timestamps and durations and
// prints them beside the runbook's estimates (runbook section 10), for the terminal and the
// evidence bundle.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
)

// Estimate is a runbook duration range.
type Estimate struct {
	// Label says which runbook phase the range belongs to ("deploy").
	Label string `json:"label"`
	// Min and Max bound the phase, in minutes.
	MinMinutes int `json:"minMinutes"`
	MaxMinutes int `json:"maxMinutes"`
}

// String reads "deploy 25–60 min".
func (e Estimate) String() string {
	if e.MaxMinutes == 0 {
		if e.Label == "" {
			return "-"
		}
		return e.Label
	}
	return strings.TrimSpace(fmt.Sprintf("%s %d–%d min", e.Label, e.MinMinutes, e.MaxMinutes))
}

// The runbook's estimates (section 10); step 1 (prepare) has none.
var (
	RunbookPrepare    = Estimate{Label: "prepare (no estimate)"}
	RunbookDeploy     = Estimate{Label: "deploy", MinMinutes: 25, MaxMinutes: 60}
	RunbookRouting    = Estimate{Label: "routing", MinMinutes: 5, MaxMinutes: 20}
	RunbookValidation = Estimate{Label: "validation", MinMinutes: 10, MaxMinutes: 20}
	RunbookTotal      = Estimate{Label: "total", MinMinutes: 30, MaxMinutes: 90}
)

// RunbookRTO is the recovery time objective, counted from the incident's start.
const RunbookRTO = 4 * time.Hour

// Status is how a phase ended.
type Status string

// Phase statuses.
const (
	Running     Status = "running"
	OK          Status = "ok"
	Failed      Status = "failed"
	Interrupted Status = "interrupted"
	// NotRun marks a phase skipped because an earlier one failed.
	NotRun Status = "not run"
	// NotPerformed marks a runbook phase the procedure does not perform (routing in a drill).
	NotPerformed Status = "not performed"
	// Included marks a runbook phase done inside another one (routing in the deploy).
	Included Status = "included"
)

// Phase is one timed step.
type Phase struct {
	Name       string    `json:"name"`
	Runbook    Estimate  `json:"runbookEstimate"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	DurationMs float64   `json:"durationMs"`
	Status     Status    `json:"status"`
	Note       string    `json:"note,omitempty"`
}

// Duration is FinishedAt - StartedAt (0 while running or when not performed).
func (p *Phase) Duration() time.Duration {
	if p.StartedAt.IsZero() || p.FinishedAt.IsZero() {
		return 0
	}
	return p.FinishedAt.Sub(p.StartedAt)
}

// Timeline is the ordered phases of one run.
type Timeline struct {
	// Title heads the printed table ("DR drill — LOCAL STAND-IN, NOT A DEPLOYMENT").
	Title string `json:"title"`
	// Phases in order.
	Phases []*Phase `json:"phases"`
	// Now is the clock (time.Now when nil); tests pin it.
	Now func() time.Time `json:"-"`
	// CommandStart is when the command started; TOTAL counts from the first phase, this
	// from the command (both are "since the command", not since the incident).
	CommandStart time.Time `json:"commandStart,omitzero"`
	// IncidentStart is when the incident began (--incident-start); zero when not given. The
	// RTO (RunbookRTO) runs from it, not from the command.
	IncidentStart time.Time `json:"incidentStart,omitzero"`

	mu sync.Mutex
}

func (t *Timeline) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// Start begins a phase now.
func (t *Timeline) Start(name string, runbook Estimate) *Phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := &Phase{Name: name, Runbook: runbook, StartedAt: t.now(), Status: Running}
	t.Phases = append(t.Phases, p)
	return p
}

// Finish ends p: OK when err is nil, Interrupted when interrupted is set, else Failed.
// note (may be empty) replaces the phase note.
func (t *Timeline) Finish(p *Phase, err error, interrupted bool, note string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.FinishedAt = t.now()
	p.DurationMs = contract.Ms(p.Duration())
	switch {
	case err == nil:
		p.Status = OK
	case interrupted:
		p.Status = Interrupted
	default:
		p.Status = Failed
	}
	if note != "" {
		p.Note = note
	}
}

// Skip records a phase that did not run, with why.
func (t *Timeline) Skip(name string, runbook Estimate, status Status, note string) *Phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := &Phase{Name: name, Runbook: runbook, Status: status, Note: note}
	t.Phases = append(t.Phases, p)
	return p
}

// Total is the wall time from the first start to the last finish.
func (t *Timeline) Total() (start, end time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.totalLocked()
}

// Human formats a duration for people: 850ms, 12.3s, 4m05s.
func Human(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}

// WriteText prints the table: phase, start and end (UTC), duration, runbook estimate, status
// and note, then the total beside the runbook's 30–90 minutes.
func (t *Timeline) WriteText(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Title != "" {
		fmt.Fprintf(w, "%s\n", t.Title)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tSTARTED (UTC)\tFINISHED (UTC)\tDURATION\tRUNBOOK ESTIMATE\tSTATUS\tNOTE")
	for _, p := range t.Phases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, evidence.Stamp(p.StartedAt), evidence.Stamp(p.FinishedAt),
			Human(p.Duration()), p.Runbook, p.Status, p.Note)
	}
	start, end := t.totalLocked()
	total := time.Duration(0)
	if !start.IsZero() && !end.IsZero() {
		total = end.Sub(start)
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\t%s\n", "TOTAL", evidence.Stamp(start), evidence.Stamp(end), Human(total), RunbookTotal,
		"since the command started, not since the incident")
	_ = tw.Flush()
	// Outside the table: the RTO row would widen the PHASE column of every line.
	if !t.IncidentStart.IsZero() && !end.IsZero() {
		since := end.Sub(t.IncidentStart)
		verdict := "within the RTO"
		if since > RunbookRTO {
			verdict = "RTO EXCEEDED"
		}
		fmt.Fprintf(w, "SINCE INCIDENT %s (--incident-start %s to %s): RTO 4h, %s\n", Human(since), evidence.Stamp(t.IncidentStart), evidence.Stamp(end), verdict)
	} else {
		fmt.Fprintf(w, "SINCE INCIDENT unknown: no --incident-start (INCIDENT_START=) given; the RTO (4h) counts from the incident, TOTAL above from the command\n")
	}
}

// Text is WriteText into a string.
func (t *Timeline) Text() string {
	var b strings.Builder
	t.WriteText(&b)
	return b.String()
}

// JSON is the timeline for the evidence bundle, with the total.
func (t *Timeline) JSON() ([]byte, error) {
	t.mu.Lock()
	start, end := t.totalLocked()
	v := struct {
		Title         string   `json:"title"`
		Phases        []*Phase `json:"phases"`
		Total         any      `json:"total"`
		SinceIncident any      `json:"sinceIncident,omitempty"`
		Runbook       any      `json:"runbookEstimates"`
	}{
		Title:  t.Title,
		Phases: t.Phases,
		Total: map[string]any{"startedAt": evidence.Stamp(start), "finishedAt": evidence.Stamp(end),
			"durationMs": contract.Ms(end.Sub(start))},
		Runbook: []Estimate{RunbookDeploy, RunbookRouting, RunbookValidation, RunbookTotal},
	}
	if !t.IncidentStart.IsZero() && !end.IsZero() {
		v.SinceIncident = map[string]any{"incidentStart": evidence.Stamp(t.IncidentStart), "finishedAt": evidence.Stamp(end),
			"durationMs": contract.Ms(end.Sub(t.IncidentStart)), "rtoMs": RunbookRTO.Milliseconds(),
			"withinRto": end.Sub(t.IncidentStart) <= RunbookRTO}
	}
	defer t.mu.Unlock()
	return json.MarshalIndent(v, "", "  ")
}

func (t *Timeline) totalLocked() (time.Time, time.Time) {
	var start, end time.Time
	for _, p := range t.Phases {
		if !p.StartedAt.IsZero() && (start.IsZero() || p.StartedAt.Before(start)) {
			start = p.StartedAt
		}
		if p.FinishedAt.After(end) {
			end = p.FinishedAt
		}
	}
	return start, end
}
