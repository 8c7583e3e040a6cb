package drexec

import (
	"context"
	"sync"
	"time"
)

// Recorded is one command a Recorder saw, for the evidence ("which commands ran, when, with
// what exit status"). It holds the command line only: never Env values.
type Recorded struct {
	Command    string    `json:"command"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMs float64   `json:"durationMs"`
	ExitCode   int       `json:"exitCode"`
	Error      string    `json:"error,omitempty"`
}

// Recorder is a Runner that records every command it passes to R.
type Recorder struct {
	R   Runner
	Now func() time.Time

	mu  sync.Mutex
	log []Recorded
}

var _ Runner = (*Recorder)(nil)

// Run passes c to R and records it.
func (r *Recorder) Run(ctx context.Context, c Cmd) (Result, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	start := now().UTC()
	res, err := r.R.Run(ctx, c)
	rec := Recorded{Command: c.String(), StartedAt: start, ExitCode: res.ExitCode,
		DurationMs: float64(now().Sub(start).Microseconds()) / 1000}
	if err != nil {
		rec.Error = err.Error()
	}
	r.mu.Lock()
	r.log = append(r.log, rec)
	r.mu.Unlock()
	return res, err
}

// Log returns what was recorded, in order.
func (r *Recorder) Log() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Recorded{}, r.log...)
}
