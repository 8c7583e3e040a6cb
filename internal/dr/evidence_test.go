package dr

import (
	"context"
	"encoding/json"
	"github.com/valkey-dr/valkey-dr/contract"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// testSigner is a local Ed25519 key in the test's temp dir (KMS is not called in these tests;
// internal/dr/evidence tests the KMS signer at its SDK seam).
func testSigner(t *testing.T, root string) evidence.Signer {
	t.Helper()
	s, _, err := evidence.LoadOrCreateLocalKey(filepath.Join(root, "key", "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// archive records the request and answers as the evidence bucket would.
func (e *env) archive(_ context.Context, region string, r evidence.ArchiveRequest, now time.Time) (*evidence.ArchiveReceipt, error) {
	e.archived = append(e.archived, r)
	rec := &evidence.ArchiveReceipt{ArchivedAt: now.Format(time.RFC3339)}
	for _, f := range r.Files {
		rec.Objects = append(rec.Objects, evidence.ArchivedObject{Bucket: r.Bucket, Key: r.Prefix + "/" + filepath.Base(f), VersionID: "v-" + region,
			LockMode: "COMPLIANCE", RetainUntil: r.RetainUntil.Format(time.RFC3339)})
	}
	return rec, nil
}

func TestProductionRefusesWithoutWhoAndWhy(t *testing.T) {
	tests := map[string]struct {
		who  evidence.Who
		want string
	}{
		"no reason":           {who: evidence.Who{Ticket: "CHG-1", Approver: "A"}, want: "--reason (REASON=) is required: environment prod is a production environment; accepted values: incident, test, failback"},
		"an unknown reason":   {who: evidence.Who{Reason: "because", Ticket: "CHG-1", Approver: "A"}, want: `--reason (REASON=) "because" is not accepted`},
		"no ticket":           {who: evidence.Who{Reason: "incident", Approver: "A"}, want: "--ticket (TICKET=) is required"},
		"no approver":         {who: evidence.Who{Reason: "incident", Ticket: "CHG-1"}, want: "--approver (APPROVER=) is required"},
		"a bad incident time": {who: evidence.Who{Reason: "incident", Ticket: "CHG-1", Approver: "A", IncidentStart: "03:00"}, want: "--incident-start (INCIDENT_START=) \"03:00\""},
	}
	for name, tc := range tests {
		for _, proc := range []string{"activate", "failback", "teardown"} {
			t.Run(name+"/"+proc, func(t *testing.T) {
				e := newEnv(t)
				e.opts.Who = tc.who
				e.opts.Region = "us-west-2"
				e.opts.Confirm = "whatever"
				var err error
				switch proc {
				case "activate":
					_, err = Activate(context.Background(), e.opts.activate(), e.deps)
				case "failback":
					e.opts.Region = ""
					_, err = Failback(context.Background(), e.opts.failback(), e.deps)
				case "teardown":
					_, err = Teardown(context.Background(), e.opts.teardown(), e.deps)
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) || procedure.ExitCode(err) != contract.ExitUsage {
					t.Fatalf("err %v, want %q, exit 2", err, tc.want)
				}
				if len(e.fake.Calls()) != 0 {
					t.Fatalf("ran %v before refusing", e.fake.Calls())
				}
				if _, err := os.Stat(e.opts.EvidenceRoot); !os.IsNotExist(err) {
					t.Fatal("a refusal wrote evidence")
				}
			})
		}
	}
}

func TestActivationBundleIsSignedRecordsWhoAndIsArchived(t *testing.T) {
	e, res := activated(t)
	c, err := evidence.ReadBundle(res.Evidence.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	trusted := evidence.TrustLocalSigner(e.deps.Signer.(*evidence.LocalSigner))
	if r := evidence.Verify(context.Background(), c, evidence.VerifyOptions{Keys: []evidence.TrustedKey{trusted}}); !r.OK() || r.Verdict != evidence.VerdictPass || r.Kind != "activate" {
		t.Fatalf("verify: %+v", r)
	}
	raw, err := evidence.ReadTarball(res.Evidence.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for p, d := range raw {
		files[strings.TrimPrefix(p, c.Name+"/")] = d
	}
	var prov evidence.Provenance
	if err := json.Unmarshal(files[evidence.FileProvenance], &prov); err != nil {
		t.Fatal(err)
	}
	if prov.Reason != "test" || prov.Ticket != "CHG-1234" || prov.Approver != "Dana Roe" || !prov.Production ||
		!strings.Contains(prov.CallerArn, "assumed-role/CloudOps/ops") || prov.Host == "" || prov.IncidentStart.IsZero() {
		t.Fatalf("provenance: %+v", prov)
	}
	if tl := string(files[evidence.FileTimelineText]); !strings.Contains(tl, "SINCE INCIDENT") || !strings.Contains(tl, "within the RTO") {
		t.Fatalf("timeline:\n%s", tl)
	}
	for _, row := range evidence.Section9Rows {
		if !strings.Contains(string(files[evidence.FileReadme]), row) {
			t.Fatalf("README lacks row %q", row)
		}
	}
	if len(e.archived) != 1 || e.archived[0].Bucket != "valkeydr-prod-evidence-333333333333-us-west-2" || len(e.archived[0].Files) != 2 ||
		e.archived[0].Prefix != "prod/activate" {
		t.Fatalf("archive: %+v", e.archived)
	}
	if !strings.Contains(e.out.String(), "archived: s3://valkeydr-prod-evidence-333333333333-us-west-2/prod/activate/") {
		t.Fatalf("console lacks the archive receipt:\n%s", e.out.String())
	}
}
