package drexec

// This file builds the exact command lines the DR procedures run: the pinned CDK CLI
// (synth, deploy, destroy), the AWS CLI (caller identity, stack lookups, termination
// protection) and the validator. They are plain values so tests pin them word for word and
// an operator can copy them from the output and run them by hand.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
)

// Approval policies of `cdk deploy --require-approval`.
const (
	// ApprovalBroadening asks before security-broadening changes (IAM, security groups): the
	// CDK default, and ours for people at a terminal.
	ApprovalBroadening = "broadening"
	// ApprovalAnyChange asks before every change.
	ApprovalAnyChange = "any-change"
	// ApprovalDestructive asks before changes that delete or replace resources.
	ApprovalDestructive = "destructive"
	// ApprovalNever never asks: for pipelines, where the change was approved upstream.
	ApprovalNever = "never"
)

// Approvals lists the policies the pinned CLI accepts.
var Approvals = []string{ApprovalBroadening, ApprovalAnyChange, ApprovalDestructive, ApprovalNever}

// CheckApproval returns an error naming the accepted values for an unknown policy.
func CheckApproval(p string) error {
	for _, a := range Approvals {
		if p == a {
			return nil
		}
	}
	return fmt.Errorf("--require-approval %q: want one of %s", p, strings.Join(Approvals, ", "))
}

// Stack is one stack of one environment, as the CDK app is told with --context.
type Stack struct {
	Environment        string
	Region             string
	DrMode             drcontext.DrMode
	HoldPrimaryRouting bool
	// Stack is the stack name (Config.StackID()); naming it on the command line makes cdk
	// refuse when the app synthesizes something else.
	Stack string
	// Select is the --context stack= selection ("" the cache stack; drcontext.StackDNS the DNS
	// stack of a stack made on the night).
	Select string
}

// StackOf is the Stack of a validated Config. The region is always explicit on the
// command line: what the operator reads is what is deployed.
func StackOf(c *drcontext.Config) Stack {
	return Stack{Environment: c.EnvironmentName, Region: c.Region, DrMode: c.DrMode,
		HoldPrimaryRouting: c.HoldPrimaryRouting, Stack: c.StackID()}
}

func (t Stack) context() []string {
	a := []string{
		"--context", drcontext.KeyEnvironment + "=" + t.Environment,
		"--context", drcontext.KeyRegion + "=" + t.Region,
		"--context", drcontext.KeyDrMode + "=" + string(t.DrMode),
	}
	if t.HoldPrimaryRouting {
		a = append(a, "--context", drcontext.KeyHoldPrimaryRouting+"=true")
	}
	if t.Select != "" {
		a = append(a, "--context", drcontext.KeyStack+"="+t.Select)
	}
	return a
}

// CDK builds commands for the repository's pinned CLI (bin/cdk: Node 24 + the pinned
// aws-cdk). Every command says --no-version-reporting (no call home). Synths also say
// --no-notices (deterministic logs); deploy and destroy do not: CDK notices carry security
// advisories an operator changing a production stack must see.
type CDK struct {
	// Repo is the repository root (holds bin/cdk and cdk.json); "" is the current directory.
	Repo string
	// CLI is the program to run; "" means Repo/bin/cdk (make check passes the cdk on PATH,
	// which the Makefile puts in front: the same pinned CLI).
	CLI string
}

func (c CDK) cmd(args ...string) Cmd {
	name := c.CLI
	if name == "" {
		name = filepath.Join(c.Repo, "bin", "cdk")
	}
	return Cmd{Name: name, Args: args, Dir: c.Repo, Env: []string{"CDK_DISABLE_CLI_TELEMETRY=true"}}
}

// SynthApp synthesizes the whole app for one cell of the environment x drMode matrix, the
// region left to the drMode's default: what `make check` runs for every cell.
func (c CDK) SynthApp(environment string, mode drcontext.DrMode, outDir string) Cmd {
	return c.cmd("synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", outDir,
		"--context", drcontext.KeyEnvironment+"="+environment, "--context", drcontext.KeyDrMode+"="+string(mode)).bounded(TimeoutSynth)
}

// Synth synthesizes the target's stack into outDir; nothing is deployed. It skips aws-cdk-lib's
// built-in CloudFormation validation (--no-validation, README "Validation where it pays"):
// this synth is read, never deployed (the drill, dr-activate's routing before), and the gate
// (SynthMatrix, SynthApp) and every deploy run the validation on the same code.
func (c CDK) Synth(t Stack, outDir string) Cmd {
	args := append([]string{"synth", t.Stack, "--quiet", "--no-notices", "--no-version-reporting", "--no-validation", "--output", outDir}, t.context()...)
	return c.cmd(args...).bounded(TimeoutSynth)
}

