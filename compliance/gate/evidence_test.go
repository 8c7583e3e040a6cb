package gate_test

import (
	"testing"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/compliance/gate"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// TestEvidenceStacksPassTheGate synthesizes the evidence archive stack of every environment
// with the gate, all in one App as the matrix synth builds them: cdk-nag clean except the
// justified suppressions, each of which must still match a finding in every stack.
func TestEvidenceStacksPassTheGate(t *testing.T) {
	a, out := app(t)
	var archives []gate.GatedEvidence
	for _, env := range []string{"example", "staging", "prod"} {
		cfg := config(t, env, drcontext.DrModeNone, nil)
		archives = append(archives, gate.GatedEvidence{Stack: stacks.NewEvidenceStack(a, cfg), Config: cfg})
	}
	gate.ApplyAll(a, nil, archives)
	if msg := synth(t, a); msg != "" {
		t.Fatalf("synth failed:\n%s", msg)
	}
	for _, ar := range archives {
		stack := *ar.Stack.StackName()
		t.Run(ar.Config.EnvironmentName, func(t *testing.T) {
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
