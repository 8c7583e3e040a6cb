package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/session"
)

func TestVerifyCommand(t *testing.T) {
	root := t.TempDir()
	key := filepath.Join(root, "k.key")
	signer, _, err := session.LoadOrCreateLocalKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := session.NewBundle(root, "bundle")
	if err != nil {
		t.Fatal(err)
	}
	_ = b.WriteFile("metadata.json", []byte("{}\n"))
	b.SignWith(signer, session.Manifest{Kind: "drill", Label: "LOCAL STAND-IN, NOT A DEPLOYMENT"})
	sealed, err := b.SealContext(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("verify", "--signing-key", key, sealed.Tarball); code != 0 || !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "trusted key") {
		t.Fatalf("clean: %d %s", code, out)
	}
	if code, out := run("verify", sealed.Dir, "--trusted-key", "ed25519:SHA256:other", "--signing-key", filepath.Join(root, "none")); code != contract.ExitTampered || !strings.Contains(out, "untrusted-key") {
		t.Fatalf("untrusted: %d %s", code, out)
	}
	if err := os.WriteFile(filepath.Join(sealed.Dir, "added.txt"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, out := run("verify", "--signing-key", key, sealed.Dir); code != contract.ExitTampered || !strings.Contains(out, "added: added.txt") {
		t.Fatalf("added: %d %s", code, out)
	}
	if code, out := run("verify", filepath.Join(root, "missing")); code != contract.ExitUsage || !strings.Contains(out, "want a bundle directory or its .tar.gz") {
		t.Fatalf("missing: %d %s", code, out)
	}
	if code, out := run("archive", sealed.Tarball); code != contract.ExitUsage || !strings.Contains(out, "--env is required") {
		t.Fatalf("archive without env: %d %s", code, out)
	}
}

func TestProductionNeedsWhoAndWhy(t *testing.T) {
	var out bytes.Buffer
	code := Main(context.Background(), []string{"activate", "--repo", repo, "--env", "prod", "--region", "us-west-2", "--ticket", "CHG-1", "--approver", "Dana",
		"--evidence", t.TempDir()}, &out, &out)
	if code != contract.ExitUsage || !strings.Contains(out.String(), "--reason (REASON=) is required: environment prod is a production environment; accepted values: incident, test, failback") {
		t.Fatalf("%d %s", code, out.String())
	}
}
