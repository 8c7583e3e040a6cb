package evidence

// This file prepares the evidence of a real-account procedure before anything runs (who and
// why, the signer) and says where its sealed bundle is archived (issue 13).

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
)

// Who are the operator's who-and-why inputs (REASON=, TICKET=, APPROVER=, INCIDENT_START=).
type Who struct {
	Reason, Ticket, Approver, IncidentStart string
}

// Setup is what Prepare needs besides the environment.
type Setup struct {
	// Who is the operator's who and why.
	Who Who
	// LocalKeyPath is the local Ed25519 key: the signer outside production, and the fallback
	// when KMS cannot sign.
	LocalKeyPath string
	// Stdout is told when the local key is made.
	Stdout io.Writer
	// Signer replaces the signer picked from cdk.json (tests: KMS is not called).
	Signer Signer
}

// Prepare checks who and why and picks the signer of cfg's evidence. It runs before anything
// touches AWS or the disk: every error is a refusal, which the procedure returns as a usage
// error (exit 2) and which leaves nothing behind. Production requires --reason/--ticket/
// --approver and a KMS signing key (evidence.signingKeyArn); elsewhere they default to "drill"
// and the local Ed25519 key signs.
func Prepare(ctx context.Context, cfg *drcontext.Config, in Setup) (Signer, *Provenance, error) {
	a, err := ParseApproval(cfg.IsProduction(), cfg.EnvironmentName, in.Who.Reason, in.Who.Ticket, in.Who.Approver, in.Who.IncidentStart)
	if err != nil {
		return nil, nil, err
	}
	prov := LocalProvenance(a, cfg.IsProduction())
	keyArn := cfg.Env.Evidence.SigningKeyArn
	if cfg.IsProduction() && keyArn == "" {
		return nil, nil, setupRefusef("environment %s is a production environment but cdk.json has no evidence.signingKeyArn: production evidence is signed with a KMS key (ECC_NIST_P256, SIGN_VERIFY) outside %s; the local Ed25519 key is for drills. Nothing was run.",
			cfg.EnvironmentName, cfg.Env.PrimaryRegion)
	}
	if in.Signer != nil {
		return in.Signer, &prov, nil
	}
	path := in.LocalKeyPath
	if keyArn != "" {
		s, err := NewKMSSigner(ctx, keyArn)
		if err != nil {
			return nil, nil, setupRefusef("evidence.signingKeyArn %s: %v. Nothing was run.", keyArn, err)
		}
		// Sealed whatever fails (issue 26): when KMS cannot sign (no credentials, KMS
		// unreachable, access denied) the local key seals the bundle and the manifest says
		// "not KMS-signed: <why>", which verify prints.
		return &FallbackSigner{Signer: s, Fallback: func() (Signer, error) {
			l, created, err := LoadOrCreateLocalKey(path)
			if err != nil {
				return nil, fmt.Errorf("--signing-key %s: %w", path, err)
			}
			if created {
				PrintKeyCreated(in.Stdout, l)
			}
			return l, nil
		}}, &prov, nil
	}
	s, created, err := LoadOrCreateLocalKey(path)
	if err != nil {
		return nil, nil, setupRefusef("--signing-key %s: %v. Nothing was run.", path, err)
	}
	if created {
		PrintKeyCreated(in.Stdout, s)
	}
	return s, &prov, nil
}

// refusal is a message Prepare refuses with, whole sentences ("... Nothing was run.").
type refusal string

func (r refusal) Error() string { return string(r) }

func setupRefusef(format string, args ...any) error { return refusal(fmt.Sprintf(format, args...)) }

// UploadToS3 is the real upload of a sealed bundle, with the default credential chain in the
// evidence region.
func UploadToS3(ctx context.Context, region string, r ArchiveRequest, now time.Time) (*ArchiveReceipt, error) {
	c, err := NewS3Client(ctx, region)
	if err != nil {
		return nil, err
	}
	return Upload(ctx, c, r, now)
}

// ArchiveRequestFor is the upload of a sealed bundle: its tarball and the signature beside it,
// under <env>/<kind>/ in cfg's evidence bucket, retained until now + evidence.retentionYears.
func ArchiveRequestFor(cfg *drcontext.Config, kind string, sealed *Sealed, now time.Time) ArchiveRequest {
	files := []string{sealed.Tarball}
	if sealed.SignatureSidecar != "" {
		files = append(files, sealed.SignatureSidecar)
	}
	return ArchiveRequest{Bucket: cfg.EvidenceBucketName(), Prefix: cfg.EnvironmentName + "/" + kind, Files: files,
		RetainUntil: RetainUntil(now, cfg.EvidenceRetentionYears()), ReceiptPath: sealed.Tarball + ReceiptSuffix}
}

// PrintReceipt prints what was archived.
func PrintReceipt(w io.Writer, rec *ArchiveReceipt, path string) {
	if w == nil {
		w = os.Stdout
	}
	for _, obj := range rec.Objects {
		fmt.Fprintf(w, "archived: s3://%s/%s version %s, Object Lock %s until %s\n", obj.Bucket, obj.Key, obj.VersionID, obj.LockMode, obj.RetainUntil)
	}
	if path != "" {
		fmt.Fprintf(w, "archive receipt: %s\n", path)
	}
}
