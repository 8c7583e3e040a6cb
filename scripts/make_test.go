package scripts

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 26, must-have 3: make refuses what it would otherwise ignore, before any build.
func TestMakeRefusesMisspeltVariablesAndOtherDirectories(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		dir  string
		cmd  []string
		want []string
	}{
		"lower-case env": {root, []string{"make", "synth", "env=prod"},
			[]string{"env=prod: make variables are upper case: ENV=prod"}},
		"lower-case drill variables": {root, []string{"make", "drill", "env=prod", "region=us-west-2"},
			[]string{"ENV=prod", "REGION=us-west-2"}},
		"an unknown variable": {root, []string{"make", "dr-activate", "ENV=prod", "REGOIN=us-west-2"},
			[]string{"REGOIN=us-west-2: not a variable of this Makefile", "Accepted: ENV ENVIRONMENT REGION"}},
		"dr-verify without BUNDLE": {root, []string{"make", "dr-verify"},
			[]string{"BUNDLE is required: make dr-verify BUNDLE="}},
		"make -f from a subdirectory": {filepath.Join(root, "docs"), []string{"make", "-f", "../Makefile", "drill"},
			[]string{"run from the repository root (" + root + ")"}},
		"bin/cdk from a subdirectory": {filepath.Join(root, "docs"), []string{"../bin/cdk", "synth"},
			[]string{"run from the repository root (" + root + ")"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tc.cmd[0], tc.cmd[1:]...)
			cmd.Dir = tc.dir
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("%v: err %v, want exit 2\n%s", tc.cmd, err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%v: output lacks %q:\n%s", tc.cmd, w, out)
				}
			}
		})
	}
}
