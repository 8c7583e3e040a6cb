package drcontext

import (
	"fmt"
	"sort"
)

// Many stacks in one synth (issue 14 item 1): `--context matrix=all` builds every stack of
// cdk.json in one process and one `cdk synth`: for each environment its DR stack, its primary
// (with the primary's switch stack) and its evidence archive; `--context matrix=<environment>`
// the stacks of that environment, and with `--context region=<region>` its DR stack in that
// region (dr-activate into a region that is not the drMode's default: still one synth). Each cell
// gets the Config one-by-one synthesis would (Load with the cell's environment and drMode, the
// default region or the region given for the DR cell; the evidence archive as
// `--context stack=evidence` loads it), so stack ids and templates are the same; the compliance
// gate (make check) and the DR procedures use it to pay the CLI's and jsii's fixed costs once.

// KeyMatrix is the context key that selects a matrix synth: MatrixAll or an environment name.
// Absent (the default) means one environment + drMode, as given by the other keys.
const KeyMatrix = "matrix"

// MatrixAll is the value of KeyMatrix that selects every environment of cdk.json.
const MatrixAll = "all"

// matrixExclusive are the keys a matrix synth refuses: each cell takes its environment and
// drMode from the matrix and its region from the drMode's default, exactly like make check's
// one-by-one synth; a failback or same-region-drill flag would apply to one cell only. A region
// is accepted with one environment: it moves that environment's DR cell (LoadMatrix).
var matrixExclusive = []string{KeyEnvironment, KeyDrMode, KeyHoldPrimaryRouting, KeyAllowSameRegionDrill}

// LoadMatrix validates a matrix synth: matrix is the raw value of KeyMatrix; in carries the
// environments, the received keys (unknown ones are refused as by Load) and nothing else. It
// returns one Config per cell, in Matrix order, and one per environment for its evidence
// archive, or an *Error listing every problem.
func LoadMatrix(in Input, matrix any) (*MatrixConfigs, error) {
	var ps problems
	sel, _, ok := flagString(&ps, KeyMatrix, matrix, fmt.Sprintf("%s or the name of an environment in cdk.json", MatrixAll))
	given := map[string]any{KeyEnvironment: in.Environment, KeyRegion: in.Region, KeyDrMode: in.DrMode,
		KeyHoldPrimaryRouting: in.HoldPrimaryRouting, KeyAllowSameRegionDrill: in.AllowSameRegionDrill}
	for _, k := range matrixExclusive {
		if v := deref(given[k]); v != nil {
			ps.add(Problem{Key: k, Value: jsonValue(v), reason: "is not accepted with " + KeyMatrix,
				Hint: "a matrix synth builds each environment x drMode in its default region, as make check does: leave " + k + " out, or leave " + KeyMatrix + " out"})
		}
	}
	region := deref(in.Region)
	if region != nil && ok && sel == MatrixAll {
		ps.add(Problem{Key: KeyRegion, Value: jsonValue(region), reason: "is not accepted with " + KeyMatrix + "=" + MatrixAll,
			Hint: "a region names where ONE environment's DR stack goes: --context " + KeyMatrix + "=<environment> --context " + KeyRegion + "=<region>, or leave " + KeyRegion + " out"})
	}
	if in.Received != nil {
		ps = append(ps, UnknownKeys(in.Received)...)
	}
	if len(ps) > 0 || !ok {
		return nil, newError(ps)
	}
	cells, err := Matrix(in.Environments)
	if err != nil {
		return nil, err
	}
	if sel != MatrixAll {
		var keep []Cell
		known := map[string]bool{}
		for _, c := range cells {
			known[c.Environment] = true
			if c.Environment == sel {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			envs := keysOf(known)
			sort.Strings(envs)
			p := unknownEnvironment(sel, true, envs)
			p.Key = KeyMatrix
			p.Accepted = MatrixAll + ", " + p.Accepted
			return nil, newError([]Problem{p})
		}
		cells = keep
	}
	m := &MatrixConfigs{Cells: make([]*Config, 0, len(cells))}
	postures := map[string]DrMode{}
	if region != nil {
		envs, err := Environments(in.Environments)
		if err != nil {
			return nil, err
		}
		for name, e := range envs {
			postures[name] = e.Posture().Name
		}
	}
	for _, c := range cells {
		cell := Input{Environments: in.Environments, Environment: c.Environment, DrMode: string(c.DrMode)}
		if region != nil && c.DrMode == postures[c.Environment] {
			// The posture's DR stack (what an activation deploys) in that region: validated as
			// a one-by-one DR synth's. The other DR mode stays in its default region.
			cell.Region = in.Region
		}
		cfg, err := Load(cell)
		if err != nil && cell.Region != nil {
			return nil, err // names the region given, as the one-by-one synth would
		}
		if err != nil {
			return nil, fmt.Errorf("matrix cell environment=%s drMode=%s: %w", c.Environment, c.DrMode, err)
		}
		m.Cells = append(m.Cells, cfg)
		if len(m.Evidence) > 0 && m.Evidence[len(m.Evidence)-1].EnvironmentName == c.Environment {
			continue // Matrix lists an environment's cells together
		}
		ev, err := Load(Input{Environments: in.Environments, Environment: c.Environment, ModeFree: true})
		if err != nil {
			return nil, fmt.Errorf("matrix environment=%s %s=%s: %w", c.Environment, KeyStack, StackEvidence, err)
		}
		m.Evidence = append(m.Evidence, ev)
	}
	return m, nil
}

// MatrixConfigs are the Configs of a matrix synth.
type MatrixConfigs struct {
	// Cells holds one Config per environment x drMode, in Matrix order.
	Cells []*Config
	// Evidence holds one Config per environment, for its evidence archive stack.
	Evidence []*Config
}
