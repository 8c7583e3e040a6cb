package main

// --json (issue 26, must-have 7): activate, failback, route, teardown, drill and verify print
// ONE JSON object on stdout when they end, whatever the outcome (refusals and interruptions
// included); everything a person reads (progress, the timeline, the error line) goes to
// stderr instead. A pipeline reads stdout; the log keeps stderr.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// JSONSchema is the version of the --json object; a field is only ever added under it.
const JSONSchema = 1

// jsonCommands are the subcommands that take --json.
var jsonCommands = map[string]bool{"activate": true, "failback": true, "route": true, "teardown": true, "drill": true, "verify": true}

// JSONResult is what --json prints.
type JSONResult struct {
	Schema int `json:"schema"`
	// Command is the subcommand (activate, failback, route, teardown, drill, verify).
	Command string `json:"command"`
	// Drctl is this binary's version (drctl --version).
	Drctl string `json:"drctl"`
	// Verdict is pass, fail, refused (bad input or a refusal: nothing was run),
	// interrupted, or not-verified (verify: the bundle failed its check).
	Verdict string `json:"verdict"`
	// ExitCode is drctl's exit status (an interruption is 130 here; the process exits
	// 128+signal).
	ExitCode int `json:"exitCode"`
	// Error is the cause, as the last stderr line says it; "" on a pass.
	Error string `json:"error,omitempty"`
	// Bundle is the sealed evidence tarball (verify: the bundle checked); BundleDir its
	// directory; VerifyCommand how to check it.
	Bundle        string `json:"bundle,omitempty"`
	BundleDir     string `json:"bundleDir,omitempty"`
	VerifyCommand string `json:"verifyCommand,omitempty"`
	// NotKMSSigned is set when the local key sealed the bundle because KMS could not sign.
	NotKMSSigned string `json:"notKmsSigned,omitempty"`
	// Phases are the procedure's timeline, in order ([] when it refused before starting).
	Phases []JSONPhase `json:"phases"`
	// Report is verify's full report.
	Report *evidence.VerifyReport `json:"report,omitempty"`
}

// JSONPhase is one phase of the timeline.
type JSONPhase struct {
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	DurationMs float64 `json:"durationMs"`
	StartedAt  string  `json:"startedAt,omitempty"`
	FinishedAt string  `json:"finishedAt,omitempty"`
	Note       string  `json:"note,omitempty"`
}

// jsonRun collects what the subcommand produced, for the object printed at the end.
type jsonRun struct {
	mu     sync.Mutex
	sess   *procedure.Run
	sealed *evidence.Sealed
	bundle string
	report *evidence.VerifyReport
}

type jsonRunKey struct{}

// noteResult records a procedure's session and sealed bundle (either may be nil) for --json.
func noteResult(ctx context.Context, s *procedure.Run, sealed *evidence.Sealed) {
	if r, ok := ctx.Value(jsonRunKey{}).(*jsonRun); ok {
		r.mu.Lock()
		r.sess, r.sealed = s, sealed
		r.mu.Unlock()
	}
}

// noteVerify records verify's report for --json.
func noteVerify(ctx context.Context, path string, rep *evidence.VerifyReport) {
	if r, ok := ctx.Value(jsonRunKey{}).(*jsonRun); ok {
		r.mu.Lock()
		r.bundle, r.report = path, rep
		r.mu.Unlock()
	}
}

// wantsJSON reports whether args (the subcommand's) ask for --json (before any "--").
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-json", "--json", "-json=true", "--json=true":
			return true
		}
	}
	return false
}

// wantsHelp reports whether args ask for the subcommand's help: it then goes to stdout.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// verdictOf names an exit status.
func verdictOf(code int) string {
	switch code {
	case contract.ExitOK:
		return "pass"
	case contract.ExitUsage:
		return "refused"
	case contract.ExitInterrupted:
		return "interrupted"
	case contract.ExitTampered:
		return "not-verified"
	}
	return "fail"
}

// writeJSON prints the --json object for a subcommand that ended with code and err.
func writeJSON(w io.Writer, command string, code int, err error, r *jsonRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := JSONResult{Schema: JSONSchema, Command: command, Drctl: buildinfo.Version(version), Verdict: verdictOf(code), ExitCode: code,
		Phases: []JSONPhase{}, Report: r.report, Bundle: r.bundle}
	if err != nil {
		out.Error = strings.TrimSpace(err.Error())
	}
	if r.sealed != nil {
		out.Bundle, out.BundleDir, out.NotKMSSigned = r.sealed.Tarball, r.sealed.Dir, r.sealed.NotKMSSigned
		if r.sealed.Tarball != "" {
			out.VerifyCommand = evidence.VerifyCommand(r.sealed.Tarball)
		}
	}
	if r.sess != nil && r.sess.Timeline != nil {
		for _, p := range r.sess.Timeline.Phases {
			jp := JSONPhase{Name: p.Name, Status: string(p.Status), DurationMs: p.DurationMs, Note: p.Note}
			if !p.StartedAt.IsZero() {
				jp.StartedAt = p.StartedAt.UTC().Format(time.RFC3339Nano)
			}
			if !p.FinishedAt.IsZero() {
				jp.FinishedAt = p.FinishedAt.UTC().Format(time.RFC3339Nano)
			}
			out.Phases = append(out.Phases, jp)
		}
	}
	data, merr := json.MarshalIndent(out, "", "  ")
	if merr != nil {
		data = []byte(fmt.Sprintf(`{"schema":%d,"command":%q,"verdict":"fail","exitCode":%d,"error":%q}`, JSONSchema, command, code, "--json: "+merr.Error()))
	}
	// encoding/json escapes C0 controls; termsafe.JSON the C1 and bidi ones.
	fmt.Fprintf(w, "%s\n", termsafe.JSON(data))
}
