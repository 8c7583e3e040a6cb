package main

import (
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
)

// TestSilentAfterHandshakeIsNotTheNetwork: a server that completes the handshake (HELLO with
// AUTH accepted, PING answered) and then answers nothing is not a security group or NACL
// problem (the path is proven open): set-get, reconnect and cleanup say the server stopped
// answering after the handshake (issue 23, must-have 7).
func TestSilentAfterHandshakeIsNotTheNetwork(t *testing.T) {
	t.Parallel()
	h := valkeytest.StartHandshakeThenSilent(t)
	res := validate(t, invocation{args: append(plainArgs(h), "--timeout", "5s"), env: pw(valkeytest.AppPassword)})
	if res.code != contract.ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s%s", res.code, contract.ExitFailed, res.stdout, res.stderr)
	}
	noNetworkFix(t, res.stdout, res.stderr)
	for _, check := range []string{"set-get ", "reconnect "} {
		line := ""
		for _, l := range strings.Split(res.stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), check) {
				line = l
				break
			}
		}
		if !strings.Contains(line, "FAIL") || !strings.Contains(line, "stopped answering after the handshake") {
			t.Errorf("%s: %q, want a failure that says the server stopped answering after the handshake\n%s", check, line, res.stdout)
		}
	}
}
