package repotest_test

import (
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

// TestOnlyTheSynthTestsLinkTheCDK: a test binary that links aws-cdk-go costs a 99 MB link and
// a jsii Node started at init on every `make test` (issue 14: make test on 2 cores). Only the
// packages that synthesize in-process may: the app (root), stacks and the gate. A test that
// only reads templates or runs the CLI uses this package, not internal/cdktest.
func TestOnlyTheSynthTestsLinkTheCDK(t *testing.T) {
	const module = "github.com/valkey-dr/valkey-dr"
	want := []string{module, module + "/compliance/gate", module + "/stacks"}
	cmd := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = repotest.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasSuffix(f[0], ".test") {
			continue
		}
		if slices.Contains(f[1:], "github.com/aws/aws-cdk-go/awscdk/v2") {
			got = append(got, strings.TrimSuffix(f[0], ".test"))
		}
	}
	slices.Sort(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("test binaries linking aws-cdk-go: %v, want only %v", got, want)
	}
}
