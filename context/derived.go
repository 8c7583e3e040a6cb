package drcontext

import (
	"fmt"
	"strings"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Names derived from a validated Config. They live here, not in the stack, so that tests of
// the naming rules need no jsii and every construct agrees on them.

// StackID is deterministic from environment, region and mode; a stateless stack in the
// primary region (a drill) still gets its own id, so it can never update the primary stack.
func (c *Config) StackID() string {
	return fmt.Sprintf("ValkeyDr-%s-%s-%s", c.EnvironmentName, c.Region, c.Mode().StackRole)
}

// CacheName is the ServerlessCacheName (replacement on change: never derive it from anything
// that changes between releases).
func (c *Config) CacheName() string {
	return c.Env.Cache.Name + c.Mode().NameSuffix
}

// MajorEngineVersion is the configured version or the default.
func (c *Config) MajorEngineVersion() int {
	if c.Env.Cache.MajorEngineVersion == 0 {
		return DefaultMajorEngineVersion
	}
	return c.Env.Cache.MajorEngineVersion
}

// UserName is the ElastiCache user name applications send with AUTH/HELLO.
func (c *Config) UserName() string {
	if c.Env.Cache.Auth.UserName == "" {
		return DefaultAuthUserName
	}
	return c.Env.Cache.Auth.UserName
}

// UserID is the ElastiCache user id: unique per region and account, so it carries the cache
// name. For IAM auth the user name must equal the user id, so AuthUserName uses it there.
func (c *Config) UserID() string {
	return c.CacheName() + "-" + c.UserName() + userIDSuffix[c.Env.Cache.Auth.Mode]
}

// userIDSuffix is what an auth mode adds to the user id. Switching password <-> iam changes the
// user's UserName (in iam mode the name is the id), which CloudFormation applies by replacing
// the user; it cannot replace a resource whose custom name (UserId) stays the same, so the
// update would fail and roll back
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html).
// The id follows the mode instead; password keeps the bare id, so deployed password users keep
// theirs.
var userIDSuffix = map[contract.AuthMode]string{contract.AuthIAM: "-iam"}

// AuthUserName is the name the client authenticates with: the user id for IAM (AWS requires
// user name == user id), the configured name for passwords.
func (c *Config) AuthUserName() string {
	if c.Env.Cache.Auth.Mode == contract.AuthIAM {
		return c.UserID()
	}
	return c.UserName()
}

// UserGroupID is the RBAC user group attached to the cache.
func (c *Config) UserGroupID() string { return c.CacheName() + "-users" }

// AccessString is the configured one or DefaultAccessString.
func (c *Config) AccessString() string {
	if c.Env.Cache.Auth.AccessString == "" {
		return DefaultAccessString
	}
	return c.Env.Cache.Auth.AccessString
}

// TTLSeconds is the Route 53 TTL.
func (c *Config) TTLSeconds() int {
	if c.Env.DNS.TTLSeconds == 0 {
		return DefaultTTLSeconds
	}
	return c.Env.DNS.TTLSeconds
}

// ReadLatencyP99Micros is the read latency alarm's p99 SLA in µs (DefaultLatencyP99Micros).
func (c *Config) ReadLatencyP99Micros() int {
	return orDefault(c.Env.Monitoring.ReadLatencyP99Micros, DefaultLatencyP99Micros)
}

// WriteLatencyP99Micros is the write latency alarm's p99 SLA in µs (DefaultLatencyP99Micros).
func (c *Config) WriteLatencyP99Micros() int {
	return orDefault(c.Env.Monitoring.WriteLatencyP99Micros, DefaultLatencyP99Micros)
}

// UsagePercent is how close to a usage limit the usage alarms fire (DefaultUsagePercent).
func (c *Config) UsagePercent() int {
	return orDefault(c.Env.Monitoring.UsagePercent, DefaultUsagePercent)
}

