package dr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/exec"
)

// The time to shift route prints comes from the model over the synthesized templates (here the
// golden ones, through a faked read-only matrix synth): seam test, no AWS.
func TestModelPredictionSeam(t *testing.T) {
	e := newEnv(t, synth)
	primary, err := (&job{Common: e.opts.Common}).load("", drcontext.PrimaryMode().Name, false)
	if err != nil {
		t.Fatal(err)
	}
	predict := ModelPrediction(e.opts.Common, e.opts.Kit, e.fake)
	to, err := predict(context.Background(), primary, "dr")
	if err != nil {
		t.Fatal(err)
	}
	back, err := predict(context.Background(), primary, "primary")
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]ShiftPrediction{"to DR": to, "back": back} {
		if p.Best <= 0 || p.Worst <= p.Best || p.Worst > 20*time.Minute || !strings.Contains(p.Basis, "Route 53 answers within") || !strings.Contains(p.Basis, "TTL") {
			t.Errorf("%s: %+v", name, p)
		}
	}
	calls := e.calls()
	if len(calls) != 2 || !strings.Contains(calls[0], "--context matrix=prod") || !strings.Contains(calls[0], "--no-validation") {
		t.Errorf("want one read-only matrix synth per prediction, got %q", calls)
	}
	t.Logf("to DR %s-%s; back %s-%s", to.Best, to.Worst, back.Best, back.Worst)
}

func TestModelPredictionFailsSoftOnAFailedSynth(t *testing.T) {
	e := newEnv(t, drexec.Step{Match: "bin/cdk synth", Result: drexec.Result{ExitCode: 1}})
	primary, err := (&job{Common: e.opts.Common}).load("", drcontext.PrimaryMode().Name, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ModelPrediction(e.opts.Common, e.opts.Kit, e.fake)(context.Background(), primary, "dr"); err == nil || !strings.Contains(err.Error(), "exited 1") {
		t.Fatalf("err %v, want the synth's exit", err)
	}
}
