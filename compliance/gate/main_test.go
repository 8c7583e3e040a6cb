package gate_test

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close() // stops jsii's Node and removes its runtime directory under TMPDIR
	os.Exit(code)
}
