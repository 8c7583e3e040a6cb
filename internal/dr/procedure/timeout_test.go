package procedure

import (
	"github.com/valkey-dr/valkey-dr/contract"

	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// A stuck command (a real process that hangs past its deadline) fails its phase with a message
// naming what hung, and the evidence is still written and sealed.
func TestAHungCommandFailsThePhaseAndTheEvidenceIsSealed(t *testing.T) {
	var out bytes.Buffer
	s, err := Start(Config{Kind: "test", Name: "hang", Repo: t.TempDir(), EvidenceRoot: t.TempDir(), WorkRoot: t.TempDir(),
		Runner: drexec.Exec{}, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hung := drexec.Cmd{Name: "sleep", Args: []string{"60"}, Timeout: 500 * time.Millisecond}
	err = s.Phase(ctx, "synthesize", Estimate{}, func() (string, error) {
		_, err := s.Runner().Run(ctx, hung)
		return "", err
	})
	if ExitCode(err) != contract.ExitFailed {
		t.Fatalf("exit %d, want %d (a deadline is a failure, not an interruption): %v", ExitCode(err), contract.ExitFailed, err)
	}
	for _, w := range []string{"synthesize", "sleep 60", "did not finish in time"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	sealed, ferr := s.Finish(ctx, err, "")
	if ferr != nil {
		t.Fatal(ferr)
	}
	if s.Meta["verdict"] != "fail" || !strings.Contains(s.Meta["failure"].(string), "sleep 60") {
		t.Errorf("metadata verdict %v failure %v", s.Meta["verdict"], s.Meta["failure"])
	}
	if _, err := os.Stat(sealed.Tarball); err != nil {
		t.Fatalf("no sealed tarball: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(sealed.Dir, evidence.FileTimelineText))
	if err != nil || !strings.Contains(string(b), "did not finish in time") {
		t.Errorf("timeline (%v) does not say what hung:\n%s", err, b)
	}
	cmds, err := os.ReadFile(filepath.Join(sealed.Dir, evidence.FileCommands))
	if err != nil || !strings.Contains(string(cmds), "sleep 60") {
		t.Errorf("commands log (%v) lacks the hung command:\n%s", err, cmds)
	}
}
