// Package kmssign signs and verifies DR evidence manifests with a KMS asymmetric key
// (ECC_NIST_P256, SIGN_VERIFY; algorithm ECDSA_SHA_256 over the SHA-256 digest), the signer of
// real-account procedures. The key never leaves KMS; the bundle records its ARN.
package kmssign

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/logging"

	"github.com/valkey-dr/valkey-dr/internal/dr/session"
)

// API is the part of the KMS client this package uses: the seam tests replace.
type API interface {
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	Verify(ctx context.Context, in *kms.VerifyInput, optFns ...func(*kms.Options)) (*kms.VerifyOutput, error)
}

var _ API = (*kms.Client)(nil)

// Signer signs with one KMS key.
type Signer struct {
	// API is the KMS client (a *kms.Client in the key's region).
	API API
	// KeyArn is the key's ARN (evidence.signingKeyArn).
	KeyArn string
}

var (
	_ session.Signer   = (*Signer)(nil)
	_ session.Verifier = (*Signer)(nil)
)

// New makes a Signer for keyArn with the default credential chain, in the key's own region
// (KMS keys are regional; the ARN says where).
func New(ctx context.Context, keyArn string) (*Signer, error) {
	region, err := RegionOf(keyArn)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		// No SDK log lines ("WARN falling back to IMDSv1" on a laptop): every failure comes back
		// as an error and is printed once, as the cause, by the procedure.
		config.WithLogger(logging.Nop{}))
	if err != nil {
		return nil, fmt.Errorf("kms: AWS configuration: %w", err)
	}
	return &Signer{API: kms.NewFromConfig(cfg), KeyArn: keyArn}, nil
}

// RegionOf is the region field of a KMS key ARN.
func RegionOf(keyArn string) (string, error) {
	parts := strings.Split(keyArn, ":")
	if len(parts) < 6 || parts[2] != "kms" || parts[3] == "" {
		return "", fmt.Errorf("kms: %q is not a KMS key ARN: want arn:aws:kms:<region>:<account>:key/<id>", keyArn)
	}
	return parts[3], nil
}

// Algorithm is ECDSA_SHA_256.
func (s *Signer) Algorithm() string { return session.AlgECDSASHA256 }

// KeyID is the key ARN.
func (s *Signer) KeyID() string { return s.KeyArn }

// PublicKey is nil: the bundle carries no key of its own; a verifier uses kms:Verify with the
// configured key, or its public key pinned from kms:GetPublicKey (docs/evidence.md "Trust").
func (s *Signer) PublicKey() []byte { return nil }

// Sign asks KMS to sign the SHA-256 digest of message (MessageType DIGEST keeps the manifest
// itself out of KMS requests and CloudTrail and lifts the 4 KB message limit).
func (s *Signer) Sign(ctx context.Context, message []byte) ([]byte, error) {
	sum := sha256.Sum256(message)
	out, err := s.API.Sign(ctx, &kms.SignInput{KeyId: aws.String(s.KeyArn), Message: sum[:],
		MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		return nil, fmt.Errorf("kms:Sign %s: %w", s.KeyArn, err)
	}
	return out.Signature, nil
}

// Trusted is this key as a verifier's trust anchor: kms:Verify with the configured ARN
// (source says where the ARN came from, e.g. cdk.json's evidence.signingKeyArn).
func (s *Signer) Trusted(source string) session.TrustedKey {
	return session.TrustedKey{ID: s.KeyArn, Algorithm: session.AlgECDSASHA256, Online: s, Source: source + " via kms:Verify"}
}

// Verify asks KMS whether sig is a signature of message by this Signer's key: the ARN the
// verifier configured, never the key id signature.json claims (a forger writes any id
// there; docs/evidence.md "Trust"). KMS answers an invalid signature with
// KMSInvalidSignatureException, not SignatureValid=false; both wrap
// session.ErrSignatureInvalid, any other error means KMS could not be asked.
func (s *Signer) Verify(ctx context.Context, sig session.Signature, message []byte) error {
	if sig.Algorithm != session.AlgECDSASHA256 {
		return fmt.Errorf("%w: algorithm %q: accepted: %s", session.ErrSignatureInvalid, sig.Algorithm, session.AlgECDSASHA256)
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil {
		return fmt.Errorf("%w: the signature is not base64", session.ErrSignatureInvalid)
	}
	sum := sha256.Sum256(message)
	keyID := s.KeyArn
	out, err := s.API.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(keyID), Message: sum[:], Signature: value,
		MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	var invalid *types.KMSInvalidSignatureException
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("%w (kms:Verify with %s)", session.ErrSignatureInvalid, keyID)
	case err != nil:
		return fmt.Errorf("kms:Verify %s: %w", keyID, err)
	case !out.SignatureValid:
		return fmt.Errorf("%w (kms:Verify with %s)", session.ErrSignatureInvalid, keyID)
	}
	return nil
}
