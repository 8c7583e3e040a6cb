package valkeyclient

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// TestAfterHandshake: a timeout on a connection whose handshake succeeded is the server's
// silence, not a security group or NACL; other problems keep their diagnosis.
func TestAfterHandshake(t *testing.T) {
	timeout := Classify(fmt.Errorf("SET k: %w", context.DeadlineExceeded), "SET k")
	if !strings.Contains(timeout.Fix, "NACL") {
		t.Fatalf("before the handshake a timeout may be the network: %+v", timeout)
	}
	p := AfterHandshake(timeout)
	if p.Class != ClassTimeout || strings.Contains(p.Fix, "security group/NACL allow") ||
		!strings.Contains(p.Msg, "stopped answering after the handshake") || !strings.Contains(p.Fix, "no security group or NACL is in the way") {
		t.Fatalf("after the handshake: %+v", p)
	}
	refused := Classify(syscall.ECONNREFUSED, "connect")
	if got := AfterHandshake(refused); got != refused {
		t.Fatalf("a refusal changed: %+v -> %+v", refused, got)
	}
}
