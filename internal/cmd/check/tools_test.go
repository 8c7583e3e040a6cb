package main

// cfn-lint and the Control Tower controls in the gate (tools.go), against stand-ins: a
// cfn-lint that answers for one Region, a cfn-guard package whose binary prints a prepared
// report. The real tools run in `make check` and in compliance's tests.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/compliance"
)

// fakeCfnLint prints $FAKE_CFN_LINT_DIR/<region>.json (exit 2: an error) or [] (exit 0).
const fakeCfnLint = `#!/bin/sh
[ "$1" = --version ] && { echo "cfn-lint ${FAKE_CFN_LINT_VERSION:-` + compliance.CfnLintVersion + `}"; exit 0; }
region=""
while [ $# -gt 0 ]; do [ "$1" = --regions ] && region="$2"; shift; done
f="$FAKE_CFN_LINT_DIR/$region.json"
if [ -f "$f" ]; then cat "$f"; exit 2; fi
echo "[]"
`

// fakeGuard prints $FAKE_GUARD_REPORT (exit 19) when it names a template of this run, else [].
const fakeGuard = `#!/bin/sh
if [ -n "$FAKE_GUARD_REPORT" ]; then
  for a in "$@"; do case "$a" in *ValkeyDr-example-evidence.template.json) cat "$FAKE_GUARD_REPORT"; exit 19 ;; esac; done
fi
echo "[]"
`

// TestMain points the gate's tools at the stand-ins for every test of the package (main_test.go's
// fixtures too: they must not depend on what is installed here).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "check-tools")
	if err != nil {
		panic(err)
	}
	platform := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	files := map[string]string{
		"cfn-lint": fakeCfnLint,
		filepath.Join("guard", "bin", platform, arch, "cfn-guard"):                                fakeGuard,
		filepath.Join("guard", "rules", "control-tower", "cfn-guard", "s3", "ct-s3-pr-2.guard"):   "# [CT.S3.PR.2]: logging\nlet b = Resources.*[ Type == 'AWS::S3::Bucket' ]\n",
		filepath.Join("guard", "rules", "control-tower", "cfn-guard", "sqs", "ct-sqs-pr-1.guard"): "# [CT.SQS.PR.1]\nlet q = Resources.*[ Type == 'AWS::SQS::Queue' ]\n",
		filepath.Join("guard", "package.json"):                                                    `{"version": "0.0.0-test"}`,
		filepath.Join("guard", "guard-version.json"):                                              `{"version": "3.1.1"}`,
	}
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			panic(err)
		}
	}
	defaultCfnLint, defaultGuardDir = filepath.Join(dir, "cfn-lint"), filepath.Join(dir, "guard")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// guardReport is cfn-guard's structured report for the evidence template: the waived access-log
// controls, plus extra failing controls given as control -> logical id.
func guardReport(extra map[string]string) string {
	var checks []string
	failing := map[string]string{}
	for _, w := range compliance.ControlWaivers {
		failing[w.Control+" "+w.Resource] = w.Control
	}
	for c, id := range extra {
		failing[c+" "+id] = c
	}
	for k, c := range failing {
		id := strings.Fields(k)[1]
		checks = append(checks, fmt.Sprintf(`{"Rule": {"name": "r", "messages": {"custom_message": "\n [%s]: Require something\n [FIX]: do it"},
		  "checks": [{"Clause": {"Unary": {"check": {"UnResolved": {"value": {"traversed_to": {"path": "/Resources/%s/Properties/X"}}}}}}}]}}`, c, id))
	}
	return `[{"name": "/x/ValkeyDr-example-evidence.template.json", "status": "FAIL", "not_compliant": [` + strings.Join(checks, ",") + `]}]`
}

