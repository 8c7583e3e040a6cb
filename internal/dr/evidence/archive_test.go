package evidence

// The upload runs against a real S3-compatible HTTP server: gofakes3 v1.2.0 (MIT,
// github.com/johannesboyne/gofakes3, in-memory backend s3mem with versioning), started in the
// test on 127.0.0.1 through httptest. gofakes3 does NOT implement Object Lock: it accepts and
// ignores the x-amz-object-lock-* headers. So this test proves the real SDK request (headers,
// checksum, conditional put, version id) against a real server and reads the lock headers off
// the wire; that S3 enforces COMPLIANCE retention, and refuses a delete, is only settled by a
// real AWS bucket.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// wire records the Object Lock headers of every PUT the server receives.
type wire struct {
	mu   sync.Mutex
	puts []http.Header
}

func startS3(t *testing.T) (*s3.Client, *wire) {
	t.Helper()
	faker := gofakes3.New(s3mem.New())
	w := &wire{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1 {
			w.mu.Lock()
			w.puts = append(w.puts, r.Header.Clone())
			w.mu.Unlock()
		}
		faker.Server().ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret-not-real", "")})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("evidence"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	return c, w
}

func TestUploadAgainstGofakes3(t *testing.T) {
	c, w := startS3(t)
	dir := t.TempDir()
	tarball := filepath.Join(dir, "b.tar.gz")
	sig := filepath.Join(dir, "b.signature.json")
	if err := os.WriteFile(tarball, []byte("not really a tarball"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sig, []byte(`{"signature":"x"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	until := RetainUntil(now, 6)
	receipt := tarball + ReceiptSuffix
	rec, err := Upload(context.Background(), c, ArchiveRequest{Bucket: "evidence", Prefix: "prod/activate", Files: []string{tarball, sig},
		RetainUntil: until, ReceiptPath: receipt}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Objects) != 2 || rec.Objects[0].Key != "prod/activate/b.tar.gz" || rec.Objects[0].VersionID == "" ||
		rec.Objects[0].RetainUntil != "2032-12-01T11:00:00Z" {
		t.Fatalf("receipt: %+v", rec)
	}
	// What S3 would enforce, read off the wire (gofakes3 ignores it).
	for _, h := range w.puts {
		if h.Get("X-Amz-Object-Lock-Mode") != "COMPLIANCE" || h.Get("X-Amz-Object-Lock-Retain-Until-Date") != "2032-12-01T11:00:00Z" ||
			h.Get("If-None-Match") != "*" || h.Get("X-Amz-Checksum-Sha256") == "" {
			t.Fatalf("PUT headers: %v", h)
		}
	}
	got, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("evidence"), Key: aws.String("prod/activate/b.tar.gz"),
		VersionId: aws.String(rec.Objects[0].VersionID)})
	if err != nil {
		t.Fatalf("the recorded version id does not fetch the object: %v", err)
	}
	got.Body.Close()
	var onDisk ArchiveReceipt
	data, _ := os.ReadFile(receipt)
	if err := json.Unmarshal(data, &onDisk); err != nil || len(onDisk.Objects) != 2 {
		t.Fatalf("receipt file: %v %s", err, data)
	}
	// A second upload of the same bundle is refused (If-None-Match: gofakes3 implements
	// conditional PUTs), never a silent new version.
	if _, err := Upload(context.Background(), c, ArchiveRequest{Bucket: "evidence", Prefix: "prod/activate", Files: []string{tarball}, RetainUntil: until}, now); err == nil ||
		!strings.Contains(err.Error(), "PreconditionFailed") {
		t.Fatalf("a second upload of the same key: %v, want PreconditionFailed", err)
	}
}

func TestUploadRefusesAnUnversionedBucket(t *testing.T) {
	c, _ := startS3(t)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "x.tar.gz")
	_ = os.WriteFile(f, []byte("x"), 0o640)
	_, err := Upload(context.Background(), c, ArchiveRequest{Bucket: "plain", Files: []string{f}, RetainUntil: time.Now().Add(time.Hour)}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "not versioned") {
		t.Fatalf("err %v", err)
	}
}