// SynthGated synthesizes the target's stack with every validation on: the built-in
// CloudFormation validation, cdk-nag and our rules. For an assembly that is deployed as it is
// (the DR kit), which therefore must be the one the gate passed.
func (c CDK) SynthGated(t Stack, outDir string) Cmd {
	args := append([]string{"synth", t.Stack, "--quiet", "--no-notices", "--no-version-reporting", "--output", outDir}, t.context()...)
	return c.cmd(args...).bounded(TimeoutSynth)
}

// Deploy deploys the target's stack, writes its outputs to outputsFile (the validator's
// input) and its cloud assembly to outDir (the evidence's routing records). approval is a
// --require-approval policy. The command is interactive: a broadening change prompts.
func (c CDK) Deploy(t Stack, outputsFile, outDir, approval string) Cmd {
	args := append([]string{"deploy", t.Stack, "--no-version-reporting",
		"--require-approval", approval, "--outputs-file", outputsFile, "--output", outDir,
		"--progress", "events"}, t.context()...)
	cmd := c.cmd(args...).bounded(TimeoutDeploy)
	cmd.Interactive = true
	cmd.ProgressEvery = ProgressDeploy
	return cmd
}

// Destroy deletes the target's stack. --force skips cdk's own y/n question: the procedure
// has already required the operator to type the stack name.
func (c CDK) Destroy(t Stack, outDir string) Cmd {
	args := append([]string{"destroy", t.Stack, "--force", "--no-version-reporting", "--output", outDir}, t.context()...)
	cmd := c.cmd(args...).bounded(TimeoutDeploy)
	cmd.Interactive = true
	cmd.ProgressEvery = ProgressDeploy
	return cmd
}

// Version is `cdk --version`.
func (c CDK) Version() Cmd { return c.cmd("--version").bounded(TimeoutVersion) }

// BootstrapStack is the stack `cdk bootstrap` creates in each environment.
const BootstrapStack = "CDKToolkit"

// BuildValidator builds the validator binary from the repository (fresh: the validator that
// runs is the one in this checkout).
//
// -buildvcs=auto: the binary records vcs.revision and vcs.modified (report.json's tool
// version reads them) even where GOFLAGS says -buildvcs=false (a go env file may); auto, not
// true, so a checkout without git metadata still builds.
func BuildValidator(repo, out string) Cmd {
	return Cmd{Name: "go", Args: []string{"build", "-o", out, "./validate"}, Dir: repo,
		Env: []string{"GOFLAGS=" + strings.TrimSpace(os.Getenv("GOFLAGS")+" -buildvcs=auto")}, Timeout: TimeoutBuild}
}

// Validate is the validator's command line.
type Validate struct {
	// Binary is the validator binary.
	Binary string
	// OutputsFile and Stack select the stack outputs to validate.
	OutputsFile, Stack string
	// EvidenceDir receives report.json, junit.xml and summary.md.
	EvidenceDir string
	// CAFile and PasswordFile are for the local stand-in only: its private CA and the
	// generated password. Against AWS both are empty: system roots, and the password comes
	// from the stack's Secrets Manager secret (SecretArn) or an IAM token.
	CAFile, PasswordFile string
	// ViaFunction and Region run the checks inside the VPC through the stack's canary
	// (validate --via-function); "" runs them here.
	ViaFunction, Region string
}

// Cmd builds the command. VALKEY_PASSWORD is removed from its environment: a password left in
// the operator's shell must not silently replace the one the procedure chose (the validator
// refuses two sources at once anyway).
func (v Validate) Cmd() Cmd {
	args := []string{"--outputs", v.OutputsFile, "--stack", v.Stack, "--evidence-dir", v.EvidenceDir}
	if v.CAFile != "" {
		args = append(args, "--ca-file", v.CAFile)
	}
	if v.PasswordFile != "" {
		args = append(args, "--password-file", v.PasswordFile)
	}
	if v.ViaFunction != "" {
		args = append(args, "--via-function", v.ViaFunction, "--region", v.Region)
	}
	return Cmd{Name: v.Binary, Args: args, Unset: []string{"VALKEY_PASSWORD"}, Timeout: TimeoutValidate}
}

// Validator exit statuses (validate/README.md).
const (
	ValidateOK     = 0
	ValidateFailed = 1
	ValidateUsage  = 2
)
