//go:build unix

package drkit

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/valkey-dr/valkey-dr/contract"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// resign rewrites a kit as a forger would: edit scripts/prereqs, re-hash manifest.json and
// re-sign it with s (claiming claim as the key id when not "").
func resign(t *testing.T, src string, s evidence.Signer, claim string) string {
	t.Helper()
	evil := []byte("#!/bin/sh\necho owned > /tmp/owned\n")
	var manifest []byte
	// First pass: the edited file's hash into the manifest.
	out := rewrite(t, src, func(h *tar.Header, body []byte) ([]byte, bool) {
		if strings.HasSuffix(h.Name, "/"+PrereqsScript) {
			return evil, true
		}
		if strings.HasSuffix(h.Name, "/"+ManifestName) && !strings.Contains(h.Name, AssembliesDir) {
			var m Manifest
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			m.Files[PrereqsScript] = sha(evil)
			manifest, _ = json.MarshalIndent(m, "", "  ")
			return manifest, true
		}
		return body, true
	})
	// Second pass: signature.json over the new manifest.
	var signer evidence.Signer = s
	if claim != "" {
		signer = claimed{s, claim}
	}
	sig, err := evidence.SignManifest(context.Background(), signer, manifest)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := json.Marshal(sig)
	return rewrite(t, out, func(h *tar.Header, body []byte) ([]byte, bool) {
		if strings.HasSuffix(h.Name, "/"+SignatureName) {
			return sb, true
		}
		return body, true
	})
}

type claimed struct {
	evidence.Signer
	id string
}

func (c claimed) KeyID() string { return c.id }

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestOpenAuthenticatesBeforeExtracting(t *testing.T) {
	b, _ := buildKit(t)
	owner := trusted
	attacker := testSigner(t)
	tests := map[string]struct {
		kit  func(t *testing.T) string
		keys []evidence.TrustedKey
		want string
	}{
		"an unsigned kit": {kit: func(t *testing.T) string {
			return rewrite(t, b.Tarball, func(h *tar.Header, body []byte) ([]byte, bool) {
				return body, !strings.HasSuffix(h.Name, "/"+SignatureName)
			})
		}, keys: owner, want: "unsigned: the kit has no signature.json"},
		"a kit signed by a key the operator does not trust": {kit: func(t *testing.T) string { return b.Tarball },
			keys: []evidence.TrustedKey{evidence.TrustLocalSigner(attacker)}, want: "untrusted-key: signed by "},
		"a kit with no key trusted at all": {kit: func(t *testing.T) string { return b.Tarball },
			keys: nil, want: "no Ed25519 key is trusted here"},
		"an edited script, re-hashed and re-signed with another key claiming the trusted id": {kit: func(t *testing.T) string {
			return resign(t, b.Tarball, attacker, owner[0].ID)
		}, keys: owner, want: "signed by " + attacker.KeyID() + ", a key this verifier does not trust"},
		"an edited script, re-hashed, with the old signature": {kit: func(t *testing.T) string {
			return rewrite(t, resign(t, b.Tarball, attacker, ""), func(h *tar.Header, body []byte) ([]byte, bool) {
				if strings.HasSuffix(h.Name, "/"+SignatureName) {
					orig := readEntry(t, b.Tarball, SignatureName)
					return orig, true
				}
				return body, true
			})
		}, keys: owner, want: "bad-signature"},
		"a garbage signature.json": {kit: func(t *testing.T) string {
			return rewrite(t, b.Tarball, func(h *tar.Header, body []byte) ([]byte, bool) {
				if strings.HasSuffix(h.Name, "/"+SignatureName) {
					return []byte("\x1b[2J{"), true
				}
				return body, true
			})
		}, keys: owner, want: "signature.json is not a valkey-dr/evidence-signature/v1 signature"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dest := t.TempDir()
			_, err := Open(context.Background(), tc.kit(t), dest, tc.keys)
			if err == nil || !strings.Contains(err.Error(), tc.want) || procedure.ExitCode(err) != contract.ExitUsage ||
				!strings.Contains(err.Error(), "nothing was extracted") {
				t.Fatalf("err %v, want %q, exit 2, nothing extracted", err, tc.want)
			}
			if ents, _ := os.ReadDir(dest); len(ents) != 0 {
				t.Fatalf("a refused kit wrote %v", ents)
			}
			if _, err := os.Stat("/tmp/owned"); err == nil {
				t.Fatal("the kit's script ran")
			}
		})
	}
}

func readEntry(t *testing.T, tarball, rel string) []byte {
	t.Helper()
	var out []byte
	rewrite(t, tarball, func(h *tar.Header, body []byte) ([]byte, bool) {
		if strings.HasSuffix(h.Name, "/"+rel) && !strings.Contains(h.Name, AssembliesDir) {
			out = body
		}
		return body, true
	})
	return out
}

