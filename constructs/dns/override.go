package dns

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// withOverride adds the forced-failover half of the PRIMARY record's health (docs/design.md,
// "Forced failover") and returns the id of the health check the record must use: a CALCULATED health check,
// healthy only when ALL its children are (HealthThreshold = number of children):
//   - the existing health-alarm check (canary Success; no data is unhealthy), and
//   - an override check on the forced-failover alarm in the DR region, for which no data is
//     HEALTHY: the switch is never used until an operator publishes a request.
//
// Route 53 evaluates both from its data plane, so the switch works with the primary region and
// Route 53's control plane (us-east-1) both gone
// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-types.html,
// "Health checks that monitor other health checks (calculated health checks)").
func (r *Records) withOverride(c constructs.Construct, p *Props) *string {
	r.Override = awsroute53.NewCfnHealthCheck(c, jsii.String("FailoverOverrideHealthCheck"+p.OverrideAlarmSettings.Fingerprint()), &awsroute53.CfnHealthCheckProps{
		HealthCheckConfig: &awsroute53.CfnHealthCheck_HealthCheckConfigProperty{
			Type: jsii.String("CLOUDWATCH_METRIC"),
			AlarmIdentifier: &awsroute53.CfnHealthCheck_AlarmIdentifierProperty{
				Name:   p.OverrideAlarmName,
				Region: jsii.String(p.OverrideAlarmRegion),
			},
			// Never published (or the DR region's CloudWatch unreadable): no request, healthy.
			InsufficientDataHealthStatus: jsii.String("Healthy"),
		},
	})
	children := []*string{r.HealthCheck.AttrHealthCheckId(), r.Override.AttrHealthCheckId()}
	r.Calculated = awsroute53.NewCfnHealthCheck(c, jsii.String("PrimaryCalculatedHealthCheck"), &awsroute53.CfnHealthCheckProps{
		HealthCheckConfig: &awsroute53.CfnHealthCheck_HealthCheckConfigProperty{
			Type:              jsii.String("CALCULATED"),
			ChildHealthChecks: &children,
			HealthThreshold:   jsii.Number(float64(len(children))),
		},
	})
	return r.Calculated.AttrHealthCheckId()
}
