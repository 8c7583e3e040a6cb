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
