package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/canary"
	"github.com/valkey-dr/valkey-dr/constructs/endpoints"
	drcontext "github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/contract"
)

// canaryEndpoints creates the health canary's VPC interface endpoints when the region asks for
// them (createVpcEndpoints): CloudWatch always (the canary's metrics drive the PRIMARY health
// check), Secrets Manager in password mode only (IAM tokens are signed locally; auth none reads
// nothing). A same-region drill never creates them: it shares the primary stack's VPC, whose
// endpoints already serve it, and a second private-DNS endpoint for a service fails the deploy.
func canaryEndpoints(scope constructs.Construct, cfg *drcontext.Config, k *canary.Canary) *endpoints.Endpoints {
	if !cfg.Net.CreateVpcEndpoints || cfg.SameRegionDrill {
		return nil
	}
	services := []string{endpoints.ServiceMonitoring}
	if cfg.Env.Cache.Auth.Mode == contract.AuthPassword {
		services = append([]string{endpoints.ServiceSecretsManager}, services...)
	}
	e := endpoints.New(scope, "CanaryEndpoints", &endpoints.Props{
		Region:                cfg.Region,
		VpcID:                 cfg.Net.VpcID,
		SubnetIDs:             cfg.Net.SubnetIDs,
		ClientSecurityGroupID: k.SecurityGroup.AttrGroupId(),
		Services:              services,
		Owner:                 "the health canary of " + cfg.CacheName(),
	})
	// Private DNS is off (constructs/endpoints): the canary's SDK is pointed at them by name.
	for name, value := range e.SDKEndpointEnv() {
		k.Function.AddPropertyOverride(jsii.String("Environment.Variables."+name), value)
	}
	return e
}
