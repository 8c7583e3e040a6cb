// Package report is the validator's writers of its one result model: the live terminal lines,
// report.json, junit.xml and summary.md. The model itself, the report.json schema, is
// contract's (contract/report.go): readers such as the DR drill share it.
package report

import (
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
)

// SchemaVersion is the version of the report.json schema (contract.ReportSchemaVersion).
const SchemaVersion = contract.ReportSchemaVersion

// The report.json schema under the names the validator's code uses.
type (
	// Status is the verdict of one check.
	Status = contract.CheckStatus
	// Result is the outcome of one check.
	Result = contract.CheckResult
	// Tool identifies the validator binary.
	Tool = contract.ReportTool
	// Target is where the run pointed, without secrets.
	Target = contract.ReportTarget
	// Server is what the server said about itself in HELLO.
	Server = contract.ReportServer
	// Summary counts verdicts.
	Summary = contract.ReportSummary
	// Report is one validation run.
	Report = contract.Report
)

// Check verdicts.
const (
	Pass = contract.CheckPass
	Warn = contract.CheckWarn
	Fail = contract.CheckFail
	Skip = contract.CheckSkip
)

// Ms converts a duration to milliseconds with microsecond precision (contract.Ms).
func Ms(d time.Duration) float64 { return contract.Ms(d) }
