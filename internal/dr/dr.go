// Package dr holds the real-account procedures of the runbook: activation in the DR region
// (runbook section 6), failback to the primary region with routing held until validation
// (section 8 steps 1–3) and teardown of the DR stack (section 8 step 4). Every AWS contact
// goes through a seam: the pinned CDK CLI and the validator through a drexec.Runner, the AWS
// API calls (STS, CloudFormation, CloudWatch, EventBridge Scheduler, Route 53) through the SDK
// clients of Deps.AWS (awsseam.go), each made for a named region. Tests replace both, so the
// command lines, the calls with their regions and every failure path are tested without an
// account. The AWS CLI is not needed.
//
// Each procedure takes its own options (ActivateOptions, FailbackOptions, RouteOptions,
// TeardownOptions; what they share is Common) and starts the same way (job.go: prepare, the
// Configs selected from cdk.json read once, start; seal at the end).
package dr

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// Deps are the outside world; tests replace all of it.
type Deps struct {
	// Runner runs cdk, go and the validator.
	Runner drexec.Runner
	// Stdout and Stderr are the terminal.
	Stdout, Stderr io.Writer
	// Now is the clock.
	Now func() time.Time
	// Dial opens the TCP connection of the primary probe.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// AWS is the SDK clients (every AWS API call: preflights, route, the canary preflight).
	AWS AWS
	// Signer replaces the signer picked from cdk.json (tests: KMS is not called).
	Signer evidence.Signer
	// Archive replaces the S3 upload of the sealed bundle (tests).
	Archive ArchiveFunc
	// Predict is the time-to-shift model of route (internal/route53model); nil predicts
	// nothing.
	Predict PredictFunc
}

// Result is a finished procedure.
type Result struct {
	// Evidence is the sealed bundle; nil when the procedure refused before starting.
	Evidence *evidence.Sealed
	// Run holds the timeline and metadata.
	Run *procedure.Run
}

// Probe deadlines: the primary region may be the one that is down; it must not hold up the
// activation.
const (
	describeTimeout = 30 * time.Second
	dialTimeout     = 5 * time.Second
)

func (d *Deps) defaults() {
	procedure.Defaults(&d.Runner, &d.Stdout, &d.Stderr, &d.Now)
	if d.Dial == nil {
		d.Dial = (&net.Dialer{}).DialContext
	}
	d.AWS.defaults()
}

// standby reports whether cfg's DR stack is deployed in peacetime (a warm standby): a DR row
// that is not made on the night.
func standby(cfg *drcontext.Config) bool { return !cfg.Mode().Primary && !cfg.Mode().OnTheNight }

// usableBootstrap lists the CDKToolkit statuses a deploy can use.
var usableBootstrap = map[string]bool{"CREATE_COMPLETE": true, "UPDATE_COMPLETE": true, "UPDATE_ROLLBACK_COMPLETE": true, "IMPORT_COMPLETE": true}

// bootstrapped proves `cdk bootstrap` ran in the region (a CDKToolkit stack in a usable state).
func bootstrapped(ctx context.Context, a AWS, account, region string) (string, error) {
	info, err := describe(ctx, a, drexec.BootstrapStack, region)
	switch {
	case err != nil:
		return "", procedure.Failf("cannot tell whether %s is bootstrapped: %v", region, err)
	case !info.Exists:
		return "", procedure.Failf("region %s of account %s is not bootstrapped (no %s stack): run `bin/cdk bootstrap aws://%s/%s` (Cloud Operations), then re-run",
			region, account, drexec.BootstrapStack, account, region)
	case !usableBootstrap[info.Status]:
		return "", procedure.Failf("the %s stack in %s is %s: repair the bootstrap (`bin/cdk bootstrap aws://%s/%s`) before deploying",
			drexec.BootstrapStack, region, info.Status, account, region)
	}
	return info.Status, nil
}

// probe is the primary probe's record (runbook section 5: is the primary really down?).
type probe struct {
	Stack    string `json:"stack"`
	Region   string `json:"region"`
	Describe string `json:"describe"`
	Endpoint string `json:"endpoint,omitempty"`
	TCP      string `json:"tcp,omitempty"`
	// Reachable is true when the primary endpoint accepted a TCP connection.
	Reachable bool `json:"reachable"`
}

