// Command check is `make check`: the compliance gate over every environment x drMode in cdk.json.
// It synthesizes each one through the real CDK CLI (which runs cdk-nag and our rules, and fails
// on a violation), re-applies our rules to the synthesized templates, applies the cross-stack
// rule to the stacks of each environment together (one `cdk synth` only ever sees one of them),
// lints every stack for its own Region with cfn-lint and runs the AWS Control Tower proactive
// controls over every stack (tools.go), and prints one table: stack, resources, findings,
// suppressed nag findings and waived controls, verdict.
//
// Exit status: 0 every stack passes, 1 a finding or a failed synth, 2 cdk.json unreadable.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/context"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the flags.
type options struct {
	cdkJSON string // path of cdk.json
	outRoot string // cdk.out: each target synthesizes into <outRoot>/<env>-<mode>
	cdk     string // the CDK CLI ("cdk" from PATH: the Makefile puts the pinned one first)
	// oneByOne runs one `cdk synth` per cell (the old way, 6x the fixed costs) instead of one
	// `cdk synth --context matrix=all` for the whole matrix.
	oneByOne bool
	// cfnLint is the cfn-lint program; guardDir the npm package with cfn-guard and the Control
	// Tower rules (tools.go).
	cfnLint, guardDir string
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cdkJSON, "cdk-json", "cdk.json", "cdk.json with the environments")
	fs.StringVar(&o.outRoot, "out", "cdk.out", "directory for the cloud assemblies (one per environment x drMode)")
	fs.StringVar(&o.cdk, "cdk", "cdk", "CDK CLI to run")
	fs.BoolVar(&o.oneByOne, "one-by-one", false, "one cdk synth per environment x drMode instead of one for the whole matrix")
	fs.StringVar(&o.cfnLint, "cfn-lint", defaultCfnLint, "cfn-lint to run (pinned "+compliance.CfnLintVersion+"; outside CI a missing one is skipped loudly)")
	fs.StringVar(&o.guardDir, "guard", defaultGuardDir, "the "+compliance.GuardPackage+" package (cfn-guard and the Control Tower rules)")
	if err := fs.Parse(args); err != nil {
		return contract.ExitUsage
	}
	start := time.Now()
	targets, envs, err := matrix(o.cdkJSON)
	if err != nil {
		fmt.Fprintf(stderr, "check: %v\n", err)
		return contract.ExitUsage
	}

	var results []*targetResult
	if o.oneByOne {
		for _, t := range targets {
			fmt.Fprintf(stdout, "== cdk synth --context environment=%s --context drMode=%s", t.Environment, t.DrMode)
			r := synth(o, t, factsFor(envs, t))
			fmt.Fprintf(stdout, "  (%s, exit %d)\n", r.elapsed.Round(100*time.Millisecond), r.exitCode)
			results = append(results, r)
		}
		// The DNS stack of every cell made on the night (dns.go), the evidence archive stack of
		// every environment (evidence.go).
		results = append(results, synthDNSStacks(o, dnsCells(targets), envs, stdout)...)
		results = append(results, synthEvidenceStacks(o, envs, stdout)...)
	} else {
		// Every cell, its DNS stack and every environment's evidence archive in one synth
		// (matrix.go).
		results = synthMatrix(o, append(append(targets, dnsCells(targets)...), evidenceCells(envs)...), envs, stdout)
	}
	crossStack(results)
	toolProblems, ran := tools(o, results, stdout)

	failed := len(toolProblems) > 0
	if failed {
		fmt.Fprintln(stdout, "\n== FAIL the gate's tools")
		for _, p := range toolProblems {
			fmt.Fprintln(stdout, p)
		}
	}
	for _, r := range results {
		if r.failed() {
			failed = true
			r.printDetails(stdout)
		}
	}
	fmt.Fprintln(stdout)
	writeTable(stdout, results)
	verdict := "PASS"
	if failed {
		verdict = "FAIL"
	}
	fmt.Fprintf(stdout, "\ncompliance gate: %s (%d stacks, rules %s..%s, cdk-nag %s; %s; %s)\n", verdict, countStacks(results),
		compliance.Rules[0].ID, compliance.Rules[len(compliance.Rules)-1].ID, strings.Join(compliance.NagPacks, " + "),
		ran, time.Since(start).Round(100*time.Millisecond))
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendSummary(path, results, verdict); err != nil {
			fmt.Fprintf(stderr, "check: step summary: %v\n", err)
		}
	}
	if failed {
		return contract.ExitFailed
	}
	return contract.ExitOK
}

