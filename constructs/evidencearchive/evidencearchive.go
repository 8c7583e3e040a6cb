// Package evidencearchive is the write-once store of DR evidence bundles (runbook section 9,
// HIPAA documentation retention): an S3 bucket with Object Lock in COMPLIANCE mode (nobody,
// root included, can delete or shorten a locked version before its retention ends), versioning,
// SSE-KMS, TLS-only and deny-delete bucket policy, public access blocked, and server access
// logs in a separate bucket. Both buckets pass the AWS Control Tower proactive controls but
// those waived in compliance/controls.go (the access-log bucket: no logging of its own, no
// Object Lock, SSE-S3).
package evidencearchive

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/keypolicy"
)

// Props configure the archive.
type Props struct {
	// BucketName is the evidence bucket's name (deterministic: drctl archives without asking
	// CloudFormation, whose region may be down).
	BucketName string
	// RetentionYears is the default Object Lock COMPLIANCE retention of every object version.
	RetentionYears int
	// KmsKeyArn is the environment's customer-managed key in this region; "" creates a key
	// for the archive (rotation on, retained), so SSE-KMS holds in every environment.
	KmsKeyArn string
}

// EvidenceArchive is the created buckets and key.
type EvidenceArchive struct {
	constructs.Construct
	// Bucket holds the evidence; LogBucket its server access logs.
	Bucket, LogBucket awss3.Bucket
	// Key encrypts Bucket; CreatedKey is set when the archive made it (no KmsKeyArn).
	Key        awskms.IKey
	CreatedKey awskms.Key
}

// DenyDeleteActions are refused to every principal by the bucket policy: Object Lock keeps
// versions, this keeps delete markers and the bucket itself out too.
var DenyDeleteActions = []string{"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"}

// New creates the archive.
func New(scope constructs.Construct, id string, p *Props) *EvidenceArchive {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &EvidenceArchive{Construct: c}
	if p.KmsKeyArn != "" {
		a.Key = awskms.Key_FromKeyArn(c, jsii.String("Key"), jsii.String(p.KmsKeyArn))
	} else {
		a.CreatedKey = awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
			Description:       jsii.String("valkey-dr evidence archive (" + p.BucketName + "): created because the region has no kmsKeyArn in cdk.json"),
			EnableKeyRotation: jsii.Bool(true),
			// The key must outlive every object it encrypted (retention is years).
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		keypolicy.LimitGrantsToAWSServices(a.CreatedKey) // CT.KMS.PR.3
		a.Key = a.CreatedKey
	}
	// S3 server access logs can only be delivered to a bucket with SSE-S3 (not SSE-KMS):
	// docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
	a.LogBucket = awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules:    abortIncompleteUploads(),
	})
	a.Bucket = awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		BucketName:             jsii.String(p.BucketName),
		Versioned:              jsii.Bool(true),
		ObjectLockEnabled:      jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          a.Key,
		BucketKeyEnabled:       jsii.Bool(true),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: a.LogBucket,
		ServerAccessLogsPrefix: jsii.String("evidence/"),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		LifecycleRules:         abortIncompleteUploads(),
	})
	notifyEventBridge(a.LogBucket)
	notifyEventBridge(a.Bucket)
	// Years, not CDK's Duration (which it turns into days): 6 years is 6 calendar years.
	cfn := a.Bucket.Node().DefaultChild().(awss3.CfnBucket)
	cfn.AddPropertyOverride(jsii.String("ObjectLockConfiguration"), map[string]any{
		"ObjectLockEnabled": "Enabled",
		"Rule":              map[string]any{"DefaultRetention": map[string]any{"Mode": "COMPLIANCE", "Years": p.RetentionYears}},
	})
	a.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyDeleteEvidence"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings(DenyDeleteActions...),
		Resources:  &[]*string{a.Bucket.BucketArn(), a.Bucket.ArnForObjects(jsii.String("*"))},
	}))
	return a
}

// abortIncompleteUploads is the buckets' one lifecycle rule (AWS Control Tower CT.S3.PR.3 and
// CT.S3.PR.6 ask every versioned bucket for an enabled rule): the parts of a multipart upload
// left unfinished for 7 days are removed. It is the only lifecycle action that fits a
// write-once archive: nothing complete ever expires or moves, and Object Lock would refuse
// to expire a locked version anyway.
func abortIncompleteUploads() *[]*awss3.LifecycleRule {
	return &[]*awss3.LifecycleRule{{
		Id:                                  jsii.String("AbortIncompleteMultipartUploads"),
		Enabled:                             jsii.Bool(true),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	}}
}

// notifyEventBridge sends the bucket's events to the account's default EventBridge bus
// (CT.S3.PR.4: event notifications configured), where an Organization's monitoring can watch
// every write to the archive. Set on the L1 resource: the L2's eventBridgeEnabled adds a
// custom resource with its own Lambda function and IAM role; CloudFormation takes the setting
// natively.
func notifyEventBridge(b awss3.Bucket) {
	b.Node().DefaultChild().(awss3.CfnBucket).AddPropertyOverride(
		jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), true)
}
