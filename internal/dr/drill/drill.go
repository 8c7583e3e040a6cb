// Package drill is `make drill`: the DR runbook rehearsed on one machine with no AWS. It
// synthesizes the DR stack through the pinned CDK CLI, starts a local stand-in for its cache
// (by default the ElastiCache Serverless shape: one TLS master with every slot and its replica as
// the read port, with the stack's ACL user limited to the serverless-supported commands and a
// generated password — a local stand-in, never a deployment), writes an outputs file in the exact shape
// `cdk deploy --outputs-file` gives for that stack, runs the real validator against it, and
// seals an evidence bundle with the phase timeline beside the runbook's estimates. Every
// process it starts is stopped again, also when interrupted.
package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/valkey-dr/valkey-dr/internal/localvalkey"
	"github.com/valkey-dr/valkey-dr/internal/route53model"
)

// Label is how the stand-in is named everywhere: terminal, outputs note, evidence.
const Label = "local stand-in, not a deployment"

// DefaultEnvironment is the environment drilled when none is given: fake ids, no account.
const DefaultEnvironment = drcontext.DefaultEnvironment

// standInValidity outlives the validator's 30-day expiry warning, so a healthy stand-in shows
// what a healthy cache shows; the CA key only ever lives in memory and dies with the drill.
const standInValidity = 90 * 24 * time.Hour

// Options are the drill's inputs.
type Options struct {
	// Repo is the repository root.
	Repo string
	// Environment is the cdk.json environment to synthesize (default example).
	Environment string
	// OutRoot receives the bundle, its tarball and a work/ directory (default <repo>/drill).
	OutRoot string
	// FromCDKOut reuses the cloud assembly of an earlier drill (its work/.../cdk.out, one
	// assembly holding the environment's DR and primary stacks) instead of running cdk synth.
	FromCDKOut string
	// Keep leaves the stand-in running after the drill until interrupted, to poke at it.
	Keep bool
	// Validator is a prebuilt validator binary; "" builds ./validate.
	Validator string
	// Topology is the stand-in's shape; "" means localvalkey.TopologyServerless (what an
	// ElastiCache Serverless cache looks like to a client, docs/design.md, "Serverless as clients see it").
	Topology localvalkey.Topology
	// SigningKeyFile is the local Ed25519 key that signs the bundle, made on first use (0600);
	// "" means <OutRoot>/work/evidence-ed25519.key (drctl passes evidence.DefaultLocalKeyPath).
	SigningKeyFile string
	// Mode is the DR drMode drilled (make drill MODE=standby); "" means the environment's
	// drPosture. A warm standby (drMode=standby) is drilled as its activation runs: no deploy
	// (deployed in peacetime), validation, and the switch, whose time the model states.
	Mode string
}

// Deps are the outside world.
type Deps struct {
	// Runner runs cdk, go and the validator.
	Runner drexec.Runner
	// Stdout and Stderr are the terminal.
	Stdout, Stderr io.Writer
	// Now is the clock.
	Now func() time.Time
	// NewPassword makes the stand-in's passwords (localvalkey.NewPassword(32) when nil).
	NewPassword func() (string, error)
	// OnStandIn is called with the stand-in once it is ready (tests record its pids).
	OnStandIn func(*localvalkey.Cluster)
}

// Result is a finished drill.
type Result struct {
	// Evidence is the sealed bundle.
	Evidence *evidence.Sealed
	// Run holds the timeline.
	Run *procedure.Run
	// OutputsFile is the stand-in outputs file (work directory).
	OutputsFile string
	// Stack is the synthesized DR stack's name.
	Stack string
	// Summary is the validator's summary (counts per status).
	Summary map[string]int
}

