// Command brokenapp is the CDK app of main.go with one deliberate defect, the kind a code change
// could bring in and context validation cannot see. compliance/cli_test.go runs it through the
// real `cdk synth` to prove the gate stops it there. -break names the defect.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/compliance/gate"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/stacks"
)

func main() {
	list := flag.String("break", "", "comma-separated: termination-protection, kms, open-cidr, cfn-schema")
	flag.Parse()
	defects := map[string]bool{}
	for _, d := range strings.Split(*list, ",") {
		defects[d] = true
	}
	app := awscdk.NewApp(nil)
	get := func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }
	cfg, err := drcontext.Load(drcontext.Input{
		Environments: get(drcontext.KeyEnvironments), Environment: get(drcontext.KeyEnvironment),
		Region: get(drcontext.KeyRegion), DrMode: get(drcontext.KeyDrMode),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if defects["kms"] { // the CMK dropped in code, after context validation required it
		cfg.Net.KmsKeyArn = ""
	}
	if defects["open-cidr"] { // an "allow everyone" source added in code
		cfg.Net.AllowedCidrs = append(cfg.Net.AllowedCidrs, "0.0.0.0/0")
	}
	stack := stacks.NewCacheStack(app, cfg)
	if defects["termination-protection"] {
		stack.SetTerminationProtection(jsii.Bool(false))
	}
	if defects["cfn-schema"] { // an escape hatch writing a property CloudFormation does not have
		stack.Cache.Cache.AddPropertyOverride(jsii.String("SnapshotRetentionDays"), jsii.Number(3))
	}
	gate.Apply(app, gate.Gated{Stack: stack, Config: cfg})
	app.Synth(nil)
	jsii.Close()
}
