package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/buildinfo"
	"github.com/valkey-dr/valkey-dr/internal/dr"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
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
	signingKey := fs.String("signing-key", evidence.DefaultLocalKeyPath("."), "local Ed25519 key `file` that signs the kit when the environment has no evidence.signingKeyArn")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.Stdout = stdout
	var err error
	if o.Signer, err = kitSigner(ctx, o.Repo, o.Environment, *signingKey, stdout); err != nil {
		return err
	}
	_, err = drkit.Build(ctx, o)
	return err
}

// kitSigner is the evidence signer of the environment (docs/evidence.md "Trust"): its KMS key
// (evidence.signingKeyArn) when cdk.json names one, else the local Ed25519 key.
func kitSigner(ctx context.Context, repo, env, keyFile string, stdout io.Writer) (evidence.Signer, error) {
	if env == "" {
		return nil, nil // Build refuses with the message naming --env
	}
	raw, err := drcontext.ReadFile(filepath.Join(repo, drcontext.FileName))
	if err != nil {
		return nil, procedure.Usagef("%v", err)
	}
	envs, err := drcontext.Environments(raw[drcontext.KeyEnvironments])
	if err != nil {
		return nil, procedure.Usagef("%v\nNothing was built.", err)
	}
	if e, ok := envs[env]; ok && e.Evidence.SigningKeyArn != "" {
		s, err := evidence.NewKMSSigner(ctx, e.Evidence.SigningKeyArn)
		if err != nil {
			return nil, procedure.Usagef("evidence.signingKeyArn %s: %v. Nothing was built.", e.Evidence.SigningKeyArn, err)
		}
		return s, nil
	}
	s, created, err := evidence.LoadOrCreateLocalKey(keyFile)
	if err != nil {
		return nil, procedure.Usagef("--signing-key %s: %v. Nothing was built.", termsafe.Quote(keyFile), err)
	}
	if created {
		evidence.PrintKeyCreated(stdout, s)
	}
	return s, nil
}

// openKit is activate --kit: extract and verify the kit under the current directory's
// .build/kit-run before anything else runs, then point the procedure at it: its cdk.json, its
// assemblies, its validator. Evidence and work files stay in the current directory (not in
// the extracted kit, which is deleted on the next run).
func openKit(ctx context.Context, tarball string, keys []evidence.TrustedKey, o *dr.Options, validatorGiven, allowOld bool, stdout io.Writer) error {
	if o.Repo != "." && o.Repo != "" {
		return procedure.Usagef("--repo and --kit: give one (the kit carries the cdk.json and assemblies it deploys). Nothing was run.")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	k, err := drkit.Open(ctx, tarball, filepath.Join(cwd, ".build", "kit-run"), keys)
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
		return procedure.Usagef("--env %s: the kit %s is for environment %s: use that environment's kit (make dr-kit ENV=%s). Nothing was run.",
			termsafe.Quote(o.Environment), termsafe.Quote(filepath.Base(tarball)), termsafe.Quote(m.Environment), termsafe.Escape(o.Environment))
	}
	// A kit deploys the stack as it was when built: one older than drkit.MaxAge is one the
	// scheduled rebuild (synth.yml) did not refresh.
	age, aerr := m.Age(time.Now())
	if aerr != nil || age > drkit.MaxAge {
		built := fmt.Sprintf("was built %s (%d days ago)", m.CreatedAt, int(age.Hours()/24))
		if aerr != nil {
			built = "has no build date: " + aerr.Error()
		}
		msg := fmt.Sprintf("the kit %s %s: older than the %d-day limit for activation (drkit.MaxAge)",
			filepath.Base(tarball), built, int(drkit.MaxAge.Hours()/24))
		if !allowOld {
			_ = os.RemoveAll(k.Dir)
			return procedure.Usagef("%s: use a fresh kit (CI rebuilds every kit weekly: the synth workflow's dr-kit artifact; or make dr-kit ENV=%s), "+
				"or, knowing it deploys the stack as it was then, pass --allow-old-kit. Nothing was run.", termsafe.Escape(msg), termsafe.Escape(m.Environment))
		}
		fprintf(stdout, "WARNING: %s; used anyway (--allow-old-kit)\n", termsafe.Escape(msg))
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
	fprintf(stdout, "%s\n", termsafe.Escape(fmt.Sprintf("kit: %s authenticated by drctl %s: signed by trusted key %s; %d files match manifest.json (commit %s%s, built %s, sha256 %s)",
		filepath.Base(tarball), buildinfo.Version(version), k.KeyID, len(m.Files), m.Commit, dirty, m.CreatedAt, k.TarballSHA256)))
	return nil
}

func fprintf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}
