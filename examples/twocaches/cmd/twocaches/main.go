// Command twocaches synthesizes the example app of package twocaches.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/examples/twocaches"
)

func main() {
	app := awscdk.NewApp(nil)
	twocaches.Build(app)
	app.Synth(nil)
	jsii.Close()
}