// Run performs the drill. The error carries an exit code (procedure.ExitCode).
func Run(ctx context.Context, o Options, d Deps) (*Result, error) {
	if err := defaults(&o, &d); err != nil {
		return nil, err
	}
	// cdk.json, read once: every Config of the drill is selected from it.
	file, err := drcontext.OpenFile(filepath.Join(o.Repo, drcontext.FileName))
	if err != nil {
		return nil, procedure.Usagef("%v\nNothing was run.", err)
	}
	cfg, err := file.Select(drcontext.Request{Environment: o.Environment, DrMode: drcontext.DrMode(o.Mode), DRPosture: true})
	if err != nil {
		return nil, procedure.Usagef("%v\nNothing was run.", err)
	}
	if cfg.Mode().Primary {
		return nil, procedure.Usagef("drill MODE=%s: a drill rehearses the DR side; accepted: %s. Nothing was run.", cfg.DrMode, postureList())
	}
	primary, err := file.Select(drcontext.Request{Environment: o.Environment, DrMode: drcontext.PrimaryMode().Name})
	if err != nil {
		return nil, procedure.Usagef("%v\nNothing was run.", err)
	}
	if cfg.Env.Cache.Auth.Mode != contract.AuthPassword {
		return nil, procedure.Usagef("environment %s: cache.auth.mode is %q: the local stand-in can only stand in for password auth (it cannot issue IAM tokens); drill an environment with auth.mode password, e.g. %s",
			cfg.EnvironmentName, cfg.Env.Cache.Auth.Mode, DefaultEnvironment)
	}
	signer, prov, err := drillEvidence(o, d)
	if err != nil {
		return nil, err
	}
	s, err := procedure.Start(procedure.Config{Kind: "drill", Repo: o.Repo, Name: cfg.EnvironmentName,
		Signer: signer, Provenance: prov, Label: StandInLabel,
		Title:        fmt.Sprintf("DR drill timeline (%s): %s — LOCAL STAND-IN, NOT A DEPLOYMENT", cfg.EnvironmentName, cfg.StackID()),
		EvidenceRoot: o.OutRoot, WorkRoot: filepath.Join(o.OutRoot, "work"),
		Runner: d.Runner, Stdout: d.Stdout, Stderr: d.Stderr, Now: d.Now})
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]any{"standIn": Label, "deployed": false, "environment": cfg.EnvironmentName,
		"stack": cfg.StackID(), "region": cfg.Region + " (as synthesized; nothing deployed)", "cacheName": cfg.CacheName(),
		"drMode": string(cfg.DrMode), "drPosture": string(cfg.Env.Posture().Name)} {
		s.Meta[k] = v
	}
	s.Printf("valkey-dr drill — %s", strings.ToUpper(Label))
	s.Printf("  Synthesizes %s (nothing is deployed, no AWS account is used), stands a local", cfg.StackID())
	s.Printf("  %s TLS Valkey cluster in for its cache (%s), validates it with the", topologyOf(o), Label)
	s.Printf("  real validator and seals the evidence.")

	dr := &run{o: o, d: d, file: file, s: s, cfg: cfg, primary: primary, res: &Result{Run: s, Stack: cfg.StackID()}}
	defer dr.stop()
	runErr := dr.phases(ctx)
	if !o.Keep || runErr != nil {
		dr.stop()
	}
	sealed, serr := s.Finish(ctx, runErr, "# "+strings.ToUpper(Label)+"\n\nThis is the evidence of a **drill**: the cache was a local stand-in (a Valkey cluster on 127.0.0.1 with a throwaway CA and a generated password), never an AWS deployment. The stack was only synthesized. Outputs that cannot exist locally carry the words \""+Label+"\".")
	dr.res.Evidence = sealed
	if dr.builtValidator != "" {
		_ = os.Remove(dr.builtValidator) // 20 MB per drill otherwise; the evidence names its commit
	}
	if err := errors.Join(runErr, serr); err != nil {
		s.Printf("\nDRILL FAILED (%s): %v", Label, err)
		return dr.res, err
	}
	s.Printf("\nDRILL PASSED (%s): %d checks passed against the stand-in for %s; nothing was deployed.",
		Label, dr.res.Summary["pass"], cfg.StackID())
	if sealed != nil {
		s.Printf("verify the evidence: %s", evidence.VerifyCommand(sealed.Tarball))
	}
	if o.Keep && dr.cluster != nil {
		n := dr.cluster.Nodes[0]
		s.Printf("\nThe stand-in keeps running until you press Ctrl-C (--keep):\n  REDISCLI_AUTH=$(cat %s) valkey-cli -c -h localhost -p %d --tls --cacert %s --user %s",
			dr.pwFile, n.Port, dr.cluster.CA.CertFile, cfg.AuthUserName())
		<-ctx.Done()
		dr.stop()
	}
	return dr.res, nil
}

