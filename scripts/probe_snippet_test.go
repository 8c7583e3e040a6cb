package scripts

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
)

// The probe decision snippet of validate/README.md (runbook section 5), run as the README
// gives it, through bin/validate: go run turned probe's 4 into 1, so the documented script
// sent a dead primary to "fix the probe" instead of to activation (issue 26, finding 1).

// snippetDuration is the change the test makes to the README's text: its --duration 30s
// becomes 3s, so the test waits 3 s per probe and not 30, and a latency SLA a loaded 2-core
// test host meets goes last on the probe line, where it wins over the snippet's own (the
// snippet's 5 ms is the cache's; under the suite's load a healthy stand-in was seen at a p99
// of 8 to 167 ms, and DEGRADED is not what this test is about). Everything else runs as written.
const snippetDuration, testDuration = "--duration 30s", "--duration 3s"

// snippetEnd ends the probe line; testSLA goes just before it.
const snippetEnd, testSLA = " --quiet\n", " --sla-p99 2s"

// probeSnippet is the sh block of validate/README.md that runs `bin/validate probe` and
// branches on its exit status.
func probeSnippet(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "validate", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, block := range strings.Split(string(data), "```sh\n")[1:] {
		body, _, ok := strings.Cut(block, "```")
		if ok && strings.Contains(body, "bin/validate probe ") && strings.Contains(body, "case $? in") {
			found = append(found, body)
		}
	}
	if len(found) != 1 {
		t.Fatalf("validate/README.md has %d sh blocks that run bin/validate probe and branch on case $? in: want exactly one", len(found))
	}
	s := found[0]
	if strings.Count(s, snippetDuration) != 1 {
		t.Fatalf("the README's probe snippet no longer says %q once: update snippetDuration:\n%s", snippetDuration, s)
	}
	if strings.Count(s, snippetEnd) != 1 {
		t.Fatalf("the README's probe line no longer ends with %q once: update snippetEnd:\n%s", snippetEnd, s)
	}
	s = strings.Replace(s, snippetEnd, testSLA+snippetEnd, 1)
	return strings.Replace(s, snippetDuration, testDuration, 1)
}

// runSnippet runs the snippet with bash in a directory that holds primary-outputs.json and a
// bin/validate that execs the repository's, and returns what it printed.
func runSnippet(t *testing.T, snippet string, outputs map[string]string, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(map[string]map[string]string{"ValkeyDr-test-us-east-1-primary": outputs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "primary-outputs.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	repoValidate, err := filepath.Abs(filepath.Join("..", "bin", "validate"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	shim := "#!/usr/bin/env bash\nexec " + strconv.Quote(repoValidate) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "bin", "validate"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", snippet)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the snippet itself failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("snippet stderr:\n%s", stderr.String())
	return stdout.String()
}

func TestProbeSnippetTakesTheActivationBranchForADeadPrimary(t *testing.T) {
	snippet := probeSnippet(t)
	// A closed loopback port: listen, note the port, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	out := runSnippet(t, snippet, map[string]string{"EndpointAddress": "127.0.0.1", "EndpointPort": strconv.Itoa(port),
		"AuthMode": "password", "UserName": "app"}, "VALKEY_PASSWORD=unused-Zk3")
	if !strings.Contains(out, "primary degraded or unreachable: runbook section 6") {
		t.Fatalf("dead primary: the snippet printed %q, want the activation branch (runbook section 6)", out)
	}
}

func TestProbeSnippetTakesTheHealthyBranchForAHealthyPrimary(t *testing.T) {
	if _, _, err := localvalkey.Binaries(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; install with: %s", err, localvalkey.InstallHint)
		}
		t.Skipf("%v; install with: %s", err, localvalkey.InstallHint)
	}
	snippet := probeSnippet(t)
	const user, pass = "app", "app-snippet-Vq8Lr2Xk5Tz9"
	c, err := localvalkey.StartServerless(context.Background(), localvalkey.Options{TLS: true,
		CertValidity: 365 * 24 * time.Hour,
		Users:        []localvalkey.User{{Name: user, Password: pass, Rules: localvalkey.ServerlessRules("on ~* &* +@all -@dangerous")}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// The stand-in's CA is the only root the probe trusts here (SSL_CERT_FILE): the snippet
	// has no --ca-file, as against a real cache, whose certificate chains to public roots.
	out := runSnippet(t, snippet, map[string]string{"EndpointAddress": "localhost", "EndpointPort": strconv.Itoa(c.Primary.Port),
		"ReaderPort": strconv.Itoa(c.ReaderPort()), "AuthMode": "password", "UserName": user},
		"VALKEY_PASSWORD="+pass, "SSL_CERT_FILE="+c.CA.CertFile, "SSL_CERT_DIR=/nonexistent")
	if !strings.Contains(out, "primary healthy: no DR") {
		t.Fatalf("healthy primary: the snippet printed %q, want the healthy branch", out)
	}
}

// make exits 2 on any failed recipe; `make probe` keeps probe's own status: printed and in
// .build/exit-status (scripts/exit-status), which a script reads after make.
func TestMakeProbeKeepsTheExitStatus(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The documented pattern, as a script runs it.
	script := `make --no-print-directory probe ARGS='--endpoint ` + addr + ` --duration 1s --quiet'
make_status=$?
status=$(cut -d' ' -f1 .build/exit-status)
echo "make=$make_status probe=$status"`
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"UNREACHABLE (exit 4)", "make probe: exit 4 (probe: UNREACHABLE)", "make=2 probe=4"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
