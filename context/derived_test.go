package drcontext

import (
	"testing"

	"github.com/valkey-dr/valkey-dr/contract"
)

// TestMonitoringDefaultsResolveHere pins that the alarm thresholds are resolved in context: a
// zero (absent) value is the Default* constant, a given one is kept.
func TestMonitoringDefaultsResolveHere(t *testing.T) {
	tests := map[string]struct {
		m                           Monitoring
		read, write, usage, maxConn int
	}{
		"absent thresholds take the defaults": {m: Monitoring{},
			read: DefaultLatencyP99Micros, write: DefaultLatencyP99Micros, usage: DefaultUsagePercent, maxConn: DefaultMaxConnections},
		"given thresholds are kept": {m: Monitoring{ReadLatencyP99Micros: 500, WriteLatencyP99Micros: 900, UsagePercent: 60, MaxConnections: 100},
			read: 500, write: 900, usage: 60, maxConn: 100},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := &Config{Env: Environment{Monitoring: tc.m}}
			if c.ReadLatencyP99Micros() != tc.read || c.WriteLatencyP99Micros() != tc.write || c.UsagePercent() != tc.usage || c.MaxConnections() != tc.maxConn {
				t.Fatalf("got %d %d %d %d, want %d %d %d %d", c.ReadLatencyP99Micros(), c.WriteLatencyP99Micros(), c.UsagePercent(), c.MaxConnections(),
					tc.read, tc.write, tc.usage, tc.maxConn)
			}
		})
	}
}

// Switching auth.mode must change the user's id: CloudFormation replaces the user (its name
// changes with the mode) and cannot replace a resource whose custom name stays the same.
func TestUserIDFollowsTheAuthMode(t *testing.T) {
	ids := map[string]contract.AuthMode{}
	for _, mode := range []contract.AuthMode{contract.AuthPassword, contract.AuthIAM} {
		c := &Config{Env: Environment{Cache: Cache{Name: "sessions", Auth: Auth{Mode: mode, UserName: "app"}}}}
		if prev, dup := ids[c.UserID()]; dup {
			t.Fatalf("auth modes %s and %s share the user id %s: the switch would fail and roll back", prev, mode, c.UserID())
		}
		ids[c.UserID()] = mode
		if mode == contract.AuthIAM && c.AuthUserName() != c.UserID() {
			t.Errorf("iam: user name %s != user id %s (AWS requires them equal)", c.AuthUserName(), c.UserID())
		}
		if mode == contract.AuthPassword && c.UserID() != "sessions-app" {
			t.Errorf("password: user id %s, want sessions-app (deployed password users keep theirs)", c.UserID())
		}
	}
}
