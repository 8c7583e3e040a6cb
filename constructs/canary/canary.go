// Package canary is the health canary of the session cache: the validator's checks as a Go
// Lambda (validate/canary, provided.al2023 on arm64) in the cache's VPC and subnets, with its
// own security group that the cache's group lets in on 6379-6380, run every minute by an
// EventBridge schedule, publishing Success (1/0) and latency to CloudWatch (namespace
// ValkeyDr/Canary, dimension CacheName). The PRIMARY record's health alarm reads Success.
package canary

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/keypolicy"
	"github.com/valkey-dr/valkey-dr/contract"
)

// Fixed settings of the canary, each chosen here once.
const (
	// Schedule is how often the canary runs: the health alarm evaluates one-minute periods.
	Schedule = "rate(1 minute)"
	// Runtime and Architecture: a Go binary named bootstrap on the OS-only runtime
	// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-golang.html).
	Runtime      = "provided.al2023"
	Architecture = "arm64"
	Handler      = "bootstrap"
	// TimeoutSeconds bounds one run: the checks (contract.CanaryTimeout), cleanup and the
	// publish. It is what keeps runs from overlapping: below the one-minute schedule period, a
	// run always ends before the next one starts, and with no retries (MaximumRetryAttempts 0
	// on both the event invoke config and the schedule target) nothing else invokes it
	// asynchronously. No reserved concurrency: a reservation must leave 100 unreserved
	// executions in the account, so ReservedConcurrentExecutions fails the function's create in
	// low-quota accounts and rolls a DR deploy back during an incident
	// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
	TimeoutSeconds = 50
	// MemoryMB is ample for one Go process with a handful of TLS connections.
	MemoryMB = 256
	// LogRetention keeps a year of run logs: the evidence behind every Success data point.
	LogRetention = awslogs.RetentionDays_ONE_YEAR
	// BinaryName is the file the asset directory must hold.
	BinaryName = "bootstrap"
)

// Props configure the canary. Tokens are fine where the type is *string.
type Props struct {
	// AssetDir is the directory holding the cross-compiled bootstrap binary (the cdk.json
	// build step writes .build/canary/bootstrap; tests build into a temporary directory).
	AssetDir string
	// CacheName is the serverless cache name (metric dimension, IAM signing host).
	CacheName string
	// FunctionName is the Lambda function's name; "" lets CloudFormation generate one. Given,
	// it is known before the deploy: the stack output, the operator's IAM policy and the drill's
	// stand-in outputs can name it.
	FunctionName string
	// VpcID and SubnetIDs place the function in the cache's VPC and subnets.
	VpcID     string
	SubnetIDs []string
	// CacheSecurityGroupID is the cache's security group; the canary gets an ingress rule on it.
	CacheSecurityGroupID *string
	// Endpoint, Port and ReaderPort are the cache's endpoint attributes.
	Endpoint, Port, ReaderPort *string
	// AuthMode is password, iam or none; User is the user name (password) or user id (iam).
	AuthMode string
	User     string
	// SecretArn is the password secret (password mode): the function may read exactly it.
	SecretArn *string
	// ConnectResources are the cache and user ARNs (iam mode): elasticache:Connect on them only.
	ConnectResources []*string
	// RoleArn is an existing execution role (NewRole, in a stack deployed before the night);
	// nil creates the role and its policy here. A stack deployed on the night must create no
	// IAM resource: IAM's control plane is in us-east-1 (docs/design.md, "Static stability").
	RoleArn *string
}

// Grants are what a canary role may touch: ARNs, or ARN patterns for a role made before the
// resources exist.
type Grants struct {
	// CacheName names the policy's description.
	CacheName string
	// AuthMode is password, iam or none: which credential statement the policy gets.
	AuthMode string
	// LogGroups, Queues: the function's log group and dead-letter queue.
	LogGroups, Queues []*string
	// Secrets are the password secret(s) (password mode); SecretCondition narrows them
	// (a pattern role scopes by the secret's tags).
	Secrets         []*string
	SecretCondition map[string]interface{}
	// Connect are the cache and user ARNs (iam mode).
	Connect []*string
}

// RoleProps configure a canary role made ahead of its canary (NewRole).
type RoleProps struct {
	// RoleName is the role's name, which the canary's stack refers to.
	RoleName string
	Grants   Grants
}

// Role is a canary execution role and its one policy.
type Role struct {
	Role   awsiam.Role
	Policy awsiam.ManagedPolicy
}

