package drcontext

import (
	"strings"
	"testing"
)

func TestEvidence(t *testing.T) {
	tests := map[string]struct {
		ms      []mutation
		wantErr string
	}{
		"a signing key in the primary region is refused": {
			ms:      []mutation{set("prod.evidence.signingKeyArn", prodKeyEast)},
			wantErr: `context "environments.prod.evidence.signingKeyArn": "` + prodKeyEast + `" is a key in the primary region`,
		},
		"an alias as signing key is refused": {
			ms:      []mutation{set("prod.evidence.signingKeyArn", "arn:aws:kms:us-west-2:222222222222:alias/evidence")},
			wantErr: "is an alias ARN",
		},
		"the evidence bucket in the primary region is refused": {
			ms:      []mutation{set("prod.evidence.region", "us-east-1")},
			wantErr: `context "environments.prod.evidence.region": "us-east-1" is the primaryRegion`,
		},
		"a retention under six years in production is refused": {
			ms:      []mutation{set("prod.evidence.retentionYears", 5.0)},
			wantErr: `context "environments.prod.evidence.retentionYears": "5" is shorter than HIPAA's documentation retention; accepted: 6-100 years in production`,
		},
		"a retention over 100 years is refused": {
			ms:      []mutation{set("prod.evidence.retentionYears", 101.0)},
			wantErr: "is out of range; accepted: 1-100 years (absent or 0 means 6)",
		},
		"a DR-region signing key, default region and retention pass": {
			ms: []mutation{set("prod.evidence.signingKeyArn", prodKeyWest)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(Input{Environments: build(tc.ms...), Environment: "prod", ModeFree: true})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.EvidenceRegion() != "us-west-2" || cfg.EvidenceRetentionYears() != 6 || cfg.EvidenceStackID() != "ValkeyDr-prod-evidence" ||
				cfg.EvidenceKmsKeyArn() != prodKeyWest {
				t.Fatalf("derived: %s %d %s %s", cfg.EvidenceRegion(), cfg.EvidenceRetentionYears(), cfg.EvidenceStackID(), cfg.EvidenceKmsKeyArn())
			}
		})
	}
}

func TestSelectsEvidence(t *testing.T) {
	s := "evidence"
	for v, want := range map[any]bool{nil: false, "": false, "cache": false, "evidence": true, &s: true} {
		got, err := SelectsEvidence(v)
		if err != nil || got != want {
			t.Errorf("%v: %v %v, want %v", v, got, err, want)
		}
	}
	if _, err := SelectsEvidence("bucket"); err == nil || !strings.Contains(err.Error(), `context "stack": "bucket" is not a stack of this app; accepted: cache (default), evidence`) {
		t.Fatalf("err %v", err)
	}
}
