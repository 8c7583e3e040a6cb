package evidence

// These tests run at the SDK seam (the API interface): they do NOT call AWS. The fake is backed
// by a real ECDSA P-256 key, so the signatures are real crypto and a verification failure is a
// real one; what only an AWS account settles: the key policy (kms:Sign/kms:Verify granted to
// the operator role), KeySpec ECC_NIST_P256, and the exact error KMS returns.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

const keyArn = "arn:aws:kms:us-west-2:333333333333:key/9d6a2e5c-7f1b-4c3d-8e4a-5b6c7d8e9fa0"

// fakeKMS answers Sign and Verify as KMS does for an ECC_NIST_P256 key with MessageType DIGEST.
type fakeKMS struct {
	key   *ecdsa.PrivateKey
	signs int
	// asked are the key ids Verify was called with.
	asked []string
}

func (f *fakeKMS) check(keyID *string, mt types.MessageType, alg types.SigningAlgorithmSpec, digest []byte) error {
	if aws.ToString(keyID) != keyArn {
		return &types.NotFoundException{Message: aws.String("key " + aws.ToString(keyID) + " not found")}
	}
	if mt != types.MessageTypeDigest || alg != types.SigningAlgorithmSpecEcdsaSha256 || len(digest) != 32 {
		return &types.InvalidKeyUsageException{Message: aws.String("want DIGEST, ECDSA_SHA_256, 32 bytes")}
	}
	return nil
}

func (f *fakeKMS) Sign(_ context.Context, in *kms.SignInput, _ ...func(*kms.Options)) (*kms.SignOutput, error) {
	if err := f.check(in.KeyId, in.MessageType, in.SigningAlgorithm, in.Message); err != nil {
		return nil, err
	}
	f.signs++
	sig, err := ecdsa.SignASN1(rand.Reader, f.key, in.Message)
	return &kms.SignOutput{Signature: sig, KeyId: in.KeyId, SigningAlgorithm: in.SigningAlgorithm}, err
}

func (f *fakeKMS) Verify(_ context.Context, in *kms.VerifyInput, _ ...func(*kms.Options)) (*kms.VerifyOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.KeyId))
	if err := f.check(in.KeyId, in.MessageType, in.SigningAlgorithm, in.Message); err != nil {
		return nil, err
	}
	if !ecdsa.VerifyASN1(&f.key.PublicKey, in.Message, in.Signature) {
		return nil, &types.KMSInvalidSignatureException{Message: aws.String("invalid signature")}
	}
	return &kms.VerifyOutput{SignatureValid: true, KeyId: in.KeyId}, nil
}

func newFake(t *testing.T) *fakeKMS {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeKMS{key: k}
}

func TestKMSSignedBundleVerifiesAndTamperingIsCaught(t *testing.T) {
	fake := newFake(t)
	s := &KMSSigner{API: fake, KeyArn: keyArn}
	b, err := NewBundle(t.TempDir(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteFile("metadata.json", []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	b.SignWith(s, Manifest{Kind: "activate"})
	sealed, err := b.SealContext(context.Background(), time.Now())
	if err != nil || fake.signs != 1 || sealed.KeyID != keyArn {
		t.Fatalf("seal: %v signs=%d key=%s", err, fake.signs, sealed.KeyID)
	}
	trusted := VerifyOptions{Keys: []TrustedKey{s.Trusted("cdk.json evidence.signingKeyArn")}}
	c, _ := ReadBundle(sealed.Dir)
	if r := Verify(context.Background(), c, trusted); !r.OK() || r.KeyID != keyArn {
		t.Fatalf("clean: %v", r.Findings)
	}
	// With no key trusted (no --env, nothing pinned) a KMS bundle is not verified, and says how.
	if r := Verify(context.Background(), c, VerifyOptions{}); r.OK() || !strings.Contains(r.Findings[0].Detail, "aws kms get-public-key") {
		t.Fatalf("no verifier: %v", r.Findings)
	}
	// A manifest edited (and the file with it) fails real ECDSA verification at the fake KMS.
	mp := filepath.Join(sealed.Dir, FileManifestJSON)
	data, _ := os.ReadFile(mp)
	if err := os.WriteFile(mp, []byte(strings.Replace(string(data), `"activate"`, `"drill"`, 1)), 0o640); err != nil {
		t.Fatal(err)
	}
	c, _ = ReadBundle(sealed.Dir)
	r := Verify(context.Background(), c, trusted)
	var got []string
	for _, f := range r.Findings {
		got = append(got, string(f.Kind))
	}
	if strings.Join(got, ",") != "manifest-edited,bad-signature" || !strings.Contains(r.Findings[1].Detail, "verifies with no trusted key") {
		t.Fatalf("tampered: %v", r.Findings)
	}
}

// A forger re-signs with a KMS key of their own and writes its ARN (or any id) into
// signature.json: kms:Verify is asked with the configured ARN only.
func TestVerifyAsksKMSWithTheConfiguredKeyOnly(t *testing.T) {
	trusted := newFake(t)
	forger := &KMSSigner{API: newFake(t), KeyArn: keyArn} // the forger's own key, under the trusted ARN
	b, err := NewBundle(t.TempDir(), "b")
	if err != nil {
		t.Fatal(err)
	}
	_ = b.WriteFile("metadata.json", []byte("{}\n"))
	b.SignWith(forger, Manifest{Kind: "activate"})
	sealed, err := b.SealContext(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, claim := range []string{keyArn, "arn:aws:kms:us-west-2:999999999999:key/forger", "", "\x1b[2Jarn"} {
		mp := filepath.Join(sealed.Dir, FileSignature)
		data, _ := os.ReadFile(mp)
		var sig map[string]any
		_ = json.Unmarshal(data, &sig)
		sig["keyId"] = claim
		data, _ = json.Marshal(sig)
		if err := os.WriteFile(mp, data, 0o640); err != nil {
			t.Fatal(err)
		}
		trusted.asked = nil
		c, _ := ReadBundle(sealed.Dir)
		r := Verify(context.Background(), c, VerifyOptions{Keys: []TrustedKey{(&KMSSigner{API: trusted, KeyArn: keyArn}).Trusted("cdk.json")}})
		if r.OK() || len(r.Findings) != 1 || r.Findings[0].Kind != BadSignature {
			t.Fatalf("claim %q: %+v", claim, r.Findings)
		}
		if len(trusted.asked) != 1 || trusted.asked[0] != keyArn {
			t.Fatalf("claim %q: kms:Verify asked with %q", claim, trusted.asked)
		}
	}
}

func TestKMSErrorsAreNamed(t *testing.T) {
	s := &KMSSigner{API: newFake(t), KeyArn: "arn:aws:kms:us-west-2:333333333333:key/00000000-0000-0000-0000-000000000000"}
	if _, err := s.Sign(context.Background(), []byte("m")); err == nil || !strings.Contains(err.Error(), "kms:Sign arn:aws:kms:us-west-2") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := KMSRegionOf("arn:aws:s3:::bucket"); err == nil {
		t.Fatal("an S3 ARN is not a KMS key")
	}
	if r, _ := KMSRegionOf(keyArn); r != "us-west-2" {
		t.Fatalf("region %s", r)
	}
}
