package drcontext

import (
	"slices"
	"strings"
	"testing"
)

// The warm standby is a row of the table like the others: a DR row (SECONDARY, DR region),
// deployed in peacetime (OnTheNight false: it owns its canary role and records), no snapshots,
// no same-region drill, no held routing; its stack id and cache name never meet the stateless
// DR stack's, which may share its region.
func TestStandbyRow(t *testing.T) {
	m, ok := ModeOf(DrModeStandby)
	if !ok {
		t.Fatal("no standby row")
	}
	dr, _ := ModeOf(DrModeStateless)
	if m.Primary || m.SnapshotsAllowed || m.CanHoldRouting || m.CanDrillSameRegion || m.OnTheNight || m.FailoverRole != "SECONDARY" {
		t.Errorf("standby row %+v", m)
	}
	if m.StackRole == dr.StackRole || m.NameSuffix == dr.NameSuffix || m.NameSuffix == "" {
		t.Errorf("standby (%q, %q) and stateless (%q, %q) must not share a stack role or a cache name", m.StackRole, m.NameSuffix, dr.StackRole, dr.NameSuffix)
	}
	e := fixtureEnv(t, nil)
	if got := m.DefaultRegion(e); got != e.DrRegion {
		t.Errorf("standby default region %s, want the drRegion %s", got, e.DrRegion)
	}
	if NightMode().Name != DrModeStateless || DRMode().Name != DrModeStateless {
		t.Errorf("the night's row %s, the default posture %s: both stateless", NightMode().Name, DRMode().Name)
	}
	if got := modeNames(Postures()); got != "stateless, standby" {
		t.Errorf("postures %q", got)
	}
}

func fixtureEnv(t *testing.T, ms []mutation) *Environment {
	t.Helper()
	envs, err := Environments(build(ms...))
	if err != nil {
		t.Fatal(err)
	}
	e := envs["example"]
	return &e
}

// drPosture: absent is the runbook's stateless; standby names the warm standby; anything else
// is refused with the key, the value and the accepted values.
func TestPostureValidation(t *testing.T) {
	for name, tc := range map[string]struct {
		value  any
		wanted string
	}{
		"an unknown value":   {"warm", `context "environments.example.drPosture": "warm" is not accepted; accepted: stateless, standby (drPosture names how the environment recovers in its DR region (docs/design.md, "Warm standby"); leave it out for stateless)`},
		"the primary's mode": {"none", `context "environments.example.drPosture": "none" is the primary region's drMode, not a DR posture; accepted: stateless, standby (drPosture names how the environment recovers in its DR region (docs/design.md, "Warm standby"); leave it out for stateless)`},
		"the wrong case":     {"Standby", `context "environments.example.drPosture": "Standby" is not accepted; accepted: stateless, standby (did you mean "standby"? values are case-sensitive)`},
		"a number":           {1, `context "environments.example.drPosture": "1" is a number; accepted: a string`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(Input{Environments: build(set("example.drPosture", tc.value)), DrMode: "standby"})
			if err == nil {
				t.Fatal("accepted")
			}
			if got := lines(t, err); !slices.Contains(got, tc.wanted) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), tc.wanted)
			}
		})
	}
	for _, v := range []string{"stateless", "standby"} {
		if _, err := Load(Input{Environments: build(set("example.drPosture", v)), DrMode: "standby"}); err != nil {
			t.Errorf("drPosture %s: %v", v, err)
		}
	}
}

