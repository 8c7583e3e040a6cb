package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
)

// prodKMS is cdk.json's evidence.signingKeyArn of environment prod.
const prodKMS = "arn:aws:kms:us-west-2:333333333333:key/9d6a2e5c-7f1b-4c3d-8e4a-5b6c7d8e9fa0"

// isolate points the default config dir (trusted-keys file, local key) at an empty temp dir
// and keeps the AWS SDK off the network: a verify test must not read the developer's keys.
func isolate(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
}

// p256 is a KMS-like ECC_NIST_P256 key (the real signer is evidence.KMSSigner).
type p256 struct {
	k  *ecdsa.PrivateKey
	id string
}

func (p p256) Algorithm() string { return evidence.AlgECDSASHA256 }
func (p p256) KeyID() string     { return p.id }
func (p p256) PublicKey() []byte { return nil }
func (p p256) Sign(_ context.Context, m []byte) ([]byte, error) {
	sum := sha256.Sum256(m)
	return ecdsa.SignASN1(rand.Reader, p.k, sum[:])
}

// deadKMS is a KMS key that cannot sign (no credentials).
type deadKMS struct{}

func (deadKMS) Algorithm() string { return evidence.AlgECDSASHA256 }
func (deadKMS) KeyID() string     { return prodKMS }
func (deadKMS) PublicKey() []byte { return nil }
func (deadKMS) Sign(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("get identity: get credentials: failed to refresh cached credentials")
}

