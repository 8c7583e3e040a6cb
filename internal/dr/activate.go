package dr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/session"
)

// Activate is runbook section 6 for a real account: preflight (context, credentials for the
// environment's account, region bootstrapped, primary probe recorded), cdk deploy of the DR
// stack with an outputs file and an approval policy, the validator against those outputs,
// and an evidence bundle — sealed whatever the outcome.
func Activate(ctx context.Context, o Options, d Deps) (*Result, error) {
	d.defaults()
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if o.Region == "" {
		hint := ""
		if def, err := drcontext.LoadFile(filepath.Join(o.Repo, drcontext.FileName), drcontext.Request{Environment: o.Environment, DrMode: drcontext.DRMode().Name}); err == nil {
			hint = fmt.Sprintf(" (cdk.json's drRegion for %s is %s: REGION=%s)", o.Environment, def.Region, def.Region)
		}
		return nil, session.Usagef("REGION is required for activation: name the DR region explicitly (runbook step 1: the DR region is designated)%s", hint)
	}
	mode, err := routeMode(o.Route)
	if err != nil {
		return nil, err
	}
	cfg, err := load(o, o.Region, drcontext.DRMode().Name, false)
	if err != nil {
		return nil, err
	}
	primary, primaryErr := load(o, "", drcontext.PrimaryMode().Name, false)
	if o.Kit != nil {
		if _, err := kitStack(o.Kit, cfg); err != nil {
			return nil, err
		}
	}

	signer, prov, err := evidenceSetup(ctx, o, d, cfg)
	if err != nil {
		return nil, err
	}
	s, err := start("activate", fmt.Sprintf("DR activation: %s in %s (stack %s)", cfg.EnvironmentName, cfg.Region, cfg.StackID()), o, d, cfg,
		map[string]any{"drMode": string(cfg.DrMode), "approval": o.Approval, "route": mode.Name}, signer, prov)
	if err != nil {
		return nil, err
	}
	s.Printf("valkey-dr activate: environment %s, DR region %s, stack %s, account %s", cfg.EnvironmentName, cfg.Region, cfg.StackID(), cfg.Env.Account)

	runErr := activate(ctx, s, o, d, cfg, primary, primaryErr, mode)
	defer removeBuiltValidator(o, s)
	sealed, serr := s.Finish(ctx, runErr, "Runbook section 6 (DR activation). Roles: Cloud Operations ran it; Network Operations owns VPN/TGW; the Application Team validates sessions; Incident/Change Management archives this bundle.")
	archiveSealed(ctx, s, o, d, cfg, sealed)
	if runErr == nil {
		s.Printf("\nACTIVATION FINISHED: stack %s passed validation. Next: Network Operations (VPN/TGW if applicable), Application Team checks, stabilization (docs/runbook.md).", cfg.StackID())
	}
	return &Result{Evidence: sealed, Session: s}, errors.Join(runErr, serr)
}

