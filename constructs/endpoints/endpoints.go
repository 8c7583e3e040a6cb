// Package endpoints holds the optional VPC interface endpoints the health canary needs when its
// subnets have no route to the AWS APIs (no NAT gateway): Secrets Manager for the password and
// CloudWatch for the metrics. Without them the canary publishes nothing, the health alarm's
// missing data breaches, and a healthy primary fails over. They have private DNS OFF: the canary
// alone uses them, by their endpoint-specific names, and no other workload of the VPC changes
// path.
package endpoints

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Services an endpoint can be created for: the AWS service names after com.amazonaws.<region>.
const (
	// ServiceSecretsManager serves secretsmanager:GetSecretValue (password mode).
	ServiceSecretsManager = "secretsmanager"
	// ServiceMonitoring serves cloudwatch:PutMetricData (every mode).
	ServiceMonitoring = "monitoring"
)

// Props configure the endpoints.
type Props struct {
	// Region is the deploy region (the endpoint service names carry it).
	Region string
	// VpcID and SubnetIDs are the canary's (the cache's) VPC and subnets: one endpoint network
	// interface per subnet.
	VpcID     string
	SubnetIDs []string
	// ClientSecurityGroupID is the canary's group: the only source allowed in on 443.
	ClientSecurityGroupID *string
	// Services are the endpoint services, e.g. ServiceSecretsManager, ServiceMonitoring.
	Services []string
	// Owner names what the endpoints serve, for descriptions.
	Owner string
}

// Endpoints are the created endpoints and their security group.
type Endpoints struct {
	constructs.Construct
	SecurityGroup awsec2.CfnSecurityGroup
	// ByService is the endpoint of each service.
	ByService map[string]awsec2.CfnVPCEndpoint
}

// SDKEndpointEnv are the environment variables that point an AWS SDK at these endpoints
// (service-specific endpoints: AWS_ENDPOINT_URL_<service id>,
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), each the
// endpoint's regional DNS name, the first of its DnsEntries ("<zone id>:<name>").
func (e *Endpoints) SDKEndpointEnv() map[string]*string {
	out := map[string]*string{}
	for svc, ep := range e.ByService {
		name := awscdk.Fn_Select(jsii.Number(1), awscdk.Fn_Split(jsii.String(":"), awscdk.Fn_Select(jsii.Number(0), ep.AttrDnsEntries()), nil))
		out[sdkEnvVar[svc]] = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), name})
	}
	return out
}

// sdkEnvVar is the AWS_ENDPOINT_URL_<service id> variable of each service
// (https://docs.aws.amazon.com/sdkref/latest/guide/ss-endpoints-table.html).
var sdkEnvVar = map[string]string{
	ServiceSecretsManager: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	ServiceMonitoring:     "AWS_ENDPOINT_URL_CLOUDWATCH",
}

// New creates one interface endpoint per service, private DNS OFF. With private DNS on, the
// endpoint would answer secretsmanager.<region>.amazonaws.com and monitoring.<region>.amazonaws.com
// for the WHOLE VPC (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html),
// behind a security group that admits the canary only: every other workload of the VPC,
// applications reading the cache password included, would time out after the deploy. Off, the
// canary reaches them by their endpoint-specific names (SDKEndpointEnv) and nothing else in the
// VPC changes; a VPC that already has endpoints with private DNS keeps them
// (https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html).
func New(scope constructs.Construct, id string, p *Props) *Endpoints {
	c := constructs.NewConstruct(scope, jsii.String(id))
	e := &Endpoints{Construct: c, ByService: map[string]awsec2.CfnVPCEndpoint{}}
	e.SecurityGroup = awsec2.NewCfnSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.CfnSecurityGroupProps{
		GroupDescription: jsii.String(fmt.Sprintf("VPC interface endpoints of %s: HTTPS 443 from its health canary only", p.Owner)),
		VpcId:            jsii.String(p.VpcID),
		SecurityGroupIngress: &[]interface{}{&awsec2.CfnSecurityGroup_IngressProperty{
			IpProtocol:            jsii.String("tcp"),
			FromPort:              jsii.Number(443),
			ToPort:                jsii.Number(443),
			SourceSecurityGroupId: p.ClientSecurityGroupID,
			Description:           jsii.String("HTTPS from the health canary"),
		}},
		// Without an explicit rule CloudFormation allows all egress; endpoints initiate nothing.
		SecurityGroupEgress: &[]interface{}{&awsec2.CfnSecurityGroup_EgressProperty{
			IpProtocol:  jsii.String("icmp"),
			FromPort:    jsii.Number(252),
			ToPort:      jsii.Number(86),
			CidrIp:      jsii.String("255.255.255.255/32"),
			Description: jsii.String("Disallow all traffic: interface endpoints never initiate connections"),
		}},
	})
	for _, svc := range p.Services {
		e.ByService[svc] = awsec2.NewCfnVPCEndpoint(c, jsii.String(idOf(svc)), &awsec2.CfnVPCEndpointProps{
			ServiceName:       jsii.String(fmt.Sprintf("com.amazonaws.%s.%s", p.Region, svc)),
			VpcEndpointType:   jsii.String("Interface"),
			VpcId:             jsii.String(p.VpcID),
			SubnetIds:         jsii.AnyStrings(p.SubnetIDs...),
			SecurityGroupIds:  &[]interface{}{e.SecurityGroup.AttrGroupId()},
			PrivateDnsEnabled: jsii.Bool(false),
		})
	}
	return e
}

func idOf(svc string) string {
	switch svc {
	case ServiceSecretsManager:
		return "SecretsManager"
	case ServiceMonitoring:
		return "Monitoring"
	}
	return svc
}
