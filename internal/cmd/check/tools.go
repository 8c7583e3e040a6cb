package main

// After the synth: cfn-lint over every stack for its own Region, and the AWS Control Tower
// proactive controls (cfn-guard with the rules of @cdklabs/cdk-validator-cfnguard) over every
// stack. Their findings land in each stack's FINDINGS like our rules' (a waived control counts
// in SUPPRESSED); a tool that cannot run fails the gate, except a missing cfn-lint outside CI,
// which is skipped loudly (it is a Python tool that npm ci does not bring).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/valkey-dr/valkey-dr/compliance"
	drexec "github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// The tools' defaults (flags -cfn-lint and -guard); the tests point them at stand-ins.
var (
	defaultCfnLint  = "cfn-lint"
	defaultGuardDir = compliance.GuardPackageDir
)

// toolTimeout bounds one cfn-lint or cfn-guard process (a hung one fails the gate by name).
const toolTimeout = 5 * time.Minute

// lintChunk is the most templates one cfn-lint process gets: a Region's templates are split so
// that both cores work (cfn-lint spends about a second of CPU per template).
const lintChunk = 8

// inCI is true under CI=true, where every tool of the gate is required.
func inCI() bool { return os.Getenv("CI") == "true" }

// toolRun is one process of the pool.
type toolRun struct {
	line   drexec.Cmd
	region string // cfn-lint: the Region linted for
	out    bytes.Buffer
	errOut bytes.Buffer
	code   int
	err    error
}

