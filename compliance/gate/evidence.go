package gate

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/stacks"
)

// EvidenceSuppression is a cdk-nag finding accepted on the evidence stack, with its reason.
type EvidenceSuppression struct {
	Rules  []string
	On     string
	Reason string
	target func(*stacks.EvidenceStack) constructs.IConstruct
}

const replicationReason = "Cross-region replication is not configured: the archive already lives outside the primary region " +
	"(evidence.region, default drRegion), so an outage of the primary region cannot take it, and Object Lock COMPLIANCE " +
	"with versioning makes every bundle undeletable for the retention period. A second copy in a third region is a " +
	"decision for the HIPAA contingency plan (it needs a replica bucket with Object Lock and a replication role), " +
	"not a default of this app."

// EvidenceSuppressions is every suppression of the evidence stack.
var EvidenceSuppressions = []EvidenceSuppression{
	{
		Rules:  []string{"HIPAA.Security-S3BucketReplicationEnabled"},
		On:     "EvidenceArchive/Bucket",
		Reason: replicationReason,
		target: func(s *stacks.EvidenceStack) constructs.IConstruct { return s.Archive.Bucket },
	},
	{
		Rules: []string{"HIPAA.Security-S3DefaultEncryptionKMS", "HIPAA.Security-S3BucketReplicationEnabled"},
		On:    "EvidenceArchive/AccessLogs",
		Reason: "This is the server access log bucket of the evidence bucket. S3 delivers server access logs only to a " +
			"bucket with SSE-S3 default encryption, not SSE-KMS " +
			"(docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html). Replication: " + replicationReason,
		target: func(s *stacks.EvidenceStack) constructs.IConstruct { return s.Archive.LogBucket },
	},
}

// GatedEvidence is an evidence archive stack for the gate and the Config it was built from.
type GatedEvidence struct {
	Stack  *stacks.EvidenceStack
	Config *drcontext.Config
}

// suppressEvidence puts the evidence stack's suppressions on it and returns its facts (the
// archive serves both sides: drMode none).
func suppressEvidence(st *stacks.EvidenceStack, cfg *drcontext.Config) compliance.Facts {
	for _, sup := range EvidenceSuppressions {
		list := make([]*cdknag.NagPackSuppression, len(sup.Rules))
		for i, id := range sup.Rules {
			list[i] = &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(sup.Reason)}
		}
		cdknag.NagSuppressions_AddResourceSuppressions(sup.target(st), &list, jsii.Bool(true))
	}
	f := compliance.FactsOf(cfg)
	f.DrMode = drcontext.DrModeNone
	return f
}