// probePrimary reads the primary stack's endpoint and tries a TCP connection. It never fails
// the procedure: the primary region may be the one that is down, and that is the point.
func probePrimary(ctx context.Context, a AWS, dial func(context.Context, string, string) (net.Conn, error), cfg *drcontext.Config) probe {
	p := probe{Stack: cfg.StackID(), Region: cfg.Region}
	dctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	info, err := describe(dctx, a, p.Stack, p.Region)
	switch {
	case err != nil:
		p.Describe = "failed: " + err.Error()
		return p
	case !info.Exists:
		p.Describe = "stack does not exist"
		return p
	}
	p.Describe = info.Status
	addr, port := info.Outputs[contract.KeyEndpointAddress], info.Outputs[contract.KeyEndpointPort]
	if addr == "" {
		p.TCP = "not tried: the stack has no " + contract.KeyEndpointAddress + " output"
		return p
	}
	if port == "" {
		port = strconv.Itoa(contract.PortPrimary)
	}
	p.Endpoint = net.JoinHostPort(addr, port)
	tctx, cancel2 := context.WithTimeout(ctx, dialTimeout)
	defer cancel2()
	start := time.Now()
	conn, err := dial(tctx, "tcp", p.Endpoint)
	if err != nil {
		p.TCP = "failed: " + err.Error()
		return p
	}
	conn.Close()
	p.Reachable = true
	p.TCP = fmt.Sprintf("connected in %s", time.Since(start).Round(time.Millisecond))
	return p
}

// recordPrimaryProbe puts the primary probe into the preflight record pre and prints it;
// primaryErr is why cdk.json gave no primary to probe. A primary that answers is the
// operator's to weigh: traffic moves to DR only when the activation criteria are met.
func recordPrimaryProbe(ctx context.Context, s *procedure.Run, d Deps, primary *drcontext.Config, primaryErr error, pre map[string]any) {
	if primaryErr != nil {
		pre["primaryProbe"] = "not tried: " + primaryErr.Error()
		return
	}
	p := probePrimary(ctx, d.AWS, d.Dial, primary)
	pre["primaryProbe"] = p
	s.Printf("    primary probe: %s in %s: %s; tcp %s", p.Stack, p.Region, p.Describe, p.TCP)
	if p.Reachable {
		s.Printf("    NOTE: the primary cache accepts TCP connections: confirm the activation criteria (runbook section 5) are met before routing traffic to DR")
	}
}

// buildValidator builds ./validate into the work dir unless a binary was given.
func buildValidator(ctx context.Context, r drexec.Runner, repo, validator, work string) (string, error) {
	if validator != "" {
		return validator, nil
	}
	bin := filepath.Join(work, "valkey-dr-validate")
	res, err := r.Run(ctx, drexec.BuildValidator(repo, bin))
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", procedure.Failf("the validator does not build (go build ./validate exited %d): %s", res.ExitCode, firstLine(res.Stderr))
	}
	return bin, nil
}

// synthStack synthesizes one stack (no AWS) and reads it.
func synthStack(ctx context.Context, r drexec.Runner, repo string, cfg *drcontext.Config, dir string) (*assembly.Stack, error) {
	return synthTarget(ctx, r, repo, drexec.StackOf(cfg), dir)
}

// recordsStack synthesizes the stack that holds cfg's Route 53 records: its DNS stack for a
// stack made on the night (docs/design.md, "Static stability"), else the stack itself.
func recordsStack(ctx context.Context, r drexec.Runner, repo string, cfg *drcontext.Config, dir string) (*assembly.Stack, error) {
	t := drexec.StackOf(cfg)
	if cfg.Mode().OnTheNight {
		t.Stack, t.Select = cfg.DNSStackID(), drcontext.StackDNS
	}
	return synthTarget(ctx, r, repo, t, dir)
}

