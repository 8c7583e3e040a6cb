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

// Defaults of `watch`: a stabilization run against a production cache, gentle on it.
const (
	watchDefaultDuration = time.Minute
	watchDefaultSLAP99   = 10 * time.Millisecond
	watchDefaultErrRate  = 0.001
	// watchPreCheckTimeout bounds the pre-checks (dns, tcp, tls, auth, cluster-mode).
	watchPreCheckTimeout = 15 * time.Second
)

var watchUsage = `Usage: go run ./validate watch [flags]

Runbook section 7 (stabilization): sends session-like traffic (SET NX PX, GET, PEXPIRE, DEL:
10/60/20/10%) for --duration at --rate with --concurrency workers, prints p50/p95/p99/max
latency, error rate and reconnects every --interval, then judges the run against the SLA flags.

  go run ./validate watch --outputs cdk-outputs.json --stack ValkeyDr-prod-us-west-2-dr \
    --duration 5m --rate 500 --sla-p99 5ms --evidence-dir evidence/

Exit status: 0 the SLA held, 1 it did not (or traffic could not start), 2 usage or
configuration error, 130 interrupted (SIGINT/SIGTERM: verdict "interrupted"). --evidence-dir gets watch.json, watch.csv (one row per interval) and
watch-latency.svg. Every key is under the run's random prefix and is deleted at the end.
Password: environment variable ` + target.PasswordEnv + `, --password-file or --password-secret-arn (never a flag value).
`

// readerPortUsage documents --reader-port of watch and probe.
const readerPortUsage = "read-from-replica `port` (ElastiCache Serverless: 6380; default: the outputs file's). watch sends " +
	"a share of its reads there (READONLY) and reports them apart; probe checks it alongside. Never part of the verdict"

// watchCmd is the `watch` subcommand.
func watchCmd(args []string, stdout, stderr io.Writer, d deps) int {
	return runTrafficCommand(trafficCommand{
		kind: "watch", usage: watchUsage,
		defaults: trafficFlags{duration: watchDefaultDuration, rate: watch.DefaultRate, concurrency: watch.DefaultConcurrency,
			connsPerNode: 1, interval: watch.DefaultInterval, opTimeout: watch.DefaultOpTimeout, valueSize: watch.DefaultValueSize,
			sla: watch.SLA{P99: watchDefaultSLAP99, ErrorRate: watchDefaultErrRate}},
		quietUsage:      "text: no line per interval, only the totals and the verdict",
		preCheckTimeout: func(trafficFlags) time.Duration { return watchPreCheckTimeout },
		header: func(tg *target.Target, tf trafficFlags) string {
			return fmt.Sprintf("%s %s: watching %s for %v (%s, %d workers)", toolName, toolVersion(), describeTarget(tg),
				tf.duration, rateText(tf.rate), tf.concurrency)
		},
		judge: watchVerdict,
		verdictLine: func(ev *watch.Evidence, tg *target.Target) string {
			return fmt.Sprintf("%s: %s against %s; run %s", strings.ToUpper(ev.Verdict), ev.Reason, tg.Addr(), ev.RunID)
		},
	}, args, stdout, stderr, d)
}

// watchVerdict is pass when the SLA held over the traffic, fail when it did not or the
// traffic could not start, interrupted on a signal.
func watchVerdict(ctx context.Context, ev *watch.Evidence, failed *report.Result, tf trafficFlags) {
	ev.Verdict, ev.ExitCode = "fail", contract.ExitFailed
	switch {
	case failed != nil:
		ev.Reason = fmt.Sprintf("traffic could not start: %s failed: %s", failed.Name, failed.Detail)
	default:
		ok, lines := tf.sla.Evaluate(ev.Total)
		ev.SLA = lines
		switch {
		case ev.RedirectLoop != "":
			// The loop is the verdict: the SLA lines over the few commands before it stopped
			// are in the evidence, but they are not what happened.
			ev.Reason = "traffic stopped early: " + ev.RedirectLoop
		case ok:
			ev.Verdict, ev.ExitCode = "pass", contract.ExitOK
			ev.Reason = fmt.Sprintf("the SLA held over %.2fs of traffic", ev.Total.DurationS)
		default:
			ev.Reason = "the SLA did not hold: " + failedSLA(lines)
		}
		rate := ev.Total.OpsPerSec
		if ev.Reader != nil && ev.Total.DurationS > 0 {
			// Reads through the read port are paced with the rest but counted apart.
			rate += float64(ev.Reader.Reads) / ev.Total.DurationS
		}
		if tf.rate > 0 && rate < 0.9*float64(tf.rate) && !ev.Interrupted && ev.RedirectLoop == "" {
			ev.Warnings = append(ev.Warnings, fmt.Sprintf("the target rate was not reached: %.1f/s of %d/s (latency x concurrency limits the rate: raise --concurrency)", rate, tf.rate))
		}
		if !ev.Cleanup.OK() {
			ev.Warnings = append(ev.Warnings, ev.Cleanup.Text(watch.DefaultSessionTTL))
		}
	}
	if valkeyclient.Interrupted(ctx) {
		// Its own verdict: what was measured until the signal is in the evidence, but a
		// run cut short is not the stabilization run the SLA judges.
		measured := "no traffic ran"
		if ev.Outcome != nil {
			measured = fmt.Sprintf("after %.2fs of the %v of traffic asked for; over what was measured: %s", ev.Total.DurationS, tf.duration, ev.Reason)
		} else if failed != nil && failed.ErrorClass != valkeyclient.ClassInterrupted {
			measured = ev.Reason
		}
		ev.Verdict, ev.ExitCode = string(verdictInterrupted), contract.ExitInterrupted
		ev.Reason = fmt.Sprintf("%s (%s)", context.Cause(ctx), measured)
	}
}

func failedSLA(lines []watch.SLACheck) string {
	var parts []string
	for _, l := range lines {
		if l.Pass {
			continue
		}
		switch l.Unit {
		case "ms":
			parts = append(parts, fmt.Sprintf("%s %.3fms > %.3fms", l.Name, l.Actual, l.Limit))
		case "fraction":
			parts = append(parts, fmt.Sprintf("%s %.3f%% > %.3f%%", l.Name, l.Actual*100, l.Limit*100))
		case "ops/s":
			parts = append(parts, fmt.Sprintf("%s %.1f/s < %.1f/s (under %.0f%% of --rate: judged on less load than asked for; --allow-under-rate accepts it)",
				l.Name, l.Actual, l.Limit, watch.MinRateShare*100))
		default:
			// Count lines: nothing completed, or nothing succeeded (then no latency line).
			if l.Name == "ops" {
				parts = append(parts, "no command completed")
			} else {
				parts = append(parts, "no command succeeded")
			}
		}
	}
	return strings.Join(parts, "; ")
}
