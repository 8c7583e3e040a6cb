package gate_test

import (
	"testing"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/compliance/gate"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// TestEvidenceStacksPassTheGate synthesizes the evidence archive stack of every environment
// with the gate: cdk-nag clean except the justified suppressions, each of which must still
// match a finding.
func TestEvidenceStacksPassTheGate(t *testing.T) {
	for _, env := range []string{"example", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			a, out := app(t)
			cfg := config(t, env, drcontext.DrModeNone, nil)
			st := stacks.NewEvidenceStack(a, cfg)
			gate.ApplyAll(a, nil, []gate.GatedEvidence{{Stack: st, Config: cfg}})
			if msg := synth(t, a); msg != "" {
				t.Fatalf("synth failed:\n%s", msg)
			}
			stack := *st.StackName()
			suppressed := map[string]int{}
			for _, pack := range compliance.NagPacks {
				for _, l := range nagReport(t, out, pack, stack) {
					switch l.Compliance {
					case "Compliant", "N/A":
					case "Suppressed":
						suppressed[l.RuleID]++
					default:
						t.Errorf("%s: %s %s on %s", stack, l.RuleID, l.Compliance, l.ResourceID)
					}
				}
			}
			for _, sup := range gate.EvidenceSuppressions {
				for _, id := range sup.Rules {
					if suppressed[id] == 0 {
						t.Errorf("%s: suppression of %s on %s matched no finding: remove it", stack, id, sup.On)
					}
				}
			}
		})
	}
}
