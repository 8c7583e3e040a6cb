package main

import (
	"flag"
	"strings"

	"github.com/valkey-dr/valkey-dr/internal/dr"
)

// addRouteFlags defines the routing flags of issue 11: route's --to, activate's --route, and
// --local (run the validator here instead of through the canary) for activate and failback.
func addRouteFlags(fs *flag.FlagSet, name string, o *dr.Options) {
	switch name {
	case "route":
		var names []string
		for _, t := range dr.RouteTargets {
			names = append(names, t.Name)
		}
		fs.StringVar(&o.To, "to", "", "where the service name goes: `"+strings.Join(names, "|")+"` (required)")
	case "activate":
		fs.StringVar(&o.Route, "route", "", "routing after validation: `"+strings.Join(dr.RouteModeNames(), "|")+"` (auto: the health checks decide; force: request failover); "+
			"default auto, force for an environment whose drPosture is standby (its activation is the switch)")
		fallthrough
	case "failback":
		fs.BoolVar(&o.Local, "local", false, "run the validator on this machine (a bastion or VPN host in reach of the VPC) instead of through the canary")
	}
}
