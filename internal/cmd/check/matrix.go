package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/context"

	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// matrixDir is the one cloud assembly of the whole matrix, under -out.
const matrixDir = "matrix"

// synthMatrix is the gate in one `cdk synth --context matrix=all`: one process pays the CLI's,
// jsii's and aws-cdk-lib's fixed costs once for every cell. The stacks are split back into
// their cells (by the stack ids drcontext derives for each cell), so the table, the verdicts
// and the details are those of one synth per cell: a failed synth fails the cells whose stacks
// have findings, or every cell when none has (fail closed).
func synthMatrix(o options, targets []drcontext.Cell, envs map[string]drcontext.Environment, stdout io.Writer) []*targetResult {
	dir := filepath.Join(o.outRoot, matrixDir)
	results := make([]*targetResult, len(targets))
	cellOf := map[string]int{} // stack id -> index in targets
	for i, t := range targets {
		results[i] = &targetResult{target: t, dir: dir}
		cfg, err := drcontext.LoadFile(o.cdkJSON, drcontext.Request{Environment: t.Environment, DrMode: appDrMode(t)})
		if err != nil {
			results[i].problems = append(results[i].problems, err.Error())
			continue
		}
		if t.DrMode == evidenceCell {
			cellOf[cfg.EvidenceStackID()] = i
			continue
		}
		if _, ok := dnsBase(t); ok {
			cellOf[cfg.DNSStackID()] = i
			continue
		}
		cellOf[cfg.StackID()] = i
		if cfg.HasSwitchStack() {
			cellOf[cfg.SwitchStackID()] = i
		}
	}
	fail := func(format string, args ...any) []*targetResult {
		for _, r := range results {
			r.problems = append(r.problems, fmt.Sprintf(format, args...))
		}
		return results
	}
	// A stale assembly would be read as this run's.
	if err := os.RemoveAll(dir); err != nil {
		return fail("%v", err)
	}
	archives, dns := 0, 0
	for _, t := range targets {
		if t.DrMode == evidenceCell {
			archives++
		}
		if _, ok := dnsBase(t); ok {
			dns++
		}
	}
	fmt.Fprintf(stdout, "== cdk synth --context %s=%s (%d environment x drMode cells, %d DNS stacks and %d evidence archives in one process)",
		drcontext.KeyMatrix, drcontext.MatrixAll, len(targets)-archives-dns, dns, archives)
	line := drexec.CDK{CLI: o.cdk}.SynthMatrix(drcontext.MatrixAll, dir)
	code, output, elapsed, err := runSynth(line)
	fmt.Fprintf(stdout, "  (%s, exit %d)\n", elapsed.Round(100*time.Millisecond), code)
	for _, r := range results {
		r.output, r.elapsed = output, elapsed
	}
	if err != nil {
		for _, r := range results {
			r.exitCode = code
		}
		return fail("cannot run %s: %v", o.cdk, err)
	}
	synthFailed := func(rs []*targetResult) {
		for _, r := range rs {
			r.exitCode = code
			r.problems = append(r.problems, fmt.Sprintf("cdk synth exited %d", code))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, assembly.ManifestFile)); err != nil {
		if code == 0 {
			return fail("cdk synth wrote no cloud assembly")
		}
		synthFailed(results) // context validation failed: nothing was synthesized, the output says why
		return results
	}
	stacks, err := compliance.LoadAssembly(dir, func(stack string) compliance.Facts {
		if i, ok := cellOf[stack]; ok {
			return factsFor(envs, targets[i])
		}
		return compliance.Facts{}
	})
	if err != nil {
		if code != 0 {
			synthFailed(results)
		}
		return fail("%v", err)
	}
	reported, err := reportViolations(dir)
	if err != nil {
		fail("%v", err)
	}
	for _, s := range stacks {
		i, ok := cellOf[s.Name]
		if !ok {
			fail("stack %s of the matrix assembly belongs to no environment x drMode of %s", s.Name, o.cdkJSON)
			continue
		}
		results[i].addStack(s, reported)
	}
	for _, r := range results {
		if len(r.stacks) == 0 {
			r.problems = append(r.problems, "the cloud assembly holds no stack of this cell")
		}
	}
	if code != 0 {
		var blamed []*targetResult
		for _, r := range results {
			if r.failed() {
				blamed = append(blamed, r)
			}
		}
		if len(blamed) == 0 {
			blamed = results
		}
		synthFailed(blamed)
	}
	return results
}

// runSynth runs one CLI command line (bounded by its Timeout: a hung synth fails the gate
// with a message naming it) with stdout and stderr captured together; err only when it could
// not run or was stopped.
func runSynth(line drexec.Cmd) (code int, output string, elapsed time.Duration, err error) {
	var out bytes.Buffer
	line.Stdout, line.Stderr = &out, &out
	res, err := drexec.Exec{}.Run(context.Background(), line)
	return res.ExitCode, out.String(), res.Duration, err
}
