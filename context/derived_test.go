package drcontext

import "testing"

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
