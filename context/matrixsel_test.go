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
		"a region with matrix=all is refused": {Input{Region: "us-east-1"}, "all",
			[]string{`context "region": "us-east-1" is not accepted with matrix=all`, "--context matrix=<environment> --context region=<region>"}, nil},
		"a DR region the environment does not define": {Input{Region: "eu-west-1"}, "prod",
			[]string{`context "region": "eu-west-1"`}, nil},
		"a DR region that is the primary's needs the drill flag, which matrix refuses": {Input{Region: "us-east-1"}, "prod",
			[]string{`context "region": "us-east-1"`}, nil},
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

// TestLoadMatrixRegionMovesTheDRCellOnly: matrix=<environment> with a region (dr-activate into
// a region that is not the drMode's default) builds the DR cell as a one-by-one DR synth with
// that region would, and every other stack as without it.
func TestLoadMatrixRegionMovesTheDRCellOnly(t *testing.T) {
	envs := fixture()
	third := region("vpc-4a1b2c3d", "subnet-4a1b2c3d", "subnet-4a1b2c3e", "sg-4a1b2c3d")
	third["kmsKeyArn"] = "arn:aws:kms:us-west-1:222222222222:key/44444444-4444-4444-4444-444444444444"
	envs["prod"].(map[string]any)["regions"].(map[string]any)["us-west-1"] = third
	plain, err := LoadMatrix(Input{Environments: envs}, "prod")
	if err != nil {
		t.Fatal(err)
	}
	moved, err := LoadMatrix(Input{Environments: envs, Region: "us-west-1"}, "prod")
	if err != nil {
		t.Fatal(err)
	}
	alone, err := Load(Input{Environments: envs, Environment: "prod", DrMode: string(DRMode().Name), Region: "us-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(moved.Cells) != len(plain.Cells) {
		t.Fatalf("%d cells with the region, %d without", len(moved.Cells), len(plain.Cells))
	}
	dr := 0
	for i, c := range moved.Cells {
		if c.DrMode == DRMode().Name {
			dr++
			if c.StackID() != alone.StackID() || c.Region != "us-west-1" || c.Net.KmsKeyArn != alone.Net.KmsKeyArn {
				t.Errorf("DR cell: %s in %s (key %s), one-by-one: %s in %s (key %s)", c.StackID(), c.Region, c.Net.KmsKeyArn, alone.StackID(), alone.Region, alone.Net.KmsKeyArn)
			}
			continue
		}
		if c.StackID() != plain.Cells[i].StackID() || c.Region != plain.Cells[i].Region {
			t.Errorf("cell %s moved to %s: only the DR cell takes the region", plain.Cells[i].StackID(), c.StackID())
		}
	}
	if dr != 1 || moved.Evidence[0].EvidenceStackID() != plain.Evidence[0].EvidenceStackID() {
		t.Errorf("%d DR cells; evidence %s vs %s", dr, moved.Evidence[0].EvidenceStackID(), plain.Evidence[0].EvidenceStackID())
	}
}
