// Package monitoring holds the CloudWatch alarms of the session cache; the health alarm here is
// what Route 53 reads to decide whether the PRIMARY record may answer.
package monitoring

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Namespace and dimension of ElastiCache Serverless metrics: AWS/ElastiCache with the
// dimension clusterId = the serverless cache name
// (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/serverless-metrics-events-redis.html).
const (
	Namespace = "AWS/ElastiCache"
	Dimension = "clusterId"
)

// Props configure the alarms.
type Props struct {
	// CacheName is the serverless cache name (the clusterId dimension).
	CacheName string
	// AlarmNamePrefix makes alarm names unique and readable in the account.
	AlarmNamePrefix string
}

// Monitoring is the created alarms.
type Monitoring struct {
	constructs.Construct
	// Health is in ALARM when the cache publishes no metrics: a serverless cache reports
	// BytesUsedForCache every minute while it exists, so three silent minutes mean the cache
	// (or its region) is gone. Missing data is breaching.
	Health awscloudwatch.Alarm
}

// New creates the alarms.
func New(scope constructs.Construct, id string, p *Props) *Monitoring {
	c := constructs.NewConstruct(scope, jsii.String(id))
	m := &Monitoring{Construct: c}
	metric := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(Namespace),
		MetricName:    jsii.String("BytesUsedForCache"),
		DimensionsMap: &map[string]*string{Dimension: jsii.String(p.CacheName)},
		Statistic:     jsii.String("SampleCount"),
		Period:        awscdk.Duration_Minutes(jsii.Number(1)),
	})
	m.Health = awscloudwatch.NewAlarm(c, jsii.String("HealthAlarm"), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(fmt.Sprintf("%s-cache-health", p.AlarmNamePrefix)),
		AlarmDescription:   jsii.String(fmt.Sprintf("Serverless cache %s published no metrics for 3 minutes: Route 53 fails the service name over to the DR region.", p.CacheName)),
		Metric:             metric,
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(3),
		DatapointsToAlarm:  jsii.Number(3),
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	return m
}
