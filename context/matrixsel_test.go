package drcontext

import (
	"strings"
	"testing"
)

func TestLoadMatrix(t *testing.T) {
	envs := fixture()
	for name, tc := range map[string]struct {
		in     Input
		matrix any
		want   []string // problems; nil: no error
		stacks []string
	}{
		"a drMode with matrix is refused": {Input{DrMode: "none"}, "all",
			[]string{`context "drMode": "none" is not accepted with matrix`}, nil},
		"a region with matrix is refused": {Input{Region: "us-east-1"}, "all",
			[]string{`context "region": "us-east-1" is not accepted with matrix`}, nil},
		"an environment with matrix is refused": {Input{Environment: "prod"}, "prod",
			[]string{`context "environment": "prod" is not accepted with matrix`}, nil},
		"an unknown environment lists all and the known ones": {Input{}, "nope",
			[]string{`context "matrix": "nope"`, "accepted: all, "}, nil},
		"an unknown key is refused as by Load": {Input{Received: map[string]any{"matrix": "all", "drmode": "none"}}, "all",
			[]string{`context "drmode"`}, nil},
		"a matrix that is not a string": {Input{}, true, []string{`context "matrix"`}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			tc.in.Environments = envs
			m, err := LoadMatrix(tc.in, tc.matrix)
			if err == nil {
				t.Fatalf("no error, %d configs", len(m.Cells))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if e, ok := err.(interface{ ExitCode() int }); !ok || e.ExitCode() != 2 {
				t.Errorf("error %T has no exit code 2", err)
			}
		})
	}
}

func TestLoadMatrixCellsAreOneByOneConfigs(t *testing.T) {
	envs := fixture()
	cells, err := Matrix(envs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMatrix(Input{Environments: envs, Received: map[string]any{KeyMatrix: MatrixAll}}, MatrixAll)
	if err != nil {
		t.Fatal(err)
	}
	all := m.Cells
	if len(all) != len(cells) || len(cells) < 2 {
		t.Fatalf("%d configs for %d cells", len(all), len(cells))
	}
	for i, c := range cells {
		alone, err := Load(Input{Environments: envs, Environment: c.Environment, DrMode: string(c.DrMode)})
		if err != nil {
			t.Fatal(err)
		}
		if all[i].StackID() != alone.StackID() || all[i].Region != c.Region {
			t.Errorf("cell %d: stack %s in %s, alone %s in %s", i, all[i].StackID(), all[i].Region, alone.StackID(), c.Region)
		}
	}
	// One evidence archive per environment, as `--context stack=evidence` loads it.
	seen := map[string]bool{}
	for _, c := range cells {
		seen[c.Environment] = true
	}
	if len(m.Evidence) != len(seen) {
		t.Errorf("%d evidence configs for %d environments", len(m.Evidence), len(seen))
	}
	for _, ev := range m.Evidence {
		alone, err := Load(Input{Environments: envs, Environment: ev.EnvironmentName, ModeFree: true})
		if err != nil {
			t.Fatal(err)
		}
		if !seen[ev.EnvironmentName] || ev.EvidenceStackID() != alone.EvidenceStackID() || ev.EvidenceRegion() != alone.EvidenceRegion() {
			t.Errorf("evidence of %s: %s in %s, alone %s in %s", ev.EnvironmentName, ev.EvidenceStackID(), ev.EvidenceRegion(), alone.EvidenceStackID(), alone.EvidenceRegion())
		}
		delete(seen, ev.EnvironmentName)
	}
	om, err := LoadMatrix(Input{Environments: envs}, cells[0].Environment)
	if err != nil {
		t.Fatal(err)
	}
	one := om.Cells
	if len(om.Evidence) != 1 || om.Evidence[0].EnvironmentName != cells[0].Environment {
		t.Errorf("matrix=%s: evidence configs %d, want that environment's one", cells[0].Environment, len(om.Evidence))
	}
	if len(one) != len(Modes) {
		t.Errorf("matrix=%s: %d configs, want one per drMode (%d)", cells[0].Environment, len(one), len(Modes))
	}
	for _, c := range one {
		if c.EnvironmentName != cells[0].Environment {
			t.Errorf("matrix=%s built %s", cells[0].Environment, c.EnvironmentName)
		}
	}
}
