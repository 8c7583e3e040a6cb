package dr

// This file prepares the evidence of a real procedure before anything runs (who and why, the
// signer) and archives the sealed bundle afterwards (issue 13).

import (
	"context"
	"path/filepath"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// ArchiveFunc uploads a sealed bundle; Deps.Archive replaces the real S3 upload in tests.
type ArchiveFunc func(ctx context.Context, region string, r evidence.ArchiveRequest, now time.Time) (*evidence.ArchiveReceipt, error)

// evidenceSetup checks who and why and picks the signer (evidence.Prepare): a refusal is a
// usage error (exit 2), before anything touches AWS or the disk.
func evidenceSetup(ctx context.Context, o Options, d Deps, cfg *drcontext.Config) (evidence.Signer, *evidence.Provenance, error) {
	signer, prov, err := evidence.Prepare(ctx, cfg, evidence.Setup{Who: o.Who, LocalKeyPath: localKeyPath(o), Stdout: d.Stdout, Signer: d.Signer})
	if err != nil {
		return nil, nil, procedure.Usagef("%v", err)
	}
	return signer, prov, nil
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
func archiveSealed(ctx context.Context, s *procedure.Run, o Options, d Deps, cfg *drcontext.Config, sealed *evidence.Sealed) {
	if sealed == nil || o.NoArchive {
		if sealed != nil {
			s.Printf("archive: skipped (--no-archive): archive later with `drctl archive --env %s %s`", cfg.EnvironmentName, sealed.Tarball)
		}
		return
	}
	up := d.Archive
	if up == nil {
		up = evidence.UploadToS3
	}
	now := d.Now()
	req := evidence.ArchiveRequestFor(cfg, s.Kind, sealed, now)
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	rec, err := up(actx, cfg.EvidenceRegion(), req, now)
	if err != nil {
		s.Printf("\nARCHIVE FAILED: %s\n    the bundle is sealed locally; retry: drctl archive --env %s %s", credentialsHint(err, "s3:PutObject on the evidence bucket"), cfg.EnvironmentName, sealed.Tarball)
		return
	}
	evidence.PrintReceipt(s.Stdout, rec, req.ReceiptPath)
}
