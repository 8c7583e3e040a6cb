package main

// This file is `drctl verify`: checking a sealed evidence bundle against its signed manifest
// and the keys this machine trusts (archive.go checks the same way before it uploads).

import (
	"context"
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
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// verifyOptions are `drctl verify`'s inputs, and `drctl archive`'s (which verifies first).
type verifyOptions struct {
	repo, env, signingKey string
	trusted               multi
}

// NewCmdVerify is `drctl verify`'s flag set (make dr-verify), bound to v.
func NewCmdVerify(v *verifyOptions, stderr io.Writer) *flag.FlagSet { return v.flags("verify", stderr) }

func (v *verifyOptions) flags(fsName string, stderr io.Writer) *flag.FlagSet {
	fs := newFlags(fsName, stderr)
	fs.StringVar(&v.repo, "repo", ".", "repository `dir` (holds cdk.json)")
	fs.StringVar(&v.env, "env", "", "cdk.json `environment`: trusts its evidence.signingKeyArn through kms:Verify (needs AWS credentials; archive: required)")
	fs.StringVar(&v.signingKey, "signing-key", "", "local Ed25519 key `file` whose public key is trusted when it exists (default "+evidence.DefaultLocalKeyPath(".")+")")
	fs.Var(&v.trusted, "trusted-key", "PEM `file` of public keys to trust: Ed25519, or a KMS key's public key pinned from aws kms get-public-key (repeatable; "+
		evidence.DefaultTrustedKeysPath()+" is read too when it exists; docs/evidence.md \"Trust\")")
	return fs
}

// keys are the keys this verifier trusts: each held outside the bundle (docs/evidence.md
// "Trust"). Offline keys come first so a pinned KMS key is used before asking KMS.
func (v *verifyOptions) keys(ctx context.Context, stderr io.Writer) ([]evidence.TrustedKey, *drcontext.Config, error) {
	keyFile := v.signingKey
	if keyFile == "" {
		keyFile = evidence.DefaultLocalKeyPath(v.repo)
	}
	keys, err := trustedKeys(v.trusted, keyFile, stderr)
	if err != nil {
		return nil, nil, err
	}
	var cfg *drcontext.Config
	if v.env != "" {
		var err error
		cfg, err = drcontext.LoadFile(filepath.Join(v.repo, drcontext.FileName), drcontext.Request{Environment: v.env, DrMode: drcontext.DrModeStateless})
		if err != nil {
			return nil, nil, procedure.Usagef("--env %s: %v", termsafe.Quote(v.env), err)
		}
		if arn := cfg.Env.Evidence.SigningKeyArn; arn != "" {
			k, err := evidence.NewKMSSigner(ctx, arn)
			if err != nil {
				return nil, nil, procedure.Usagef("--env %s: evidence.signingKeyArn: %v", termsafe.Quote(v.env), err)
			}
			keys = append(keys, k.Trusted("cdk.json environments."+v.env+".evidence.signingKeyArn"))
		}
	}
	return keys, cfg, nil
}

// trustedKeys are the offline keys this machine holds: --trusted-key files, the default
// trusted-keys file, and the public half of the local signing key (keyFile) when it exists.
func trustedKeys(files []string, keyFile string, stderr io.Writer) ([]evidence.TrustedKey, error) {
	var keys []evidence.TrustedKey
	for _, f := range files {
		if looksLikeKeyID(f) {
			return nil, procedure.Usagef("--trusted-key %s: a key id proves nothing (a forged bundle can claim any id): give a PEM file holding the public key; "+
				"for a KMS key: aws kms get-public-key --key-id <arn> --query PublicKey --output text | base64 -d | openssl pkey -pubin -inform DER -out kms.pem (docs/evidence.md \"Trust\")",
				termsafe.Quote(f))
		}
		ks, err := evidence.LoadTrustedKeys(f)
		if err != nil {
			return nil, procedure.Usagef("--trusted-key %s: %s", termsafe.Quote(f), err)
		}
		keys = append(keys, ks...)
	}
	if def := evidence.DefaultTrustedKeysPath(); def != "" && fileExists(def) {
		ks, err := evidence.LoadTrustedKeys(def)
		if err != nil {
			return nil, procedure.Usagef("trusted-keys file %s: %s", termsafe.Quote(def), err)
		}
		keys = append(keys, ks...)
	}
	if fileExists(keyFile) {
		s, err := evidence.LoadLocalKey(keyFile)
		var half *evidence.HalfWrittenKeyError
		switch {
		case errors.As(err, &half):
			// Verify never writes: the next drill sets the broken file aside and makes a key.
			fmt.Fprintf(stderr, "drctl: --signing-key %s: %s: not trusted (the next drill replaces it)\n", termsafe.Quote(keyFile), termsafe.Escape(err.Error()))
		case err != nil:
			return nil, procedure.Usagef("--signing-key %s: %s", termsafe.Quote(keyFile), err)
		default:
			keys = append(keys, evidence.TrustLocalSigner(s))
		}
	}
	return keys, nil
}

// looksLikeKeyID is a --trusted-key value that is an id, as the flag took before issue 23.
func looksLikeKeyID(v string) bool {
	if fileExists(v) {
		return false
	}
	for _, p := range []string{"ed25519:", "ecdsa-p256:", "SHA256:", "arn:"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// check reads and verifies a bundle; the error is a usage error for unreadable input. A
// bundle the reader refuses (a link, a special file, a cap) is a report with that finding.
func (v *verifyOptions) check(ctx context.Context, path string, stderr io.Writer) (*evidence.VerifyReport, *evidence.Contents, *drcontext.Config, error) {
	keys, cfg, err := v.keys(ctx, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := readBundle(ctx, path)
	var refused *evidence.RefusedError
	switch {
	case ctx.Err() != nil:
		return nil, nil, nil, interrupted(path)
	case errors.As(err, &refused):
		return evidence.RefusedReport(filepath.Base(path), refused), nil, cfg, nil
	case err != nil:
		return nil, nil, nil, procedure.Usagef("%s: want a bundle directory or its .tar.gz: %v", termsafe.Quote(path), err)
	}
	// Verification asks KMS at most once per key with its own deadline; this bounds the
	// whole of it so verify always ends.
	vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	r := evidence.Verify(vctx, c, evidence.VerifyOptions{Keys: keys})
	if ctx.Err() != nil {
		// Whatever the check had found, it was cut short: no verdict on the bundle.
		return nil, nil, nil, interrupted(path)
	}
	return r, c, cfg, nil
}

// verifyTimeout bounds the signature check of verify and archive (KMS calls included).
const verifyTimeout = 60 * time.Second

// printReport prints the outcome. Every string from the bundle or the command line goes
// through termsafe.Escape: a hostile entry name must not rewrite the terminal.
func printReport(w io.Writer, path string, r *evidence.VerifyReport) {
	p := termsafe.Escape(path)
	if r.OK() {
		kind, verdict := termsafe.Escape(r.Kind), termsafe.Escape(r.Verdict)
		head := fmt.Sprintf("VERIFIED (%s, verdict %s)", kind, verdict)
		if r.Verdict != evidence.VerdictPass {
			// The bundle is authentic; what it records did not pass. Never a plain VERIFIED.
			head = fmt.Sprintf("VERIFIED, VERDICT %s: an intact %s bundle recording a run that did NOT pass", strings.ToUpper(verdict), kind)
		}
		if r.NotKMSSigned != "" {
			// Sealed by the local key because KMS could not sign: intact, never KMS-signed.
			head += ", NOT KMS-SIGNED"
		}
		fmt.Fprintf(w, "%s: %s: %d files match manifest.json; %s signature valid; %s\n", head, p, r.Files, termsafe.Escape(r.Algorithm), termsafe.Escape(r.Trust))
		if r.NotKMSSigned != "" {
			fmt.Fprintf(w, "  %s (the manifest says so, under the signature)\n", termsafe.Escape(r.NotKMSSigned))
		}
		if r.Manifest != nil && r.Manifest.Label != "" {
			fmt.Fprintf(w, "  label: %s\n", termsafe.Escape(r.Manifest.Label))
		}
		return
	}
	fmt.Fprintf(w, "NOT VERIFIED: %s: %d finding(s):\n", p, len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s\n", termsafe.Escape(f.String()))
	}
}

// verifyRun is `drctl verify <bundle>`: exit 0 intact, 6 (contract.ExitTampered) not verified.
func verifyRun(ctx context.Context, v *verifyOptions, path string, stdout, stderr io.Writer) error {
	// --json (newFlags defines it): Main prints the report in its JSON object on stdout;
	// the text report goes to stderr then.
	defer boundAfterInterrupt(ctx, stderr)()
	r, _, _, err := v.check(ctx, path, stderr)
	if err != nil {
		return err
	}
	noteVerify(ctx, path, r)
	printReport(stdout, path, r)
	if !r.OK() {
		return &procedure.Error{Code: contract.ExitTampered, Msg: "the bundle is not verified (see the findings above)"}
	}
	return nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// parseOne parses flags and exactly one positional argument.
func parseOne(fs *flag.FlagSet, args []string, use string) (string, error) {
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
		return "", procedure.Usagef("usage: drctl %s (got %d arguments)", use, len(pos))
	}
	return pos[0], nil
}

func parseErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return procedure.Usagef("%v", err)
}
