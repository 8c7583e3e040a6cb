package drexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Every external command is bounded (issue 14 item 5): a synth whose jsii runtime stalls, an
// AWS CLI call waiting on a dead endpoint or a validator that never returns must end the
// procedure with a message naming what hung, with the evidence sealed, not stall a DR
// procedure until someone notices.

// ErrTimeout is matched (errors.Is) when a command ran longer than its Cmd.Timeout and was
// stopped.
var ErrTimeout = errors.New("did not finish in time")

// Deadlines of the commands the procedures run: generous (several times a slow run on a loaded
// 2-core machine), because a deadline that fires on a healthy run is worse than none.
const (
	// TimeoutSynth bounds cdk synth (warm: seconds; cold jsii cache and a loaded machine: a
	// minute or two).
	TimeoutSynth = 10 * time.Minute
	// TimeoutDeploy bounds cdk deploy and destroy: an ElastiCache Serverless create or delete
	// takes minutes, CloudFormation's own rollback can take longer.
	TimeoutDeploy = 90 * time.Minute
	// TimeoutBuild bounds go build of the validator (a cold Go cache on 2 cores: ~30 s).
	TimeoutBuild = 10 * time.Minute
	// TimeoutValidate bounds the validator (its own checks have deadlines; this is the outer one).
	TimeoutValidate = 10 * time.Minute
	// TimeoutVersion bounds a version query (cdk --version, git rev-parse).
	TimeoutVersion = time.Minute
	// ProgressDeploy is how often a running deploy or destroy says it is still running.
	ProgressDeploy = 30 * time.Second
)

// withTimeout is ctx bounded by d (d <= 0: ctx's own deadline only).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// timedOut is the error of a command stopped at its deadline: what hung, how long it was given.
func timedOut(c Cmd) error {
	return fmt.Errorf("%s: %w: no result after %s, so it was stopped (SIGTERM, then SIGKILL, to its process group): %s",
		c.Name, ErrTimeout, c.Timeout, c)
}

// progress writes "still running" lines for c every c.ProgressEvery until the returned stop is
// called (a no-op when c asks for none).
func progress(c Cmd, start time.Time) (stop func()) {
	w := c.Progress
	if w == nil {
		w = c.Stderr
	}
	if c.ProgressEvery <= 0 || w == nil {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(c.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				progressLine(w, c, now.Sub(start))
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func progressLine(w io.Writer, c Cmd, elapsed time.Duration) {
	limit := ""
	if c.Timeout > 0 {
		limit = fmt.Sprintf(" of at most %s", c.Timeout)
	}
	what := c.Name
	if len(c.Args) > 0 {
		what += " " + c.Args[0]
	}
	fmt.Fprintf(w, "    ... %s still running (%s%s)\n", what, elapsed.Round(time.Second), limit)
}

// bounded is c with Timeout d.
func (c Cmd) bounded(d time.Duration) Cmd {
	c.Timeout = d
	return c
}
