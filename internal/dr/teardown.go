package dr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	drexec "github.com/valkey-dr/valkey-dr/internal/dr/exec"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

// Plan is what a teardown deletes, read from the DR stack as synthesized from this checkout.
type Plan struct {
	Stack     string                     `json:"stack"`
	Account   string                     `json:"account"`
	Region    string                     `json:"region"`
	CacheName string                     `json:"cacheName"`
	Deleted   []assembly.ResourceSummary `json:"deleted"`
	Kept      []assembly.ResourceSummary `json:"kept"`
	Records   []assembly.Record          `json:"route53RecordsRemoved"`
	// TerminationProtection is what the template asks for (production stacks: true).
	TerminationProtection bool `json:"terminationProtection"`
	// DNSStack is the DR cache's DNS stack (a stack made on the night), destroyed first;
	// "" for a mode without one.
	DNSStack string `json:"dnsStack,omitempty"`
}

// Text is the plan as printed before anything is deleted.
func (p Plan) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Teardown plan (from the template synthesized from this checkout; nothing deleted yet):\n")
	fmt.Fprintf(&b, "  stack   %s (account %s, region %s)%s\n", p.Stack, p.Account, p.Region,
		map[bool]string{true: ", termination protection ON in the template", false: ""}[p.TerminationProtection])
	if p.DNSStack != "" {
		fmt.Fprintf(&b, "  first   %s (its Route 53 records), then the stack above\n", p.DNSStack)
	}
	fmt.Fprintf(&b, "  cache   %s: DELETED with its stack (the DR cache is empty by design; its sessions are gone)\n", p.CacheName)
	fmt.Fprintf(&b, "  deleted (%d resources):\n", len(p.Deleted))
	for _, r := range p.Deleted {
		fmt.Fprintf(&b, "    %-40s %s\n", r.Type, r.LogicalID)
	}
	if len(p.Kept) > 0 {
		fmt.Fprintf(&b, "  kept (DeletionPolicy Retain, stays in the account):\n")
		for _, r := range p.Kept {
			fmt.Fprintf(&b, "    %-40s %s\n", r.Type, r.LogicalID)
		}
	}
	fmt.Fprintf(&b, "  Route 53 records removed:\n")
	for _, r := range p.Records {
		role := r.Failover
		if role == "" {
			role = "regional"
		}
		fmt.Fprintf(&b, "    %s %s (%s)\n", r.Type, r.Name, role)
	}
	return b.String()
}

