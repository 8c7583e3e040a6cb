package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/drill/drilltest"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
)

const repo = "../../.."

// validatorBin is the real validator, built for the package's tests (relinked when it changed).
var validatorBin string

func TestMain(m *testing.M) {
	bin, err := repotest.Build("drill", "valkey-dr-validate", "./validate", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "build the validator: %v\n", err)
		os.Exit(1)
	}
	validatorBin = bin
	os.Exit(m.Run())
}

func needValkey(t *testing.T) {
	t.Helper()
	if _, _, err := localvalkey.Binaries(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; install with: %s", err, localvalkey.InstallHint)
		}
		t.Skipf("%v; install with: %s", err, localvalkey.InstallHint)
	}
}

// fixture is a drill's cdk.out, made from the golden templates.
func fixture(t *testing.T) string { return drilltest.Assembly(t, repo) }

// realExceptCDK runs every command for real except the CDK CLI's --version (the evidence
// metadata), which would need node_modules.
type realExceptCDK struct{}

func (realExceptCDK) Run(ctx context.Context, c drexec.Cmd) (drexec.Result, error) {
	if strings.HasSuffix(c.Name, "bin/cdk") {
		return drexec.Result{Stdout: []byte("2.1148.1 (test)\n")}, nil
	}
	return drexec.Exec{}.Run(ctx, c)
}

// passwords hands out known passwords, so the test can look for them where they must not be.
func passwords(used *[]string) func() (string, error) {
	var n atomic.Int32
	return func() (string, error) {
		p := fmt.Sprintf("drill-test-secret-%d-Zq8Wm3Xr7Tn2", n.Add(1))
		*used = append(*used, p)
		return p, nil
	}
}

func gone(t *testing.T, pids []int) {
	t.Helper()
	// The default stand-in is the serverless shape: one master and its replica.
	if len(pids) != 2 {
		t.Fatalf("stand-in pids %v, want 2 (serverless: master + replica)", pids)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("valkey-server pid %d survives the drill", pid)
		}
	}
}

