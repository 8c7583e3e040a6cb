package checks

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/valkey-dr/valkey-dr/validate/report"
	"github.com/valkey-dr/valkey-dr/validate/valkeyclient"
)

// checkDNS resolves the endpoint host, retrying NXDOMAIN (records not propagated yet).
func checkDNS(ctx context.Context, e *Env) report.Result {
	host := e.Target.Host
	if net.ParseIP(host) != nil {
		e.Addresses = []string{host}
		return pass(fmt.Sprintf("%s is an IP literal: no lookup", host), map[string]any{"addresses": e.Addresses})
	}
	var addrs []string
	attempts, err := valkeyclient.Retry(ctx, func(ctx context.Context) error {
		var err error
		addrs, err = e.resolver().LookupHost(ctx, host)
		return err
	})
	ev := map[string]any{"host": host}
	if err != nil {
		r := failErr(err, "resolve "+host, ev)
		r.Attempts = attempts
		return r
	}
	e.Addresses = addrs
	ev["addresses"] = addrs
	if cname, err := e.resolver().LookupCNAME(ctx, host); err == nil {
		ev["canonicalName"] = strings.TrimSuffix(cname, ".")
	}
	r := pass(fmt.Sprintf("%s -> %s", host, strings.Join(addrs, ", ")), ev)
	r.Attempts = attempts
	return r
}
