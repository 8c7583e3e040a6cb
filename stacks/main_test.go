package stacks_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/internal/cdktest"
)

// canaryDir holds the health canary's bootstrap binary, built once for every stack test (the
// CLI gets it from the cdk.json build step instead).
var canaryDir string

func TestMain(m *testing.M) {
	dir, err := cdktest.BuildCanary()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	canaryDir = dir
	code := m.Run()
	jsii.Close() // stops jsii's Node and removes its runtime directory under TMPDIR
	os.Exit(code)
}