// Teardown is runbook section 8 step 4: remove the DR stack, deliberately. It synthesizes the
// DR stack and prints what will be deleted, then refuses (exit 2, a message containing
// "confirm") unless TeardownOptions.Confirm equals the stack name. Only then does it touch AWS:
// credentials, the stack's existence and termination protection (turned off only with
// DisableTerminationProtection), the primary owning the service name again (failback done),
// and cdk destroy.
func Teardown(ctx context.Context, o TeardownOptions, d Deps) (*Result, error) {
	j, err := prepare(o.Common, "", d)
	if err != nil {
		return nil, err
	}
	d = j.d
	cfg, err := j.loadDR(o.Region)
	if err != nil {
		return nil, err
	}
	primary, primaryErr := j.load("", drcontext.PrimaryMode().Name, false)
	stack := cfg.StackID()
	// Who and why first: a refusal there comes before the plan.
	if err := j.checkEvidence(ctx, cfg); err != nil {
		return nil, err
	}

	// The plan needs no AWS: synthesize into a scratch directory first, so a refusal leaves
	// no evidence bundle behind (nothing happened).
	scratch, err := runowner.TempDir("", "valkey-dr-teardown-plan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	st, err := synthStack(ctx, d.Runner, j.Repo, cfg, filepath.Join(scratch, "cdk.out"))
	if err != nil {
		return nil, procedure.Failf("cannot build the teardown plan: %v", err)
	}
	plan := Plan{Stack: stack, Account: cfg.Env.Account, Region: cfg.Region, CacheName: cfg.CacheName(),
		TerminationProtection: st.TerminationProtection, Records: st.Route53Records(nil)}
	sts := []*assembly.Stack{st}
	if cfg.Mode().OnTheNight {
		// The records are the DNS stack's (docs/design.md, "Static stability").
		t := drexec.StackOf(cfg)
		t.Stack, t.Select = cfg.DNSStackID(), drcontext.StackDNS
		dnsSt, err := synthTarget(ctx, d.Runner, j.Repo, t, filepath.Join(scratch, "cdk.out.dns"))
		if err != nil {
			return nil, procedure.Failf("cannot build the teardown plan: %v", err)
		}
		plan.DNSStack = cfg.DNSStackID()
		plan.Records = append(plan.Records, dnsSt.Route53Records(nil)...)
		sts = append(sts, dnsSt)
	}
	for _, one := range sts {
		for _, r := range one.Template.ResourceList() {
			if r.Retained {
				plan.Kept = append(plan.Kept, r)
			} else {
				plan.Deleted = append(plan.Deleted, r)
			}
		}
	}
	fmt.Fprint(d.Stdout, plan.Text())

	switch {
	case o.Confirm == "" && standby(cfg):
		// The warm standby is the environment's DR posture, not a leftover of an activation:
		// failback keeps it, and deleting it is a decision of its own.
		return nil, procedure.Usagef("refusing to delete %s: it is environment %s's WARM STANDBY (drPosture %s), deployed in peacetime and kept after failback; without it an activation "+
			"has nothing to switch to (set drPosture back to stateless for the runbook's 30-90 minute activation). Nothing was deleted. To delete it anyway, name it: CONFIRM=%s (make dr-teardown ENV=%s CONFIRM=%s)",
			stack, cfg.EnvironmentName, cfg.Env.Posture().Name, stack, cfg.EnvironmentName, stack)
	case o.Confirm == "":
		return nil, procedure.Usagef("refusing to delete %s: nothing was deleted. To confirm, re-run with CONFIRM=%s (make dr-teardown ENV=%s CONFIRM=%s) or --confirm %s",
			stack, stack, cfg.EnvironmentName, stack, stack)
	case o.Confirm != stack:
		return nil, procedure.Usagef("refusing to delete %s: CONFIRM=%q does not match the stack name; nothing was deleted. To confirm, re-run with CONFIRM=%s",
			stack, o.Confirm, stack)
	}

	s, err := j.start(ctx, "teardown", fmt.Sprintf("DR teardown: %s in %s (stack %s)", cfg.EnvironmentName, cfg.Region, stack), cfg,
		map[string]any{"confirmedBy": "CONFIRM=" + o.Confirm,
			"disableTerminationProtection": o.DisableTerminationProtection, "allowWithoutPrimary": o.AllowWithoutPrimary})
	if err != nil {
		return nil, err
	}
	runErr := func() error {
		if err := s.Bundle.WriteJSON(evidence.FilePlanJSON, plan); err != nil {
			return err
		}
		if err := s.Bundle.WriteFile(evidence.FilePlanText, []byte(plan.Text())); err != nil {
			return err
		}
		return teardown(ctx, s, j, o, cfg, primary, primaryErr, plan.Records)
	}()
	res, serr := j.seal(ctx, s, cfg, runErr, "Runbook section 8 step 4 (remove DR region resources as approved). Approval: Incident/Change Management; executed by Cloud Operations.")
	if runErr == nil {
		s.Printf("\nTEARDOWN FINISHED: cdk destroy %s exited 0.", stack)
	}
	return res, errors.Join(runErr, serr)
}

func teardown(ctx context.Context, s *procedure.Run, j *job, o TeardownOptions, cfg, primary *drcontext.Config, primaryErr error, drRecords []assembly.Record) error {
	d := j.d
	r := s.Runner()
	stack := cfg.StackID()
	var protected bool
	// dns is the DNS stack to destroy first (a stack made on the night whose DNS step ran);
	// dnsProtected its termination protection.
	var dns string
	var dnsProtected bool
	phaseTP := procedure.PlannedPhase{Name: "termination protection off"}
	phaseDestroy := procedure.PlannedPhase{Name: "destroy"}
	var primaryStack *assembly.Stack

	err := s.Phase(ctx, "preflight", procedure.RunbookPrepare, func() (string, error) {
		id, err := credentials(ctx, d.AWS, cfg.Region, cfg.Env.Account)
		if err != nil {
			return "", err
		}
		s.Meta["callerArn"] = id.Arn
		info, err := describe(ctx, d.AWS, stack, cfg.Region)
		switch {
		case err != nil:
			return "", procedure.Failf("cannot read stack %s: %v", stack, err)
		case !info.Exists:
			return "", procedure.Failf("stack %s does not exist in %s (account %s): nothing to tear down; check ENV and REGION", stack, cfg.Region, cfg.Env.Account)
		}
		protected = info.TerminationProtection
		if protected && !o.DisableTerminationProtection {
			return "", procedure.Usagef("stack %s has termination protection ON (production stacks do): nothing was deleted. To turn it off deliberately, re-run with DISABLE_TERMINATION_PROTECTION=yes (--disable-termination-protection)", stack)
		}
		pre := map[string]any{"callerIdentity": id, "stackStatus": info.Status, "terminationProtection": info.TerminationProtection}
		if cfg.Mode().OnTheNight {
			dinfo, err := describe(ctx, d.AWS, cfg.DNSStackID(), cfg.Region)
			if err != nil {
				return "", procedure.Failf("cannot read stack %s: %v", cfg.DNSStackID(), err)
			}
			pre["dnsStack"] = map[string]any{"stack": cfg.DNSStackID(), "exists": dinfo.Exists, "status": dinfo.Status}
			if dinfo.Exists {
				dns, dnsProtected = cfg.DNSStackID(), dinfo.TerminationProtection
			}
		}
		// Failback must be finished: the primary stack owns the service name again (its
		// ServiceDnsName output exists only when the PRIMARY record is released).
		switch {
		case primaryErr != nil:
			pre["primary"] = "unavailable: " + primaryErr.Error()
		default:
			pinfo, perr := describe(ctx, d.AWS, primary.StackID(), primary.Region)
			owns := perr == nil && pinfo.Exists && pinfo.Outputs[contract.KeyServiceDNSName] != ""
			pre["primary"] = map[string]any{"stack": primary.StackID(), "region": primary.Region, "ownsServiceName": owns, "status": pinfo.Status}
			if !owns && !o.AllowWithoutPrimary {
				why := "it does not own the service name (routing held or never released)"
				switch {
				case perr != nil:
					why = perr.Error()
				case !pinfo.Exists:
					why = "it does not exist"
				}
				return "", procedure.Failf("the primary stack %s in %s is not serving: %s. Finish the failback first (make dr-failback ENV=%s), or re-run with ALLOW_WITHOUT_PRIMARY=yes if removing DR without a primary is intended",
					primary.StackID(), primary.Region, why, cfg.EnvironmentName)
			}
			if st, err := synthStack(ctx, r, j.Repo, primary, filepath.Join(s.Work, "cdk.out.primary")); err == nil {
				primaryStack = st
			}
		}
		if err := s.Bundle.WriteJSON(evidence.FilePreflight, pre); err != nil {
			return "", err
		}
		return fmt.Sprintf("stack %s, termination protection %v", info.Status, info.TerminationProtection), nil
	})
	if err != nil {
		s.NotRun("preflight failed: nothing was deleted", phaseTP, phaseDestroy)
		return err
	}

	if protected || dnsProtected {
		err = s.Phase(ctx, phaseTP.Name, phaseTP.Estimate, func() (string, error) {
			for name, on := range map[string]bool{stack: protected, dns: dnsProtected} {
				if !on {
					continue
				}
				if err := disableTerminationProtection(ctx, d.AWS, name, cfg.Region); err != nil {
					return "", procedure.Failf("cloudformation:UpdateTerminationProtection %s in %s: %v", name, cfg.Region, err)
				}
			}
			return "turned off on request (--disable-termination-protection)", nil
		})
		if err != nil {
			s.NotRun("termination protection still on: nothing was deleted", phaseDestroy)
			return err
		}
	} else {
		s.Timeline.Skip(phaseTP.Name, phaseTP.Estimate, procedure.NotPerformed, "the stack is not protected")
	}

	err = s.Phase(ctx, phaseDestroy.Name, phaseDestroy.Estimate, func() (string, error) {
		if dns != "" {
			// The records first: they point at the cache the second destroy removes.
			t := drexec.StackOf(cfg)
			t.Stack, t.Select = dns, drcontext.StackDNS
			cmd := drexec.CDK{Repo: j.Repo}.Destroy(t, filepath.Join(s.Work, "cdk.out.dns"))
			res, err := runLogged(ctx, s, cmd, evidence.FileDestroyDNSLog)
			if err != nil {
				return "", err
			}
			if res.ExitCode != 0 {
				return "", procedure.Failf("cdk destroy %s exited %d: see destroy-dns.log; %s was NOT destroyed (its records would point at a deleted cache); re-run when Route 53's control plane answers", dns, res.ExitCode, stack)
			}
		}
		cmd := drexec.CDK{Repo: j.Repo}.Destroy(drexec.StackOf(cfg), filepath.Join(s.Work, "cdk.out"))
		res, err := runLogged(ctx, s, cmd, evidence.FileDestroyLog)
		if err != nil {
			return "", err
		}
		if res.ExitCode != 0 {
			return "", procedure.Failf("cdk destroy %s exited %d: see destroy.log; the stack may be DELETE_FAILED (check the CloudFormation console, then re-run)", stack, res.ExitCode)
		}
		return "cdk destroy exited 0", nil
	})
	before := append(records(primaryStack, nil), drRecords...)
	after := records(primaryStack, nil)
	if err != nil {
		after = before // nothing is known to be removed
	}
	if werr := s.Bundle.WriteRouting(evidence.RoutingTeardown, assembly.NewRoutingChange("teardown of "+stack, before, after)); werr != nil && err == nil {
		err = werr
	}
	return err
}