func (p p256) pem(t *testing.T, dir string) string {
	der, err := x509.MarshalPKIXPublicKey(&p.k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "kms-pin.pem")
	if err := os.WriteFile(f, []byte(evidence.PublicKeyPEM(der, p.id)), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// relabel signs with one key and claims another's id: the forger.
type relabel struct {
	evidence.Signer
	claim string
}

func (r relabel) KeyID() string { return r.claim }

func seal(t *testing.T, root string, s evidence.Signer, verdict string, files map[string]string) *evidence.Sealed {
	t.Helper()
	b, err := evidence.NewBundle(root, "bundle")
	if err != nil {
		t.Fatal(err)
	}
	_ = b.WriteFile("metadata.json", []byte(`{"verdict":"`+verdict+`"}`+"\n"))
	for rel, data := range files {
		if err := b.WriteFile(rel, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	b.SignWith(s, evidence.Manifest{Kind: "drill", Label: "LOCAL STAND-IN, NOT A DEPLOYMENT", Verdict: verdict})
	sealed, err := b.SealContext(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// forgeBundle edits metadata.json (fail -> pass), re-hashes manifest.json and re-signs it.
func forgeBundle(t *testing.T, dir string, s evidence.Signer) {
	t.Helper()
	edited := []byte(`{"verdict":"pass"}` + "\n")
	if err := os.WriteFile(filepath.Join(dir, "metadata.json"), edited, 0o640); err != nil {
		t.Fatal(err)
	}
	mp := filepath.Join(dir, evidence.FileManifestJSON)
	var m evidence.Manifest
	data, _ := os.ReadFile(mp)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m.Verdict = evidence.VerdictPass
	for i := range m.Files {
		if m.Files[i].Path == "metadata.json" {
			sum := sha256.Sum256(edited)
			m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), int64(len(edited))
		}
	}
	out, _ := json.MarshalIndent(m, "", "  ")
	out = append(out, '\n')
	sig, err := evidence.SignManifest(context.Background(), s, out)
	if err != nil {
		t.Fatal(err)
	}
	sdata, _ := json.MarshalIndent(sig, "", "  ")
	for p, d := range map[string][]byte{mp: out, filepath.Join(dir, evidence.FileSignature): sdata} {
		if err := os.WriteFile(p, d, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

func run(args ...string) (int, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String() + errb.String()
}

func TestVerifyCommand(t *testing.T) {
	isolate(t)
	keys := t.TempDir()
	key := filepath.Join(keys, "k.key")
	signer, _, err := evidence.LoadOrCreateLocalKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := filepath.Join(keys, "drill.pem")
	if err := os.WriteFile(pubPEM, []byte(evidence.PublicKeyPEM(signer.PublicKey(), "")), 0o644); err != nil {
		t.Fatal(err)
	}
	attacker, _, err := evidence.LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "attacker.key"))
	if err != nil {
		t.Fatal(err)
	}
	kms := p256{id: prodKMS}
	if kms.k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	forgerKMS := p256{id: prodKMS}
	forgerKMS.k, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	none := filepath.Join(keys, "none")

	tests := map[string]struct {
		// bundle returns the path to verify; args are the flags.
		bundle    func(t *testing.T) string
		args      func(t *testing.T) []string
		code      int
		want      []string
		forbidden []string
	}{
		"a clean bundle, the local key trusted": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), signer, "pass", nil).Tarball },
			args:   func(*testing.T) []string { return []string{"--signing-key", key} },
			want:   []string{"VERIFIED (drill, verdict pass): ", "signed by trusted key " + signer.KeyID() + " from " + key},
		},
		"KMS could not sign: sealed by the local key, reported NOT KMS-SIGNED": {
			bundle: func(t *testing.T) string {
				fb := &evidence.FallbackSigner{Signer: deadKMS{}, Fallback: func() (evidence.Signer, error) { return signer, nil }}
				return seal(t, t.TempDir(), fb, "fail", nil).Tarball
			},
			args: func(*testing.T) []string { return []string{"--signing-key", key} },
			want: []string{"NOT KMS-SIGNED: ", "not KMS-signed: kms:Sign with " + prodKMS + " failed: no usable AWS credentials"},
		},
		"a clean bundle, its public key in a trusted-keys file": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), signer, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--signing-key", none, "--trusted-key", pubPEM} },
			want:   []string{"VERIFIED (drill, verdict pass): ", "from " + pubPEM},
		},
		"a failed drill is never a plain VERIFIED": {
			bundle:    func(t *testing.T) string { return seal(t, t.TempDir(), signer, "fail", nil).Tarball },
			args:      func(*testing.T) []string { return []string{"--signing-key", key} },
			want:      []string{"VERIFIED, VERDICT FAIL: an intact drill bundle recording a run that did NOT pass"},
			forbidden: []string{"VERIFIED ("},
		},
		"an interrupted drill is never a plain VERIFIED": {
			bundle:    func(t *testing.T) string { return seal(t, t.TempDir(), signer, "interrupted", nil).Tarball },
			args:      func(*testing.T) []string { return []string{"--signing-key", key} },
			want:      []string{"VERIFIED, VERDICT INTERRUPTED"},
			forbidden: []string{"VERIFIED ("},
		},
		"edited, re-hashed, re-signed with another key claiming the trusted id (local key)": {
			bundle: func(t *testing.T) string {
				s := seal(t, t.TempDir(), signer, "fail", nil)
				forgeBundle(t, s.Dir, relabel{attacker, signer.KeyID()})
				return s.Dir
			},
			args: func(*testing.T) []string { return []string{"--signing-key", key} },
			code: contract.ExitTampered,
			want: []string{"NOT VERIFIED", "untrusted-key: signature.json: signed by " + attacker.KeyID() + ", a key this verifier does not trust",
				"claims key id \"" + signer.KeyID() + "\", which that key is not"},
			forbidden: []string{"VERIFIED ("},
		},
		"the same forgery against --trusted-key": {
			bundle: func(t *testing.T) string {
				s := seal(t, t.TempDir(), signer, "fail", nil)
				forgeBundle(t, s.Dir, relabel{attacker, signer.KeyID()})
				return s.Dir
			},
			args: func(*testing.T) []string { return []string{"--signing-key", none, "--trusted-key", pubPEM} },
			code: contract.ExitTampered,
			want: []string{"signed by " + attacker.KeyID() + ", a key this verifier does not trust"},
		},
		"a KMS bundle verified offline against the pinned public key": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), kms, "pass", nil).Tarball },
			args: func(t *testing.T) []string {
				return []string{"--signing-key", none, "--trusted-key", kms.pem(t, t.TempDir())}
			},
			want: []string{"VERIFIED (drill, verdict pass)", "signed by trusted key " + prodKMS + " [SHA256:"},
		},
		"a KMS bundle re-signed by a forger claiming the ARN, against the pin": {
			bundle: func(t *testing.T) string {
				s := seal(t, t.TempDir(), kms, "fail", nil)
				forgeBundle(t, s.Dir, forgerKMS)
				return s.Dir
			},
			args: func(t *testing.T) []string {
				return []string{"--signing-key", none, "--trusted-key", kms.pem(t, t.TempDir()), "--env", "prod", "--repo", repo}
			},
			code: contract.ExitTampered,
			want: []string{"bad-signature: signature.json: the signature verifies with no trusted key"},
		},
		"a KMS bundle offline with --env and nothing pinned is not verified, and says why": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), kms, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--signing-key", none, "--env", "prod", "--repo", repo} },
			code:   contract.ExitTampered,
			want:   []string{"unverifiable: signature.json: " + prodKMS + " could not be asked", "offline verification of a KMS signature works only with the key's public key pinned"},
		},
		"a KMS bundle with no trust at all": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), kms, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--signing-key", none} },
			code:   contract.ExitTampered,
			want:   []string{"no KMS (ECDSA_SHA_256) key is trusted here", "aws kms get-public-key"},
		},
		"nothing trusted": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), signer, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--signing-key", none} },
			code:   contract.ExitTampered,
			want:   []string{"no Ed25519 key is trusted here: pass the signer's public key with --trusted-key"},
		},
		"a key id given as --trusted-key is refused": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), signer, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--trusted-key", signer.KeyID()} },
			code:   contract.ExitUsage,
			want:   []string{"--trusted-key \"" + signer.KeyID() + "\": a key id proves nothing"},
		},
		"a KMS ARN given as --trusted-key is refused": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), signer, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--trusted-key", prodKMS} },
			code:   contract.ExitUsage,
			want:   []string{"a key id proves nothing", "aws kms get-public-key --key-id"},
		},
		"a missing trusted-keys file": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), signer, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--trusted-key", filepath.Join(keys, "nope.pem")} },
			code:   contract.ExitUsage,
			want:   []string{"--trusted-key \"" + filepath.Join(keys, "nope.pem") + "\": "},
		},
		"a private key given as --trusted-key": {
			bundle: func(t *testing.T) string { return seal(t, t.TempDir(), signer, "pass", nil).Dir },
			args:   func(*testing.T) []string { return []string{"--trusted-key", key} },
			code:   contract.ExitUsage,
			want:   []string{`PEM block 1 is "PRIVATE KEY"`},
		},
		"an added file": {
			bundle: func(t *testing.T) string {
				s := seal(t, t.TempDir(), signer, "pass", nil)
				_ = os.WriteFile(filepath.Join(s.Dir, "added.txt"), []byte("x"), 0o640)
				return s.Dir
			},
			args: func(*testing.T) []string { return []string{"--signing-key", key} },
			code: contract.ExitTampered,
			want: []string{"added: added.txt"},
		},
		"a missing bundle": {
			bundle: func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") },
			args:   func(*testing.T) []string { return nil },
			code:   contract.ExitUsage,
			want:   []string{"want a bundle directory or its .tar.gz"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := tc.bundle(t)
			code, out := run(append([]string{"verify", path}, tc.args(t)...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
			for _, f := range tc.forbidden {
				if strings.Contains(out, f) {
					t.Fatalf("output holds %q:\n%s", f, out)
				}
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
				t.Fatalf("a Go trace:\n%s", out)
			}
		})
	}
	if code, out := run("archive", filepath.Join(t.TempDir(), "x.tar.gz")); code != contract.ExitUsage || !strings.Contains(out, "--env is required") {
		t.Fatalf("archive without env: %d %s", code, out)
	}
}

