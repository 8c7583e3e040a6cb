package cdktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/compliance/gate"
)

// Assembly reads the stacks the synth wrote to out, each with its facts from its target, as
// the gate's check reads them.
func Assembly(t testing.TB, out string, targets []gate.Gated) []*compliance.Stack {
	t.Helper()
	facts := map[string]compliance.Facts{}
	for _, tg := range targets {
		if tg.Stack != nil {
			facts[*tg.Stack.StackName()] = compliance.FactsOf(tg.Config)
		}
		if tg.DNS != nil {
			facts[*tg.DNS.StackName()] = compliance.FactsOf(tg.Config)
		}
	}
	ss, err := compliance.LoadAssembly(out, func(name string) compliance.Facts { return facts[name] })
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// NagClean fails the test unless the stack's cdk-nag reports in the assembly out show nothing
// but compliant rules and suppressions that carry a reason, and every suppression of
// gate.Suppressions that applies to the stack still matches a finding (one that hides nothing
// goes, with its README line).
func NagClean(t testing.TB, out string, tg gate.Gated) {
	t.Helper()
	stack := *tg.Stack.StackName()
	suppressed := map[string]bool{}
	for _, pack := range compliance.NagPacks {
		files, _ := filepath.Glob(filepath.Join(out, pack+"-*"+stack+"-NagReport.json"))
		if len(files) != 1 {
			t.Fatalf("want one %s nag report for %s in %s, got %v", pack, stack, out, files)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Lines []struct {
				RuleID          string `json:"ruleId"`
				ResourceID      string `json:"resourceId"`
				Compliance      string `json:"compliance"`
				ExceptionReason string `json:"exceptionReason"`
			} `json:"lines"`
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		for _, l := range rep.Lines {
			switch l.Compliance {
			case "Compliant", "N/A":
			case "Suppressed":
				suppressed[l.RuleID] = true
				if l.ExceptionReason == "" {
					t.Errorf("%s: %s suppressed on %s without a reason", stack, l.RuleID, l.ResourceID)
				}
			default:
				t.Errorf("%s: %s %s on %s", stack, l.RuleID, l.Compliance, l.ResourceID)
			}
		}
	}
	for _, sup := range gate.Suppressions {
		if !sup.AppliesTo(tg.Stack) {
			continue
		}
		for _, id := range sup.Rules {
			if !suppressed[id] {
				t.Errorf("%s: suppression of %s on %s matched no finding: remove it (and its README line)", stack, id, sup.On)
			}
		}
	}
}