func TestDrillAgainstTheStandIn(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	needValkey(t)
	var out bytes.Buffer
	var secrets []string
	var pids []int
	var caFile string
	fix := fixture(t)
	res, err := Run(context.Background(),
		Options{Repo: repo, OutRoot: t.TempDir(), FromCDKOut: fix, Validator: validatorBin},
		Deps{Runner: realExceptCDK{}, Stdout: &out, Stderr: &out, NewPassword: passwords(&secrets),
			OnStandIn: func(c *localvalkey.Cluster) { pids, caFile = c.PIDs(), c.CA.CertFile }})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	gone(t, pids)
	if _, err := os.Stat(filepath.Dir(caFile)); !os.IsNotExist(err) {
		t.Fatalf("the stand-in's files survive the drill: %v", err)
	}
	// The evidence says which topology stood in.
	if meta, _ := os.ReadFile(filepath.Join(res.Evidence.Dir, "metadata.json")); !strings.Contains(string(meta), `"standInTopology": "serverless"`) {
		t.Errorf("metadata.json does not say the stand-in was the serverless shape:\n%s", meta)
	}

	// The outputs file: exactly the cdk deploy --outputs-file shape, with the template's keys.
	b, err := os.ReadFile(res.OutputsFile)
	if err != nil {
		t.Fatal(err)
	}
	var shape map[string]map[string]string
	if err := json.Unmarshal(b, &shape); err != nil || len(shape) != 1 || shape[res.Stack] == nil {
		t.Fatalf("outputs file shape: %v\n%s", err, b)
	}
	tmpl, err := assembly.ReadStack(fix, res.Stack)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range shape[res.Stack] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, tmpl.Template.OutputKeys()) {
		t.Fatalf("outputs keys %v\nwant the template's %v", keys, tmpl.Template.OutputKeys())
	}
	loaded, err := contract.Load(res.OutputsFile, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range contract.Required {
		if loaded[k] == "" {
			t.Errorf("required output %s is empty", k)
		}
	}
	if !strings.Contains(loaded[contract.KeySecretArn], Label) || strings.HasPrefix(loaded[contract.KeySecretArn], "arn:") {
		t.Fatalf("SecretArn %q looks real", loaded[contract.KeySecretArn])
	}

	// The evidence: verified manifest, every check passed but the Route 53 names (the DR
	// cache's DNS stack comes after validation: docs/design.md, "Static stability"), labelled,
	// nothing secret.
	if n := len(checks.Table); res.Summary["pass"] != n-1 || res.Summary["skip"] != 1 || res.Summary["total"] != n {
		t.Fatalf("validator summary %v: want %d checks of the table passed and dns-names skipped", res.Summary, n-1)
	}
	cmd := exec.Command("sha256sum", "--quiet", "-c", evidence.ManifestName)
	cmd.Dir = res.Evidence.Dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, b)
	}
	files, err := evidence.ReadTarball(res.Evidence.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for name, data := range files {
		byName[strings.TrimPrefix(name, filepath.Base(res.Evidence.Dir)+"/")] = string(data)
	}
	for _, f := range []string{"README.md", "metadata.json", "timeline.txt", "timeline.json", "commands.json", "stack-outputs.json",
		"stack-outputs.NOTE.md", "validation/report.json", "validation/junit.xml", "validation/summary.md",
		"routing/activation.json", "routing/activation.md", evidence.ManifestName} {
		if _, ok := byName[f]; !ok {
			t.Errorf("bundle lacks %s", f)
		}
	}
	if len(secrets) != 2 {
		t.Fatalf("passwords made: %d, want admin + app", len(secrets))
	}
	// Every file of the directory, the tarball and the terminal: no password, no dynamic
	// reference, and the stand-in's synthesized secret is only named by its label.
	dirFiles, _ := filepath.Glob(filepath.Join(res.Evidence.Dir, "*"))
	sub, _ := filepath.Glob(filepath.Join(res.Evidence.Dir, "*", "*"))
	for _, p := range append(dirFiles, sub...) {
		if data, err := os.ReadFile(p); err == nil {
			byName["dir:"+p] = string(data)
		}
	}
	byName["terminal"] = out.String()
	for name, data := range byName {
		for _, s := range secrets {
			if strings.Contains(data, s) {
				t.Errorf("%s contains a stand-in password", name)
			}
		}
		if strings.Contains(data, "{{resolve:") || strings.Contains(data, "SecretString") {
			t.Errorf("%s contains a dynamic reference or a secret value field", name)
		}
	}
	for _, f := range []string{"README.md", "metadata.json", "stack-outputs.NOTE.md", "timeline.txt"} {
		if !strings.Contains(strings.ToLower(byName[f]), Label) {
			t.Errorf("%s does not say %q", f, Label)
		}
	}
	var rep struct {
		Verdict string
		Options struct{ PasswordSource string }
		Target  struct{ Outputs map[string]string }
	}
	json.Unmarshal([]byte(byName["validation/report.json"]), &rep)
	if rep.Verdict != "pass" || !strings.HasPrefix(rep.Options.PasswordSource, "file ") || rep.Target.Outputs["DrMode"] != "stateless" {
		t.Fatalf("report: %+v", rep)
	}
	var tl struct {
		Phases []struct{ Name, Status string }
	}
	json.Unmarshal([]byte(byName["timeline.json"]), &tl)
	var got []string
	for _, p := range tl.Phases {
		got = append(got, p.Name+"="+p.Status)
	}
	if want := "prepare tools=ok synth=ok stand-in ready=ok routing=not performed validation=ok"; strings.Join(got, " ") != want {
		t.Fatalf("timeline %q, want %q", strings.Join(got, " "), want)
	}
	for _, want := range []string{"deploy 25–60 min", "routing 5–20 min", "validation 10–20 min", "total 30–90 min", "DRILL PASSED (local stand-in, not a deployment)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("terminal lacks %q", want)
		}
	}
}

func TestDrillFailureStopsTheStandInAndKeepsEvidence(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	needValkey(t)
	// A validator that finds the cache broken.
	bad := filepath.Join(t.TempDir(), "validate")
	os.WriteFile(bad, []byte("#!/bin/sh\necho 'cluster-mode FAIL' >&2\nexit 1\n"), 0o755)
	var out bytes.Buffer
	var secrets []string
	var pids []int
	res, err := Run(context.Background(),
		Options{Repo: repo, OutRoot: t.TempDir(), FromCDKOut: fixture(t), Validator: bad},
		Deps{Runner: realExceptCDK{}, Stdout: &out, Stderr: &out, NewPassword: passwords(&secrets),
			OnStandIn: func(c *localvalkey.Cluster) { pids = c.PIDs() }})
	if procedure.ExitCode(err) != contract.ExitFailed || !strings.Contains(err.Error(), "validation: the validator failed against the stand-in") {
		t.Fatalf("want a validation failure (exit 1), got %v", err)
	}
	gone(t, pids)
	if res == nil || res.Evidence == nil {
		t.Fatal("a failed drill sealed no evidence")
	}
	meta, _ := os.ReadFile(filepath.Join(res.Evidence.Dir, "metadata.json"))
	if !strings.Contains(string(meta), `"verdict": "fail"`) {
		t.Fatalf("metadata: %s", meta)
	}
	if strings.Contains(out.String(), "DRILL PASSED") || !strings.Contains(out.String(), "DRILL FAILED") {
		t.Fatalf("terminal:\n%s", out.String())
	}
}