func defaults(o *Options, d *Deps) error {
	abs, err := procedure.AbsRepo(o.Repo)
	if err != nil {
		return err
	}
	o.Repo = abs
	if o.Environment == "" {
		o.Environment = DefaultEnvironment
	}
	if o.OutRoot == "" {
		o.OutRoot = filepath.Join(o.Repo, "drill")
	}
	procedure.Defaults(&d.Runner, &d.Stdout, &d.Stderr, &d.Now)
	if d.NewPassword == nil {
		d.NewPassword = func() (string, error) { return localvalkey.NewPassword(32) }
	}
	return nil
}

// run is one drill's state.
type run struct {
	o       Options
	d       Deps
	file    *drcontext.File // cdk.json, read once
	s       *procedure.Run
	cfg     *drcontext.Config
	primary *drcontext.Config
	res     *Result

	cluster *localvalkey.Cluster
	tmp     string // 0700: the stand-in's files and the password file; removed by stop
	pwFile  string
	stopped bool
	// builtValidator is the binary this run built (removed at the end).
	builtValidator string
	// dns is the DR cache's DNS stack as synthesized (a stack made on the night); nil
	// otherwise.
	dns *assembly.Stack
	// sw is the switch stack as synthesized (the model's time to shift of a standby drill); nil
	// when the assembly has none.
	sw *assembly.Stack
	// postureRecords is the stack holding the SECONDARY of the environment's drPosture, when
	// the drilled mode is not the posture; nil otherwise.
	postureRecords *assembly.Stack
}

// stop ends the stand-in and removes its files (the config files and the password file hold
// the generated passwords). Idempotent.
func (r *run) stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	if r.cluster != nil {
		n := len(r.cluster.Nodes)
		if err := r.cluster.Close(); err != nil {
			fmt.Fprintf(r.d.Stderr, "drill: stopping the stand-in: %v\n", err)
		}
		r.s.Printf("stand-in stopped: %d valkey-server processes ended, their files (and the generated password) removed", n)
	}
	if r.tmp != "" {
		_ = os.RemoveAll(r.tmp)
	}
}

