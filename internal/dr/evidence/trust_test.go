package evidence

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ecdsaKey is a KMS-like ECC_NIST_P256 signer held in the test (the real KMS signer is
// KMSSigner in kms.go); pub decides whether signature.json carries its public key.
type ecdsaKey struct {
	k   *ecdsa.PrivateKey
	id  string
	pub bool
}

func newECDSA(t *testing.T, id string, pub bool) *ecdsaKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &ecdsaKey{k: k, id: id, pub: pub}
}

func (e *ecdsaKey) Algorithm() string { return AlgECDSASHA256 }
func (e *ecdsaKey) KeyID() string     { return e.id }
func (e *ecdsaKey) der() []byte {
	der, _ := x509.MarshalPKIXPublicKey(&e.k.PublicKey)
	return der
}
func (e *ecdsaKey) PublicKey() []byte {
	if !e.pub {
		return nil
	}
	return e.der()
}
func (e *ecdsaKey) Sign(_ context.Context, m []byte) ([]byte, error) {
	sum := sha256.Sum256(m)
	return ecdsa.SignASN1(rand.Reader, e.k, sum[:])
}

// claiming signs with one key but writes another key id (and optionally another public
// key) into signature.json: the forger of issue 23.
type claiming struct {
	Signer
	claim string
	pub   []byte
}

func (c claiming) KeyID() string { return c.claim }
func (c claiming) PublicKey() []byte {
	if c.pub != nil {
		return c.pub
	}
	return c.Signer.PublicKey()
}

// forge edits validation/summary.md of a sealed bundle directory, re-hashes manifest.json
// and re-signs it with s: everything an insider can do without the trusted key.
func forge(t *testing.T, dir string, s Signer) {
	t.Helper()
	out := editAndRehash(t, dir, []byte("# LOCAL STAND-IN\nPASS (the FAIL was here)\n"))
	sig, err := SignManifest(context.Background(), s, out)
	must(t, err)
	sdata, _ := json.MarshalIndent(sig, "", "  ")
	must(t, os.WriteFile(filepath.Join(dir, FileSignature), sdata, 0o640))
}

// editAndRehash writes edited as validation/summary.md of a sealed bundle directory and
// re-hashes it in manifest.json (without re-signing); it returns the new manifest.
func editAndRehash(t *testing.T, dir string, edited []byte) []byte {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(dir, "validation", "summary.md"), edited, 0o640))
	mp := filepath.Join(dir, FileManifestJSON)
	var m Manifest
	data, _ := os.ReadFile(mp)
	must(t, json.Unmarshal(data, &m))
	for i := range m.Files {
		if m.Files[i].Path == "validation/summary.md" {
			sum := sha256.Sum256(edited)
			m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), int64(len(edited))
		}
	}
	out, _ := marshalManifest(m)
	must(t, os.WriteFile(mp, out, 0o640))
	return out
}

// sealedWith seals the sealedSigned bundle with any signer.
func sealedWith(t *testing.T, s Signer, verdict string) *Sealed {
	t.Helper()
	b, err := NewBundle(filepath.Join(t.TempDir(), "evidence"), "bundle-1")
	must(t, err)
	for rel, data := range map[string]string{"metadata.json": `{"verdict":"` + verdict + `"}` + "\n", "validation/summary.md": "# LOCAL STAND-IN\nFAIL\n"} {
		must(t, b.WriteFile(rel, []byte(data)))
	}
	b.SignWith(s, Manifest{Kind: "activate", Verdict: verdict})
	sealed, err := b.SealContext(context.Background(), nowForTest)
	must(t, err)
	return sealed
}

// onlineKMS is kms:Verify with the configured key: err is what the service answers.
type onlineKMS struct {
	key *ecdsaKey
	err error
}

func (o onlineKMS) Verify(_ context.Context, sig Signature, m []byte) error {
	if o.err != nil {
		return o.err
	}
	if k, _ := parsePublicKey(o.key.der()); verifyWith(k.Public, sig.Algorithm, m, decode(sig.Value)) {
		return nil
	}
	return fmt.Errorf("kms:Verify: %w", ErrSignatureInvalid)
}

