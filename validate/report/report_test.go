package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
)

func sample() *Report {
	start := time.Date(2025, 12, 9, 14, 6, 0, 0, time.FixedZone("PST", -8*3600))
	r := &Report{SchemaVersion: SchemaVersion, Tool: Tool{Name: "valkey-dr-validate", Version: "v1", GoVersion: "go1.26"},
		RunID: "abc", KeyPrefix: "valkey-dr:validate:{abc", StartedAt: start,
		Target:  Target{Endpoint: "h:6379"},
		Options: map[string]any{"password": "[REDACTED]", "user": "app"},
		Checks: []Result{
			{Name: "dns", Status: Pass, Detail: "ok", DurationMs: 1},
			{Name: "tls", Status: Warn, Detail: "expires | soon", DurationMs: 2},
			{Name: "auth", Status: Fail, Detail: "WRONGPASS", ErrorClass: "auth", Fix: "check the secret", DurationMs: 3},
			{Name: "ping", Status: Skip, Detail: "skipped: auth failed", SkippedBecause: "auth"},
		}}
	r.Finish(start.Add(1500 * time.Millisecond))
	return r
}

func TestFinish(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	r := sample()
	if r.Verdict != Fail || r.ExitCode != 1 || r.Summary != (Summary{Total: 4, Pass: 1, Warn: 1, Fail: 1, Skip: 1}) ||
		r.DurationMs != 1500 || r.StartedAt.Location() != time.UTC {
		t.Fatalf("finish: %+v", r)
	}
	r.Checks = r.Checks[:2]
	r.Finish(r.FinishedAt)
	if r.Verdict != Pass || r.ExitCode != 0 {
		t.Fatalf("warn must not fail the run: %+v", r.Summary)
	}
}

func TestWriters(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	r := sample()
	dir := filepath.Join(t.TempDir(), "ev")
	paths, err := WriteEvidence(dir, r)
	if err != nil || len(paths) != 3 {
		t.Fatal(paths, err)
	}
	var back map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, contract.ReportFile))
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["schemaVersion"] != float64(1) || back["startedAt"] != "2025-12-09T22:06:00Z" {
		t.Errorf("report.json header: %v %v", back["schemaVersion"], back["startedAt"])
	}
	j, _ := os.ReadFile(filepath.Join(dir, JUnitFile))
	var suites junitSuites
	if err := xml.Unmarshal(j, &suites); err != nil {
		t.Fatal(err)
	}
	s := suites.Suites[0]
	if s.Tests != 4 || s.Fails != 1 || s.Skipped != 1 || s.Cases[2].Failure == nil || s.Cases[2].Failure.Type != "auth" ||
		!strings.Contains(s.Cases[2].Failure.Body, "fix: check the secret") || s.Cases[3].Skipped == nil || s.Timestamp != "2025-12-09T22:06:00Z" {
		t.Errorf("junit: %+v", s)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	for _, want := range []string{"# Valkey DR validation: FAIL", `expires \| soon`, "| 3 | auth | FAIL | 3.0 ms | WRONGPASS — fix: check the secret |", "Started (UTC) | 2025-12-09T22:06:00Z"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("summary.md lacks %q:\n%s", want, md)
		}
	}
	var live bytes.Buffer
	LiveLine(&live, r.Checks[2])
	WriteSummary(&live, r)
	if !strings.Contains(live.String(), "auth               FAIL") || !strings.Contains(live.String(), "FAIL: 4 checks") {
		t.Errorf("text:\n%s", live.String())
	}
}

func TestWriteEvidenceToAFileFails(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteEvidence(f, sample()); err == nil || !strings.Contains(err.Error(), "evidence dir") {
		t.Fatalf("err = %v", err)
	}
}
