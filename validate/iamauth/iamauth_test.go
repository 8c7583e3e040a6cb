package iamauth

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestTokenSeam is a seam test: AWS is not reachable from the test machine, so it checks the
// token's documented form (static credentials, fixed time), not that ElastiCache accepts it.
func TestTokenSeam(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	s := &Signer{
		CacheName:   "valkey-dr-prod",
		UserID:      "app-user",
		Region:      "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
		Now:         func() time.Time { return time.Date(2025, 12, 9, 14, 6, 0, 0, time.UTC) },
	}
	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(tok, "http") {
		t.Fatalf("token keeps the scheme: %s", tok)
	}
	u, err := url.Parse("http://" + tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "valkey-dr-prod" || u.Path != "/" {
		t.Fatalf("host/path = %q %q", u.Host, u.Path)
	}
	q := u.Query()
	want := map[string]string{
		"Action":              "connect",
		"User":                "app-user",
		"ResourceType":        "ServerlessCache",
		"X-Amz-Algorithm":     "AWS4-HMAC-SHA256",
		"X-Amz-Credential":    "AKIDEXAMPLE/20251209/us-west-2/elasticache/aws4_request",
		"X-Amz-Date":          "20251209T140600Z",
		"X-Amz-Expires":       "900",
		"X-Amz-SignedHeaders": "host",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(q.Get("X-Amz-Signature")) {
		t.Errorf("X-Amz-Signature = %q, want 64 hex digits", q.Get("X-Amz-Signature"))
	}
	again, _ := s.Token(context.Background())
	if again != tok {
		t.Errorf("same inputs gave a different token")
	}
	s.Now = func() time.Time { return time.Date(2025, 12, 9, 14, 7, 0, 0, time.UTC) }
	if later, _ := s.Token(context.Background()); later == tok {
		t.Errorf("a later signing time gave the same token")
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	tests := map[string]struct {
		s         Signer
		wantedErr string
	}{
		"missing cache name, user and region are all named": {
			s: Signer{Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, wantedErr: "missing --cache-name, --user, --region",
		},
		"no credentials provider": {
			s: Signer{CacheName: "c", UserID: "u", Region: "r"}, wantedErr: "no AWS credentials provider",
		},
		"credentials that fail are wrapped": {
			s:         Signer{CacheName: "c", UserID: "u", Region: "r", Credentials: aws.AnonymousCredentials{}},
			wantedErr: "get AWS credentials",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tc.s.Token(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantedErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantedErr)
			}
		})
	}
}
