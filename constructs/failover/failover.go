// Package failover is the forced-failover switch of the service name (docs/design.md,
// "Forced failover"): a CloudWatch alarm in the DR region on a metric published there every
// minute, by a heartbeat (not requested) and, while a failover is requested, by the request
// schedule drctl creates. The PRIMARY
// record's calculated health check counts this alarm's health check as a child: in ALARM the
// PRIMARY is unhealthy and Route 53 answers with the SECONDARY, without the failed region and
// without Route 53's control plane (us-east-1).
package failover

import (
	"fmt"
	"time"

	"github.com/valkey-dr/valkey-dr/constructs/alarmtopic"
	"github.com/valkey-dr/valkey-dr/constructs/dns"
	"github.com/valkey-dr/valkey-dr/contract"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Period is the alarm's period, which Route 53 copies into the health check: five one-minute
// publishes land in each, so no single missed, late (up to 50 s) or duplicated data point
// leaves a period without the value that holds (internal/route53model proves it on the
// synthesized template).
const Period = 5 * time.Minute

// Props configure the switch.
type Props struct {
	// AlarmName is Config.FailoverAlarmName(): the primary stack names the same alarm in its
	// health check, from the same typed config (no cross-region reference).
	AlarmName string
	// Environment is the dimension value.
	Environment string
	// HeartbeatScheduleName and PublisherRoleName are Config.FailoverHeartbeatScheduleName()
	// and Config.FailoverPublisherRoleName(): drctl creates the request schedule with the same
	// role, by name.
	HeartbeatScheduleName, PublisherRoleName string
	// RequestScheduleName is Config.FailoverRequestScheduleName(), for the alarm's description.
	RequestScheduleName string
}

// Switch is the created alarm, its notification topic and the publisher.
type Switch struct {
	constructs.Construct
	// Alarm is in ALARM while a failover is requested.
	Alarm awscloudwatch.Alarm
	// Topic is told when a failover is requested and when it is cleared: a switch that moves
	// production traffic must never flip unseen.
	Topic awssns.Topic
	// PublisherRole is what both schedules publish with; PublisherPolicy its only grant.
	PublisherRole   awsiam.Role
	PublisherPolicy awsiam.ManagedPolicy
	// Heartbeat publishes "not requested" every minute.
	Heartbeat awsscheduler.CfnSchedule
}

// New creates the switch.
//
// State semantics, the point of the design (docs/design.md, "Forced failover"):
//   - Route 53 evaluates a CLOUDWATCH_METRIC health check on the alarm's data stream with the
//     alarm's metric, statistic, period, evaluation periods, threshold and comparison only;
//     TreatMissingData, DatapointsToAlarm and the alarm's state are never seen
//     (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html,
//     https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
//     So a request holds only while it is in the data stream: the request schedule (created by
//     drctl route, never in a template, so no deploy can reset it) publishes 1 every minute
//     until it is deleted.
//   - The heartbeat publishes 0 every minute: the alarm reads OK in peacetime, and a working
//     heartbeat proves the publisher path (role, universal target) before the night.
//   - Maximum over Period, >= 1: a live request wins over the heartbeat in the same period.
//   - No data at all (the DR region or its publisher down): INSUFFICIENT_DATA, which the
//     override health check counts as healthy (constructs/dns): a dead DR region never takes
//     traffic.
func New(scope constructs.Construct, id string, p *Props) *Switch {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Switch{Construct: c}
	s.Topic = topic(c, p)
	s.Alarm = awscloudwatch.NewAlarm(c, jsii.String("Alarm"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String(p.AlarmName),
		AlarmDescription: jsii.String(fmt.Sprintf("Forced failover of environment %s: in ALARM, Route 53 takes the PRIMARY session cache record "+
			"out of service and answers with the SECONDARY (DR) one. Requested while the schedule %s publishes %s/%s=%d (dimension %s=%s) "+
			"every minute in this region (drctl route --to dr creates it, --to primary deletes it); the schedule %s publishes %d.",
			p.Environment, p.RequestScheduleName, contract.RoutingNamespace, contract.MetricFailoverRequested,
			contract.FailoverValueRequested, contract.RoutingDimension, p.Environment, p.HeartbeatScheduleName, contract.FailoverValueCleared)),
		Metric:             Metric(p.Environment),
		Threshold:          jsii.Number(contract.FailoverValueRequested),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		DatapointsToAlarm:  jsii.Number(1),
		// missing: the alarm's own state then reads what Route 53 reads (no data: insufficient).
		TreatMissingData: awscloudwatch.TreatMissingData_MISSING,
	})
	action := awscloudwatchactions.NewSnsAction(s.Topic)
	s.Alarm.AddAlarmAction(action)
	s.Alarm.AddOkAction(action)
	s.PublisherPolicy, s.PublisherRole = publisher(c, p)
	s.Heartbeat = awsscheduler.NewCfnSchedule(c, jsii.String("Heartbeat"), &awsscheduler.CfnScheduleProps{
		Name:               jsii.String(p.HeartbeatScheduleName),
		GroupName:          jsii.String(contract.ScheduleGroupDefault),
		Description:        jsii.String(fmt.Sprintf("valkey-dr: publishes %s/%s=%d (not requested) for environment %s every minute", contract.RoutingNamespace, contract.MetricFailoverRequested, contract.FailoverValueCleared, p.Environment)),
		ScheduleExpression: jsii.String(contract.PublishSchedule),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		State:              jsii.String("ENABLED"),
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     jsii.String(contract.PutMetricDataTarget),
			RoleArn: s.PublisherRole.RoleArn(),
			Input:   jsii.String(contract.RoutingRequestInput(p.Environment, contract.FailoverValueCleared)),
			// A late point is worth less than the next minute's: no retries, as for the canary.
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(0), MaximumEventAgeInSeconds: jsii.Number(60)},
		},
	})
	return s
}