// TestPrintersEscapeControlSequences feeds control sequences through every printer of the
// verify, archive and kit paths: bundle entry names, kinds, labels, verdicts, key ids,
// command-line values. No raw ESC, CR, BS or C1 byte reaches the terminal.
func TestPrintersEscapeControlSequences(t *testing.T) {
	isolate(t)
	const evil = "\x1b[2J\x1b[H\x1b[32mVERIFIED\x1b[0m\r\b\u009b31m\u202e"
	key := filepath.Join(t.TempDir(), "k.key")
	signer, _, err := evidence.LoadOrCreateLocalKey(key)
	if err != nil {
		t.Fatal(err)
	}
	hostileBundle := func(t *testing.T) string {
		s := seal(t, t.TempDir(), signer, "pass", map[string]string{"x" + evil: "x"})
		_ = os.WriteFile(filepath.Join(s.Dir, "added"+evil), []byte("x"), 0o640)
		return s.Dir
	}
	hostileManifest := func(t *testing.T) string {
		b, err := evidence.NewBundle(t.TempDir(), "bundle")
		if err != nil {
			t.Fatal(err)
		}
		_ = b.WriteFile("metadata.json", []byte("{}\n"))
		b.SignWith(signer, evidence.Manifest{Kind: "drill" + evil, Label: "LABEL" + evil, Verdict: "fail" + evil})
		s, err := b.SealContext(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return s.Tarball
	}
	forgedClaim := func(t *testing.T) string {
		s := seal(t, t.TempDir(), signer, "pass", nil)
		other, _, _ := evidence.LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "o.key"))
		forgeBundle(t, s.Dir, relabel{other, "ed25519:" + evil})
		return s.Dir
	}
	linkName := func(t *testing.T) string {
		s := seal(t, t.TempDir(), signer, "pass", nil)
		_ = os.Symlink("/dev/zero", filepath.Join(s.Dir, "l"+evil))
		return s.Dir
	}
	for name, args := range map[string]func(t *testing.T) []string{
		"verify: entry names (added, listed)": func(t *testing.T) []string { return []string{"verify", "--signing-key", key, hostileBundle(t)} },
		"verify: kind, label, verdict":        func(t *testing.T) []string { return []string{"verify", "--signing-key", key, hostileManifest(t)} },
		"verify: a forged key id":             func(t *testing.T) []string { return []string{"verify", "--signing-key", key, forgedClaim(t)} },
		"verify: a refused link's name":       func(t *testing.T) []string { return []string{"verify", "--signing-key", key, linkName(t)} },
		"verify: the path argument":           func(t *testing.T) []string { return []string{"verify", filepath.Join(t.TempDir(), evil)} },
		"verify: a --trusted-key value":       func(t *testing.T) []string { return []string{"verify", "--trusted-key", "arn:" + evil, "x"} },
		"verify: an unknown flag":             func(t *testing.T) []string { return []string{"verify", "--" + evil, "x"} },
		"verify: --env": func(t *testing.T) []string {
			return []string{"verify", "--repo", repo, "--env", evil, "--signing-key", key, hostileBundle(t)}
		},
		"archive: the kind of a verified bundle": func(t *testing.T) []string {
			return []string{"archive", "--repo", repo, "--env", "prod", "--signing-key", key, hostileManifest(t)}
		},
		"archive: the path argument": func(t *testing.T) []string { return []string{"archive", "--env", "prod", "--repo", repo, evil} },
		"an unknown command":         func(*testing.T) []string { return []string{evil} },
		"activate --kit: the kit path": func(t *testing.T) []string {
			return []string{"activate", "--kit", filepath.Join(t.TempDir(), evil+".tar.gz")}
		},
		"activate --kit: a kit name with escapes": func(t *testing.T) []string { return []string{"activate", "--kit", evil} },
		"verify --json: every string is JSON-escaped": func(t *testing.T) []string {
			return []string{"verify", "--json", "--signing-key", key, hostileManifest(t)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, out := run(args(t)...)
			if i := strings.IndexFunc(out, func(r rune) bool {
				return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u202e'
			}); i >= 0 {
				t.Fatalf("raw control character %q at %d:\n%q", out[i], i, out)
			}
			if !strings.Contains(out, `\x1b[2J`) && !strings.Contains(out, `\u001b[2J`) {
				t.Fatalf("the hostile value was not printed escaped:\n%s", out)
			}
		})
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
