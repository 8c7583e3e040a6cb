package main

// This file is `drctl verify` and `drctl archive`: checking a sealed evidence bundle against
// its signed manifest, and uploading it to the environment's write-once evidence bucket.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr"
	"github.com/valkey-dr/valkey-dr/internal/dr/archive"
	"github.com/valkey-dr/valkey-dr/internal/dr/kmssign"
	"github.com/valkey-dr/valkey-dr/internal/dr/session"
)

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// verifyInputs are the flags verify and archive share.
type verifyInputs struct {
	repo, env, signingKey string
	trusted               multi
}

func (v *verifyInputs) flags(fsName string, stderr io.Writer) *flagSet {
	fs := newFlags(fsName, stderr)
	fs.StringVar(&v.repo, "repo", ".", "repository `dir` (holds cdk.json)")
	fs.StringVar(&v.env, "env", "", "cdk.json `environment`: trusts its evidence.signingKeyArn (archive: required)")
	fs.StringVar(&v.signingKey, "signing-key", "", "local Ed25519 key `file` whose public key is trusted when it exists (default "+session.DefaultLocalKeyPath(".")+")")
	fs.Var(&v.trusted, "trusted-key", "trusted key `id` (a KMS key ARN or ed25519:SHA256:...; repeatable)")
	return fs
}

// check reads and verifies a bundle; the error is a usage error for unreadable input.
func (v *verifyInputs) check(ctx context.Context, path string) (*session.VerifyReport, *drcontext.Config, error) {
	name, files, err := session.ReadBundle(path)
	if err != nil {
		return nil, nil, session.Usagef("%s: want a bundle directory or its .tar.gz: %v", path, err)
	}
	trusted := append([]string{}, v.trusted...)
	var cfg *drcontext.Config
	if v.env != "" {
		cfg, err = drcontext.LoadFile(filepath.Join(v.repo, drcontext.FileName), drcontext.Request{Environment: v.env, DrMode: drcontext.DrModeStateless})
		if err != nil {
			return nil, nil, session.Usagef("--env %s: %v", v.env, err)
		}
		if k := cfg.Env.Evidence.SigningKeyArn; k != "" {
			trusted = append(trusted, k)
		}
	}
	keyFile := v.signingKey
	if keyFile == "" {
		keyFile = session.DefaultLocalKeyPath(v.repo)
	}
	if _, err := os.Stat(keyFile); err == nil {
		s, _, err := session.LoadOrCreateLocalKey(keyFile)
		if err != nil {
			return nil, nil, session.Usagef("--signing-key: %v", err)
		}
		trusted = append(trusted, s.KeyID())
	}
	o := session.VerifyOptions{TrustedKeys: trusted, Verifiers: map[string]session.Verifier{}}
	var sig session.Signature
	if json.Unmarshal(files[session.FileSignature], &sig) == nil && sig.Algorithm == session.AlgECDSASHA256 && sig.PublicKey == "" {
		// A KMS signature: kms:Verify with the key it names (needs AWS credentials).
		if k, err := kmssign.New(ctx, sig.KeyID); err == nil {
			o.Verifiers[session.AlgECDSASHA256] = k
		}
	}
	return session.Verify(ctx, name, files, o), cfg, nil
}

func printReport(w io.Writer, path string, r *session.VerifyReport) {
	if r.OK() {
		fmt.Fprintf(w, "VERIFIED: %s: %d files match manifest.json; %s signature valid; %s\n", path, r.Files, r.Algorithm, r.Trust)
		if r.Manifest != nil && r.Manifest.Label != "" {
			fmt.Fprintf(w, "  label: %s\n", r.Manifest.Label)
		}
		return
	}
	fmt.Fprintf(w, "NOT VERIFIED: %s: %d finding(s):\n", path, len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s\n", f)
	}
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var v verifyInputs
	fs := v.flags("verify", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	path, err := parseOne(fs, args, "verify <bundle dir or .tar.gz>")
	if err != nil {
		return err
	}
	r, _, err := v.check(ctx, path)
	if err != nil {
		return err
	}
	if *asJSON {
		data, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(stdout, "%s\n", data)
	} else {
		printReport(stdout, path, r)
	}
	if !r.OK() {
		return &session.Error{Code: contract.ExitTampered, Msg: "the bundle is not intact (see the findings above)"}
	}
	return nil
}

func runArchive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var v verifyInputs
	fs := v.flags("archive", stderr)
	path, err := parseOne(fs, args, "archive --env <environment> <bundle .tar.gz or dir>")
	if err != nil {
		return err
	}
	if v.env == "" {
		return session.Usagef("--env is required: the environment whose evidence bucket receives the bundle (e.g. --env prod)")
	}
	tarball := strings.TrimSuffix(path, string(filepath.Separator))
	if !strings.HasSuffix(tarball, ".tar.gz") {
		tarball += ".tar.gz"
	}
	r, cfg, err := v.check(ctx, tarball)
	if err != nil {
		return err
	}
	if !r.OK() {
		printReport(stdout, tarball, r)
		return &session.Error{Code: contract.ExitTampered, Msg: "refusing to archive a bundle that does not verify: nothing was uploaded"}
	}
	sealed := &session.Sealed{Tarball: tarball}
	if sc := strings.TrimSuffix(tarball, ".tar.gz") + ".signature.json"; fileExists(sc) {
		sealed.SignatureSidecar = sc
	}
	now := time.Now()
	req := dr.ArchiveRequest(cfg, r.Manifest.Kind, sealed, now)
	c, err := archive.NewClient(ctx, cfg.EvidenceRegion())
	if err != nil {
		return session.Failf("%v", err)
	}
	rec, err := archive.Upload(ctx, c, req, now)
	if err != nil {
		return session.Failf("%v", err)
	}
	dr.PrintReceipt(stdout, rec, req.ReceiptPath)
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// parseOne parses flags and exactly one positional argument.
func parseOne(fs *flagSet, args []string, use string) (string, error) {
	// Flags may follow the path (drctl verify evidence/x.tar.gz --json).
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return "", parseErr(err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		return "", session.Usagef("usage: drctl %s (got %d arguments)", use, len(pos))
	}
	return pos[0], nil
}

type flagSet = flag.FlagSet

func parseErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return session.Usagef("%v", err)
}
