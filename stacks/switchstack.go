package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/canary"
	"github.com/valkey-dr/valkey-dr/constructs/failover"
	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
)

// SwitchStack is the always-on forced-failover switch of an environment: one CloudWatch alarm
// (and its notification topic) in the DR region, built with the primary stack.
type SwitchStack struct {
	awscdk.Stack
	Switch *failover.Switch
	// DRCanaryRole is the execution role of the DR cache's health canary (canary.NewRole):
	// made here, in peacetime, because the DR stack is made on the night and creates no IAM
	// resource (docs/design.md, "Static stability").
	DRCanaryRole *canary.Role
	// DRConnectPolicy is the applications' IAM-auth policy for the DR cache (auth.mode=iam;
	// nil otherwise), by name Config.DRConnectPolicyName().
	DRConnectPolicy awsiam.ManagedPolicy
}

// NewSwitchStack builds the switch stack for a drMode=none Config (Config.HasSwitchStack): in
// the environment's DR region, named Config.SwitchStackID(). It must exist before an incident,
// so it is deployed with the primary (the primary stack depends on it: `cdk deploy <primary>`
// deploys it first), never with the DR stack.
func NewSwitchStack(scope constructs.Construct, cfg *drcontext.Config) *SwitchStack {
	stack := awscdk.NewStack(scope, jsii.String(cfg.SwitchStackID()), &awscdk.StackProps{
		Env: &awscdk.Environment{
			Account: jsii.String(cfg.Env.Account),
			Region:  jsii.String(cfg.SwitchRegion()),
		},
		Description: jsii.String(fmt.Sprintf("valkey-dr forced-failover switch of environment %s (in the DR region %s, deployed with the primary)",
			cfg.EnvironmentName, cfg.SwitchRegion())),
		TerminationProtection: jsii.Bool(cfg.IsProduction()),
	})
	s := &SwitchStack{Stack: stack}
	s.Switch = failover.New(stack, "Failover", &failover.Props{AlarmName: cfg.FailoverAlarmName(), Environment: cfg.EnvironmentName,
		HeartbeatScheduleName: cfg.FailoverHeartbeatScheduleName(), RequestScheduleName: cfg.FailoverRequestScheduleName(),
		PublisherRoleName: cfg.FailoverPublisherRoleName()})
	grants := drCanaryGrants(stack, cfg)
	s.DRCanaryRole = canary.NewRole(stack, "DrCanary", &canary.RoleProps{RoleName: cfg.DRCanaryRoleName(), Grants: grants})
	if cfg.Env.Cache.Auth.Mode == contract.AuthIAM {
		// The applications' elasticache:Connect on the DR cache, for the same reason.
		s.DRConnectPolicy = sessioncache.NewConnectPolicy(stack, "DrConnectPolicy", cfg.DRConnectPolicyName(), grants.Connect)
	}

	out := func(key, desc, value string) {
		awscdk.NewCfnOutput(stack, jsii.String(key), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(desc)})
	}
	out(contract.KeyFailoverAlarmName, "Forced-failover alarm: in ALARM, Route 53 answers the service name with the DR record", cfg.FailoverAlarmName())
	out(contract.KeyFailoverMetricNamespace, "Namespace of the routing request metric", contract.RoutingNamespace)
	out(contract.KeyFailoverMetricName, fmt.Sprintf("Routing request metric: %d requests failover, %d clears it", contract.FailoverValueRequested, contract.FailoverValueCleared), contract.MetricFailoverRequested)
	out(contract.KeyFailoverMetricDimension, "Dimension name=value of the routing request metric", contract.RoutingDimension+"="+cfg.EnvironmentName)
	out(contract.KeyFailoverRequestSchedule, "Request schedule (EventBridge Scheduler, this region): present while a failover is requested (drctl route)", cfg.FailoverRequestScheduleName())
	out(contract.KeyFailoverScheduleGroup, "Schedule group of the heartbeat and request schedules", contract.ScheduleGroupDefault)
	awscdk.NewCfnOutput(stack, jsii.String(contract.KeyFailoverPublisherRoleArn), &awscdk.CfnOutputProps{
		Value: s.Switch.PublisherRole.RoleArn(), Description: jsii.String("Role the heartbeat and request schedules publish with")})
	out(contract.KeyRegion, "Region", cfg.SwitchRegion())
	out(contract.KeyEnvironment, "Environment", cfg.EnvironmentName)

	// The same tags as the environment's other stacks; drMode says which deploy owns it.
	tags := cfg.Tags()
	tagAll(stack, tags)
	return s
}

// drCanaryGrants are the DR cache's resources, by name pattern: the DR stack is deployed on
// the night, in the DR region or another (--context region), so the role names the stack's
// resources by what CloudFormation will call them (<stack>-<logical id>-<suffix>) in any
// region, and the password secret by the tags every stack resource carries.
func drCanaryGrants(stack awscdk.Stack, cfg *drcontext.Config) canary.Grants {
	part, acct, drStack := *stack.Partition(), cfg.Env.Account, cfg.DRStackIDPattern()
	arn := func(format string, args ...any) *string { return jsii.String(fmt.Sprintf(format, args...)) }
	g := canary.Grants{
		CacheName: cfg.DRCacheName(),
		AuthMode:  string(cfg.Env.Cache.Auth.Mode),
		LogGroups: []*string{arn("arn:%s:logs:*:%s:log-group:%s-*", part, acct, drStack), arn("arn:%s:logs:*:%s:log-group:%s-*:*", part, acct, drStack)},
		Queues:    []*string{arn("arn:%s:sqs:*:%s:%s-*", part, acct, drStack)},
	}
	switch cfg.Env.Cache.Auth.Mode {
	case contract.AuthPassword:
		g.Secrets = []*string{arn("arn:%s:secretsmanager:*:%s:secret:*", part, acct)}
		tags := drcontext.Config{EnvironmentName: cfg.EnvironmentName, DrMode: drcontext.NightMode().Name}
		g.SecretCondition = map[string]interface{}{"StringEquals": map[string]interface{}{
			"aws:ResourceTag/environment": tags.Tags()["environment"],
			"aws:ResourceTag/drMode":      tags.Tags()["drMode"],
			"aws:ResourceTag/managedBy":   tags.Tags()["managedBy"],
		}}
	case contract.AuthIAM:
		g.Connect = []*string{arn("arn:%s:elasticache:*:%s:serverlesscache:%s", part, acct, cfg.DRCacheName()),
			arn("arn:%s:elasticache:*:%s:user:%s", part, acct, cfg.DRUserID())}
	}
	return g
}

// AttachSwitch builds the switch stack that goes with primary and makes primary depend on it,
// so that `cdk deploy <primary stack>` deploys the switch first (the CLI includes a selected
// stack's dependencies unless --exclusively). It returns nil for a Config without one (DR
// stacks): `cdk deploy` of a DR stack still finds exactly one stack in the app. The dependency
// is ordering only: no value crosses the regions.
func AttachSwitch(scope constructs.Construct, cfg *drcontext.Config, primary *CacheStack) *SwitchStack {
	if !cfg.HasSwitchStack() {
		return nil
	}
	sw := NewSwitchStack(scope, cfg)
	primary.AddStackDependency(sw.Stack, jsii.String("the PRIMARY record's health check reads the forced-failover alarm"))
	return sw
}
