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

// synthEvidenceStacks synthesizes the evidence archive stack of every environment
// (--context stack=evidence) through the same CLI, gate and table as the cache stacks.
func synthEvidenceStacks(o options, envs map[string]drcontext.Environment, stdout io.Writer) []*targetResult {
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*targetResult
	for _, n := range names {
		e := envs[n]
		fmt.Fprintf(stdout, "== cdk synth --context environment=%s --context %s=%s", n, drcontext.KeyStack, drcontext.StackEvidence)
		// The cell's drMode names the directory (<env>-evidence) and the table row; the app
		// is asked for drMode none with stack=evidence (appDrMode; the evidence region is its own).
		t := drcontext.Cell{Environment: n, DrMode: evidenceCell, Region: e.PrimaryRegion}
		facts := compliance.Facts{Environment: n, Production: e.Production != nil && *e.Production, DrMode: drcontext.DrModeNone}
		r := synthEvidence(o, t, facts)
		fmt.Fprintf(stdout, "  (%s, exit %d)\n", r.elapsed.Round(100*time.Millisecond), r.exitCode)
		out = append(out, r)
	}
	return out
}

func synthEvidence(o options, t drcontext.Cell, facts compliance.Facts) *targetResult {
	return synth(o, t, facts, "--context", drcontext.KeyStack+"="+drcontext.StackEvidence)
}

// appDrMode is the drMode the app is asked for: the cell's, or none for the evidence stack.
func appDrMode(t drcontext.Cell) drcontext.DrMode {
	if t.DrMode == evidenceCell {
		return drcontext.DrModeNone
	}
	return t.DrMode
}