// matrix reads cdk.json: every environment x drMode, and the environments themselves.
func matrix(path string) ([]drcontext.Cell, map[string]drcontext.Environment, error) {
	ctx, err := drcontext.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	raw := ctx[drcontext.KeyEnvironments]
	envs, err := drcontext.Environments(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	targets, err := drcontext.Matrix(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return targets, envs, nil
}

func factsFor(envs map[string]drcontext.Environment, t drcontext.Cell) compliance.Facts {
	e := envs[t.Environment]
	return compliance.Facts{Environment: t.Environment, Production: e.Production != nil && *e.Production, DrMode: appDrMode(t)}
}

// targetResult is one `cdk synth` and what the gate found in its output.
type targetResult struct {
	target   drcontext.Cell
	dir      string
	exitCode int
	output   string // the CLI's stdout and stderr: CDK's validation report on a failure
	elapsed  time.Duration
	stacks   []*stackResult
	// problems are about the synth as a whole (it failed, it wrote nothing readable).
	problems []string
}

// stackResult is one row of the table.
type stackResult struct {
	stack      *compliance.Stack
	resources  int
	findings   []string
	suppressed int
}

func (r *targetResult) failed() bool {
	if r.exitCode != 0 || len(r.problems) > 0 {
		return true
	}
	for _, s := range r.stacks {
		if len(s.findings) > 0 {
			return true
		}
	}
	return false
}

// synth runs the CLI for one target into a fresh directory and reads what it wrote.
func synth(o options, t drcontext.Cell, facts compliance.Facts, extra ...string) *targetResult {
	r := &targetResult{target: t, dir: filepath.Join(o.outRoot, fmt.Sprintf("%s-%s", t.Environment, t.DrMode))}
	// A stale assembly would be read as this run's.
	if err := os.RemoveAll(r.dir); err != nil {
		r.problems = append(r.problems, err.Error())
		return r
	}
	line := drexec.CDK{CLI: o.cdk}.SynthApp(t.Environment, appDrMode(t), r.dir)
	line.Args = append(line.Args, extra...)
	var err error
	r.exitCode, r.output, r.elapsed, err = runSynth(line) // matrix.go
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("cannot run %s: %v", o.cdk, err))
		return r
	}
	if r.exitCode != 0 {
		r.problems = append(r.problems, fmt.Sprintf("cdk synth exited %d", r.exitCode))
	}
	if _, err := os.Stat(filepath.Join(r.dir, assembly.ManifestFile)); err != nil {
		if r.exitCode == 0 {
			r.problems = append(r.problems, "cdk synth wrote no cloud assembly")
		}
		return r // context validation failed: nothing was synthesized, the output says why
	}
	stacks, err := compliance.LoadAssembly(r.dir, func(string) compliance.Facts { return facts })
	if err != nil {
		r.problems = append(r.problems, err.Error())
		return r
	}
	if len(stacks) == 0 {
		r.problems = append(r.problems, "the cloud assembly holds no stack")
	}
	reported, err := reportViolations(r.dir)
	if err != nil {
		r.problems = append(r.problems, err.Error())
	}
	for _, s := range stacks {
		r.addStack(s, reported)
	}
	return r
}

// addStack checks one synthesized stack: our rules, the violations CDK reported for its
// template, and its cdk-nag reports.
func (r *targetResult) addStack(s *compliance.Stack, reported map[string][]string) {
	sr := &stackResult{stack: s, resources: resources(s)}
	for _, f := range compliance.CheckStack(s) {
		sr.findings = append(sr.findings, f.String())
	}
	sr.findings = append(sr.findings, reported[filepath.Base(s.TemplatePath)]...)
	for _, pack := range compliance.NagPacks {
		n, err := nagSuppressed(r.dir, pack, s.Name)
		if err != nil {
			sr.findings = append(sr.findings, err.Error())
		}
		sr.suppressed += n
	}
	r.stacks = append(r.stacks, sr)
}

// resources counts a template's resources, CDK's metadata resource aside.
func resources(s *compliance.Stack) int {
	n := 0
	for _, r := range s.Template.Resources {
		if r.Type != assembly.TypeMetadata {
			n++
		}
	}
	return n
}

