package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/context"
)

// evidenceCell is the pseudo drMode of the evidence stack's row: the stack serves both sides.
const evidenceCell drcontext.DrMode = drcontext.StackEvidence

// evidenceCells are the evidence archive rows of the table, one per environment, in name order.
// The cell's drMode names the directory (<env>-evidence) and the row; the app builds the
// archive for drMode none with stack=evidence (appDrMode; the evidence region is its own).
func evidenceCells(envs map[string]drcontext.Environment) []drcontext.Cell {
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]drcontext.Cell, 0, len(names))
	for _, n := range names {
		out = append(out, drcontext.Cell{Environment: n, DrMode: evidenceCell, Region: envs[n].PrimaryRegion})
	}
	return out
}

// synthEvidenceStacks synthesizes the evidence archive stack of every environment, one synth
// each (--context stack=evidence; -one-by-one), through the same CLI, gate and table as the
// cache stacks.
func synthEvidenceStacks(o options, envs map[string]drcontext.Environment, stdout io.Writer) []*targetResult {
	var out []*targetResult
	for _, t := range evidenceCells(envs) {
		fmt.Fprintf(stdout, "== cdk synth --context environment=%s --context %s=%s", t.Environment, drcontext.KeyStack, drcontext.StackEvidence)
		r := synthEvidence(o, t, factsFor(envs, t))
		fmt.Fprintf(stdout, "  (%s, exit %d)\n", r.elapsed.Round(100*time.Millisecond), r.exitCode)
		out = append(out, r)
	}
	return out
}

func synthEvidence(o options, t drcontext.Cell, facts compliance.Facts) *targetResult {
	return synth(o, t, facts, "--context", drcontext.KeyStack+"="+drcontext.StackEvidence)
}

// appDrMode is the drMode the app is asked for: the cell's (a DNS row's base drMode), or none for
// the evidence stack.
func appDrMode(t drcontext.Cell) drcontext.DrMode {
	if t.DrMode == evidenceCell {
		return drcontext.DrModeNone
	}
	if base, ok := dnsBase(t); ok {
		return base
	}
	return t.DrMode
}
