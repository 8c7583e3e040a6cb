package dr

// This file prepares the evidence of a real procedure before anything runs (who and why, the
// signer) and archives the sealed bundle afterwards (issue 13).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/archive"
	"github.com/valkey-dr/valkey-dr/internal/dr/kmssign"
	"github.com/valkey-dr/valkey-dr/internal/dr/session"
)

// Who are the operator's who-and-why inputs (REASON=, TICKET=, APPROVER=, INCIDENT_START=).
type Who struct {
	Reason, Ticket, Approver, IncidentStart string
}

// ArchiveFunc uploads a sealed bundle; Deps.Archive replaces the real S3 upload in tests.
type ArchiveFunc func(ctx context.Context, region string, r archive.Request, now time.Time) (*archive.Receipt, error)

// s3Archive is the real upload, with the default credential chain in the evidence region.
func s3Archive(ctx context.Context, region string, r archive.Request, now time.Time) (*archive.Receipt, error) {
	c, err := archive.NewClient(ctx, region)
	if err != nil {
		return nil, err
	}
	return archive.Upload(ctx, c, r, now)
}

// evidenceSetup checks who and why and picks the signer. It runs before anything touches AWS
// or the disk: a refusal is a usage error (exit 2) and leaves nothing behind. Production
// requires --reason/--ticket/--approver and a KMS signing key (evidence.signingKeyArn);
// elsewhere they default to "drill" and the local Ed25519 key signs.
func evidenceSetup(ctx context.Context, o Options, d Deps, cfg *drcontext.Config) (session.Signer, *session.Provenance, error) {
	a, err := session.ParseApproval(cfg.IsProduction(), cfg.EnvironmentName, o.Who.Reason, o.Who.Ticket, o.Who.Approver, o.Who.IncidentStart)
	if err != nil {
		return nil, nil, err
	}
	prov := session.LocalProvenance(a, cfg.IsProduction())
	keyArn := cfg.Env.Evidence.SigningKeyArn
	if cfg.IsProduction() && keyArn == "" {
		return nil, nil, session.Usagef("environment %s is a production environment but cdk.json has no evidence.signingKeyArn: production evidence is signed with a KMS key (ECC_NIST_P256, SIGN_VERIFY) outside %s; the local Ed25519 key is for drills. Nothing was run.",
			cfg.EnvironmentName, cfg.Env.PrimaryRegion)
	}
	if d.Signer != nil {
		return d.Signer, &prov, nil
	}
	if keyArn != "" {
		s, err := kmssign.New(ctx, keyArn)
		if err != nil {
			return nil, nil, session.Usagef("evidence.signingKeyArn %s: %v. Nothing was run.", keyArn, err)
		}
		// Sealed whatever fails (issue 26): when KMS cannot sign (no credentials, KMS
		// unreachable, access denied) the local key seals the bundle and the manifest says
		// "not KMS-signed: <why>", which verify prints.
		path := localKeyPath(o)
		return &session.FallbackSigner{Signer: s, Fallback: func() (session.Signer, error) {
			l, created, err := session.LoadOrCreateLocalKey(path)
			if err != nil {
				return nil, fmt.Errorf("--signing-key %s: %w", path, err)
			}
			if created {
				session.PrintKeyCreated(d.Stdout, l)
			}
			return l, nil
		}}, &prov, nil
	}
	path := localKeyPath(o)
	s, created, err := session.LoadOrCreateLocalKey(path)
	if err != nil {
		return nil, nil, session.Usagef("--signing-key %s: %v. Nothing was run.", path, err)
	}
	if created {
		session.PrintKeyCreated(d.Stdout, s)
	}
	return s, &prov, nil
}

// localKeyPath is the local Ed25519 evidence key: --signing-key, else <work>/evidence-ed25519.key.
func localKeyPath(o Options) string {
	if o.SigningKeyFile != "" {
		return o.SigningKeyFile
	}
	return filepath.Join(o.WorkRoot, "evidence-ed25519.key")
}

// archiveSealed uploads the sealed tarball and its signature to the environment's evidence
// bucket and prints the version ids and retention date. A failure does not change the
// procedure's outcome (the DR work is done and the bundle is sealed locally) but is printed
// as ARCHIVE FAILED with the command that retries it: unarchived evidence is a gap to close.
func archiveSealed(ctx context.Context, s *session.Session, o Options, d Deps, cfg *drcontext.Config, sealed *session.Sealed) {
	if sealed == nil || o.NoArchive {
		if sealed != nil {
			s.Printf("archive: skipped (--no-archive): archive later with `drctl archive --env %s %s`", cfg.EnvironmentName, sealed.Tarball)
		}
		return
	}
	up := d.Archive
	if up == nil {
		up = s3Archive
	}
	now := d.Now()
	req := ArchiveRequest(cfg, s.Kind, sealed, now)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	rec, err := up(actx, cfg.EvidenceRegion(), req, now)
	if err != nil {
		s.Printf("\nARCHIVE FAILED: %s\n    the bundle is sealed locally; retry: drctl archive --env %s %s", credentialsHint(err, "s3:PutObject on the evidence bucket"), cfg.EnvironmentName, sealed.Tarball)
		return
	}
	PrintReceipt(s.Stdout, rec, req.ReceiptPath)
}

// ArchiveRequest is the upload of a sealed bundle: its tarball and the signature beside it,
// under <env>/<kind>/ in the evidence bucket, retained until now + evidence.retentionYears.
func ArchiveRequest(cfg *drcontext.Config, kind string, sealed *session.Sealed, now time.Time) archive.Request {
	files := []string{sealed.Tarball}
	if sealed.SignatureSidecar != "" {
		files = append(files, sealed.SignatureSidecar)
	}
	return archive.Request{Bucket: cfg.EvidenceBucketName(), Prefix: cfg.EnvironmentName + "/" + kind, Files: files,
		RetainUntil: archive.RetainUntil(now, cfg.EvidenceRetentionYears()), ReceiptPath: sealed.Tarball + archive.ReceiptSuffix}
}

// PrintReceipt prints what was archived.
func PrintReceipt(w interface{ Write([]byte) (int, error) }, rec *archive.Receipt, path string) {
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
