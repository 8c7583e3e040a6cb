package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/failover"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
)

// SwitchStack is the always-on forced-failover switch of an environment: one CloudWatch alarm
// (and its notification topic) in the DR region, built with the primary stack.
type SwitchStack struct {
	awscdk.Stack
	Switch *failover.Switch
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
	s.Switch = failover.New(stack, "Failover", &failover.Props{AlarmName: cfg.FailoverAlarmName(), Environment: cfg.EnvironmentName})

	out := func(key, desc, value string) {
		awscdk.NewCfnOutput(stack, jsii.String(key), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(desc)})
	}
	out(contract.KeyFailoverAlarmName, "Forced-failover alarm: in ALARM, Route 53 answers the service name with the DR record", cfg.FailoverAlarmName())
	out(contract.KeyFailoverMetricNamespace, "Namespace of the routing request metric", contract.RoutingNamespace)
	out(contract.KeyFailoverMetricName, fmt.Sprintf("Routing request metric: %d requests failover, %d clears it", contract.FailoverValueRequested, contract.FailoverValueCleared), contract.MetricFailoverRequested)
	out(contract.KeyFailoverMetricDimension, "Dimension name=value of the routing request metric", contract.RoutingDimension+"="+cfg.EnvironmentName)
	out(contract.KeyRegion, "Region", cfg.SwitchRegion())
	out(contract.KeyEnvironment, "Environment", cfg.EnvironmentName)

	// The same tags as the environment's other stacks; drMode says which deploy owns it.
	tags := cfg.Tags()
	tagAll(stack, tags)
	return s
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
