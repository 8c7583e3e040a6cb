package gate_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// TestOurAlarmTopicsLetCloudWatchPublish builds every stack of cdk.json the way main.go does
// (each cache stack with its health canary, the forced-failover switch with each primary),
// synthesizes them and applies VDR-014 to the templates: no finding, and the counts prove that
// it walked alarms to topics, topic policies and keys in every stack rather than passing on
// nothing. The synth runs without the gate, so that this test says whether the alarm topics
// are right whatever the other rules say of the same stacks.
func TestOurAlarmTopicsLetCloudWatchPublish(t *testing.T) {
	// The canary's binary, in this package's own build directory: the stacks tests build the
	// same binary into theirs, and two test binaries must not write one file.
	bin, err := repotest.Build("gate", filepath.Join("canary", "bootstrap"), "./validate/canary",
		[]string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}, cdktest.CanaryBuildArgs[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	a, out := app(t)
	cells, err := drcontext.Matrix(repotest.CDKContext(t)[drcontext.KeyEnvironments])
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]compliance.Facts{}
	for _, c := range cells {
		cfg := config(t, c.Environment, c.DrMode, nil)
		st := stacks.NewCacheStack(a, cfg, stacks.WithCanary(filepath.Dir(bin)))
		facts[*st.StackName()] = compliance.FactsOf(cfg)
		if sw := stacks.AttachSwitch(a, cfg, st); sw != nil {
			facts[*sw.StackName()] = compliance.FactsOf(cfg)
		}
	}
	if msg := synth(t, a); msg != "" {
		t.Fatalf("synth failed:\n%s", msg)
	}
	ss, err := compliance.LoadAssembly(out, func(name string) compliance.Facts { return facts[name] })
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != len(facts) {
		t.Fatalf("want %d stacks, got %d", len(facts), len(ss))
	}
	var total compliance.NotifyCoverage
	switches := 0
	for _, s := range ss {
		fs, cov := compliance.CheckAlarmTopics(s)
		t.Logf("%s: %s", s.Name, cov)
		for _, f := range fs {
			t.Errorf("finding on our stack:\n%s", f)
		}
		// Every stack of ours has alarms and notifies a topic it creates (cdk.json imports no
		// alarm topic); an action the rule could not follow would pass unchecked.
		if cov.Alarms == 0 || cov.Topics == 0 || cov.Policies < cov.Topics || cov.Keys == 0 {
			t.Errorf("%s: VDR-014 checked too little: %s", s.Name, cov)
		}
		if cov.TopicActions != cov.Actions {
			t.Errorf("%s: %d of %d alarm actions were not followed to a topic of the template: %s", s.Name, cov.Actions-cov.TopicActions, cov.Actions, cov)
		}
		if strings.HasSuffix(s.Name, "-switch") {
			switches++
		}
		total.Add(cov)
	}
	if switches == 0 {
		t.Error("no switch stack was checked")
	}
	t.Logf("all %d stacks: %s", len(ss), total)
}
