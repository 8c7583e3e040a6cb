package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
	"github.com/valkey-dr/valkey-dr/validate/report"
)

// TestOutputsFileDrivesTheRun writes the file `cdk deploy --outputs-file` would write for a DR
// stack (pointing at a local TLS cluster) and runs with --outputs/--stack only.
func TestOutputsFileDrivesTheRun(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	c := valkeytest.StartServerless(t, valkeytest.Options{TLS: true})
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(valkeytest.AppPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stack := map[string]string{
		contract.KeyCacheName: "valkey-dr-test", contract.KeyEndpointAddress: "localhost",
		contract.KeyEndpointPort: strconv.Itoa(c.Nodes[0].Port), contract.KeyReaderPort: strconv.Itoa(c.Nodes[1].Port),
		contract.KeyRegionalDNSName: "localhost", contract.KeySecurityGroupID: "sg-0123", contract.KeyAuthMode: "password",
		contract.KeyUserID: valkeytest.AppUser, contract.KeyUserName: valkeytest.AppUser,
		contract.KeySecretArn: "arn:aws:secretsmanager:us-west-2:123456789012:secret:never-called",
		contract.KeyRegion:    "us-west-2", contract.KeyEnvironment: "test", contract.KeyDrMode: "stateless",
		contract.KeySSMParameterPrefix: "/valkey-dr/test",
	}
	b, _ := json.Marshal(map[string]any{"ValkeyDr-test-us-west-2-dr": stack, "ValkeyDr-test-us-east-1-primary": map[string]string{"EndpointAddress": "elsewhere"}})
	outFile := filepath.Join(dir, "cdk-outputs.json")
	if err := os.WriteFile(outFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res := validate(t, invocation{args: []string{"--outputs", outFile, "--stack", "ValkeyDr-test-us-west-2-dr",
		"--ca-file", c.CA.CertFile, "--password-file", pwFile}})
	assertAllPass(t, res)
	r := res.report
	if r.Target.Stack != "ValkeyDr-test-us-west-2-dr" || r.Target.ReaderEndpoint != "localhost:"+strconv.Itoa(c.Nodes[1].Port) ||
		r.Target.Outputs[contract.KeyDrMode] != "stateless" || r.Options["user"] != valkeytest.AppUser {
		t.Errorf("target/options from the outputs file: %+v %+v", r.Target, r.Options)
	}
}

// TestPasswordNeverWritten runs passing and failing runs and looks for the password in every
// byte of stdout, stderr and the evidence files.
func TestPasswordNeverWritten(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	for name, inv := range map[string]invocation{
		"a passing run, text": asApp(s, "--reader-port", strconv.Itoa(s.Port)),
		"a passing run, json": asApp(s, "--format", "json"),
		"a wrong password":    {args: tlsArgs(s, valkeytest.AppUser), env: pw(valkeytest.AppPassword + "-wrong")},
		"a NOPERM failure":    {args: tlsArgs(s, valkeytest.ReadOnlyUser), env: pw(valkeytest.ReadOnlyPassword)},
	} {
		t.Run(name, func(t *testing.T) {
			res := validate(t, inv)
			secret := inv.env["VALKEY_PASSWORD"]
			for _, p := range []string{secret, valkeytest.AppPassword, valkeytest.ReadOnlyPassword} {
				if strings.Contains(res.stdout, p) || strings.Contains(res.stderr, p) {
					t.Fatalf("password %q printed", p)
				}
				entries, err := os.ReadDir(res.dir)
				if err != nil || len(entries) != 3 {
					t.Fatalf("evidence dir: %v %v", entries, err)
				}
				for _, e := range entries {
					b, _ := os.ReadFile(filepath.Join(res.dir, e.Name()))
					if bytes.Contains(b, []byte(p)) {
						t.Fatalf("password %q in %s", p, e.Name())
					}
				}
			}
			if res.report.Options["password"] != "[REDACTED]" || res.report.Options["passwordSource"] != "env VALKEY_PASSWORD" {
				t.Errorf("options do not record the redacted password and its source: %v", res.report.Options)
			}
		})
	}
}

func TestEvidenceFiles(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	res := validate(t, asApp(s, "--reader-port", strconv.Itoa(s.Port), "--quiet"))
	assertAllPass(t, res, "dns-names")
	r := res.report
	if r.SchemaVersion != report.SchemaVersion || r.Tool.Name != toolName || r.Tool.Version == "" || r.RunID == "" ||
		r.StartedAt.Location().String() != "UTC" || r.DurationMs <= 0 || r.Options["client"] == nil {
		t.Errorf("report header: %+v", r)
	}
	raw, _ := os.ReadFile(filepath.Join(res.dir, contract.ReportFile))
	if !bytes.Contains(raw, []byte(`"startedAt": "`+r.StartedAt.Format("2006-01-02T15:04:05"))) || !bytes.Contains(raw, []byte(`Z"`)) {
		t.Errorf("timestamps are not UTC RFC 3339")
	}
	var junit struct {
		Suites []struct {
			Tests int `xml:"tests,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	jx, _ := os.ReadFile(filepath.Join(res.dir, report.JUnitFile))
	if err := xml.Unmarshal(jx, &junit); err != nil || len(junit.Suites) != 1 || junit.Suites[0].Tests != len(checks.Table) || len(junit.Suites[0].Cases) != len(checks.Table) {
		t.Errorf("junit.xml: %v %+v", err, junit)
	}
	md, _ := os.ReadFile(filepath.Join(res.dir, report.MarkdownFile))
	for _, want := range []string{"# Valkey DR validation: PASS", "| 7 | set-get | PASS |", "Options (secrets redacted)", "valkey 8.0.1"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
	// --quiet prints the summary only.
	if lines := strings.Split(strings.TrimSpace(res.stdout), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], fmt.Sprintf("PASS: %d checks", len(checks.Table))) {
		t.Errorf("--quiet stdout = %q", res.stdout)
	}
}

func TestJSONFormatPrintsTheReport(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	res := validate(t, invocation{args: append(tlsArgs(s, valkeytest.ReadOnlyUser), "--format", "json"), env: pw(valkeytest.ReadOnlyPassword), noEvidence: true})
	var r report.Report
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v", err)
	}
	if res.code != 1 || r.ExitCode != 1 || r.Verdict != report.Fail || r.Summary.Fail == 0 {
		t.Errorf("exit %d, report %+v", res.code, r.Summary)
	}
}

func TestInsecurePlaintextIsLoud(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := valkeytest.StartStandalone(t, valkeytest.Options{})
	res := validate(t, invocation{args: []string{"--endpoint", s.Addr, "--insecure-plaintext", "--user", valkeytest.AppUser,
		"--reader-port", strconv.Itoa(s.Port)}, env: pw(valkeytest.AppPassword)})
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	if !strings.Contains(res.stderr, "WARNING: --insecure-plaintext") || !strings.Contains(res.stdout, "WARNING: --insecure-plaintext") {
		t.Errorf("no loud warning on the terminal")
	}
	if tl := res.check(t, "tls"); tl.Status != report.Warn || !strings.Contains(tl.Detail, "INSECURE") {
		t.Errorf("tls = %s %q", tl.Status, tl.Detail)
	}
	if len(res.report.Warnings) == 0 || res.report.Options["insecurePlaintext"] != true {
		t.Errorf("evidence does not record the plaintext run")
	}
	md, _ := os.ReadFile(filepath.Join(res.dir, report.MarkdownFile))
	if !bytes.Contains(md, []byte("**WARNING:** --insecure-plaintext")) {
		t.Errorf("summary.md does not warn")
	}
}

// TestBinary builds the real binary once and checks exit codes and the absence of panics.
func TestBinary(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	bin, err := repotest.Build("validate", "validate", "./validate", nil, "-ldflags", "-X main.version=v0.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	s := valkeytest.StartStandalone(t, valkeytest.Options{TLS: true})
	for name, tc := range map[string]struct {
		args   []string
		env    string
		wanted int
	}{
		"--version":            {args: []string{"--version"}, wanted: 0},
		"an unknown flag":      {args: []string{"--nope"}, wanted: 2},
		"an unknown command":   {args: []string{"watchh"}, wanted: 2},
		"a passing run":        {args: append(tlsArgs(s, valkeytest.AppUser), "--quiet"), env: valkeytest.AppPassword, wanted: 0},
		"a failing run":        {args: append(tlsArgs(s, valkeytest.AppUser), "--quiet"), env: "wrong", wanted: 1},
		"watch --help":         {args: []string{"watch", "--help"}, wanted: 0},
		"a passing watch":      {args: append([]string{"watch", "--duration", "1s", "--quiet", "--sla-p99", "1s"}, tlsArgs(s, valkeytest.AppUser)...), env: valkeytest.AppPassword, wanted: 0}, // 1s: as for the probe below, this row tests the exit code
		"a healthy probe":      {args: append([]string{"probe", "--duration", "1s", "--quiet", "--sla-p99", "1s"}, tlsArgs(s, valkeytest.AppUser)...), env: valkeytest.AppPassword, wanted: 0}, // 1s: a loaded 2-core machine can exceed the default p99; this row tests the exit code
		"an unreachable probe": {args: []string{"probe", "--duration", "1s", "--endpoint", closedPort(t)}, wanted: 4},
		"a probe usage error":  {args: []string{"probe", "--rate", "x"}, wanted: 2},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = append(os.Environ(), "VALKEY_PASSWORD="+tc.env)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tc.wanted {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wanted, out)
			}
			if bytes.Contains(out, []byte("goroutine ")) || bytes.Contains(out, []byte("panic")) {
				t.Fatalf("stack trace in output:\n%s", out)
			}
			if name == "--version" && !bytes.Contains(out, []byte("valkey-dr-validate v0.0.0-test")) {
				t.Errorf("version output %q", out)
			}
		})
	}
}
