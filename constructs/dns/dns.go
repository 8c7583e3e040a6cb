// Package dns holds the Route 53 records that let applications find the cache: a regional name
// owned by one stack, and this stack's half of the failover pair for the service name.
package dns

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Props configure the records. The zone is imported by id (no lookup).
type Props struct {
	HostedZoneID string
	// RegionalName is <record>.<region>.<zone>; only this stack ever owns it.
	RegionalName string
	// ServiceName is <record>.<zone>; "" means this stack owns no service record (held-back
	// PRIMARY during failback, same-region drill).
	ServiceName string
	// Role is contract.RolePrimary or contract.RoleSecondary.
	Role string
	// Target is the cache endpoint address (a token at synth time).
	Target *string
	// TTLSeconds is <= 60: after a failover, resolvers must stop answering with the dead
	// endpoint within a minute (CDK's default TTL is 30 minutes).
	TTLSeconds int
	// HealthAlarmName and HealthAlarmRegion drive the PRIMARY record's health check; required
	// for contract.RolePrimary. An alarm, not an endpoint probe, because the cache is private: Route 53
	// health checkers cannot reach it, but they can read a CloudWatch alarm's state.
	HealthAlarmName   *string
	HealthAlarmRegion string
	// HealthAlarmSettings are what Route 53 copies of that alarm (settings.go): a change
	// replaces the health check.
	HealthAlarmSettings AlarmSettings
	// OverrideAlarmName and OverrideAlarmRegion are the forced-failover alarm in the DR region
	// (constructs/failover); with contract.RolePrimary they make the record's health check a calculated
	// one of (health alarm) AND (no failover requested). nil keeps the health alarm alone.
	OverrideAlarmName   *string
	OverrideAlarmRegion string
	// OverrideAlarmSettings are what Route 53 copies of the override alarm.
	OverrideAlarmSettings AlarmSettings
}

// Records are the created record sets.
type Records struct {
	constructs.Construct
	Regional    awsroute53.CfnRecordSet
	Service     awsroute53.CfnRecordSet // nil when ServiceName == ""
	HealthCheck awsroute53.CfnHealthCheck
	// Override and Calculated are nil unless Props.OverrideAlarmName is set (override.go).
	Override   awsroute53.CfnHealthCheck
	Calculated awsroute53.CfnHealthCheck
}

// New creates the records.
func New(scope constructs.Construct, id string, p *Props) *Records {
	c := constructs.NewConstruct(scope, jsii.String(id))
	r := &Records{Construct: c}
	ttl := jsii.String(fmt.Sprint(p.TTLSeconds))

	r.Regional = awsroute53.NewCfnRecordSet(c, jsii.String("RegionalRecord"), &awsroute53.CfnRecordSetProps{
		HostedZoneId:    jsii.String(p.HostedZoneID),
		Name:            jsii.String(p.RegionalName),
		Type:            jsii.String("CNAME"),
		Ttl:             ttl,
		ResourceRecords: &[]*string{p.Target},
		Comment:         jsii.String("Regional name of the session cache endpoint (valkey-dr)"),
	})
	if p.ServiceName == "" {
		return r
	}

	props := &awsroute53.CfnRecordSetProps{
		HostedZoneId:    jsii.String(p.HostedZoneID),
		Name:            jsii.String(p.ServiceName),
		Type:            jsii.String("CNAME"),
		Ttl:             ttl,
		ResourceRecords: &[]*string{p.Target},
		Failover:        jsii.String(p.Role),
		// Distinct set identifiers: the primary and the DR stack each own one record of the
		// pair, so a DR deploy never touches what the primary stack owns.
		SetIdentifier: jsii.String(strings.ToLower(p.Role)),
		Comment:       jsii.String(fmt.Sprintf("Service name of the session cache, %s of the failover pair (valkey-dr)", p.Role)),
	}
	if p.Role == contract.RolePrimary {
		r.HealthCheck = awsroute53.NewCfnHealthCheck(c, jsii.String("PrimaryHealthCheck"+p.HealthAlarmSettings.Fingerprint()), &awsroute53.CfnHealthCheckProps{
			HealthCheckConfig: &awsroute53.CfnHealthCheck_HealthCheckConfigProperty{
				Type: jsii.String("CLOUDWATCH_METRIC"),
				AlarmIdentifier: &awsroute53.CfnHealthCheck_AlarmIdentifierProperty{
					Name:   p.HealthAlarmName,
					Region: jsii.String(p.HealthAlarmRegion),
				},
				// A region that stops publishing metrics is a failed region: no data must
				// mean unhealthy, or failover would wait for a human.
				InsufficientDataHealthStatus: jsii.String("Unhealthy"),
			},
		})
		props.HealthCheckId = r.HealthCheck.AttrHealthCheckId()
		if p.OverrideAlarmName != nil {
			props.HealthCheckId = r.withOverride(c, p)
		}
	}
	r.Service = awsroute53.NewCfnRecordSet(c, jsii.String("ServiceRecord"), props)
	return r
}
