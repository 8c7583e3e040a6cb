// Package gate puts the compliance gate on a CDK app: the cdk-nag AwsSolutions and HIPAA
// Security packs, the nag suppressions (each with its reason, all in suppressions.go), and the
// rules of package compliance as a CDK validation plugin, so that a violation fails `cdk synth`.
package gate

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// Gated is one stack for the gate and the Config it was built from (the rules need to know
// whether it is production and which drMode it serves).
type Gated struct {
	Stack  *stacks.CacheStack
	Config *drcontext.Config
	// Switch is the forced-failover switch stack built with a primary (stacks.AttachSwitch);
	// nil for DR stacks. It gets the same facts as Stack and the cdk-nag packs like every stack.
	Switch *stacks.SwitchStack
	// DNS is the after-validation Route 53 stack of a stack made on the night
	// (stacks.NewDNSStack); with --context stack=dns it is the only stack and Stack is nil.
	DNS *stacks.DNSStack
}

// Apply puts the gate on an app of cache stacks: ApplyAll without evidence stacks.
func Apply(app awscdk.App, targets ...Gated) { ApplyAll(app, targets, nil) }

// ApplyAll puts the gate on app: the cdk-nag packs on every stack (their errors fail the synth;
// their reports land in cdk.out as <pack>-<stack>-NagReport.{json,csv}), our suppressions on
// the targets and the evidence stacks, and our rules as a validation plugin. Call it once, after
// every stack is built and before app.Synth (a second call would run every pack twice); a stack
// that is neither a target nor an evidence stack fails the synth (VDR-000).
func ApplyAll(app awscdk.App, targets []Gated, evidence []GatedEvidence) {
	facts := make(map[string]compliance.Facts, len(targets)+len(evidence))
	for _, t := range targets {
		if t.DNS != nil {
			facts[*t.DNS.Node().Path()] = compliance.FactsOf(t.Config)
		}
		if t.Stack == nil {
			continue
		}
		facts[*t.Stack.Node().Path()] = compliance.FactsOf(t.Config)
		if t.Switch != nil {
			facts[*t.Switch.Node().Path()] = compliance.FactsOf(t.Config)
			suppressSwitch(t.Switch)
		}
		suppress(t.Stack)
	}
	for _, e := range evidence {
		facts[*e.Stack.Node().Path()] = suppressEvidence(e.Stack, e.Config)
	}
	applyPacks(app, facts)
}

// applyPacks puts the cdk-nag packs and our rules plugin on app (facts by stack path).
func applyPacks(app awscdk.App, facts map[string]compliance.Facts) {
	props := func() *cdknag.NagPackProps {
		return &cdknag.NagPackProps{
			// Verbose: every finding carries the rule's explanation, not just its id.
			Verbose:       jsii.Bool(true),
			Reports:       jsii.Bool(true),
			ReportFormats: &[]cdknag.NagReportFormat{cdknag.NagReportFormat_JSON, cdknag.NagReportFormat_CSV},
		}
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(props()), nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewHIPAASecurityChecks(props()), nil)
	awscdk.Validations_Of(app).AddPlugins(&plugin{facts: facts})
}

// Reused is a stack of another app that uses our constructs, for ApplyToStacks: its facts
// (environment, production, drMode) and the session caches it holds.
type Reused struct {
	Stack  awscdk.Stack
	Facts  compliance.Facts
	Caches []*sessioncache.SessionCache
}

// ApplyToStacks puts the same gate on another app's stacks: the cdk-nag packs (AwsSolutions,
// HIPAA Security), our suppressions of the session caches' constructs (each with its reason),
// and our rules (VDR-xxx) as the validation plugin, so a violation fails that app's synth.
// Every stack of the app must be listed (VDR-000). Call it once, after every stack is built.
func ApplyToStacks(app awscdk.App, stacks ...Reused) {
	facts := make(map[string]compliance.Facts, len(stacks))
	for _, r := range stacks {
		facts[*r.Stack.Node().Path()] = r.Facts
		for _, c := range r.Caches {
			suppressCache(c)
		}
	}
	applyPacks(app, facts)
}
