package dr

// Activation of a warm standby (drMode=standby; docs/design.md, "Warm standby"): the DR cache
// was deployed, empty, in peacetime, so the night is a preflight, validation and the data-plane
// switch. Every AWS call is a regional one in the DR region (STS, CloudFormation DescribeStacks,
// CloudWatch GetMetricData, the validator's Lambda Invoke of the canary, EventBridge Scheduler):
// no cdk deploy, no CloudFormation write, no IAM, no Route 53 call. The primary probe, best
// effort as for the stateless activation, reads the primary region's CloudFormation.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// standbyRecord is preflight.json's record of the standby stack.
type standbyRecord struct {
	Stack   string            `json:"stack"`
	Region  string            `json:"region"`
	Status  string            `json:"status"`
	Outputs map[string]string `json:"outputs"`
}

func activateStandby(ctx context.Context, s *procedure.Run, j *job, cfg, primary *drcontext.Config, primaryErr error, mode RouteMode) error {
	d := j.d
	var validator string
	outputsFile := filepath.Join(s.Work, "cdk-outputs.json")
	var out map[string]string
	phaseCanary := procedure.PlannedPhase{Name: "canary preflight", Estimate: procedure.RunbookPrepare}
	phaseValidation := procedure.PlannedPhase{Name: "validation", Estimate: procedure.RunbookValidation}

	err := s.Phase(ctx, "preflight", procedure.RunbookPrepare, func() (string, error) {
		id, err := nightPreflight(ctx, s, j, cfg)
		if err != nil {
			return "", err
		}
		rec, err := standbyStack(ctx, d, cfg)
		if err != nil {
			return "", err
		}
		out = rec.Outputs
		s.Printf("    standby: %s in %s is %s (deployed in peacetime: nothing to deploy)", rec.Stack, rec.Region, rec.Status)
		// The validator reads the outputs the way `cdk deploy --outputs-file` writes them.
		b, err := json.MarshalIndent(map[string]map[string]string{cfg.StackID(): out}, "", "  ")
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(outputsFile, append(b, '\n'), 0o640); err != nil {
			return "", err
		}
		if err := s.Bundle.CopyFile(evidence.FileStackOutputs, outputsFile); err != nil {
			return "", err
		}
		if validator, err = buildValidator(ctx, s.Runner(), j.Repo, j.validator, s.Work); err != nil {
			return "", err
		}
		pre := map[string]any{"callerIdentity": id, "standbyStack": rec, "drPosture": string(cfg.Env.Posture().Name)}
		recordPrimaryProbe(ctx, s, d, primary, primaryErr, pre)
		if err := s.Bundle.WriteJSON(evidence.FilePreflight, pre); err != nil {
			return "", err
		}
		return fmt.Sprintf("account %s; standby %s %s", id.Account, rec.Stack, rec.Status), nil
	})
	if err != nil {
		s.NotRun("preflight failed", phaseCanary, phaseValidation)
		return err
	}
	s.Timeline.Skip("deploy", procedure.RunbookDeploy, procedure.NotPerformed,
		"warm standby: "+cfg.StackID()+" was deployed in peacetime; no CloudFormation, IAM or Route 53 call on the night")

	// The canary has been publishing since peacetime: Success data must be there already.
	err = s.Phase(ctx, phaseCanary.Name, phaseCanary.Estimate, func() (string, error) {
		return "Success 1 seen", canaryPreflight(ctx, s, d, cfg.Region, cfg.CacheName(), out)
	})
	if err != nil {
		s.NotRun("the standby's canary has not proven it: no switch", phaseValidation)
		return err
	}
	err = s.Phase(ctx, phaseValidation.Name, phaseValidation.Estimate, func() (string, error) {
		return validate(ctx, s, validator, outputsFile, cfg.StackID(), evidence.DirValidation, viaFor(j, out, cfg.Region))
	})
	if err != nil {
		return err
	}
	if !mode.Force {
		s.Timeline.Skip("routing", procedure.RunbookRouting, procedure.NotPerformed,
			"--route=auto: the standby's SECONDARY record exists since peacetime; Route 53 answers it while the PRIMARY health check fails")
		s.Printf("\n    routing: --route=%s: %s (make dr-route ENV=%s TO=dr forces it)", mode.Name, mode.Meaning, cfg.EnvironmentName)
		return nil
	}
	if primaryErr != nil {
		return procedure.Failf("the switch: the primary's configuration is needed to find it: %v", primaryErr)
	}
	tgt, err := routeTarget("dr")
	if err != nil {
		return err
	}
	opt := j.route
	opt.regionalOnly = true
	return routeToWith(ctx, s, d, primary, tgt, opt)
}

// standbyStack reads the standby stack in its region (CloudFormation DescribeStacks, a
// regional read) and refuses one that is missing, not in a usable state, or not the
// environment's standby.
func standbyStack(ctx context.Context, d Deps, cfg *drcontext.Config) (standbyRecord, error) {
	rec := standbyRecord{Stack: cfg.StackID(), Region: cfg.Region}
	info, err := describe(ctx, d.AWS, rec.Stack, rec.Region)
	redeploy := fmt.Sprintf("bin/cdk deploy %s --context environment=%s --context region=%s --context drMode=%s (a CloudFormation deploy with IAM and Route 53 resources: "+
		"peacetime work; while us-east-1's control planes are impaired it may not complete)", rec.Stack, cfg.EnvironmentName, cfg.Region, cfg.DrMode)
	switch {
	case err != nil:
		return rec, procedure.Failf("cannot read the warm standby %s in %s: %v", rec.Stack, rec.Region, err)
	case !info.Exists:
		return rec, procedure.Failf("the warm standby %s does not exist in %s: environment %s's drPosture is %s, so its DR cache is deployed in peacetime, and nothing is deployed on the night. Deploy it: %s",
			rec.Stack, rec.Region, cfg.EnvironmentName, cfg.Env.Posture().Name, redeploy)
	case !usableBootstrap[info.Status]:
		return rec, procedure.Failf("the warm standby %s in %s is %s: it is not in a usable state; repair it: %s", rec.Stack, rec.Region, info.Status, redeploy)
	}
	rec.Status, rec.Outputs = info.Status, info.Outputs
	for k, want := range map[string]string{contract.KeyEnvironment: cfg.EnvironmentName, contract.KeyDrMode: string(cfg.DrMode)} {
		if got := info.Outputs[k]; got != want {
			return rec, procedure.Failf("stack %s in %s has output %s=%q, want %q: it is not this environment's warm standby", rec.Stack, rec.Region, k, got, want)
		}
	}
	for _, k := range []string{contract.KeyEndpointAddress, contract.KeyCanaryFunctionName} {
		if info.Outputs[k] == "" {
			return rec, procedure.Failf("the warm standby %s in %s has no %s output: redeploy it from this checkout: %s", rec.Stack, rec.Region, k, redeploy)
		}
	}
	return rec, nil
}

// routeModeFor is routeMode with the posture's default: a warm standby's activation is the
// switch (force); the stateless activation leaves routing to the health checks (auto).
func routeModeFor(name string, cfg *drcontext.Config) (RouteMode, error) {
	if name == "" && standby(cfg) {
		name = RouteForce
	}
	return routeMode(name)
}
