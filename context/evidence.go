package drcontext

// This file is the "evidence" object of an environment: where DR evidence is signed and
// archived (issue 13). The evidence bucket lives in its own small stack, deployed once, in a
// region that is not the primary one, so evidence of a regional outage outlives the outage.

import (
	"fmt"
	"strconv"
	"strings"
)

// Evidence defaults and limits.
const (
	// DefaultEvidenceRetentionYears is HIPAA's documentation retention (45 CFR 164.316(b)(2)):
	// six years from creation or last effective date.
	DefaultEvidenceRetentionYears = 6
	// MaxEvidenceRetentionYears bounds a typo (S3 Object Lock itself allows up to 100 years).
	MaxEvidenceRetentionYears = 100
	// EvidenceStackSuffix names the evidence stack: ValkeyDr-<env>-evidence.
	EvidenceStackSuffix = "evidence"
)

// Evidence is where DR evidence bundles are signed and archived.
type Evidence struct {
	// SigningKeyArn is a KMS asymmetric key (KeySpec ECC_NIST_P256, KeyUsage SIGN_VERIFY)
	// that signs the bundle manifest with ECDSA_SHA_256. drctl requires it in production; outside
	// production an empty value means the local Ed25519 drill key. It must not live in the
	// primary region: the outage being documented may be that region's.
	SigningKeyArn string `json:"signingKeyArn"`
	// Region holds the evidence bucket; "" means drRegion. Never the primary region.
	Region string `json:"region"`
	// RetentionYears is the bucket's default Object Lock (COMPLIANCE) retention; 0 means
	// DefaultEvidenceRetentionYears. Production may not go below that default.
	RetentionYears int `json:"retentionYears"`
}

// EvidenceRegion is the region of the evidence bucket: evidence.region, else drRegion.
func (c *Config) EvidenceRegion() string {
	if c.Env.Evidence.Region != "" {
		return c.Env.Evidence.Region
	}
	return c.Env.DrRegion
}

// EvidenceRetentionYears is the default Object Lock retention of the evidence bucket.
func (c *Config) EvidenceRetentionYears() int {
	if c.Env.Evidence.RetentionYears != 0 {
		return c.Env.Evidence.RetentionYears
	}
	return DefaultEvidenceRetentionYears
}

// EvidenceStackID is the evidence stack's name: ValkeyDr-<env>-evidence (one per environment).
func (c *Config) EvidenceStackID() string {
	return fmt.Sprintf("ValkeyDr-%s-%s", c.EnvironmentName, EvidenceStackSuffix)
}

// EvidenceKmsKeyArn is the environment's customer-managed key in the evidence region ("" when
// that region has none: the evidence stack then creates its own key).
func (c *Config) EvidenceKmsKeyArn() string {
	return c.Env.Regions[c.EvidenceRegion()].KmsKeyArn
}

// validateEvidence checks the evidence object.
func validateEvidence(ps *problems, path string, e *Environment) {
	ev := e.Evidence
	production := e.Production != nil && *e.Production
	key := path + ".signingKeyArn"
	accepted := "a KMS key ARN outside " + e.PrimaryRegion + ": arn:aws:kms:<region>:<account>:key/<key id> (an ECC_NIST_P256 SIGN_VERIFY key)"
	switch m := kmsKeyRE.FindStringSubmatch(ev.SigningKeyArn); {
	case ev.SigningKeyArn == "":
		// Not a context problem (synth needs no key); drctl refuses a production procedure
		// without one before anything runs: production evidence is signed with KMS.
	case kmsAliasRE.MatchString(ev.SigningKeyArn):
		ps.add(Problem{Key: key, Value: ev.SigningKeyArn, reason: "is an alias ARN", Accepted: accepted,
			Hint: "an alias can be re-pointed; a signature must name the key itself"})
	case m == nil:
		ps.add(Problem{Key: key, Value: ev.SigningKeyArn, Accepted: accepted})
	case m[1] == e.PrimaryRegion:
		ps.add(Problem{Key: key, Value: ev.SigningKeyArn, reason: "is a key in the primary region", Accepted: accepted,
			Hint: "evidence of a regional outage must be signable while the primary region is down"})
	}
	if ev.Region != "" {
		switch {
		case !regionRE.MatchString(ev.Region):
			ps.add(Problem{Key: path + ".region", Value: ev.Region, reason: "is not an AWS region name at all", Accepted: acceptedRegionName})
		case ev.Region == e.PrimaryRegion:
			ps.add(Problem{Key: path + ".region", Value: ev.Region, reason: "is the primaryRegion", Accepted: "a region other than " + e.PrimaryRegion + " (absent means drRegion)",
				Hint: "the archive must outlive an outage of the primary region"})
		}
	}
	y := ev.RetentionYears
	switch {
	case y < 0 || y > MaxEvidenceRetentionYears:
		ps.add(Problem{Key: path + ".retentionYears", Value: strconv.Itoa(y), reason: "is out of range",
			Accepted: fmt.Sprintf("1-%d years (absent or 0 means %d)", MaxEvidenceRetentionYears, DefaultEvidenceRetentionYears)})
	case production && y != 0 && y < DefaultEvidenceRetentionYears:
		ps.add(Problem{Key: path + ".retentionYears", Value: strconv.Itoa(y), reason: "is shorter than HIPAA's documentation retention",
			Accepted: fmt.Sprintf("%d-%d years in production", DefaultEvidenceRetentionYears, MaxEvidenceRetentionYears)})
	}
}

// EvidenceBucketName is the evidence bucket's name, deterministic so that drctl can archive
// without asking CloudFormation (whose region may be the one that is down):
// valkeydr-<env>-evidence-<account>-<region>. S3 allows 63 characters; a longer name is cut
// at 63 with its trailing hyphen removed.
func (c *Config) EvidenceBucketName() string {
	n := fmt.Sprintf("valkeydr-%s-evidence-%s-%s", strings.ToLower(c.EnvironmentName), c.Env.Account, c.EvidenceRegion())
	if len(n) > 63 {
		n = strings.TrimRight(n[:63], "-")
	}
	return n
}

// KeyStack selects which stack the app builds: absent or "cache" the cache stack of
// environment + region + drMode, "evidence" the environment's evidence archive stack, "dns" the
// Route 53 records of a stack made on the night (Mode.OnTheNight), deployed after validation.
const KeyStack = "stack"

// Stack selections of KeyStack.
const (
	StackCache    = "cache"
	StackEvidence = "evidence"
	StackDNS      = "dns"
)

// SelectedStack reads the stack context value: StackCache when absent; anything but the
// selections is an *Error naming the key, the value and the accepted values.
func SelectedStack(v any) (string, error) {
	v = deref(v)
	if v == nil {
		return StackCache, nil
	}
	s, ok := v.(string)
	switch {
	case ok && s == "":
		return StackCache, nil
	case ok && (s == StackCache || s == StackEvidence || s == StackDNS):
		return s, nil
	}
	return "", &Error{Problems: []Problem{{Key: KeyStack, Value: fmt.Sprint(v), reason: "is not a stack of this app",
		Accepted: StackCache + " (default), " + StackEvidence + ", " + StackDNS}}}
}

// SelectsEvidence reads the stack context value: true for "evidence" (SelectedStack).
func SelectsEvidence(v any) (bool, error) {
	s, err := SelectedStack(v)
	return s == StackEvidence, err
}
