package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
)

// drctl --version (issue 26, must-have 7): the version, the commit and whether the tree was
// modified, from the build info (internal/buildinfo, the validator's rule too).
func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version", "-version"} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{arg}, &out, &errb)
		want := "drctl " + buildinfo.Read(version).String() + "\n"
		if code != 0 || out.String() != want || errb.Len() != 0 {
			t.Errorf("drctl %s: exit %d, stdout %q (want %q), stderr %q", arg, code, out.String(), want, errb.String())
		}
		if !strings.Contains(out.String(), runtime.Version()) {
			t.Errorf("drctl %s: no Go version: %s", arg, out.String())
		}
	}
}

// Every subcommand's -h/--help goes to stdout with exit 0 (issue 26: it went to stderr).
func TestSubcommandHelpGoesToStdout(t *testing.T) {
	for _, sub := range []string{"drill", "activate", "failback", "route", "teardown", "kit", "verify", "archive", "stand-in"} {
		for _, h := range []string{"-h", "--help"} {
			var out, errb bytes.Buffer
			code := Main(context.Background(), []string{sub, h}, &out, &errb)
			if code != 0 || !strings.Contains(out.String(), "Usage of drctl "+sub) || errb.Len() != 0 {
				t.Errorf("drctl %s %s: exit %d, stdout %q, stderr %q", sub, h, code, out.String(), errb.String())
			}
			if jsonCommands[sub] && !strings.Contains(out.String(), "-json") {
				t.Errorf("drctl %s %s: --json not listed:\n%s", sub, h, out.String())
			}
		}
	}
}

// decodeOne reads stdout as exactly one JSON object.
func decodeOne(t *testing.T, stdout string) JSONResult {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var r JSONResult
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	if r.Schema != JSONSchema || r.Drctl == "" {
		t.Fatalf("schema %d, drctl %q", r.Schema, r.Drctl)
	}
	return r
}

// --json: one object on stdout at the end, whatever the outcome; the human output on stderr.
func TestJSONResults(t *testing.T) {
	t.Run("a refusal", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"activate", "--json", "--repo", repo, "--env", "prod"}, &out, &errb)
		r := decodeOne(t, out.String())
		if code != 2 || r.Command != "activate" || r.Verdict != "refused" || r.ExitCode != 2 || !strings.Contains(r.Error, "REGION") || len(r.Phases) != 0 || r.Bundle != "" {
			t.Fatalf("exit %d: %+v", code, r)
		}
		if !strings.Contains(errb.String(), "drctl activate: ") {
			t.Fatalf("the error line is not on stderr: %q", errb.String())
		}
	})
	t.Run("a bad flag", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"teardown", "--json", "--no-such-flag"}, &out, &errb)
		if r := decodeOne(t, out.String()); code != 2 || r.Verdict != "refused" || !strings.Contains(r.Error, "no-such-flag") {
			t.Fatalf("exit %d: %+v", code, r)
		}
	})
	t.Run("a drill and the verify of its bundle", func(t *testing.T) {
		needValkey(t)
		isolate(t)
		outDir := t.TempDir()
		key := filepath.Join(t.TempDir(), "drill.key")
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"drill", "--json", "--repo", repo, "--out", outDir, "--from-cdk-out", fixture(t),
			"--validator", validatorBin, "--signing-key", key}, &out, &errb)
		r := decodeOne(t, out.String())
		if code != 0 || r.Command != "drill" || r.Verdict != "pass" || r.ExitCode != 0 || r.Error != "" {
			t.Fatalf("exit %d: %+v\nstderr:\n%s", code, r, errb.String())
		}
		if fi, err := os.Stat(r.Bundle); err != nil || !strings.HasSuffix(r.Bundle, ".tar.gz") || fi.Size() == 0 || !strings.Contains(r.VerifyCommand, "make dr-verify BUNDLE=") {
			t.Fatalf("bundle %q (%v), verify %q", r.Bundle, err, r.VerifyCommand)
		}
		names := map[string]string{}
		for _, p := range r.Phases {
			names[p.Name] = p.Status
			if p.Status == "ok" && (p.DurationMs <= 0 || p.StartedAt == "" || p.FinishedAt == "") {
				t.Errorf("phase %+v: an ok phase has a duration and times", p)
			}
		}
		for _, n := range []string{"prepare tools", "synth", "stand-in ready", "validation"} {
			if names[n] != "ok" {
				t.Errorf("phase %q: %q, want ok (phases %v)", n, names[n], names)
			}
		}
		if !strings.Contains(errb.String(), "DRILL PASSED") || strings.Contains(out.String(), "DRILL PASSED") {
			t.Fatalf("the human output belongs on stderr:\nstdout:\n%s", out.String())
		}

		out.Reset()
		errb.Reset()
		code = Main(context.Background(), []string{"verify", "--json", "--signing-key", key, r.Bundle}, &out, &errb)
		v := decodeOne(t, out.String())
		if code != 0 || v.Command != "verify" || v.Verdict != "pass" || v.Bundle != r.Bundle || v.Report == nil || !v.Report.OK() || v.Report.Kind != "drill" {
			t.Fatalf("verify: exit %d: %+v\nstderr:\n%s", code, v, errb.String())
		}
		if !strings.Contains(errb.String(), "VERIFIED") {
			t.Fatalf("verify's text report belongs on stderr: %q", errb.String())
		}
	})
}
