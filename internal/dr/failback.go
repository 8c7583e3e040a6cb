package dr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// Failback is runbook section 8 steps 1–3: deploy drMode=none in the primary region with the
// PRIMARY failover record held back (holdPrimaryRouting=true), validate the new primary cache,
// then deploy again without the hold, which releases routing: the PRIMARY record (with its
// health check) takes the service name back. A failed validation stops before the release,
// so the DR cache keeps serving.
func Failback(ctx context.Context, o FailbackOptions, d Deps) (*Result, error) {
	j, err := prepareDeploy(o.Common, o.DeployOptions, d)
	if err != nil {
		return nil, err
	}
	held, err := j.load(o.Region, drcontext.PrimaryMode().Name, true)
	if err != nil {
		return nil, err
	}
	release, err := j.load(held.Region, drcontext.PrimaryMode().Name, false)
	if err != nil {
		return nil, err
	}
	dr, drErr := j.loadDR("")

	s, err := j.start(ctx, "failback", fmt.Sprintf("DR failback: %s to %s (stack %s)", held.EnvironmentName, held.Region, held.StackID()), held,
		map[string]any{"drMode": string(held.DrMode), "approval": j.approval})
	if err != nil {
		return nil, err
	}
	s.Printf("valkey-dr failback: environment %s, primary region %s, stack %s, account %s", held.EnvironmentName, held.Region, held.StackID(), held.Env.Account)

	runErr := failback(ctx, s, j, held, release, dr, drErr)
	defer removeBuiltValidator(j.validator, s)
	step4 := "Step 4 (remove the DR stack) is `make dr-teardown`, after approval by Incident/Change Management."
	if dr != nil && standby(dr) {
		step4 = "Step 4 does not apply: the DR stack is the environment's warm standby (drPosture " + string(dr.Env.Posture().Name) + "), which stays deployed."
	}
	res, serr := j.seal(ctx, s, held, runErr, "Runbook section 8 (failback), steps 1–3. "+step4)
	switch {
	case runErr == nil && dr != nil && standby(dr):
		// The warm standby stays: it is the environment's DR posture (docs/design.md, "Warm
		// standby"). Its sessions were the DR period's; nothing is flushed (see the runbook).
		s.Printf("\nFAILBACK FINISHED: %s validated, routing released and the switch cleared. The warm standby %s stays deployed, ready for the next activation (no teardown).",
			held.StackID(), dr.StackID())
	case runErr == nil && dr != nil:
		s.Printf("\nFAILBACK FINISHED: %s validated and routing released. When Change Management approves, remove the DR stack:\n    make dr-teardown ENV=%s CONFIRM=%s",
			held.StackID(), held.EnvironmentName, dr.StackID())
	}
	return res, errors.Join(runErr, serr)
}

