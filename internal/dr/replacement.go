package dr

// The replacement check before a deploy (docs/design.md, "Replacement-safe updates"): an
// update that changes a createOnly property of a resource with a custom name cannot succeed
// (CloudFormation cannot replace it while the name stays: the update fails and rolls back,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html).
// Failback (the primary stack exists) and activation (a DR stack, or its DNS stack, left from
// an earlier activation) compare the template CloudFormation holds with the one they are about to deploy
// (internal/cfnreplace) and refuse before the deploy starts, naming the properties and the way
// out, unless the operator passes --allow-replacement. Reading the deployed template is best
// effort: a stack that does not exist has nothing to replace, and a read that fails (access
// denied, the region impaired) is a note, never a refusal: the check must not make a
// procedure depend on more than the deploy itself does.

import (
	"context"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/cfnreplace"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// replacementRecord is preflight.json's "replacement": what was compared and what was found.
type replacementRecord struct {
	Stack  string `json:"stack"`
	Region string `json:"region"`
	// Deployed is the deployed stack's status, or why nothing was compared.
	Deployed string `json:"deployed"`
	// Findings are every replacement the deploy makes or cannot make.
	Findings []cfnreplace.Finding `json:"findings,omitempty"`
	// Acknowledged is true when a blocking finding was let through with --allow-replacement.
	Acknowledged bool `json:"acknowledged,omitempty"`
	// Note says why the check could not run (never a refusal).
	Note string `json:"note,omitempty"`
}

// noResources are the stack statuses with no resources to replace: cdk deploy deletes and
// recreates a stack whose creation rolled back, and a stack made by a change set that never
// ran holds nothing.
var noResources = map[string]bool{"ROLLBACK_COMPLETE": true, "REVIEW_IN_PROGRESS": true}

// writePreflight writes preflight.json with pre and the replacement check of cfg's stack
// against next, the template about to be deployed. The check's refusal comes after the write,
// so the evidence says what it found.
func writePreflight(ctx context.Context, s *procedure.Run, j *job, cfg *drcontext.Config, next *assembly.Template, pre map[string]any) error {
	rec, refusal := checkReplacement(ctx, s, j, cfg, cfg.StackID(), next)
	pre["replacement"] = rec
	if err := s.Bundle.WriteJSON(evidence.FilePreflight, pre); err != nil {
		return err
	}
	return refusal
}

// checkReplacement compares the deployed template of cfg's stack (stack in cfg.Region) with
// next, the template about to be deployed. The error is the refusal (ExitUsage: nothing was
// deployed); everything else is in the record.
func checkReplacement(ctx context.Context, s *procedure.Run, j *job, cfg *drcontext.Config, stack string, next *assembly.Template) (replacementRecord, error) {
	d := j.d
	rec := replacementRecord{Stack: stack, Region: cfg.Region}
	note := func(why string) (replacementRecord, error) {
		rec.Note = "not checked: " + why + "; the deploy goes ahead (a createOnly change of a named resource would fail it and roll back: see docs/runbook.md)"
		s.Printf("    NOTE: replacement check of %s in %s %s", stack, cfg.Region, rec.Note)
		return rec, nil
	}
	if next == nil {
		return note("the template to deploy could not be read")
	}
	info, err := describe(ctx, d.AWS, stack, cfg.Region)
	switch {
	case err != nil:
		return note(err.Error())
	case !info.Exists:
		rec.Deployed = "absent: the stack does not exist yet, nothing to compare (the deploy creates every resource)"
		s.Printf("    replacement check: %s does not exist in %s yet: nothing to replace", stack, cfg.Region)
		return rec, nil
	case noResources[info.Status]:
		rec.Deployed = info.Status + ": the stack holds no resources, nothing to compare"
		s.Printf("    replacement check: %s is %s: nothing to replace", stack, info.Status)
		return rec, nil
	}
	rec.Deployed = info.Status
	prev, err := getTemplate(ctx, d.AWS, stack, cfg.Region)
	if err != nil {
		return note(err.Error())
	}
	rec.Findings = cfnreplace.Check(prev, next)
	block := cfnreplace.Blocking(rec.Findings)
	for _, f := range rec.Findings {
		if !f.Blocking {
			s.Printf("    replacement: %s", f)
		}
	}
	if len(block) == 0 {
		s.Printf("    replacement check: the deployed %s (%s) and the template to deploy: %d replacement(s), none that cannot succeed", stack, info.Status, len(rec.Findings))
		return rec, nil
	}
	lines := make([]string, 0, len(block))
	for _, f := range block {
		lines = append(lines, strings.ReplaceAll(f.String(), cfnreplace.EnvPlaceholder, cfg.EnvironmentName))
	}
	list := "  - " + strings.Join(lines, "\n  - ")
	if j.allowReplacement {
		rec.Acknowledged = true
		s.Printf("    REPLACEMENT ACKNOWLEDGED (--allow-replacement): the deploy of %s goes ahead although CloudFormation cannot make this update as the templates read:\n%s\n"+
			"    If the values differ once resolved, the update fails and rolls back.", stack, indent(list, "    "))
		return rec, nil
	}
	return rec, procedure.Usagef("the deploy of %s in %s cannot succeed: it changes a property that replaces a resource whose custom name stays the same, "+
		"and CloudFormation cannot replace it (the update would fail and roll back):\n%s\n"+
		"%s was not deployed. Take the way out above (or put back the value the stack was deployed with), then re-run. If the check is wrong (the values are equal once resolved: it compares templates), "+
		"re-run with --allow-replacement (make: ALLOW_REPLACEMENT=yes); the evidence records it.", stack, cfg.Region, list, stack)
}

// replacementTemplate is the template of stack in the assembly dir, nil when it cannot be read
// (checkReplacement then notes that it did not check).
func replacementTemplate(dir, stack string) *assembly.Template {
	st, err := assembly.ReadStack(dir, stack)
	if err != nil {
		return nil
	}
	return st.Template
}
