package main

// check against a stand-in CDK CLI that copies prepared cloud assemblies into --output: the
// table, the verdicts and the exit status, without Node. The real CLI runs in `make check` and
// in compliance/cli_test.go.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

// fakeCDK copies $FAKE_CDK_FIXTURES/<environment>-<drMode> into --output, or, when that
// directory holds an "exit" file, prints its "output" file and exits with that status.
const fakeCDK = `#!/bin/sh
out=""; env=""; mode=""; stack=""
while [ $# -gt 0 ]; do
  case "$1" in
    --output) out="$2"; shift ;;
    --context) case "$2" in environment=*) env="${2#environment=}" ;; drMode=*) mode="${2#drMode=}" ;; stack=evidence) stack=evidence ;; stack=dns) stack=dns ;; matrix=*) env=matrix ;; esac; shift ;;
  esac
  shift
done
[ "$stack" = evidence ] && mode=evidence
[ "$stack" = dns ] && mode="$mode-dns"
src="$FAKE_CDK_FIXTURES/$env-$mode"
[ "$env" = matrix ] && src="$FAKE_CDK_FIXTURES/matrix"
if [ -f "$src/exit" ]; then cat "$src/output"; exit "$(cat "$src/exit")"; fi
mkdir -p "$out" && cp -R "$src/." "$out/"
`

const (
	primary = "ValkeyDr-example-us-east-1-primary"
	dr      = "ValkeyDr-example-us-west-2-dr"
	// drDNS is the DR cache's DNS stack (--context stack=dns), deployed after validation.
	drDNS = "ValkeyDr-example-us-west-2-dr-dns"
	// evidence is the environment's evidence archive stack (--context stack=evidence).
	evidence = "ValkeyDr-example-evidence"
	// standby is the warm standby (drMode=standby), beside example's stateless posture: its own
	// regional name only.
	standby = "ValkeyDr-example-us-west-2-standby"
)

// record is a template with one CNAME record set.
func record(name, setID string) string {
	return `{"Resources": {"Rec": {"Type": "AWS::Route53::RecordSet", "Properties": {"HostedZoneId": "Z1",
	  "Name": "` + name + `", "Type": "CNAME", "TTL": "30", "SetIdentifier": "` + setID + `", "ResourceRecords": ["x"]}}}}`
}

type fixture struct {
	root string
}

