package dr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// Activate is runbook section 6 for a real account: preflight (context, credentials for the
// environment's account, region bootstrapped, primary probe recorded), cdk deploy of the DR
// stack with an outputs file and an approval policy, the validator against those outputs,
// and an evidence bundle — sealed whatever the outcome.
func Activate(ctx context.Context, o ActivateOptions, d Deps) (*Result, error) {
	j, err := prepareDeploy(o.Common, o.DeployOptions, d)
	if err != nil {
		return nil, err
	}
	j.kit = o.Kit
	if o.Region == "" {
		hint := ""
		if def, err := j.loadDR(""); err == nil {
			hint = fmt.Sprintf(" (cdk.json's drRegion for %s is %s: REGION=%s)", o.Environment, def.Region, def.Region)
		}
		return nil, procedure.Usagef("REGION is required for activation: name the DR region explicitly (runbook step 1: the DR region is designated)%s", hint)
	}
	// The environment's DR posture decides what activation is (docs/design.md, "Warm
	// standby"): the runbook's stateless cache made on the night, or the warm standby's switch.
	cfg, err := j.loadDR(o.Region)
	if err != nil {
		return nil, err
	}
	mode, err := routeModeFor(o.Route, cfg)
	if err != nil {
		return nil, err
	}
	primary, primaryErr := j.load("", drcontext.PrimaryMode().Name, false)
	if j.kit != nil {
		if _, err := kitStack(j.kit, cfg); err != nil {
			return nil, err
		}
	}

	s, err := j.start(ctx, "activate", fmt.Sprintf("DR activation: %s in %s (stack %s)", cfg.EnvironmentName, cfg.Region, cfg.StackID()), cfg,
		map[string]any{"drMode": string(cfg.DrMode), "drPosture": string(cfg.Env.Posture().Name), "approval": j.approval, "route": mode.Name})
	if err != nil {
		return nil, err
	}
	s.Printf("valkey-dr activate: environment %s, DR region %s, stack %s, account %s, drPosture %s", cfg.EnvironmentName, cfg.Region, cfg.StackID(), cfg.Env.Account, cfg.Env.Posture().Name)

	var runErr error
	if standby(cfg) {
		runErr = activateStandby(ctx, s, j, cfg, primary, primaryErr, mode)
	} else {
		runErr = activate(ctx, s, j, cfg, primary, primaryErr, mode)
	}
	defer removeBuiltValidator(j.validator, s)
	res, serr := j.seal(ctx, s, cfg, runErr, "Runbook section 6 (DR activation). Roles: Cloud Operations ran it; Network Operations owns VPN/TGW; the Application Team validates sessions; Incident/Change Management archives this bundle.")
	if runErr == nil {
		what := "passed validation"
		if standby(cfg) && mode.Force {
			what = "passed validation and the switch holds traffic on it"
		}
		s.Printf("\nACTIVATION FINISHED: stack %s %s. Next: Network Operations (VPN/TGW if applicable), Application Team checks, stabilization (docs/runbook.md).", cfg.StackID(), what)
	}
	return res, errors.Join(runErr, serr)
}