// tools runs cfn-lint and cfn-guard over every synthesized stack of results, attaches their
// findings to the stacks, and returns the gate-wide problems (a tool that failed, a waiver
// that hides nothing) and a line that says what ran.
func tools(o options, results []*targetResult, stdout io.Writer) (problems []string, ran string) {
	start := time.Now()
	byTemplate := map[string]*stackResult{} // template base name -> row
	var templates []string
	types, ids := map[string]bool{}, map[string]bool{}
	byRegion := map[string][]string{}
	for _, r := range results {
		for _, s := range r.stacks {
			byTemplate[filepath.Base(s.stack.TemplatePath)] = s
			templates = append(templates, s.stack.TemplatePath)
			for id, res := range s.stack.Template.Resources {
				types[res.Type] = true
				ids[id] = true
			}
			region, ok := compliance.RegionOf(s.stack.Environment)
			if !ok {
				s.findings = append(s.findings, fmt.Sprintf("cfn-lint: the stack has no Region (environment %q): it cannot be linted for one", s.stack.Environment))
				continue
			}
			byRegion[region] = append(byRegion[region], s.stack.TemplatePath)
		}
	}
	if len(templates) == 0 {
		return nil, "cfn-lint and Control Tower controls: no stack to check"
	}
	sort.Strings(templates)

	var runs []*toolRun
	lintNote, lintProblem := checkCfnLint(o.cfnLint)
	if lintProblem != "" {
		if inCI() {
			problems = append(problems, lintProblem)
		} else {
			fmt.Fprintf(stdout, "\n!! cfn-lint SKIPPED: %s\n!! the gate lints every stack for its Region with it in CI; install it here: %s\n\n", lintProblem, compliance.CfnLintInstall)
			lintNote = "cfn-lint SKIPPED (not installed here; required in CI)"
		}
	} else {
		var per []string
		for _, region := range slices.Sorted(maps.Keys(byRegion)) {
			ts := byRegion[region]
			sort.Strings(ts)
			per = append(per, fmt.Sprintf("%s %d", region, len(ts)))
			for i := 0; i < len(ts); i += lintChunk {
				chunk := ts[i:min(i+lintChunk, len(ts))]
				runs = append(runs, &toolRun{region: region, line: drexec.Cmd{Name: o.cfnLint, Args: compliance.CfnLintArgs(region, chunk), Timeout: toolTimeout}})
			}
		}
		lintNote += " per Region (" + strings.Join(per, ", ") + " stacks)"
	}

	guardNote := "Control Tower controls"
	bin, rulesDir, err := compliance.GuardPaths(o.guardDir, runtime.GOOS, runtime.GOARCH)
	var guardRuns []*toolRun
	if err != nil {
		problems = append(problems, "Control Tower controls: "+err.Error())
	} else if rules, err := compliance.SelectGuardRules(rulesDir, types); err != nil {
		problems = append(problems, "Control Tower controls: reading the rules: "+err.Error())
	} else {
		evaluated := 0
		for _, r := range rules {
			if r.Evaluates {
				evaluated++
			}
		}
		guardNote = fmt.Sprintf("%d Control Tower controls on our resource types, %d rule files (%s)", evaluated, len(rules), guardVersion(o.guardDir))
		half := (len(templates) + 1) / 2
		for _, chunk := range [][]string{templates[:half], templates[half:]} {
			if len(chunk) > 0 {
				r := &toolRun{line: drexec.Cmd{Name: bin, Args: compliance.GuardArgs(rules, chunk), Timeout: toolTimeout}}
				guardRuns = append(guardRuns, r)
				runs = append(runs, r)
			}
		}
	}

	pool(runs)

	for _, r := range runs {
		if r.region == "" {
			continue
		}
		// 0 clean; 2, 4, 8 and their sums: matches; 1, 16, 32: cfn-lint failed.
		if r.err != nil || r.code&^(2|4|8) != 0 {
			problems = append(problems, fmt.Sprintf("cfn-lint failed (exit %d, %v): %s\n%s", r.code, r.err, r.line, tail(r.errOut.String())))
			continue
		}
		findings, err := compliance.ParseCfnLint(r.out.Bytes(), r.region)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, f := range findings {
			if s, ok := byTemplate[filepath.Base(f.Template)]; ok && f.Fails() {
				s.findings = append(s.findings, f.String()+at(s, f.LogicalID()))
			}
		}
	}

	var all []compliance.ControlFinding
	guardOK := len(guardRuns) > 0
	for _, r := range guardRuns {
		if r.err != nil || (r.code != 0 && r.code != compliance.GuardExitFailed) {
			guardOK = false
			problems = append(problems, fmt.Sprintf("cfn-guard failed (exit %d, %v): %s\n%s", r.code, r.err, r.line.Name, tail(r.errOut.String())))
			continue
		}
		byTmpl, err := compliance.ParseGuard(r.out.Bytes())
		if err != nil {
			guardOK = false
			problems = append(problems, err.Error())
			continue
		}
		for tmpl, fs := range byTmpl {
			s, ok := byTemplate[tmpl]
			if !ok {
				continue
			}
			for _, f := range fs {
				all = append(all, f)
				if _, waived := compliance.WaivedControl(f); waived {
					s.suppressed++
					continue
				}
				s.findings = append(s.findings, f.String()+at(s, f.LogicalID)+
					"\n  fix: fix the resource, or waive the control with its reason in compliance/controls.go (ControlWaivers)")
			}
		}
	}
	if guardOK {
		for _, w := range compliance.UnusedControlWaivers(all, ids) {
			problems = append(problems, fmt.Sprintf("the waiver of %s on %s (%s) hides nothing: remove it from compliance/controls.go (ControlWaivers) and README.md",
				w.Control, w.On, w.Resource))
		}
	}
	ran = fmt.Sprintf("%s, %s; %s", lintNote, guardNote, time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintf(stdout, "== %s\n", ran)
	return problems, ran
}

// at names the construct of a resource ("\n  at:  <path>"), when the template records it.
func at(s *stackResult, logicalID string) string {
	if r, ok := s.stack.Template.Resources[logicalID]; ok {
		if p, ok := r.Metadata["aws:cdk:path"].(string); ok {
			return "\n  at:  " + p
		}
	}
	return ""
}

// checkCfnLint says which cfn-lint runs ("cfn-lint 1.51.0"), or why it cannot (not installed,
// another version) with the install command.
func checkCfnLint(cli string) (note, problem string) {
	if cli == "" {
		return "", "no cfn-lint given (-cfn-lint \"\")"
	}
	path, err := exec.LookPath(cli)
	if err != nil {
		return "", fmt.Sprintf("cfn-lint %s is not installed (%v): install it with: %s", compliance.CfnLintVersion, err, compliance.CfnLintInstall)
	}
	var out bytes.Buffer
	res, err := drexec.Exec{}.Run(context.Background(), drexec.Cmd{Name: path, Args: []string{"--version"}, Stdout: &out, Stderr: &out, Timeout: time.Minute})
	v, ok := compliance.ParseCfnLintVersion(out.String())
	if err != nil || res.ExitCode != 0 || !ok {
		return "", fmt.Sprintf("%s --version failed (exit %d, %v): %s; install cfn-lint with: %s", path, res.ExitCode, err, tail(out.String()), compliance.CfnLintInstall)
	}
	if v != compliance.CfnLintVersion {
		return "", fmt.Sprintf("%s is cfn-lint %s, the gate is pinned to %s (Regions' schemas and rules differ between versions): install it with: %s",
			path, v, compliance.CfnLintVersion, compliance.CfnLintInstall)
	}
	return "cfn-lint " + v, ""
}

// guardVersion names the package and its cfn-guard ("@cdklabs/cdk-validator-cfnguard 0.0.62,
// cfn-guard 3.1.1").
func guardVersion(dir string) string {
	var pkg, guard struct {
		Version string `json:"version"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "package.json"))
	_ = json.Unmarshal(b, &pkg)
	b, _ = os.ReadFile(filepath.Join(dir, "guard-version.json"))
	_ = json.Unmarshal(b, &guard)
	return fmt.Sprintf("%s %s, cfn-guard %s", compliance.GuardPackage, pkg.Version, guard.Version)
}

// pool runs the processes, as many at a time as there are CPUs.
func pool(runs []*toolRun) {
	sem := make(chan struct{}, max(1, runtime.NumCPU()))
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r.line.Stdout, r.line.Stderr = &r.out, &r.errOut
			res, err := drexec.Exec{}.Run(context.Background(), r.line)
			r.code, r.err = res.ExitCode, err
		}()
	}
	wg.Wait()
}

// tail is the end of a tool's output, for a failure message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}
