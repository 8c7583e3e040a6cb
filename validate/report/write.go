package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Evidence file names inside --evidence-dir, besides contract.ReportFile (report.json).
const (
	JUnitFile    = "junit.xml"
	MarkdownFile = "summary.md"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Skipped int          `xml:"skipped,attr"`
	Time    string       `xml:"time,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Fails     int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr"`
	Props     []junitProperty `xml:"properties>property"`
	Cases     []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

// WriteJUnit writes the report as JUnit XML: one test case per check; warn is a passing case
// with a WARN line in system-out.
func WriteJUnit(w io.Writer, r *Report) error {
	s := junitSuite{
		Name: "valkey-dr-validate " + r.Target.Endpoint, Tests: r.Summary.Total, Fails: r.Summary.Fail,
		Skipped: r.Summary.Skip, Time: seconds(r.DurationMs), Timestamp: r.StartedAt.UTC().Format(time.RFC3339),
		Props: []junitProperty{
			{Name: "schemaVersion", Value: fmt.Sprint(r.SchemaVersion)},
			{Name: "toolVersion", Value: r.Tool.Version},
			{Name: "runId", Value: r.RunID},
			{Name: "endpoint", Value: r.Target.Endpoint},
		},
	}
	if r.Server != nil {
		s.Props = append(s.Props, junitProperty{Name: "server", Value: strings.TrimSpace(r.Server.Server + " " + r.Server.Version + " " + r.Server.Mode)})
	}
	for _, wmsg := range r.Warnings {
		s.Props = append(s.Props, junitProperty{Name: "warning", Value: wmsg})
	}
	for _, c := range r.Checks {
		tc := junitCase{Name: c.Name, Classname: "valkey-dr.validate", Time: seconds(c.DurationMs)}
		switch c.Status {
		case Fail:
			body := c.Detail
			if c.Fix != "" {
				body += "\nfix: " + c.Fix
			}
			tc.Failure = &junitMessage{Message: c.Detail, Type: c.ErrorClass, Body: body}
		case Skip:
			tc.Skipped = &junitMessage{Message: c.Detail}
		case Warn:
			tc.SystemOut = "WARN: " + c.Detail
		default:
			tc.SystemOut = c.Detail
		}
		s.Cases = append(s.Cases, tc)
	}
	doc := junitSuites{Name: "valkey-dr-validate", Tests: s.Tests, Fails: s.Fails, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// mdEscape keeps a value inside one Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

// WriteMarkdown writes the human summary (summary.md).
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	verdict := strings.ToUpper(string(r.Verdict))
	fmt.Fprintf(&b, "# Valkey DR validation: %s\n\n", verdict)
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "> **WARNING:** %s\n\n", mdEscape(wmsg))
	}
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, mdEscape(v))
		}
	}
	row("Endpoint", "`"+r.Target.Endpoint+"`")
	if r.Target.ReaderEndpoint != "" {
		row("Reader endpoint", "`"+r.Target.ReaderEndpoint+"`")
	}
	row("DNS names", strings.Join(r.Target.DNSNames, ", "))
	row("Outputs file", r.Target.OutputsFile)
	row("Stack", r.Target.Stack)
	if r.Server != nil {
		row("Server", strings.TrimSpace(fmt.Sprintf("%s %s, mode %s, RESP%d, client mode %s",
			r.Server.Server, r.Server.Version, r.Server.Mode, r.Server.Proto, r.Server.ClientMode)))
	}
	row("Started (UTC)", r.StartedAt.UTC().Format(time.RFC3339))
	row("Finished (UTC)", r.FinishedAt.UTC().Format(time.RFC3339))
	row("Duration", fmt.Sprintf("%.1f ms", r.DurationMs))
	row("Verdict", fmt.Sprintf("%s (exit %d): %d pass, %d warn, %d fail, %d skip",
		verdict, r.ExitCode, r.Summary.Pass, r.Summary.Warn, r.Summary.Fail, r.Summary.Skip))
	row("Tool", fmt.Sprintf("%s %s (%s)", r.Tool.Name, r.Tool.Version, r.Tool.GoVersion))
	row("Run id", "`"+r.RunID+"` (keys under `"+r.KeyPrefix+"`)")
	row("Report schema", fmt.Sprintf("report.json schemaVersion %d", r.SchemaVersion))

	fmt.Fprintf(&b, "\n## Checks\n\n| # | Check | Verdict | Duration | Detail |\n|---|---|---|---|---|\n")
	for i, c := range r.Checks {
		detail := c.Detail
		if c.Fix != "" {
			detail += " — fix: " + c.Fix
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.1f ms | %s |\n", i+1, c.Name, strings.ToUpper(string(c.Status)), c.DurationMs, mdEscape(detail))
	}
	fmt.Fprintf(&b, "\n## Options (secrets redacted)\n\n| Option | Value |\n|---|---|\n")
	keys := make([]string, 0, len(r.Options))
	for k := range r.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(r.Options[k])
		fmt.Fprintf(&b, "| %s | `%s` |\n", k, mdEscape(string(v)))
	}
	fmt.Fprintf(&b, "\nMachine-readable: `%s` (schemaVersion %d); CI: `%s`.\n", contract.ReportFile, r.SchemaVersion, JUnitFile)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteEvidence writes report.json, junit.xml and summary.md into dir (created 0750 if
// needed) and returns their paths.
func WriteEvidence(dir string, r *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence dir %q: %w", dir, err)
	}
	var paths []string
	for _, f := range []struct {
		name  string
		write func(io.Writer, *Report) error
	}{{contract.ReportFile, WriteJSON}, {JUnitFile, WriteJUnit}, {MarkdownFile, WriteMarkdown}} {
		p := filepath.Join(dir, f.name)
		if err := WriteFile(p, func(w io.Writer) error { return f.write(w, r) }); err != nil {
			return paths, fmt.Errorf("write evidence %q: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// WriteFile writes path through a temp file in the same directory and renames it (mode 0640),
// so a reader never sees half a file. Every evidence file of every subcommand goes through it.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
