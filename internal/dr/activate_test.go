package dr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/valkey-dr/valkey-dr/contract"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

func activationScript(deploy, validator drexec.Step) []drexec.Step {
	return []drexec.Step{stsOK, bootOK("us-west-2"), buildOK,
		primaryDescribe(`{"OutputKey":"EndpointAddress","OutputValue":"gc-sessions-prod-xyz.serverless.use1.cache.amazonaws.com"},{"OutputKey":"EndpointPort","OutputValue":"6379"}`),
		drAbsent, synth, dnsDeployOK, deploy, validator}
}

// drAbsent: no DR stack in the DR region (the usual night: the last one was torn down), so the
// replacement check has nothing to compare.
var drAbsent = drexec.Step{Match: "cloudformation:DescribeStacks " + drStack + " @us-west-2", Err: noSuchStack(drStack)}

var (
	deployOK     = drexec.Step{Match: "bin/cdk deploy", Do: deployDo(drEndpoint)}
	validatorOK  = drexec.Step{Match: "valkey-dr-validate --outputs", Do: validatorDo("pass")}
	validatorBad = drexec.Step{Match: "valkey-dr-validate --outputs", Result: drexec.Result{ExitCode: 1}, Do: validatorDo("fail")}
	// dnsDeployOK is the after-validation DNS stack's deploy (docs/design.md, "Static stability").
	dnsDeployOK = drexec.Step{Match: "bin/cdk deploy " + drStack + "-dns"}
)

