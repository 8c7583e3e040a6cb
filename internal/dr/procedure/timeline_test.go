package procedure

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTimeline(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	tl := &Timeline{Title: "DR drill", Now: func() time.Time { clock = clock.Add(1500 * time.Millisecond); return clock }}
	p := tl.Start("synth", RunbookDeploy)
	tl.Finish(p, nil, false, "cdk synth only")
	tl.Skip("routing", RunbookRouting, NotPerformed, "no Route 53 locally")
	v := tl.Start("validation", RunbookValidation)
	tl.Finish(v, errors.New("boom"), false, "")
	text := tl.Text()
	for _, want := range []string{
		"synth       2026-01-02T02:04:06.500Z  2026-01-02T02:04:08.000Z  1.5s", // UTC, not CET
		"deploy 25–60 min", "routing 5–20 min", "not performed", "validation 10–20 min", "failed",
		"TOTAL", "total 30–90 min", "4.5s",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	b, err := tl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Phases []Phase
		Total  struct{ DurationMs float64 }
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Phases) != 3 || got.Phases[0].DurationMs != 1500 || got.Total.DurationMs != 4500 || !got.Phases[1].StartedAt.IsZero() {
		t.Fatalf("json: %s", b)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "-", 850 * time.Millisecond: "850ms", 12300 * time.Millisecond: "12.3s", 245 * time.Second: "4m05s"} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTimelineShowsTimeSinceTheIncident(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	tl := &Timeline{Title: "t", Now: func() time.Time { return now }, IncidentStart: now.Add(-5 * time.Hour)}
	p := tl.Start("deploy", RunbookDeploy)
	now = now.Add(10 * time.Minute)
	tl.Finish(p, nil, false, "")
	text := tl.Text()
	for _, want := range []string{"since the command started, not since the incident", "SINCE INCIDENT 5h10m (--incident-start 2026-12-01T03:00:00.000Z", "RTO 4h, RTO EXCEEDED"} {
		if !strings.Contains(text, want) {
			t.Fatalf("timeline lacks %q:\n%s", want, text)
		}
	}
	data, err := tl.JSON()
	if err != nil || !strings.Contains(string(data), `"withinRto": false`) {
		t.Fatalf("timeline.json: %v\n%s", err, data)
	}
}
