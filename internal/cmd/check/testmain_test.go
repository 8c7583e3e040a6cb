package main

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// TestMain removes jsii's runtime directory under TMPDIR: this test binary links the jsii
// runtime (through internal/cdktest), which extracts it, and only Close removes it.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
