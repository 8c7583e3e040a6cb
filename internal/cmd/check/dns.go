package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
)

// dnsSuffix marks the pseudo drMode of a DNS stack's row: the Route 53 records of a stack made
// on the night (drcontext.Mode.OnTheNight), deployed after validation with --context stack=dns.
// The gate checks every stack an activation deploys, this one too.
const dnsSuffix = "-" + drcontext.StackDNS

// dnsCells are the DNS rows of the table: one per cell whose stack is made on the night.
func dnsCells(targets []drcontext.Cell) []drcontext.Cell {
	var out []drcontext.Cell
	for _, t := range targets {
		if m, ok := drcontext.ModeOf(t.DrMode); ok && m.OnTheNight {
			t.DrMode += dnsSuffix
			out = append(out, t)
		}
	}
	return out
}

// dnsBase is the drMode of a DNS row (ok false for another row).
func dnsBase(t drcontext.Cell) (drcontext.DrMode, bool) {
	base, ok := strings.CutSuffix(string(t.DrMode), dnsSuffix)
	return drcontext.DrMode(base), ok
}

// synthDNSStacks synthesizes the DNS stack of every such cell, one synth each
// (--context stack=dns; -one-by-one), through the same CLI, gate and table as the cache stacks.
func synthDNSStacks(o options, cells []drcontext.Cell, envs map[string]drcontext.Environment, stdout io.Writer) []*targetResult {
	var out []*targetResult
	for _, t := range cells {
		base, _ := dnsBase(t)
		fmt.Fprintf(stdout, "== cdk synth --context environment=%s --context drMode=%s --context %s=%s", t.Environment, base, drcontext.KeyStack, drcontext.StackDNS)
		r := synth(o, t, factsFor(envs, t), "--context", drcontext.KeyStack+"="+drcontext.StackDNS)
		fmt.Fprintf(stdout, "  (%s, exit %d)\n", r.elapsed.Round(100*time.Millisecond), r.exitCode)
		out = append(out, r)
	}
	return out
}
