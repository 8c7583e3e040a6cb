// Package procedure is the skeleton every DR procedure shares (the local drill, activation,
// failback, route, teardown): timed phases printed as they run, every external command
// recorded, the run's working directory, the exit codes and usage errors, and at the end —
// pass, fail or interrupted — one evidence bundle with the timeline, sealed by package
// evidence (internal/dr/evidence).
package procedure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/runowner"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Error is a procedure failure with its exit code and the phase it happened in.
type Error struct {
	Code  int
	Phase string
	Msg   string
}

// Error reads "{phase}: {what happened and what to do}".
func (e *Error) Error() string {
	if e.Phase == "" {
		return e.Msg
	}
	return e.Phase + ": " + e.Msg
}

// ExitCode is the process exit status for this error.
func (e *Error) ExitCode() int { return e.Code }

// Failf is an ExitFailed error.
func Failf(format string, args ...any) error {
	return &Error{Code: contract.ExitFailed, Msg: fmt.Sprintf(format, args...)}
}

// Usagef is an ExitUsage error (bad input, refusal).
func Usagef(format string, args ...any) error {
	return &Error{Code: contract.ExitUsage, Msg: fmt.Sprintf(format, args...)}
}

// ExitCode maps any error to an exit status: nil 0, *Error its code, an interruption 130,
// anything else 1.
func ExitCode(err error) int {
	var e *Error
	switch {
	case err == nil:
		return contract.ExitOK
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.Canceled):
		return contract.ExitInterrupted
	}
	return contract.ExitFailed
}

// Config starts a Run.
type Config struct {
	// Kind names the procedure in file names and metadata: drill, activate, failback, teardown.
	Kind string
	// Title heads the timeline.
	Title string
	// Repo is the repository root.
	Repo string
	// Name identifies this run in directory names (e.g. "prod-us-west-2").
	Name string
	// EvidenceRoot receives the bundle directory and its tarball.
	EvidenceRoot string
	// WorkRoot receives the run's working files (cloud assemblies, outputs file, validator).
	WorkRoot string
	// Runner runs the external commands (recorded by the session).
	Runner drexec.Runner
	// Stdout and Stderr are the terminal.
	Stdout, Stderr io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Signer signs the bundle's manifest (nil: unsigned, SHA256SUMS only).
	Signer evidence.Signer
	// Provenance is who ran the procedure and why (nil: not recorded). The caller identity is
	// filled from Meta["callerArn"] / Meta["account"] at Finish when the preflight got it.
	Provenance *evidence.Provenance
	// Label says what the target was, first words of manifest.json and README.md
	// ("LOCAL STAND-IN, NOT A DEPLOYMENT" for drills).
	Label string
}

// Run is one run of a procedure.
type Run struct {
	Config
	// Stamp is the run's UTC start, 20060102T150405Z, in every name it makes.
	Stamp string
	// Work is the run's working directory.
	Work string
	// Bundle is the evidence being filled.
	Bundle *evidence.Bundle
	// Timeline times the phases.
	Timeline *Timeline
	// Meta is metadata.json; procedures add keys.
	Meta map[string]any

	rec *drexec.Recorder
}

// Start makes the working directory and the (empty) evidence bundle.
func Start(c Config) (*Run, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	start := c.Now().UTC()
	s := &Run{Config: c, Stamp: start.Format("20060102T150405Z"),
		Timeline: &Timeline{Title: c.Title, Now: c.Now, CommandStart: start},
		Meta:     map[string]any{"kind": c.Kind, "startedAt": evidence.Stamp(start)},
		rec:      &drexec.Recorder{R: c.Runner, Now: c.Now}}
	b, err := evidence.NewUniqueBundle(c.EvidenceRoot, fmt.Sprintf("valkey-dr-%s-%s-%s", c.Kind, c.Name, s.Stamp))
	if err != nil {
		return nil, err
	}
	s.Bundle = b
	s.Work = filepath.Join(c.WorkRoot, b.Name)
	separate := !reaches(c.WorkRoot, c.EvidenceRoot)
	if separate {
		sweepWork(c.WorkRoot, c.Stderr)
	}
	if err := os.MkdirAll(s.Work, 0o750); err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}
	if separate {
		// Finish removes the mark: a run that ends keeps its work files on purpose; one
		// killed (SIGKILL skips Finish) leaves the mark, and the next run removes its files.
		if err := runowner.Mark(s.Work); err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
	}
	if c.Provenance != nil {
		s.Timeline.IncidentStart = c.Provenance.IncidentStart
	}
	return s, nil
}

