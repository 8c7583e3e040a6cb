package stacks_test

// Replacement-safe updates (docs/design.md): two synths that differ in one createOnly input
// of the named cache, compared as drctl compares the deployed template with the one it is
// about to deploy (internal/cfnreplace). No t.Parallel: jsii.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/cfnreplace"
)

func asTemplate(t *testing.T, tmpl map[string]any) *assembly.Template {
	t.Helper()
	b, err := json.Marshal(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	var out assembly.Template
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestCreateOnlyChangeOfTheNamedCacheIsBlocking(t *testing.T) {
	deployed := asTemplate(t, synth(t, synthOpts{env: "prod", mode: "none"}).tmpl)
	cases := map[string]struct {
		mutate func(*drcontext.Config)
		prop   string
	}{
		"other subnets": {func(c *drcontext.Config) {
			c.Net.SubnetIDs = []string{"subnet-0f2b4d6e8a0c35791", "subnet-0a3c5e7f9b1d46802", "subnet-0c5e7a9b1d3f68024"}
		}, "SubnetIds"},
		"another KMS key": {func(c *drcontext.Config) {
			c.Net.KmsKeyArn = "arn:aws:kms:us-east-1:333333333333:key/00000000-0000-4000-8000-000000000000"
		}, "KmsKeyId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			next := asTemplate(t, synth(t, synthOpts{env: "prod", mode: "none", mutate: tc.mutate}).tmpl)
			block := cfnreplace.Blocking(cfnreplace.Check(deployed, next))
			if len(block) != 1 || block[0].LogicalID != sessioncache.LogicalIDCache || block[0].Kind != cfnreplace.Blocked {
				t.Fatalf("want one blocking finding on SessionCache, got %v", block)
			}
			msg := block[0].String()
			for _, want := range []string{tc.prop + " ", `name "gc-sessions-prod"`, "the update fails and rolls back", "give the cache a new name (cdk.json environments.<env>.cache.name)"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the finding lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

func TestNewCacheNameMakesTheReplacementPossible(t *testing.T) {
	deployed := asTemplate(t, synth(t, synthOpts{env: "prod", mode: "none"}).tmpl)
	rename := func(c *drcontext.Config) {
		c.Env.Cache.Name = "gc-sessions-prod2"
		c.Net.SubnetIDs = []string{"subnet-0f2b4d6e8a0c35791", "subnet-0a3c5e7f9b1d46802", "subnet-0c5e7a9b1d3f68024"}
	}
	for name, mutate := range map[string]func(*drcontext.Config){
		"a new name only":            func(c *drcontext.Config) { c.Env.Cache.Name = "gc-sessions-prod2" },
		"a new name and new subnets": rename,
	} {
		t.Run(name, func(t *testing.T) {
			fs := cfnreplace.Check(deployed, asTemplate(t, synth(t, synthOpts{env: "prod", mode: "none", mutate: mutate}).tmpl))
			if block := cfnreplace.Blocking(fs); len(block) != 0 {
				t.Fatalf("a new cache name must make every replacement possible, blocking: %v", block)
			}
			replaced := map[string]bool{}
			for _, f := range fs {
				replaced[f.LogicalID] = true
			}
			// The cache and its RBAC user and group (ids derived from the name) are replaced.
			for _, id := range []string{sessioncache.LogicalIDCache, sessioncache.LogicalIDUser, sessioncache.LogicalIDUserGroup} {
				if !replaced[id] {
					t.Errorf("%s is not reported as replaced: %v", id, fs)
				}
			}
		})
	}
}