// newFixture writes a cdk.json with only the example environment and a passing assembly for
// each of its two stacks.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir()}
	ctx := repotest.CDKContext(t)
	envs := ctx["environments"].(map[string]any)
	b, _ := json.Marshal(map[string]any{"context": map[string]any{"environments": map[string]any{"example": envs["example"]}}})
	f.write(t, "cdk.json", string(b))
	f.write(t, "cdk", fakeCDK)
	if err := os.Chmod(filepath.Join(f.root, "cdk"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.assembly(t, "example-none", primary, record("sessions.cache.example.com", "primary"))
	// The stack made on the night holds no record (VDR-015): its DNS stack does.
	f.assembly(t, "example-stateless", dr, `{"Resources": {"Param": {"Type": "AWS::SSM::Parameter", "Properties": {}}}}`)
	f.assembly(t, "example-stateless-dns", drDNS, record("sessions.cache.example.com", "secondary"))
	f.assembly(t, "example-standby", standby, record("sessions.standby.us-west-2.cache.example.com", ""))
	f.assembly(t, "example-evidence", evidence, `{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}`)
	return f
}

func (f *fixture) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(f.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// assembly writes what `cdk synth` leaves for one stack: manifest, template, nag reports (one
// suppressed finding each).
func (f *fixture) assembly(t *testing.T, dir, stack, template string) {
	t.Helper()
	d := filepath.Join("fixtures", dir)
	f.write(t, filepath.Join(d, "manifest.json"), `{"artifacts": {"`+stack+`": {"type": "aws:cloudformation:stack",
	  "environment": "aws://111111111111/us-west-2", "properties": {"templateFile": "`+stack+`.template.json"}}}}`)
	f.write(t, filepath.Join(d, stack+".template.json"), template)
	for _, pack := range []string{"AwsSolutions", "HIPAA.Security"} {
		f.write(t, filepath.Join(d, pack+"--"+stack+"-NagReport.json"),
			`{"lines": [{"ruleId": "`+pack+`-X", "compliance": "Suppressed", "exceptionReason": "because"}, {"ruleId": "`+pack+`-Y", "compliance": "Compliant"}]}`)
	}
}

func (f *fixture) run(t *testing.T, extra ...string) (string, int) {
	t.Helper()
	f.mergeMatrix(t) // matrix_test.go
	t.Setenv("FAKE_CDK_FIXTURES", filepath.Join(f.root, "fixtures"))
	var out bytes.Buffer
	code := run(append([]string{"-cdk-json", filepath.Join(f.root, "cdk.json"), "-out", filepath.Join(f.root, "cdk.out"),
		"-cdk", filepath.Join(f.root, "cdk")}, extra...), &out, &out)
	return out.String(), code
}

func TestCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		breakIt  func(t *testing.T, f *fixture)
		wantCode int
		want     []string
	}{
		"clean assemblies pass, one row per stack": {nil, 0, []string{
			"STACK", primary, dr, drDNS, standby, evidence, "compliance gate: PASS (5 stacks"}},
		"a record set owned by both stacks of the environment fails VDR-013": {func(t *testing.T, f *fixture) {
			f.assembly(t, "example-stateless-dns", drDNS, record("sessions.cache.example.com", "primary"))
		}, 1, []string{"VDR-013", "also owned by " + primary + "/Rec", "FAIL environment=example drMode=stateless-dns", "compliance gate: FAIL"}},
		"a record in the stack made on the night fails VDR-015": {func(t *testing.T, f *fixture) {
			f.assembly(t, "example-stateless", dr, record("sessions.us-west-2.cache.example.com", ""))
		}, 1, []string{"VDR-015", dr + "/Rec", "FAIL environment=example drMode=stateless", "compliance gate: FAIL"}},
		"a missing nag report means the gate did not run": {func(t *testing.T, f *fixture) {
			if err := os.Remove(filepath.Join(f.root, "fixtures", "example-stateless", "HIPAA.Security--"+dr+"-NagReport.json")); err != nil {
				t.Fatal(err)
			}
		}, 1, []string{"cdk-nag HIPAA.Security report for " + dr, "the pack did not run"}},
		"a cdk-nag violation in the validation report fails the stack": {func(t *testing.T, f *fixture) {
			f.write(t, "fixtures/example-none/validation-report.json", `{"pluginReports": [{"pluginName": "Construct Annotations",
			  "violations": [{"ruleName": "Annotation::error-annotation", "description": "AwsSolutions-EC23: open to the world", "severity": "error",
			    "violatingConstructs": [{"constructPath": "`+primary+`/SessionCache/SecurityGroup",
			      "cloudFormationResource": {"templatePath": "`+primary+`.template.json"}}]}]}]}`)
		}, 1, []string{"AwsSolutions-EC23: open to the world (Construct Annotations, error)", primary + "/SessionCache/SecurityGroup"}},
		"a failed synth shows the CLI's report": {func(t *testing.T, f *fixture) {
			f.write(t, "fixtures/example-none/exit", "1")
			f.write(t, "fixtures/example-none/output", "ERROR VDR-011 a production stack has termination protection\n")
		}, 1, []string{"cdk synth exited 1", "ERROR VDR-011", "(example none: nothing synthesized)"}},
	} {
		// Both ways: one synth per cell, and the matrix in one synth (the default).
		for _, way := range [][]string{{"-one-by-one"}, nil} {
			t.Run(name+" "+fmt.Sprint(way), func(t *testing.T) {
				f := newFixture(t)
				if tc.breakIt != nil {
					tc.breakIt(t, f)
				}
				summary := filepath.Join(f.root, "summary.md")
				t.Setenv("GITHUB_STEP_SUMMARY", summary)
				out, code := f.run(t, way...)
				if code != tc.wantCode {
					t.Errorf("exit %d, want %d:\n%s", code, tc.wantCode, out)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
				// The matrix is one synth, evidence archives included; one by one, each
				// environment's archive is a synth of its own.
				synths, evidenceSynths := strings.Count(out, "== cdk synth"), strings.Count(out, "--context stack=evidence")
				if way == nil && synths != 1 {
					t.Errorf("the matrix ran %d synths, want 1:\n%s", synths, out)
				}
				if way != nil && evidenceSynths != 1 {
					t.Errorf("one by one: %d evidence synths, want 1:\n%s", evidenceSynths, out)
				}
				b, err := os.ReadFile(summary)
				if err != nil || !strings.Contains(string(b), "| stack | resources | findings |") {
					t.Errorf("job summary not written (%v):\n%s", err, b)
				}
			})
		}
	}
}

func TestCheckTableRow(t *testing.T) {
	f := newFixture(t)
	out, _ := f.run(t)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, primary) {
			if got := strings.Fields(line); strings.Join(got[1:], " ") != "1 0 2 pass" {
				t.Errorf("row %q: want resources 1, findings 0, suppressed 2, pass", line)
			}
			return
		}
	}
	t.Errorf("no row for %s:\n%s", primary, out)
}

func TestCheckRejectsAnUnreadableCDKJSON(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-cdk-json", filepath.Join(t.TempDir(), "missing.json")}, &out, &out); code != 2 {
		t.Errorf("exit %d, want 2: %s", code, out.String())
	}
}