func TestStandInOutputsRefusesAnOutputItCannotFake(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	tmpl := &assembly.Template{Outputs: map[string]assembly.Output{
		"Environment":      {Value: "example"},
		"NewDeployedThing": {Value: map[string]any{"Fn::GetAtt": []any{"X", "Arn"}}},
	}}
	c := &localvalkey.Cluster{Nodes: []*localvalkey.Server{{Port: 1}, {Port: 2}}}
	cfg, err := drcontext.LoadFile(filepath.Join(repo, drcontext.FileName), drcontext.Request{Environment: "example", DrMode: drcontext.DrModeStateless})
	if err != nil {
		t.Fatal(err)
	}
	_, err = StandInOutputs(tmpl, cfg, c)
	if err == nil || !strings.Contains(err.Error(), `"NewDeployedThing" is only known after a deployment`) {
		t.Fatalf("want a refusal naming the output, got %v", err)
	}
}

func TestDrillRefusesAnEnvironmentItCannotStandIn(t *testing.T) {
	t.Parallel() // own servers and ports (issue 14): these tests mostly wait
	dir := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(repo, "cdk.json"))
	os.WriteFile(filepath.Join(dir, "cdk.json"), bytes.Replace(b, []byte(`"mode": "password"`), []byte(`"mode": "iam"`), 1), 0o644)
	var out bytes.Buffer
	_, err := Run(context.Background(), Options{Repo: dir, OutRoot: t.TempDir()}, Deps{Runner: &drexec.Fake{}, Stdout: &out, Stderr: &out})
	if procedure.ExitCode(err) != contract.ExitUsage || !strings.Contains(err.Error(), "cannot issue IAM tokens") {
		t.Fatalf("got %v", err)
	}
}

// make drill MODE=standby: the warm standby is drilled as its activation runs. Nothing is
// deployed (deployed in peacetime): the timeline's deploy is "not performed", the only phase
// with a runbook estimate that runs is validation, and the switch's time is the model's.
func TestDrillOfTheWarmStandby(t *testing.T) {
	t.Parallel() // own servers and ports
	needValkey(t)
	var out bytes.Buffer
	var secrets []string
	res, err := Run(context.Background(),
		Options{Repo: repo, OutRoot: t.TempDir(), FromCDKOut: fixture(t), Validator: validatorBin, Mode: "standby"},
		Deps{Runner: realExceptCDK{}, Stdout: &out, Stderr: &out, NewPassword: passwords(&secrets)})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if res.Stack != "ValkeyDr-example-us-west-2-standby" {
		t.Fatalf("drilled %s", res.Stack)
	}
	tl, err := os.ReadFile(filepath.Join(res.Evidence.Dir, "timeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var timeline struct {
		Phases []struct {
			Name, Status, Note string
			Runbook            struct {
				Label      string `json:"label"`
				MaxMinutes int    `json:"maxMinutes"`
			} `json:"runbookEstimate"`
		}
	}
	if err := json.Unmarshal(tl, &timeline); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range timeline.Phases {
		got[p.Name] = p.Status
		if p.Status == "ok" && p.Name != "validation" && p.Runbook.MaxMinutes > 0 {
			t.Errorf("phase %s ran with the runbook estimate %q: the only long phase of a standby is validation", p.Name, p.Runbook.Label)
		}
		if p.Name == "routing" && (!strings.Contains(p.Note, "model: Route 53 answers the SECONDARY") || !strings.Contains(p.Runbook.Label, "(model)")) {
			t.Errorf("routing: %q (%s): want the model's time to shift", p.Note, p.Runbook.Label)
		}
	}
	if got["deploy"] != "not performed" || got["validation"] != "ok" || got["routing"] != "not performed" || got["synth"] != "" {
		t.Errorf("phases %v", got)
	}
	meta, _ := os.ReadFile(filepath.Join(res.Evidence.Dir, "metadata.json"))
	for _, w := range []string{`"drMode": "standby"`, `"drPosture": "stateless"`, `"modelShiftToDR"`} {
		if !strings.Contains(string(meta), w) {
			t.Errorf("metadata.json lacks %s:\n%s", w, meta)
		}
	}
}

// A drill rehearses the DR side: drMode none is refused before anything runs.
func TestDrillRefusesThePrimaryMode(t *testing.T) {
	_, err := Run(context.Background(), Options{Repo: repo, OutRoot: t.TempDir(), Mode: "none"}, Deps{Stdout: io.Discard, Stderr: io.Discard})
	if err == nil || procedure.ExitCode(err) != 2 || !strings.Contains(err.Error(), "accepted: stateless, standby") {
		t.Fatalf("err %v", err)
	}
}