// activated is a stateless activation in us-west-2 that passes, for the tests that read what
// it did.
func activated(t *testing.T) (*env, *Result) {
	t.Helper()
	e := newEnv(t, activationScript(deployOK, validatorOK)...)
	e.opts.Region = "us-west-2"
	res, err := Activate(context.Background(), e.opts.activate(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	return e, res
}

func TestActivateSeamHappyPath(t *testing.T) {
	e, res := activated(t)
	work := res.Run.Work
	want := []string{
		// SDK calls (awsseam_fakes_test.go): the identity check at the DR region's regional STS
		// endpoint, never the global one (us-east-1).
		"sdk sts:GetCallerIdentity @us-west-2",
		"sdk cloudformation:DescribeStacks CDKToolkit @us-west-2",
		"go build -o " + work + "/valkey-dr-validate ./validate",
		// One gated synth of the environment: deployed as it is, and the routing before.
		repoAbs(t) + "/bin/cdk synth --quiet --no-notices --no-version-reporting --output " + work + "/cdk.out --context matrix=prod",
		// The primary probe, best effort (the primary region may be the one that is down).
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-east-1-primary @us-east-1",
		// The replacement check: no DR stack yet, nothing to compare (replacement.go).
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-west-2-dr @us-west-2",
		repoAbs(t) + "/bin/cdk deploy ValkeyDr-prod-us-west-2-dr --app " + work + "/cdk.out --no-version-reporting --require-approval never --outputs-file " + work + "/cdk-outputs.json --progress events",
		work + "/valkey-dr-validate --outputs " + work + "/cdk-outputs.json --stack ValkeyDr-prod-us-west-2-dr --evidence-dir " + work + "/validation --via-function gc-sessions-canary --region us-west-2",
		// After validation, its own stack: the Route 53 records (no IAM, no Route 53 before),
		// after the replacement check of an earlier activation's DNS stack (none here).
		"sdk cloudformation:DescribeStacks ValkeyDr-prod-us-west-2-dr-dns @us-west-2",
		repoAbs(t) + "/bin/cdk deploy ValkeyDr-prod-us-west-2-dr-dns --app " + work + "/cdk.out --no-version-reporting --require-approval never --outputs-file " + work + "/cdk-outputs-dns.json --progress events",
	}
	if got := e.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(e.dialed) != 1 || e.dialed[0] != "gc-sessions-prod-xyz.serverless.use1.cache.amazonaws.com:6379" {
		t.Fatalf("primary probe dialled %v", e.dialed)
	}
	files := readBundle(t, res)
	for _, f := range []string{"metadata.json", "timeline.txt", "timeline.json", "commands.json", "preflight.json", "deploy.log", "deploy-dns.log",
		"replacement-dns.json", "stack-outputs.json", "validation/report.json", "routing/activation.json", "routing/activation.md", "README.md", "SHA256SUMS"} {
		if _, ok := files[f]; !ok {
			t.Errorf("bundle lacks %s", f)
		}
	}
	if p := phases(t, files); p["preflight"] != "ok" || p["deploy"] != "ok" || p["routing"] != "ok" || p["validation"] != "ok" {
		t.Fatalf("phases %v", p)
	}
	var routing struct {
		Added []struct {
			Name, Failover string
			Values         []string
		}
	}
	json.Unmarshal([]byte(files["routing/activation.json"]), &routing)
	if len(routing.Added) != 2 || routing.Added[0].Failover != "SECONDARY" || routing.Added[0].Values[0] != drEndpoint {
		t.Fatalf("routing added %+v", routing.Added)
	}
	if !strings.Contains(files["preflight.json"], `"tcp": "failed: dial tcp: i/o timeout"`) {
		t.Fatalf("the primary probe result is not recorded:\n%s", files["preflight.json"])
	}
	var meta map[string]any
	json.Unmarshal([]byte(files["metadata.json"]), &meta)
	if meta["verdict"] != "pass" || meta["callerArn"] == nil || meta["versions"].(map[string]any)["awsCdkLib"] != "2.276.0" {
		t.Fatalf("metadata %v", meta)
	}
}

// cdkSynthsAndDeploys picks the cdk synth and cdk deploy commands out of a run's calls, in
// order: the one-synth tests check those two alone.
func cdkSynthsAndDeploys(calls []string) (synths, deploys []string) {
	for _, c := range calls {
		switch {
		case strings.Contains(c, "bin/cdk synth"):
			synths = append(synths, c)
		case strings.Contains(c, "bin/cdk deploy"):
			deploys = append(deploys, c)
		}
	}
	return synths, deploys
}

// TestActivateSeamNonDefaultRegionIsOneSynth: a DR region cdk.json defines but the drMode does
// not default to (a third region here) still gets ONE gated synth, --context matrix=prod
// --context region=<region>: its DR stack is deployed from it and the primary read from it.
func TestActivateSeamNonDefaultRegionIsOneSynth(t *testing.T) {
	// A repository whose cdk.json gives prod a third region (the commands are fakes: only
	// cdk.json is read from it).
	b, err := os.ReadFile(filepath.Join(repo, drcontext.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	prod := doc["context"].(map[string]any)["environments"].(map[string]any)["prod"].(map[string]any)
	regions := prod["regions"].(map[string]any)
	third := map[string]any{}
	for k, v := range regions["us-west-2"].(map[string]any) {
		third[k] = v
	}
	third["kmsKeyArn"] = "arn:aws:kms:us-west-1:" + account + ":key/44444444-4444-4444-4444-444444444444"
	regions["us-west-1"] = third
	fork := t.TempDir()
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(filepath.Join(fork, drcontext.FileName), b, 0o640); err != nil {
		t.Fatal(err)
	}
	const dr = "ValkeyDr-prod-us-west-1-dr"
	e := newEnv(t, stsOK, bootOK("us-west-1"), buildOK,
		primaryDescribe(`{"OutputKey":"EndpointAddress","OutputValue":"gc-sessions-prod-xyz.serverless.use1.cache.amazonaws.com"},{"OutputKey":"EndpointPort","OutputValue":"6379"}`),
		synth, drexec.Step{Match: "bin/cdk deploy ValkeyDr-prod-us-west-1-dr-dns"}, deployOK, validatorOK)
	e.opts.Repo, e.opts.Region = fork, "us-west-1"
	res, err := Activate(context.Background(), e.opts.activate(), e.deps)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	work := res.Run.Work
	synths, deploys := cdkSynthsAndDeploys(e.calls())
	want := fork + "/bin/cdk synth --quiet --no-notices --no-version-reporting --output " + work + "/cdk.out --context matrix=prod --context region=us-west-1"
	if len(synths) != 1 || synths[0] != want {
		t.Fatalf("synths:\n%s\nwant exactly:\n%s", strings.Join(synths, "\n"), want)
	}
	if len(deploys) != 2 || !strings.HasPrefix(deploys[0], fork+"/bin/cdk deploy "+dr+" --app "+work+"/cdk.out ") ||
		!strings.HasPrefix(deploys[1], fork+"/bin/cdk deploy "+dr+"-dns --app "+work+"/cdk.out ") {
		t.Fatalf("deploys:\n%s\nwant %s, then its DNS stack, from the one synth's assembly", strings.Join(deploys, "\n"), dr)
	}
	files := readBundle(t, res)
	if strings.Contains(files["preflight.json"], "routingBefore") {
		t.Errorf("the routing before was not read from the one synth:\n%s", files["preflight.json"])
	}
}

// TestActivateSeamPrimaryGateFailureDoesNotBlock: the environment's one synth fails on the
// PRIMARY stack (a rule firing there, a broken primary region in cdk.json): the DR activation
// must not depend on it. The DR stack passes its own gated synth and is deployed from that
// assembly; the primary gets a read-only synth of its own; the evidence says what happened.
func TestActivateSeamPrimaryGateFailureDoesNotBlock(t *testing.T) {
	e := newEnv(t, stsOK, bootOK("us-west-2"), buildOK,
		primaryDescribe(`{"OutputKey":"EndpointAddress","OutputValue":"gc-sessions-prod-xyz.serverless.use1.cache.amazonaws.com"},{"OutputKey":"EndpointPort","OutputValue":"6379"}`),
		drexec.Step{Match: "--context matrix=prod", Result: drexec.Result{ExitCode: 1,
			Stderr: []byte("ERROR VDR-003 ValkeyDr-prod-us-east-1-primary/SessionCache/SecurityGroup: ingress from 0.0.0.0/0")}},
		drexec.Step{Match: "bin/cdk synth " + drStack, Do: synthDo},
		drexec.Step{Match: "bin/cdk synth " + primStack, Do: synthDo},
		dnsDeployOK, deployOK, validatorOK)
	e.opts.Region = "us-west-2"
	res, err := Activate(context.Background(), e.opts.activate(), e.deps)
	if err != nil {
		t.Fatalf("the DR activation failed on the primary stack's gate: %v\n%s", err, e.out.String())
	}
	work := res.Run.Work
	synths, deploys := cdkSynthsAndDeploys(e.calls())
	if len(deploys) != 2 {
		t.Fatalf("deploys:\n%s\nwant the DR stack and its DNS stack", strings.Join(deploys, "\n"))
	}
	deploy := deploys[0]
	// The DR stack's own synth holds no DNS stack: its deploy synthesizes it, gated.
	if !strings.Contains(deploys[1], "deploy "+drStack+"-dns ") || !strings.Contains(deploys[1], "--context stack=dns") {
		t.Errorf("DNS deploy %q: want the DNS stack synthesized with --context stack=dns", deploys[1])
	}
	wantSynths := []string{
		repoAbs(t) + "/bin/cdk synth --quiet --no-notices --no-version-reporting --output " + work + "/cdk.out --context matrix=prod",
		// gated (no --no-validation): the assembly deployed
		repoAbs(t) + "/bin/cdk synth " + drStack + " --quiet --no-notices --no-version-reporting --output " + work + "/cdk.out --context environment=prod --context region=us-west-2 --context drMode=stateless",
		// read-only: the routing before
		repoAbs(t) + "/bin/cdk synth " + primStack,
	}
	if len(synths) != 3 || synths[0] != wantSynths[0] || synths[1] != wantSynths[1] || !strings.HasPrefix(synths[2], wantSynths[2]) || !strings.Contains(synths[2], "--no-validation") {
		t.Fatalf("synths:\n%s\nwant:\n%s", strings.Join(synths, "\n"), strings.Join(wantSynths, "\n"))
	}
	if !strings.HasPrefix(deploy, repoAbs(t)+"/bin/cdk deploy "+drStack+" --app "+work+"/cdk.out ") {
		t.Fatalf("deploy %q: want the DR stack from its gated synth's assembly", deploy)
	}
	files := readBundle(t, res)
	for _, want := range []string{`"oneSynth"`, "exited 1", "VDR-003", "passed its own gated synth: the deploy uses that assembly"} {
		if !strings.Contains(files["preflight.json"], want) {
			t.Errorf("preflight.json lacks %q:\n%s", want, files["preflight.json"])
		}
	}
	if strings.Contains(files["preflight.json"], "routingBefore") {
		t.Errorf("the routing before is missing although the primary's read-only synth passed:\n%s", files["preflight.json"])
	}
	if !strings.Contains(e.out.String(), "the DR stack alone decides") {
		t.Errorf("the operator is not told why a second synth runs:\n%s", e.out.String())
	}
}

func repoAbs(t *testing.T) string {
	t.Helper()
	j, err := prepare(Common{Repo: repo, Environment: "x"}, "", Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return j.Repo
}

func TestActivateSeamFailures(t *testing.T) {
	primaryDown := drexec.Step{Match: "cloudformation:DescribeStacks " + primStack, Err: errors.New(`operation error CloudFormation: DescribeStacks, https response error: dial tcp: lookup cloudformation.us-east-1.amazonaws.com: i/o timeout`)}
	for name, tc := range map[string]struct {
		region string
		script []drexec.Step
		code   int
		msg    []string
		// lastCmd is a substring of the last external command run (nothing after it ran).
		lastCmd string
		phases  map[string]string
		// deployExited0: the (fake) cdk deploy succeeded, so saying so is no false claim.
		deployExited0 bool
	}{
		"no credentials stop before anything is deployed": {
			script: []drexec.Step{stsNoCreds}, code: 1, msg: []string{"cannot prove AWS credentials for account 333333333333 (sts:GetCallerIdentity in us-west-2)", "no usable AWS credentials", "aws sso login"},
			lastCmd: "sts:GetCallerIdentity @us-west-2", phases: map[string]string{"preflight": "failed", "deploy": "not run", "validation": "not run"},
		},
		"an expired SSO session says how to log in": {
			script: []drexec.Step{{Match: "sts:GetCallerIdentity", Err: fmt.Errorf("operation error STS: GetCallerIdentity, get identity: get credentials: %w", &ssocreds.InvalidTokenError{})}},
			code:   1, msg: []string{"cannot prove AWS credentials", "the AWS SSO session has expired: run `aws sso login --profile"}, lastCmd: "sts:GetCallerIdentity @us-west-2",
		},
		"credentials of another account are refused": {
			script: []drexec.Step{stsWrongAcct}, code: 1, msg: []string{"account 999999999999", "deploys to account 333333333333"}, lastCmd: "sts:GetCallerIdentity @us-west-2",
		},
		"a region that is not bootstrapped": {
			script: []drexec.Step{stsOK, {Match: "DescribeStacks CDKToolkit", Err: noSuchStack("CDKToolkit")}}, code: 1,
			msg: []string{"not bootstrapped", "bin/cdk bootstrap aws://333333333333/us-west-2"}, lastCmd: "CDKToolkit",
		},
		"a broken bootstrap stack": {
			script: []drexec.Step{stsOK, {Match: "DescribeStacks CDKToolkit", Result: drexec.Result{Stdout: []byte(`{"Stacks":[{"StackStatus":"ROLLBACK_COMPLETE"}]}`)}}},
			code:   1, msg: []string{"CDKToolkit stack in us-west-2 is ROLLBACK_COMPLETE"}, lastCmd: "CDKToolkit",
		},
		"a validator that does not build stops before the deploy": {
			script: []drexec.Step{stsOK, bootOK("us-west-2"), {Match: "go build", Result: drexec.Result{ExitCode: 1, Stderr: []byte("validate/run.go:1: syntax error")}}},
			code:   1, msg: []string{"the validator does not build", "syntax error"}, lastCmd: "go build",
		},
		"a failed deploy is not validated": {
			script: activationScript(drexec.Step{Match: "bin/cdk deploy", Result: drexec.Result{ExitCode: 1, Stderr: []byte("ValkeyDr-prod-us-west-2-dr failed: CREATE_FAILED SessionCache")}}, validatorOK),
			code:   1, msg: []string{"cdk deploy ValkeyDr-prod-us-west-2-dr exited 1", "deploy log"}, lastCmd: "bin/cdk deploy",
			phases: map[string]string{"preflight": "ok", "deploy": "failed", "routing": "not run", "validation": "not run"},
		},
		"a deploy without an outputs file": {
			script: activationScript(drexec.Step{Match: "bin/cdk deploy", Do: synthDo}, validatorOK),
			code:   1, msg: []string{"cdk deploy exited 0 but its outputs file is unusable"}, lastCmd: "bin/cdk deploy", deployExited0: true,
		},
		"a failed validation fails the activation": {
			script: activationScript(deployOK, validatorBad), code: 1,
			msg: []string{"validation failed", "do not route traffic"}, lastCmd: "valkey-dr-validate", deployExited0: true,
			// No DNS for a cache that is not proven: the DNS stack comes after validation.
			phases: map[string]string{"deploy": "ok", "routing": "not run", "validation": "failed"},
		},
		"Route 53's control plane down: the DNS step fails alone, the cache is validated and serving": {
			script: append([]drexec.Step{{Match: "bin/cdk deploy " + drStack + "-dns", Result: drexec.Result{ExitCode: 1}}}, activationScript(deployOK, validatorOK)...),
			code:   1, msg: []string{"DNS deploy log", "is deployed, validated and serving", "SSM parameters under /valkey-dr/prod"}, lastCmd: "deploy " + drStack + "-dns", deployExited0: true,
			phases: map[string]string{"deploy": "ok", "validation": "ok", "routing": "failed"},
		},
		"a DR stack the compliance gate refuses stops before the deploy": {
			// The environment's synth fails, then the DR stack's own gated synth: the gate refused it.
			script: []drexec.Step{stsOK, bootOK("us-west-2"), buildOK, {Match: "bin/cdk synth", Result: drexec.Result{ExitCode: 1,
				Stderr: []byte("ERROR VDR-007 ValkeyDr-prod-us-west-2-dr/SessionCache/Cache: a production cache without its CMK")}}},
			code: 1, msg: []string{"cdk synth ValkeyDr-prod-us-west-2-dr exited 1", "failed compliance gate; nothing was deployed", "VDR-007"}, lastCmd: "bin/cdk synth ValkeyDr-prod-us-west-2-dr",
			phases: map[string]string{"preflight": "failed", "deploy": "not run", "validation": "not run"},
		},
		"a validator configuration error": {
			script: activationScript(deployOK, drexec.Step{Match: "valkey-dr-validate", Result: drexec.Result{ExitCode: 2,
				Stderr: []byte("valkey-dr-validate: --password-secret-arn: AccessDeniedException\n")}}),
			code: 1, msg: []string{"could not run (exit 2", "AccessDeniedException"}, lastCmd: "valkey-dr-validate", deployExited0: true,
		},
		"an unreachable primary region does not block the activation": {
			script: []drexec.Step{stsOK, bootOK("us-west-2"), buildOK, primaryDown, synth, deployOK, validatorOK}, code: 0,
		},
		"a region without networking in cdk.json is a usage error": {
			region: "eu-west-1", code: 2, msg: []string{"eu-west-1", "Nothing was run"},
		},
		"a missing REGION is a usage error with the hint": {
			region: "-", code: 2, msg: []string{"REGION is required", "REGION=us-west-2"},
		},
		"the primary region is refused as the DR region": {
			region: "us-east-1", code: 2, msg: []string{"us-east-1"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, tc.script...)
			// "" is the normal DR region, "-" none at all.
			switch e.opts.Region = tc.region; tc.region {
			case "":
				e.opts.Region = "us-west-2"
			case "-":
				e.opts.Region = ""
			}
			res, err := Activate(context.Background(), e.opts.activate(), e.deps)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("%v\n%s", err, e.out.String())
				}
				return
			}
			wantErr(t, err, tc.code, tc.msg...)
			e.noDeployClaim(tc.deployExited0)
			calls := e.calls()
			if tc.lastCmd == "" {
				if len(calls) != 0 || res != nil {
					t.Fatalf("a usage error ran commands %v", calls)
				}
				return
			}
			if len(calls) == 0 || !strings.Contains(calls[len(calls)-1], tc.lastCmd) {
				t.Fatalf("last command %q, want it to contain %q (all: %q)", calls[len(calls)-1], tc.lastCmd, calls)
			}
			files := readBundle(t, res)
			var meta map[string]any
			json.Unmarshal([]byte(files["metadata.json"]), &meta)
			if meta["verdict"] != "fail" || !strings.Contains(fmt.Sprint(meta["failure"]), tc.msg[0]) {
				t.Fatalf("metadata verdict %v failure %v", meta["verdict"], meta["failure"])
			}
			got := phases(t, files)
			for k, v := range tc.phases {
				if got[k] != v {
					t.Errorf("phase %s = %q, want %q (all %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestActivateSeamInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupt := drexec.Step{Match: "bin/cdk deploy", Do: func(drexec.Cmd) error {
		cancel() // SIGINT while CloudFormation works
		return fmt.Errorf("bin/cdk: interrupted: %w", context.Canceled)
	}}
	e := newEnv(t, activationScript(interrupt, validatorOK)...)
	e.opts.Region = "us-west-2"
	res, err := Activate(ctx, e.opts.activate(), e.deps)
	wantErr(t, err, contract.ExitInterrupted, "deploy: interrupted")
	files := readBundle(t, res)
	if p := phases(t, files); p["deploy"] != "interrupted" || p["validation"] != "not run" {
		t.Fatalf("phases %v", p)
	}
	if !strings.Contains(files["metadata.json"], `"verdict": "interrupted"`) {
		t.Fatalf("metadata:\n%s", files["metadata.json"])
	}
}

func TestActivateSeamRecordsAReachablePrimary(t *testing.T) {
	e := newEnv(t, activationScript(deployOK, validatorOK)...)
	e.opts.Region = "us-west-2"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e.deps.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, l.Addr().String())
	}
	res, err := Activate(context.Background(), e.opts.activate(), e.deps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.out.String(), "the primary cache accepts TCP connections: confirm the activation criteria") {
		t.Fatalf("no warning about a reachable primary:\n%s", e.out.String())
	}
	if files := readBundle(t, res); !strings.Contains(files["preflight.json"], `"reachable": true`) {
		t.Fatalf("preflight.json:\n%s", files["preflight.json"])
	}
}
