package drcontext

import (
	"strings"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Mode is one row of the drMode table (docs/design.md, "drMode and the stacks"): everything a decision about a
// drMode reads. A mode decision reads a field of its row, never compares the mode's name; a
// new drMode is a new row (and its tests), not a hunt for `== "stateless"`.
type Mode struct {
	// Name is the --context drMode value.
	Name DrMode
	// StackRole ends the stack id (ValkeyDr-<env>-<region>-<role>).
	StackRole string
	// NameSuffix is appended to the cache name (a DR cache can share a region with the
	// primary in a drill).
	NameSuffix string
	// FailoverRole is the Route 53 failover role of the stack's service record.
	FailoverRole string
	// Primary: the mode serves the primary region (the region must be primaryRegion, the
	// PRIMARY record carries the health check, a production cache is retained on delete).
	Primary bool
	// SnapshotsAllowed: the environment's snapshotRetentionLimit applies; otherwise the stack
	// states 0 and a snapshot setting is a finding.
	SnapshotsAllowed bool
	// CanHoldRouting: holdPrimaryRouting=true is accepted (failback).
	CanHoldRouting bool
	// CanDrillSameRegion: allowSameRegionDrill=true is accepted.
	CanDrillSameRegion bool
	// OnTheNight: the mode's stack is created during an incident, so it creates no resource
	// whose control plane is global (IAM, Route 53: in us-east-1, which may be the failed
	// region; docs/design.md, "Static stability"). Its canary runs under a role the switch
	// stack made in peacetime, and its Route 53 records are a separate stack
	// (Config.DNSStackID), deployed after validation, best effort.
	OnTheNight bool
	// DefaultRegion is the environment's region for the mode when none is given.
	DefaultRegion func(*Environment) string
}

// Modes is the drMode table; the first row is the default.
var Modes = []Mode{
	{Name: DrModeNone, StackRole: "primary", NameSuffix: "", FailoverRole: contract.RolePrimary,
		Primary: true, SnapshotsAllowed: true, CanHoldRouting: true,
		DefaultRegion: func(e *Environment) string { return e.PrimaryRegion }},
	{Name: DrModeStateless, StackRole: "dr", NameSuffix: DRNameSuffix, FailoverRole: contract.RoleSecondary,
		CanDrillSameRegion: true, OnTheNight: true,
		DefaultRegion: func(e *Environment) string { return e.DrRegion }},
	// The warm standby (docs/design.md, "Warm standby"): the DR cache deployed, empty, in
	// peacetime, so activation is validation and the data-plane switch. Not on the night: its
	// stack owns its canary role and its Route 53 records, like the primary's.
	{Name: DrModeStandby, StackRole: "standby", NameSuffix: StandbyNameSuffix, FailoverRole: contract.RoleSecondary,
		DefaultRegion: func(e *Environment) string { return e.DrRegion }},
}

// DefaultDrMode is the mode when --context drMode is absent.
var DefaultDrMode = Modes[0].Name

// ModeOf returns the row of a drMode; ok is false for a value that is not in the table.
func ModeOf(m DrMode) (Mode, bool) {
	for _, r := range Modes {
		if r.Name == m {
			return r, true
		}
	}
	return Mode{}, false
}

// PrimaryMode is the row the DR procedures ask for by purpose: the primary region's stack
// (failback, the routing "before"). The DR side is the environment's choice:
// Environment.Posture.
func PrimaryMode() Mode { return firstMode(func(m Mode) bool { return m.Primary }) }

// DRMode is the default DR posture: the first DR row (stateless, the runbook's), which an
// environment without drPosture has (Environment.Posture).
func DRMode() Mode { return firstMode(func(m Mode) bool { return !m.Primary }) }

// NightMode is the row whose stack is made on the night (Mode.OnTheNight): the always-on
// switch stack makes its canary role and IAM-auth policy in peacetime (switch.go).
func NightMode() Mode { return firstMode(func(m Mode) bool { return m.OnTheNight }) }

// Postures are the rows an environment may declare as its DR posture (drPosture): the DR rows.
func Postures() []Mode {
	var out []Mode
	for _, m := range Modes {
		if !m.Primary {
			out = append(out, m)
		}
	}
	return out
}

// Posture is the environment's DR posture: the drMode its DR procedures (activation, drill,
// failback, teardown) act on, and the one DR mode that owns the environment's shared DR names
// (Config.OwnsSharedNames). drPosture absent means DRMode(), the runbook's stateless mode.
func (e *Environment) Posture() Mode {
	if m, ok := ModeOf(e.DrPosture); ok && !m.Primary {
		return m
	}
	return DRMode()
}

func firstMode(f func(Mode) bool) Mode {
	for _, r := range Modes {
		if f(r) {
			return r
		}
	}
	panic("drcontext: the drMode table has no such row")
}

// Mode is the Config's row of the drMode table. Load accepts only modes in the table; a Config
// literal without one (a test's) gets the default row, as it always did.
func (c *Config) Mode() Mode {
	if m, ok := ModeOf(c.DrMode); ok {
		return m
	}
	return Modes[0]
}

// drModes lists the accepted values for messages.
func drModes() string { return modeNames(Modes) }

// postureNames lists the accepted drPosture values for messages.
func postureNames() string { return modeNames(Postures()) }

func modeNames(rows []Mode) string {
	names := make([]string, 0, len(rows))
	for _, m := range rows {
		names = append(names, string(m.Name))
	}
	return strings.Join(names, ", ")
}

// drModeFlags is "--context drMode=none, --context drMode=stateless or ..." for hints.
func drModeFlags() string {
	flags := make([]string, 0, len(Modes))
	for _, m := range Modes {
		flags = append(flags, "--context "+KeyDrMode+"="+string(m.Name))
	}
	if len(flags) < 2 {
		return strings.Join(flags, "")
	}
	return strings.Join(flags[:len(flags)-1], ", ") + " or " + flags[len(flags)-1]
}
