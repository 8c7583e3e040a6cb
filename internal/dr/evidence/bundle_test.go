package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

const secret = "stand-in-password-0123456789abcdef"

func TestSealScrubsAndChecksums(t *testing.T) {
	parent := t.TempDir()
	b, err := NewBundle(parent, "valkey-dr-drill-example-20260102T030405Z")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddSecret(secret); err != nil {
		t.Fatal(err)
	}
	if err := b.AddSecret("short"); err == nil {
		t.Fatal("a short secret was accepted")
	}
	if err := b.WriteFile("deploy.log", []byte("password="+secret+"\nMasterPassword: {{resolve:secretsmanager:arn:aws:secretsmanager:us-west-2:1:secret:x:SecretString:password::}}\n")); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "sub"), 0o750)
	os.WriteFile(filepath.Join(src, "sub", "report.json"), []byte(`{"password":"`+secret+`"}`), 0o640)
	os.WriteFile(filepath.Join(src, ".write-test-1"), nil, 0o640)
	if err := b.CopyDir("validation", src); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteJSON("metadata.json", map[string]string{"kind": "drill"}); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteFile("../escape", nil); err == nil {
		t.Fatal("a path outside the bundle was accepted")
	}
	s, err := b.Seal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Files, ",") != "deploy.log,metadata.json,validation/sub/report.json" {
		t.Fatalf("files %v", s.Files)
	}
	// The manifest is what sha256sum -c verifies.
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "-c", ManifestName)
		cmd.Dir = s.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, out)
		}
		cmd = exec.Command("sha256sum", "-c", filepath.Base(s.TarballSum))
		cmd.Dir = parent
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c tarball: %v\n%s", err, out)
		}
	}
	files, err := ReadTarball(s.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 || files[b.Name+"/"+ManifestName] == nil {
		t.Fatalf("tarball holds %d files", len(files))
	}
	for name, data := range files {
		if strings.Contains(string(data), secret) || strings.Contains(string(data), "{{resolve:") {
			t.Fatalf("%s holds a secret or a dynamic reference:\n%s", name, data)
		}
		sum := sha256.Sum256(data)
		if name != b.Name+"/"+ManifestName && !strings.Contains(string(files[b.Name+"/"+ManifestName]), hex.EncodeToString(sum[:])) {
			t.Fatalf("%s: checksum not in the manifest", name)
		}
	}
}

func TestSealRefusesAFileDroppedInWithASecret(t *testing.T) {
	b, _ := NewBundle(t.TempDir(), "b")
	_ = b.AddSecret(secret)
	// Written behind the bundle's back: not scrubbed.
	os.WriteFile(filepath.Join(b.Dir, "notes.txt"), []byte(secret), 0o640)
	if _, err := b.Seal(time.Now()); err == nil || !strings.Contains(err.Error(), "notes.txt contains a secret value") {
		t.Fatalf("want a refusal naming the file, got %v", err)
	}
	os.WriteFile(filepath.Join(b.Dir, "notes.txt"), []byte("{{resolve:ssm:x}}"), 0o640)
	if _, err := b.Seal(time.Now()); err == nil || !strings.Contains(err.Error(), "dynamic reference") {
		t.Fatalf("want a dynamic-reference refusal, got %v", err)
	}
}

func TestNewRefusesToOverwrite(t *testing.T) {
	parent := t.TempDir()
	if _, err := NewBundle(parent, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewBundle(parent, "x"); err == nil {
		t.Fatal("an existing bundle directory was reused")
	}
}

func TestCollectVersions(t *testing.T) {
	repo := t.TempDir()
	os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n\nrequire (\n\tgithub.com/aws/aws-cdk-go/awscdk/v2 v2.276.0 // indirect\n)\n"), 0o644)
	f := &drexec.Fake{Script: []drexec.Step{
		{Match: "cdk --version", Result: drexec.Result{Stdout: []byte("2.1148.1 (build abc)\n")}},
		{Match: "node --version", Result: drexec.Result{ExitCode: 127, Stderr: []byte("node: not found\n")}},
		{Match: "git describe", Result: drexec.Result{Stdout: []byte("a5becee-dirty\n")}},
		{Match: "git rev-parse HEAD", Result: drexec.Result{Stdout: []byte("a5becee0000\n")}},
	}}
	v := CollectVersions(context.Background(), f, repo)
	if v.AwsCdkLib != "2.276.0" || v.CdkCLI != "2.1148.1 (build abc)" || v.Node != "unavailable: exit 127: node: not found" ||
		v.Tool != "a5becee-dirty" || v.Commit != "a5becee0000" || !strings.HasPrefix(v.Go, "go") {
		t.Fatalf("versions %+v", v)
	}
}