func activate(ctx context.Context, s *session.Session, o Options, d Deps, cfg, primary *drcontext.Config, primaryErr error, mode RouteMode) error {
	r := s.Runner()
	var validator string
	var primaryStack *assembly.Stack
	var asm string // the assembly oneSynth wrote: deployed, and the routing before
	later := []session.PlannedPhase{{Name: "deploy", Estimate: session.RunbookDeploy},
		{Name: "routing", Estimate: session.RunbookRouting}, {Name: "validation", Estimate: session.RunbookValidation}}

	err := s.Phase(ctx, "preflight", session.RunbookPrepare, func() (string, error) {
		if o.Kit != nil {
			if err := kitPrereqs(ctx, s, o.Kit); err != nil {
				return "", err
			}
		}
		id, err := credentials(ctx, r, cfg.Region, cfg.Env.Account)
		if err != nil {
			return "", err
		}
		s.Meta["callerArn"] = id.Arn
		s.Printf("    credentials: %s (account %s)", id.Arn, id.Account)
		status, err := bootstrapped(ctx, r, cfg.Env.Account, cfg.Region)
		if err != nil {
			return "", err
		}
		s.Printf("    bootstrap: %s %s", "CDKToolkit", status)
		if validator, err = buildValidator(ctx, r, o, s.Work); err != nil {
			return "", err
		}
		pre := map[string]any{"callerIdentity": id, "bootstrap": status}
		if asm, err = oneSynth(ctx, s, o, cfg, primary, filepath.Join(s.Work, "cdk.out")); err != nil {
			return "", err
		}
		if primaryErr != nil {
			pre["primaryProbe"] = "not tried: " + primaryErr.Error()
		} else {
			p := probePrimary(ctx, r, d.Dial, primary)
			pre["primaryProbe"] = p
			s.Printf("    primary probe: %s in %s: %s; tcp %s", p.Stack, p.Region, p.Describe, p.TCP)
			if p.Reachable {
				s.Printf("    NOTE: the primary cache accepts TCP connections: confirm the activation criteria (runbook section 5) are met before routing traffic to DR")
			}
			// The primary as synthesized: the routing "before" (no AWS needed).
			st, err := primaryAssembly(ctx, r, o, primary, asm, filepath.Join(s.Work, "cdk.out.primary"))
			if err != nil {
				pre["routingBefore"] = "unavailable: " + err.Error()
			}
			primaryStack = st
		}
		if err := s.Bundle.WriteJSON(session.FilePreflight, pre); err != nil {
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
	err = s.Phase(ctx, "deploy", session.RunbookDeploy, func() (string, error) {
		var log []byte
		var err error
		out, log, err = deploy(ctx, s, o, cfg, asm, outputsFile, filepath.Join(s.Work, "cdk.out"))
		if werr := s.Bundle.WriteFile(session.FileDeployLog, log); werr != nil {
			return "", werr
		}
		if err != nil {
			return "", err
		}
		if err := s.Bundle.CopyFile(session.FileStackOutputs, outputsFile); err != nil {
			return "", err
		}
		if err := recheckKit(s, o, cfg); err != nil {
			return "", err
		}
		return "cdk deploy exited 0; endpoint " + out["EndpointAddress"], nil
	})
	if err != nil {
		s.NotRun("deploy did not finish", later[1:]...)
		return err
	}

	// Runbook step 3: the stack itself carries the routing (Route 53 SECONDARY + regional
	// CNAME, SSM parameters), so it changed with the deploy; record what changed.
	dr, rerr := deployedAssembly(o, s.Work, asm, cfg)
	before := records(primaryStack, nil)
	after := append(append([]assembly.Record{}, before...), records(dr, map[string]string{endpointToken: out["EndpointAddress"]})...)
	note := "in the deploy: Route 53 regional CNAME + SECONDARY record, SSM parameters; VPN/TGW: Network Operations (VPN DR runbook)"
	if rerr != nil {
		note += "; records unavailable: " + rerr.Error()
	}
	s.Timeline.Skip("routing", session.RunbookRouting, session.Included, note)
	if err := s.WriteRouting(session.RoutingActivation, assembly.NewRoutingChange("DR activation: deploy of "+cfg.StackID(), before, after)); err != nil {
		return err
	}

	err = s.Phase(ctx, "validation", session.RunbookValidation, func() (string, error) {
		return validate(ctx, s, validator, outputsFile, cfg.StackID(), session.DirValidation, viaFor(o, out, cfg.Region))
	})
	if err != nil {
		return err
	}
	return forceFailover(ctx, s, d, mode, cfg, out, primary, primaryErr)
}

// readDeployed reads the stack from the cloud assembly cdk deploy wrote.
func readDeployed(work string, cfg *drcontext.Config) (*assembly.Stack, error) {
	return assembly.ReadStack(filepath.Join(work, "cdk.out"), cfg.StackID())
}

// oneSynth synthesizes the environment's stacks in one gated `cdk synth --context
// matrix=<environment>` into dir (every validation: it is the assembly deployed), with
// `--context region=<region>` when the DR stack goes to a region that is not its default. The
// primary stack (the routing "before") is read from the same assembly and the DR stack is
// deployed from it: one synth instead of two. "" when it does not apply (a kit, a same-region
// drill, no primary Config): the procedure then synthesizes as before.
func oneSynth(ctx context.Context, s *session.Session, o Options, cfg, primary *drcontext.Config, dir string) (string, error) {
	if o.Kit != nil || primary == nil {
		return "", nil
	}
	if cfg.SameRegionDrill { // the matrix refuses allowSameRegionDrill: it applies to one stack
		return "", nil
	}
	def, err := drcontext.LoadFile(filepath.Join(o.Repo, drcontext.FileName), drcontext.Request{Environment: cfg.EnvironmentName, DrMode: cfg.DrMode})
	if err != nil {
		return "", nil
	}
	cmd := drexec.CDK{Repo: o.Repo}.SynthMatrix(cfg.EnvironmentName, dir)
	if def.Region != cfg.Region {
		cmd = drexec.CDK{Repo: o.Repo}.SynthMatrixDRRegion(cfg.EnvironmentName, cfg.Region, dir)
	}
	s.Printf("    one synth for the deploy and the routing before, with the compliance gate: %s", cmd)
	res, err := s.Runner().Run(ctx, cmd)
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", session.Failf("cdk synth of environment %s exited %d (a failed synth is a failed compliance gate; nothing was deployed):\n%s",
			cfg.EnvironmentName, res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return dir, nil
}