// Runner is the session's recording runner: use it for every external command.
func (s *Run) Runner() drexec.Runner { return s.rec }

// Printf writes one line to the terminal.
func (s *Run) Printf(format string, args ...any) {
	fmt.Fprintf(s.Stdout, format+"\n", args...)
}

// Phase runs fn as a timed phase: a start line, fn, an end line with status and duration.
// fn returns a one-line note for the timeline and an error. An error while ctx is cancelled
// is an interruption (exit 130).
func (s *Run) Phase(ctx context.Context, name string, est Estimate, fn func() (string, error)) error {
	p := s.Timeline.Start(name, est)
	s.Printf("\n==> %s  %s", evidence.Stamp(p.StartedAt), name)
	note, err := fn()
	interrupted := err != nil && ctx.Err() != nil
	if interrupted {
		// What the phase's work said as it was cut short (a stand-in "not ready", a child
		// killed, server logs) is the interruption's doing, not a fault: the status says it.
		note = ""
	}
	if err != nil && note == "" && !interrupted {
		// The timeline is read on its own (evidence, change record): say why it failed there.
		note = shorten(err.Error(), 120)
	}
	s.Timeline.Finish(p, err, interrupted, note)
	line := fmt.Sprintf("<== %s  %s: %s in %s", evidence.Stamp(p.FinishedAt), name, p.Status, Human(p.Duration()))
	if note != "" {
		line += " — " + note
	}
	s.Printf("%s", line)
	if err == nil {
		return nil
	}
	var pe *Error
	switch {
	case interrupted:
		return &Error{Code: contract.ExitInterrupted, Phase: name, Msg: "interrupted (SIGINT/SIGTERM); every process this run started was stopped"}
	case errors.As(err, &pe):
		if pe.Phase == "" {
			pe.Phase = name
		}
		return pe
	}
	return &Error{Code: contract.ExitFailed, Phase: name, Msg: err.Error()}
}

// shorten keeps the first line of s, at most n runes.
func shorten(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// NotRun records phases skipped because an earlier one failed.
func (s *Run) NotRun(why string, phases ...PlannedPhase) {
	for _, p := range phases {
		s.Timeline.Skip(p.Name, p.Estimate, NotRun, why)
	}
}

// PlannedPhase names a phase that may not run.
type PlannedPhase struct {
	Name     string
	Estimate Estimate
}

// Log is a terminal-teeing, race-free capture of a command's output (stdout and stderr are
// copied by two goroutines), for deploy.log and friends.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee io.Writer
}

// NewLog tees to w (may be nil).
func NewLog(w io.Writer) *Log { return &Log{tee: w} }

// Write captures p and copies it to the terminal.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.tee != nil {
		_, _ = l.tee.Write(p)
	}
	return len(p), nil
}

// Bytes returns what was captured.
func (l *Log) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.buf.Bytes()...)
}

