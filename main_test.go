package main

// These tests drive the real, pinned CDK CLI the way an operator does: through `cdk synth` with
// --context flags. They need `make deps` (npm ci: Node 24 + the CLI).

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

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
	stdout, stderr, code = runCLIResult(repotest.CDKCLI(t), args)
	if code < 0 {
		t.Fatalf("run cdk: %s", stderr)
	}
	return stdout, stderr, code
}

// cliSlots bounds the CLI processes the tests run at once to the cores: each synth is CPU-bound
// (the CLI, jsii's Node and the app), and more of them at once only wait on each other (8 at
// once on 2 cores took ~85 s each instead of ~6 s).
var cliSlots = make(chan struct{}, runtime.NumCPU())

// runCLIResult runs the CLI; code -1 (stderr says why) when it could not run. It never stops
// the test, so goroutines may call it.
func runCLIResult(cli string, args []string) (stdout, stderr string, code int) {
	cliSlots <- struct{}{}
	defer func() { <-cliSlots }()
	cmd := exec.Command(cli, args...)
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		return o.String(), err.Error(), -1
	}
	return o.String(), e.String(), 0
}

var stackTrace = regexp.MustCompile(`(?m)^\s+at \S|^goroutine \d+|^panic:|\.go:\d+ \+0x`)

// TestCLIRejectsBadContextWithOneClearLine: bad context gets one clear line per problem, exit
// non-zero, no stack trace, nothing written. The cases marked cli go through the real CLI (what
// it does to a flag, what it prints around the app's refusal); the others are the app's own
// message, run in this process (the CLI relays the app's stderr as it is: the cli cases show it).
func TestCLIRejectsBadContextWithOneClearLine(t *testing.T) {
	type badContext struct {
		ctx  []string
		want []string
		// line: for a key, what its own problem line says (several problems in one synth).
		line map[string]string
		cli  bool
	}
	cases := map[string]badContext{
		// Every problem at once, each on its own line: one synth for several mistakes.
		"an unknown drMode and a region that is not a region name": {[]string{"drMode=bogus", "region=mars-1"},
			[]string{"2 problems"}, map[string]string{`"drMode"`: `"bogus" is not accepted; accepted: none, stateless`, `"region"`: `"mars-1"`}, false},
		"drMode=snapshot says snapshots are out of scope": {[]string{"drMode=snapshot"}, []string{`"drMode"`, "out of scope"}, nil, false},
		"an unknown environment lists the known ones":     {[]string{"environment=nope"}, []string{`"environment"`, `"nope"`, "example, prod, staging"}, nil, false},
		"a DR deploy into the primary region without the drill override": {[]string{"drMode=stateless", "region=us-east-1"},
			[]string{"allowSameRegionDrill"}, nil, false},
		// A region moves one environment's DR stack; with every environment it names none.
		"a region with matrix=all": {[]string{"matrix=all", "region=us-west-1"},
			[]string{`"region": "us-west-1" is not accepted with matrix=all`, "--context matrix=<environment> --context region=<region>"}, nil, false},
		"a DR region prod does not define, with matrix=prod": {[]string{"matrix=prod", "region=eu-west-1"},
			[]string{`"region": "eu-west-1"`, "us-east-1, us-west-2"}, nil, false},
		// The after-validation DNS stack exists only for a stack made on the night.
		"stack=dns for the primary, which owns its records": {[]string{"environment=prod", "drMode=none", "stack=dns"},
			[]string{`"stack"=dns`, "drMode=none keeps its Route 53 records in its cache stack"}, nil, false},
		"an unknown stack selection lists the stacks": {[]string{"environment=prod", "drMode=stateless", "stack=records"},
			[]string{`"stack": "records" is not a stack of this app`, "cache (default), evidence, dns"}, nil, false},
		"stack=dns with a matrix, which holds the DNS stacks already": {[]string{"matrix=all", "stack=dns"},
			[]string{"give one of them"}, nil, false},
		// Issue 11: each of these used to synthesize the PRIMARY (or the example) stack.
		"drmode in lower case, dr_mode and Environment with a capital are refused, with a did-you-mean": {
			[]string{"environment=prod", "drmode=stateless", "dr_mode=stateless", "Environment=prod"},
			[]string{"4 problems", `"drMode": is not set`},
			map[string]string{`"drmode": "stateless"`: `is not a context key`, `"drmode"`: `did you mean "drMode"`, `"dr_mode"`: `did you mean "drMode"`,
				`"Environment": "prod"`: `did you mean "environment"`}, false},
		// Through the CLI: what it does to a flag without "=", and two problems on their own lines.
		"drMode without = is dropped by the CLI, so prod refuses the missing drMode; and a bad region": {
			[]string{"environment=prod", "drMode", "region=mars-1"},
			[]string{`"drMode": is not set: environment "prod" requires it`, "PRIMARY stack", "2 problems"},
			map[string]string{`"region"`: `"mars-1"`}, true},
	}
	check := func(t *testing.T, tc badContext, out, stderr string, code int) {
		t.Helper()
		if code == 0 {
			t.Fatalf("cdk synth %v exited 0; stderr:\n%s", tc.ctx, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr)
			}
		}
		for key, w := range tc.line {
			var own string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.Contains(l, "context "+key) {
					own = l
				}
			}
			if !strings.Contains(own, w) {
				t.Errorf("the problem line of %s lacks %q:\n%s", key, w, stderr)
			}
		}
		if loc := stackTrace.FindString(stderr); loc != "" {
			t.Errorf("stderr carries a stack trace (%q):\n%s", loc, stderr)
		}
		if m, _ := filepath.Glob(filepath.Join(out, "*.template.json")); len(m) != 0 {
			t.Errorf("templates written after a validation error: %v", m)
		}
	}
	// The CLI case first (a process of its own), then the in-process ones. No t.Parallel in this
	// binary: jsii's runtime is not safe for it.
	t.Run("cli", func(t *testing.T) {
		for name, tc := range cases {
			if !tc.cli {
				continue
			}
			t.Run(name, func(t *testing.T) {
				out := t.TempDir()
				_, stderr, code := synthCLI(t, out, tc.ctx...)
				check(t, tc, out, stderr, code)
			})
		}
	})
	for name, tc := range cases {
		if tc.cli {
			continue
		}
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			stderr, code := runApp(t, out, tc.ctx...)
			check(t, tc, out, stderr, code)
		})
	}
}