// Exactly one DR mode owns the environment's DR names (the regional record of the DR region,
// the SECONDARY record, the SSM prefix): the posture. The other can be synthesized beside it
// (make check does) and owns none of them.
func TestPostureOwnsTheSharedNames(t *testing.T) {
	load := func(posture string, mode DrMode) *Config {
		t.Helper()
		var ms []mutation
		if posture != "" {
			ms = append(ms, set("example.drPosture", posture))
		}
		cfg, err := Load(Input{Environments: build(ms...), DrMode: string(mode)})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	type names struct {
		owns     bool
		regional string
		ssm      string
	}
	const zone = "cache.example.internal"
	for _, tc := range []struct {
		posture string
		mode    DrMode
		want    names
	}{
		{"", DrModeNone, names{true, "sessions.us-east-1." + zone, "/valkey-dr/example"}},
		{"", DrModeStateless, names{true, "sessions.us-west-2." + zone, "/valkey-dr/example"}},
		{"", DrModeStandby, names{false, "sessions.standby.us-west-2." + zone, "/valkey-dr/example/standby"}},
		{"standby", DrModeNone, names{true, "sessions.us-east-1." + zone, "/valkey-dr/example"}},
		{"standby", DrModeStandby, names{true, "sessions.us-west-2." + zone, "/valkey-dr/example"}},
		{"standby", DrModeStateless, names{false, "sessions.dr.us-west-2." + zone, "/valkey-dr/example/dr"}},
	} {
		c := load(tc.posture, tc.mode)
		got := names{c.OwnsServiceRecord(), c.RegionalDNSName(), c.SSMPrefix()}
		if got != tc.want {
			t.Errorf("drPosture %q, drMode %s: %+v, want %+v", tc.posture, tc.mode, got, tc.want)
		}
		// A stack that is not the posture says so at synth, with what it owns and the way out.
		note := c.PostureNote()
		if tc.want.owns != (note == "") && tc.mode != DrModeNone {
			t.Errorf("drPosture %q, drMode %s: note %q", tc.posture, tc.mode, note)
		}
		if note != "" {
			for _, part := range []string{"is not the DR cache applications fail over to", tc.want.regional, tc.want.ssm,
				`environments.example.drPosture to "` + string(tc.mode) + `"`} {
				if !strings.Contains(note, part) {
					t.Errorf("drPosture %q, drMode %s: the note lacks %q: %s", tc.posture, tc.mode, part, note)
				}
			}
		}
	}
	sb := load("standby", DrModeStandby)
	if sb.StackID() != "ValkeyDr-example-us-west-2-standby" || sb.CacheName() != "sessions-example-standby" || sb.FailoverRole() != "SECONDARY" || sb.HasSwitchStack() {
		t.Errorf("standby: stack %s, cache %s, role %s, switch %v", sb.StackID(), sb.CacheName(), sb.FailoverRole(), sb.HasSwitchStack())
	}
	// The switch stack's DR canary role is the night's stack's, whatever the posture.
	if sb.DRCacheName() != "sessions-example-dr" || !strings.HasSuffix(sb.DRStackIDPattern(), "-*-dr") {
		t.Errorf("the switch stack's DR names follow the night's row: %s, %s", sb.DRCacheName(), sb.DRStackIDPattern())
	}
}

// The DR procedures take the drMode from the posture (Input.DRPosture); a drMode given wins.
func TestLoadTakesThePosture(t *testing.T) {
	for posture, want := range map[string]DrMode{"": DrModeStateless, "standby": DrModeStandby} {
		var ms []mutation
		if posture != "" {
			ms = append(ms, set("example.drPosture", posture))
		}
		cfg, err := Load(Input{Environments: build(ms...), DRPosture: true})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DrMode != want || cfg.Region != "us-west-2" {
			t.Errorf("posture %q: drMode %s in %s, want %s in the drRegion", posture, cfg.DrMode, cfg.Region, want)
		}
	}
	cfg, err := Load(Input{Environments: build(set("example.drPosture", "standby")), DRPosture: true, DrMode: "none"})
	if err != nil || cfg.DrMode != DrModeNone {
		t.Errorf("a given drMode: %v %v", cfg, err)
	}
	// A standby refuses what its row refuses, naming the mode.
	_, err = Load(Input{Environments: build(), DrMode: "standby", HoldPrimaryRouting: "true", AllowSameRegionDrill: "true", Region: "us-east-1"})
	got := strings.Join(lines(t, err), "\n")
	for _, w := range []string{`"holdPrimaryRouting": "true" is not accepted with drMode=standby`, `"allowSameRegionDrill": "true" is not accepted with drMode=standby`, "a same-region drill is a drMode=stateless deploy"} {
		if !strings.Contains(got, w) {
			t.Errorf("problems lack %q:\n%s", w, got)
		}
	}
	_, err = Load(Input{Environments: build(), DrMode: "standby", Region: "us-east-1"})
	if got := strings.Join(lines(t, err), "\n"); !strings.Contains(got, "is the primaryRegion") || strings.Contains(got, "allowSameRegionDrill") {
		t.Errorf("a standby in the primary region: %s", got)
	}
}
