package gate

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/compliance"
)

// PluginVersion is reported to CDK with every run; bump it when a rule changes meaning.
const PluginVersion = "1.1.0" // 1.1.0: VDR-014 and VDR-015

// plugin runs the rules inside `cdk synth`. CDK calls Validate once per synth, after every
// template and manifest.json are written, with the paths of all the app's stacks: a finding
// fails the synth and is printed in CDK's validation report.
type plugin struct {
	// facts by stack construct path; a stack missing here is a VDR-000 finding.
	facts map[string]compliance.Facts
}

// A pointer: jsii passes a Go value that implements a jsii interface by reference only.
var _ awscdk.IPolicyValidationPlugin = (*plugin)(nil)

// Name is shown after every violation in CDK's report.
func (p *plugin) Name() *string { return jsii.String(compliance.PluginName) }

// Version is recorded in the report.
func (p *plugin) Version() *string { return jsii.String(PluginVersion) }

// RuleIds lists the rule ids.
func (p *plugin) RuleIds() *[]*string {
	ids := make([]*string, len(compliance.Rules))
	for i, r := range compliance.Rules {
		ids[i] = jsii.String(r.ID)
	}
	return &ids
}

// Validate reads the synthesized templates and applies every rule. It never panics: an
// unreadable template is a finding, so a broken gate fails closed.
func (p *plugin) Validate(ctx awscdk.IPolicyValidationContext) *awscdk.PolicyValidationPluginReport {
	var stacks []*compliance.Stack
	var findings []compliance.Finding
	for _, st := range *ctx.StackTemplates() {
		name, path := *st.StackConstructPath, *st.TemplatePath
		f, ok := p.facts[name]
		if !ok {
			findings = append(findings, compliance.Finding{RuleID: compliance.RuleStackRegistered, Stack: name, Path: name, TemplatePath: path,
				Problem: fmt.Sprintf("stack %s was not passed to gate.Apply, so its facts (environment, production, drMode) are unknown", name)})
			continue
		}
		s, err := compliance.LoadStack(name, path, f)
		if err != nil {
			findings = append(findings, compliance.Finding{RuleID: compliance.RuleStackRegistered, Stack: name, Path: name, TemplatePath: path,
				Problem: fmt.Sprintf("the synthesized stack cannot be read: %v", err)})
			continue
		}
		stacks = append(stacks, s)
	}
	findings = append(findings, compliance.Check(stacks)...)
	return report(findings)
}

// report turns findings into CDK's report: one violation per finding, so that each message
// carries its own value ("Engine is \"redis\""), with the rule's fix as the suggested fix.
func report(findings []compliance.Finding) *awscdk.PolicyValidationPluginReport {
	violations := make([]*awscdk.PolicyViolation, 0, len(findings))
	for _, f := range findings {
		r := f.Rule()
		res := &awscdk.PolicyViolatingResource{TemplatePath: jsii.String(f.TemplatePath), Locations: &[]*string{}}
		if f.Location != "" {
			res.Locations = &[]*string{jsii.String(f.Location)}
		}
		if f.LogicalID != "" {
			// CDK turns the logical id into the construct path itself.
			res.ResourceLogicalId = jsii.String(f.LogicalID)
		} else {
			res.ConstructPath = jsii.String(f.Path)
		}
		violations = append(violations, &awscdk.PolicyViolation{
			RuleName:           jsii.String(r.ID),
			Description:        jsii.String(fmt.Sprintf("%s %s: %s", r.ID, r.Title, f.Problem)),
			Fix:                jsii.String(r.Fix),
			Severity:           jsii.String("error"),
			ViolatingResources: &[]*awscdk.PolicyViolatingResource{res},
		})
	}
	return &awscdk.PolicyValidationPluginReport{
		Success:       jsii.Bool(len(violations) == 0),
		Violations:    &violations,
		PluginVersion: jsii.String(PluginVersion),
	}
}
