package drcontext

import (
	"fmt"
	"sort"
	"strings"
)

// Input is the raw CDK context as main.go reads it with app.Node().TryGetContext(key): each
// field is nil when absent, a string when given with --context k=v, or (from cdk.json) a
// bool/number/map.
type Input struct {
	// Environments is the "environments" object: map[string]any from cdk.json (a JSON string,
	// as --context environments='{...}' gives it, is accepted too).
	Environments any
	// Environment names the environment; absent means DefaultEnvironment.
	Environment any
	// Region is where to deploy; absent means the environment's primaryRegion (drMode none)
	// or drRegion (stateless). An empty string is a problem, never the default: an unset
	// shell variable in `--context region=$DR_REGION` must not deploy to the primary region.
	Region any
	// DrMode is a row of the drMode table (none, the default; stateless; standby).
	DrMode any
	// DRPosture, with DrMode absent, takes the drMode from the environment's drPosture
	// (Environment.Posture): the DR procedures act on the environment's DR side.
	DRPosture bool
	// HoldPrimaryRouting ("true"/"false" or a bool; default false) keeps the PRIMARY failover
	// record out of a drMode=none stack during failback; with stateless it is a problem.
	HoldPrimaryRouting any
	// AllowSameRegionDrill ("true"/"false" or a bool; default false) lets drMode=stateless
	// deploy to the primary region, for a drill.
	AllowSameRegionDrill any
	// Received is every context key the app got (main.go: app.Node().GetAllContext()); each
	// that is neither ours nor the CDK's own is a problem (UnknownKeys). nil skips that check,
	// for callers that build Input themselves from known keys (context.LoadFile, tests).
	Received map[string]any
	// ModeFree is set when the stack being built does not depend on drMode (the evidence
	// archive, --context stack=evidence): drMode is then not required outside example.
	ModeFree bool
}

// Cell is one synth of the environment x drMode matrix (make check synthesizes each).
type Cell struct {
	Environment string // a key of the environments object
	DrMode      DrMode // a row of the drMode table
	Region      string // the row's DefaultRegion: primaryRegion for none, drRegion for the DR modes
}