// NewRole creates a canary execution role in scope, for a canary built later with
// Props.RoleArn (the DR cache's, created on the night).
func NewRole(scope constructs.Construct, id string, p *RoleProps) *Role {
	c := constructs.NewConstruct(scope, jsii.String(id))
	pol := policy(c, p.Grants)
	role := newRole(c, p.Grants.CacheName, jsii.String(p.RoleName), pol)
	return &Role{Role: role, Policy: pol}
}

// newRole is the execution role: a customer-managed policy on it, not an inline one
// (HIPAA.Security-IAMNoInlinePolicy) nor an AWS managed one (AwsSolutions-IAM4:
// AWSLambdaVPCAccessExecutionRole).
func newRole(c constructs.Construct, cacheName string, name *string, pol awsiam.ManagedPolicy) awsiam.Role {
	return awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		RoleName:        name,
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description:     jsii.String(fmt.Sprintf("Health canary of session cache %s", cacheName)),
		ManagedPolicies: &[]awsiam.IManagedPolicy{pol},
	})
}

// Canary is the created function and everything around it.
type Canary struct {
	constructs.Construct
	Function        awslambda.CfnFunction
	SecurityGroup   awsec2.CfnSecurityGroup
	CacheIngress    awsec2.CfnSecurityGroupIngress
	Role            awsiam.Role
	Policy          awsiam.ManagedPolicy
	Rule            awsevents.CfnRule
	DeadLetterQueue awssqs.Queue
	LogGroup        awslogs.LogGroup
	LogKey          awskms.Key
	cacheName       string
}

// New creates the canary. It panics (a synth error naming the fix) when AssetDir holds no
// bootstrap binary.
func New(scope constructs.Construct, id string, p *Props) *Canary {
	bin := filepath.Join(p.AssetDir, BinaryName)
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		panic(fmt.Sprintf("health canary: %s: no bootstrap binary (%v): build it first: GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o %s ./validate/canary (cdk synth runs the cdk.json build step, which does)", bin, err, bin))
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	k := &Canary{Construct: c, cacheName: p.CacheName}
	stack := awscdk.Stack_Of(c)

	k.SecurityGroup, k.CacheIngress = securityGroups(c, p)
	k.LogKey, k.LogGroup = logs(c, p, stack)
	k.DeadLetterQueue = awssqs.NewQueue(c, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		// Failed runs (the canary itself broken: no secret, no CloudWatch) land here for 14 days.
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		// Declares the queue a dead-letter queue (CT.SQS.PR.1 asks a DLQ for a redrive allow
		// policy instead of a DLQ of its own). ALLOW_ALL is SQS's default, so nothing changes:
		// the function's asynchronous invocations send here through the role, not a redrive.
		RedriveAllowPolicy: &awssqs.RedriveAllowPolicy{RedrivePermission: awssqs.RedrivePermission_ALLOW_ALL},
	})
	roleArn := p.RoleArn
	if roleArn == nil {
		g := Grants{CacheName: p.CacheName, AuthMode: p.AuthMode, LogGroups: []*string{k.LogGroup.LogGroupArn()},
			Queues: []*string{k.DeadLetterQueue.QueueArn()}, Connect: p.ConnectResources}
		if p.SecretArn != nil {
			g.Secrets = []*string{p.SecretArn}
		}
		k.Policy = policy(c, g)
		k.Role = newRole(c, p.CacheName, nil, k.Policy)
		roleArn = k.Role.RoleArn()
	}

	asset := awss3assets.NewAsset(c, jsii.String("Code"), &awss3assets.AssetProps{Path: jsii.String(p.AssetDir)})
	env := map[string]*string{
		contract.EnvEndpoint:   p.Endpoint,
		contract.EnvPort:       p.Port,
		contract.EnvReaderPort: p.ReaderPort,
		contract.EnvCacheName:  jsii.String(p.CacheName),
		contract.EnvAuthMode:   jsii.String(p.AuthMode),
		contract.EnvNamespace:  jsii.String(contract.CanaryNamespace),
		contract.EnvTimeout:    jsii.String(contract.CanaryTimeout.String()),
	}
	if p.User != "" {
		env[contract.EnvUser] = jsii.String(p.User)
	}
	if p.SecretArn != nil {
		// The ARN, never the value: the function reads the password at run time.
		env[contract.EnvSecretArn] = p.SecretArn
	}
	fn := awslambda.NewCfnFunction(c, jsii.String("Function"), &awslambda.CfnFunctionProps{
		Description:   jsii.String(fmt.Sprintf("valkey-dr health canary: the validator's checks against %s every minute; publishes %s/%s", p.CacheName, contract.CanaryNamespace, contract.MetricSuccess)),
		Runtime:       jsii.String(Runtime),
		Architectures: jsii.Strings(Architecture),
		Handler:       jsii.String(Handler),
		Role:          roleArn,
		Code: &awslambda.CfnFunction_CodeProperty{
			S3Bucket: asset.S3BucketName(),
			S3Key:    asset.S3ObjectKey(),
		},
		Timeout:    jsii.Number(TimeoutSeconds),
		MemorySize: jsii.Number(MemoryMB),
		VpcConfig: &awslambda.CfnFunction_VpcConfigProperty{
			SubnetIds:        jsii.Strings(p.SubnetIDs...),
			SecurityGroupIds: &[]*string{k.SecurityGroup.AttrGroupId()},
		},
		DeadLetterConfig: &awslambda.CfnFunction_DeadLetterConfigProperty{TargetArn: k.DeadLetterQueue.QueueArn()},
		LoggingConfig: &awslambda.CfnFunction_LoggingConfigProperty{
			LogGroup:  k.LogGroup.LogGroupName(),
			LogFormat: jsii.String("JSON"),
		},
		Environment: &awslambda.CfnFunction_EnvironmentProperty{Variables: &env},
	})
	// The role's policy (VPC network interfaces) must exist before Lambda creates the
	// function, or the creation fails on ec2:CreateNetworkInterface: it is in the role's
	// ManagedPolicyArns, so the role, and the function's Role reference to it, wait for it (an
	// existing role, Props.RoleArn, has it already).
	if p.FunctionName != "" {
		fn.SetFunctionName(jsii.String(p.FunctionName))
	}
	k.Function = fn

	// A failed run is not retried: the next minute's run is the retry, and a stale data point
	// would misstate the cache's health. Failures go to the dead-letter queue.
	awslambda.NewCfnEventInvokeConfig(c, jsii.String("InvokeConfig"), &awslambda.CfnEventInvokeConfigProps{
		FunctionName:             fn.Ref(),
		Qualifier:                jsii.String("$LATEST"),
		MaximumRetryAttempts:     jsii.Number(0),
		MaximumEventAgeInSeconds: jsii.Number(60),
	})
	k.Rule = awsevents.NewCfnRule(c, jsii.String("Schedule"), &awsevents.CfnRuleProps{
		Description:        jsii.String(fmt.Sprintf("Runs the health canary of %s every minute", p.CacheName)),
		ScheduleExpression: jsii.String(Schedule),
		State:              jsii.String("ENABLED"),
		Targets: &[]interface{}{&awsevents.CfnRule_TargetProperty{
			Id:          jsii.String("Canary"),
			Arn:         fn.AttrArn(),
			RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(0), MaximumEventAgeInSeconds: jsii.Number(60)},
		}},
	})
	awslambda.NewCfnPermission(c, jsii.String("SchedulePermission"), &awslambda.CfnPermissionProps{
		Action:       jsii.String("lambda:InvokeFunction"),
		FunctionName: fn.AttrArn(),
		Principal:    jsii.String("events.amazonaws.com"),
		SourceArn:    k.Rule.AttrArn(),
	})
	return k
}

