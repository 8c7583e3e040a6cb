package evidence

// This file signs and verifies DR evidence manifests with a KMS asymmetric key
// (ECC_NIST_P256, SIGN_VERIFY; algorithm ECDSA_SHA_256 over the SHA-256 digest), the signer of
// real-account procedures. The key never leaves KMS; the bundle records its ARN.

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
)

// KMSAPI is the part of the KMS client this package uses: the seam tests replace.
type KMSAPI interface {
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	Verify(ctx context.Context, in *kms.VerifyInput, optFns ...func(*kms.Options)) (*kms.VerifyOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)

// KMSSigner signs with one KMS key.
type KMSSigner struct {
	// API is the KMS client (a *kms.Client in the key's region).
	API KMSAPI
	// KeyArn is the key's ARN (evidence.signingKeyArn).
	KeyArn string
}

var (
	_ Signer   = (*KMSSigner)(nil)
	_ Verifier = (*KMSSigner)(nil)
)

// NewKMSSigner makes a KMSSigner for keyArn with the default credential chain, in the key's own region
// (KMS keys are regional; the ARN says where).
func NewKMSSigner(ctx context.Context, keyArn string) (*KMSSigner, error) {
	region, err := KMSRegionOf(keyArn)
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
	return &KMSSigner{API: kms.NewFromConfig(cfg), KeyArn: keyArn}, nil
}

// KMSRegionOf is the region field of a KMS key ARN.
func KMSRegionOf(keyArn string) (string, error) {
	parts := strings.Split(keyArn, ":")
	if len(parts) < 6 || parts[2] != "kms" || parts[3] == "" {
		return "", fmt.Errorf("kms: %q is not a KMS key ARN: want arn:aws:kms:<region>:<account>:key/<id>", keyArn)
	}
	return parts[3], nil
}

// Algorithm is ECDSA_SHA_256.
func (s *KMSSigner) Algorithm() string { return AlgECDSASHA256 }

// KeyID is the key ARN.
func (s *KMSSigner) KeyID() string { return s.KeyArn }

// PublicKey is nil: the bundle carries no key of its own; a verifier uses kms:Verify with the
// configured key, or its public key pinned from kms:GetPublicKey (docs/evidence.md "Trust").
func (s *KMSSigner) PublicKey() []byte { return nil }

// Sign asks KMS to sign the SHA-256 digest of message (MessageType DIGEST keeps the manifest
// itself out of KMS requests and CloudTrail and lifts the 4 KB message limit).
func (s *KMSSigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
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
func (s *KMSSigner) Trusted(source string) TrustedKey {
	return TrustedKey{ID: s.KeyArn, Algorithm: AlgECDSASHA256, Online: s, Source: source + " via kms:Verify"}
}

// Verify asks KMS whether sig is a signature of message by this KMSSigner's key: the ARN the
// verifier configured, never the key id signature.json claims (a forger writes any id
// there; docs/evidence.md "Trust"). KMS answers an invalid signature with
// KMSInvalidSignatureException, not SignatureValid=false; both wrap
// ErrSignatureInvalid, any other error means KMS could not be asked.
func (s *KMSSigner) Verify(ctx context.Context, sig Signature, message []byte) error {
	if sig.Algorithm != AlgECDSASHA256 {
		return fmt.Errorf("%w: algorithm %q: accepted: %s", ErrSignatureInvalid, sig.Algorithm, AlgECDSASHA256)
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil {
		return fmt.Errorf("%w: the signature is not base64", ErrSignatureInvalid)
	}
	sum := sha256.Sum256(message)
	keyID := s.KeyArn
	out, err := s.API.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(keyID), Message: sum[:], Signature: value,
		MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	var invalid *types.KMSInvalidSignatureException
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("%w (kms:Verify with %s)", ErrSignatureInvalid, keyID)
	case err != nil:
		return fmt.Errorf("kms:Verify %s: %w", keyID, err)
	case !out.SignatureValid:
		return fmt.Errorf("%w (kms:Verify with %s)", ErrSignatureInvalid, keyID)
	}
	return nil
}
