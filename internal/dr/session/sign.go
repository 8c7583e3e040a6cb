package session

// This file makes a bundle tamper-evident: manifest.json (every file's path, SHA256 and size,
// plus the provenance) is signed, and the signature lands in signature.json. SHA256SUMS alone
// proves nothing: whoever edits a file can regenerate it. The private key never enters the
// bundle or the logs; only the public key and its fingerprint do.

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
// internal/dr/kmssign (KMS asymmetric key, real accounts).
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

// Verifier checks a signature the bundle's recorded public key cannot check offline (KMS).
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
	// Provenance is who ran it and why.
	Provenance *Provenance `json:"provenance,omitempty"`
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

// verifyOffline checks sig over message with the public key it records.
func verifyOffline(sig Signature, message []byte) error {
	der, err := base64.StdEncoding.DecodeString(sig.PublicKey)
	if err != nil || len(der) == 0 {
		return errors.New("signature.json records no usable public key")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("signature.json's public key: %w", err)
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil {
		return errors.New("signature.json's signature is not base64")
	}
	switch sig.Algorithm {
	case AlgEd25519:
		k, ok := pub.(ed25519.PublicKey)
		if !ok || !ed25519.Verify(k, message, value) {
			return errors.New("the Ed25519 signature does not verify")
		}
	case AlgECDSASHA256:
		k, ok := pub.(*ecdsa.PublicKey)
		sum := sha256.Sum256(message)
		if !ok || !ecdsa.VerifyASN1(k, sum[:], value) {
			return errors.New("the ECDSA_SHA_256 signature does not verify")
		}
	default:
		return fmt.Errorf("unknown signature algorithm %q: accepted: %s, %s", sig.Algorithm, AlgEd25519, AlgECDSASHA256)
	}
	return nil
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

// LoadOrCreateLocalKey reads the key at path, or generates one there (0600, directory 0700)
// when none exists. created says whether it was made now. A key file readable by group or
// others is refused: the key is what makes the signature mean something.
func LoadOrCreateLocalKey(path string) (s *LocalSigner, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("evidence key: %w", err)
		}
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, false, fmt.Errorf("evidence key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, false, fmt.Errorf("evidence key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("evidence key: %w", err)
		}
		werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, false, fmt.Errorf("evidence key: write %s: %w", path, werr)
		}
		s, err := newLocalSigner(path, key)
		return s, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("evidence key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("evidence key %s: mode %v lets others read it: chmod 600 %s (or remove it to make a new key)", path, fi.Mode().Perm(), path)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, false, fmt.Errorf("evidence key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("evidence key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, false, fmt.Errorf("evidence key %s: not an Ed25519 key", path)
	}
	s, err = newLocalSigner(path, key)
	return s, false, err
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
