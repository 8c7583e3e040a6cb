// Package twocaches is a small CDK app of another team that reuses valkey-dr's constructs: two
// ElastiCache Serverless (Valkey) caches in ONE stack, with the valkey-dr compliance gate
// (cdk-nag AwsSolutions + HIPAA Security, our VDR rules) on its stack. Its command is
// cmd/twocaches:
//
//	npx cdk synth --app 'go run ./examples/twocaches/cmd/twocaches'
//
// In your own module: require github.com/valkey-dr/valkey-dr with a replace directive pointing
// at a checkout (the module path is not fetchable), then copy this package.
package twocaches

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/compliance/gate"
	"github.com/valkey-dr/valkey-dr/constructs/sessioncache"
	"github.com/valkey-dr/valkey-dr/contract"
)

// Settings of the example: in a real app they come from your typed config.
const (
	account = "111111111111"
	region  = "us-west-2"
	// VpcID and Subnets place the caches (exported for the tests).
	VpcID = "vpc-0example0000000001"
)

// Subnets are the caches' subnets.
var Subnets = []string{"subnet-0example000000001", "subnet-0example000000002"}

// Build is the whole app: one stack, two caches, the gate.
func Build(app awscdk.App) (awscdk.Stack, []*sessioncache.SessionCache) {
	stack := awscdk.NewStack(app, jsii.String("TeamSessions"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
	})
	var caches []*sessioncache.SessionCache
	// Construct ids scope the logical ids ("Orders", "OrdersSecurityGroup", ...): two caches,
	// two names, no collision.
	for _, name := range []string{"Orders", "Carts"} {
		cacheName := "team-" + lower(name)
		caches = append(caches, sessioncache.New(stack, name, &sessioncache.Props{
			CacheName:              cacheName,
			Description:            fmt.Sprintf("%s sessions of the team app", name),
			MajorEngineVersion:     8,
			VpcID:                  VpcID,
			SubnetIDs:              Subnets,
			SourceSecurityGroupIDs: []string{"sg-0exampleapplication01"},
			Auth: sessioncache.AuthProps{Mode: contract.AuthPassword, UserID: cacheName + "-app", UserName: "app",
				UserGroupID: cacheName + "-users", AccessString: "on ~* +@all -@dangerous"},
			// Stated: the cache and its password secret follow it together.
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		}))
	}
	// The tags our rules require (VDR-010) on every cache.
	for k, v := range map[string]string{"environment": "team-dev", "drMode": "none", "dataClassification": "internal", "owner": "team"} {
		awscdk.Tags_Of(stack).Add(jsii.String(k), jsii.String(v), nil)
	}
	gate.ApplyToStacks(app, gate.Reused{Stack: stack, Caches: caches,
		Facts: compliance.Facts{Environment: "team-dev", DrMode: "none"}})
	return stack, caches
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
