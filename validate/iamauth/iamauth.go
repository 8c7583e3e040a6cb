// Package iamauth makes the IAM authentication token ElastiCache accepts as an AUTH password.
//
// The token is a SigV4 presigned URL of
// `GET http://<cache-name>/?Action=connect&User=<user-id>&ResourceType=ServerlessCache` for the
// service `elasticache`, valid 900 s, with the `http://` scheme removed. See
// https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html ("Connecting" section).
package iamauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	// Service is the SigV4 signing name for ElastiCache IAM auth.
	Service = "elasticache"
	// Expires is the token lifetime ElastiCache documents: 15 minutes. The connection stays
	// authenticated after that; only new connections need a fresh token.
	Expires = 900 * time.Second
)

// emptyPayloadHash is the SHA-256 of an empty body: the presigned request is a GET.
var emptyPayloadHash = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// Signer makes tokens for one cache and user.
type Signer struct {
	// CacheName is the ElastiCache Serverless cache name (the presigned URL's host).
	CacheName string
	// UserID is the ElastiCache user id; it is also the user name sent with AUTH.
	UserID string
	// Region is the cache's AWS region.
	Region string
	// Credentials supplies AWS credentials (aws-sdk-go-v2 default chain in the binary).
	Credentials aws.CredentialsProvider
	// Now returns the signing time; nil means time.Now.
	Now func() time.Time
}

// Validate rejects a Signer that cannot make a token.
func (s *Signer) Validate() error {
	var missing []string
	if s.CacheName == "" {
		missing = append(missing, "--cache-name")
	}
	if s.UserID == "" {
		missing = append(missing, "--user")
	}
	if s.Region == "" {
		missing = append(missing, "--region")
	}
	if len(missing) > 0 {
		return fmt.Errorf("iam auth: missing %s", strings.Join(missing, ", "))
	}
	if s.Credentials == nil {
		return errors.New("iam auth: no AWS credentials provider")
	}
	return nil
}

// Token returns a fresh token. It retrieves credentials (which may call STS/IMDS) under ctx.
func (s *Signer) Token(ctx context.Context) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("iam auth: get AWS credentials: %w", err)
	}
	q := url.Values{}
	q.Set("Action", "connect")
	q.Set("User", s.UserID)
	q.Set("ResourceType", "ServerlessCache")
	q.Set("X-Amz-Expires", fmt.Sprint(int(Expires/time.Second)))
	u := url.URL{Scheme: "http", Host: s.CacheName, Path: "/", RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("iam auth: build request: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, emptyPayloadHash, Service, s.Region, now().UTC())
	if err != nil {
		return "", fmt.Errorf("iam auth: presign: %w", err)
	}
	return strings.TrimPrefix(signed, "http://"), nil
}
