package compliance_test

// The gate through the real, pinned CDK CLI, as CI and an operator meet it. Two layers stop a
// bad stack: context validation (cdk.json is refused before anything is built) and, for what
// only code can get wrong, the synth-time rules. Each test writes a project directory of its
// own (a cdk.json with the repository's context and an "app" pointing at a binary the test
// built) and runs `cdk synth` there. They need `make deps` (npm ci: Node 24 + the CLI).

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

// built holds each main package build compiles, once per test binary.
var built struct {
	sync.Mutex
	bins map[string]string // package -> binary
	err  map[string]error
}

// build compiles a main package of this module into .build/test/compliance (once per run;
// relinked only when it changed: a link of the 99 MB app costs ~2 s of CPU).
func build(t *testing.T, pkg string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if bin, ok := built.bins[pkg]; ok {
		return bin
	}
	if err, ok := built.err[pkg]; ok {
		t.Fatal(err)
	}
	if built.bins == nil {
		built.bins, built.err = map[string]string{}, map[string]error{}
	}
	bin, err := repotest.Build("compliance", filepath.Base(pkg), pkg, nil)
	if err != nil {
		built.err[pkg] = err
		t.Fatal(err)
	}
	built.bins[pkg] = bin
	return bin
}

// theApp is the CDK app as the CLI runs it: the cdk.json build step (scripts/build-app, a no-op
// when nothing changed and serialized with the other synths' build steps) and its binary.
func theApp(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(repotest.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "build-app"))
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-app: %v\n%s", err, out)
	}
	return filepath.Join(root, ".build", "valkey-dr-app")
}

// cliSlots bounds the CLI processes the tests run at once to the cores: each synth is
// CPU-bound, and more at once only wait on each other.
var cliSlots = make(chan struct{}, runtime.NumCPU())

