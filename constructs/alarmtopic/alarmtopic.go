// Package alarmtopic is the SNS topic CloudWatch alarms notify: encrypted with its own rotating
// KMS key (CloudWatch cannot publish to a topic under the AWS-managed aws/sns key), SSL only.
package alarmtopic

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/keypolicy"
)

// Props names the key and the topic. The ids are created directly in the caller's scope, so a
// caller that moves to this package keeps its logical ids (and its deployed topic).
type Props struct {
	// KeyID and TopicID are the construct ids of the key and the topic.
	KeyID, TopicID string
	// KeyDescription is the key's description; DisplayName the topic's.
	KeyDescription, DisplayName string
	// AlarmNamePrefix scopes who may publish: CloudWatch, for alarms of this account and
	// region whose names start with it (aws:SourceArn), and for nothing else.
	AlarmNamePrefix string
}

// New creates the key and the topic in scope.
func New(scope constructs.Construct, p *Props) awssns.Topic {
	key := keypolicy.NewKey(scope, p.KeyID, p.KeyDescription)
	// CloudWatch publishes alarm notifications as the service principal; it needs the key.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	topic := awssns.NewTopic(scope, jsii.String(p.TopicID), &awssns.TopicProps{
		DisplayName: jsii.String(p.DisplayName),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// A topic policy replaces SNS's default policy, and EnforceSSL gives the topic one that
	// holds only the TLS deny: without this Allow, every alarm action fails with "is not
	// authorized to perform: SNS:Publish" and no notification is ever delivered
	// (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger). The
	// conditions keep it to this account's alarms of this environment (confused deputy:
	// https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
	stack := awscdk.Stack_Of(scope)
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
			"ArnLike": map[string]interface{}{"aws:SourceArn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s*",
				*stack.Partition(), *stack.Region(), *stack.Account(), p.AlarmNamePrefix)},
		},
	}))
	return topic
}