// Load parses and validates; on any problem it returns nil and an *Error listing ALL problems.
//
// Only the selected environment is decoded and validated: another one may be mid-edit in
// cdk.json and must not block a DR deploy. Environments and Matrix validate them all.
func Load(in Input) (*Config, error) {
	var ps problems

	envName := DefaultEnvironment
	envOK := true
	envGiven := false
	if s, given, ok := flagString(&ps, KeyEnvironment, in.Environment, "the name of an environment in cdk.json"); given {
		envName, envOK, envGiven = s, ok, true
	}

	if in.Received != nil {
		ps = append(ps, UnknownKeys(in.Received)...)
	}

	mode := DefaultDrMode
	modeOK := true
	s, modeGiven, ok := flagString(&ps, KeyDrMode, in.DrMode, drModes())
	if modeGiven {
		modeOK = ok
		if ok {
			if _, known := ModeOf(DrMode(s)); known {
				mode = DrMode(s)
			} else {
				ps.add(drModeProblem(s))
				modeOK = false
			}
		}
	}

	region, regionGiven, regionOK := flagString(&ps, KeyRegion, in.Region, acceptedRegionName)
	hold, holdOK := flagBool(&ps, KeyHoldPrimaryRouting, in.HoldPrimaryRouting)
	drill, drillOK := flagBool(&ps, KeyAllowSameRegionDrill, in.AllowSameRegionDrill)

	var env *Environment
	if tbl, ok := decodeTable(&ps, in.Environments); ok && envOK {
		if _, found := tbl.raw[envName]; !found {
			ps.add(unknownEnvironment(envName, envGiven, keysOf(tbl.raw)))
		} else {
			e, eps := decodeEnvironment(envName, tbl)
			ps = append(ps, eps...)
			env = &e
		}
	}
	if in.DRPosture && !modeGiven && env != nil {
		mode, modeGiven = env.Posture().Name, true
	}

	row, _ := ModeOf(mode)
	if modeOK && holdOK && hold && !row.CanHoldRouting {
		ps.add(Problem{Key: KeyHoldPrimaryRouting, Value: "true", reason: "is not accepted with drMode=" + string(mode),
			Accepted: "false",
			Hint:     "holding routing back is a failback step: it applies to drMode=" + string(PrimaryMode().Name) + " in the primary region"})
	}
	if modeOK && drillOK && drill && !row.CanDrillSameRegion {
		ps.add(Problem{Key: KeyAllowSameRegionDrill, Value: "true", reason: "is not accepted with drMode=" + string(mode),
			Accepted: "false",
			Hint:     "a same-region drill is a " + drillModes() + " deploy to the primary region"})
	}

	// Only for an environment that exists: for an unknown one, its own problem says it all.
	if env != nil && !modeGiven && !in.ModeFree && envName != explicitDrModeEnvironment {
		ps.add(drModeRequired(envName))
		modeOK = false
	}

	if regionGiven && regionOK {
		regionKey := KeyEnvironments + "." + envName + ".regions"
		switch {
		case region == "":
			ps.add(Problem{Key: KeyRegion, reason: "is empty", Accepted: acceptedRegionName,
				Hint: "an empty value never means the default: leave the key out to use primaryRegion or drRegion"})
			regionOK = false
		case !regionRE.MatchString(region):
			p := Problem{Key: KeyRegion, Value: region, reason: "is not an AWS region name at all", Accepted: acceptedRegionName}
			if env != nil && len(env.Regions) > 0 {
				p.Accepted = names(keysOf(env.Regions))
				p.Hint = "the regions with an entry in " + regionKey
			}
			ps.add(p)
			regionOK = false
		case env != nil:
			if _, ok := env.Regions[region]; !ok {
				ps.add(Problem{Key: KeyRegion, Value: region, reason: "has no entry in " + regionKey,
					Accepted: names(keysOf(env.Regions)),
					Hint:     "a region needs its networking (vpcId, subnetIds, ingress, hosted zone) in cdk.json"})
				regionOK = false
			}
		}
	}

	sameRegionDrill := false
	if env != nil && modeOK {
		if !regionGiven {
			region = row.DefaultRegion(env)
		}
		// Only a region given on the command line is judged here: a defaulted one comes from
		// primaryRegion/drRegion, whose problems validateEnvironment already reports.
		if regionGiven && regionOK && regionRE.MatchString(env.PrimaryRegion) {
			switch {
			case !row.Primary && region == env.PrimaryRegion && drillOK && drill:
				sameRegionDrill = true
			case !row.Primary && region == env.PrimaryRegion && drillOK:
				accepted := "a region other than " + region
				if env.DrRegion != "" && env.DrRegion != region {
					accepted += ", such as the drRegion " + env.DrRegion
				}
				if row.CanDrillSameRegion {
					accepted += "; or allowSameRegionDrill=true for a drill"
				}
				ps.add(Problem{Key: KeyRegion, Value: region,
					reason:   fmt.Sprintf("is the primaryRegion of environment %q", envName),
					Accepted: accepted,
					Hint:     "a DR cache in the failed region does not survive its outage"})
			case row.Primary && region != env.PrimaryRegion:
				// Two drMode=none stacks would both claim the PRIMARY failover record.
				ps.add(Problem{Key: KeyRegion, Value: region,
					reason:   fmt.Sprintf("is not the primaryRegion of environment %q", envName),
					Accepted: env.PrimaryRegion,
					Hint:     "drMode=" + string(mode) + " serves the primary region, failback included; a deploy to another region is drMode=" + string(env.Posture().Name)})
			}
		}
		ps = append(ps, derivedNames(envName, env, mode)...)
	}

	if err := newError(ps); err != nil {
		return nil, err
	}
	if env == nil {
		// Unreachable: every path that leaves env nil reports a problem.
		return nil, newError([]Problem{{Key: KeyEnvironment, Value: envName, reason: "could not be read"}})
	}
	net, ok := env.Regions[region]
	if !ok {
		// Unreachable when the rules above are right; never hand back a Config without networking.
		return nil, newError([]Problem{{Key: KeyRegion, Value: region, reason: "has no networking"}})
	}
	return &Config{
		EnvironmentName:    envName,
		Env:                *env,
		Region:             region,
		Net:                net,
		DrMode:             mode,
		HoldPrimaryRouting: hold,
		SameRegionDrill:    sameRegionDrill,
	}, nil
}

