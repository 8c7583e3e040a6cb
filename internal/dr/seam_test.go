package dr

// Seam tests: no AWS is reachable here, so every external command (aws, bin/cdk, go build,
// the validator) is answered by drexec.Fake with what the real tool prints in that situation.
// They pin the exact command lines and every failure path. Nothing in them deploys anything,
// and nothing they print claims a deployment happened beyond "cdk deploy exited 0" of a fake.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

const (
	account    = "333333333333"
	drStack    = "ValkeyDr-prod-us-west-2-dr"
	primStack  = "ValkeyDr-prod-us-east-1-primary"
	drEndpoint = "gc-sessions-prod-dr-abc123.serverless.usw2.cache.amazonaws.com"
)

func argAfter(c drexec.Cmd, flag string) string {
	i := slices.Index(c.Args, flag)
	if i < 0 || i+1 >= len(c.Args) {
		return ""
	}
	return c.Args[i+1]
}

// writeAssembly writes what cdk synth/deploy leave in --output: a manifest and the templates
// (golden templates of stacks/testdata), stack after golden after stack ...
func writeAssembly(dir string, protected bool, stackGolden ...string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	artifacts := map[string]any{}
	for i := 0; i+1 < len(stackGolden); i += 2 {
		stack, golden := stackGolden[i], stackGolden[i+1]
		b, err := os.ReadFile(filepath.Join(repo, "stacks", "testdata", golden))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, stack+".template.json"), b, 0o640); err != nil {
			return err
		}
		artifacts[stack] = map[string]any{"type": "aws:cloudformation:stack", "environment": "aws://" + account + "/x",
			"properties": map[string]any{"templateFile": stack + ".template.json", "terminationProtection": protected}}
	}
	m, _ := json.Marshal(map[string]any{"artifacts": artifacts})
	return os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o640)
}

// synthDo answers cdk synth / deploy / destroy: the assembly of the named stack goes to
// --output; a matrix synth (--context matrix=prod) writes the DR (in --context region=, when
// given) and the primary stack.
func synthDo(c drexec.Cmd) error {
	if slices.Contains(c.Args, drcontext.KeyMatrix+"=prod") {
		dr := drStack
		for _, a := range c.Args { // --context region=<r>: the DR stack in that region
			if r, ok := strings.CutPrefix(a, drcontext.KeyRegion+"="); ok {
				dr = "ValkeyDr-prod-" + r + "-dr"
			}
		}
		return writeAssembly(argAfter(c, "--output"), true, dr, "posture-stateless-prod-stateless.json", dr+"-dns", "posture-stateless-prod-stateless-dns.json", primStack, "prod-none.json",
			"ValkeyDr-prod-us-west-2-switch", "prod-switch.json", prodStandbyStack, "prod-standby.json")
	}
	if argAfter(c, "--app") != "" {
		return nil // a deploy of a synthesized assembly writes none
	}
	stack := c.Args[1]
	golden := map[string]string{drStack: "posture-stateless-prod-stateless.json", drStack + "-dns": "posture-stateless-prod-stateless-dns.json", primStack: "prod-none.json",
		prodStandbyStack: "prod-standby.json"}[stack]
	if golden == "" {
		return fmt.Errorf("no golden template for %s", stack)
	}
	return writeAssembly(argAfter(c, "--output"), true, stack, golden)
}

// deployDo is synthDo plus the outputs file cdk deploy writes.
func deployDo(endpoint string) func(drexec.Cmd) error {
	return func(c drexec.Cmd) error {
		if err := synthDo(c); err != nil {
			return err
		}
		stack := c.Args[1]
		out := map[string]map[string]string{stack: {"EndpointAddress": endpoint, "EndpointPort": "6379", "ReaderPort": "6380",
			"AuthMode": "password", "SecretArn": "arn:aws:secretsmanager:us-west-2:333333333333:secret:x", "UserName": "app",
			"CanaryFunctionName": "gc-sessions-canary"}}
		held := slices.Contains(c.Args, "holdPrimaryRouting=true") || strings.HasSuffix(argAfter(c, "--app"), "cdk.out.held")
		if !held {
			out[stack]["ServiceDnsName"] = "sessions.cache.prod.internal.example.com"
		}
		b, _ := json.Marshal(out)
		return os.WriteFile(argAfter(c, "--outputs-file"), b, 0o640)
	}
}

