package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/target"
	"github.com/valkey-dr/valkey-dr/validate/watch"
)

// trafficCommand is what `watch` and `probe` differ in; runTrafficCommand is their shared
// skeleton: flags, target, the run, the verdict, the evidence and the output.
type trafficCommand struct {
	kind  string // "watch" or "probe": the evidence's kind and file names
	usage string
	// defaults are the traffic flags' defaults; quietUsage says what --quiet leaves out.
	defaults   trafficFlags
	quietUsage string
	// preCheckTimeout bounds the pre-checks.
	preCheckTimeout func(tf trafficFlags) time.Duration
	// withinDuration: the whole run, pre-checks included, answers within --duration (probe).
	withinDuration bool
	// header is the first live line (text output, not --quiet).
	header func(tg *target.Target, tf trafficFlags) string
	// judge sets the verdict, exit code, reason, SLA lines and warnings of ev.
	judge func(ctx context.Context, ev *watch.Evidence, failed *report.Result, tf trafficFlags)
	// quietVerdictOnly: --quiet prints the verdict line alone (probe); otherwise it only
	// leaves out the live lines (watch).
	quietVerdictOnly bool
	// verdictLine is the last line of the text output.
	verdictLine func(ev *watch.Evidence, tg *target.Target) string
}

// flagSet defines the command's flags: the target's, --reader-port, the traffic's with their
// defaults in tf, the output's and --quiet.
func (c trafficCommand) flagSet(o *options, tf *trafficFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(toolName+" "+c.kind, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addTargetFlags(fs, &o.cfg)
	fs.Var(intFlag{&o.cfg.ReaderPort, 1, 65535}, "reader-port", readerPortUsage)
	addTrafficFlags(fs, tf)
	addOutputFlags(fs, o, fmt.Sprintf("write %[1]s.json, %[1]s.csv and %[1]s-latency.svg into `dir`", c.kind),
		fmt.Sprintf("output `format`: text or json (json prints %s.json to stdout)", c.kind))
	fs.BoolVar(&o.quiet, "quiet", false, c.quietUsage)
	return fs
}

func runTrafficCommand(c trafficCommand, args []string, stdout, stderr io.Writer, d deps) int {
	var o options
	tf := c.defaults
	fs := c.flagSet(&o, &tf)
	if code, done := parseArgs(fs, &o, args, c.usage, stdout, stderr); done {
		return code
	}
	if err := tf.validate(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
		return contract.ExitUsage
	}
	ctx, stop := d.signalContext(stderr)
	defer stop()
	o.cfg.Timeout = c.preCheckTimeout(tf)
	tg, code, ok := resolveTarget(ctx, o, d, stderr)
	if !ok {
		return code
	}
	text := o.format == "text"
	if tg.InsecurePlaintext {
		fmt.Fprintf(stderr, "\n*** WARNING: %s ***\n\n", insecureWarning)
	}
	r := &trafficRun{kind: c.kind, o: o, tf: tf, tg: tg, d: d, stdout: stdout, live: text && !o.quiet}
	if c.withinDuration {
		r.budget = tf.duration
	}
	if r.live {
		fmt.Fprintln(stdout, c.header(tg, tf))
	}
	ev, failed := r.run(ctx)
	c.judge(ctx, ev, failed, tf)
	paths, wcode := r.finish(ev, stderr)
	if !text {
		if err := watch.WriteJSON(stdout, ev); err != nil {
			fmt.Fprintf(stderr, "%s: write report: %v\n", toolName, err)
			return contract.ExitUsage
		}
	} else {
		// The outcome quotes what the server answered (errors, the cleanup's, the reason):
		// escaped for the terminal, one helper for every line.
		stdout := termsafe.Writer(stdout)
		if !o.quiet || !c.quietVerdictOnly {
			printOutcome(stdout, ev, tf)
			if len(paths) > 0 {
				fmt.Fprintf(stdout, "evidence written to %s (%s)\n", o.evidenceDir, evidenceNames(paths))
			}
			for _, w := range ev.Warnings {
				fmt.Fprintf(stdout, "WARNING: %s\n", w)
			}
			if failed != nil && failed.Fix != "" {
				fmt.Fprintf(stdout, "  fix: %s\n", failed.Fix)
			}
		}
		fmt.Fprintln(stdout, c.verdictLine(ev, tg))
	}
	if wcode != 0 {
		return wcode
	}
	return ev.ExitCode
}
