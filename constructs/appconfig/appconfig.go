// Package appconfig publishes the cache endpoint as SSM parameters: the TLS-safe way for an
// application to find the cache in its own region (the certificate matches the endpoint, not
// our CNAMEs).
package appconfig

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Parameter names under the prefix (besides contract.SSMParamEndpointAddress, which the DNS
// stack resolves too).
const (
	ParamPort       = "port"
	ParamReaderPort = "reader-port"
	// ParamAuthMode is password, iam or none: how to authenticate.
	ParamAuthMode = "auth-mode"
	// ParamUserName is the user to authenticate as (password and iam modes).
	ParamUserName = "user-name"
	// ParamSecretArn is the Secrets Manager secret holding the password (password mode): its
	// ARN only, never the value, so that an application in the DR region can connect from SSM
	// alone (its JSON has "username" and "password").
	ParamSecretArn = "secret-arn"
)

// Props configure the parameters.
type Props struct {
	// Prefix is the parameter path, e.g. /valkey-dr/prod (no trailing slash).
	Prefix string
	// Address, Port and ReaderPort are the cache endpoint (tokens at synth time).
	Address, Port, ReaderPort *string
	// AuthMode is password, iam or none.
	AuthMode string
}

// AppConfig is the created parameters.
type AppConfig struct {
	constructs.Construct
	Parameters []awsssm.StringParameter
	prefix     string
}

// New creates the parameters.
func New(scope constructs.Construct, id string, p *Props) *AppConfig {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &AppConfig{Construct: c, prefix: p.Prefix}
	for _, v := range []struct {
		id, name, desc string
		value          *string
	}{
		{"EndpointAddress", contract.SSMParamEndpointAddress, "Session cache endpoint hostname (TLS certificate matches it)", p.Address},
		{"Port", ParamPort, "Session cache read/write port", p.Port},
		{"ReaderPort", ParamReaderPort, "Session cache read-from-replica port", p.ReaderPort},
		{"AuthMode", ParamAuthMode, "Session cache auth mode: password, iam or none", jsii.String(p.AuthMode)},
	} {
		a.add(v.id, v.name, v.desc, v.value)
	}
	return a
}

// AddUser publishes the user name to authenticate as.
func (a *AppConfig) AddUser(name string) {
	a.add("UserName", ParamUserName, "Session cache user name to authenticate as", jsii.String(name))
}

// AddSecretArn publishes the password secret's ARN (password mode): never its value.
func (a *AppConfig) AddSecretArn(arn *string) {
	a.add("SecretArn", ParamSecretArn, "ARN of the Secrets Manager secret with the session cache password (read it with secretsmanager:GetSecretValue)", arn)
}

func (a *AppConfig) add(id, name, desc string, value *string) {
	a.Parameters = append(a.Parameters, awsssm.NewStringParameter(a.Construct, jsii.String(id), &awsssm.StringParameterProps{
		ParameterName: jsii.String(fmt.Sprintf("%s/%s", a.prefix, name)),
		Description:   jsii.String(desc),
		StringValue:   value,
	}))
}