// securityGroups creates the canary's group (no ingress; egress to the cache on 6379-6380 and
// HTTPS for Secrets Manager and CloudWatch) and the cache-side rule letting it in. The cache
// rule is a resource of its own: inline, the two groups would reference each other.
func securityGroups(c constructs.Construct, p *Props) (awsec2.CfnSecurityGroup, awsec2.CfnSecurityGroupIngress) {
	sg := awsec2.NewCfnSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.CfnSecurityGroupProps{
		GroupDescription: jsii.String(fmt.Sprintf("Health canary of ElastiCache Serverless %s: no ingress; egress to the cache (6379-6380) and HTTPS to AWS APIs", p.CacheName)),
		VpcId:            jsii.String(p.VpcID),
		SecurityGroupEgress: &[]interface{}{
			&awsec2.CfnSecurityGroup_EgressProperty{
				IpProtocol:                 jsii.String("tcp"),
				FromPort:                   jsii.Number(6379),
				ToPort:                     jsii.Number(6380),
				DestinationSecurityGroupId: p.CacheSecurityGroupID,
				Description:                jsii.String("Valkey TLS 6379-6380 to the session cache"),
			},
			&awsec2.CfnSecurityGroup_EgressProperty{
				IpProtocol:  jsii.String("tcp"),
				FromPort:    jsii.Number(443),
				ToPort:      jsii.Number(443),
				CidrIp:      jsii.String("0.0.0.0/0"),
				Description: jsii.String("HTTPS to Secrets Manager and CloudWatch (through a NAT gateway or VPC interface endpoints)"),
			},
		},
	})
	in := awsec2.NewCfnSecurityGroupIngress(c, jsii.String("CacheIngress"), &awsec2.CfnSecurityGroupIngressProps{
		GroupId:               p.CacheSecurityGroupID,
		IpProtocol:            jsii.String("tcp"),
		FromPort:              jsii.Number(6379),
		ToPort:                jsii.Number(6380),
		SourceSecurityGroupId: sg.AttrGroupId(),
		Description:           jsii.String(fmt.Sprintf("Valkey TLS 6379-6380 from the health canary of %s", p.CacheName)),
	})
	return sg, in
}

