package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

// Probe verdicts and their exit codes (runbook section 5: activate DR when the primary is
// "unreachable or degraded beyond SLA tolerance"). 1 is never used, so a script can tell a
// probe verdict from a `run` failure.
const (
	VerdictHealthy      = "healthy"
	VerdictDegraded     = "degraded"
	VerdictUnreachable  = "unreachable"
	VerdictInconclusive = "inconclusive"
)

// Defaults of `probe`: a short sample, so one transient error must not read as "degraded":
// the error-rate tolerance is 1% (5 of 500 commands), not watch's 0.1%.
const (
	probeDefaultDuration    = 10 * time.Second
	probeDefaultRate        = 50
	probeDefaultConcurrency = 2
	probeDefaultSLAP99      = 10 * time.Millisecond
	probeDefaultErrRate     = 0.01
	// probeCleanupTimeout bounds the probe's cleanup: the answer must not wait on a stalled
	// node (what it cannot delete expires with the session TTL).
	probeCleanupTimeout = 2 * time.Second
	// probeSessionsPerWorker: 2 workers x 2 sessions x 10 commands = 40 commands per full
	// lifecycle, so even a 10 s probe at 50/s exercises create, read, refresh and delete.
	probeSessionsPerWorker = 2
)

// probeConfigClasses are error classes that say the probe's own configuration (credentials,
// trust, permissions) was refused: the cache answered, so it is not unreachable, and nothing
// about its health is known.
var probeConfigClasses = map[string]bool{valkeyclient.ClassAuth: true, valkeyclient.ClassPermission: true, valkeyclient.ClassTLS: true, valkeyclient.ClassMode: true}

var probeUsage = `Usage: go run ./validate probe [flags]

Runbook section 5 (activation criteria): probes the cache (typically the primary) for --duration
with light session-like traffic and answers healthy, degraded beyond SLA, or unreachable.

  go run ./validate probe --outputs primary-outputs.json --duration 30s --sla-p99 5ms

Exit status:
  0  healthy       every SLA line held
  3  degraded      commands succeed, but latency or error rate is beyond the SLA
  4  unreachable   no command succeeded: DNS, TCP, TLS handshake or every command failed or timed out
  5  inconclusive  the probe's own credentials, trust or permissions were refused (or it was
                   interrupted): the cache may be healthy; fix the probe, do not activate DR on this
  2  usage or configuration error
Password: environment variable ` + target.PasswordEnv + `, --password-file or --password-secret-arn (never a flag value).
`

// probeCmd is the `probe` subcommand.
func probeCmd(args []string, stdout, stderr io.Writer, d deps) int {
	return runTrafficCommand(trafficCommand{
		kind: "probe", usage: probeUsage,
		defaults: trafficFlags{duration: probeDefaultDuration, rate: probeDefaultRate, concurrency: probeDefaultConcurrency,
			connsPerNode: 1, interval: watch.DefaultInterval, opTimeout: watch.DefaultOpTimeout, valueSize: watch.DefaultValueSize,
			sla: watch.SLA{P99: probeDefaultSLAP99, ErrorRate: probeDefaultErrRate}, cleanupTimeout: probeCleanupTimeout, sessionsPerWorker: probeSessionsPerWorker},
		quietUsage: "text: print only the verdict line",
		// The pre-checks retry what can heal (refused, NXDOMAIN) within the probe's duration: a
		// probe answers within --duration (plus cleanup), whatever the endpoint does.
		preCheckTimeout: func(tf trafficFlags) time.Duration { return tf.duration },
		withinDuration:  true,
		header: func(tg *target.Target, tf trafficFlags) string {
			return fmt.Sprintf("%s %s: probing %s for %v (SLA p99 %v, error rate %s)", toolName, toolVersion(), describeTarget(tg),
				tf.duration, tf.sla.P99, strings.TrimSpace(fmt.Sprintf("%.3g%%", tf.sla.ErrorRate*100)))
		},
		judge: func(ctx context.Context, ev *watch.Evidence, failed *report.Result, tf trafficFlags) {
			ev.Verdict, ev.ExitCode, ev.Reason, ev.SLA = probeVerdict(ctx, failed, ev.Outcome, tf.sla)
			if ev.Outcome != nil && !ev.Cleanup.OK() {
				ev.Warnings = append(ev.Warnings, ev.Cleanup.Text(watch.DefaultSessionTTL))
			}
		},
		quietVerdictOnly: true,
		verdictLine: func(ev *watch.Evidence, tg *target.Target) string {
			return fmt.Sprintf("%s (exit %d): %s; %s, run %s", strings.ToUpper(ev.Verdict), ev.ExitCode, ev.Reason, tg.Addr(), ev.RunID)
		},
	}, args, stdout, stderr, d)
}

// onlyUnderRate reports whether the offered-load line is the only one that failed.
func onlyUnderRate(lines []watch.SLACheck) bool {
	under := false
	for _, l := range lines {
		switch {
		case l.Pass:
		case l.Name == watch.CheckOffered:
			under = true
		default:
			return false
		}
	}
	return under
}

