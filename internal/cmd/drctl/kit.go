package main

import (
	"context"
	"flag"
	"io"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// kitOptions are `drctl kit`'s inputs.
type kitOptions struct {
	drkit.BuildOptions
	// signingKey is the local key that signs the kit when the environment has no KMS key.
	signingKey string
}

// NewCmdKit is `drctl kit`'s flag set (make dr-kit ENV=prod), bound to o.
func NewCmdKit(o *kitOptions, stderr io.Writer) *flag.FlagSet {
	fs := newFlags("kit", stderr)
	fs.StringVar(&o.Repo, "repo", ".", "repository `dir` (holds cdk.json, bin/cdk, the Go packages)")
	fs.StringVar(&o.Environment, "env", "", "cdk.json `environment` (required, e.g. prod)")
	fs.StringVar(&o.OutDir, "out", "", "`dir` for the kit tarball (default <repo>/.build/kit)")
	fs.StringVar(&o.signingKey, "signing-key", evidence.DefaultLocalKeyPath("."), "local Ed25519 key `file` that signs the kit when the environment has no evidence.signingKeyArn")
	return fs
}

// kitRun is `drctl kit`: build the DR kit of one environment.
func kitRun(ctx context.Context, o *kitOptions, stdout, _ io.Writer) error {
	o.Stdout = stdout
	var err error
	if o.Signer, err = kitSigner(ctx, o.Repo, o.Environment, o.signingKey, stdout); err != nil {
		return err
	}
	_, err = drkit.Build(ctx, o.BuildOptions)
	return err
}

// kitSigner is the evidence signer of the environment (docs/evidence.md "Trust"): its KMS key
// (evidence.signingKeyArn) when cdk.json names one, else the local Ed25519 key.
func kitSigner(ctx context.Context, repo, env, keyFile string, stdout io.Writer) (evidence.Signer, error) {
	if env == "" {
		return nil, nil // Build refuses with the message naming --env
	}
	envs, err := drkit.Environments(repo)
	if err != nil {
		return nil, err
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
