package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/dns"
	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
)

// DNSStack holds the Route 53 records of a cache stack made on the night (Mode.OnTheNight):
// deployed after validation (`--context stack=dns`), as a step of its own. Route 53's control
// plane is in us-east-1: when it is impaired this deploy fails alone, and the validated cache
// keeps serving, found through the DR region's SSM parameters (docs/design.md, "Static
// stability").
type DNSStack struct {
	awscdk.Stack
	DNS *dns.Records
}

// NewDNSStack builds the DNS stack of cfg (Config.DNSStackID). The records point at the
// endpoint the cache stack wrote to SSM, read when CloudFormation deploys this stack (a dynamic
// reference): no export ties the two stacks, so the cache stack can be replaced or deleted
// on its own.
func NewDNSStack(scope constructs.Construct, cfg *drcontext.Config) *DNSStack {
	if !cfg.Mode().OnTheNight {
		panic(fmt.Sprintf("stacks: drMode=%s keeps its records in its cache stack; %s=%s applies to a stack made on the night", cfg.DrMode, drcontext.KeyStack, drcontext.StackDNS))
	}
	stack := awscdk.NewStack(scope, jsii.String(cfg.DNSStackID()), &awscdk.StackProps{
		Env: &awscdk.Environment{
			Account: jsii.String(cfg.Env.Account),
			Region:  jsii.String(cfg.Region),
		},
		Description: jsii.String(fmt.Sprintf("valkey-dr Route 53 records of %s: environment %s, region %s, drMode %s (deployed after validation)",
			cfg.StackID(), cfg.EnvironmentName, cfg.Region, cfg.DrMode)),
		TerminationProtection: jsii.Bool(cfg.IsProduction()),
	})
	target := fmt.Sprintf("{{resolve:ssm:%s/%s}}", cfg.SSMPrefix(), contract.SSMParamEndpointAddress)
	s := &DNSStack{Stack: stack}
	s.DNS = dns.New(stack, "Dns", dnsProps(cfg, jsii.String(target), nil))
	dnsOutputs(stack, cfg, s.DNS)
	awscdk.NewCfnOutput(stack, jsii.String(contract.KeyRegion), &awscdk.CfnOutputProps{Value: jsii.String(cfg.Region), Description: jsii.String("Region")})
	awscdk.NewCfnOutput(stack, jsii.String(contract.KeyEnvironment), &awscdk.CfnOutputProps{Value: jsii.String(cfg.EnvironmentName), Description: jsii.String("Environment")})
	tagAll(stack, cfg.Tags())
	return s
}

// dnsOutputs are the names a stack's records answer.
func dnsOutputs(stack awscdk.Stack, cfg *drcontext.Config, r *dns.Records) {
	awscdk.NewCfnOutput(stack, jsii.String(contract.KeyRegionalDNSName), &awscdk.CfnOutputProps{
		Value: jsii.String(cfg.RegionalDNSName()), Description: jsii.String("Regional CNAME to the endpoint")})
	if r.Service != nil {
		awscdk.NewCfnOutput(stack, jsii.String(contract.KeyServiceDNSName), &awscdk.CfnOutputProps{
			Value: jsii.String(cfg.ServiceDNSName()), Description: jsii.String(fmt.Sprintf("Service name (%s of the failover pair)", cfg.FailoverRole()))})
	}
}