func TestVerifyTrustsOnlyKeysTheVerifierHolds(t *testing.T) {
	const arn = "arn:aws:kms:us-west-2:111122223333:key/trusted"
	trustedKMS := newECDSA(t, arn, false)
	attackerKMS := newECDSA(t, arn, false)
	pinned := func() TrustedKey {
		k, err := parsePublicKey(trustedKMS.der())
		must(t, err)
		k.ID, k.Source = arn, "pin.pem"
		return k
	}
	tests := map[string]struct {
		// seal returns the bundle directory to verify and the trusted keys.
		seal      func(t *testing.T) (string, []TrustedKey)
		wantKind  FindingKind
		wantParts []string
	}{
		"re-signed with another Ed25519 key claiming the trusted key id": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s, signer := sealedSigned(t)
				attacker, _, err := LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "a.key"))
				must(t, err)
				forge(t, s.Dir, claiming{Signer: attacker, claim: signer.KeyID()})
				return s.Dir, []TrustedKey{TrustLocalSigner(signer)}
			},
			wantKind:  UntrustedKey,
			wantParts: []string{"a key this verifier does not trust", "claims key id"},
		},
		"re-signed with another key that carries the trusted public key": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s, signer := sealedSigned(t)
				attacker, _, err := LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "a.key"))
				must(t, err)
				forge(t, s.Dir, claiming{Signer: attacker, claim: signer.KeyID(), pub: signer.PublicKey()})
				return s.Dir, []TrustedKey{TrustLocalSigner(signer)}
			},
			wantKind:  BadSignature,
			wantParts: []string{"verifies with no trusted key, nor with the key signature.json carries"},
		},
		"re-signed with an ECDSA key claiming the KMS ARN, checked against the pinned key": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s := sealedWith(t, trustedKMS, VerdictPass)
				forge(t, s.Dir, attackerKMS)
				return s.Dir, []TrustedKey{pinned()}
			},
			wantKind:  BadSignature,
			wantParts: []string{"carries no public key", arn + " [SHA256:"},
		},
		"re-signed with an ECDSA key that carries itself, claiming the KMS ARN": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s := sealedWith(t, trustedKMS, VerdictPass)
				forge(t, s.Dir, &ecdsaKey{k: attackerKMS.k, id: arn, pub: true})
				return s.Dir, []TrustedKey{pinned()}
			},
			wantKind:  UntrustedKey,
			wantParts: []string{"signed by ecdsa-p256:SHA256:", "claims key id \"" + arn + "\""},
		},
		"re-signed with an ECDSA key claiming the KMS ARN, checked by kms:Verify": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s := sealedWith(t, trustedKMS, VerdictPass)
				forge(t, s.Dir, attackerKMS)
				return s.Dir, []TrustedKey{{ID: arn, Algorithm: AlgECDSASHA256, Online: onlineKMS{key: trustedKMS}, Source: "cdk.json"}}
			},
			wantKind:  BadSignature,
			wantParts: []string{"verifies with no trusted key"},
		},
		"a KMS bundle offline with no pinned key": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				return sealedWith(t, trustedKMS, VerdictPass).Dir, nil
			},
			wantKind:  UntrustedKey,
			wantParts: []string{"no KMS (ECDSA_SHA_256) key is trusted here", "aws kms get-public-key"},
		},
		"a KMS bundle when kms:Verify cannot be reached and nothing is pinned": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s := sealedWith(t, trustedKMS, VerdictPass)
				return s.Dir, []TrustedKey{{ID: arn, Algorithm: AlgECDSASHA256, Online: onlineKMS{err: errors.New("no credentials")}, Source: "cdk.json"}}
			},
			wantKind:  Unverifiable,
			wantParts: []string{"could not be asked: no credentials", "offline verification of a KMS signature works only with the key's public key pinned"},
		},
		"an Ed25519 bundle with no key trusted": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s, _ := sealedSigned(t)
				return s.Dir, nil
			},
			wantKind:  UntrustedKey,
			wantParts: []string{"no Ed25519 key is trusted here", "--trusted-key"},
		},
		"a signature that is not base64": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s, signer := sealedSigned(t)
				editSig(t, s.Dir, func(sig *Signature) { sig.Value = "%%%" })
				return s.Dir, []TrustedKey{TrustLocalSigner(signer)}
			},
			wantKind:  BadSignature,
			wantParts: []string{"not base64"},
		},
		"an unknown algorithm with an escape sequence": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s, signer := sealedSigned(t)
				editSig(t, s.Dir, func(sig *Signature) { sig.Algorithm = "none\x1b[2J" })
				return s.Dir, []TrustedKey{TrustLocalSigner(signer)}
			},
			wantKind:  BadSignature,
			wantParts: []string{`"none\x1b[2J": accepted: Ed25519, ECDSA_SHA_256`},
		},
		"an Ed25519 signature relabelled ECDSA": {
			seal: func(t *testing.T) (string, []TrustedKey) {
				s, signer := sealedSigned(t)
				editSig(t, s.Dir, func(sig *Signature) { sig.Algorithm = AlgECDSASHA256 })
				return s.Dir, []TrustedKey{TrustLocalSigner(signer), pinned()}
			},
			wantKind:  BadSignature,
			wantParts: []string{"verifies with no trusted key"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir, keys := tc.seal(t)
			r := verifyDir(t, dir, VerifyOptions{Keys: keys})
			if r.OK() || r.KeyID != "" {
				t.Fatalf("accepted: %+v", r)
			}
			last := r.Findings[len(r.Findings)-1]
			if last.Kind != tc.wantKind {
				t.Fatalf("finding %s, want %s: %v", last.Kind, tc.wantKind, r.Findings)
			}
			for _, p := range tc.wantParts {
				if !strings.Contains(last.Detail, p) {
					t.Fatalf("finding lacks %q: %s", p, last.Detail)
				}
			}
			if strings.ContainsAny(last.Detail, "\x1b\r") {
				t.Fatalf("finding holds a raw control character: %q", last.Detail)
			}
		})
	}
}