// reportViolations reads the violations CDK recorded at synth (cdk-nag's, through the
// annotations plugin, and CloudFormation's own template validation), by template file. Our
// plugin's are left out: this command re-applies our rules itself, so that the table is right
// even if the app stopped running the plugin.
func reportViolations(dir string) (map[string][]string, error) {
	out := map[string][]string{}
	rep, err := assembly.ReadValidationReport(dir) // none: no plugin reported anything
	if err != nil {
		return out, err
	}
	for _, p := range rep.PluginReports {
		if p.PluginName == compliance.PluginName {
			continue
		}
		for _, v := range p.Violations {
			for _, c := range v.ViolatingConstructs {
				msg := fmt.Sprintf("%s (%s, %s)\n  at:  %s", strings.TrimSpace(v.Description), p.PluginName, v.Severity, c.ConstructPath)
				if v.Fix != "" {
					msg += "\n  fix: " + v.Fix
				}
				key := filepath.Base(c.CloudFormationResource.TemplatePath)
				out[key] = append(out[key], msg)
			}
		}
	}
	return out, nil
}

// nagSuppressed counts the suppressed findings in a pack's JSON report for a stack; a missing
// report means the pack did not run on the stack, which is a finding in itself.
func nagSuppressed(dir, pack, stack string) (int, error) {
	rep, err := assembly.ReadNagReport(dir, pack, stack)
	if errors.Is(err, assembly.ErrNoNagReport) {
		return 0, fmt.Errorf("%w (gate.Apply in main.go)", err)
	}
	if err != nil {
		return 0, err
	}
	return rep.Suppressed(), nil
}

// crossStack applies the cross-stack rules to all stacks synthesized, grouped by environment,
// and attaches each finding to the stack that holds the resource.
func crossStack(results []*targetResult) {
	byName := map[string]*stackResult{}
	var all []*compliance.Stack
	for _, r := range results {
		for _, s := range r.stacks {
			byName[s.stack.Name] = s
			all = append(all, s.stack)
		}
	}
	for _, f := range compliance.CheckEnvironments(all) {
		if s, ok := byName[f.Stack]; ok {
			s.findings = append(s.findings, f.String())
		}
	}
}

func (r *targetResult) printDetails(w io.Writer) {
	fmt.Fprintf(w, "\n== FAIL environment=%s drMode=%s (%s)\n", r.target.Environment, r.target.DrMode, r.dir)
	for _, p := range r.problems {
		fmt.Fprintf(w, "%s\n", p)
	}
	if r.exitCode != 0 && strings.TrimSpace(r.output) != "" {
		fmt.Fprintf(w, "--- cdk synth output\n%s\n---\n", strings.TrimSpace(r.output))
	}
	header := false
	for _, s := range r.stacks {
		for _, f := range s.findings {
			if !header {
				fmt.Fprintln(w, "--- findings (the FINDINGS column)")
				header = true
			}
			fmt.Fprintf(w, "%s: %s\n", s.stack.Name, f)
		}
	}
}

type tableRow struct {
	stack, resources, findings, suppressed, verdict string
}

func rows(results []*targetResult) []tableRow {
	var out []tableRow
	for _, r := range results {
		if len(r.stacks) == 0 {
			out = append(out, tableRow{fmt.Sprintf("(%s %s: nothing synthesized)", r.target.Environment, r.target.DrMode), "-", "-", "-", "FAIL"})
			continue
		}
		for _, s := range r.stacks {
			verdict := "pass"
			if len(s.findings) > 0 || r.exitCode != 0 || len(r.problems) > 0 {
				verdict = "FAIL"
			}
			out = append(out, tableRow{s.stack.Name, fmt.Sprint(s.resources), fmt.Sprint(len(s.findings)), fmt.Sprint(s.suppressed), verdict})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].stack < out[j].stack })
	return out
}

func writeTable(w io.Writer, results []*targetResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tRESOURCES\tFINDINGS\tSUPPRESSED\tVERDICT")
	for _, r := range rows(results) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.stack, r.resources, r.findings, r.suppressed, r.verdict)
	}
	tw.Flush()
}

// appendSummary writes the table as Markdown for the GitHub Actions job summary.
func appendSummary(path string, results []*targetResult, verdict string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "### Compliance gate: %s\n\n| stack | resources | findings | suppressed (nag) + waived (controls) | verdict |\n|---|--:|--:|--:|---|\n", verdict)
	for _, r := range rows(results) {
		fmt.Fprintf(f, "| %s | %s | %s | %s | %s |\n", r.stack, r.resources, r.findings, r.suppressed, r.verdict)
	}
	return nil
}

func countStacks(results []*targetResult) int {
	n := 0
	for _, r := range results {
		n += len(r.stacks)
	}
	return n
}