// Finish records the verdict, writes timeline, commands, versions and metadata into the
// bundle, seals it and prints the timeline and where the evidence is. It runs even after an
// interruption (with a short deadline of its own): evidence of a failed or interrupted run
// is evidence too.
func (s *Run) Finish(ctx context.Context, runErr error, extraReadme string) (*evidence.Sealed, error) {
	// The run ends on its own terms: its work files stay for whoever wants to read them.
	defer func() { _ = runowner.Unmark(s.Work) }()
	end := s.Now().UTC()
	verdict := evidence.VerdictPass
	switch ExitCode(runErr) {
	case contract.ExitOK:
	case contract.ExitInterrupted:
		verdict = evidence.VerdictInterrupted
	default:
		verdict = evidence.VerdictFail
	}
	s.Meta["finishedAt"] = evidence.Stamp(end)
	s.Meta["verdict"] = verdict
	if runErr != nil {
		s.Meta["failure"] = runErr.Error()
	}
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	versions := evidence.CollectVersions(vctx, s.rec, s.Repo)
	if v, ok := s.Meta["valkeyServer"].(string); ok {
		versions.ValkeyServer = v
		delete(s.Meta, "valkeyServer")
	}
	s.Meta["versions"] = versions
	if s.Label != "" {
		s.Meta["label"] = s.Label
	}
	prov := s.provenance()
	if prov != nil {
		s.Meta["provenance"] = prov
	}

	text := s.Timeline.Text()
	tjson, err := s.Timeline.JSON()
	if err != nil {
		return nil, err
	}
	steps := []func() error{
		func() error { return s.Bundle.WriteFile(evidence.FileTimelineText, []byte(text)) },
		func() error { return s.Bundle.WriteFile(evidence.FileTimelineJSON, append(tjson, '\n')) },
		func() error { return s.Bundle.WriteJSON(evidence.FileCommands, s.rec.Log()) },
		func() error { return s.Bundle.WriteJSON(evidence.FileMetadata, s.Meta) },
		func() error {
			if prov == nil {
				return nil
			}
			return s.Bundle.WriteJSON(evidence.FileProvenance, prov)
		},
		func() error {
			files, err := evidence.ListFiles(s.Bundle.Dir)
			if err != nil {
				return err
			}
			return s.Bundle.WriteFile(evidence.FileReadme, []byte(s.readme(verdict, extraReadme, files)))
		},
	}
	for _, f := range steps {
		if err := f(); err != nil {
			return nil, err
		}
	}
	if s.Signer != nil {
		s.Bundle.SignWith(s.Signer, evidence.Manifest{Kind: s.Kind, Label: s.Label, Verdict: verdict, Provenance: prov})
	}
	sealed, err := s.Bundle.SealContext(ctx, end)
	if err != nil {
		return nil, err
	}
	s.Printf("\n%s", strings.TrimRight(text, "\n"))
	s.Printf("\nevidence: %s/ (%d files, manifest %s)\n          %s (sha256 in %s)", sealed.Dir, len(sealed.Files)+1,
		evidence.ManifestName, sealed.Tarball, filepath.Base(sealed.TarballSum))
	switch {
	case sealed.NotKMSSigned != "":
		s.Printf("          NOT KMS-SIGNED: sealed with the local key %s instead; %s records %q\n          verify: %s",
			sealed.KeyID, evidence.FileManifestJSON, sealed.NotKMSSigned, evidence.VerifyCommand(sealed.Tarball))
	case sealed.KeyID != "":
		s.Printf("          signed: %s by %s (verify: %s)", evidence.FileManifestJSON, sealed.KeyID, evidence.VerifyCommand(sealed.Tarball))
	default:
		s.Printf("          NOT SIGNED: no signer configured (SHA256SUMS only proves nothing against an editor)")
	}
	return sealed, nil
}

// provenance completes Config.Provenance with the caller identity the preflight recorded.
func (s *Run) provenance() *evidence.Provenance {
	if s.Provenance == nil {
		return nil
	}
	p := *s.Provenance
	if v, ok := s.Meta["callerArn"].(string); ok && p.CallerArn == "" {
		p.CallerArn = v
	}
	if v, ok := s.Meta["account"].(string); ok && p.Account == "" {
		p.Account = v
	}
	return &p
}

func (s *Run) readme(verdict, extra string, files []string) string {
	title := fmt.Sprintf("valkey-dr %s evidence — %s", s.Kind, s.Name)
	if s.Label != "" {
		title = s.Label + ": " + title
	}
	var intro strings.Builder
	if extra != "" {
		intro.WriteString(extra + "\n\n")
	}
	fmt.Fprintf(&intro, "Verdict: **%s**. Run started %s (UTC).", verdict, s.Meta["startedAt"])
	if p := s.provenance(); p != nil {
		fmt.Fprintf(&intro, "\n\nReason **%s**, ticket **%s**, approved by **%s**; run by %s on %s", p.Reason, p.Ticket, p.Approver, p.User, p.Host)
		if p.CallerArn != "" {
			fmt.Fprintf(&intro, " as %s", p.CallerArn)
		}
		if !p.IncidentStart.IsZero() {
			fmt.Fprintf(&intro, "; incident started %s", evidence.Stamp(p.IncidentStart))
		}
		intro.WriteString(".")
	}
	return evidence.IndexReadme(title, intro.String(), files)
}

// Defaults fills what every procedure's Deps leave nil: the real runner, the process's
// terminal and the wall clock. Tests set all of them.
func Defaults(r *drexec.Runner, stdout, stderr *io.Writer, now *func() time.Time) {
	if *r == nil {
		*r = drexec.Exec{}
	}
	if *stdout == nil {
		*stdout = os.Stdout
	}
	if *stderr == nil {
		*stderr = os.Stderr
	}
	if *now == nil {
		*now = time.Now
	}
}

// AbsRepo resolves the repository root ("" is the current directory); a failure is a usage
// error naming --repo.
func AbsRepo(repo string) (string, error) {
	if repo == "" {
		repo = "."
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return "", Usagef("--repo %q: %v", repo, err)
	}
	return abs, nil
}
