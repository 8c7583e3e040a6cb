package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
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

// kitTop is a test kit's top directory: the name Build gives prod's kit of kitManifest's
// commit.
const kitTop = "valkey-dr-kit-prod-0123456789ab"

// kitManifest is a kit's manifest.json for prod built at createdAt, with no stacks or tools:
// its one file is cdk.json, as cdkJSON.
func kitManifest(createdAt, cdkJSON string) string {
	sum := sha256.Sum256([]byte(cdkJSON))
	cdkSum := hex.EncodeToString(sum[:])
	return `{"kitSchema":1,"environment":"prod","commit":"0123456789ab","dirty":false,"createdAt":"` + createdAt + `","built":{"go":"","cdkCli":"","node":"","awsCdkLib":""},` +
		`"runtime":{"node":"","cdkCli":"","notes":""},"stacks":[],"platforms":[],"files":{"cdk.json":"` + cdkSum + `"}}`
}

// kitSignature is the signature.json of manifest m, signed by the local key in keyFile
// (created when missing).
func kitSignature(t *testing.T, m, keyFile string) string {
	t.Helper()
	s, _, err := evidence.LoadOrCreateLocalKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := evidence.SignManifest(context.Background(), s, []byte(m))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(sig)
	return string(b)
}

// A kit that is unsigned, signed by a key this machine does not trust, or whose file differs
// from its signed manifest is refused before anything runs: exit 2, the reason named, no
// evidence, nothing extracted.
func TestActivateRefusesAnUnauthenticatedKit(t *testing.T) {
	isolate(t)
	evil := `{"app":"evil"}`
	good := kitManifest("x", evil)
	trustedKey := filepath.Join(t.TempDir(), "trusted.key")
	for name, tc := range map[string]struct {
		files func(t *testing.T) map[string]string
		want  string
	}{
		"an unsigned kit": {func(*testing.T) map[string]string {
			return map[string]string{"manifest.json": good, "cdk.json": evil}
		}, "unsigned: the kit has no signature.json"},
		"a kit whose manifest matches its files, signed by an untrusted key": {func(t *testing.T) map[string]string {
			return map[string]string{"manifest.json": good, "cdk.json": evil, "signature.json": kitSignature(t, good, filepath.Join(t.TempDir(), "other.key"))}
		}, "untrusted-key: signed by ed25519:SHA256:"},
		"a trusted signature, a file that differs": {func(t *testing.T) map[string]string {
			m := kitManifest("x", `{"app":"signed"}`)
			return map[string]string{"manifest.json": m, "cdk.json": evil, "signature.json": kitSignature(t, m, trustedKey)}
		}, "cdk.json: SHA256 "},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			kit := tarball(t, dir, kitTop, tc.files(t))
			var out bytes.Buffer
			code := Main(context.Background(), []string{"activate", "--kit", kit, "--env", "prod", "--region", "us-west-2", "--signing-key", trustedKey}, &out, &out)
			if code != 2 || !strings.Contains(out.String(), tc.want) || !strings.Contains(out.String(), "nothing was extracted") {
				t.Fatalf("exit %d, want %q:\n%s", code, tc.want, out.String())
			}
			for _, p := range []string{"evidence", ".build/dr", ".build/kit-run/" + kitTop} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("a refused kit left %s", p)
				}
			}
		})
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

// A kit older than drkit.MaxAge is refused at activation unless --allow-old-kit (issue 26,
// must-have 7): the message names its build date and the limit; the extraction is removed.
func TestActivateRefusesAnOldKit(t *testing.T) {
	isolate(t)
	cdk := `{"app":"x"}`
	m := kitManifest("2020-01-01T00:00:00Z", cdk)
	key := filepath.Join(t.TempDir(), "trusted.key")
	sig := kitSignature(t, m, key)
	dir := t.TempDir()
	t.Chdir(dir)
	kit := tarball(t, dir, kitTop, map[string]string{"manifest.json": m, "cdk.json": cdk, "signature.json": sig})
	args := []string{"activate", "--kit", kit, "--env", "prod", "--region", "us-west-2", "--signing-key", key}

	var out bytes.Buffer
	code := Main(context.Background(), args, &out, &out)
	for _, want := range []string{"was built 2020-01-01T00:00:00Z", "older than the 30-day limit", "--allow-old-kit", "Nothing was run"} {
		if code != 2 || !strings.Contains(out.String(), want) {
			t.Errorf("exit %d, output lacks %q:\n%s", code, want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".build", "kit-run", kitTop)); err == nil {
		t.Error("a refused old kit stays extracted")
	}

	// --allow-old-kit: past the age check, with a warning (this kit then lacks its tools).
	out.Reset()
	code = Main(context.Background(), append(args, "--allow-old-kit"), &out, &out)
	if code != 2 || !strings.Contains(out.String(), "WARNING: the kit "+kitTop+".tar.gz was built 2020-01-01T00:00:00Z") || !strings.Contains(out.String(), "the kit has no validate") {
		t.Fatalf("--allow-old-kit: exit %d:\n%s", code, out.String())
	}
}
