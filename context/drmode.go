package drcontext

import (
	"strings"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Mode is one row of the drMode table (DESIGN.md section 3): everything a decision about a
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

// PrimaryMode and DRMode are the rows the DR procedures ask for by purpose: the primary
// region's stack (failback, the routing "before") and the DR region's (activation, drill).
func PrimaryMode() Mode { return firstMode(func(m Mode) bool { return m.Primary }) }

// DRMode is the row of the DR region's stack.
func DRMode() Mode { return firstMode(func(m Mode) bool { return !m.Primary }) }

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
func drModes() string {
	names := make([]string, 0, len(Modes))
	for _, m := range Modes {
		names = append(names, string(m.Name))
	}
	return strings.Join(names, ", ")
}
