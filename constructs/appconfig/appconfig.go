// Package appconfig publishes the cache endpoint as SSM parameters: the TLS-safe way for an
// application to find the cache in its own region (the certificate matches the endpoint, not
// our CNAMEs).
package appconfig

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Parameter names under the prefix.
const (
	ParamEndpointAddress = "endpoint-address"
	ParamPort            = "port"
	ParamReaderPort      = "reader-port"
)

// Props configure the parameters.
type Props struct {
	// Prefix is the parameter path, e.g. /valkey-dr/prod (no trailing slash).
	Prefix string
	// Address, Port and ReaderPort are the cache endpoint (tokens at synth time).
	Address, Port, ReaderPort *string
}

// AppConfig is the created parameters.
type AppConfig struct {
	constructs.Construct
	Parameters []awsssm.StringParameter
}

// New creates the parameters.
func New(scope constructs.Construct, id string, p *Props) *AppConfig {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &AppConfig{Construct: c}
	for _, v := range []struct {
		id, name, desc string
		value          *string
	}{
		{"EndpointAddress", ParamEndpointAddress, "Session cache endpoint hostname (TLS certificate matches it)", p.Address},
		{"Port", ParamPort, "Session cache read/write port", p.Port},
		{"ReaderPort", ParamReaderPort, "Session cache read-from-replica port", p.ReaderPort},
	} {
		a.Parameters = append(a.Parameters, awsssm.NewStringParameter(c, jsii.String(v.id), &awsssm.StringParameterProps{
			ParameterName: jsii.String(fmt.Sprintf("%s/%s", p.Prefix, v.name)),
			Description:   jsii.String(v.desc),
			StringValue:   v.value,
		}))
	}
	return a
}
