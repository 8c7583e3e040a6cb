package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sealedSigned seals a small signed bundle in a temp dir and returns it with its signer.
func sealedSigned(t *testing.T) (*Sealed, *LocalSigner) {
	t.Helper()
	root := t.TempDir()
	signer, created, err := LoadOrCreateLocalKey(filepath.Join(root, "keys", "k.key"))
	if err != nil || !created {
		t.Fatalf("key: %v created=%v", err, created)
	}
	b, err := NewBundle(filepath.Join(root, "evidence"), "bundle-1")
	if err != nil {
		t.Fatal(err)
	}
	for rel, data := range map[string]string{"metadata.json": "{}\n", "validation/summary.md": "# LOCAL STAND-IN\nPASS\n", "deploy.log": "ok\n"} {
		if err := b.WriteFile(rel, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	prov := LocalProvenance(Approval{Reason: ReasonDrill, Ticket: ReasonDrill, Approver: ReasonDrill}, false)
	b.SignWith(signer, Manifest{Kind: "drill", Label: "LOCAL STAND-IN, NOT A DEPLOYMENT", Verdict: VerdictPass, Provenance: &prov})
	s, err := b.SealContext(context.Background(), time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return s, signer
}

func verifyDir(t *testing.T, dir string, o VerifyOptions) *VerifyReport {
	t.Helper()
	c, err := ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Verify(context.Background(), c, o)
}

func kinds(r *VerifyReport) string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, string(f.Kind)+" "+f.Path)
	}
	return strings.Join(out, "; ")
}

func TestVerifyDetectsEachTampering(t *testing.T) {
	tests := map[string]struct {
		tamper func(t *testing.T, dir string)
		want   string
	}{
		"a clean bundle passes": {tamper: func(*testing.T, string) {}, want: ""},
		"a file edited in one byte is named": {
			tamper: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "validation", "summary.md")
				data, _ := os.ReadFile(p)
				data[len(data)-2] = 'X'
				must(t, os.WriteFile(p, data, 0o640))
			},
			want: "edited validation/summary.md",
		},
		"an added file is named": {
			tamper: func(t *testing.T, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, "validation", "extra.md"), []byte("PASS\n"), 0o640))
			},
			want: "added validation/extra.md",
		},
		"a removed file is named": {
			tamper: func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "deploy.log"))) },
			want:   "removed deploy.log",
		},
		"a manifest re-hashed after an edit without re-signing is caught": {
			tamper: func(t *testing.T, dir string) {
				editAndRehash(t, dir, []byte("# LOCAL STAND-IN\nFAIL hidden\n"))
			},
			want: "manifest-edited manifest.json; bad-signature signature.json",
		},
		"a missing signature is caught": {
			tamper: func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, FileSignature))) },
			want:   "unsigned signature.json",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, signer := sealedSigned(t)
			tc.tamper(t, s.Dir)
			r := verifyDir(t, s.Dir, VerifyOptions{Keys: []TrustedKey{TrustLocalSigner(signer)}})
			if got := kinds(r); got != tc.want {
				t.Fatalf("findings %q, want %q (%v)", got, tc.want, r.Findings)
			}
			if tc.want == "" && (!r.OK() || r.Algorithm != AlgEd25519 || r.Files != 4 || r.KeyID != signer.KeyID() || r.Kind != "drill" || r.Verdict != VerdictPass) {
				t.Fatalf("clean bundle: %+v", r)
			}
		})
	}
	t.Run("the re-hash finding says so", func(t *testing.T) {
		s, _ := sealedSigned(t)
		tests["a manifest re-hashed after an edit without re-signing is caught"].tamper(t, s.Dir)
		r := verifyDir(t, s.Dir, VerifyOptions{})
		if len(r.Findings) != 2 || r.Findings[1].Kind != UntrustedKey || !strings.Contains(r.Findings[0].Detail, "re-hashed after an edit without being re-signed") {
			t.Fatalf("detail: %s", r.Findings[0].Detail)
		}
	})
}

