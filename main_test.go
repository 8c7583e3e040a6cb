package main

// These tests drive the real, pinned CDK CLI the way an operator does: through `cdk synth` with
// --context flags. They need `make deps` (npm ci: Node 24 + the CLI).

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/cdktest"
)

func cdkCLI(t *testing.T) string {
	t.Helper()
	cdktest.RequireNode(t)
	cli, err := filepath.Abs(filepath.Join("node_modules", ".bin", "cdk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		msg := "the pinned CDK CLI is not installed: run `make deps` (npm ci)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return cli
}

func synthCLI(t *testing.T, out string, ctx ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, []string{"synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", out}, ctx...)
}

// runCLI runs the pinned CLI with --context flags appended.
func runCLI(t *testing.T, args []string, ctx ...string) (stdout, stderr string, code int) {
	t.Helper()
	for _, c := range ctx {
		args = append(args, "--context", c)
	}
	cmd := exec.Command(cdkCLI(t), args...)
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run cdk: %v", err)
	}
	return o.String(), e.String(), code
}

var stackTrace = regexp.MustCompile(`(?m)^\s+at \S|^goroutine \d+|^panic:|\.go:\d+ \+0x`)

func TestCLIRejectsBadContextWithOneClearLine(t *testing.T) {
	for name, tc := range map[string]struct {
		ctx  []string
		want []string
	}{
		"an unknown drMode names the key and the accepted values":        {[]string{"drMode=bogus"}, []string{`"drMode"`, `"bogus"`, "none, stateless"}},
		"drMode=snapshot says snapshots are out of scope":                {[]string{"drMode=snapshot"}, []string{`"drMode"`, "out of scope"}},
		"an unknown environment lists the known ones":                    {[]string{"environment=nope"}, []string{`"environment"`, `"nope"`, "example, prod, staging"}},
		"a region that is not a region name":                             {[]string{"region=mars-1"}, []string{`"region"`, `"mars-1"`}},
		"a DR deploy into the primary region without the drill override": {[]string{"drMode=stateless", "region=us-east-1"}, []string{"allowSameRegionDrill"}},
		// Issue 11: each of these used to synthesize the PRIMARY (or the example) stack.
		"drmode in lower case is refused, with a did-you-mean": {[]string{"environment=prod", "drmode=stateless"},
			[]string{`"drmode"`, `"stateless"`, "is not a context key", `did you mean "drMode"`, `"drMode": is not set`}},
		"dr_mode is refused": {[]string{"environment=prod", "dr_mode=stateless"}, []string{`"dr_mode"`, `did you mean "drMode"`}},
		"Environment with a capital is refused": {[]string{"Environment=prod", "drMode=stateless"},
			[]string{`"Environment"`, `"prod"`, `did you mean "environment"`}},
		"drMode without = is dropped by the CLI, so prod refuses the missing drMode": {[]string{"environment=prod", "drMode"},
			[]string{`"drMode": is not set: environment "prod" requires it`, "PRIMARY stack"}},
	} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			_, stderr, code := synthCLI(t, out, tc.ctx...)
			if code == 0 {
				t.Fatalf("cdk synth %v exited 0; stderr:\n%s", tc.ctx, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if loc := stackTrace.FindString(stderr); loc != "" {
				t.Errorf("stderr carries a stack trace (%q):\n%s", loc, stderr)
			}
			if m, _ := filepath.Glob(filepath.Join(out, "*.template.json")); len(m) != 0 {
				t.Errorf("templates written after a validation error: %v", m)
			}
		})
	}
}

func TestCLISynthesizesBothModesWithoutNotices(t *testing.T) {
	for _, mode := range []string{"none", "stateless"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			// Plain flags, as an operator types them: --no-notices would hide the very
			// notices this test is about.
			stdout, stderr, code := runCLI(t, []string{"synth", "--quiet", "--output", out}, "environment=example", "drMode="+mode)
			if code != 0 {
				t.Fatalf("cdk synth exited %d:\n%s%s", code, stdout, stderr)
			}
			m, _ := filepath.Glob(filepath.Join(out, "ValkeyDr-example-*.template.json"))
			// drMode=none: the primary and the forced-failover switch in the DR region.
			want := map[string][]string{"none": {"ValkeyDr-example-us-east-1-primary", "ValkeyDr-example-us-west-2-switch"},
				"stateless": {"ValkeyDr-example-us-west-2-dr"}}[mode]
			if len(m) != len(want) {
				t.Fatalf("want templates %v in %s, got %v", want, out, m)
			}
			for i, w := range want {
				if filepath.Base(m[i]) != w+".template.json" {
					t.Errorf("template %s, want %s.template.json", m[i], w)
				}
			}
			for _, noise := range []string{"end-of-life", "End-of-Life", "EOL", "feature flag", "deprecated", "WARNING"} {
				if strings.Contains(stdout+stderr, noise) {
					t.Errorf("synth output mentions %q:\n%s%s", noise, stdout, stderr)
				}
			}
		})
	}
}

// The runbook's DR command (step 2) names no stack: the app must hold exactly the DR stack, or
// `cdk deploy` would refuse ("specify which stacks") or, worse, deploy more. A primary deploy
// names its stack (drctl does) and gets the switch stack with it as a dependency.
func TestCLIRunbookDeployFindsExactlyTheDRStack(t *testing.T) {
	for name, tc := range map[string]struct {
		ctx  []string
		want []string
	}{
		"the runbook's DR deploy": {[]string{"environment=prod", "region=us-west-2", "drMode=stateless"}, []string{"ValkeyDr-prod-us-west-2-dr"}},
		"a primary deploy":        {[]string{"environment=prod", "drMode=none"}, []string{"ValkeyDr-prod-us-east-1-primary", "ValkeyDr-prod-us-west-2-switch"}},
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, []string{"ls", "--no-notices", "--no-version-reporting", "--output", t.TempDir()}, tc.ctx...)
			if code != 0 {
				t.Fatalf("cdk ls exited %d:\n%s%s", code, stdout, stderr)
			}
			got := strings.Fields(stdout)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("cdk ls: %v, want %v", got, tc.want)
			}
		})
	}
}
