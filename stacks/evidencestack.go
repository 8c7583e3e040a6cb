package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/valkey-dr/valkey-dr/constructs/evidencearchive"
	"github.com/valkey-dr/valkey-dr/context"
)

// EvidenceStack is the environment's evidence archive stack (ValkeyDr-<env>-evidence), deployed
// once in the evidence region (evidence.region, default drRegion: never the primary region).
type EvidenceStack struct {
	awscdk.Stack
	Archive *evidencearchive.EvidenceArchive
}

// Output keys of the evidence stack.
const (
	OutputEvidenceBucket    = "EvidenceBucketName"
	OutputEvidenceKmsKeyArn = "EvidenceKmsKeyArn"
)

// NewEvidenceStack builds the evidence stack for cfg's environment. It is selected with
// `--context stack=evidence` (main.go); its region comes from cfg.EvidenceRegion, not cfg.Region.
func NewEvidenceStack(scope constructs.Construct, cfg *drcontext.Config) *EvidenceStack {
	stack := awscdk.NewStack(scope, jsii.String(cfg.EvidenceStackID()), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(cfg.Env.Account), Region: jsii.String(cfg.EvidenceRegion())},
		Description: jsii.String(fmt.Sprintf("valkey-dr evidence archive: environment %s, region %s, Object Lock COMPLIANCE %d years",
			cfg.EnvironmentName, cfg.EvidenceRegion(), cfg.EvidenceRetentionYears())),
		// Always on: the archive is deployed once and must never go with a stray destroy.
		TerminationProtection: jsii.Bool(true),
	})
	s := &EvidenceStack{Stack: stack}
	s.Archive = evidencearchive.New(stack, "EvidenceArchive", &evidencearchive.Props{
		BucketName: cfg.EvidenceBucketName(), RetentionYears: cfg.EvidenceRetentionYears(), KmsKeyArn: cfg.EvidenceKmsKeyArn(),
	})
	awscdk.NewCfnOutput(stack, jsii.String(OutputEvidenceBucket), &awscdk.CfnOutputProps{Value: s.Archive.Bucket.BucketName()})
	awscdk.NewCfnOutput(stack, jsii.String(OutputEvidenceKmsKeyArn), &awscdk.CfnOutputProps{Value: s.Archive.Key.KeyArn()})
	tags := cfg.Tags()
	delete(tags, "drMode") // the archive serves both sides
	tagAll(stack, tags)
	return s
}
