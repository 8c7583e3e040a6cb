package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// Func is the one signature of every check. It turns ctx's deadline into socket deadlines and
// returns Status, Detail and, on failure, ErrorClass/Fix; the runner fills the rest.
type Func func(ctx context.Context, e *Env) report.Result

// Check is one row of the table.
type Check struct {
	// Name is the check's name in output and evidence.
	Name string
	// Timeout is the check's own deadline (capped by what is left of --timeout).
	Timeout time.Duration
	// Needs lists the checks that must not have failed (or been skipped because of a
	// failure) for this one to run.
	Needs []string
	// Always runs the check with its own Timeout even when --timeout is used up: cleanup
	// must get its chance to delete the run's keys.
	Always bool
	// Path is the endpoint path the check proves: PathPrimary (what a failover decision
	// reads) or PathReader (the read port: reported on its own, never moves traffic).
	Path Path
	// Canary says whether the health canary runs the check every minute; the canary's
	// Success is its primary-path rows, ReaderSuccess its reader-path rows.
	Canary bool
	// Run is the check.
	Run Func
}

// Path is which endpoint path a check proves (docs/design.md, "Health semantics").
type Path string

// Paths.
const (
	// PathPrimary is the primary port (6379): dns, tcp, tls, auth ... cleanup. A failure is a
	// failure of the cache's primary health.
	PathPrimary Path = "primary"
	// PathReader is the read port (6380, eventually consistent reads after READONLY). A
	// failure is reported as read-port health and never fails the primary over.
	PathReader Path = "reader"
)

// Runner runs the table in order.
type Runner struct {
	// Checks is the table; nil means Table.
	Checks []Check
	// OnResult is called after each check (live output).
	OnResult func(report.Result)
	// BeforeCheck is called before each check runs (tests use it to kill or pause a node
	// mid-run).
	BeforeCheck func(name string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run runs every check under the overall deadline (e.Target.Timeout from start) and returns
// the results in order. It closes e's clients at the end.
func (r *Runner) Run(ctx context.Context, e *Env) []report.Result {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	table := r.Checks
	if table == nil {
		table = Table
	}
	runCtx, cancel := context.WithTimeout(ctx, e.Target.Timeout)
	defer cancel()
	defer e.Close()

	byName := map[string]report.Result{}
	results := make([]report.Result, 0, len(table))
	for _, c := range table {
		res := r.runOne(ctx, runCtx, e, c, byName, now)
		byName[c.Name] = res
		results = append(results, res)
		if r.OnResult != nil {
			r.OnResult(res)
		}
	}
	return results
}

func (r *Runner) runOne(parent, runCtx context.Context, e *Env, c Check, done map[string]report.Result, now func() time.Time) (res report.Result) {
	start := now()
	for _, dep := range c.Needs {
		if d, ok := done[dep]; ok && (d.Status == report.Fail || d.SkippedBecause != "") {
			res = skip(fmt.Sprintf("skipped: %s failed", dep))
			if d.SkippedBecause != "" {
				res.Detail = fmt.Sprintf("skipped: %s failed", d.SkippedBecause)
				dep = d.SkippedBecause
			}
			res.SkippedBecause = dep
			return finish(res, c, start, now(), 0)
		}
	}
	if valkeyclient.Interrupted(parent) && !c.Always {
		res = skip("not run: " + interruptedText(parent))
		res.SkippedBecause = valkeyclient.ClassInterrupted
		return finish(res, c, start, now(), 0)
	}
	base := runCtx
	timeout := c.Timeout
	if c.Always && valkeyclient.Interrupted(parent) {
		// After Ctrl-C, cleanup gets a short bound and no more.
		base, timeout = context.WithoutCancel(parent), min(timeout, valkeyclient.CleanupAfterInterrupt)
	} else if c.Always {
		// Cleanup runs even after Ctrl-C or a spent --timeout: the keys should not wait for their TTL.
		base = context.WithoutCancel(parent)
		if dl, ok := runCtx.Deadline(); ok {
			timeout = min(timeout, max(dl.Sub(start), CleanupGrace))
		}
	} else if dl, ok := runCtx.Deadline(); ok {
		left := dl.Sub(start)
		if left <= 0 {
			res = report.Result{Status: report.Fail, ErrorClass: valkeyclient.ClassDeadline,
				Detail: fmt.Sprintf("not started: the run deadline (--timeout %v) was used up", e.Target.Timeout),
				Fix:    "raise --timeout, or fix the slow check above"}
			return finish(res, c, start, now(), 0)
		}
		timeout = min(timeout, left)
	}
	if r.BeforeCheck != nil {
		r.BeforeCheck(c.Name)
	}
	ctx, cancel := context.WithTimeout(base, timeout)
	defer cancel()
	defer func() {
		// A check must never crash the run or print a stack trace: a bug becomes a failure.
		if p := recover(); p != nil {
			res = report.Result{Status: report.Fail, ErrorClass: valkeyclient.ClassServer,
				Detail: fmt.Sprintf("internal error in check %s: %v", c.Name, p), Fix: "report this as a validator bug"}
			res = finish(res, c, start, now(), timeout)
		}
	}()
	res = c.Run(ctx, e)
	if valkeyclient.Interrupted(parent) && !c.Always && res.Status != report.Pass {
		// Cut short by the signal: whatever the check saw on its way out (a canceled lookup
		// reads as a DNS failure) is not what happened.
		ev := map[string]any{"detailWhenInterrupted": res.Detail}
		res = report.Result{Status: report.Fail, ErrorClass: valkeyclient.ClassInterrupted,
			Detail: interruptedText(parent) + " before this check finished", Evidence: ev}
	}
	if res.Status == report.Fail && res.ErrorClass == valkeyclient.ClassTimeout {
		res.Detail += fmt.Sprintf(" (check deadline %v)", timeout.Round(time.Millisecond))
	}
	return finish(res, c, start, now(), timeout)
}

func finish(res report.Result, c Check, start, end time.Time, deadline time.Duration) report.Result {
	res.Name = c.Name
	res.StartedAt = start.UTC()
	res.Duration = end.Sub(start)
	res.DurationMs = report.Ms(res.Duration)
	res.DeadlineMs = report.Ms(deadline)
	if res.Status == "" {
		res.Status = report.Fail
		res.Detail = "internal error: check returned no status"
	}
	return res
}

// interruptedText names the signal that ended the run ("interrupted by SIGINT").
func interruptedText(ctx context.Context) string {
	return context.Cause(ctx).Error()
}