// TestOpenNeverTouchesAnythingItDidNotCreate: hostile names, a directory in the way, caps.
func TestOpenNeverTouchesAnythingItDidNotCreate(t *testing.T) {
	b, _ := buildKit(t)
	for name, kitFile := range map[string]string{
		"a kit named ..":            "...tar.gz",
		"a kit named .":             "..tar.gz",
		"a hidden name":             ".build.tar.gz",
		"a name with an escape":     "\x1b[2Jkit.tar.gz",
		"a name with spaces":        "my kit.tar.gz",
		"an over-long name":         strings.Repeat("k", 200) + ".tar.gz",
		"not a tarball name at all": "kit.zip",
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			dest := filepath.Join(root, ".build", "kit-run")
			sentinel := filepath.Join(root, ".build", "keep-me")
			if err := os.MkdirAll(dest, 0o750); err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(sentinel, []byte("x"), 0o640)
			src := filepath.Join(root, "in")
			_ = os.MkdirAll(filepath.Dir(filepath.Join(src, kitFile)), 0o750)
			data, _ := os.ReadFile(b.Tarball)
			_ = os.WriteFile(filepath.Join(src, kitFile), data, 0o640)
			_, err := Open(context.Background(), filepath.Join(src, kitFile), dest, trusted)
			if err == nil || procedure.ExitCode(err) != contract.ExitUsage || !strings.Contains(err.Error(), "want a kit tarball named") {
				t.Fatalf("err %v", err)
			}
			if strings.Contains(err.Error(), "\x1b") {
				t.Fatalf("raw escape in %q", err)
			}
			if _, err := os.Stat(sentinel); err != nil {
				t.Fatalf("a file Open did not create was removed: %v", err)
			}
		})
	}
	t.Run("a top directory of .. inside the kit", func(t *testing.T) {
		root := t.TempDir()
		dest := filepath.Join(root, ".build", "kit-run")
		sentinel := filepath.Join(root, ".build", "keep-me")
		_ = os.MkdirAll(dest, 0o750)
		_ = os.WriteFile(sentinel, []byte("x"), 0o640)
		bad := rewrite(t, b.Tarball, func(h *tar.Header, body []byte) ([]byte, bool) {
			h.Name = "../" + h.Name
			return body, true
		})
		if _, err := Open(context.Background(), bad, dest, trusted); err == nil || !strings.Contains(err.Error(), "outside the kit's directory") {
			t.Fatalf("err %v", err)
		}
		if _, err := os.Stat(sentinel); err != nil {
			t.Fatalf("removed: %v", err)
		}
		if ents, _ := os.ReadDir(dest); len(ents) != 0 {
			t.Fatalf("wrote %v", ents)
		}
	})
	t.Run("a directory in the way that drctl did not extract is kept", func(t *testing.T) {
		dest := t.TempDir()
		mine := filepath.Join(dest, strings.TrimSuffix(filepath.Base(b.Tarball), ".tar.gz"))
		_ = os.MkdirAll(mine, 0o750)
		_ = os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o640)
		if _, err := open(t, b.Tarball, dest); err == nil || !strings.Contains(err.Error(), "was not extracted by drctl: move it away") {
			t.Fatalf("err %v", err)
		}
		if d, _ := os.ReadFile(filepath.Join(mine, "notes.txt")); string(d) != "mine" {
			t.Fatal("the operator's directory was changed")
		}
		if ents, _ := os.ReadDir(dest); len(ents) != 1 {
			t.Fatalf("the temporary extraction was left behind: %v", ents)
		}
	})
	t.Run("entries each under the per-file cap but over the total are refused before writing", func(t *testing.T) {
		saved := limits
		t.Cleanup(func() { limits = saved })
		limits.total = 1 << 10 // the test kit's files hold a few KB
		dest := t.TempDir()
		_, err := open(t, b.Tarball, dest)
		if err == nil || !strings.Contains(err.Error(), "more than 1 KiB in total (the cap of a kit)") || !strings.Contains(err.Error(), "refused before writing anything") {
			t.Fatalf("err %v", err)
		}
		if ents, _ := os.ReadDir(dest); len(ents) != 0 {
			t.Fatalf("wrote %v", ents)
		}
	})
	t.Run("more entries than the cap", func(t *testing.T) {
		saved := limits
		t.Cleanup(func() { limits = saved })
		limits.entries = 5
		if _, err := open(t, b.Tarball, t.TempDir()); err == nil || !strings.Contains(err.Error(), "more than 5 entries") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a declared size over the per-file cap is refused unread", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "valkey-dr-kit-x.tar.gz")
		f, _ := os.Create(p)
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		_ = tw.WriteHeader(&tar.Header{Name: "valkey-dr-kit-x/big", Typeflag: tar.TypeReg, Size: MaxKitFileBytes + 1, Mode: 0o644})
		gz.Close()
		f.Close()
		if _, err := open(t, p, t.TempDir()); err == nil || !strings.Contains(err.Error(), "larger than the cap of 256 MiB for one file") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a FIFO or device as the kit path is refused at once", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "valkey-dr-kit-x.tar.gz")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(t.TempDir(), "valkey-dr-kit-y.tar.gz")
		_ = os.Symlink("/dev/zero", link)
		for _, p := range []string{fifo, link} {
			done := make(chan error, 1)
			go func() { _, err := open(t, p, t.TempDir()); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Fatalf("%s: %v", p, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: Open hung", p)
			}
		}
	})
}
