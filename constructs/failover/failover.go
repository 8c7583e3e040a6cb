// Package failover is the forced-failover switch of the service name (DESIGN.md section 4):
// a CloudWatch alarm in the DR region on a metric the operator publishes there. The PRIMARY
// record's calculated health check counts this alarm's health check as a child: in ALARM the
// PRIMARY is unhealthy and Route 53 answers with the SECONDARY, without the failed region and
// without Route 53's control plane (us-east-1).
package failover

import (
	"fmt"
	"github.com/valkey-dr/valkey-dr/constructs/alarmtopic"
	"github.com/valkey-dr/valkey-dr/contract"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure the switch.
type Props struct {
	// AlarmName is Config.FailoverAlarmName(): the primary stack names the same alarm in its
	// health check, from the same typed config (no cross-region reference).
	AlarmName string
	// Environment is the dimension value.
	Environment string
}

// Switch is the created alarm and its notification topic.
type Switch struct {
	constructs.Construct
	// Alarm is in ALARM while a failover is requested.
	Alarm awscloudwatch.Alarm
	// Topic is told when a failover is requested and when it is cleared: a switch that moves
	// production traffic must never flip unseen.
	Topic awssns.Topic
}

// New creates the alarm.
//
// State semantics, the point of the design:
//   - TreatMissingData ignore: after the operator's one data point the alarm keeps its state
//     ("ignore: the current alarm state is maintained",
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data),
//     so a request holds until it is cleared by publishing 0; notBreaching would silently
//     return to OK a minute later and release the routing.
//   - Never published: INSUFFICIENT_DATA, which the override health check counts as healthy
//     (constructs/dns, InsufficientDataHealthStatus Healthy): an unused switch never moves
//     traffic.
//   - Maximum over one minute, threshold >= 1: a standard-resolution metric and a plain
//     statistic, which is what Route 53 health checks on alarms support
//     (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html#health-checks-creating-values-cloudwatch).
func New(scope constructs.Construct, id string, p *Props) *Switch {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Switch{Construct: c}
	s.Topic = topic(c, p)
	s.Alarm = awscloudwatch.NewAlarm(c, jsii.String("Alarm"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String(p.AlarmName),
		AlarmDescription: jsii.String(fmt.Sprintf("Forced failover of environment %s: in ALARM, Route 53 takes the PRIMARY session cache record "+
			"out of service and answers with the SECONDARY (DR) one. Set by publishing %s/%s=%d (dimension %s=%s) in this region; "+
			"cleared by publishing %d. The state holds until the next data point.",
			p.Environment, contract.RoutingNamespace, contract.MetricFailoverRequested, contract.FailoverValueRequested, contract.RoutingDimension, p.Environment, contract.FailoverValueCleared)),
		Metric:             Metric(p.Environment),
		Threshold:          jsii.Number(contract.FailoverValueRequested),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		DatapointsToAlarm:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_IGNORE,
	})
	action := awscloudwatchactions.NewSnsAction(s.Topic)
	s.Alarm.AddAlarmAction(action)
	s.Alarm.AddOkAction(action)
	return s
}

// Metric is the routing request metric of one environment, Maximum per minute.
func Metric(environment string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(contract.RoutingNamespace),
		MetricName:    jsii.String(contract.MetricFailoverRequested),
		DimensionsMap: &map[string]*string{contract.RoutingDimension: jsii.String(environment)},
		Statistic:     jsii.String("Maximum"),
		Period:        awscdk.Duration_Minutes(jsii.Number(1)),
	})
}

// topic is the switch's alarm topic (constructs/alarmtopic).
func topic(scope constructs.Construct, p *Props) awssns.Topic {
	return alarmtopic.New(scope, &alarmtopic.Props{KeyID: "TopicKey", TopicID: "Topic",
		KeyDescription: fmt.Sprintf("Encrypts the forced-failover notifications of environment %s", p.Environment),
		DisplayName:    fmt.Sprintf("valkey-dr forced failover of %s", p.Environment)})
}