// synthTarget is synthStack for a target of its own (a DNS stack: Stack.Select).
func synthTarget(ctx context.Context, r drexec.Runner, repo string, t drexec.Stack, dir string) (*assembly.Stack, error) {
	res, err := r.Run(ctx, drexec.CDK{Repo: repo}.Synth(t, dir))
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("cdk synth %s exited %d: %s", t.Stack, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return assembly.ReadStack(dir, t.Stack)
}

// gatedSynth synthesizes cfg's stack into dir with every validation on (the compliance gate):
// the assembly a procedure then deploys as it is (deployCmd with asm), after reading it. Its
// failure is the gate refusing the stack: nothing is deployed.
func gatedSynth(ctx context.Context, s *procedure.Run, repo string, cfg *drcontext.Config, dir string) error {
	cmd := drexec.CDK{Repo: repo}.SynthGated(drexec.StackOf(cfg), dir)
	s.Printf("    %s", cmd)
	res, err := s.Runner().Run(ctx, cmd)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return procedure.Failf("cdk synth %s exited %d (a failed synth is a failed compliance gate; nothing was deployed):\n%s",
			cfg.StackID(), res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

// runLogged runs cmd with its output on the terminal and in the bundle as file, written
// whatever the outcome (a failed command's log is the evidence of why); an error writing it
// is the run's error when the command itself ran.
func runLogged(ctx context.Context, s *procedure.Run, cmd drexec.Cmd, file string) (drexec.Result, error) {
	log := procedure.NewLog(s.Stdout)
	cmd.Stdout, cmd.Stderr = log, log
	s.Printf("    %s", cmd)
	res, err := s.Runner().Run(ctx, cmd)
	if werr := s.Bundle.WriteFile(file, log.Bytes()); werr != nil && err == nil {
		err = werr
	}
	return res, err
}

// deploy runs cdk deploy with its output on the terminal and in the returned log, then loads
// the outputs file it must have written.
func deploy(ctx context.Context, s *procedure.Run, j *job, cfg *drcontext.Config, asm, outputsFile, outDir string) (map[string]string, []byte, error) {
	cmd, err := deployCmd(j, cfg, asm, outputsFile, outDir)
	if err != nil {
		return nil, nil, err
	}
	log := procedure.NewLog(s.Stdout)
	cmd.Stdout, cmd.Stderr = log, log
	s.Printf("    %s", cmd)
	res, err := s.Runner().Run(ctx, cmd)
	if err != nil {
		return nil, log.Bytes(), err
	}
	if res.ExitCode != 0 {
		return nil, log.Bytes(), procedure.Failf("cdk deploy %s exited %d: see the deploy log in the evidence; a failed create rolls back (the stack may be ROLLBACK_COMPLETE and must be deleted before a retry: check the CloudFormation console)",
			cfg.StackID(), res.ExitCode)
	}
	out, err := contract.Load(outputsFile, cfg.StackID())
	if err != nil {
		return nil, log.Bytes(), procedure.Failf("cdk deploy exited 0 but its outputs file is unusable: %v", err)
	}
	return out, log.Bytes(), nil
}

// validate runs the validator against an outputs file; its evidence (report.json, junit.xml,
// summary.md) goes into the bundle under rel, whatever the verdict.
func validate(ctx context.Context, s *procedure.Run, bin, outputsFile, stack, rel string, via validateVia) (string, error) {
	dir := filepath.Join(s.Work, rel)
	cmd := drexec.Validate{Binary: bin, OutputsFile: outputsFile, Stack: stack, EvidenceDir: dir, ViaFunction: via.Function, Region: via.Region}.Cmd()
	if via.Function != "" {
		s.Printf("    the checks run inside the VPC, in the canary %s (%s); --local runs them here", via.Function, via.Region)
	} else {
		s.Printf("    the checks run on this machine: it must reach the VPC (bastion, VPN)")
	}
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	s.Printf("    %s", cmd)
	res, err := s.Runner().Run(ctx, cmd)
	if _, serr := os.Stat(dir); serr == nil {
		if cerr := s.Bundle.CopyDir(rel, dir); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		return "", err
	}
	switch res.ExitCode {
	case drexec.ValidateOK:
		return "every check passed", nil
	case drexec.ValidateFailed:
		return "", procedure.Failf("validation failed (validator exit 1): see validation/summary.md in the evidence; the cache is NOT proven: do not route traffic to it")
	default:
		return "", procedure.Failf("the validator could not run (exit %d: usage or configuration error, e.g. the Secrets Manager secret is unreadable): %s",
			res.ExitCode, firstLine(res.Stderr))
	}
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// records returns a stack's records, or none when the stack could not be synthesized.
func records(st *assembly.Stack, resolve map[string]string) []assembly.Record {
	if st == nil {
		return nil
	}
	return st.Route53Records(resolve)
}

// endpointToken is what the record values of a stack point at until deployed.
const endpointToken = "SessionCache.Endpoint.Address"

// removeBuiltValidator deletes the validator this run built (20 MB per run otherwise; the
// evidence records the commit it was built from).
func removeBuiltValidator(validator string, s *procedure.Run) {
	if validator == "" {
		_ = os.Remove(filepath.Join(s.Work, "valkey-dr-validate"))
	}
}
