package contract

// The contract between the CDK stack and the validator: the CloudFormation output keys the
// stack emits and that `cdk deploy --outputs-file` writes, one object per stack.

// Output keys. Changing one breaks every archived outputs file and the validator's --outputs
// input, so they are pinned by tests on both sides.
const (
	// KeyCacheName is the ElastiCache Serverless cache name.
	KeyCacheName = "CacheName"
	// KeyEndpointAddress is the cache endpoint hostname (TLS certificate matches it).
	KeyEndpointAddress = "EndpointAddress"
	// KeyEndpointPort is the primary (read/write) port, normally 6379.
	KeyEndpointPort = "EndpointPort"
	// KeyReaderPort is the read-from-replica port on the same hostname, normally 6380.
	KeyReaderPort = "ReaderPort"
	// KeyRegionalDNSName is `<record>.<region>.<zone>`, a CNAME to the endpoint.
	KeyRegionalDNSName = "RegionalDnsName"
	// KeyServiceDNSName is `<record>.<zone>`, the failover name applications use; absent when
	// the stack does not own a record for it (held-back PRIMARY, same-region drill).
	KeyServiceDNSName = "ServiceDnsName"
	// KeySecurityGroupID is the cache security group id.
	KeySecurityGroupID = "SecurityGroupId"
	// KeyAuthMode is `password`, `iam` or `none`.
	KeyAuthMode = "AuthMode"
	// KeyUserID is the ElastiCache user id (== user name) applications authenticate as.
	KeyUserID = "UserId"
	// KeyUserName is the user name to send with AUTH/HELLO.
	KeyUserName = "UserName"
	// KeySecretArn is the Secrets Manager secret holding the password (password mode only);
	// its JSON has the fields "username" and "password".
	KeySecretArn = "SecretArn"
	// KeyRegion is the AWS region the stack is deployed to.
	KeyRegion = "Region"
	// KeyEnvironment is the environment name from cdk.json (example, staging, prod, ...).
	KeyEnvironment = "Environment"
	// KeyDrMode is `none` or `stateless`.
	KeyDrMode = "DrMode"
	// KeySSMParameterPrefix is the SSM path under which the stack publishes endpoint-address,
	// port and reader-port for application config.
	KeySSMParameterPrefix = "SsmParameterPrefix"
)

// Required lists the keys every valkey-dr cache stack emits. KeyRegionalDNSName is not among
// them: a stack made on the night owns no Route 53 record (its DNS stack emits the names).
var Required = []string{
	KeyCacheName, KeyEndpointAddress, KeyEndpointPort, KeyReaderPort,
	KeySecurityGroupID, KeyAuthMode, KeyRegion, KeyEnvironment, KeyDrMode, KeySSMParameterPrefix,
}

// SSMParamEndpointAddress is the SSM parameter, under KeySSMParameterPrefix, holding the
// endpoint address: applications read it, and a stack made on the night's DNS stack points
// its records at it.
const SSMParamEndpointAddress = "endpoint-address"