func TestVerifyAcceptsTheTrustedKeyAndReportsTheVerdict(t *testing.T) {
	const arn = "arn:aws:kms:us-west-2:111122223333:key/trusted"
	kms := newECDSA(t, arn, false)
	pinFile := filepath.Join(t.TempDir(), "trusted-keys.pem")
	must(t, os.WriteFile(pinFile, []byte(PublicKeyPEM(kms.der(), arn)), 0o644))
	pins, err := LoadTrustedKeys(pinFile)
	if err != nil || len(pins) != 1 || pins[0].ID != arn {
		t.Fatalf("pins %+v %v", pins, err)
	}
	for _, verdict := range []string{VerdictPass, VerdictFail, VerdictInterrupted} {
		s := sealedWith(t, kms, verdict)
		for name, keys := range map[string][]TrustedKey{
			"pinned offline": pins,
			"kms:Verify":     {{ID: arn, Algorithm: AlgECDSASHA256, Online: onlineKMS{key: kms}, Source: "cdk.json"}},
		} {
			r := verifyDir(t, s.Dir, VerifyOptions{Keys: keys})
			if !r.OK() || r.KeyID != arn || r.Verdict != verdict || r.Kind != "activate" {
				t.Fatalf("%s, %s: %+v", name, verdict, r)
			}
		}
	}
	// A bundle sealed before manifest.json carried the verdict: metadata.json's, once signed.
	s := sealedWith(t, kms, "")
	if r := verifyDir(t, s.Dir, VerifyOptions{Keys: pins}); !r.OK() || r.Verdict != VerdictUnknown {
		t.Fatalf("no verdict: %+v", r)
	}
}

func TestLoadTrustedKeysRefusesWhatIsNotAPublicKey(t *testing.T) {
	ec := newECDSA(t, "", false)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsader, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	local, _, err := LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "l.key"))
	must(t, err)
	privPEM, _ := os.ReadFile(local.Path)
	good := PublicKeyPEM(ec.der(), "")
	tests := map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"an empty file":               {"", 0o644, "want one or more PEM"},
		"a private key":               {string(privPEM), 0o600, `PEM block 1 is "PRIVATE KEY"`},
		"a certificate block":         {strings.Replace(good, "PUBLIC KEY", "CERTIFICATE", 2), 0o644, `is "CERTIFICATE"`},
		"an RSA key":                  {PublicKeyPEM(rsader, ""), 0o644, "accepted: Ed25519, ECDSA P-256"},
		"a P-384 key":                 {PublicKeyPEM(p384der, ""), 0o644, "on P-384: accepted: P-256"},
		"garbage after the key":       {good + "trailing junk\n", 0o644, "and nothing else"},
		"a key id only, no key":       {"ed25519:SHA256:abc\n", 0o644, "want one or more PEM"},
		"an Ed25519 key with a label": {PublicKeyPEM(local.PublicKey(), "arn:aws:kms:x"), 0o644, "remove the Key-Id header"},
		"a file others can write":     {good, 0o666, "lets others change which keys are trusted"},
		"a truncated key":             {good[:len(good)-40], 0o644, "want one or more PEM"},
		"a corrupt key body":          {strings.Replace(good, "M", "A", 3), 0o644, "not a public key"},
		"a well-formed key":           {good + PublicKeyPEM(local.PublicKey(), ""), 0o644, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "keys.pem")
			must(t, os.WriteFile(p, []byte(tc.content), 0o600))
			must(t, os.Chmod(p, tc.mode))
			keys, err := LoadTrustedKeys(p)
			if tc.want == "" {
				if err != nil || len(keys) != 2 || keys[1].ID != local.KeyID() || !strings.HasPrefix(keys[0].ID, "ecdsa-p256:SHA256:") {
					t.Fatalf("%+v %v", keys, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	big := filepath.Join(t.TempDir(), "big.pem")
	must(t, os.WriteFile(big, make([]byte, maxTrustedKeysBytes+1), 0o644))
	if _, err := LoadTrustedKeys(big); err == nil || !strings.Contains(err.Error(), "larger than the cap") {
		t.Fatalf("an oversized file: %v", err)
	}
	if _, err := LoadTrustedKeys("/dev/zero"); err == nil {
		t.Fatal("an endless file was accepted")
	}
}

func editSig(t *testing.T, dir string, edit func(*Signature)) {
	t.Helper()
	p := filepath.Join(dir, FileSignature)
	var sig Signature
	data, _ := os.ReadFile(p)
	must(t, json.Unmarshal(data, &sig))
	edit(&sig)
	out, _ := json.Marshal(sig)
	must(t, os.WriteFile(p, out, 0o640))
}

func decode(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

var nowForTest = time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
