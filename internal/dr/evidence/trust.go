package evidence

// This file is who is trusted to have signed a bundle or a kit (docs/evidence.md "Trust").
// The anchor is always a key the verifier already holds: the public key in a trusted-keys
// file, the local signing key file, or the environment's KMS key asked through kms:Verify.
// The public key and key id that signature.json carries are the signer's claim: they are
// used to name an untrusted signer in a finding, never to decide that a signature is good.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/safefile"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// TrustedKeysFile is the default trusted-keys file, beside the local signing key in the
// operator's config directory (DefaultTrustedKeysPath).
const TrustedKeysFile = "trusted-keys.pem"

// PEMKeyIDHeader is the optional PEM header naming a pinned key (a KMS key ARN); the key's
// own fingerprint is printed beside it, so a wrong label cannot hide which key verified.
const PEMKeyIDHeader = "Key-Id"

// pemPublicKey is the PEM block type of a trusted public key (openssl pkey -pubout).
const pemPublicKey = "PUBLIC KEY"

// maxTrustedKeysBytes caps a trusted-keys file (a P-256 or Ed25519 PEM is ~200 bytes).
const maxTrustedKeysBytes = 64 << 10

// kmsVerifyTimeout bounds one kms:Verify call: verify must end even when KMS is unreachable.
const kmsVerifyTimeout = 20 * time.Second

// ErrSignatureInvalid is what a Verifier returns (wrapped) when the signature is well formed
// but not the trusted key's; any other error means the key could not be asked.
var ErrSignatureInvalid = errors.New("the signature does not verify")

// TrustedKey is one key a verifier trusts.
type TrustedKey struct {
	// ID names the key as the verifier knows it: "ed25519:SHA256:<fingerprint>" computed
	// from the key, a KMS key ARN from cdk.json or from the pin's Key-Id header, or
	// "ecdsa-p256:SHA256:<fingerprint>" for a pinned key without one.
	ID string
	// Algorithm is AlgEd25519 or AlgECDSASHA256.
	Algorithm string
	// Public is the key itself (nil for Online).
	Public crypto.PublicKey
	// Fingerprint is Fingerprint(DER) of Public ("" for Online).
	Fingerprint string
	// Online verifies through a service holding the key (kms:Verify with the configured ARN).
	Online Verifier
	// Source says where the verifier got the key (a file, cdk.json's evidence.signingKeyArn).
	Source string
}

// Describe is "<id> (<source>)", for the report.
func (k TrustedKey) Describe() string {
	id := k.ID
	if k.Fingerprint != "" && !strings.HasSuffix(id, k.Fingerprint) {
		id += " [" + k.Fingerprint + "]"
	}
	return id + " from " + k.Source
}

// TrustLocalSigner trusts the public half of a local signing key the verifier holds.
func TrustLocalSigner(s *LocalSigner) TrustedKey {
	return TrustedKey{ID: s.KeyID(), Algorithm: AlgEd25519, Public: s.key.Public(), Fingerprint: Fingerprint(s.pub), Source: s.Path}
}

// DefaultTrustedKeysPath is ~/.config/valkey-dr/trusted-keys.pem ("" without a config dir).
func DefaultTrustedKeysPath() string {
	if dir, err := os.UserConfigDir(); err == nil && dir != "" {
		return filepath.Join(dir, "valkey-dr", TrustedKeysFile)
	}
	return ""
}

// LoadTrustedKeys reads a trusted-keys file: one or more PEM "PUBLIC KEY" blocks (Ed25519,
// or ECDSA P-256 as a KMS ECC_NIST_P256 key's GetPublicKey returns it), each optionally with
// a "Key-Id: <KMS key ARN>" header. A file others may write is refused: whoever can edit it
// decides what verifies.
func LoadTrustedKeys(p string) ([]TrustedKey, error) {
	data, err := safefile.ReadRegular(p, maxTrustedKeysBytes)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%s: mode %v lets others change which keys are trusted: chmod go-w %s", p, fi.Mode().Perm(), p)
	}
	var keys []TrustedKey
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != pemPublicKey {
			return nil, fmt.Errorf("%s: PEM block %d is %s: want %s blocks only (a private key or certificate does not belong in a trusted-keys file)",
				p, n, termsafe.Quote(block.Type), pemPublicKey)
		}
		k, err := parsePublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: PEM block %d: %v", p, n, err)
		}
		k.Source = p
		if id := strings.TrimSpace(block.Headers[PEMKeyIDHeader]); id != "" {
			if k.Algorithm == AlgEd25519 {
				return nil, fmt.Errorf("%s: PEM block %d: an Ed25519 key's id is its fingerprint (%s): remove the %s header", p, n, k.ID, PEMKeyIDHeader)
			}
			k.ID = id
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%s: want one or more PEM %q blocks (and nothing else); see docs/evidence.md, \"Trust\"", p, pemPublicKey)
	}
	return keys, nil
}

// parsePublicKey accepts the two key types evidence is signed with.
func parsePublicKey(der []byte) (TrustedKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return TrustedKey{}, fmt.Errorf("not a public key: %v", err)
	}
	fp := Fingerprint(der)
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return TrustedKey{ID: "ed25519:" + fp, Algorithm: AlgEd25519, Public: k, Fingerprint: fp}, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return TrustedKey{}, fmt.Errorf("an ECDSA key on %s: accepted: P-256 (KMS ECC_NIST_P256)", k.Curve.Params().Name)
		}
		return TrustedKey{ID: "ecdsa-p256:" + fp, Algorithm: AlgECDSASHA256, Public: k, Fingerprint: fp}, nil
	}
	return TrustedKey{}, fmt.Errorf("a %T key: accepted: Ed25519, ECDSA P-256", pub)
}

