// Package repotest is what tests share that do not link the AWS CDK: where the repository
// is, cdk.json's context, and the Node.js the CLI and jsii run on. A test binary that links
// aws-cdk-go relinks 99 MB and starts jsii's Node at init, so tests that only read files or
// run the CLI use this package, not cdktest.
package repotest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the directory holding cdk.json.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// CDKContext returns the "context" object of the repository's cdk.json.
func CDKContext(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "cdk.json"))
	if err != nil {
		t.Fatalf("read cdk.json: %v", err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse cdk.json: %v", err)
	}
	return f.Context
}

// RequireNode fails (CI=true) or skips the test when jsii has no Node.js to run on. It cannot
// choose WHICH Node: the jsii runtime starts Node while the aws-cdk-go packages initialize,
// before any test code runs, so the Node 24 in node_modules is used only when PATH already
// names it as the test binary starts. `make test` does that; a bare `go test` uses the
// system Node (which works, with an end-of-life banner on Node 20).
func RequireNode(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err == nil {
		return
	}
	missing(t, "no Node.js for jsii: run the tests with `make test` (npm ci installs Node 24 into node_modules and puts it on PATH)")
}

// CDKCLI returns the absolute path of the pinned CDK CLI (node_modules/.bin/cdk); without it,
// or without Node, the test fails (CI=true) or skips.
func CDKCLI(t testing.TB) string {
	t.Helper()
	RequireNode(t)
	cli := filepath.Join(RepoRoot(t), "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cli); err != nil {
		missing(t, "the pinned CDK CLI is not installed: run `make deps` (npm ci)")
	}
	return cli
}

// missing ends a test whose prerequisite is missing: a failure in CI, where every
// prerequisite is installed, a loud skip elsewhere.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Build compiles the main package pkg (a path relative to the repository root) into
// .build/test/<scope>/<name> and returns its absolute path. The output stays between runs, so
// an unchanged binary is not linked again (go build leaves an up-to-date target alone: a link
// of the 99 MB app costs ~2 s of CPU, of the validator ~1.2 s). scope is the calling test
// package's own directory name: two packages' tests run at once and must not write one file.
// env is added to the build's environment (GOOS=..., for a cross build). For TestMain too.
func Build(scope, name, pkg string, env []string, args ...string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".build", "test", scope, name)
	cmd := exec.Command("go", append(append([]string{"build"}, args...), "-o", bin, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -o %s %s: %w\n%s", bin, pkg, err, out)
	}
	return bin, nil
}