// TestMain closes jsii: this test binary holds the app's packages, and jsii's runtime directory
// under TMPDIR is removed only by Close.
func TestMain(m *testing.M) {
	// A deprecated jsii API fails the in-process synths (jsii's Node starts at the first call,
	// after this): the CLI would print a deprecation warning on every operator's synth.
	os.Setenv("JSII_DEPRECATED", "fail")
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// runApp runs the app in this process as the CLI would for `cdk synth --context k=v ...`:
// cdk.json's context with the flags' keys on top, the assembly written to out, the built-in
// CloudFormation validation off. It returns the app's stderr and exit code.
func runApp(t *testing.T, out string, ctx ...string) (stderr string, code int) {
	t.Helper()
	extra := map[string]any{}
	for _, c := range ctx {
		k, v, _ := strings.Cut(c, "=")
		extra[k] = v
	}
	return inProcess(t, out, t.TempDir(), extra, false)
}

// fakeCanary is a canary asset directory for in-process synths: the template names the asset
// by its hash, and no test here deploys it, so any file named bootstrap serves.
func fakeCanary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("canary"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// inProcess runs the app's run() in this process: an App with cdk.json's context and extra on
// top, writing to out, the canary asset from canaryDir, aws-cdk-lib's built-in CloudFormation
// validation on only when validated.
func inProcess(t *testing.T, out, canaryDir string, extra map[string]any, validated bool) (stderr string, code int) {
	t.Helper()
	repotest.RequireNode(t)
	all := map[string]any{}
	for k, v := range repotest.CDKContext(t) {
		all[k] = v
	}
	for k, v := range extra {
		all[k] = v
	}
	var e bytes.Buffer
	code = run(func() awscdk.App {
		return awscdk.NewApp(&awscdk.AppProps{Context: &all, Outdir: jsii.String(out), BuiltinCloudFormationValidation: jsii.Bool(validated)})
	}, canaryDir, &e)
	return e.String(), code
}

// The runbook's own command on an environment whose drPosture is standby deploys a cache that
// takes no traffic: the synth says so, with the names it owns and the way out. The posture's
// own stack, and every stack of a stateless-posture environment, synthesize without a note.
func TestSynthNotesAStackThatIsNotThePosture(t *testing.T) {
	for name, tc := range map[string]struct {
		ctx  []string
		note bool
	}{
		"prod stateless beside its standby posture": {[]string{"environment=prod", "region=us-west-2", "drMode=stateless"}, true},
		"prod standby, its posture":                 {[]string{"environment=prod", "region=us-west-2", "drMode=standby"}, false},
		"example stateless, its posture":            {[]string{"environment=example", "drMode=stateless"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			extra := map[string]any{}
			for _, c := range tc.ctx {
				k, v, _ := strings.Cut(c, "=")
				extra[k] = v
			}
			stderr, code := inProcess(t, t.TempDir(), fakeCanary(t), extra, false)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			has := strings.Contains(stderr, "valkey-dr: NOTE: environment prod's drPosture is standby") &&
				strings.Contains(stderr, "/valkey-dr/prod/dr") && strings.Contains(stderr, `environments.prod.drPosture to "stateless"`)
			if has != tc.note {
				t.Fatalf("note %v, want %v:\n%s", has, tc.note, stderr)
			}
		})
	}
}
