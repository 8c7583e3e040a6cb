//go:build !linux

package bench

import (
	"testing"
	"time"

	"github.com/valkey-dr/valkey-dr/internal/valkeytest"
)

// loopFloor needs epoll (eventloop_test.go): the variant is Linux's.
func loopFloor(t *testing.T, _ *valkeytest.Cluster, _ int, _ time.Duration, _ bool) (float64, time.Duration, time.Duration) {
	t.Helper()
	t.Skip("variant loop: epoll, Linux only")
	return 0, 0, 0
}
