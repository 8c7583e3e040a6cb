package main

// This file is `drctl archive`: uploading a sealed bundle that verifies to the environment's
// write-once evidence bucket.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/safefile"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// NewCmdArchive is `drctl archive`'s flag set, bound to v: verify's (it verifies first).
func NewCmdArchive(v *verifyOptions, stderr io.Writer) *flag.FlagSet {
	return v.flags("archive", stderr)
}

// archiveRun is `drctl archive --env <environment> <bundle>`: verify the bundle, then upload
// it and its signature to the environment's write-once evidence bucket.
func archiveRun(ctx context.Context, v *verifyOptions, path string, stdout, stderr io.Writer) error {
	if v.env == "" {
		return procedure.Usagef("--env is required: the environment whose evidence bucket receives the bundle (e.g. --env prod)")
	}
	tarball := strings.TrimSuffix(path, string(filepath.Separator))
	if !strings.HasSuffix(tarball, ".tar.gz") {
		tarball += ".tar.gz"
	}
	r, contents, cfg, err := v.check(ctx, tarball, stderr)
	if err != nil {
		return err
	}
	if !r.OK() {
		printReport(stdout, tarball, r)
		return &procedure.Error{Code: contract.ExitTampered, Msg: "refusing to archive a bundle that does not verify: nothing was uploaded"}
	}
	if !archiveKind.MatchString(r.Kind) {
		return &procedure.Error{Code: contract.ExitTampered, Msg: fmt.Sprintf("the bundle's kind %s is not a procedure name (want lowercase letters): nothing was uploaded", termsafe.Quote(r.Kind))}
	}
	sealed := &evidence.Sealed{Tarball: tarball}
	if sc := strings.TrimSuffix(tarball, ".tar.gz") + ".signature.json"; fileExists(sc) {
		// The sidecar is uploaded beside the tarball: it must be the signature that verified.
		side, err := safefile.ReadRegular(sc, maxSidecarBytes)
		inside, _ := contents.Data(evidence.FileSignature)
		if err != nil || string(side) != string(inside) {
			return &procedure.Error{Code: contract.ExitTampered, Msg: fmt.Sprintf("%s is not the signature.json inside the verified bundle: nothing was uploaded", termsafe.Quote(sc))}
		}
		sealed.SignatureSidecar = sc
	}
	now := time.Now()
	req := evidence.ArchiveRequestFor(cfg, r.Manifest.Kind, sealed, now)
	c, err := evidence.NewS3Client(ctx, cfg.EvidenceRegion())
	if err != nil {
		return procedure.Failf("%v", err)
	}
	rec, err := evidence.Upload(ctx, c, req, now)
	if err != nil {
		return procedure.Failf("%v", err)
	}
	evidence.PrintReceipt(stdout, rec, req.ReceiptPath)
	return nil
}

// archiveKind is a bundle kind fit for the archive's key prefix <env>/<kind>/.
var archiveKind = regexp.MustCompile(`^[a-z]{1,32}$`)

// maxSidecarBytes caps the signature sidecar read before upload (a signature.json is ~500 bytes).
const maxSidecarBytes = 64 << 10
