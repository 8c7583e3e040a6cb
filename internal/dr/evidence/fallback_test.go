package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kmsDown is a KMS signer whose every call fails as without credentials.
type kmsDown struct{}

func (kmsDown) Algorithm() string { return AlgECDSASHA256 }
func (kmsDown) KeyID() string     { return "arn:aws:kms:us-west-2:111111111111:key/k" }
func (kmsDown) PublicKey() []byte { return nil }
func (kmsDown) Sign(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("kms:Sign arn:aws:kms:us-west-2:111111111111:key/k: operation error KMS: Sign, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found")
}

// Issue 26, must-have 2: a production procedure whose KMS key cannot sign is still sealed,
// by the local key, and the signed manifest says "not KMS-signed: <why>"; verify reports it.
func TestKMSFailureSealsWithTheLocalKeyAndSaysSo(t *testing.T) {
	root := t.TempDir()
	local, _, err := LoadOrCreateLocalKey(filepath.Join(root, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBundle(filepath.Join(root, "evidence"), "valkey-dr-activate-prod-us-west-2-x")
	if err != nil {
		t.Fatal(err)
	}
	must(t, b.WriteFile("metadata.json", []byte("{}\n")))
	b.SignWith(&FallbackSigner{Signer: kmsDown{}, Fallback: func() (Signer, error) { return local, nil }},
		Manifest{Kind: "activate", Verdict: VerdictFail})
	s, err := b.SealContext(context.Background(), time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	want := "not KMS-signed: kms:Sign with arn:aws:kms:us-west-2:111111111111:key/k failed: no usable AWS credentials"
	if s.NotKMSSigned != want || s.KeyID != local.KeyID() {
		t.Fatalf("sealed NotKMSSigned %q key %q, want %q by %q", s.NotKMSSigned, s.KeyID, want, local.KeyID())
	}
	if _, err := os.Stat(s.Tarball); err != nil {
		t.Fatalf("no tarball: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir, FileManifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	must(t, json.Unmarshal(data, &m))
	if m.NotKMSSigned != want {
		t.Errorf("manifest.json notKmsSigned = %q, want %q", m.NotKMSSigned, want)
	}
	for _, p := range []string{s.Dir, s.Tarball} {
		r := verifyDir(t, p, VerifyOptions{Keys: []TrustedKey{TrustLocalSigner(local)}})
		if !r.OK() || r.NotKMSSigned != want || r.Algorithm != AlgEd25519 {
			t.Errorf("verify %s: ok=%v findings %s notKmsSigned %q alg %s", filepath.Base(p), r.OK(), kinds(r), r.NotKMSSigned, r.Algorithm)
		}
	}
}

// When the local key cannot sign either, sealing fails and names both causes.
func TestKMSAndLocalKeyFailureNamesBoth(t *testing.T) {
	root := t.TempDir()
	b, err := NewBundle(filepath.Join(root, "evidence"), "b")
	if err != nil {
		t.Fatal(err)
	}
	must(t, b.WriteFile("metadata.json", []byte("{}\n")))
	b.SignWith(&FallbackSigner{Signer: kmsDown{}, Fallback: func() (Signer, error) { return nil, errors.New("disk full") }}, Manifest{Kind: "activate"})
	_, err = b.SealContext(context.Background(), time.Now())
	if err == nil || !strings.Contains(err.Error(), "get credentials") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("seal error %v, want both causes", err)
	}
}

// Issue 26: a bit flipped anywhere in a sealed .tar.gz is a damaged archive, never files
// "edited" (the gzip CRC is read to the end).
func TestDamagedTarballIsReportedDamaged(t *testing.T) {
	s, signer := sealedSigned(t)
	data, err := os.ReadFile(s.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{12, len(data) / 4, len(data) / 2, 3 * len(data) / 4, len(data) - 6} {
		d := append([]byte(nil), data...)
		d[off] ^= 0x01
		p := filepath.Join(t.TempDir(), "b.tar.gz")
		must(t, os.WriteFile(p, d, 0o600))
		c, err := ReadBundle(p)
		var refused *RefusedError
		if !errors.As(err, &refused) || !refused.Damaged || !strings.Contains(err.Error(), "damaged archive") {
			r := "read"
			if c != nil {
				r = kinds(Verify(context.Background(), c, VerifyOptions{Keys: []TrustedKey{TrustLocalSigner(signer)}}))
			}
			t.Errorf("bit %d of %d flipped: err %v (%s), want a damaged archive", off, len(data), err, r)
			continue
		}
		if r := RefusedReport("b.tar.gz", refused); len(r.Findings) != 1 || r.Findings[0].Kind != Damaged {
			t.Errorf("report %+v, want one damaged finding", r.Findings)
		}
	}
}

// Issue 26: runs creating the evidence key at once on a fresh machine all get the one key
// (seen as "open ~/.config/valkey-dr/evidence-ed25519.key: file exists" before issue 23).
func TestConcurrentKeyCreationMakesOneKey(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "fresh", "config", "evidence-ed25519.key")
		const runs = 8
		ids := make(chan string, runs)
		errs := make(chan error, runs)
		for range runs {
			go func() {
				s, _, err := LoadOrCreateLocalKey(path)
				if err != nil {
					errs <- err
					return
				}
				ids <- s.KeyID()
			}()
		}
		first := ""
		for range runs {
			select {
			case err := <-errs:
				t.Fatalf("round %d: %v", round, err)
			case id := <-ids:
				if first == "" {
					first = id
				} else if id != first {
					t.Fatalf("round %d: two keys made: %s and %s", round, first, id)
				}
			}
		}
	}
}
