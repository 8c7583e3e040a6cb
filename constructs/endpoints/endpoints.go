// Package endpoints holds the optional VPC interface endpoints the health canary needs when its
// subnets have no route to the AWS APIs (no NAT gateway): Secrets Manager for the password and
// CloudWatch for the metrics. Without them the canary publishes nothing, the health alarm's
// missing data breaches, and a healthy primary fails over about three minutes after its deploy.
package endpoints

import (
	"fmt"

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

// New creates one interface endpoint per service, with private DNS so that the SDK's default
// endpoint (secretsmanager.<region>.amazonaws.com, monitoring.<region>.amazonaws.com) resolves
// to it inside the VPC. Private DNS needs the VPC's enableDnsSupport and enableDnsHostnames, and
// fails when the VPC already has an endpoint with private DNS for the same service
// (https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html,
// https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html).
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
			PrivateDnsEnabled: jsii.Bool(true),
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
