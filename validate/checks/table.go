package checks

import (
	"fmt"
	"time"
)

// CleanupGrace is the least time cleanup gets when the run deadline is already used up.
const CleanupGrace = 2 * time.Second

// Table is the ordered list of checks: runbook step 4 (connectivity, reconnect, SET/GET,
// synthetic sessions) and the network, TLS, auth, mode and routing checks around it.
var Table = []Check{
	{Name: "dns", Timeout: 5 * time.Second, Run: checkDNS},
	{Name: "tcp", Timeout: 5 * time.Second, Needs: []string{"dns"}, Run: checkTCP},
	{Name: "tls", Timeout: 5 * time.Second, Needs: []string{"tcp"}, Run: checkTLS},
	{Name: "auth", Timeout: 8 * time.Second, Needs: []string{"tls"}, Run: checkAuth},
	{Name: "cluster-mode", Timeout: 5 * time.Second, Needs: []string{"auth"}, Run: checkClusterMode},
	{Name: "ping", Timeout: 5 * time.Second, Needs: []string{"cluster-mode"}, Run: checkPing},
	{Name: "set-get", Timeout: 5 * time.Second, Needs: []string{"ping"}, Run: checkSetGet},
	{Name: "session-lifecycle", Timeout: 10 * time.Second, Needs: []string{"set-get"}, Run: checkSessions},
	{Name: "reconnect", Timeout: 10 * time.Second, Needs: []string{"ping"}, Run: checkReconnect},
	{Name: "reader", Timeout: 8 * time.Second, Needs: []string{"set-get"}, Run: checkReader},
	{Name: "dns-names", Timeout: 5 * time.Second, Needs: []string{"dns"}, Run: checkDNSNames},
	{Name: "cleanup", Timeout: 5 * time.Second, Needs: []string{"auth"}, Always: true, Run: checkCleanup},
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
