package stacks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/stacks"
)

func synthEvidence(t *testing.T, env string) (*drcontext.Config, map[string]any) {
	t.Helper()
	ctx := repotest.CDKContext(t)
	cfg, err := drcontext.Load(drcontext.Input{Environments: ctx[drcontext.KeyEnvironments], Environment: env, ModeFree: true})
	if err != nil {
		t.Fatal(err)
	}
	app := cdktest.NewApp(t)
	s := stacks.NewEvidenceStack(app, cfg)
	return cfg, cdktest.Template(t, s.Stack)
}

func TestEvidenceStack(t *testing.T) {
	for _, env := range []string{"example", "prod"} {
		t.Run(env, func(t *testing.T) {
			cfg, tmpl := synthEvidence(t, env)
			var bucket map[string]any
			for _, b := range cdktest.Resources(tmpl, "AWS::S3::Bucket") {
				if p := cdktest.Props(b); p["BucketName"] == cfg.EvidenceBucketName() {
					bucket = b
				}
			}
			if bucket == nil {
				t.Fatalf("no bucket named %s", cfg.EvidenceBucketName())
			}
			p := cdktest.Props(bucket)
			js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
			if got := js(p["ObjectLockConfiguration"]); got != `{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"COMPLIANCE","Years":6}}}` {
				t.Errorf("object lock %s", got)
			}
			if js(p["VersioningConfiguration"]) != `{"Status":"Enabled"}` || p["LoggingConfiguration"] == nil || bucket["DeletionPolicy"] != "Retain" {
				t.Errorf("versioning/logging/retain: %s %v %v", js(p["VersioningConfiguration"]), p["LoggingConfiguration"], bucket["DeletionPolicy"])
			}
			enc := js(p["BucketEncryption"])
			switch {
			case !strings.Contains(enc, `"SSEAlgorithm":"aws:kms"`):
				t.Errorf("not SSE-KMS: %s", enc)
			case cfg.EvidenceKmsKeyArn() != "" && !strings.Contains(enc, cfg.EvidenceKmsKeyArn()):
				t.Errorf("prod must use its key %s: %s", cfg.EvidenceKmsKeyArn(), enc)
			case cfg.EvidenceKmsKeyArn() == "" && len(cdktest.Resources(tmpl, "AWS::KMS::Key")) != 1:
				t.Errorf("without a kmsKeyArn the stack creates one key")
			}
			var policies []string
			for _, bp := range cdktest.Resources(tmpl, "AWS::S3::BucketPolicy") {
				policies = append(policies, js(cdktest.Props(bp)["PolicyDocument"]))
			}
			all := strings.Join(policies, "\n")
			if !strings.Contains(all, `"Sid":"DenyDeleteEvidence"`) || !strings.Contains(all, `"aws:SecureTransport":"false"`) {
				t.Errorf("bucket policy lacks deny-delete or TLS-only:\n%s", all)
			}
			if tmplRegion := fmt.Sprint(cfg.EvidenceRegion()); tmplRegion == cfg.Env.PrimaryRegion {
				t.Errorf("evidence in the primary region")
			}
			cdktest.Golden(t, "evidence-"+env, cdktest.NormalizeAssetHashes(tmpl))
		})
	}
}