func activate(ctx context.Context, s *procedure.Run, j *job, cfg, primary *drcontext.Config, primaryErr error, mode RouteMode) error {
	d := j.d
	r := s.Runner()
	var validator string
	var primaryStack *assembly.Stack
	var asm string // the assembly oneSynth wrote: deployed, and (one.primary) the routing before
	later := []procedure.PlannedPhase{{Name: "deploy", Estimate: procedure.RunbookDeploy},
		{Name: "routing", Estimate: procedure.RunbookRouting}, {Name: "validation", Estimate: procedure.RunbookValidation}}

	err := s.Phase(ctx, "preflight", procedure.RunbookPrepare, func() (string, error) {
		id, err := nightPreflight(ctx, s, j, cfg)
		if err != nil {
			return "", err
		}
		status, err := bootstrapped(ctx, d.AWS, cfg.Env.Account, cfg.Region)
		if err != nil {
			return "", err
		}
		s.Printf("    bootstrap: %s %s", "CDKToolkit", status)
		if validator, err = buildValidator(ctx, r, j.Repo, j.validator, s.Work); err != nil {
			return "", err
		}
		pre := map[string]any{"callerIdentity": id, "bootstrap": status}
		one, err := oneSynth(ctx, s, j, cfg, primary, filepath.Join(s.Work, "cdk.out"))
		if err != nil {
			return "", err
		}
		asm = one.dir
		if one.note != "" {
			pre["oneSynth"] = one.note
		}
		recordPrimaryProbe(ctx, s, d, primary, primaryErr, pre)
		if primaryErr == nil {
			// The primary as synthesized: the routing "before" (no AWS needed).
			primaryAsm := ""
			if one.primary {
				primaryAsm = asm
			}
			st, err := primaryAssembly(ctx, r, j, primary, primaryAsm, filepath.Join(s.Work, "cdk.out.primary"))
			if err != nil {
				pre["routingBefore"] = "unavailable: " + err.Error()
			}
			primaryStack = st
		}
		// The DR stack may exist from an earlier activation: a createOnly change of its named
		// cache would fail the deploy and roll it back (docs/design.md, "Replacement-safe
		// updates"). The check reads the assembly deployed, so there must be one.
		if asm == "" && j.kit == nil {
			asm = filepath.Join(s.Work, "cdk.out")
			if err := gatedSynth(ctx, s, j.Repo, cfg, asm); err != nil {
				return "", err
			}
		}
		var next *assembly.Template
		if st, err := deployedAssembly(j, s.Work, asm, cfg); err == nil {
			next = st.Template
		}
		if err := writePreflight(ctx, s, j, cfg, next, pre); err != nil {
			return "", err
		}
		return fmt.Sprintf("account %s, bootstrap %s", id.Account, status), nil
	})
	if err != nil {
		s.NotRun("preflight failed", later...)
		return err
	}

	outputsFile := filepath.Join(s.Work, "cdk-outputs.json")
	var out map[string]string
	err = s.Phase(ctx, "deploy", procedure.RunbookDeploy, func() (string, error) {
		var log []byte
		var err error
		out, log, err = deploy(ctx, s, j, cfg, asm, outputsFile, filepath.Join(s.Work, "cdk.out"))
		if werr := s.Bundle.WriteFile(evidence.FileDeployLog, log); werr != nil {
			return "", werr
		}
		if err != nil {
			return "", err
		}
		if err := s.Bundle.CopyFile(evidence.FileStackOutputs, outputsFile); err != nil {
			return "", err
		}
		if err := recheckKit(s, j, cfg); err != nil {
			return "", err
		}
		return "cdk deploy exited 0; endpoint " + out["EndpointAddress"], nil
	})
	if err != nil {
		s.NotRun("deploy did not finish", later[1:]...)
		return err
	}

	if !cfg.Mode().OnTheNight {
		// Runbook step 3: the stack itself carries the routing (Route 53 regional CNAME and its
		// half of the failover pair, SSM parameters), so it changed with the deploy.
		dr, rerr := deployedAssembly(j, s.Work, asm, cfg)
		note := "in the deploy: Route 53 records and SSM parameters; VPN/TGW: Network Operations (VPN DR runbook)"
		s.Timeline.Skip("routing", procedure.RunbookRouting, procedure.Included, withRecordsError(note, rerr))
		if err := recordRouting(s, primaryStack, dr, map[string]string{endpointToken: out["EndpointAddress"]}, cfg.StackID()); err != nil {
			return err
		}
	}

	err = s.Phase(ctx, "validation", procedure.RunbookValidation, func() (string, error) {
		return validate(ctx, s, validator, outputsFile, cfg.StackID(), evidence.DirValidation, viaFor(j, out, cfg.Region))
	})
	if err != nil {
		if cfg.Mode().OnTheNight {
			s.NotRun("validation failed: no DNS for a cache that is not proven", later[1])
		}
		return err
	}
	if cfg.Mode().OnTheNight {
		if err := dnsStep(ctx, s, j, cfg, asm, out, primaryStack); err != nil {
			return err
		}
	}
	return forceFailover(ctx, s, d, mode, cfg, out, primary, primaryErr, j.route)
}

