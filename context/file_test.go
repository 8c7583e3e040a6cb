package drcontext

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFile(t *testing.T) {
	for name, tc := range map[string]struct {
		req         Request
		wantedStack string
		wantedError string
	}{
		"the example DR stack": {req: Request{Environment: "example", DrMode: DrModeStateless},
			wantedStack: "ValkeyDr-example-us-west-2-dr"},
		"prod failback with routing held": {req: Request{Environment: "prod", DrMode: DrModeNone, HoldPrimaryRouting: true},
			wantedStack: "ValkeyDr-prod-us-east-1-primary"},
		"an explicit region": {req: Request{Environment: "prod", Region: "us-west-2", DrMode: DrModeStateless},
			wantedStack: "ValkeyDr-prod-us-west-2-dr"},
		"an unknown environment": {req: Request{Environment: "nope", DrMode: DrModeStateless},
			wantedError: `"nope"`},
		"a region without networking": {req: Request{Environment: "prod", Region: "eu-west-1", DrMode: DrModeStateless},
			wantedError: "eu-west-1"},
		"hold with stateless": {req: Request{Environment: "prod", DrMode: DrModeStateless, HoldPrimaryRouting: true},
			wantedError: "holdPrimaryRouting"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadFile(filepath.Join("..", FileName), tc.req)
			if tc.wantedError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantedError) {
					t.Fatalf("want error containing %q, got %v", tc.wantedError, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.StackID() != tc.wantedStack {
				t.Fatalf("stack %s, want %s", cfg.StackID(), tc.wantedStack)
			}
		})
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), FileName), Request{Environment: "example"}); err == nil || !strings.Contains(err.Error(), "--repo") {
		t.Fatalf("no cdk.json: %v", err)
	}
}