// PublicKeyPEM is a trusted-keys file entry for der (Key-Id header when id is not "").
func PublicKeyPEM(der []byte, id string) string {
	b := &pem.Block{Type: pemPublicKey, Bytes: der}
	if id != "" {
		b.Headers = map[string]string{PEMKeyIDHeader: id}
	}
	return string(pem.EncodeToMemory(b))
}

// SignatureProblem is why a signature is not accepted: Kind is BadSignature, UntrustedKey or
// Unverifiable, Detail one sentence.
type SignatureProblem struct {
	Kind   FindingKind
	Detail string
}

func (p *SignatureProblem) Error() string { return string(p.Kind) + ": " + p.Detail }

// CheckSignature returns the trusted key whose signature sig is over message, or why none
// is. Only keys holds the answer: the key sig records is read to name an untrusted signer.
// Keys are tried in order; put pinned keys before online ones (an online key whose id a
// pinned key already has is not asked).
func CheckSignature(ctx context.Context, keys []TrustedKey, sig Signature, message []byte) (TrustedKey, *SignatureProblem) {
	claim := termsafe.Quote(sig.KeyID)
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil || len(value) == 0 {
		return TrustedKey{}, &SignatureProblem{BadSignature, "the signature value is not base64 (or empty)"}
	}
	if sig.Algorithm != AlgEd25519 && sig.Algorithm != AlgECDSASHA256 {
		return TrustedKey{}, &SignatureProblem{BadSignature, fmt.Sprintf("algorithm %s: accepted: %s, %s", termsafe.Quote(sig.Algorithm), AlgEd25519, AlgECDSASHA256)}
	}
	var tried, unreachable []string
	pinned := map[string]bool{}
	for _, k := range keys {
		if k.Algorithm != sig.Algorithm {
			continue
		}
		if k.Online != nil && pinned[k.ID] {
			continue // its pinned public key already answered: no need to ask KMS
		}
		tried = append(tried, k.Describe())
		if k.Online == nil {
			pinned[k.ID] = true
		}
		if k.Online != nil {
			vctx, cancel := context.WithTimeout(ctx, kmsVerifyTimeout)
			err := k.Online.Verify(vctx, sig, message)
			cancel()
			switch {
			case err == nil:
				return k, nil
			case !errors.Is(err, ErrSignatureInvalid):
				unreachable = append(unreachable, fmt.Sprintf("%s could not be asked: %v", k.ID, err))
			}
			continue
		}
		if verifyWith(k.Public, sig.Algorithm, message, value) {
			return k, nil
		}
	}
	// Nothing trusted verifies. Name the signer the bundle claims, by the key it carries.
	carried, carriedOK := "", false
	if der, err := base64.StdEncoding.DecodeString(sig.PublicKey); err == nil && len(der) > 0 {
		if ck, err := parsePublicKey(der); err == nil {
			carried = ck.ID
			carriedOK = verifyWith(ck.Public, sig.Algorithm, message, value)
		}
	}
	trusted := "trusted: " + strings.Join(tried, ", ")
	switch {
	case len(tried) == 0 && sig.Algorithm == AlgECDSASHA256:
		trusted = fmt.Sprintf("no KMS (%s) key is trusted here: pin its public key (aws kms get-public-key --key-id <arn>, docs/evidence.md \"Trust\") and pass it with --trusted-key, or use --env <environment> with AWS credentials (kms:Verify with evidence.signingKeyArn)", AlgECDSASHA256)
	case len(tried) == 0:
		trusted = fmt.Sprintf("no %s key is trusted here: pass the signer's public key with --trusted-key <PEM file> (docs/evidence.md \"Trust\")", sig.Algorithm)
	}
	switch {
	case carriedOK:
		lie := ""
		if sig.KeyID != carried {
			lie = fmt.Sprintf("; signature.json claims key id %s, which that key is not", claim)
		}
		return TrustedKey{}, &SignatureProblem{UntrustedKey, fmt.Sprintf("signed by %s, a key this verifier does not trust (its id is computed from the public key signature.json carries%s); %s",
			carried, lie, trusted)}
	case len(unreachable) > 0:
		return TrustedKey{}, &SignatureProblem{Unverifiable, fmt.Sprintf("%s; offline verification of a KMS signature works only with the key's public key pinned in a trusted-keys file (aws kms get-public-key, docs/evidence.md \"Trust\"); %s",
			strings.Join(unreachable, "; "), trusted)}
	case len(tried) == 0:
		return TrustedKey{}, &SignatureProblem{UntrustedKey, fmt.Sprintf("signed with %s by a key claimed to be %s; %s", sig.Algorithm, claim, trusted)}
	case carried != "":
		return TrustedKey{}, &SignatureProblem{BadSignature, fmt.Sprintf("the signature verifies with no trusted key, nor with the key signature.json carries (%s, claimed %s); %s", carried, claim, trusted)}
	}
	return TrustedKey{}, &SignatureProblem{BadSignature, fmt.Sprintf("the signature verifies with no trusted key (signature.json claims %s and carries no public key); %s", claim, trusted)}
}

// verifyWith checks value over message with pub.
func verifyWith(pub crypto.PublicKey, alg string, message, value []byte) bool {
	switch alg {
	case AlgEd25519:
		k, ok := pub.(ed25519.PublicKey)
		return ok && ed25519.Verify(k, message, value)
	case AlgECDSASHA256:
		k, ok := pub.(*ecdsa.PublicKey)
		sum := sha256.Sum256(message)
		return ok && ecdsa.VerifyASN1(k, sum[:], value)
	}
	return false
}