func (r *run) phases(ctx context.Context) error {
	s, cfg := r.s, r.cfg
	var validator string
	var drStack, primaryStack *assembly.Stack
	phaseSynth := procedure.PlannedPhase{Name: "synth", Estimate: procedure.RunbookDeploy}
	phaseStandIn := procedure.PlannedPhase{Name: "stand-in ready", Estimate: procedure.Estimate{Label: "(deploy: cache AVAILABLE)"}}
	warm := !cfg.Mode().OnTheNight // a warm standby: deployed in peacetime, nothing deployed on the night
	if warm {
		phaseSynth = procedure.PlannedPhase{Name: "synth (peacetime template)", Estimate: procedure.RunbookPrepare}
		phaseStandIn.Estimate = procedure.Estimate{Label: "(standby: AVAILABLE since peacetime)"}
	}
	phaseValidation := procedure.PlannedPhase{Name: "validation", Estimate: procedure.RunbookValidation}

	err := s.Phase(ctx, "prepare tools", procedure.RunbookPrepare, func() (string, error) {
		if r.o.Validator != "" {
			validator = r.o.Validator
			return "prebuilt validator " + validator, nil
		}
		validator = filepath.Join(s.Work, "valkey-dr-validate")
		r.builtValidator = validator
		cmd := drexec.BuildValidator(r.o.Repo, validator)
		s.Printf("    %s", cmd)
		res, err := s.Runner().Run(ctx, cmd)
		if err != nil {
			return "", err
		}
		if res.ExitCode != 0 {
			return "", procedure.Failf("the validator does not build (go build ./validate exited %d):\n%s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		}
		return "go build ./validate", nil
	})
	if err != nil {
		r.s.NotRun("an earlier phase failed", phaseSynth, phaseStandIn, phaseValidation)
		return err
	}

	err = s.Phase(ctx, phaseSynth.Name, phaseSynth.Estimate, func() (string, error) {
		var err error
		if drStack, primaryStack, err = r.synth(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("cdk synth only, nothing deployed: %s (%d resources, %d outputs)", drStack.Name,
			len(drStack.Template.ResourceList()), len(drStack.Template.Outputs)), nil
	})
	if err != nil {
		r.s.NotRun("an earlier phase failed", phaseStandIn, phaseValidation)
		return err
	}
	if warm {
		s.Timeline.Skip("deploy", procedure.RunbookDeploy, procedure.NotPerformed,
			"warm standby: "+cfg.StackID()+" is deployed in peacetime; its activation deploys nothing (what DescribeStacks reads is the template's outputs)")
	}

	err = s.Phase(ctx, phaseStandIn.Name, phaseStandIn.Estimate, func() (string, error) {
		if err := r.startStandIn(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %s TLS cluster %s (read port %d)", Label, r.cluster.Topology, strings.Join(r.cluster.Addrs(), " "), r.cluster.ReaderPort()), nil
	})
	if err != nil {
		r.s.NotRun("an earlier phase failed", phaseValidation)
		return err
	}

	// The outputs file, shaped by the synthesized template (so it cannot drift from the
	// stack), with values pointing at the stand-in.
	values, err := StandInOutputs(drStack.Template, cfg, r.cluster)
	if err != nil {
		return err
	}
	r.res.OutputsFile = filepath.Join(s.Work, "stand-in-outputs.json")
	if err := writeOutputs(r.res.OutputsFile, cfg.StackID(), values); err != nil {
		return err
	}
	if err := s.Bundle.CopyFile(evidence.FileStackOutputs, r.res.OutputsFile); err != nil {
		return err
	}
	if err := s.Bundle.WriteFile(evidence.FileStackOutputsNote, []byte(outputsNote(cfg))); err != nil {
		return err
	}
	s.Printf("    outputs file (%s): %s", Label, r.res.OutputsFile)

	// Runbook step 3 cannot happen locally; the records a deploy would create are evidence:
	// the DR stack's own, and its DNS stack's (the after-validation step).
	before := primaryStack.Route53Records(nil)
	after := append(append([]assembly.Record{}, before...), drStack.Route53Records(nil)...)
	if r.dns != nil {
		after = append(after, r.dns.Route53Records(nil)...)
	}
	if err := s.Bundle.WriteRouting(evidence.RoutingActivation, assembly.NewRoutingChange("DR activation (as synthesized; NOT applied: "+Label+")", before, after)); err != nil {
		return err
	}
	if !warm {
		s.Timeline.Skip("routing", procedure.RunbookRouting, procedure.NotPerformed,
			"no Route 53 locally; the records a deploy would create (the DNS stack's, after validation) are in routing/ (as synthesized)")
	}

	err = s.Phase(ctx, phaseValidation.Name, phaseValidation.Estimate, func() (string, error) {
		return r.validate(ctx, validator)
	})
	if err != nil || !warm {
		return err
	}
	// The standby's activation ends with the switch (the request schedule in the DR region):
	// no AWS here, so its time is the model's over the synthesized templates.
	model, est := r.shiftNote(primaryStack, drStack)
	note := "the switch (drctl route --to dr: the request schedule in " + cfg.Env.DrRegion + ") is not performed locally: no AWS; " + model
	s.Timeline.Skip("routing", est, procedure.NotPerformed, note)
	s.Printf("    routing: %s", note)
	return nil
}

// shiftNote is the model's time to shift (internal/route53model) over the synthesized primary,
// switch and standby templates, or why there is none, and the routing phase's estimate: the
// model's, not the runbook's (a standby's routing is the switch, no deploy).
func (r *run) shiftNote(primary, standby *assembly.Stack) (string, procedure.Estimate) {
	est := procedure.RunbookRouting
	if r.sw == nil || primary == nil || standby == nil {
		return "no model prediction (the switch stack is not in the assembly)", est
	}
	secondary, whose := standby, ""
	if !r.cfg.OwnsServiceRecord() && r.postureRecords != nil {
		// This standby is beside the environment's posture and owns no SECONDARY: the switch's
		// time does not depend on which stack owns it (route53model
		// TestShiftTimesWithTheWarmStandby), so the posture's SECONDARY stands in.
		secondary = r.postureRecords
		whose = fmt.Sprintf(" (the SECONDARY is %s's: environment %s's drPosture is %s)", secondary.Name, r.cfg.EnvironmentName, r.cfg.Env.Posture().Name)
	}
	env, err := route53model.FromTemplates(route53model.Stacks{Primary: primary.Template, PrimaryRegion: r.primary.Region,
		Switch: r.sw.Template, SwitchRegion: r.primary.SwitchRegion(), Secondary: secondary.Template})
	if err != nil {
		return "no model prediction: " + err.Error(), est
	}
	sh, err := env.ShiftToDR()
	if err != nil {
		return "no model prediction: " + err.Error(), est
	}
	r.s.Meta["modelShiftToDR"] = sh.String()
	return fmt.Sprintf("model: Route 53 answers the SECONDARY %s-%s after the request, clients within %s (TTL included)%s", sh.Best, sh.Worst, sh.WorstClient, whose),
		procedure.Estimate{Label: fmt.Sprintf("switch %s–%s (model)", sh.Best, sh.Worst)}
}

// postureList is the DR drModes a drill accepts, for messages.
func postureList() string {
	var names []string
	for _, m := range drcontext.Postures() {
		names = append(names, string(m.Name))
	}
	return strings.Join(names, ", ")
}

// synth runs one cdk synth of the environment's stacks (--context matrix=<environment>: the DR
// and the primary stack in one process; the primary's records are the routing "before"), or
// reads the assembly of an earlier drill.
func (r *run) synth(ctx context.Context) (dr, primary *assembly.Stack, err error) {
	root := r.o.FromCDKOut
	if root == "" {
		root = filepath.Join(r.s.Work, "cdk.out")
		cmd := drexec.CDK{Repo: r.o.Repo}.SynthMatrixReadOnly(r.cfg.EnvironmentName, root)
		r.s.Printf("    %s", cmd)
		res, err := r.s.Runner().Run(ctx, cmd)
		if err != nil {
			return nil, nil, err
		}
		if res.ExitCode != 0 {
			return nil, nil, procedure.Failf("cdk synth of environment %s exited %d:\n%s", r.cfg.EnvironmentName, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
		}
	} else {
		r.s.Printf("    reusing the cloud assembly in %s (--from-cdk-out): cdk synth not run", root)
	}
	if dr, err = assembly.ReadStack(root, r.cfg.StackID()); err != nil {
		return nil, nil, err
	}
	if primary, err = assembly.ReadStack(root, r.primary.StackID()); err != nil {
		return nil, nil, err
	}
	if sw, err := assembly.ReadStack(root, r.primary.SwitchStackID()); err == nil {
		r.sw = sw
	}
	if !r.cfg.OwnsServiceRecord() {
		if p, err := r.file.Select(drcontext.Request{Environment: r.cfg.EnvironmentName, DRPosture: true}); err == nil {
			id := p.StackID()
			if p.Mode().OnTheNight {
				id = p.DNSStackID()
			}
			r.postureRecords, _ = assembly.ReadStack(root, id)
		}
	}
	if r.cfg.Mode().OnTheNight {
		// The DR cache's records are its DNS stack's, deployed after validation
		// (docs/design.md, "Static stability"): read from the same assembly.
		if r.dns, err = assembly.ReadStack(root, r.cfg.DNSStackID()); err != nil {
			return nil, nil, err
		}
	}
	return dr, primary, nil
}

// startStandIn starts the cluster with the stack's user: its name and access string come
// from the same Config the stack is built from, so the validator meets the ACL the
// application would meet.
func (r *run) startStandIn(ctx context.Context) error {
	var err error
	// Marked as this process's: if the drill is killed (SIGKILL skips stop), the next start
	// of a stand-in removes it with the password file (localvalkey.SweepStale).
	if r.tmp, err = localvalkey.NewStandInDir(""); err != nil {
		return err
	}
	admin, err := r.d.NewPassword()
	if err != nil {
		return err
	}
	app, err := r.d.NewPassword()
	if err != nil {
		return err
	}
	for _, p := range []string{admin, app} {
		if err := r.s.Bundle.AddSecret(p); err != nil {
			return err
		}
	}
	// The validator reads the password from this 0600 file (--password-file): never argv,
	// never the environment of the operator's shell.
	r.pwFile = filepath.Join(r.tmp, "app.password")
	if err := os.WriteFile(r.pwFile, []byte(app+"\n"), 0o600); err != nil {
		return err
	}
	if r.cluster, err = startFor(ctx, r.cfg, topologyOf(r.o), r.tmp, admin, app); err != nil {
		return err
	}
	if v, err := localvalkey.ServerVersion(); err == nil {
		r.s.Meta["valkeyServer"] = v
	}
	r.s.Meta["standInNodes"] = r.cluster.Addrs()
	r.s.Meta["standInTopology"] = string(r.cluster.Topology)
	if r.d.OnStandIn != nil {
		r.d.OnStandIn(r.cluster)
	}
	return nil
}

// startFor starts a TLS stand-in of topo in dir with the stack's user (cfg's name and access
// string; serverless: only the serverless-supported commands) and the launcher's admin, and
// makes the servers forget their config files and key once read: from then on the passwords
// live only in the servers' memory and in the caller's password file, so even a kill -9 of
// the caller (which skips its cleanup) leaves none in a config file.
func startFor(ctx context.Context, cfg *drcontext.Config, topo localvalkey.Topology, dir, admin, app string) (*localvalkey.Cluster, error) {
	appRules := cfg.AccessString()
	start := localvalkey.StartCluster
	if topo == localvalkey.TopologyServerless {
		// Serverless runs only its supported commands, whatever the access string allows.
		appRules, start = localvalkey.ServerlessRules(appRules), localvalkey.StartServerless
	}
	c, err := start(ctx, localvalkey.Options{
		TLS:          true,
		CertValidity: standInValidity,
		Dir:          dir,
		Users: []localvalkey.User{
			{Name: localvalkey.AdminUser, Password: admin, Rules: localvalkey.AdminRules},
			{Name: cfg.AuthUserName(), Password: app, Rules: appRules},
		},
	})
	if err != nil {
		return nil, err
	}
	if err := c.ForgetSecrets(); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// validate runs the real validator against the stand-in outputs file.
func (r *run) validate(ctx context.Context, bin string) (string, error) {
	dir := filepath.Join(r.s.Work, evidence.DirValidation)
	cmd := drexec.Validate{Binary: bin, OutputsFile: r.res.OutputsFile, Stack: r.cfg.StackID(), EvidenceDir: dir,
		CAFile: r.cluster.CA.CertFile, PasswordFile: r.pwFile}.Cmd()
	// No AWS for the validator: with --password-file it has no reason to call Secrets
	// Manager, and without credentials it could not reach an account even if it tried.
	cmd.Unset = append(cmd.Unset, "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
	cmd.Env = append(cmd.Env, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	cmd.Stdout, cmd.Stderr = r.s.Stdout, r.s.Stderr
	r.s.Printf("    %s", cmd)
	res, err := r.s.Runner().Run(ctx, cmd)
	if !r.o.Keep {
		_ = os.Remove(r.pwFile) // read; --keep still prints it for valkey-cli
	}
	if _, serr := os.Stat(dir); serr == nil {
		if cerr := r.s.Bundle.CopyDir(evidence.DirValidation, dir); cerr != nil && err == nil {
			err = cerr
		}
		if lerr := labelValidation(r.s.Bundle); lerr != nil && err == nil {
			err = lerr
		}
	}
	if err != nil {
		return "", err
	}
	rep, rerr := readReport(filepath.Join(dir, contract.ReportFile))
	if rerr == nil {
		r.res.Summary = map[string]int{"total": rep.Summary.Total, "pass": rep.Summary.Pass,
			"warn": rep.Summary.Warn, "fail": rep.Summary.Fail, "skip": rep.Summary.Skip}
		if src, _ := rep.Options["passwordSource"].(string); !strings.HasPrefix(src, "file ") {
			return "", procedure.Failf("the validator took its password from %q, not the stand-in's password file", src)
		}
	}
	switch res.ExitCode {
	case drexec.ValidateOK:
		if rerr != nil {
			return "", procedure.Failf("the validator passed but its report is unreadable: %v", rerr)
		}
		return fmt.Sprintf("%d checks: %d pass, %d warn, %d fail, %d skip", rep.Summary.Total, rep.Summary.Pass,
			rep.Summary.Warn, rep.Summary.Fail, rep.Summary.Skip), nil
	case drexec.ValidateFailed:
		return "", procedure.Failf("the validator failed against the stand-in (exit 1): see validation/summary.md")
	default:
		return "", procedure.Failf("the validator could not run (exit %d): %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
}

// readReport reads the validator's report.json through the schema it was written with.
func readReport(path string) (*contract.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep contract.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rep, nil
}

// StandInOutputs maps every output of the synthesized template to a value for the stand-in.
// Outputs known at synth time keep their value (environment, drMode, user, SSM prefix ...);
// the ones only a deployment can produce point at the stand-in or say they do not exist. An
// output this function does not know fails the drill: a new stack output must be given a
// stand-in value deliberately, never silently.
func StandInOutputs(t *assembly.Template, cfg *drcontext.Config, c *localvalkey.Cluster) (map[string]string, error) {
	standIn := map[string]string{
		// The certificate the stand-in presents names localhost, as the serverless one names
		// the endpoint: TLS is verified against the endpoint name exactly as on AWS.
		contract.KeyEndpointAddress: "localhost",
		contract.KeyEndpointPort:    strconv.Itoa(c.Nodes[0].Port),
		// The serverless shape's replica is the read port (6380 on the same host on AWS).
		contract.KeyReaderPort: strconv.Itoa(readerPort(c)),
		// No Route 53 here: the names resolve to the endpoint because they are its name.
		contract.KeyRegionalDNSName: "localhost",
		contract.KeyServiceDNSName:  "localhost",
		contract.KeyCacheName:       cfg.CacheName() + " (" + Label + ")",
		contract.KeySecurityGroupID: "none (" + Label + ")",
		contract.KeySecretArn:       "none (" + Label + "; the password is passed to the validator with --password-file)",
	}
	out := make(map[string]string, len(t.Outputs))
	for _, k := range t.OutputKeys() {
		if v, ok := standIn[k]; ok {
			out[k] = v
			continue
		}
		v, ok := t.Outputs[k].Literal()
		if !ok {
			return nil, procedure.Failf("stack output %q is only known after a deployment and has no stand-in value: give it one in drill.StandInOutputs", k)
		}
		out[k] = v
	}
	return out, nil
}

// readerPort is the stand-in's read port.
func readerPort(c *localvalkey.Cluster) int {
	if p := c.ReaderPort(); p != 0 {
		return p
	}
	// Three masters have no replica: the primary port, so the reader checks skip.
	return c.Nodes[0].Port
}

// topologyOf is the stand-in's topology: serverless unless the options ask for another.
func topologyOf(o Options) localvalkey.Topology {
	if o.Topology == "" {
		return localvalkey.TopologyServerless
	}
	return o.Topology
}

// writeOutputs writes {"<stack>": {"<key>": "<value>"}}, the shape of cdk deploy --outputs-file.
func writeOutputs(path, stack string, values map[string]string) error {
	b, err := json.MarshalIndent(map[string]map[string]string{stack: values}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o640)
}

func outputsNote(cfg *drcontext.Config) string {
	return fmt.Sprintf(`# stack-outputs.json — %s

stack-outputs.json has exactly the shape `+"`cdk deploy --outputs-file`"+` writes for %s
(the key set is taken from the synthesized template), but it describes a LOCAL STAND-IN:

- EndpointAddress, EndpointPort, ReaderPort, RegionalDnsName, ServiceDnsName point at a
  TLS Valkey cluster on 127.0.0.1 (certificate for "localhost", throwaway CA) shaped as
  recorded in the evidence (standInTopology; serverless by default: one master with every
  slot on EndpointPort, its replica on ReaderPort, the serverless-supported commands only).
- CacheName, SecurityGroupId and SecretArn cannot exist locally: their values say so.
- The other outputs are the literal values of the synthesized template.

Nothing was deployed; no AWS account was used.
`, strings.ToUpper(Label), cfg.StackID())
}
