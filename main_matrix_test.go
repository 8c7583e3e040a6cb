package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
)

// Issue 14 item 1: `--context matrix=all` builds every stack of the matrix in one process, and
// each one is what its own synth gives: the same stack ids, templates and cdk-nag reports.
func TestCLIMatrixSynthIsOneByOneSynthesis(t *testing.T) {
	ctx, err := drcontext.ReadFile(drcontext.FileName)
	if err != nil {
		t.Fatal(err)
	}
	cells, err := drcontext.Matrix(ctx[drcontext.KeyEnvironments])
	if err != nil {
		t.Fatal(err)
	}
	alone := map[string]string{} // file name -> content, from one synth per cell
	for _, c := range cells {
		out := t.TempDir()
		if _, stderr, code := synthCLI(t, out, "environment="+c.Environment, "drMode="+string(c.DrMode)); code != 0 {
			t.Fatalf("synth %s %s: exit %d\n%s", c.Environment, c.DrMode, code, stderr)
		}
		for name, content := range gateFiles(t, out) {
			if _, dup := alone[name]; dup {
				t.Fatalf("%s is synthesized by two cells", name)
			}
			alone[name] = content
		}
	}
	out := t.TempDir()
	if _, stderr, code := synthCLI(t, out, drcontext.KeyMatrix+"="+drcontext.MatrixAll); code != 0 {
		t.Fatalf("synth matrix=all: exit %d\n%s", code, stderr)
	}
	together := gateFiles(t, out)
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
	// Every environment's primary, switch and DR stack.
	if want := len(cells) / 2 * 3; templates != want {
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
