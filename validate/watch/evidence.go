package watch

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/validate/report"
)

// SchemaVersion is the version of watch.json and probe.json; it changes when a field is
// removed, renamed or changes meaning (adding one does not change it).
const SchemaVersion = 1

// Evidence is watch.json (or probe.json): the header the subcommand fills, and the Outcome.
type Evidence struct {
	SchemaVersion int `json:"schemaVersion"`
	// Kind is watch or probe.
	Kind string      `json:"kind"`
	Tool report.Tool `json:"tool"`
	// RunID and KeyPrefix: every key the run wrote starts with KeyPrefix.
	RunID     string `json:"runId"`
	KeyPrefix string `json:"keyPrefix"`
	// StartedAt and FinishedAt bound the whole command (checks, traffic, cleanup), UTC.
	StartedAt  time.Time     `json:"startedAt"`
	FinishedAt time.Time     `json:"finishedAt"`
	DurationMs float64       `json:"durationMs"`
	Target     report.Target `json:"target"`
	// Options are the options used, secrets redacted.
	Options map[string]any `json:"options"`
	// PreChecks are the validator checks run before traffic (dns, tcp, tls, auth, cluster-mode).
	PreChecks []report.Result `json:"preChecks"`
	// ReaderChecks are the read-port checks (reader-tcp, reader-tls), run alongside the
	// traffic when a reader port is known. Their failure is a warning, never the verdict.
	ReaderChecks []report.Result `json:"readerChecks,omitempty"`
	// Server is what HELLO said; nil when the run never authenticated.
	Server *report.Server `json:"server,omitempty"`
	// SLA are the verdict lines.
	SLA []SLACheck `json:"sla"`
	// Verdict: watch pass|fail; probe healthy|degraded|unreachable|inconclusive.
	Verdict  string `json:"verdict"`
	ExitCode int    `json:"exitCode"`
	// Reason says in one sentence why the verdict is what it is.
	Reason   string   `json:"reason"`
	Warnings []string `json:"warnings,omitempty"`
	// Outcome is the traffic: intervals, totals, cleanup (absent when the pre-checks failed).
	*Outcome
}

// Evidence file names, by kind: <kind>.json, <kind>.csv, <kind>-latency.svg.
func fileNames(kind string) (jsonName, csvName, svgName string) {
	return kind + ".json", kind + ".csv", kind + "-latency.svg"
}

// CSVHeader is the first row of the CSV; one row per interval follows. Columns are only ever
// added at the end, so a reader indexing the older ones keeps working.
var CSVHeader = []string{"interval", "start_utc", "elapsed_s", "duration_s", "ops", "ops_per_s", "errors", "error_rate",
	"reconnects", "dial_failures", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "create", "read", "refresh", "delete",
	"attempt_p50_ms", "attempt_p99_ms", "attempt_max_ms", "failed_p50_ms", "failed_p99_ms", "failed_max_ms", "sla_missed"}

// MarkSLAMissed fills every interval's SLAMissed from ev.SLA. The subcommand knows the SLA
// lines only after Run returned, so the writers call it; calling it again changes nothing.
func (ev *Evidence) MarkSLAMissed() {
	if ev.Outcome == nil {
		return
	}
	for i := range ev.Intervals {
		ev.Intervals[i].SLAMissed = Missed(ev.Intervals[i], ev.SLA)
	}
}

// WriteCSV writes the time series, one row per interval (sla_missed is empty unless
// Evidence.MarkSLAMissed ran).
func WriteCSV(w io.Writer, intervals []Interval) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for _, iv := range intervals {
		row := []string{strconv.Itoa(iv.Index), iv.Start.UTC().Format(time.RFC3339Nano), f(iv.ElapsedS, 3), f(iv.DurationS, 3),
			strconv.FormatInt(iv.Ops, 10), f(iv.OpsPerSec, 1), strconv.FormatInt(iv.Errors, 10), f(iv.ErrorRate, 6),
			strconv.FormatInt(iv.Reconnects, 10), strconv.FormatInt(iv.DialFailures, 10),
			f(iv.P50Ms, 3), f(iv.P95Ms, 3), f(iv.P99Ms, 3), f(iv.MaxMs, 3), f(iv.MeanMs, 3)}
		for _, op := range OpNames {
			row = append(row, strconv.FormatInt(iv.ByOp[op], 10))
		}
		row = append(row, f(iv.Attempts.P50Ms, 3), f(iv.Attempts.P99Ms, 3), f(iv.Attempts.MaxMs, 3),
			f(iv.Failed.P50Ms, 3), f(iv.Failed.P99Ms, 3), f(iv.Failed.MaxMs, 3), strings.Join(iv.SLAMissed, ";"))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the evidence as indented JSON, with every interval's SLAMissed filled.
func WriteJSON(w io.Writer, ev *Evidence) error {
	ev.MarkSLAMissed()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ev)
}

// WriteEvidence writes <kind>.json, and when there was traffic <kind>.csv and
// <kind>-latency.svg, into dir (created 0750; files 0640, written atomically). It returns the
// paths written.
func WriteEvidence(dir string, ev *Evidence) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence dir %q: %w", dir, err)
	}
	ev.MarkSLAMissed()
	jsonName, csvName, svgName := fileNames(ev.Kind)
	type file struct {
		name  string
		write func(io.Writer) error
	}
	files := []file{{jsonName, func(w io.Writer) error { return WriteJSON(w, ev) }}}
	if ev.Outcome != nil {
		files = append(files,
			file{csvName, func(w io.Writer) error { return WriteCSV(w, ev.Intervals) }},
			file{svgName, func(w io.Writer) error { return WriteSVG(w, ev) }})
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := report.WriteFile(p, f.write); err != nil {
			return paths, fmt.Errorf("write evidence %q: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
