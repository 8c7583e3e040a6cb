package dr

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
)

// The repositories the seam tests run the procedures against (only cdk.json, go.mod, the
// golden templates and the kit's files are read from them: every command is a fake).
//
// repo is this repository with prod as a stateless-posture production environment (its
// drPosture removed): the runbook's activation made on the night, which most seam tests drive.
// standbyRepo is this repository as it is: prod's drPosture is standby (docs/design.md, "Warm
// standby").
var repo string

const (
	standbyRepo      = "../.."
	prodStandbyStack = "ValkeyDr-prod-us-west-2-standby"
)

func TestMain(m *testing.M) {
	dir, err := statelessFork(standbyRepo)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repo = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// statelessFork is a directory of links to every entry of src's root but cdk.json, and a
// cdk.json whose prod has no drPosture.
func statelessFork(src string) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "valkey-dr-stateless-fork-*")
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Name() == drcontext.FileName {
			continue
		}
		if err := os.Symlink(filepath.Join(abs, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return "", err
		}
	}
	b, err := os.ReadFile(filepath.Join(abs, drcontext.FileName))
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", err
	}
	prod, ok := doc["context"].(map[string]any)["environments"].(map[string]any)["prod"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("%s has no environment prod", drcontext.FileName)
	}
	delete(prod, "drPosture")
	if b, err = json.MarshalIndent(doc, "", "  "); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, drcontext.FileName), b, 0o640)
}
