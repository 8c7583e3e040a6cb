package contract

// This file is the report.json schema: the validator (validate/report) writes it, the canary
// and the DR procedures (internal/dr/drill) read it. Writers and readers share these types.

import (
	"time"
)

// ReportFile is the report's file name in the validator's --evidence-dir.
const ReportFile = "report.json"

// ReportSchemaVersion is the version of the report.json schema. Bump it on any change that removes
// or renames a field or changes a field's meaning; adding a field does not bump it.
const ReportSchemaVersion = 1

// CheckStatus is the verdict of one check.
type CheckStatus string

// Check verdicts.
const (
	// CheckPass means the check proved what it checks.
	CheckPass CheckStatus = "pass"
	// CheckWarn means it passed but something needs attention soon (e.g. a certificate expiring).
	CheckWarn CheckStatus = "warn"
	// CheckFail means it did not; the run exits 1.
	CheckFail CheckStatus = "fail"
	// CheckSkip means it did not run: not applicable, or a check it depends on failed.
	CheckSkip CheckStatus = "skip"
)

// CheckResult is the outcome of one check. The runner fills Name, StartedAt, Duration and Deadline;
// the check fills the rest.
type CheckResult struct {
	// Name is the check name (dns, tcp, tls, ...).
	Name string `json:"name"`
	// Status is pass, warn, fail or skip.
	Status CheckStatus `json:"status"`
	// StartedAt is when the check started (UTC).
	StartedAt time.Time `json:"startedAt"`
	// Duration is how long it ran; DurationMs is the same in milliseconds for the JSON.
	Duration   time.Duration `json:"-"`
	DurationMs float64       `json:"durationMs"`
	// DeadlineMs is the deadline the check ran under, in milliseconds.
	DeadlineMs float64 `json:"deadlineMs"`
	// Detail is one line saying what was proved or what went wrong.
	Detail string `json:"detail"`
	// ErrorClass classifies a failure: dns, refused, timeout, network, tls, auth, permission,
	// mode, oom, data, server, deadline (empty on pass).
	ErrorClass string `json:"errorClass,omitempty"`
	// Fix says what to change when the check failed, when the validator knows.
	Fix string `json:"fix,omitempty"`
	// Attempts counts tries when the check retried healable errors.
	Attempts int `json:"attempts,omitempty"`
	// SkippedBecause names the failed check this one depends on.
	SkippedBecause string `json:"skippedBecause,omitempty"`
	// Evidence holds check-specific facts (addresses, certificate, latencies, ...).
	Evidence map[string]any `json:"evidence,omitempty"`
}

// ReportTool identifies the validator binary.
type ReportTool struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
}

// ReportTarget is where the run pointed, without secrets.
type ReportTarget struct {
	// Endpoint is host:port of the primary endpoint.
	Endpoint string `json:"endpoint"`
	// ReaderEndpoint is host:port of the reader endpoint, when known.
	ReaderEndpoint string `json:"readerEndpoint,omitempty"`
	// DNSNames are the names checked by dns-names.
	DNSNames []string `json:"dnsNames,omitempty"`
	// OutputsFile and Stack are set when the target came from an outputs file.
	OutputsFile string `json:"outputsFile,omitempty"`
	Stack       string `json:"stack,omitempty"`
	// Outputs are the stack outputs read from the file.
	Outputs map[string]string `json:"outputs,omitempty"`
}

// ReportServer is what the server said about itself in HELLO.
type ReportServer struct {
	Server  string `json:"server,omitempty"`
	Version string `json:"version,omitempty"`
	Mode    string `json:"mode,omitempty"`
	Role    string `json:"role,omitempty"`
	Proto   int64  `json:"proto,omitempty"`
	// ClientMode is the valkey-go client mode the validator ended up with.
	ClientMode string `json:"clientMode,omitempty"`
	// Nodes are the node addresses the client knows.
	Nodes []string `json:"nodes,omitempty"`
}

// ReportSummary counts verdicts.
type ReportSummary struct {
	Total int `json:"total"`
	Pass  int `json:"pass"`
	Warn  int `json:"warn"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
}

// Report is one validation run.
type Report struct {
	// SchemaVersion is ReportSchemaVersion at the time of writing.
	SchemaVersion int `json:"schemaVersion"`
	// Tool is the validator's name and version.
	Tool ReportTool `json:"tool"`
	// RunID is the random id in every key the run wrote.
	RunID string `json:"runId"`
	// KeyPrefix is the prefix of every key the run wrote.
	KeyPrefix string `json:"keyPrefix"`
	// StartedAt and FinishedAt are UTC; DurationMs is the wall time.
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	DurationMs float64   `json:"durationMs"`
	// Verdict is pass when no check failed, else fail; ExitCode is the process exit status.
	Verdict  CheckStatus `json:"verdict"`
	ExitCode int         `json:"exitCode"`
	// Target is where the run pointed.
	Target ReportTarget `json:"target"`
	// Options are the options used, secrets redacted.
	Options map[string]any `json:"options"`
	// Server is what HELLO said; nil when the run never authenticated.
	Server *ReportServer `json:"server,omitempty"`
	// Warnings are run-level warnings (e.g. --insecure-plaintext).
	Warnings []string `json:"warnings,omitempty"`
	// Checks are the results, in run order.
	Checks []CheckResult `json:"checks"`
	// Summary counts the verdicts.
	Summary ReportSummary `json:"summary"`
}

// Finish computes Summary, Verdict, ExitCode and the durations from the checks.
func (r *Report) Finish(finished time.Time) {
	r.FinishedAt = finished.UTC()
	r.StartedAt = r.StartedAt.UTC()
	r.DurationMs = Ms(r.FinishedAt.Sub(r.StartedAt))
	r.Summary = ReportSummary{Total: len(r.Checks)}
	for _, c := range r.Checks {
		switch c.Status {
		case CheckPass:
			r.Summary.Pass++
		case CheckWarn:
			r.Summary.Warn++
		case CheckFail:
			r.Summary.Fail++
		case CheckSkip:
			r.Summary.Skip++
		}
	}
	r.Verdict, r.ExitCode = CheckPass, ExitOK
	if r.Summary.Fail > 0 {
		r.Verdict, r.ExitCode = CheckFail, ExitFailed
	}
}

// Ms converts a duration to milliseconds with microsecond precision, as report.json states them.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
