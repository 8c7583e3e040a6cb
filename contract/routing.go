package contract

// Output keys added for issue 11 (routing the runbook can force, validation from inside the VPC).
const (
	// KeyCanaryFunctionName is the health canary's Lambda function name (cache stacks built
	// with the canary): what `validate --via-function` and the operator's IAM policy
	// (docs/iam/invoke-canary.json) name. Nobody may invoke it until granted.
	KeyCanaryFunctionName = "CanaryFunctionName"
	// KeyFailoverAlarmName is the forced-failover alarm (switch stack, in the DR region): in
	// ALARM, the PRIMARY record's calculated health check is unhealthy and Route 53 answers
	// with the SECONDARY.
	KeyFailoverAlarmName = "FailoverAlarmName"
	// KeyFailoverMetricNamespace, KeyFailoverMetricName and KeyFailoverMetricDimension name the
	// metric the operator publishes in the DR region: 1 requests failover, 0 clears it.
	KeyFailoverMetricNamespace = "FailoverMetricNamespace"
	KeyFailoverMetricName      = "FailoverMetricName"
	KeyFailoverMetricDimension = "FailoverMetricDimension"
)

// The metric the operator publishes (drctl route, or `aws cloudwatch put-metric-data`) in the DR
// region; the switch stack's alarm (constructs/failover) watches it.
const (
	// RoutingNamespace is the custom namespace of routing requests; the operator's IAM policy
	// limits cloudwatch:PutMetricData to it (docs/iam/route.json).
	RoutingNamespace = "ValkeyDr/Routing"
	// MetricFailoverRequested is 1 (route to the DR region) or 0 (release to the primary).
	MetricFailoverRequested = "FailoverRequested"
	// RoutingDimension is the environment name: one failover pair per environment.
	RoutingDimension = "environment"
	// FailoverValueRequested and FailoverValueCleared are the values to publish.
	FailoverValueRequested = 1
	FailoverValueCleared   = 0
)

// The forced switch lives in the data stream Route 53 reads (docs/design.md, "Forced failover"):
// Route 53 evaluates a CLOUDWATCH_METRIC health check on the alarm's data points, never on the
// alarm's state, so a request must be published for as long as it holds. Two EventBridge
// Scheduler schedules in the DR region publish FailoverRequested every minute through the
// universal target below: the heartbeat (the switch stack's, always on) publishes
// FailoverValueCleared; the request (created by `drctl route --to dr`, deleted by
// `--to primary`, never in a template so no deploy can reset it) publishes
// FailoverValueRequested. The alarm takes the Maximum over its period, so a live request wins.
const (
	// KeyFailoverRequestSchedule is the name of the request schedule (absent until requested).
	KeyFailoverRequestSchedule = "FailoverRequestSchedule"
	// KeyFailoverPublisherRoleArn is the role both schedules publish with.
	KeyFailoverPublisherRoleArn = "FailoverPublisherRoleArn"
	// KeyFailoverScheduleGroup is the schedule group of both schedules.
	KeyFailoverScheduleGroup = "FailoverScheduleGroup"
	// PutMetricDataTarget is the universal target ARN of CloudWatch PutMetricData
	// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html).
	PutMetricDataTarget = "arn:aws:scheduler:::aws-sdk:cloudwatch:putMetricData"
	// PublishSchedule is how often both schedules publish: one-minute rates are the finest
	// EventBridge Scheduler offers, and the alarm's period holds several of them.
	PublishSchedule = "rate(1 minute)"
	// ScheduleGroupDefault is the group the schedules live in.
	ScheduleGroupDefault = "default"
)
