package evidence

// This file makes a bundle tamper-evident: manifest.json (every file's path, SHA256 and size,
// plus the provenance) is signed, and the signature lands in signature.json. SHA256SUMS alone
// proves nothing: whoever edits a file can regenerate it. The private key never enters the
// bundle or the logs; only the public key and its fingerprint do.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/safefile"
)

// Signature algorithms.
const (
	// AlgEd25519 is the local drill key (pure Ed25519 over manifest.json).
	AlgEd25519 = "Ed25519"
	// AlgECDSASHA256 is KMS's ECDSA_SHA_256 over the SHA-256 digest of manifest.json
	// (ASN.1 DER signature, as kms:Sign returns it).
	AlgECDSASHA256 = "ECDSA_SHA_256"
)

// Schema ids of the signed files.
const (
	ManifestSchema  = "valkey-dr/evidence-manifest/v1"
	SignatureSchema = "valkey-dr/evidence-signature/v1"
)

// Signer signs a manifest. Implementations: LocalSigner (Ed25519 key file, drills) and
// KMSSigner (kms.go: KMS asymmetric key, real accounts).
type Signer interface {
	// Algorithm is AlgEd25519 or AlgECDSASHA256.
	Algorithm() string
	// KeyID names the key: a KMS key ARN, or "ed25519:SHA256:<fingerprint>".
	KeyID() string
	// PublicKey is the DER SubjectPublicKeyInfo, or nil when only the signer's service can
	// verify (KMS without a GetPublicKey call).
	PublicKey() []byte
	// Sign signs message (manifest.json's bytes).
	Sign(ctx context.Context, message []byte) ([]byte, error)
}

// Verifier checks a signature through a service that holds the trusted key (kms:Verify with
// the configured key ARN, never the one signature.json names). A signature that is not the
// key's is an error wrapping ErrSignatureInvalid.
type Verifier interface {
	Verify(ctx context.Context, sig Signature, message []byte) error
}

// Manifest is manifest.json.
type Manifest struct {
	Schema string `json:"schema"`
	// Bundle is the bundle directory name (also the top directory of the tarball).
	Bundle string `json:"bundle"`
	// SealedAt is when the bundle was sealed (UTC).
	SealedAt string `json:"sealedAt"`
	// Kind is the procedure (drill, activate, failback, teardown).
	Kind string `json:"kind"`
	// Label says what the target was: "LOCAL STAND-IN, NOT A DEPLOYMENT" for drills.
	Label string `json:"label,omitempty"`
	// Verdict is the procedure's outcome as sealed (pass, fail, interrupted): signed, so
	// verify prints it beside VERIFIED and a failed drill never reads as a plain pass.
	Verdict string `json:"verdict,omitempty"`
	// Provenance is who ran it and why.
	Provenance *Provenance `json:"provenance,omitempty"`
	// NotKMSSigned is "not KMS-signed: <reason>" when the procedure's KMS key could not sign
	// and the local key sealed the bundle instead (FallbackSigner): signed, so the bundle can
	// never pass for KMS-signed, and verify prints it.
	NotKMSSigned string `json:"notKmsSigned,omitempty"`
	// Files are every file of the bundle except manifest.json and signature.json, sorted.
	Files []ManifestFile `json:"files"`
}

