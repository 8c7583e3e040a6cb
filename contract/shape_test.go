package contract_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/valkey-dr/valkey-dr"

// deps lists the packages pkgs depend on (go list -deps), theirs included.
func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", pkgs, err)
	}
	return strings.Fields(string(out))
}

// TestTheTreeKeepsItsShape pins the import rules of the README's Layout section.
func TestTheTreeKeepsItsShape(t *testing.T) {
	t.Run("contract imports nothing of ours", func(t *testing.T) {
		for _, p := range deps(t, "./contract") {
			if strings.HasPrefix(p, module+"/") && p != module+"/contract" {
				t.Errorf("contract depends on %s: contract is the names two programs agree on, and may import only the standard library", p)
			}
		}
	})
	t.Run("constructs never import the validator", func(t *testing.T) {
		for _, p := range deps(t, "./constructs/...") {
			if p == module+"/validate" || strings.HasPrefix(p, module+"/validate/") {
				t.Errorf("constructs depend on %s: a construct imports contract, never validate/", p)
			}
		}
	})
	t.Run("the client toolkit and watch never import the checks", func(t *testing.T) {
		for _, p := range deps(t, "./validate/valkeyclient", "./validate/watch") {
			if p == module+"/validate/checks" {
				t.Errorf("validate/valkeyclient or validate/watch depend on %s: the client toolkit is valkeyclient, checks holds the table and the checks", p)
			}
		}
	})
	t.Run("context and contract never link the CDK", func(t *testing.T) {
		for _, p := range deps(t, "./context", "./contract") {
			if strings.HasPrefix(p, "github.com/aws/aws-cdk-go/") || strings.HasPrefix(p, "github.com/aws/jsii-runtime-go") {
				t.Errorf("context/contract depend on %s: they are pure Go (their tests run without jsii)", p)
			}
		}
	})
}
