package dns

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// AlarmSettings are the settings of a CloudWatch alarm that Route 53 copies into a
// CLOUDWATCH_METRIC health check when the check is created, and never refreshes: "If you update
// the settings in the CloudWatch alarm, Route 53 doesn't automatically update the alarm settings
// in the health check"
// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-updating-cloudwatch-alarm-settings.html;
// the fields: https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html).
type AlarmSettings struct {
	Namespace, MetricName string
	Dimensions            map[string]string
	Statistic             string
	PeriodSeconds         int
	EvaluationPeriods     int
	Threshold             float64
	// ComparisonOperator is CloudFormation's name ("LessThanThreshold").
	ComparisonOperator string
}

// String is the settings in one canonical line (dimensions sorted).
func (a AlarmSettings) String() string {
	dims := make([]string, 0, len(a.Dimensions))
	for k, v := range a.Dimensions {
		dims = append(dims, k+"="+v)
	}
	sort.Strings(dims)
	return fmt.Sprintf("%s/%s{%s} %s %ds x%d %s %g", a.Namespace, a.MetricName, strings.Join(dims, ","), a.Statistic,
		a.PeriodSeconds, a.EvaluationPeriods, a.ComparisonOperator, a.Threshold)
}

// Fingerprint is a short hash of the settings. It ends the health check's construct id, so a
// change to the alarm Route 53 reads REPLACES the health check (CloudFormation creates a new
// one, which copies the new settings, and the records move to it) instead of leaving Route 53
// on the old copy; the zero value (settings unknown) adds nothing.
func (a AlarmSettings) Fingerprint() string {
	if a.Namespace == "" && a.MetricName == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(a.String()))
	return strings.ToUpper(hex.EncodeToString(sum[:4]))
}
