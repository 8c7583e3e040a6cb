package checks

import (
	"fmt"
	"time"
)

// CleanupGrace is the least time cleanup gets when the run deadline is already used up.
const CleanupGrace = 2 * time.Second

// Table is the ordered list of checks: runbook step 4 (connectivity, reconnect, SET/GET,
// synthetic sessions) and the network, TLS, auth, mode and routing checks around it.
//
// Path and Canary are data every caller reads (the canary's Success and ReaderSuccess, the
// probe's verdict): the read port has its own tcp and tls rows so a read-port fault never
// shows up in a primary-path row. The canary leaves out dns-names: it is given no Route 53
// name (the service name resolves to this cache only while the canary says it is healthy).
var Table = []Check{
	{Name: "dns", Timeout: 5 * time.Second, Path: PathPrimary, Canary: true, Run: checkDNS},
	{Name: "tcp", Timeout: 5 * time.Second, Needs: []string{"dns"}, Path: PathPrimary, Canary: true, Run: checkTCP},
	{Name: "tls", Timeout: 5 * time.Second, Needs: []string{"tcp"}, Path: PathPrimary, Canary: true, Run: checkTLS},
	{Name: "auth", Timeout: 8 * time.Second, Needs: []string{"tls"}, Path: PathPrimary, Canary: true, Run: checkAuth},
	{Name: "cluster-mode", Timeout: 5 * time.Second, Needs: []string{"auth"}, Path: PathPrimary, Canary: true, Run: checkClusterMode},
	{Name: "ping", Timeout: 5 * time.Second, Needs: []string{"cluster-mode"}, Path: PathPrimary, Canary: true, Run: checkPing},
	{Name: "set-get", Timeout: 5 * time.Second, Needs: []string{"ping"}, Path: PathPrimary, Canary: true, Run: checkSetGet},
	{Name: "session-lifecycle", Timeout: 10 * time.Second, Needs: []string{"set-get"}, Path: PathPrimary, Canary: true, Run: checkSessions},
	{Name: "reconnect", Timeout: 10 * time.Second, Needs: []string{"ping"}, Path: PathPrimary, Canary: true, Run: checkReconnect},
	{Name: "reader-tcp", Timeout: 5 * time.Second, Needs: []string{"dns"}, Path: PathReader, Canary: true, Run: checkReaderTCP},
	{Name: "reader-tls", Timeout: 5 * time.Second, Needs: []string{"reader-tcp"}, Path: PathReader, Canary: true, Run: checkReaderTLS},
	{Name: "reader", Timeout: 8 * time.Second, Needs: []string{"set-get", "reader-tls"}, Path: PathReader, Canary: true, Run: checkReader},
	{Name: "dns-names", Timeout: 5 * time.Second, Needs: []string{"dns"}, Path: PathPrimary, Canary: false, Run: checkDNSNames},
	{Name: "cleanup", Timeout: 5 * time.Second, Needs: []string{"auth"}, Path: PathPrimary, Canary: true, Always: true, Run: checkCleanup},
}

// CanaryChecks returns the rows the health canary runs, in table order.
func CanaryChecks() []Check {
	var out []Check
	for _, c := range Table {
		if c.Canary {
			out = append(out, c)
		}
	}
	return out
}

// PathOf returns the path of the named check (PathPrimary for a name not in the table, such
// as the traffic's "connect": anything else would hide a failure from the primary verdict).
func PathOf(name string) Path {
	for _, c := range Table {
		if c.Name == name {
			return c.Path
		}
	}
	return PathPrimary
}

// Names returns the check names in order.
func Names() []string {
	n := make([]string, len(Table))
	for i, c := range Table {
		n[i] = c.Name
	}
	return n
}

// Subset returns the rows of Table with the given names, in table order; a name that is not in
// the table panics (a programming error, caught by the tests of every caller).
func Subset(names ...string) []Check {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Check
	for _, c := range Table {
		if want[c.Name] {
			out = append(out, c)
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		panic(fmt.Sprintf("checks.Subset: unknown check(s) %v", want))
	}
	return out
}
