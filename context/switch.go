package drcontext

import "fmt"

// Names of the forced-failover switch (docs/design.md, "Forced failover"): a small always-on stack in the DR region, deployed with the primary, holding the
// CloudWatch alarm the PRIMARY record's calculated health check reads. The primary stack and the
// switch stack both derive these names from the typed config, so neither references the other
// across regions.

// HasSwitchStack reports whether this synth also builds the switch stack: with the primary
// (Mode.Primary), since the alarm must exist before the incident.
func (c *Config) HasSwitchStack() bool { return c.Mode().Primary }

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

// FailoverRequestScheduleName is the EventBridge Scheduler schedule `drctl route --to dr`
// creates in the DR region (contract.KeyFailoverRequestSchedule): it publishes the request
// every minute until `drctl route --to primary` deletes it.
func (c *Config) FailoverRequestScheduleName() string {
	return fmt.Sprintf("ValkeyDr-%s-failover-request", c.EnvironmentName)
}

// FailoverHeartbeatScheduleName is the switch stack's schedule publishing "not requested"
// every minute: it keeps the data stream alive and proves in peacetime that the publisher
// (its role, the universal target) works.
func (c *Config) FailoverHeartbeatScheduleName() string {
	return fmt.Sprintf("ValkeyDr-%s-failover-heartbeat", c.EnvironmentName)
}

// FailoverPublisherRoleName is the role both schedules publish with (switch stack). IAM is a
// global control plane: the role exists before the night, and the request schedule only
// passes it.
func (c *Config) FailoverPublisherRoleName() string {
	return fmt.Sprintf("ValkeyDr-%s-routing-publisher", c.EnvironmentName)
}

// DRCanaryRoleName is the health canary role of the environment's DR cache. The switch stack
// (deployed in peacetime) owns it, because the stack that creates the DR cache on the night
// must create no IAM resource (docs/design.md, "Static stability"); the DR stack refers to it
// by this name.
func (c *Config) DRCanaryRoleName() string {
	return fmt.Sprintf("ValkeyDr-%s-dr-canary", c.EnvironmentName)
}

// DRStackIDPattern matches the StackID of the environment's stack made on the night in any
// region: the DR canary's role (switch stack) names the DR stack's log group and dead-letter queue by it,
// since CloudFormation names them <stack>-<logical id>-<suffix> and the stack does not exist
// before the night.
func (c *Config) DRStackIDPattern() string {
	return fmt.Sprintf("ValkeyDr-%s-*-%s", c.EnvironmentName, NightMode().StackRole)
}

// DRCacheName and DRUserID are CacheName and UserID of the environment's stack made on the
// night (NightMode): the one whose canary role and IAM-auth policy the switch stack holds. A
// warm standby (drMode=standby) is deployed in peacetime and owns its own.
func (c *Config) DRCacheName() string { return c.Env.Cache.Name + NightMode().NameSuffix }

// DRUserID is UserID of the environment's DR stack.
func (c *Config) DRUserID() string {
	return c.DRCacheName() + "-" + c.UserName() + userIDSuffix[c.Env.Cache.Auth.Mode]
}

// DNSStackID is the stack of the Route 53 records of a stack made on the night
// (Mode.OnTheNight): <StackID>-dns, deployed with --context stack=dns after validation.
func (c *Config) DNSStackID() string { return c.StackID() + "-" + StackDNS }

// DRConnectPolicyName is the managed policy applications attach for IAM authentication to the
// DR cache (auth.mode=iam): made by the switch stack before the night, like the canary's role.
func (c *Config) DRConnectPolicyName() string {
	return fmt.Sprintf("ValkeyDr-%s-dr-connect", c.EnvironmentName)
}