// validatorDo writes the validator's evidence files.
func validatorDo(verdict string) func(drexec.Cmd) error {
	return func(c drexec.Cmd) error {
		dir := argAfter(c, "--evidence-dir")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"verdict":"`+verdict+`","options":{"password":"[REDACTED]"}}`), 0o640)
	}
}

// SDK calls (sts, cloudformation) are answered through the same script as the commands: the
// fakes of awsseam_fakes_test.go run a pseudo command line "sdk <service>:<Action> [<stack>]
// @<region>" through drexec.Fake, so the order of every external contact, and the region of
// every SDK call, is pinned in one list. Result.Stdout is the answer (DescribeStacks: the
// API's JSON shape), Err the SDK error.
var (
	stsOK        = drexec.Step{Match: "sts:GetCallerIdentity", Result: drexec.Result{Stdout: []byte(`{"UserId":"AROA:ops","Account":"` + account + `","Arn":"arn:aws:sts::` + account + `:assumed-role/CloudOps/ops"}`)}}
	stsNoCreds   = drexec.Step{Match: "sts:GetCallerIdentity", Err: errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, canceled, context deadline exceeded")}
	stsWrongAcct = drexec.Step{Match: "sts:GetCallerIdentity", Result: drexec.Result{Stdout: []byte(`{"Account":"999999999999","Arn":"arn:aws:iam::999999999999:user/dev"}`)}}
	noSuchStack  = func(stack string) error {
		return &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + stack + " does not exist"}
	}
	bootOK = func(region string) drexec.Step {
		return drexec.Step{Match: "cloudformation:DescribeStacks CDKToolkit @" + region, Result: drexec.Result{Stdout: []byte(`{"Stacks":[{"StackName":"CDKToolkit","StackStatus":"UPDATE_COMPLETE"}]}`)}}
	}
	buildOK = drexec.Step{Match: "go build -o", Result: drexec.Result{}}
	synth   = drexec.Step{Match: "bin/cdk synth", Do: synthDo}
	// versions of the evidence metadata
	versions = []drexec.Step{
		{Match: "bin/cdk --version", Result: drexec.Result{Stdout: []byte("2.1148.1 (build fcf5e34)\n")}},
		{Match: "--version", Result: drexec.Result{Stdout: []byte("v24.21.0\n")}},
		{Match: "git describe", Result: drexec.Result{Stdout: []byte("a5becee\n")}},
		{Match: "git rev-parse", Result: drexec.Result{Stdout: []byte("a5becee0\n")}},
	}
)

func primaryDescribe(outputs string) drexec.Step {
	return drexec.Step{Match: "cloudformation:DescribeStacks " + primStack + " @us-east-1", Result: drexec.Result{Stdout: []byte(
		`{"Stacks":[{"StackStatus":"UPDATE_COMPLETE","EnableTerminationProtection":true,"Outputs":[` + outputs + `]}]}`)}}
}

type env struct {
	t      *testing.T
	out    bytes.Buffer
	fake   *drexec.Fake
	opts   testOptions
	deps   Deps
	dialed []string
	// sw is the fake switch (CloudWatch and EventBridge Scheduler of the DR region) and the
	// canary's metric (Success 1 published).
	sw *fakeSwitch
	// archived are the archive requests (evidence_test.go).
	archived []evidence.ArchiveRequest
	// sdk is every SDK call of every fake, "<service>:<Action> [<what>] @<region>", in order.
	sdk []string
	// clock is the fake time: Now adds a second, Sleep adds what it sleeps.
	clock time.Time
}

// testOptions are every procedure's inputs at once: a seam test sets what its case needs and
// hands each procedure its own (activate, failback, teardown, route).
type testOptions struct {
	Common
	Validator, Approval, Route, To, Confirm                                    string
	Local, AllowReplacement, DisableTerminationProtection, AllowWithoutPrimary bool
	Kit                                                                        *drkit.Kit
}

func (o testOptions) deploy() DeployOptions {
	return DeployOptions{Validator: o.Validator, Approval: o.Approval, Local: o.Local, AllowReplacement: o.AllowReplacement}
}

func (o testOptions) activate() ActivateOptions {
	return ActivateOptions{Common: o.Common, DeployOptions: o.deploy(), Route: o.Route, Kit: o.Kit}
}

func (o testOptions) failback() FailbackOptions {
	return FailbackOptions{Common: o.Common, DeployOptions: o.deploy()}
}

func (o testOptions) teardown() TeardownOptions {
	return TeardownOptions{Common: o.Common, Confirm: o.Confirm, DisableTerminationProtection: o.DisableTerminationProtection, AllowWithoutPrimary: o.AllowWithoutPrimary}
}

func (o testOptions) route() RouteOptions { return RouteOptions{Common: o.Common, To: o.To} }

func newEnv(t *testing.T, script ...drexec.Step) *env {
	t.Helper()
	// The identity check passes unless the test scripts it otherwise (first match wins).
	e := &env{t: t, fake: &drexec.Fake{Script: append(append(script, versions...), stsOK)}}
	root := t.TempDir()
	e.opts = testOptions{Common: Common{Repo: repo, Environment: "prod",
		EvidenceRoot: filepath.Join(root, "evidence"), WorkRoot: filepath.Join(root, "work"),
		Who: evidence.Who{Reason: "test", Ticket: "CHG-1234", Approver: "Dana Roe", IncidentStart: "2026-03-04T04:00:00Z"}}, Approval: "never"}
	e.clock = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	e.deps = Deps{Runner: e.fake, Stdout: &e.out, Stderr: &e.out,
		Now: func() time.Time { e.clock = e.clock.Add(time.Second); return e.clock },
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			e.dialed = append(e.dialed, addr)
			return nil, errors.New("dial tcp: i/o timeout")
		},
		Signer: testSigner(t, root), Archive: e.archive}
	// No SDK client may reach AWS from a seam test: fakes for every procedure.
	e.sw = newFakeSwitch(e)
	e.withAWS(e.sw, &fakeRoute53{e: e, sw: e.sw})
	return e
}

// calls returns the command lines without the version probes of the evidence metadata.
func (e *env) calls() []string {
	var out []string
	for _, c := range e.fake.Calls() {
		if strings.Contains(c, "--version") || strings.HasPrefix(c, "git ") {
			continue
		}
		out = append(out, c)
	}
	return out
}

// noDeployClaim: a failed or refused procedure never says it finished; unless the (fake)
// deploy did succeed, it never says a deploy or destroy exited 0 either.
func (e *env) noDeployClaim(deployRan bool) {
	e.t.Helper()
	claims := []string{"ACTIVATION FINISHED", "FAILBACK FINISHED", "TEARDOWN FINISHED", "deployed successfully"}
	if !deployRan {
		claims = append(claims, "exited 0")
	}
	for _, claim := range claims {
		if strings.Contains(e.out.String(), claim) {
			e.t.Fatalf("output claims %q:\n%s", claim, e.out.String())
		}
	}
}

func wantErr(t *testing.T, err error, code int, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error (exit %d) containing %q, got none", code, parts)
	}
	if got := procedure.ExitCode(err); got != code {
		t.Fatalf("exit code %d, want %d: %v", got, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error does not contain %q:\n%v", p, err)
		}
	}
}

func readBundle(t *testing.T, r *Result) map[string]string {
	t.Helper()
	if r == nil || r.Evidence == nil {
		t.Fatal("no evidence bundle")
	}
	files, err := evidence.ReadTarball(r.Evidence.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	prefix := filepath.Base(r.Evidence.Dir) + "/"
	for k, v := range files {
		out[strings.TrimPrefix(k, prefix)] = string(v)
		if strings.Contains(string(v), "{{resolve:") {
			t.Fatalf("%s holds a dynamic reference", k)
		}
	}
	return out
}

func phases(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	var tl struct {
		Phases []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(files["timeline.json"]), &tl); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, p := range tl.Phases {
		m[p.Name] = p.Status
	}
	return m
}
