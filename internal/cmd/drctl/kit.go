package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/valkey-dr/valkey-dr/internal/dr"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/session"
)

// version is set at build time (-ldflags "-X main.version=<commit>"; the DR kit's binaries
// carry the kit's commit).
var version = "dev"

// runKit is `drctl kit`: build the DR kit of one environment (make dr-kit ENV=prod).
func runKit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o drkit.BuildOptions
	fs := newFlags("kit", stderr)
	fs.StringVar(&o.Repo, "repo", ".", "repository `dir` (holds cdk.json, bin/cdk, the Go packages)")
	fs.StringVar(&o.Environment, "env", "", "cdk.json `environment` (required, e.g. prod)")
	fs.StringVar(&o.OutDir, "out", "", "`dir` for the kit tarball (default <repo>/.build/kit)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.Stdout = stdout
	_, err := drkit.Build(ctx, o)
	return err
}

// openKit is activate --kit: extract and verify the kit under the current directory's
// .build/kit-run before anything else runs, then point the procedure at it: its cdk.json, its
// assemblies, its validator. Evidence and work files stay in the current directory (not in
// the extracted kit, which is deleted on the next run).
func openKit(tarball string, o *dr.Options, validatorGiven bool, stdout io.Writer) error {
	if o.Repo != "." && o.Repo != "" {
		return session.Usagef("--repo and --kit: give one (the kit carries the cdk.json and assemblies it deploys). Nothing was run.")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	k, err := drkit.Open(tarball, filepath.Join(cwd, ".build", "kit-run"))
	if err != nil {
		return err
	}
	m := k.Manifest
	dirty := ""
	if m.Dirty {
		dirty = " (DIRTY: built from uncommitted changes, not a commit the gate passed)"
	}
	if o.Environment == "" {
		o.Environment = m.Environment
	}
	if o.Environment != m.Environment {
		_ = os.RemoveAll(k.Dir)
		return session.Usagef("--env %s: the kit %s is for environment %s: use that environment's kit (make dr-kit ENV=%s). Nothing was run.",
			o.Environment, filepath.Base(tarball), m.Environment, o.Environment)
	}
	if !validatorGiven {
		if o.Validator, err = k.Tool("validate"); err != nil {
			return err
		}
	}
	o.Repo = k.Dir
	if o.EvidenceRoot == "" {
		o.EvidenceRoot = filepath.Join(cwd, "evidence")
	}
	if o.WorkRoot == "" {
		o.WorkRoot = filepath.Join(cwd, ".build", "dr")
	}
	o.Kit = k
	fprintf(stdout, "kit: %s verified by drctl %s: %d files match manifest.json (commit %s%s, built %s, sha256 %s)\n",
		filepath.Base(tarball), version, len(m.Files), m.Commit, dirty, m.CreatedAt, k.TarballSHA256)
	return nil
}

func fprintf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
