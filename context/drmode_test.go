package drcontext

import "testing"

// Every row of the drMode table is complete, and the table has exactly one primary row: the
// DR procedures ask for "the primary" and "the DR" mode by purpose.
func TestModesTable(t *testing.T) {
	primaries, roles := 0, map[string]bool{}
	for _, m := range Modes {
		if m.Name == "" || m.StackRole == "" || m.FailoverRole == "" || m.DefaultRegion == nil {
			t.Errorf("drMode row %+v: name, stack role, failover role and default region are required", m)
		}
		if roles[m.StackRole] {
			t.Errorf("drMode %s: stack role %q is taken: stack ids would collide", m.Name, m.StackRole)
		}
		roles[m.StackRole] = true
		if m.Primary {
			primaries++
		}
	}
	if primaries != 1 {
		t.Errorf("%d primary rows, want 1", primaries)
	}
	if DefaultDrMode != DrModeNone || PrimaryMode().Name != DrModeNone || DRMode().Name != DrModeStateless {
		t.Errorf("default %s, primary %s, DR %s", DefaultDrMode, PrimaryMode().Name, DRMode().Name)
	}
}