// ManifestFile is one file's entry.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Signature is signature.json.
type Signature struct {
	Schema    string `json:"schema"`
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"keyId"`
	// PublicKey is base64 DER SubjectPublicKeyInfo ("" for KMS: verify with kms:Verify).
	PublicKey string `json:"publicKey,omitempty"`
	// ManifestSHA256 is the hex SHA-256 of manifest.json as signed.
	ManifestSHA256 string `json:"manifestSha256"`
	// Value is the base64 signature.
	Value string `json:"signature"`
}

// SignManifest signs manifest bytes with s.
func SignManifest(ctx context.Context, s Signer, manifest []byte) (Signature, error) {
	v, err := s.Sign(ctx, manifest)
	if err != nil {
		return Signature{}, fmt.Errorf("evidence: sign %s with %s: %w", FileManifestJSON, s.KeyID(), err)
	}
	sum := sha256.Sum256(manifest)
	sig := Signature{Schema: SignatureSchema, Algorithm: s.Algorithm(), KeyID: s.KeyID(),
		ManifestSHA256: fmt.Sprintf("%x", sum), Value: base64.StdEncoding.EncodeToString(v)}
	if pub := s.PublicKey(); pub != nil {
		sig.PublicKey = base64.StdEncoding.EncodeToString(pub)
	}
	return sig, nil
}

// NotKMSSignedPrefix starts Manifest.NotKMSSigned.
const NotKMSSignedPrefix = "not KMS-signed: "

// FallbackSigner signs with Signer (the environment's KMS key) and, when that fails (no
// credentials, KMS unreachable, access denied), with the signer Fallback returns (the local
// Ed25519 key): evidence is sealed whatever fails (issue 26). The manifest then records
// "not KMS-signed: <why>" before it is signed, so the bundle cannot pass for KMS-signed.
type FallbackSigner struct {
	Signer
	// Fallback returns the local signer (made on first use: LoadOrCreateLocalKey).
	Fallback func() (Signer, error)
}

// maxReasonBytes caps the reason recorded in the manifest (an SDK error can be long).
const maxReasonBytes = 400

// fallbackReason is why the KMS signature failed, one line: "kms:Sign with <key> failed:
// no usable AWS credentials" rather than the SDK's chain of wrapped errors.
func fallbackReason(keyID string, err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	cause := msg
	if _, rest, ok := strings.Cut(msg, keyID+": "); ok {
		cause = rest
	}
	for _, p := range []string{"failed to refresh cached credentials", "no EC2 IMDS role found", "get credentials", "failed to retrieve credentials", "failed to get shared config profile"} {
		if strings.Contains(msg, p) {
			cause = "no usable AWS credentials"
			break
		}
	}
	r := "kms:Sign with " + keyID + " failed: " + cause
	if len(r) > maxReasonBytes {
		r = r[:maxReasonBytes] + "…"
	}
	return r
}

// Fingerprint is "SHA256:<base64>" of a DER public key (the ssh-keygen -l style).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// LocalSigner is an Ed25519 key kept in a 0600 PKCS#8 PEM file: the drill's signer. It proves
// a bundle was not changed after sealing by whoever holds the file; it is not a KMS key and
// an auditor should treat it as a drill's signature only.
type LocalSigner struct {
	key ed25519.PrivateKey
	pub []byte
	// Path is the key file.
	Path string
	// Replaced is where a half-written key file found at Path was set aside ("" if none).
	Replaced string
}

var _ Signer = (*LocalSigner)(nil)

// DefaultLocalKeyPath is ~/.config/valkey-dr/evidence-ed25519.key (os.UserConfigDir): per
// operator, outside every checkout, so `make clean` or a new worktree keeps the key and the
// fingerprints recorded in earlier bundles stay comparable. Without a config dir (no HOME)
// it is <repo>/.build/evidence-ed25519.key.
func DefaultLocalKeyPath(repo string) string {
	if dir, err := os.UserConfigDir(); err == nil && dir != "" {
		return filepath.Join(dir, "valkey-dr", "evidence-ed25519.key")
	}
	return filepath.Join(repo, ".build", "evidence-ed25519.key")
}

// maxKeyFileBytes caps a local key file (an Ed25519 PKCS#8 PEM is 119 bytes).
const maxKeyFileBytes = 16 << 10

// pemPrivateKeyHead is how a PKCS#8 PEM key file starts: a file that is a prefix of a key
// (0 bytes, or cut anywhere) is a key creation that did not finish.
const pemPrivateKeyHead = "-----BEGIN PRIVATE KEY-----"

// BrokenKeySuffix is appended (with a timestamp) to a half-written key file set aside.
const BrokenKeySuffix = ".broken-"

// HalfWrittenKeyError is a key file that is empty or a cut-off PEM key: what a full disk or
// a kill during a creation before issue 23 left. It can never have signed anything.
type HalfWrittenKeyError struct {
	Path string
	Size int
}

func (e *HalfWrittenKeyError) Error() string {
	return fmt.Sprintf("evidence key %s is %d bytes, a key file whose creation did not finish (empty or cut off)", e.Path, e.Size)
}

// LoadLocalKey reads the key at path without ever creating or replacing one (verify uses it).
// A key file readable by group or others is refused: the key is what makes the signature
// mean something.
func LoadLocalKey(path string) (*LocalSigner, error) {
	data, err := safefile.ReadLimited(path, maxKeyFileBytes)
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("evidence key %s: mode %v lets others read it: chmod 600 %s (or remove it to make a new key)", path, fi.Mode().Perm(), path)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		if t := bytes.TrimSpace(data); len(t) == 0 || bytes.HasPrefix(t, []byte(pemPrivateKeyHead)) || strings.HasPrefix(pemPrivateKeyHead, string(t)) {
			return nil, &HalfWrittenKeyError{Path: path, Size: len(data)}
		}
	}
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("evidence key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("evidence key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("evidence key %s: not an Ed25519 key", path)
	}
	return newLocalSigner(path, key)
}

// LoadOrCreateLocalKey reads the key at path, or generates one there (0600, directory 0700)
// when none exists. created says whether it was made now. The new key is written to a
// temporary file, synced and linked into place (link fails if another run made one first:
// both then use that one), so a full disk or a kill never leaves a 0-byte or partial key. A
// half-written key left by an older version is set aside (path.broken-<time>, never
// deleted) and replaced; s.Replaced names where it went.
func LoadOrCreateLocalKey(path string) (s *LocalSigner, created bool, err error) {
	s, err = LoadLocalKey(path)
	var half *HalfWrittenKeyError
	switch {
	case err == nil:
		return s, false, nil
	case errors.As(err, &half):
		aside := path + BrokenKeySuffix + time.Now().UTC().Format("20060102T150405.000000000Z")
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, false, fmt.Errorf("%v; setting it aside failed: %w", err, rerr)
		}
		s, err = createLocalKey(path)
		if err != nil {
			return nil, false, err
		}
		s.Replaced = aside
		return s, true, nil
	case errors.Is(err, fs.ErrNotExist):
		s, err = createLocalKey(path)
		return s, err == nil, err
	}
	return nil, false, err
}

func createLocalKey(path string) (*LocalSigner, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	// CreateTemp makes the file 0600 before a byte is written.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	werr = errors.Join(werr, f.Sync(), f.Close())
	if werr != nil {
		return nil, fmt.Errorf("evidence key: write %s: %w (no key file was left behind)", path, werr)
	}
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		// Another run created it between our check and now: use that key, not a second one.
		return LoadLocalKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	syncDir(dir)
	return newLocalSigner(path, key)
}

// syncDir makes a rename or link in dir durable (best effort: not every filesystem syncs a
// directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func newLocalSigner(path string, key ed25519.PrivateKey) (*LocalSigner, error) {
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("evidence key: %w", err)
	}
	return &LocalSigner{key: key, pub: pub, Path: path}, nil
}

// Algorithm is AlgEd25519.
func (s *LocalSigner) Algorithm() string { return AlgEd25519 }

// KeyID is "ed25519:SHA256:<fingerprint of the public key>".
func (s *LocalSigner) KeyID() string { return "ed25519:" + Fingerprint(s.pub) }

// PublicKey is the DER SubjectPublicKeyInfo.
func (s *LocalSigner) PublicKey() []byte { return append([]byte(nil), s.pub...) }

// PrintKeyCreated tells the operator a key was made (or a half-written one replaced) and
// prints its public key: the PEM a verifier on another machine puts in its trusted-keys
// file (docs/evidence.md "Trust").
func PrintKeyCreated(w io.Writer, s *LocalSigner) {
	if s.Replaced != "" {
		fmt.Fprintf(w, "evidence signing key %s was half-written (an interrupted creation): set aside as %s and replaced\n", s.Path, s.Replaced)
	}
	fmt.Fprintf(w, "evidence signing key created: %s (0600, Ed25519, for drills and non-production; key id %s).\n"+
		"Its public key: verifiers elsewhere trust it by adding it to %s or passing it with --trusted-key:\n%s",
		s.Path, s.KeyID(), TrustedKeysFile, s.PublicKeyPEM())
}

// PublicKeyPEM is the public key as PEM, for printing.
func (s *LocalSigner) PublicKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: s.pub}))
}

// Sign signs message with Ed25519.
func (s *LocalSigner) Sign(_ context.Context, message []byte) ([]byte, error) {
	return ed25519.Sign(s.key, message), nil
}

// marshalManifest is the canonical encoding: indented JSON with a trailing newline (the bytes
// signed are the bytes stored; nothing re-encodes them before verification).
func marshalManifest(m Manifest) ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
