package compliance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

func TestParseGuardNamesTheControlAndTheResource(t *testing.T) {
	report := `[{"name": "/out/ValkeyDr-x-evidence.template.json", "status": "FAIL", "not_compliant": [
	  {"Rule": {"name": "kms_check", "messages": {"custom_message": null}, "checks": [
	    {"Rule": {"name": "check", "messages": {"custom_message": "\n   [CT.KMS.PR.3]: Require an AWS KMS key policy to limit grants\n   [FIX]: Deny."},
	      "checks": [{"Clause": {"Unary": {"check": {"UnResolved": {"value": {"traversed_to": {"path": "/Resources/Key1/Properties/KeyPolicy/Statement/0"}}}}}}},
	                 {"Clause": {"Unary": {"check": {"UnResolved": {"value": {"traversed_to": {"path": "/Resources/Key1/Properties/KeyPolicy/Statement/1"}}}}}}}]}}]}}]},
	  {"name": "/out/ValkeyDr-x-dns.template.json", "status": "SKIP", "not_compliant": []}]`
	got, err := ParseGuard([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	want := []ControlFinding{{Control: "CT.KMS.PR.3", Title: "Require an AWS KMS key policy to limit grants", Template: "ValkeyDr-x-evidence.template.json", LogicalID: "Key1"}}
	if len(got) != 1 || len(got["ValkeyDr-x-evidence.template.json"]) != 1 || got["ValkeyDr-x-evidence.template.json"][0] != want[0] {
		t.Errorf("got %+v, want one finding %+v", got, want[0])
	}
	if _, err := ParseGuard([]byte("cfn-guard: error")); err == nil {
		t.Error("a report that is not JSON must be an error")
	}
}

func TestParseCfnLint(t *testing.T) {
	report := `[{"Filename": "/o/A.template.json", "Level": "Error", "Message": "Additional properties are not allowed ('Tags' was unexpected)",
	  "Location": {"Path": ["Resources", "Dash", "Properties", "Tags"]}, "Rule": {"Id": "E3002"}},
	  {"Filename": "/o/A.template.json", "Level": "Informational", "Message": "fyi", "Location": {"Path": ["Resources", "X"]}, "Rule": {"Id": "I3011"}}]`
	got, err := ParseCfnLint([]byte(report), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Fails() || got[1].Fails() || got[0].LogicalID() != "Dash" {
		t.Fatalf("got %+v: want the error to fail (on Dash) and the informational match not to", got)
	}
	if s := got[0].String(); s != "cfn-lint E3002 (error, us-east-1) Resources/Dash/Properties/Tags: Additional properties are not allowed ('Tags' was unexpected)" {
		t.Errorf("String() = %q", s)
	}
	if v, ok := ParseCfnLintVersion("cfn-lint 1.51.0\n"); !ok || v != "1.51.0" {
		t.Errorf("version %q %v", v, ok)
	}
	for env, want := range map[string]string{"aws://111111111111/us-east-1": "us-east-1", "aws://unknown-account/unknown-region": "", "": ""} {
		if got, _ := RegionOf(env); got != want {
			t.Errorf("RegionOf(%q) = %q, want %q", env, got, want)
		}
	}
}

// tool returns a pinned tool's path, or skips the test where it is not installed (outside CI:
// under CI=true a missing tool fails the test, as it fails the gate).
func tool(t *testing.T, path, install string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (CI=true requires it): %s", path, install)
	}
	t.Skipf("%s is not installed: %s", path, install)
}

// goldens are the stacks package's golden templates: every stack kind of every environment.
func goldens(t *testing.T) []string {
	t.Helper()
	g, err := filepath.Glob(filepath.Join(repotest.RepoRoot(t), "stacks", "testdata", "*.json"))
	if err != nil || len(g) == 0 {
		t.Fatalf("no golden templates (%v)", err)
	}
	return g
}

// TestControlWaiversMatchTheFindings runs the Control Tower controls (the pinned package's
// cfn-guard and rules) over the golden templates: every failing control is waived, every
// waiver hides a finding, and docs/compliance.md lists each control evaluated and docs/reference.md each waiver with its
// reason, word for word.
func TestControlWaiversMatchTheFindings(t *testing.T) {
	root := repotest.RepoRoot(t)
	pkg := filepath.Join(root, GuardPackageDir)
	tool(t, pkg, "make deps (npm ci)")
	bin, rulesDir, err := GuardPaths(pkg, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	templates := goldens(t)
	types, ids := map[string]bool{}, map[string]bool{}
	for _, p := range templates {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl Template
		if err := json.Unmarshal(b, &tmpl); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for id, r := range tmpl.Resources {
			types[r.Type], ids[id] = true, true
		}
	}
	rules, err := SelectGuardRules(rulesDir, types)
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rules selected (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, GuardArgs(rules, templates)...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != GuardExitFailed {
		t.Fatalf("cfn-guard: %v\n%s", err, stderr.String())
	}
	byTemplate, err := ParseGuard(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var all []ControlFinding
	for _, fs := range byTemplate {
		for _, f := range fs {
			all = append(all, f)
			if _, ok := WaivedControl(f); !ok {
				t.Errorf("%s fails %s on %s (%s), neither fixed nor waived in ControlWaivers", f.Template, f.Control, f.LogicalID, f.Title)
			}
		}
	}
	for _, w := range ControlWaivers {
		if !ids[w.Resource] {
			t.Errorf("the waiver of %s names %s, which no golden template holds: remove it", w.Control, w.Resource)
		}
	}
	for _, w := range UnusedControlWaivers(all, ids) {
		t.Errorf("the waiver of %s on %s hides nothing: remove it", w.Control, w.Resource)
	}

	// The controls evaluated are a computed fact, stated in the gate's prose; the waivers are
	// generated into docs/reference.md (compliance/gate's TestReferenceIsGenerated).
	b, err := os.ReadFile(filepath.Join(root, "docs", "compliance.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var evaluated []string
	for _, r := range rules {
		if r.Evaluates && r.Control != "" && !strings.Contains(doc, "`"+r.Control+"`") {
			evaluated = append(evaluated, r.Control)
		}
	}
	if len(evaluated) > 0 {
		sort.Strings(evaluated)
		t.Errorf("docs/compliance.md does not list the Control Tower controls evaluated on our stacks: %s", strings.Join(evaluated, ", "))
	}
}

// TestThePrimaryPassesCfnLintInUsEast1 lints the primaries' golden templates for us-east-1
// with the pinned cfn-lint: the Region whose registry schema of AWS::CloudWatch::Dashboard
// has no Tags (E3002 while the dashboard was tagged).
func TestThePrimaryPassesCfnLintInUsEast1(t *testing.T) {
	path, err := exec.LookPath("cfn-lint")
	if err != nil {
		path = filepath.Join(t.TempDir(), "cfn-lint") // not installed: tool() skips or fails
	}
	tool(t, path, CfnLintInstall)
	root := repotest.RepoRoot(t)
	templates := []string{filepath.Join(root, "stacks", "testdata", "prod-none.json"), filepath.Join(root, "stacks", "testdata", "example-none.json")}
	if v, _ := exec.Command(path, "--version").Output(); !strings.Contains(string(v), "cfn-lint "+CfnLintVersion) {
		t.Skipf("%s is %s, not the pinned %s", path, strings.TrimSpace(string(v)), CfnLintVersion)
	}
	out, err := exec.Command(path, CfnLintArgs("us-east-1", templates)...).Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("cfn-lint: %v", err)
	}
	findings, err := ParseCfnLint(out, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Fails() {
			t.Errorf("%s: %s", filepath.Base(f.Template), f)
		}
	}
}