// dnsStep is runbook step 3 for a cache made on the night: its Route 53 records, a stack of
// their own deployed after validation (docs/design.md, "Static stability"). Route 53's control
// plane is in us-east-1: when it is impaired this step fails alone, and the validated cache
// keeps serving, found through the SSM parameters its stack wrote in this region.
func dnsStep(ctx context.Context, s *procedure.Run, j *job, cfg *drcontext.Config, asm string, out map[string]string, primaryStack *assembly.Stack) error {
	outputsFile := filepath.Join(s.Work, "cdk-outputs-dns.json")
	err := s.Phase(ctx, "routing", procedure.RunbookRouting, func() (string, error) {
		if err := checkDNSReplacement(ctx, s, j, cfg, asm); err != nil {
			return "", err
		}
		cmd, err := dnsDeployCmd(j, cfg, asm, outputsFile, filepath.Join(s.Work, "cdk.out.dns"))
		if err != nil {
			return "", err
		}
		res, err := runLogged(ctx, s, cmd, evidence.FileDNSDeployLog)
		if err != nil {
			return "", err
		}
		if res.ExitCode != 0 {
			return "", procedure.Failf("cdk deploy %s exited %d (Route 53's control plane is in us-east-1: see the DNS deploy log in the evidence). "+
				"The cache is deployed, validated and serving: applications find it through the SSM parameters under %s in %s. "+
				"Retry this step when Route 53 answers again: re-run the same activation (the cache stack is unchanged, so its deploy does nothing)",
				cfg.DNSStackID(), res.ExitCode, cfg.SSMPrefix(), cfg.Region)
		}
		return "Route 53 regional CNAME and SECONDARY record deployed (" + cfg.DNSStackID() + ")", nil
	})
	if err != nil {
		return err
	}
	st, rerr := dnsAssembly(j, s.Work, asm, cfg)
	if rerr != nil {
		s.Printf("    records unavailable for the evidence: %v", rerr)
	}
	resolve := map[string]string{fmt.Sprintf("{{resolve:ssm:%s/%s}}", cfg.SSMPrefix(), contract.SSMParamEndpointAddress): out["EndpointAddress"]}
	return recordRouting(s, primaryStack, st, resolve, cfg.DNSStackID())
}

// checkDNSReplacement is the replacement check of the DNS stack (left by an earlier
// activation, its records may have moved to new logical ids), recorded in the bundle. The
// template is at hand when the deployed assembly holds the DNS stack (the environment's one
// synth, a kit); otherwise its deploy synthesizes it and the check is a note.
func checkDNSReplacement(ctx context.Context, s *procedure.Run, j *job, cfg *drcontext.Config, asm string) error {
	var next *assembly.Template
	if j.kit != nil || (asm != "" && hasStack(asm, cfg.DNSStackID())) {
		if st, err := dnsAssembly(j, s.Work, asm, cfg); err == nil {
			next = st.Template
		}
	}
	rec, refusal := checkReplacement(ctx, s, j, cfg, cfg.DNSStackID(), next)
	if err := s.Bundle.WriteJSON(evidence.FileDNSReplacement, rec); err != nil {
		return err
	}
	return refusal
}

// recordRouting writes what the routing step changed: the primary's records before, with the
// new stack's after.
func recordRouting(s *procedure.Run, primaryStack, st *assembly.Stack, resolve map[string]string, stack string) error {
	before := records(primaryStack, nil)
	after := append(append([]assembly.Record{}, before...), records(st, resolve)...)
	return s.Bundle.WriteRouting(evidence.RoutingActivation, assembly.NewRoutingChange("DR activation: deploy of "+stack, before, after))
}

// withRecordsError is note, saying why the records are missing from the evidence if they are.
func withRecordsError(note string, err error) string {
	if err != nil {
		return note + "; records unavailable: " + err.Error()
	}
	return note
}

// readDeployed reads the stack from the cloud assembly cdk deploy wrote.
func readDeployed(work string, cfg *drcontext.Config) (*assembly.Stack, error) {
	return assembly.ReadStack(filepath.Join(work, "cdk.out"), cfg.StackID())
}