func TestCheckLintsEachStackForItsRegion(t *testing.T) {
	f := newFixture(t)
	lint := t.TempDir()
	t.Setenv("FAKE_CFN_LINT_DIR", lint)
	// The fixture's stacks are all in us-west-2: a finding for us-east-1 is never asked for.
	f.write(t, "lint-unused", "")
	for region, id := range map[string]string{"us-west-2": "Param", "us-east-1": "Other"} {
		report := `[{"Filename": "` + filepath.Join(f.root, "cdk.out", "matrix", dr+".template.json") + `", "Level": "Error",
		  "Message": "Additional properties are not allowed ('Tags' was unexpected)", "Location": {"Path": ["Resources", "` + id + `", "Properties", "Tags"]},
		  "Rule": {"Id": "E3002"}}]`
		if err := os.WriteFile(filepath.Join(lint, region+".json"), []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, code := f.run(t)
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	for _, w := range []string{"cfn-lint E3002 (error, us-west-2) Resources/Param/Properties/Tags", dr + ": cfn-lint", "cfn-lint " + compliance.CfnLintVersion + " per Region (us-west-2 5 stacks)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "us-east-1)") {
		t.Errorf("a template was linted for a Region not its own:\n%s", out)
	}
}

func TestCheckWithoutCfnLint(t *testing.T) {
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			f := newFixture(t)
			out, code := f.run(t, "-cfn-lint", filepath.Join(t.TempDir(), "no-cfn-lint"))
			if ci == "true" {
				// Required in CI: the gate fails with the install command.
				if code != 1 || !strings.Contains(out, "is not installed") || !strings.Contains(out, compliance.CfnLintInstall) || !strings.Contains(out, "compliance gate: FAIL") {
					t.Errorf("CI without cfn-lint: exit %d, want 1 with %q:\n%s", code, compliance.CfnLintInstall, out)
				}
				return
			}
			// Elsewhere: skipped, loudly, and the rest of the gate still decides.
			if code != 0 || !strings.Contains(out, "!! cfn-lint SKIPPED") || !strings.Contains(out, compliance.CfnLintInstall) || !strings.Contains(out, "cfn-lint SKIPPED (not installed here; required in CI)") {
				t.Errorf("without cfn-lint outside CI: exit %d, want 0 and a loud skip:\n%s", code, out)
			}
		})
	}
}

func TestCheckRefusesAnotherCfnLintVersion(t *testing.T) {
	t.Setenv("CI", "true")
	t.Setenv("FAKE_CFN_LINT_VERSION", "1.2.3")
	f := newFixture(t)
	out, code := f.run(t)
	if code != 1 || !strings.Contains(out, "is cfn-lint 1.2.3, the gate is pinned to "+compliance.CfnLintVersion) {
		t.Errorf("exit %d, want 1 naming both versions:\n%s", code, out)
	}
}

func TestCheckControlTowerControls(t *testing.T) {
	for name, tc := range map[string]struct {
		report   string
		wantCode int
		want     []string
	}{
		"only waived controls fail: pass, counted in SUPPRESSED": {guardReport(nil), 0, []string{
			"1 Control Tower controls on our resource types, 1 rule files (@cdklabs/cdk-validator-cfnguard 0.0.0-test, cfn-guard 3.1.1)", "compliance gate: PASS"}},
		"a control neither fixed nor waived fails the stack": {guardReport(map[string]string{"CT.S3.PR.1": "Bucket"}), 1, []string{
			evidence + ": CT.S3.PR.1 Bucket: Require something", "ControlWaivers", "compliance gate: FAIL"}},
		"a waiver that hides nothing fails the gate": {`[{"name": "/x/ValkeyDr-example-evidence.template.json", "status": "PASS", "not_compliant": []}]`, 1, []string{
			"hides nothing: remove it from compliance/controls.go", "compliance gate: FAIL"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			// The evidence stack holds the waived resource, so that each waiver is judged.
			f.assembly(t, "example-evidence", evidence, `{"Resources": {"`+compliance.ControlWaivers[0].Resource+`": {"Type": "AWS::S3::Bucket", "Properties": {}}}}`)
			f.write(t, "guard.json", tc.report)
			t.Setenv("FAKE_GUARD_REPORT", filepath.Join(f.root, "guard.json"))
			out, code := f.run(t)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d:\n%s", code, tc.wantCode, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.wantCode == 0 {
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, evidence) {
						if got := strings.Fields(line); got[3] != fmt.Sprint(2+len(compliance.ControlWaivers)) {
							t.Errorf("row %q: SUPPRESSED should count 2 nag suppressions and %d waived controls", line, len(compliance.ControlWaivers))
						}
					}
				}
			}
		})
	}
}

func TestCheckFailsWithoutTheGuardPackage(t *testing.T) {
	f := newFixture(t)
	out, code := f.run(t, "-guard", filepath.Join(t.TempDir(), "missing"))
	if code != 1 || !strings.Contains(out, compliance.GuardPackage+" is not installed") || !strings.Contains(out, "make deps") {
		t.Errorf("exit %d, want 1 with the way to install it:\n%s", code, out)
	}
}
