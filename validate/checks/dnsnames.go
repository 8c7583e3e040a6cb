package checks

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

func canon(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }

// checkDNSNames proves each Route 53 name (--dns-name, RegionalDnsName, ServiceDnsName)
// resolves, through its CNAME chain, to the cache endpoint. NXDOMAIN is retried (a new record
// may not have propagated). The TLS certificate names the endpoint, not these names: clients
// that connect through them must verify against the endpoint name (see the README).
func checkDNSNames(ctx context.Context, e *Env) report.Result {
	if len(e.Target.DNSNames) == 0 {
		return skip("no DNS names to check: a DR cache made on the night gets its Route 53 names after validation, from its DNS stack " +
			"(give --dns-name, or --outputs with RegionalDnsName/ServiceDnsName, to check them then)")
	}
	endpoint := canon(e.Target.Host)
	endpointIP := net.ParseIP(e.Target.Host) != nil
	var results []map[string]any
	var lines []string
	status := report.Pass
	attempts := 0
	for _, name := range e.Target.DNSNames {
		var cname string
		var addrs []string
		a, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
			var err error
			if cname, err = e.resolver().LookupCNAME(ctx, name); err != nil {
				return err
			}
			addrs, err = e.resolver().LookupHost(ctx, name)
			return err
		})
		attempts += a
		ev := map[string]any{"name": name, "canonicalName": canon(cname), "addresses": addrs}
		results = append(results, ev)
		if err != nil {
			r := failErr(err, "resolve "+name, map[string]any{"names": results})
			r.Attempts = attempts
			return r
		}
		switch {
		case canon(cname) == endpoint:
			ev["verdict"] = "cname chain reaches the endpoint"
			lines = append(lines, fmt.Sprintf("%s -> %s", name, canon(cname)))
		case endpointIP && slices.Contains(addrs, e.Target.Host):
			ev["verdict"] = "resolves to the endpoint address"
			lines = append(lines, fmt.Sprintf("%s -> %s", name, e.Target.Host))
		case len(addrs) > 0 && subset(addrs, e.Addresses):
			// Same addresses without the CNAME: right today, wrong when the cache's IPs move.
			status = report.Warn
			ev["verdict"] = "same addresses but no CNAME to the endpoint"
			lines = append(lines, fmt.Sprintf("%s -> %s (same addresses as the endpoint but NOT a CNAME to it: make it a CNAME)", name, strings.Join(addrs, ",")))
		default:
			r := failProblem(valkeyclient.Problem{Class: valkeyclient.ClassDNS,
				Msg: fmt.Sprintf("%s resolves to %s (%s), not to the endpoint %s", name, canon(cname), strings.Join(addrs, ", "), e.Target.Host),
				Fix: "point the record (CNAME) at the cache endpoint; check the failover record's health check if it is the service name"},
				map[string]any{"names": results})
			r.Attempts = attempts
			return r
		}
	}
	r := pass(strings.Join(lines, "; "), map[string]any{"names": results})
	r.Status = status
	r.Attempts = attempts
	return r
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
