package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr"
)

// NewCmdRoute is `drctl route`'s flag set (runbook step 3, the forced-failover switch; issue
// 11), bound to o.
func NewCmdRoute(o *dr.RouteOptions, stderr io.Writer) *flag.FlagSet {
	fs := newProcedureFlags("route", &o.Common, stderr)
	fs.StringVar(&o.To, "to", "", "where the service name goes: `"+strings.Join(routeTargets(), "|")+"` (required)")
	recheckFlag(fs, &o.NoRecheck)
	return fs
}

// recheckFlag is --no-recheck of the verbs that move the switch.
func recheckFlag(fs *flag.FlagSet, noRecheck *bool) {
	fs.BoolVar(noRecheck, "no-recheck", false, "end once the request is in the data stream: skip the look again a few alarm periods later "+
		"(about 15 minutes; recorded as unknown; make dr-route looks again)")
}

// routeRun is `drctl route`: dr.Route.
func routeRun(ctx context.Context, o *dr.RouteOptions, stdout, stderr io.Writer) error {
	if err := runContext(&o.Common); err != nil {
		return err
	}
	problems := func(*drcontext.Config) []string {
		if names := routeTargets(); !slices.Contains(names, o.To) {
			return []string{fmt.Sprintf("--to %q (TO=): want %s: dr requests failover to the DR region, primary clears the request", o.To, strings.Join(names, " or "))}
		}
		return nil
	}
	return runProcedure(ctx, &o.Common, nil, problems, func(d dr.Deps) (*dr.Result, error) {
		return dr.Route(ctx, *o, d)
	}, stdout, stderr)
}

// routeTargets are the names --to takes.
func routeTargets() []string {
	var names []string
	for _, t := range dr.RouteTargets {
		names = append(names, t.Name)
	}
	return names
}