// project writes a CDK project directory: cdk.json with app and the repository's context,
// after edit changed it.
func project(t *testing.T, app string, edit func(ctx map[string]any)) string {
	t.Helper()
	ctx := repotest.CDKContext(t)
	if edit != nil {
		edit(ctx)
	}
	b, err := json.MarshalIndent(map[string]any{"app": app, "context": ctx}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cdk.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// synthIn runs `cdk synth` in a project directory.
func synthIn(t *testing.T, dir string, ctx ...string) (output string, code int) {
	t.Helper()
	args := []string{"synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", filepath.Join(dir, "cdk.out")}
	for _, c := range ctx {
		if strings.HasPrefix(c, "--") { // a CLI flag, not a context value
			args = append(args, c)
			continue
		}
		args = append(args, "--context", c)
	}
	cmd := exec.Command(repotest.CDKCLI(t), args...)
	cliSlots <- struct{}{}
	defer func() { <-cliSlots }()
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run cdk: %v", err)
	}
	return out.String(), 0
}

var goStackTrace = regexp.MustCompile(`(?m)^goroutine \d+|^panic:|\.go:\d+ \+0x`)

// synthFails runs the gate's synth of prod's DR stack in proj: it must fail, saying each of want.
func synthFails(t *testing.T, proj string, want ...string) string {
	t.Helper()
	out, code := synthIn(t, proj, "environment=prod", "drMode=stateless")
	if code == 0 {
		t.Fatalf("cdk synth exited 0:\n%s", out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	return out
}

func TestCLIContextValidationRefusesProdWithoutCMKBeforeTheRules(t *testing.T) {
	t.Parallel() // CLI processes only: this test binary never starts jsii
	// Layer 1. The rules would catch this too (VDR-007), but an operator gets the earlier,
	// more precise message: the cdk.json key to set.
	app := theApp(t)
	proj := project(t, app, func(ctx map[string]any) {
		envs := ctx["environments"].(map[string]any)
		region := envs["prod"].(map[string]any)["regions"].(map[string]any)["us-west-2"].(map[string]any)
		delete(region, "kmsKeyArn")
	})
	out := synthFails(t, proj, "environments.prod.regions.us-west-2.kmsKeyArn", "customer-managed", "Nothing was synthesized")
	if strings.Contains(out, "VDR-") {
		t.Errorf("the rules ran although context validation failed:\n%s", out)
	}
}

func TestCLIRulesFailTheSynthOnWhatOnlyCodeCanBreak(t *testing.T) {
	t.Parallel() // CLI processes only: this test binary never starts jsii
	// Layer 2: cdk.json is valid; the stack is broken in code, three ways in one synth (each
	// rule reports on its own; one synth instead of three).
	cases := map[string]struct {
		defect string
		want   []string
	}{
		"prod with termination protection turned off": {"termination-protection", []string{
			compliance.RuleProdTermination + " ", "ValkeyDr-prod-us-west-2-dr", "Suggested fix: " + compliance.RuleByID(compliance.RuleProdTermination).Fix}},
		"prod without its CMK": {"kms", []string{
			compliance.RuleProdKMS + " ", "ValkeyDr-prod-us-west-2-dr/SessionCache/Cache", "Suggested fix: " + compliance.RuleByID(compliance.RuleProdKMS).Fix}},
		"an open CIDR: our rule and cdk-nag's both fire": {"open-cidr", []string{
			compliance.RuleNoOpenCIDR + " ", "ValkeyDr-prod-us-west-2-dr/SessionCache/SecurityGroup", "AwsSolutions-EC23"}},
	}
	var defects []string
	for _, tc := range cases {
		defects = append(defects, tc.defect)
	}
	sort.Strings(defects)
	// And the defect only aws-cdk-lib's built-in validation sees (its test below): the inner
	// loops' synth (--no-validation) skips exactly that and still runs every rule.
	defects = append(defects, "cfn-schema")
	proj := project(t, build(t, "./compliance/testdata/brokenapp")+" -break "+strings.Join(defects, ","), nil)
	out, code := synthIn(t, proj, "environment=prod", "drMode=stateless", "--no-validation")
	if code == 0 {
		t.Fatalf("cdk synth exited 0:\n%s", out)
	}
	if strings.Contains(out, "SnapshotRetentionDays") || strings.Contains(out, "CloudFormation Validate") {
		t.Errorf("with --no-validation the built-in CloudFormation validation ran:\n%s", out)
	}
	if loc := goStackTrace.FindString(out); loc != "" {
		t.Errorf("output carries a Go stack trace (%q):\n%s", loc, out)
	}
	// The report is in cdk.out for the pipeline to publish.
	rep, err := os.ReadFile(filepath.Join(proj, "cdk.out", "validation-report.json"))
	if err != nil || !strings.Contains(string(rep), compliance.PluginName) {
		t.Errorf("cdk.out/validation-report.json does not record the violations (%v)", err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// Issue 14 item 2: aws-cdk-lib's built-in CloudFormation validation runs in the gate's synth
// (make check, CI, the kit build, and every deploy: no --no-validation there) and refuses a
// template with a property CloudFormation does not have, which neither our rules nor cdk-nag
// look at. The inner loops' synth (--no-validation: drill, `make synth`, dr-activate's routing
// before) skips exactly that and still runs every rule (TestCLIRulesFailTheSynthOnWhatOnlyCodeCanBreak
// synthesizes this defect with the rules' defects and --no-validation).
func TestCLIGateKeepsTheBuiltInCloudFormationValidation(t *testing.T) {
	t.Parallel() // CLI processes only: this test binary never starts jsii
	app := build(t, "./compliance/testdata/brokenapp")
	proj := project(t, app+" -break cfn-schema", nil)
	out := synthFails(t, proj, "SnapshotRetentionDays", "CloudFormation Validate", "ValkeyDr-prod-us-west-2-dr/SessionCache/Cache")
	if strings.Contains(out, "VDR-") || strings.Contains(out, "AwsSolutions-") {
		t.Errorf("a rule of ours or of cdk-nag fired too: the defect is not one only the built-in validation sees:\n%s", out)
	}
	// With --no-validation (the inner loops' synth) the same defect is not reported:
	// TestCLIRulesFailTheSynthOnWhatOnlyCodeCanBreak synthesizes it among the rules' defects.
}