// synthResult is what oneSynth left: the assembly to deploy (dir, "" for none: the deploy
// synthesizes), whether it holds the primary stack too, and a note for the preflight evidence.
type synthResult struct {
	dir     string
	primary bool
	note    string
}

// oneSynth synthesizes the environment's stacks in one gated `cdk synth --context
// matrix=<environment>` into dir (every validation: it is the assembly deployed), with
// `--context region=<region>` when the DR stack goes to a region that is not its default. The
// primary stack (the routing "before") is read from the same assembly and the DR stack is
// deployed from it: one synth instead of two. Nothing when it does not apply (a kit, a
// same-region drill, no primary Config): the procedure then synthesizes as before.
//
// The one synth must not make the activation depend on the primary stack: when it fails, the
// DR stack alone decides, in a gated synth of its own (its failure is the gate refusing the DR
// stack: nothing is deployed); the primary then gets a read-only synth of its own, whose failure
// only leaves the routing "before" out, as it always did.
func oneSynth(ctx context.Context, s *procedure.Run, j *job, cfg, primary *drcontext.Config, dir string) (synthResult, error) {
	if j.kit != nil || primary == nil {
		return synthResult{}, nil
	}
	if cfg.SameRegionDrill { // the matrix refuses allowSameRegionDrill: it applies to one stack
		return synthResult{}, nil
	}
	def, err := j.config(drcontext.Request{DrMode: cfg.DrMode})
	if err != nil {
		return synthResult{}, nil
	}
	cdk := drexec.CDK{Repo: j.Repo}
	cmd := cdk.SynthMatrix(cfg.EnvironmentName, dir)
	if def.Region != cfg.Region {
		cmd = cdk.SynthMatrixDRRegion(cfg.EnvironmentName, cfg.Region, dir)
	}
	s.Printf("    one synth for the deploy and the routing before, with the compliance gate: %s", cmd)
	res, err := s.Runner().Run(ctx, cmd)
	if err != nil {
		return synthResult{}, err
	}
	if res.ExitCode == 0 {
		return synthResult{dir: dir, primary: true}, nil
	}
	code, why := res.ExitCode, firstLines(strings.TrimSpace(string(res.Stderr)), 3)
	s.Printf("    NOTE: the synth of environment %s exited %d:\n%s\n    the DR stack alone decides: a gated synth of %s (the primary, the routing before, gets a read-only synth of its own)",
		cfg.EnvironmentName, code, indent(why, "      "), cfg.StackID())
	if err := os.RemoveAll(dir); err != nil {
		return synthResult{}, err
	}
	cmd = cdk.SynthGated(drexec.StackOf(cfg), dir)
	s.Printf("    %s", cmd)
	if res, err = s.Runner().Run(ctx, cmd); err != nil {
		return synthResult{}, err
	}
	if res.ExitCode != 0 {
		return synthResult{}, procedure.Failf("cdk synth %s exited %d (a failed synth is a failed compliance gate; nothing was deployed):\n%s",
			cfg.StackID(), res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return synthResult{dir: dir, note: fmt.Sprintf("the synth of environment %s exited %d (%s); %s passed its own gated synth: the deploy uses that assembly",
		cfg.EnvironmentName, code, strings.ReplaceAll(why, "\n", " | "), cfg.StackID())}, nil
}

// firstLines is s up to its n-th line ("..." when there was more).
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		return strings.Join(lines[:n], "\n") + "\n..."
	}
	return s
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// nightPreflight is how every activation starts: the kit's prerequisites (with a kit), then the
// caller's identity in the DR region, recorded and printed.
func nightPreflight(ctx context.Context, s *procedure.Run, j *job, cfg *drcontext.Config) (identity, error) {
	if j.kit != nil {
		if err := kitPrereqs(ctx, s, j.kit); err != nil {
			return identity{}, err
		}
	}
	id, err := credentials(ctx, j.d.AWS, cfg.Region, cfg.Env.Account)
	if err != nil {
		return identity{}, err
	}
	s.Meta["callerArn"] = id.Arn
	s.Printf("    credentials: %s (account %s)", id.Arn, id.Account)
	return id, nil
}
