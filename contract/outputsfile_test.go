package contract

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	two := `{"ValkeyDr-prod-us-west-2-dr": {"EndpointAddress": "a.serverless.usw2.cache.amazonaws.com", "EndpointPort": "6379"},
	         "ValkeyDr-prod-us-east-1-primary": {"EndpointAddress": "b", "EndpointPort": 6379}}`
	tests := map[string]struct {
		data      string
		stack     string
		wantedErr string
		wantedIs  error
		wanted    map[string]string
	}{
		"several stacks and no --stack is an error listing the names": {
			data: two, wantedErr: "holds 2 stacks: choose one with --stack (one of: ValkeyDr-prod-us-east-1-primary, ValkeyDr-prod-us-west-2-dr)",
			wantedIs: ErrStack,
		},
		"an unknown stack is an error listing the names": {
			data: two, stack: "nope", wantedErr: `stack "nope" not found (one of: ValkeyDr-prod-us-east-1-primary`,
			wantedIs: ErrStack,
		},
		"an empty file object is an error": {data: `{}`, wantedErr: "holds no stacks", wantedIs: ErrStack},
		"not JSON is an error":             {data: `nope`, wantedErr: "not a `cdk deploy --outputs-file` JSON"},
		"a nested object value is an error": {
			data: `{"S": {"EndpointPort": {"x": 1}}}`, wantedErr: `output "EndpointPort": want a string`,
		},
		"the only stack is chosen without --stack": {
			data:   `{"S": {"EndpointAddress": "h", "EndpointPort": "6379"}}`,
			wanted: map[string]string{"EndpointAddress": "h", "EndpointPort": "6379"},
		},
		"a named stack is chosen and numbers become strings": {
			data: two, stack: "ValkeyDr-prod-us-east-1-primary",
			wanted: map[string]string{"EndpointAddress": "b", "EndpointPort": "6379"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, got, err := Parse("cdk-outputs.json", []byte(tc.data), tc.stack)
			if tc.wantedErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantedErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantedErr)
				}
				if tc.wantedIs != nil && !errors.Is(err, tc.wantedIs) {
					t.Fatalf("errors.Is(%v, %v) = false", err, tc.wantedIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.wanted) {
				t.Fatalf("got %v, want %v", got, tc.wanted)
			}
			for k, v := range tc.wanted {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Run("a missing file is an error naming it", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "missing.json"), "")
		if err == nil || !strings.Contains(err.Error(), "read outputs file") || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("a file is read", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "cdk-outputs.json")
		if err := os.WriteFile(p, []byte(`{"S": {"`+KeyEndpointAddress+`": "h"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p, "S")
		if err != nil || got[KeyEndpointAddress] != "h" {
			t.Fatalf("got %v, %v", got, err)
		}
		name, _, err := LoadStack(p, "")
		if err != nil || name != "S" {
			t.Fatalf("LoadStack chose %q, %v; want the only stack S", name, err)
		}
	})
}
