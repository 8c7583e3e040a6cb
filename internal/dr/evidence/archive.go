package evidence

// This file uploads a sealed DR evidence bundle (its .tar.gz and the signature beside it)
// to the environment's write-once evidence bucket (constructs/evidencearchive: S3 Object Lock
// in COMPLIANCE mode), and records the object version ids and retention dates in a sidecar.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"
)

// S3API is the part of the S3 client this package uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// ReceiptSuffix names the sidecar written beside the tarball: <name>.tar.gz.archive.json.
const ReceiptSuffix = ".archive.json"

// ArchiveRequest is one upload.
type ArchiveRequest struct {
	// Bucket is the evidence bucket (drcontext.Config.EvidenceBucketName).
	Bucket string
	// Prefix is the key prefix, e.g. "prod/activate" (no leading or trailing slash).
	Prefix string
	// Files are the local files to upload (tarball, signature sidecar).
	Files []string
	// RetainUntil is the Object Lock COMPLIANCE retention date sent with every object; it
	// should equal the bucket default (now + evidence.retentionYears), and states it per
	// object so the receipt can show it without a second call.
	RetainUntil time.Time
	// ReceiptPath is where the receipt JSON is written ("" : no file).
	ReceiptPath string
}

// ArchivedObject is one uploaded object.
type ArchivedObject struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	VersionID   string `json:"versionId"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	LockMode    string `json:"objectLockMode"`
	RetainUntil string `json:"retainUntil"`
}

// ArchiveReceipt is the sidecar: what was archived, where, until when.
type ArchiveReceipt struct {
	ArchivedAt string           `json:"archivedAt"`
	Objects    []ArchivedObject `json:"objects"`
}

// NewS3Client makes an S3 client in region with the default credential chain.
func NewS3Client(ctx context.Context, region string) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		// No SDK log lines ("WARN falling back to IMDSv1" on a laptop): every failure comes back
		// as an error and is printed once, as the cause, by the procedure.
		config.WithLogger(logging.Nop{}))
	if err != nil {
		return nil, fmt.Errorf("archive: AWS configuration: %w", err)
	}
	return s3.NewFromConfig(cfg), nil
}

// Upload puts every file with Object Lock COMPLIANCE until r.RetainUntil and a SHA-256
// checksum S3 verifies on arrival (Object Lock PUTs must carry an integrity checksum), then
// writes the receipt. A missing version id is an error: without versioning nothing is
// write-once, so the bucket is not the evidence bucket.
func Upload(ctx context.Context, api S3API, r ArchiveRequest, now time.Time) (*ArchiveReceipt, error) {
	if r.Bucket == "" {
		return nil, fmt.Errorf("archive: no bucket")
	}
	rec := &ArchiveReceipt{ArchivedAt: now.UTC().Format(time.RFC3339)}
	for _, f := range r.Files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		sum := sha256.Sum256(data)
		key := path.Join(r.Prefix, filepath.Base(f))
		out, err := api.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(r.Bucket), Key: aws.String(key), Body: bytes.NewReader(data),
			ContentLength:             aws.Int64(int64(len(data))),
			ChecksumSHA256:            aws.String(base64.StdEncoding.EncodeToString(sum[:])),
			ObjectLockMode:            types.ObjectLockModeCompliance,
			ObjectLockRetainUntilDate: aws.Time(r.RetainUntil.UTC()),
			// Refuse to overwrite: a second upload of the same bundle is a mistake to see, and
			// with versioning it would only add a version, never replace the first.
			IfNoneMatch: aws.String("*"),
		})
		if err != nil {
			return nil, fmt.Errorf("archive: put s3://%s/%s: %w", r.Bucket, key, err)
		}
		if aws.ToString(out.VersionId) == "" || aws.ToString(out.VersionId) == "null" {
			return nil, fmt.Errorf("archive: s3://%s/%s has no version id: the bucket is not versioned, so it is not the write-once evidence bucket", r.Bucket, key)
		}
		rec.Objects = append(rec.Objects, ArchivedObject{Bucket: r.Bucket, Key: key, VersionID: aws.ToString(out.VersionId),
			SHA256: fmt.Sprintf("%x", sum), Size: int64(len(data)), LockMode: string(types.ObjectLockModeCompliance),
			RetainUntil: r.RetainUntil.UTC().Format(time.RFC3339)})
	}
	if r.ReceiptPath != "" {
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if err := os.WriteFile(r.ReceiptPath, append(data, '\n'), 0o640); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
	}
	return rec, nil
}

// RetainUntil is now + years (the bucket's default retention), at second precision.
func RetainUntil(now time.Time, years int) time.Time {
	return now.UTC().AddDate(years, 0, 0).Truncate(time.Second)
}