func TestVerifyTarballAndTrust(t *testing.T) {
	s, signer := sealedSigned(t)
	c, err := ReadBundle(s.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	if r := Verify(context.Background(), c, VerifyOptions{Keys: []TrustedKey{TrustLocalSigner(signer)}}); !r.OK() || c.Name != "bundle-1" {
		t.Fatalf("tarball: %s %v", c.Name, r.Findings)
	}
	other, _, err := LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(context.Background(), c, VerifyOptions{Keys: []TrustedKey{TrustLocalSigner(other)}})
	if kinds(r) != "untrusted-key signature.json" || !strings.Contains(r.Findings[0].Detail, "signed by "+signer.KeyID()+", a key this verifier does not trust") {
		t.Fatalf("untrusted: %v", r.Findings)
	}
	sidecar, _ := os.ReadFile(s.SignatureSidecar)
	if inside, _ := c.Data(FileSignature); string(sidecar) != string(inside) {
		t.Fatal("the signature beside the tarball differs from the one inside")
	}
}

func TestLocalKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d", "k.key")
	a, created, err := LoadOrCreateLocalKey(path)
	if err != nil || !created {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, want 0600", fi.Mode().Perm())
	}
	b, created, err := LoadOrCreateLocalKey(path)
	if err != nil || created || b.KeyID() != a.KeyID() {
		t.Fatalf("reload: %v %v %s %s", err, created, a.KeyID(), b.KeyID())
	}
	must(t, os.Chmod(path, 0o644))
	if _, _, err := LoadOrCreateLocalKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key must be refused: %v", err)
	}
}

func TestSignedBundleNeverHoldsThePrivateKey(t *testing.T) {
	s, signer := sealedSigned(t)
	keyPEM, _ := os.ReadFile(signer.Path)
	body := strings.Join(strings.Split(strings.TrimSpace(string(keyPEM)), "\n")[1:2], "")
	files, err := ReadTarball(s.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range files {
		if strings.Contains(string(data), body) {
			t.Fatalf("%s holds the private key", p)
		}
	}
}

func TestParseApproval(t *testing.T) {
	tests := map[string]struct {
		production                          bool
		reason, ticket, approver, incidentT string
		wantErr                             string
	}{
		"production without a reason is refused, naming the values": {production: true, ticket: "CHG-1", approver: "A B", wantErr: "--reason (REASON=) is required: environment prod is a production environment; accepted values: incident, test, failback"},
		"production with drill is refused":                          {production: true, reason: "drill", ticket: "CHG-1", approver: "A", wantErr: `--reason (REASON=) "drill" is not accepted: accepted values: incident, test, failback`},
		"production without a ticket is refused":                    {production: true, reason: "incident", approver: "A", wantErr: "--ticket (TICKET=) is required"},
		"production without an approver is refused":                 {production: true, reason: "incident", ticket: "CHG-1", wantErr: "--approver (APPROVER=) is required"},
		"a ticket with spaces is refused":                           {production: true, reason: "test", ticket: "CHG 1", approver: "A", wantErr: `--ticket (TICKET=) "CHG 1" is not a ticket id`},
		"an incident start that is not UTC is refused":              {production: true, reason: "incident", ticket: "INC-9", approver: "A", incidentT: "2026-12-01T03:00:00+01:00", wantErr: "--incident-start (INCIDENT_START=)"},
		"production with everything passes":                         {production: true, reason: "incident", ticket: "INC-9", approver: "Dana Roe", incidentT: "2026-12-01T03:00:00Z"},
		"non-production defaults to drill":                          {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := ParseApproval(tc.production, "prod", tc.reason, tc.ticket, tc.approver, tc.incidentT)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.production && (a.Reason != ReasonDrill || a.Ticket != ReasonDrill || a.Approver != ReasonDrill) {
				t.Fatalf("defaults: %+v", a)
			}
			if tc.incidentT != "" && a.IncidentStart.IsZero() {
				t.Fatal("incident start lost")
			}
		})
	}
}

func TestIndexReadmeMapsEverySection9Row(t *testing.T) {
	got := IndexReadme("LOCAL STAND-IN: drill", "", []string{"metadata.json", "deploy.log", "validation/summary.md", "routing/activation.md", "odd.bin"})
	for _, want := range []string{"| deploy.log | cdk deploy", Row9DeployLogs + " | deploy.log", Row9Validation + " | validation/summary.md",
		Row9Routing + " | routing/activation.md", "| odd.bin | not in the index", "drctl verify"} {
		if !strings.Contains(got, want) {
			t.Fatalf("README lacks %q:\n%s", want, got)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
