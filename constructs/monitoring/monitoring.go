// Package monitoring holds the CloudWatch alarms, their SNS topic and the dashboard of the
// session cache: runbook section 7 (stabilization) as numbers, and the health alarm Route 53
// reads to decide whether the PRIMARY record may answer.
package monitoring

import (
	"fmt"
	"github.com/valkey-dr/valkey-dr/constructs/alarmtopic"
	"github.com/valkey-dr/valkey-dr/constructs/dns"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Namespace, dimension and metric names of ElastiCache Serverless (Valkey) caches, exactly as
// documented: namespace AWS/ElastiCache, dimension clusterId = the serverless cache name.
// https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/serverless-metrics-events-redis.html
const (
	Namespace = "AWS/ElastiCache"
	Dimension = "clusterId"

	MetricBytesUsedForCache         = "BytesUsedForCache"          // Bytes
	MetricECPUs                     = "ElastiCacheProcessingUnits" // Count, ECPUs consumed
	MetricReadLatency               = "SuccessfulReadRequestLatency"
	MetricWriteLatency              = "SuccessfulWriteRequestLatency" // Microseconds
	MetricThrottledCmds             = "ThrottledCmds"
	MetricCurrConnections           = "CurrConnections"
	bytesPerGB              float64 = 1e9 // decimal GB: the alarm fires early rather than late
)

// The Health alarm, which the PRIMARY record's health check reads: the canary runs every
// minute, so a period holds five runs and one missed, late or duplicated run cannot decide it
// (internal/route53model proves it on the synthesized template).
const (
	HealthPeriod    = 5 * time.Minute
	HealthStatistic = "Average"
	// HealthThreshold: below it, fewer than half of the period's runs passed (Success is 1/0).
	HealthThreshold = 0.5
)

// Props configure the alarms. The thresholds are resolved values (drcontext fills the defaults:
// Config.ReadLatencyP99Micros and the like); a zero one panics, never defaults here.
type Props struct {
	// CacheName is the serverless cache name (the clusterId dimension).
	CacheName string
	// AlarmNamePrefix makes alarm names unique and readable in the account.
	AlarmNamePrefix string
	// ReadLatencyP99Micros and WriteLatencyP99Micros are the SLA for p99 latency.
	ReadLatencyP99Micros  int
	WriteLatencyP99Micros int
	// DataStorageMaxGB and ECPUPerSecondMax are the cache's usage limits; 0 (no limit) means
	// there is no maximum to approach, so no usage alarm for it.
	DataStorageMaxGB int
	ECPUPerSecondMax int
	// UsagePercent is how close to a usage limit the usage alarms fire.
	UsagePercent int
	// MaxConnections is the CurrConnections level that counts as a surge.
	MaxConnections int
	// AlarmTopicArn is an existing SNS topic for notifications; "" creates one, encrypted with
	// its own key (CloudWatch cannot publish to a topic under the AWS-managed aws/sns key).
	AlarmTopicArn string
	// Canary is the health canary's signal (constructs/canary). When set, the Health alarm is
	// on the canary's Success and the dashboard shows the canary; nil keeps the fallback
	// heartbeat (BytesUsedForCache published at all), for stacks built without a canary.
	Canary *CanarySignal
}

// CanarySignal are the health canary's metrics.
type CanarySignal struct {
	// Success is 1 when a run passed every check, 0 when one failed, Minimum per minute (the
	// Health alarm reads it with HealthStatistic over HealthPeriod).
	Success awscloudwatch.Metric
	// Latency and CommandLatency are graphed on the dashboard.
	Latency, CommandLatency awscloudwatch.IMetric
	// ReaderSuccess is the read port's health (1/0); nil without one. It gets its own alarm
	// (reader-health) and widget and never feeds Health, which moves traffic.
	ReaderSuccess awscloudwatch.IMetric
}

// Monitoring is the created alarms, topic and dashboard.
type Monitoring struct {
	constructs.Construct
	// Health is in ALARM when most health canary runs of HealthPeriod failed, or none
	// published: missing data is breaching, since a dead region publishes nothing.
	// Without a canary (Props.Canary nil) it falls back to the cache's own heartbeat: a
	// serverless cache reports BytesUsedForCache every minute while it exists.
	Health awscloudwatch.Alarm
	// HealthSettings are what Route 53 copies of Health (constructs/dns): the PRIMARY health
	// check is replaced when they change.
	HealthSettings dns.AlarmSettings
	// Alarms are the stabilization alarms, by short name (throttled, read-latency, ...).
	Alarms    map[string]awscloudwatch.Alarm
	Topic     awssns.ITopic
	Dashboard awscloudwatch.Dashboard

	// all is every alarm in creation order, Health first: the dashboard shows exactly these,
	// so a new alarm cannot be left off it.
	all []interfacesawscloudwatch.IAlarmRef
}

// routeSettings describes an alarm on metric as Route 53 copies it.
// op is CloudFormation's name of the comparison (the Go enum's value is the jsii constant name).
func routeSettings(metric awscloudwatch.Metric, evaluationPeriods int, threshold float64, op string) dns.AlarmSettings {
	dims := map[string]string{}
	if m := metric.Dimensions(); m != nil {
		for k, v := range *m {
			dims[k] = fmt.Sprint(v)
		}
	}
	return dns.AlarmSettings{Namespace: *metric.Namespace(), MetricName: *metric.MetricName(), Dimensions: dims,
		Statistic: *metric.Statistic(), PeriodSeconds: int(*metric.Period().ToSeconds(nil)), EvaluationPeriods: evaluationPeriods,
		Threshold: threshold, ComparisonOperator: op}
}

// New creates the alarms, the topic and the dashboard.
func New(scope constructs.Construct, id string, p *Props) *Monitoring {
	if p.ReadLatencyP99Micros <= 0 || p.WriteLatencyP99Micros <= 0 || p.UsagePercent <= 0 || p.MaxConnections <= 0 {
		panic(fmt.Sprintf("monitoring: a threshold is unset (read %d µs, write %d µs, usage %d%%, connections %d): the caller passes drcontext's resolved values",
			p.ReadLatencyP99Micros, p.WriteLatencyP99Micros, p.UsagePercent, p.MaxConnections))
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	m := &Monitoring{Construct: c, Alarms: map[string]awscloudwatch.Alarm{}}
	m.Topic = alarmTopic(c, p)
	action := awscloudwatchactions.NewSnsAction(m.Topic)

	metric := func(name, stat string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String(Namespace),
			MetricName:    jsii.String(name),
			DimensionsMap: &map[string]*string{Dimension: jsii.String(p.CacheName)},
			Statistic:     jsii.String(stat),
			Period:        awscdk.Duration_Minutes(jsii.Number(1)),
		})
	}
	alarm := func(short, desc string, props *awscloudwatch.AlarmProps) awscloudwatch.Alarm {
		props.AlarmName = jsii.String(fmt.Sprintf("%s-%s", p.AlarmNamePrefix, short))
		props.AlarmDescription = jsii.String(desc)
		if props.TreatMissingData == "" {
			// No traffic is not a problem for these; the health alarm covers silence.
			props.TreatMissingData = awscloudwatch.TreatMissingData_NOT_BREACHING
		}
		a := awscloudwatch.NewAlarm(c, jsii.String(short), props)
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		m.all = append(m.all, a)
		return a
	}

	// Route 53 reads this alarm's data stream with its metric, statistic, period and threshold
	// only (never DatapointsToAlarm or TreatMissingData), and with no data it takes the health
	// check's InsufficientDataHealthStatus (Unhealthy): so one period is judged on its own, and a
	// period must hold several canary runs, or one late point would fail a healthy primary over
	// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_CloudWatchAlarmConfiguration.html).
	// Average over HealthPeriod below HealthThreshold: most runs of the period failed.
	period := awscdk.Duration_Seconds(jsii.Number(HealthPeriod.Seconds()))
	healthMetric := metric(MetricBytesUsedForCache, "SampleCount").With(&awscloudwatch.MetricOptions{Period: period})
	healthDesc := fmt.Sprintf("Serverless cache %s published no metrics for %s: Route 53 fails the service name over to the DR region.", p.CacheName, HealthPeriod)
	if p.Canary != nil {
		healthMetric = p.Canary.Success.With(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String(HealthStatistic)})
		healthDesc = fmt.Sprintf("Fewer than half of the health canary's runs against serverless cache %s passed in %s (or none published): "+
			"Route 53 fails the service name over to the DR region. Its logs say which check failed; no data at all means the canary "+
			"could not run or reach CloudWatch.", p.CacheName, HealthPeriod)
	}
	m.HealthSettings = routeSettings(healthMetric, 1, HealthThreshold, "LessThanThreshold")
	m.Health = alarm("cache-health", healthDesc, &awscloudwatch.AlarmProps{
		Metric:             healthMetric,
		Threshold:          jsii.Number(HealthThreshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		DatapointsToAlarm:  jsii.Number(1),
		// The alarm's own state (notifications) then says what Route 53 concludes.
		TreatMissingData: awscloudwatch.TreatMissingData_BREACHING,
	})

	if p.Canary != nil && p.Canary.ReaderSuccess != nil {
		// The read port is eventually consistent and never fails the primary over: its own
		// alarm notifies, nothing routes on it. Missing data is not breaching: silence of the
		// whole canary is what Health is for.
		m.Alarms["reader-health"] = alarm("reader-health", fmt.Sprintf("The read port (read-from-replica) of serverless cache %s failed the canary's reader checks for 3 minutes: "+
			"reads through it may fail or be stale. This alarm never moves traffic; the primary port's health is cache-health.", p.CacheName), &awscloudwatch.AlarmProps{
			Metric:             p.Canary.ReaderSuccess,
			Threshold:          jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(3),
			DatapointsToAlarm:  jsii.Number(3),
		})
	}
	m.Alarms["throttled"] = alarm("throttled", "ElastiCache throttled commands: the workload is scaling faster than the cache (or hit its ECPU limit).", &awscloudwatch.AlarmProps{
		Metric:             metric(MetricThrottledCmds, "Sum"),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
	})
	for _, l := range []struct {
		short, metric, what string
		sla                 int
	}{
		{"read-latency-p99", MetricReadLatency, "read", p.ReadLatencyP99Micros},
		{"write-latency-p99", MetricWriteLatency, "write", p.WriteLatencyP99Micros},
	} {
		m.Alarms[l.short] = alarm(l.short, fmt.Sprintf("p99 %s latency above the SLA of %d µs for 3 minutes.", l.what, l.sla), &awscloudwatch.AlarmProps{
			Metric:             metric(l.metric, "p99"),
			Threshold:          jsii.Number(float64(l.sla)),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(3),
			DatapointsToAlarm:  jsii.Number(3),
		})
	}
	pct := p.UsagePercent
	if p.ECPUPerSecondMax > 0 {
		// The metric is ECPUs consumed; its per-minute Sum over 60 s is the per-second rate
		// the ECPUPerSecond limit caps.
		threshold := float64(p.ECPUPerSecondMax) * 60 * float64(pct) / 100
		m.Alarms["ecpu-usage"] = alarm("ecpu-usage", fmt.Sprintf("ECPU consumption at %d%% or more of the %d ECPU/s limit.", pct, p.ECPUPerSecondMax), &awscloudwatch.AlarmProps{
			Metric:             metric(MetricECPUs, "Sum"),
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(3),
			DatapointsToAlarm:  jsii.Number(2),
		})
	}
	if p.DataStorageMaxGB > 0 {
		threshold := float64(p.DataStorageMaxGB) * bytesPerGB * float64(pct) / 100
		m.Alarms["storage-usage"] = alarm("storage-usage", fmt.Sprintf("Data stored at %d%% or more of the %d GB limit.", pct, p.DataStorageMaxGB), &awscloudwatch.AlarmProps{
			Metric:             metric(MetricBytesUsedForCache, "Maximum"),
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(3),
			DatapointsToAlarm:  jsii.Number(2),
		})
	}
	maxConn := p.MaxConnections
	m.Alarms["connections-surge"] = alarm("connections-surge", fmt.Sprintf("More than %d client connections: a reconnect storm or a connection leak.", maxConn), &awscloudwatch.AlarmProps{
		Metric:             metric(MetricCurrConnections, "Maximum"),
		Threshold:          jsii.Number(float64(maxConn)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(2),
	})

	m.Dashboard = dashboard(c, p, metric, m)
	return m
}

func alarmTopic(scope constructs.Construct, p *Props) awssns.ITopic {
	if p.AlarmTopicArn != "" {
		return awssns.Topic_FromTopicArn(scope, jsii.String("AlarmTopic"), jsii.String(p.AlarmTopicArn))
	}
	return alarmtopic.New(scope, &alarmtopic.Props{KeyID: "AlarmTopicKey", TopicID: "AlarmTopic",
		KeyDescription: fmt.Sprintf("Encrypts the alarm topic of session cache %s", p.CacheName),
		DisplayName:    fmt.Sprintf("valkey-dr alarms for %s", p.CacheName), AlarmNamePrefix: p.AlarmNamePrefix + "-"})
}

func dashboard(scope constructs.Construct, p *Props, metric func(string, string) awscloudwatch.Metric, m *Monitoring) awscloudwatch.Dashboard {
	graph := func(title string, ms ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &ms, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}
	alarms := append([]interfacesawscloudwatch.IAlarmRef{}, m.all...)
	rows := []*[]awscloudwatch.IWidget{
		{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String(fmt.Sprintf("Session cache %s: alarms", p.CacheName)), Alarms: &alarms, Width: jsii.Number(24),
		})},
		{
			graph("Read latency (µs)", metric(MetricReadLatency, "p50"), metric(MetricReadLatency, "p99")),
			graph("Write latency (µs)", metric(MetricWriteLatency, "p50"), metric(MetricWriteLatency, "p99")),
			graph("Throttled commands", metric(MetricThrottledCmds, "Sum")),
		},
		{
			graph("ECPUs consumed", metric(MetricECPUs, "Sum")),
			graph("Bytes used", metric(MetricBytesUsedForCache, "Maximum")),
			graph("Connections", metric(MetricCurrConnections, "Maximum")),
		},
	}
	if c := p.Canary; c != nil {
		rows = append(rows, &[]awscloudwatch.IWidget{
			graph("Health canary: success (1/0, min per minute)", c.Success),
			graph("Health canary: check run (ms)", c.Latency),
			graph("Health canary: SET+GET (ms)", c.CommandLatency),
		})
		if c.ReaderSuccess != nil {
			rows = append(rows, &[]awscloudwatch.IWidget{
				graph("Health canary: read port (1/0; not in the failover path)", c.ReaderSuccess),
			})
		}
	}
	d := awscloudwatch.NewDashboard(scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(p.AlarmNamePrefix),
		Widgets:       &rows,
	})
	// No tags on the dashboard, in any Region: the CloudFormation registry schema of
	// AWS::CloudWatch::Dashboard in us-east-1 has no Tags property (taggable false; us-west-2's
	// has one), so the stack's tags made the primary fail cfn-lint E3002 there and would fail
	// the deploy's validation. A dashboard's tags are decoration: nothing is billed or
	// authorized by them. Check with `aws cloudformation describe-type --type RESOURCE
	// --type-name AWS::CloudWatch::Dashboard --region <region>` (docs/runbook.md, before a deploy).
	d.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(jsii.String("Tags"))
	return d
}