// probeVerdict decides healthy, degraded, unreachable or inconclusive from a failed pre-check
// (or connect) and the traffic's outcome.
func probeVerdict(ctx context.Context, failed *report.Result, out *watch.Outcome, sla watch.SLA) (verdict string, code int, reason string, lines []watch.SLACheck) {
	if ctx.Err() != nil || (out != nil && out.Interrupted) {
		why := "interrupted"
		if cause := context.Cause(ctx); cause != nil {
			why = cause.Error()
		}
		// Its own verdict, with the inconclusive exit code the runbook documents for it.
		return string(verdictInterrupted), contract.ExitInconclusive, why + " before its --duration ended: no verdict on the cache; do not activate DR on this result", nil
	}
	if failed != nil {
		if probeConfigClasses[failed.ErrorClass] {
			return VerdictInconclusive, contract.ExitInconclusive,
				fmt.Sprintf("the probe's own configuration was refused (%s failed, class %s: %s): the cache answered; fix the probe, do not activate DR on this result",
					failed.Name, failed.ErrorClass, failed.Detail), nil
		}
		if failed.ErrorClass == valkeyclient.ClassDeadline {
			// The check never started: the ones before it passed (the cache answered and
			// authenticated) but used up the run deadline. A cache that answers that slowly is
			// degraded; unreachable would claim no client can reach it.
			return VerdictDegraded, contract.ExitDegraded, fmt.Sprintf("degraded: the cache answered, but the pre-checks used up the run deadline (%s: %s)", failed.Name, failed.Detail), nil
		}
		return VerdictUnreachable, contract.ExitUnreachable, fmt.Sprintf("%s failed (class %s): %s", failed.Name, failed.ErrorClass, failed.Detail), nil
	}
	t := out.Total
	if out.RedirectLoop != "" {
		// Commands are sent around instead of served; the cause is the server, not the path
		// to it. None served: no client gets an answer. Some served: beyond any SLA.
		if t.Successes == 0 {
			return VerdictUnreachable, contract.ExitUnreachable, "the probe stopped early: " + out.RedirectLoop, nil
		}
		return VerdictDegraded, contract.ExitDegraded, "degraded: the probe stopped early: " + out.RedirectLoop, nil
	}
	if t.Successes == 0 {
		cls := dominant(t.ErrorClasses)
		if probeConfigClasses[cls] {
			return VerdictInconclusive, contract.ExitInconclusive,
				fmt.Sprintf("every command was refused with class %s (%d of %d): the probe's user lacks permissions; fix the probe, do not activate DR on this result",
					cls, t.Errors, t.Ops), nil
		}
		if t.Ops == 0 {
			return VerdictUnreachable, contract.ExitUnreachable, fmt.Sprintf("no command completed in %.2fs", t.DurationS), nil
		}
		return VerdictUnreachable, contract.ExitUnreachable,
			fmt.Sprintf("no command succeeded in %.2fs: %d of %d failed (mostly %s)", t.DurationS, t.Errors, t.Ops, cls), nil
	}
	ok, lines := sla.Evaluate(t)
	if !ok && onlyUnderRate(lines) {
		// Every latency and error line held, but the probe offered less than --rate: this
		// host could not send the load (busy, too few workers), which says nothing against
		// the cache. Never DEGRADED on that alone (issue 26).
		return VerdictInconclusive, contract.ExitInconclusive, "the probe offered less load than asked for (" + failedSLA(lines) +
			"); every SLA line on the load it did offer held: fix the probe (fewer --rate, more --concurrency, a less busy host), do not activate DR on this result", lines
	}
	if !ok {
		return VerdictDegraded, contract.ExitDegraded, "degraded beyond SLA: " + failedSLA(lines), lines
	}
	// A stalled node may take few commands with it in a short probe (its slots are one share
	// of the keyspace, and a worker waiting on it issues nothing else), so averages can stay
	// within the SLA; in a short probe it may take none (every session the run created landed
	// on the other nodes), and then only the cleanup, which scans every node, meets it.
	// Failed connection attempts, timeouts plus a cleanup that could not finish, or a cleanup
	// that a node did not answer mean part of the keyspace is not answering: never call that
	// healthy.
	cleanupFailed := out.Cleanup != nil && out.Cleanup.Error != ""
	timeouts := t.ErrorClasses[valkeyclient.ClassTimeout]
	stalledCleanup := cleanupFailed && (timeouts > 0 || out.Cleanup.ErrorClass == valkeyclient.ClassTimeout)
	if t.DialFailures > 0 || stalledCleanup {
		why := fmt.Sprintf("%d connection attempt(s) failed", t.DialFailures)
		switch {
		case stalledCleanup && timeouts > 0:
			why += fmt.Sprintf(", %d command(s) timed out and cleanup could not reach every node", timeouts)
		case stalledCleanup:
			why += ", and a node did not answer the cleanup (" + out.Cleanup.Error + ")"
		}
		return VerdictDegraded, contract.ExitDegraded, "degraded: part of the keyspace is not answering (" + why + ")", lines
	}
	return VerdictHealthy, contract.ExitOK, fmt.Sprintf("%d commands in %.2fs within the SLA (p99 %.3fms, errors %.3f%%)",
		t.Ops, t.DurationS, t.P99Ms, t.ErrorRate*100), lines
}

// dominant returns the class with the most errors ("" when none).
func dominant(m map[string]int64) string {
	best, n := "", int64(-1)
	for k, v := range m {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best
}