// MaxConnections is the connections-surge alarm's level (DefaultMaxConnections).
func (c *Config) MaxConnections() int {
	return orDefault(c.Env.Monitoring.MaxConnections, DefaultMaxConnections)
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func (c *Config) zone() string { return strings.TrimSuffix(c.Env.DNS.ZoneName, ".") }

// RegionalDNSName is <record>.<region>.<zone>; <record>.drill.<region>.<zone> for a
// same-region drill so that it cannot collide with the primary stack's record; and
// <record>.<stack role>.<region>.<zone> for the DR mode that is not the environment's posture
// (OwnsSharedNames), which may share the DR region with the posture's stack.
func (c *Config) RegionalDNSName() string {
	switch {
	case c.SameRegionDrill:
		return fmt.Sprintf("%s.drill.%s.%s", c.Env.DNS.RecordName, c.Region, c.zone())
	case !c.OwnsSharedNames():
		return fmt.Sprintf("%s.%s.%s.%s", c.Env.DNS.RecordName, c.Mode().StackRole, c.Region, c.zone())
	}
	return fmt.Sprintf("%s.%s.%s", c.Env.DNS.RecordName, c.Region, c.zone())
}

// OwnsSharedNames reports whether this stack owns the environment's names of its side: the
// primary always; on the DR side only the environment's posture (Environment.Posture), since
// both DR modes would claim the regional record of the DR region, the SECONDARY half of the
// service name and the SSM parameters (docs/design.md, "Warm standby"). The other DR mode can
// still be deployed beside it (make check synthesizes every cell): its names carry its stack
// role and it owns no service record.
func (c *Config) OwnsSharedNames() bool {
	m := c.Mode()
	return m.Primary || m.Name == c.Env.Posture().Name
}

// PostureNote is what an operator must know before deploying a DR stack that is not its
// environment's posture: it is not the cache applications fail over to. "" for every other
// stack. A single synth prints it (main.go): `cdk deploy ... drMode=stateless` on an
// environment whose drPosture is standby must not leave anyone believing it is wired in.
func (c *Config) PostureNote() string {
	if c.SameRegionDrill || c.OwnsSharedNames() {
		return ""
	}
	return fmt.Sprintf("environment %s's drPosture is %s, so this drMode=%s stack (%s) is not the DR cache applications fail over to: "+
		"it owns no %s record of %s, its regional name is %s and its SSM parameters are under %s (the %s stack owns %s). "+
		"To make drMode=%s the environment's DR cache, set %s.%s.drPosture to %q in cdk.json (docs/design.md, \"Warm standby\").",
		c.EnvironmentName, c.Env.Posture().Name, c.DrMode, c.StackID(), c.FailoverRole(), c.ServiceDNSName(), c.RegionalDNSName(),
		c.SSMPrefix(), c.Env.Posture().Name, fmt.Sprintf("/valkey-dr/%s", c.EnvironmentName), c.DrMode, KeyEnvironments, c.EnvironmentName, string(c.DrMode))
}

// ServiceDNSName is <record>.<zone>, the failover name applications use.
func (c *Config) ServiceDNSName() string {
	return fmt.Sprintf("%s.%s", c.Env.DNS.RecordName, c.zone())
}

// OwnsServiceRecord reports whether this stack creates its half of the failover pair: not
// while failback holds routing back, never in a drill (a drill must not take traffic), and on
// the DR side only for the environment's posture (OwnsSharedNames).
func (c *Config) OwnsServiceRecord() bool {
	if c.Mode().CanHoldRouting && c.HoldPrimaryRouting {
		return false
	}
	return !c.SameRegionDrill && c.OwnsSharedNames()
}

// FailoverRole is the mode's failover role: PRIMARY for drMode=none, SECONDARY for the DR modes.
func (c *Config) FailoverRole() string {
	return c.Mode().FailoverRole
}

// SSMPrefix is the parameter path applications read the endpoint from, in their own region.
func (c *Config) SSMPrefix() string {
	switch {
	case c.SameRegionDrill:
		return fmt.Sprintf("/valkey-dr/%s/drill", c.EnvironmentName)
	case !c.OwnsSharedNames():
		// Not the posture: beside the posture's parameters, never over them.
		return fmt.Sprintf("/valkey-dr/%s/%s", c.EnvironmentName, c.Mode().StackRole)
	}
	return fmt.Sprintf("/valkey-dr/%s", c.EnvironmentName)
}

// Tags are the environment's tags plus the ones the app owns.
func (c *Config) Tags() map[string]string {
	t := make(map[string]string, len(c.Env.Tags)+3)
	for k, v := range c.Env.Tags {
		t[k] = v
	}
	t["environment"] = c.EnvironmentName
	t["drMode"] = string(c.DrMode)
	t["managedBy"] = "valkey-dr"
	return t
}
