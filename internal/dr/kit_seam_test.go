package dr

// Activation from a DR kit, at the command seam: the kit is really built (drkit.Build, its
// git/go/cdk commands answered by the fake with golden assemblies), packed, opened and
// verified; the activation's AWS and CDK commands are the fake's. Nothing is deployed.

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit/kittest"
)

// openTestKit builds the prod kit from this repository's cdk.json and opens it.
func openTestKit(t *testing.T) *drkit.Kit {
	t.Helper()
	b, signer, _ := buildTestKit(t, func(src string) { kittest.FakeRuntime(t, src) })
	k, err := drkit.Open(context.Background(), b.Tarball, t.TempDir(), []evidence.TrustedKey{evidence.TrustLocalSigner(signer)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// buildTestKit builds the prod kit from this repository's cdk.json (the fake answers git, go
// and cdk synth with golden assemblies); runtime puts the node_modules the kit carries into
// the source repository. keyFile holds the signer's key.
func buildTestKit(t *testing.T, runtime func(src string)) (b *drkit.Built, signer *evidence.LocalSigner, keyFile string) {
	t.Helper()
	src := t.TempDir()
	for _, f := range append([]string{"go.mod"}, drkit.RepoFiles...) {
		b, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(src, f)), 0o750)
		if err := os.WriteFile(filepath.Join(src, f), b, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	runtime(src)
	f := &drexec.Fake{Script: append([]drexec.Step{
		{Match: "git rev-parse HEAD", Result: drexec.Result{Stdout: []byte("a5becee0a5becee0a5becee0a5becee0a5becee0\n")}},
		{Match: "git status --porcelain"},
		synth,
		{Match: "go env GOVERSION", Result: drexec.Result{Stdout: []byte("go1.26.8\n")}},
		{Match: "go build", Do: func(c drexec.Cmd) error {
			out := argAfter(c, "-o")
			_ = os.MkdirAll(filepath.Dir(out), 0o750)
			return os.WriteFile(out, []byte("prebuilt "+filepath.Base(out)), 0o750)
		}},
	}, versions...)}
	keyFile = filepath.Join(t.TempDir(), "kit.key")
	signer, _, err := evidence.LoadOrCreateLocalKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err = drkit.Build(context.Background(), drkit.BuildOptions{Repo: src, Environment: "prod", OutDir: t.TempDir(), Runner: f, Stdout: io.Discard, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	return b, signer, keyFile
}

func TestActivateFromKitDeploysTheVerifiedAssembly(t *testing.T) {
	k := openTestKit(t)
	var deployCmd drexec.Cmd
	var atDeploy map[string]string
	kitDeploy := drexec.Step{Match: "bin/cdk deploy", Do: func(c drexec.Cmd) error {
		deployCmd = c
		var err error
		if atDeploy, err = drkit.HashDir(argAfter(c, "--app")); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]map[string]string{drStack: {"EndpointAddress": drEndpoint, "EndpointPort": "6379", "ReaderPort": "6380",
			"AuthMode": "password", "SecretArn": "arn:aws:secretsmanager:us-west-2:333333333333:secret:x", "UserName": "app", "ServiceDnsName": "sessions.cache.prod.internal.example.com"}})
		return os.WriteFile(argAfter(c, "--outputs-file"), b, 0o640)
	}}
	e := newEnv(t, drexec.Step{Match: "scripts/prereqs node"}, stsOK, bootOK("us-west-2"),
		primaryDescribe(`{"OutputKey":"EndpointAddress","OutputValue":"p.serverless.use1.cache.amazonaws.com"}`), drAbsent,
		kitDeploy, drexec.Step{Match: "/validate --outputs", Do: validatorDo("pass")})
	e.opts.Repo, e.opts.Kit, e.opts.Region = k.Dir, k, "us-west-2"
	e.opts.Validator = k.Path(drkit.ToolPath(drkit.Host(), "validate"))
	e.opts.Run = map[string]string{"approver": "octo-approver", "runUrl": "https://github.com/o/r/actions/runs/1"}
	res, err := Activate(context.Background(), e.opts.activate(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	work := res.Run.Work
	asm := k.Dir + "/assemblies/matrix"
	want := []string{
		k.Dir + "/scripts/prereqs node",
		"sdk sts:GetCallerIdentity @us-west-2",
		"sdk cloudformation:DescribeStacks CDKToolkit @us-west-2",
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-east-1-primary @us-east-1",
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-west-2-dr @us-west-2",
		k.Dir + "/bin/cdk deploy ValkeyDr-prod-us-west-2-dr --app " + asm + " --no-version-reporting --require-approval never --outputs-file " + work + "/cdk-outputs.json --progress events",
		e.opts.Validator + " --outputs " + work + "/cdk-outputs.json --stack ValkeyDr-prod-us-west-2-dr --evidence-dir " + work + "/validation",
		// After validation, the DNS stack from the same verified assembly (checked first).
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-west-2-dr-dns @us-west-2",
		k.Dir + "/bin/cdk deploy ValkeyDr-prod-us-west-2-dr-dns --app " + asm + " --no-version-reporting --require-approval never --outputs-file " + work + "/cdk-outputs-dns.json --progress events",
	}
	if got := e.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range e.fake.Calls() {
		if strings.HasPrefix(c, "go ") || strings.Contains(c, " synth ") {
			t.Fatalf("activation from a kit ran %q: no Go and no synth on the night", c)
		}
	}
	// The assembly cdk deploy read is byte for byte the one the gate passed: the manifest's.
	n := 0
	for rel, sum := range k.Manifest.Files {
		if sub, ok := strings.CutPrefix(rel, "assemblies/matrix/"); ok {
			n++
			if atDeploy[sub] != sum {
				t.Fatalf("%s at deploy time: %q, manifest %q", rel, atDeploy[sub], sum)
			}
		}
	}
	if n == 0 || n != len(atDeploy) {
		t.Fatalf("the deployed assembly has %d files, the manifest %d", len(atDeploy), n)
	}
	if _, err := os.Stat(filepath.Join(deployCmd.Dir, "cdk.json")); err == nil || deployCmd.Dir != work {
		t.Fatalf("cdk deploy runs in %s, which must be the work dir without a cdk.json (no build step)", deployCmd.Dir)
	}
	files := readBundle(t, res)
	var meta struct {
		Run      map[string]string
		Kit      map[string]any
		Versions struct{ Tool, Commit string }
	}
	if err := json.Unmarshal([]byte(files["metadata.json"]), &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Run["approver"] != "octo-approver" || meta.Run["runUrl"] == "" || meta.Kit["sha256"] != k.TarballSHA256 ||
		meta.Kit["commit"] != "a5becee0a5becee0a5becee0a5becee0a5becee0" || meta.Kit["deployedAssemblyFilesReverified"] != float64(n) {
		t.Fatalf("metadata run %v kit %v", meta.Run, meta.Kit)
	}
	if meta.Versions.Commit != "a5becee0a5becee0a5becee0a5becee0a5becee0" || meta.Versions.Tool != "kit "+meta.Versions.Commit {
		t.Fatalf("versions record %+v, want the kit's commit", meta.Versions)
	}
	if p := phases(t, files); p["preflight"] != "ok" || p["deploy"] != "ok" || p["validation"] != "ok" {
		t.Fatalf("phases %v", p)
	}
	if !strings.Contains(files["routing/activation.json"], "SECONDARY") {
		t.Fatalf("routing from the kit's assemblies: %s", files["routing/activation.json"])
	}
}

func TestActivateFromKitRefusesARegionItDoesNotHold(t *testing.T) {
	k := openTestKit(t)
	e := newEnv(t)
	e.opts.Repo, e.opts.Kit, e.opts.Region = k.Dir, k, "us-east-1"
	_, err := Activate(context.Background(), e.opts.activate(), e.deps)
	wantErr(t, err, 2, "us-east-1")
	if len(e.fake.Calls()) != 0 {
		t.Fatalf("ran %v", e.fake.Calls())
	}
}

func TestRunContextFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	got, err := RunContextFromEnv(env(map[string]string{EnvApprover: "alice", EnvRunURL: "https://github.com/o/r/actions/runs/9", EnvTicket: "CHG-1"}))
	if err != nil || got["approver"] != "alice" || got["runUrl"] != "https://github.com/o/r/actions/runs/9" || got["ticket"] != "CHG-1" || len(got) != 3 {
		t.Fatalf("%v %v", got, err)
	}
	for name, m := range map[string]map[string]string{
		"a run URL that is not https is refused": {EnvRunURL: "http://x/y"},
		"a multi-line reason is refused":         {EnvReason: "a\nb"},
		"an overlong ticket is refused":          {EnvTicket: strings.Repeat("x", 501)},
	} {
		if _, err := RunContextFromEnv(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
