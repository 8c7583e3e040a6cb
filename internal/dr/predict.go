package dr

// The time to shift that drctl route prints: Route 53's evaluation as documented
// (internal/route53model), fed from the templates this checkout (or the kit) synthesizes, never
// from numbers typed here (docs/design.md, "Forced failover").

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
	drexec "github.com/valkey-dr/valkey-dr/internal/dr/exec"
	drkit "github.com/valkey-dr/valkey-dr/internal/dr/kit"
	"github.com/valkey-dr/valkey-dr/internal/route53model"
	"github.com/valkey-dr/valkey-dr/internal/runowner"
)

// ModelPrediction is the PredictFunc of drctl: the kit's matrix assembly when there is a kit,
// else a read-only synth of the environment (bounded; route calls it after the request is
// made, so it never delays the switch). c.CDKJSON is the run's cdk.json (nil: read from c.Repo).
func ModelPrediction(c Common, k *drkit.Kit, r drexec.Runner) PredictFunc {
	j := &job{Common: c, file: c.CDKJSON, kit: k}
	return func(ctx context.Context, primary *drcontext.Config, to string) (ShiftPrediction, error) {
		dr, err := j.loadDR("")
		if err != nil {
			return ShiftPrediction{}, err
		}
		dir, cleanup, err := predictionAssembly(ctx, j, r, primary)
		if err != nil {
			return ShiftPrediction{}, err
		}
		defer cleanup()
		return predictFrom(dir, primary, dr, to)
	}
}

// predictionAssembly is a cloud assembly holding the environment's primary, switch and DR DNS
// stacks.
func predictionAssembly(ctx context.Context, j *job, r drexec.Runner, primary *drcontext.Config) (string, func(), error) {
	if j.kit != nil {
		st, err := kitStack(j.kit, primary)
		if err != nil {
			return "", nil, err
		}
		return j.kit.Path(st.Assembly), func() {}, nil
	}
	tmp, err := runowner.TempDir("", "valkey-dr-predict-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	dir := filepath.Join(tmp, "cdk.out")
	res, err := r.Run(ctx, drexec.CDK{Repo: j.Repo}.SynthMatrixReadOnly(primary.EnvironmentName, dir))
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("cdk synth of environment %s exited %d", primary.EnvironmentName, res.ExitCode)
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return dir, cleanup, nil
}

// predictFrom runs the model on the assembly's templates.
func predictFrom(dir string, primary, dr *drcontext.Config, to string) (ShiftPrediction, error) {
	read := func(stack string) (*assembly.Template, error) {
		st, err := assembly.ReadStack(dir, stack)
		if err != nil {
			return nil, err
		}
		return st.Template, nil
	}
	p, err := read(primary.StackID())
	if err != nil {
		return ShiftPrediction{}, err
	}
	sw, err := read(primary.SwitchStackID())
	if err != nil {
		return ShiftPrediction{}, err
	}
	secondary := dr.StackID()
	if dr.Mode().OnTheNight {
		secondary = dr.DNSStackID()
	}
	sec, err := read(secondary)
	if err != nil {
		return ShiftPrediction{}, err
	}
	env, err := route53model.FromTemplates(route53model.Stacks{Primary: p, PrimaryRegion: primary.Region, Switch: sw,
		SwitchRegion: primary.SwitchRegion(), Secondary: sec})
	if err != nil {
		return ShiftPrediction{}, err
	}
	shift := env.ShiftToDR
	if to != "dr" {
		shift = env.ShiftBack
	}
	s, err := shift()
	if err != nil {
		return ShiftPrediction{}, err
	}
	return ShiftPrediction{Best: s.Best, Worst: s.WorstClient,
		Basis: fmt.Sprintf("Route 53 answers within %s-%s, resolvers follow within the TTL; %s", s.Best, s.Worst, s.Basis)}, nil
}
