// Package keypolicy holds the key policy statements every KMS key this app creates carries,
// beyond what its own construct grants.
package keypolicy

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DenyGrantsSid is the statement's Sid in the key policy.
const DenyGrantsSid = "DenyCreateGrantExceptForAWSServices"

// LimitGrantsToAWSServices adds the AWS Control Tower proactive control CT.KMS.PR.3 statement
// to key's policy: kms:CreateGrant is denied to every principal unless the grant is for an AWS
// resource (an AWS service integrated with KMS creates it on the caller's behalf) or the
// caller is an AWS service (BoolIfExists: either condition key true lets the call through).
// None of our keys needs a grant: CloudWatch Logs, SNS (CloudWatch alarms) and S3 use a key
// through its key policy, not through grants. An Organization that enables the control
// rejects a stack whose key lacks the statement
// (docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html#ct-kms-pr-3-description).
func LimitGrantsToAWSServices(key awskms.Key) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(DenyGrantsSid),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"BoolIfExists": map[string]any{
			"kms:GrantIsForAWSResource": "false",
			"aws:PrincipalIsAWSService": "false",
		}},
	}), nil)
}

// NewKey creates a key for data that dies with its stack (alarm notifications in flight, the
// canary's logs): rotated yearly, deleted with the stack after the shortest wait KMS allows
// (7 days), with the CT.KMS.PR.3 statement. A key whose data outlives the stack (the evidence
// archive's) is made apart, retained.
func NewKey(scope constructs.Construct, id, description string) awskms.Key {
	key := awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(description),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	LimitGrantsToAWSServices(key)
	return key
}
