package drcontext

import "fmt"

// Names of the forced-failover switch (DESIGN.md section 4, "Forced failover through the data
// plane"): a small always-on stack in the DR region, deployed with the primary, holding the
// CloudWatch alarm the PRIMARY record's calculated health check reads. The primary stack and the
// switch stack both derive these names from the typed config, so neither references the other
// across regions.

// HasSwitchStack reports whether this synth also builds the switch stack: with the primary
// (drMode=none), since the alarm must exist before the incident. Merge note: becomes a column
// of the drMode table.
func (c *Config) HasSwitchStack() bool { return c.DrMode == DrModeNone }

// SwitchRegion is where the switch lives: the environment's DR region, which must survive the
// primary region's outage.
func (c *Config) SwitchRegion() string { return c.Env.DrRegion }

// SwitchStackID is ValkeyDr-<env>-<drRegion>-switch.
func (c *Config) SwitchStackID() string {
	return fmt.Sprintf("ValkeyDr-%s-%s-switch", c.EnvironmentName, c.SwitchRegion())
}

// FailoverAlarmName is the alarm in the DR region that, in ALARM, takes the PRIMARY record out
// of service. One per environment: there is one failover pair per environment.
func (c *Config) FailoverAlarmName() string {
	return fmt.Sprintf("ValkeyDr-%s-failover-requested", c.EnvironmentName)
}

// CanaryFunctionName is the health canary's Lambda function name: <cache name>-canary, at most
// 47 characters (Lambda allows 64), unique in the region because the cache name is, and known
// before the deploy, so that outputs, IAM policies (docs/iam/invoke-canary.json) and the drill
// can name it.
func (c *Config) CanaryFunctionName() string { return c.CacheName() + "-canary" }
