// Package drilltest makes what a drill's synth leaves, for tests that drive a drill without the
// CDK CLI (drctl drill --from-cdk-out, drill.Options.FromCDKOut).
package drilltest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Assembly writes one cloud assembly, as `cdk synth --context matrix=example` leaves it for the
// stacks a drill reads (the DR stack, its DNS stack, the primary, its switch and the warm
// standby), from the golden templates of repo's
// stacks/testdata, and returns its directory.
func Assembly(t testing.TB, repo string) string {
	t.Helper()
	dir := t.TempDir()
	artifacts := map[string]any{}
	for stack, golden := range map[string]string{
		"ValkeyDr-example-us-west-2-dr":      "example-stateless.json",
		"ValkeyDr-example-us-west-2-dr-dns":  "example-stateless-dns.json",
		"ValkeyDr-example-us-east-1-primary": "example-none.json",
		"ValkeyDr-example-us-west-2-switch":  "example-switch.json",
		"ValkeyDr-example-us-west-2-standby": "example-standby.json",
	} {
		b, err := os.ReadFile(filepath.Join(repo, "stacks", "testdata", golden))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, stack+".template.json"), b, 0o640); err != nil {
			t.Fatal(err)
		}
		artifacts[stack] = map[string]any{"type": "aws:cloudformation:stack", "environment": "aws://111111111111/x",
			"properties": map[string]any{"templateFile": stack + ".template.json"}}
	}
	m, err := json.Marshal(map[string]any{"artifacts": artifacts})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o640); err != nil {
		t.Fatal(err)
	}
	return dir
}
