package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
)

// oneSynth is one `cdk synth` as an operator or a pipeline types it, and what it left.
type oneSynth struct {
	name  string   // subtest name
	ctx   []string // --context values
	plain bool     // no --no-notices: the synth prints whatever notices the CLI has
	// validated: aws-cdk-lib's built-in CloudFormation validation runs (an operator's synth and
	// deploy, the gate); the other one-by-one synths skip it (--no-validation), which changes
	// no file the comparison reads and saves ~1.3 s of CPU each.
	validated bool
	// want: the stacks `cdk deploy` finds in its cloud assembly, in order (checked with cdk ls);
	// nil: not checked.
	want []string
	out  string // its cloud assembly
}

// TestCLISynthesis runs every synth of the matrix one by one through the real CLI, as operators
// and make check's -one-by-one type them, and the one-process matrix synth beside them (issue 14
// item 1), two at a time (each a process of its own), then checks:
//   - the runbook's DR command (step 2, which names no stack) builds exactly the DR stack, so
//     `cdk deploy` neither refuses nor deploys more; a primary synth its switch stack with it;
//   - the example synths an operator starts with print no end-of-life, feature-flag or
//     deprecation notice;
//   - `--context matrix=all` writes the same files, with the same templates and cdk-nag reports.
//
// Version reporting is on everywhere (no --no-version-reporting), as in an operator's synth.
func TestCLISynthesis(t *testing.T) {
	ctx, err := drcontext.ReadFile(drcontext.FileName)
	if err != nil {
		t.Fatal(err)
	}
	cells, err := drcontext.Matrix(ctx[drcontext.KeyEnvironments])
	if err != nil {
		t.Fatal(err)
	}
	var synths []*oneSynth
	envs := map[string]bool{}
	for _, c := range cells {
		cfg, err := drcontext.LoadFile(drcontext.FileName, drcontext.Request{Environment: c.Environment, DrMode: c.DrMode})
		if err != nil {
			t.Fatal(err)
		}
		example, prod := c.Environment == drcontext.DefaultEnvironment, c.Environment == "prod"
		s := &oneSynth{name: c.Environment + "-" + string(c.DrMode), plain: example, validated: example || prod,
			ctx: []string{"environment=" + c.Environment, "drMode=" + string(c.DrMode)}}
		if prod {
			// What the runbook's deploy (step 2) and a primary deploy would find.
			s.want = []string{cfg.StackID()}
			if cfg.HasSwitchStack() {
				s.want = append(s.want, cfg.SwitchStackID())
			}
		}
		if c.DrMode == drcontext.DRMode().Name {
			// The runbook's command names the DR region; the matrix takes the default one.
			s.ctx = append(s.ctx, "region="+c.Region)
		}
		synths = append(synths, s)
		if !envs[c.Environment] {
			envs[c.Environment] = true
			synths = append(synths, &oneSynth{name: c.Environment + "-evidence",
				ctx: []string{"environment=" + c.Environment, drcontext.KeyStack + "=" + drcontext.StackEvidence}})
		}
	}
	matrix := &oneSynth{name: "matrix", validated: true, ctx: []string{drcontext.KeyMatrix + "=" + drcontext.MatrixAll}}
	root := t.TempDir() // the assemblies outlive the subtests that write them
	t.Run("synth", func(t *testing.T) {
		for _, s := range append(synths, matrix) {
			s.out = filepath.Join(root, s.name)
			t.Run(s.name, func(t *testing.T) {
				t.Parallel() // each synth is a CLI process of its own: no jsii in this one
				args := []string{"synth", "--quiet", "--output", s.out}
				if !s.plain {
					args = append(args, "--no-notices")
				}
				if !s.validated {
					args = append(args, "--no-validation")
				}
				stdout, stderr, code := runCLI(t, args, s.ctx...)
				if code != 0 {
					t.Fatalf("cdk synth %v exited %d:\n%s%s", s.ctx, code, stdout, stderr)
				}
				for _, noise := range []string{"end-of-life", "End-of-Life", "EOL", "feature flag", "deprecated", "WARNING"} {
					if strings.Contains(stdout+stderr, noise) {
						t.Errorf("cdk synth %v mentions %q:\n%s%s", s.ctx, noise, stdout, stderr)
					}
				}
			})
		}
	})
	if t.Failed() {
		return
	}
	// What `cdk deploy` would find: `cdk ls` of the synthesized assembly (no second synth).
	cli := cdkCLI(t)
	var lsWG sync.WaitGroup
	lsErr := make([]string, len(synths))
	for i, s := range synths {
		if s.want == nil {
			continue
		}
		lsWG.Add(1)
		go func() {
			defer lsWG.Done()
			stdout, stderr, code := runCLIResult(cli, []string{"ls", "--no-notices", "--app", s.out, "--output", s.out})
			got := strings.Fields(stdout)
			if code != 0 || strings.Join(got, " ") != strings.Join(s.want, " ") {
				lsErr[i] = fmt.Sprintf("cdk ls of cdk synth %v: exit %d, stacks %v, want %v\n%s", s.ctx, code, got, s.want, stderr)
			}
		}()
	}
	lsWG.Wait()
	for _, e := range lsErr {
		if e != "" {
			t.Error(e)
		}
	}

	alone := map[string]string{} // file name -> content, from the one-by-one synths
	for _, s := range synths {
		for name, content := range gateFiles(t, s.out) {
			if _, dup := alone[name]; dup {
				t.Fatalf("%s is synthesized by two one-by-one synths", name)
			}
			alone[name] = content
		}
	}
	together := gateFiles(t, matrix.out)
	if got, want := sortedKeys(together), sortedKeys(alone); !reflect.DeepEqual(got, want) {
		t.Fatalf("matrix synth wrote\n  %v\none-by-one synthesis wrote\n  %v", got, want)
	}
	var templates int
	for name, want := range alone {
		if strings.HasSuffix(name, ".template.json") {
			templates++
		}
		var a, b any
		if err := json.Unmarshal([]byte(want), &a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := json.Unmarshal([]byte(together[name]), &b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs between the matrix synth and its own synth", name)
		}
	}
	// Every environment's primary, switch, DR and evidence stack.
	if want := len(envs) * 4; templates != want {
		t.Errorf("%d templates, want %d", templates, want)
	}
}

// gateFiles are the files of a cloud assembly the gate reads per stack: templates and cdk-nag
// JSON reports, by file name.
func gateFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, pattern := range []string{"*.template.json", "*-NagReport.json"} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(m)] = string(b)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
