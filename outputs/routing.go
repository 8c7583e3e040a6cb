package outputs

// Output keys added for issue 11 (routing the runbook can force, validation from inside the
// VPC). Merge note: when the output keys move to contract/, these move with them.
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