func failback(ctx context.Context, s *procedure.Run, j *job, held, release, dr *drcontext.Config, drErr error) error {
	d := j.d
	r := s.Runner()
	var validator string
	var drStack *assembly.Stack
	phaseHeld := procedure.PlannedPhase{Name: "deploy (PRIMARY record held)", Estimate: procedure.RunbookDeploy}
	phaseValidate := procedure.PlannedPhase{Name: "validation", Estimate: procedure.RunbookValidation}
	phaseRelease := procedure.PlannedPhase{Name: "routing release (deploy)", Estimate: procedure.RunbookRouting}
	heldAsm := filepath.Join(s.Work, "cdk.out.held")

	err := s.Phase(ctx, "preflight", procedure.RunbookPrepare, func() (string, error) {
		id, err := credentials(ctx, d.AWS, held.Region, held.Env.Account)
		if err != nil {
			return "", err
		}
		s.Meta["callerArn"] = id.Arn
		status, err := bootstrapped(ctx, d.AWS, held.Env.Account, held.Region)
		if err != nil {
			return "", err
		}
		if validator, err = buildValidator(ctx, r, j.Repo, j.validator, s.Work); err != nil {
			return "", err
		}
		pre := map[string]any{"callerIdentity": id, "bootstrap": status}
		if drErr != nil {
			pre["drStack"] = "unavailable: " + drErr.Error()
		} else if drStack, err = recordsStack(ctx, r, j.Repo, dr, filepath.Join(s.Work, "cdk.out.dr")); err != nil {
			// The DR records only complete the routing picture; a failback must not wait on them.
			pre["drStack"] = "unavailable: " + err.Error()
		}
		// The held deploy's assembly, synthesized (and gated) here so that the template the
		// replacement check reads is the one deployed (docs/design.md, "Replacement-safe
		// updates"): the primary stack exists, and a createOnly change of its named cache
		// would fail the deploy and roll it back.
		if err := gatedSynth(ctx, s, j.Repo, held, heldAsm); err != nil {
			return "", err
		}
		if err := writePreflight(ctx, s, j, held, replacementTemplate(heldAsm, held.StackID()), pre); err != nil {
			return "", err
		}
		return fmt.Sprintf("account %s, bootstrap %s", id.Account, status), nil
	})
	if err != nil {
		s.NotRun("preflight failed", phaseHeld, phaseValidate, phaseRelease)
		return err
	}

	heldOutputs := filepath.Join(s.Work, "cdk-outputs-held.json")
	var heldOut map[string]string
	err = s.Phase(ctx, phaseHeld.Name, phaseHeld.Estimate, func() (string, error) {
		var log []byte
		var err error
		heldOut, log, err = deploy(ctx, s, j, held, heldAsm, heldOutputs, heldAsm)
		if werr := s.Bundle.WriteFile(evidence.FileDeployHeldLog, log); werr != nil {
			return "", werr
		}
		if err != nil {
			return "", err
		}
		return "cdk deploy exited 0; the PRIMARY record is held back", s.Bundle.CopyFile(evidence.FileStackOutputsHeld, heldOutputs)
	})
	if err != nil {
		s.NotRun("deploy did not finish: routing NOT released, the DR cache keeps serving", phaseValidate, phaseRelease)
		return err
	}

	err = s.Phase(ctx, phaseValidate.Name, phaseValidate.Estimate, func() (string, error) {
		return validate(ctx, s, validator, heldOutputs, held.StackID(), evidence.DirValidation, viaFor(j, heldOut, held.Region))
	})
	if err != nil {
		s.NotRun("validation failed: routing NOT released, the DR cache keeps serving", phaseRelease)
		return err
	}
	// Before the release deploy: once the PRIMARY record is back, its health check reads the
	// canary, and a canary that publishes nothing would fail the new primary over at once.
	err = s.Phase(ctx, "canary preflight", procedure.RunbookPrepare, func() (string, error) {
		return "Success 1 seen", canaryPreflight(ctx, s, d, held.Region, held.CacheName(), heldOut)
	})
	if err != nil {
		s.NotRun("the canary has not proven the primary: routing NOT released, the DR cache keeps serving", phaseRelease)
		return err
	}

	releaseOutputs := filepath.Join(s.Work, "cdk-outputs-released.json")
	relAsm := filepath.Join(s.Work, "cdk.out.released")
	err = s.Phase(ctx, phaseRelease.Name, phaseRelease.Estimate, func() (string, error) {
		// The release deploys what was checked, as the held deploy does: the deployed template
		// is now the held one, and a record or named resource that cannot move refuses here,
		// with routing still held and the DR cache serving.
		if err := gatedSynth(ctx, s, j.Repo, release, relAsm); err != nil {
			return "", err
		}
		rec, refusal := checkReplacement(ctx, s, j, release, release.StackID(), replacementTemplate(relAsm, release.StackID()))
		if err := s.Bundle.WriteJSON(evidence.FileReleaseReplacement, rec); err != nil {
			return "", err
		}
		if refusal != nil {
			return "", refusal
		}
		_, log, err := deploy(ctx, s, j, release, relAsm, releaseOutputs, relAsm)
		if werr := s.Bundle.WriteFile(evidence.FileDeployReleaseLog, log); werr != nil {
			return "", werr
		}
		if err != nil {
			return "", err
		}
		return "cdk deploy exited 0; the PRIMARY record owns the service name again", s.Bundle.CopyFile(evidence.FileStackOutputsReleased, releaseOutputs)
	})

	// Routing evidence: the held and released templates, each beside the DR stack's records
	// (the SECONDARY half stays until teardown).
	resolve := map[string]string{endpointToken: heldOut["EndpointAddress"]}
	heldStack, _ := assembly.ReadStack(heldAsm, held.StackID())
	relStack, _ := assembly.ReadStack(relAsm, release.StackID())
	drRecords := records(drStack, nil)
	before := append(records(heldStack, resolve), drRecords...)
	after := before
	if relStack != nil {
		after = append(records(relStack, resolve), drRecords...)
	}
	if werr := s.Bundle.WriteRouting(evidence.RoutingFailbackRelease, assembly.NewRoutingChange("failback: release of the PRIMARY record ("+release.StackID()+")", before, after)); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	return clearFailover(ctx, s, d, release, j.route)
}