// Environments decodes and validates just the environment table (for the CI synth matrix).
// Every environment is validated, and the derived names are checked for every drMode, since
// the matrix synthesizes them all.
func Environments(raw any) (map[string]Environment, error) {
	var ps problems
	tbl, ok := decodeTable(&ps, raw)
	if !ok {
		return nil, newError(ps)
	}
	out := make(map[string]Environment, len(tbl.raw))
	for _, name := range keysOf(tbl.raw) {
		e, eps := decodeEnvironment(name, tbl)
		ps = append(ps, eps...)
		// The longest NameSuffix gives the longest names: checking its mode checks them all.
		ps = append(ps, derivedNames(name, &e, longestSuffixMode().Name)...)
		out[name] = e
	}
	if err := newError(ps); err != nil {
		return nil, err
	}
	return out, nil
}

// Matrix lists every environment x drMode (none in primaryRegion, the DR modes in drRegion),
// sorted.
func Matrix(raw any) ([]Cell, error) {
	envs, err := Environments(raw)
	if err != nil {
		return nil, err
	}
	ts := make([]Cell, 0, len(Modes)*len(envs))
	for name, e := range envs {
		for _, m := range Modes {
			ts = append(ts, Cell{Environment: name, DrMode: m.Name, Region: m.DefaultRegion(&e)})
		}
	}
	sort.Slice(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if a.Environment != b.Environment {
			return a.Environment < b.Environment
		}
		if a.DrMode != b.DrMode {
			return a.DrMode < b.DrMode
		}
		return a.Region < b.Region
	})
	return ts, nil
}

// flagString reads a string-valued context key. given is false when the key is absent; ok is
// false when it was given with a non-string value (reported).
func flagString(ps *problems, key string, v any, accepted string) (s string, given, ok bool) {
	switch t := deref(v).(type) {
	case nil:
		return "", false, true
	case string:
		return t, true, true
	default:
		ps.add(Problem{Key: key, Value: jsonValue(t), reason: "is " + kindOf(t), Accepted: accepted})
		return "", true, false
	}
}

// flagBool reads a boolean switch: true/false as a JSON boolean or as the exact strings
// "true"/"false" (--context gives strings). Anything else, "yes" or "1" included, is a
// problem: a switch that changes routing at 3 a.m. must not be guessed.
func flagBool(ps *problems, key string, v any) (b, ok bool) {
	switch t := deref(v).(type) {
	case nil:
		return false, true
	case bool:
		return t, true
	case string:
		switch t {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		ps.add(Problem{Key: key, Value: t, Accepted: "true, false"})
	default:
		ps.add(Problem{Key: key, Value: jsonValue(t), reason: "is " + kindOf(t), Accepted: "true, false"})
	}
	return false, false
}

// drModeProblem explains a drMode that is not accepted; reaching for snapshots gets the reason
// they are not offered.
func drModeProblem(s string) Problem {
	p := Problem{Key: KeyDrMode, Value: s, Accepted: drModes()}
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "snapshot") || strings.Contains(l, "restore"):
		p.Hint = snapshotsOutOfScope
	case knownMode(l):
		p.Hint = fmt.Sprintf("did you mean %q? values are case-sensitive", l)
	}
	return p
}

// knownMode reports whether s is the name of a row of the drMode table.
func knownMode(s string) bool {
	_, ok := ModeOf(DrMode(s))
	return ok
}

// unknownEnvironment lists the environments cdk.json defines.
func unknownEnvironment(name string, given bool, known []string) Problem {
	p := Problem{Key: KeyEnvironment, Value: name, Accepted: names(known)}
	if !given {
		p.Value = ""
		p.reason = fmt.Sprintf("is not set, and the default %q is not defined", name)
		p.Hint = "pass --context environment=<name>"
		return p
	}
	for _, k := range known {
		if strings.EqualFold(k, name) {
			p.Hint = fmt.Sprintf("did you mean %q? names are case-sensitive", k)
			return p
		}
	}
	// A typo (prdo, stagign): the one environment within two edits, if only one is.
	var near []string
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d <= 2 && d < len(k) {
			near = append(near, k)
		}
	}
	if len(near) == 1 {
		p.Hint = fmt.Sprintf("did you mean %q?", near[0])
	}
	return p
}

// longestSuffixMode is the row whose NameSuffix is longest: its derived names are the longest.
func longestSuffixMode() Mode {
	best := Modes[0]
	for _, m := range Modes {
		if len(m.NameSuffix) > len(best.NameSuffix) {
			best = m
		}
	}
	return best
}

// drillModes names the drModes that accept allowSameRegionDrill, for hints.
func drillModes() string {
	var names []string
	for _, m := range Modes {
		if m.CanDrillSameRegion {
			names = append(names, "drMode="+string(m.Name))
		}
	}
	return strings.Join(names, " or ")
}