// logs creates the function's log group, encrypted with its own key (HIPAA.Security-
// CloudWatchLogGroupEncrypted) and with a retention (…RetentionPeriod).
func logs(c constructs.Construct, p *Props, stack awscdk.Stack) (awskms.Key, awslogs.LogGroup) {
	key := keypolicy.NewKey(c, "LogKey", fmt.Sprintf("Encrypts the health canary logs of session cache %s", p.CacheName))
	// CloudWatch Logs encrypts with the key as its regional service principal, for log groups
	// of this account and region only
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", *stack.Region())), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{
			"ArnLike": map[string]interface{}{
				"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:*", *stack.Partition(), *stack.Region(), *stack.Account()),
			},
		},
	}), nil)
	lg := awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		Retention:     LogRetention,
		EncryptionKey: key,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	return key, lg
}

// policy is everything the function may do, and nothing more.
func policy(c constructs.Construct, g Grants) awsiam.ManagedPolicy {
	st := func(sid string, actions []string, resources []*string, cond map[string]interface{}) awsiam.PolicyStatement {
		props := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Effect: awsiam.Effect_ALLOW,
			Actions: jsii.Strings(actions...), Resources: &resources}
		if cond != nil {
			props.Conditions = &cond
		}
		return awsiam.NewPolicyStatement(props)
	}
	statements := []awsiam.PolicyStatement{
		// What Lambda needs to attach a function to a VPC: the actions of AWS's
		// AWSLambdaVPCAccessExecutionRole; they take no narrower resource
		// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).
		st("VpcNetworkInterfaces", []string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
			"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}, []*string{jsii.String("*")}, nil),
		st("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, g.LogGroups, nil),
		// PutMetricData has no resource: the condition limits it to the canary's namespace.
		st("PublishCanaryMetrics", []string{"cloudwatch:PutMetricData"}, []*string{jsii.String("*")},
			map[string]interface{}{"StringEquals": map[string]interface{}{"cloudwatch:namespace": contract.CanaryNamespace}}),
		st("DeadLetterQueue", []string{"sqs:SendMessage"}, g.Queues, nil),
	}
	switch g.AuthMode {
	case "password":
		statements = append(statements, st("ReadCachePassword", []string{"secretsmanager:GetSecretValue"}, g.Secrets, g.SecretCondition))
	case "iam":
		statements = append(statements, st("ConnectAsCacheUser", []string{"elasticache:Connect"}, g.Connect, nil))
	}
	return awsiam.NewManagedPolicy(c, jsii.String("Policy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String(fmt.Sprintf("Least privilege of the health canary of session cache %s", g.CacheName)),
		Statements:  &statements,
	})
}

// SuccessMetric is the canary's Success, Minimum per minute: 1 when every run of the minute
// passed, 0 when one failed, no data when none ran or none could publish.
func (k *Canary) SuccessMetric() awscloudwatch.Metric {
	return k.metric(contract.MetricSuccess, "Minimum")
}

// LatencyMetric is the wall time of the canary's check run, Maximum per minute.
func (k *Canary) LatencyMetric() awscloudwatch.Metric {
	return k.metric(contract.MetricLatency, "Maximum")
}

// CommandLatencyMetric is the SET NX + GET round trip of the run, Maximum per minute.
func (k *Canary) CommandLatencyMetric() awscloudwatch.Metric {
	return k.metric(contract.MetricCommandLatency, "Maximum")
}

// ReaderSuccessMetric is the read-port health (1 or 0, Minimum per minute): its own alarm,
// never the PRIMARY health check (docs/design.md, "Serverless as clients see it").
func (k *Canary) ReaderSuccessMetric() awscloudwatch.Metric {
	return k.metric(contract.MetricReaderSuccess, "Minimum")
}

func (k *Canary) metric(name, stat string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(contract.CanaryNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{contract.CanaryDimension: jsii.String(k.cacheName)},
		Statistic:     jsii.String(stat),
		Period:        awscdk.Duration_Minutes(jsii.Number(1)),
	})
}
