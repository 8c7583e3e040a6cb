package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarball writes a kit tarball holding files under top/.
func tarball(t *testing.T, dir, top string, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		_ = tw.WriteHeader(&tar.Header{Name: top + "/" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
		_, _ = tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(dir, top+".tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

// A kit whose file differs from its manifest is refused before anything runs: exit 2, the
// file named, no evidence, nothing left extracted.
func TestActivateRefusesATamperedKit(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	kit := tarball(t, dir, "valkey-dr-kit-prod-0123456789ab", map[string]string{
		"manifest.json": `{"kitSchema":1,"environment":"prod","commit":"0123456789ab","dirty":false,"createdAt":"x","built":{"go":"","cdkCli":"","node":"","awsCdkLib":""},` +
			`"runtime":{"node":"","cdkCli":"","notes":""},"stacks":[],"platforms":[],"files":{"cdk.json":"0000000000000000000000000000000000000000000000000000000000000000"}}`,
		"cdk.json": `{"app":"evil"}`,
	})
	var out bytes.Buffer
	code := Main(context.Background(), []string{"activate", "--kit", kit, "--env", "prod", "--region", "us-west-2"}, &out, &out)
	if code != 2 || !strings.Contains(out.String(), "cdk.json: SHA256 ") || !strings.Contains(out.String(), "Nothing was deployed") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, p := range []string{"evidence", ".build/dr", ".build/kit-run/valkey-dr-kit-prod-0123456789ab"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("a refused kit left %s", p)
		}
	}
}

func TestRunContextVariablesAreChecked(t *testing.T) {
	t.Setenv("DRCTL_RUN_URL", "ftp://example.com/run")
	var out bytes.Buffer
	code := Main(context.Background(), []string{"activate", "--env", "prod", "--region", "us-west-2", "--repo", "../../.."}, &out, &out)
	if code != 2 || !strings.Contains(out.String(), "DRCTL_RUN_URL") || !strings.Contains(out.String(), "https") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

func TestKitBuildRefusesAnUnknownEnvironment(t *testing.T) {
	var out bytes.Buffer
	out2 := t.TempDir()
	code := Main(context.Background(), []string{"kit", "--env", "prd", "--repo", "../../..", "--out", out2}, &out, &out)
	if code != 2 || !strings.Contains(out.String(), `--env "prd": not an environment of cdk.json; accepted: example, prod, staging`) {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if ents, _ := os.ReadDir(out2); len(ents) != 0 {
		t.Fatalf("wrote %v", ents)
	}
}

func TestActivateKitWithRepoIsRefused(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out bytes.Buffer
	code := Main(context.Background(), []string{"activate", "--kit", "k.tar.gz", "--repo", "/x", "--env", "prod", "--region", "us-west-2"}, &out, &out)
	if code != 2 || !strings.Contains(out.String(), "--repo and --kit: give one") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("wrote %v", ents)
	}
}