// publisher is the role EventBridge Scheduler assumes to publish the routing metric, for the
// heartbeat and for the request schedule drctl creates on the night (it passes this role:
// IAM's control plane is not needed then).
func publisher(c constructs.Construct, p *Props) (awsiam.ManagedPolicy, awsiam.Role) {
	stack := awscdk.Stack_Of(c)
	pol := awsiam.NewManagedPolicy(c, jsii.String("PublisherPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String(fmt.Sprintf("Publishes the forced-failover metric of environment %s, nothing else", p.Environment)),
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PublishRoutingMetric"),
			Actions:   jsii.Strings("cloudwatch:PutMetricData"),
			Resources: jsii.Strings("*"),
			// PutMetricData has no resource; the namespace condition is its only scope.
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"cloudwatch:namespace": contract.RoutingNamespace}},
		})},
	})
	// Confused deputy: only this account's schedules may assume it
	// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
	principal := awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()}},
	})
	role := awsiam.NewRole(c, jsii.String("PublisherRole"), &awsiam.RoleProps{
		RoleName:        jsii.String(p.PublisherRoleName),
		AssumedBy:       principal,
		Description:     jsii.String(fmt.Sprintf("EventBridge Scheduler publishes the forced-failover metric of environment %s", p.Environment)),
		ManagedPolicies: &[]awsiam.IManagedPolicy{pol},
	})
	return pol, role
}

// RouteSettings are what Route 53 copies of the switch's alarm (constructs/dns): the one
// description of it the alarm below is built to match.
func RouteSettings(environment string) dns.AlarmSettings {
	return dns.AlarmSettings{Namespace: contract.RoutingNamespace, MetricName: contract.MetricFailoverRequested,
		Dimensions: map[string]string{contract.RoutingDimension: environment}, Statistic: "Maximum",
		PeriodSeconds: int(Period.Seconds()), EvaluationPeriods: 1, Threshold: contract.FailoverValueRequested,
		ComparisonOperator: "GreaterThanOrEqualToThreshold"}
}

// Metric is the routing request metric of one environment, Maximum per Period.
func Metric(environment string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(contract.RoutingNamespace),
		MetricName:    jsii.String(contract.MetricFailoverRequested),
		DimensionsMap: &map[string]*string{contract.RoutingDimension: jsii.String(environment)},
		Statistic:     jsii.String("Maximum"),
		Period:        awscdk.Duration_Seconds(jsii.Number(Period.Seconds())),
	})
}

// topic is the switch's alarm topic (constructs/alarmtopic).
func topic(scope constructs.Construct, p *Props) awssns.Topic {
	return alarmtopic.New(scope, &alarmtopic.Props{KeyID: "TopicKey", TopicID: "Topic",
		KeyDescription: fmt.Sprintf("Encrypts the forced-failover notifications of environment %s", p.Environment),
		DisplayName:    fmt.Sprintf("valkey-dr forced failover of %s", p.Environment), AlarmNamePrefix: p.AlarmName})
}
