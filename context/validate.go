package drcontext

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Value rules for one environment. Each rule appends to a problems list and never stops the
// others: the operator at 3 a.m. gets the whole list in one run.

// Formats of the ids imported from the account. AWS has issued 8-hex ids and, since 2016,
// 17-hex ids; nothing else is a real id, so a typo is caught at synth time instead of in a
// CloudFormation rollback.
var (
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)
	accountRE    = regexp.MustCompile(`^\d{12}$`)
	vpcRE        = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetRE     = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	sgRE         = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	hostedZoneRE = regexp.MustCompile(`^Z[0-9A-Z]{1,31}$`)
	// kmsKeyRE takes key ARNs only (a key id or multi-region "mrk-" id): an alias can be
	// re-pointed to another key, which would silently change the key of a cache that is
	// replaced on KmsKeyId change.
	kmsKeyRE   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	kmsAliasRE = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:alias/`)
	dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// tagCharsRE is the character set AWS documents for tag keys and values across services.
	tagCharsRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// Limits from the AWS docs (docs/design.md and the AWS pages cited beside each).
const (
	// maxCacheName is the ServerlessCacheName limit; the RBAC user id and user group id use the
	// same 40-character limit, and both are derived from the cache name.
	maxCacheName      = 40
	maxEnvironmentLen = 32
	minDataStorageGB  = 1
	maxDataStorageGB  = 5000
	minECPUPerSecond  = 1000
	maxECPUPerSecond  = 15_000_000
	maxSnapshotDays   = 35
	// minPrefixBits stops a "private" CIDR that is in truth most of the Internet.
	minPrefixBits = 8
	maxTagKeyLen  = 128
	maxTagValLen  = 256
	maxDNSNameLen = 253
)

var (
	acceptedEngines = []int{7, 8, 9}
	acceptedAuth    = []contract.AuthMode{contract.AuthPassword, contract.AuthIAM, contract.AuthNone}
	requiredTags    = []string{"owner", "dataClassification"}
	// reservedTags are set by Config.Tags on every resource; letting cdk.json set them too
	// would make the tag on a resource depend on which one CDK applies last.
	snsTopicRE   = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$`)
	reservedTags = []string{"environment", "drMode", "managedBy"}
)

const (
	acceptedCacheName  = "1-40 lowercase letters, digits and hyphens, starting with a letter, without \"--\" or a trailing \"-\""
	acceptedRegionName = "an AWS region name such as us-east-1"
	prodKMSHint        = "production requires a customer-managed KMS key"
)

// validateEnvironment checks every value of one decoded environment.
func validateEnvironment(name string, e *Environment) []Problem {
	var ps problems
	path := KeyEnvironments + "." + name

	if why := nameRule(name, maxEnvironmentLen); why != "" {
		ps.add(Problem{Key: path, Value: name, reason: why,
			Accepted: fmt.Sprintf("1-%d lowercase letters, digits and hyphens, starting with a letter, without \"--\" or a trailing \"-\"", maxEnvironmentLen),
			Hint:     "the name becomes part of stack names and SSM paths"})
	}

	switch {
	case e.Account == "":
		ps.add(Problem{Key: path + ".account", reason: "is not set", Accepted: "a 12-digit AWS account id"})
	case !accountRE.MatchString(e.Account):
		ps.add(Problem{Key: path + ".account", Value: e.Account, Accepted: "a 12-digit AWS account id"})
	}
	if e.Production == nil {
		ps.add(Problem{Key: path + ".production", reason: "is not set: it must be true or false",
			Hint: "it switches the production requirements on, so it never has a default"})
	}

	regions := keysOf(e.Regions)
	if len(e.Regions) == 0 {
		ps.add(Problem{Key: path + ".regions", reason: "has no entries",
			Accepted: "an object of region name -> networking, with entries for primaryRegion and drRegion"})
	}
	primaryOK := regionRef(&ps, path, "primaryRegion", e.PrimaryRegion, e.Regions)
	drOK := regionRef(&ps, path, "drRegion", e.DrRegion, e.Regions)
	if primaryOK && drOK && e.PrimaryRegion == e.DrRegion {
		ps.add(Problem{Key: path + ".drRegion", Value: e.DrRegion, reason: "is the primaryRegion too",
			Accepted: "a region other than " + e.PrimaryRegion,
			Hint:     "a DR cache in the primary region does not survive that region's outage; use allowSameRegionDrill=true for a drill"})
	}
	for _, r := range regions {
		validateRegion(&ps, path+".regions."+r, r, e.Regions[r], e)
	}
	validatePosture(&ps, path+".drPosture", e.DrPosture)
	validateCache(&ps, path+".cache", &e.Cache, e.Production != nil && *e.Production)
	validateDNS(&ps, path+".dns", &e.DNS, regions)
	validateMonitoring(&ps, path+".monitoring", &e.Monitoring)
	validateEvidence(&ps, path+".evidence", e)
	validateTags(&ps, path+".tags", e.Tags)
	return ps
}

// validatePosture checks drPosture: absent (the runbook's stateless) or a DR row of the drMode
// table.
func validatePosture(ps *problems, key string, v DrMode) {
	if v == "" {
		return
	}
	m, ok := ModeOf(v)
	if ok && !m.Primary {
		return
	}
	p := Problem{Key: key, Value: string(v), Accepted: postureNames(),
		Hint: "drPosture names how the environment recovers in its DR region (docs/design.md, \"Warm standby\"); leave it out for " + string(DRMode().Name)}
	switch l := strings.ToLower(string(v)); {
	case ok:
		p.reason = "is the primary region's drMode, not a DR posture"
	case knownMode(l):
		p.Hint = fmt.Sprintf("did you mean %q? values are case-sensitive", l)
	}
	ps.add(p)
}

// regionRef checks primaryRegion/drRegion: a region name with an entry in regions.
func regionRef(ps *problems, path, field, value string, regions map[string]Region) bool {
	key := path + "." + field
	switch {
	case value == "":
		ps.add(Problem{Key: key, reason: "is not set", Accepted: "one of the regions with an entry: " + names(keysOf(regions))})
	case !regionRE.MatchString(value):
		ps.add(Problem{Key: key, Value: value, reason: "is not an AWS region name at all", Accepted: acceptedRegionName})
	default:
		if _, ok := regions[value]; !ok {
			ps.add(Problem{Key: key, Value: value, reason: "has no entry in " + path + ".regions",
				Accepted: names(keysOf(regions))})
			return false
		}
		return true
	}
	return false
}

// validateRegion checks the networking of one region.
func validateRegion(ps *problems, path, region string, r Region, e *Environment) {
	if !regionRE.MatchString(region) {
		ps.add(Problem{Key: path, Value: region, reason: "is not an AWS region name at all", Accepted: acceptedRegionName})
	}
	idField(ps, path+".vpcId", r.VpcID, vpcRE, "a VPC id: vpc- and 8 or 17 lowercase hex digits")

	subnets := path + ".subnetIds"
	if n := len(r.SubnetIDs); n < 2 {
		ps.add(Problem{Key: subnets, Value: listValue(r.SubnetIDs), reason: fmt.Sprintf("has %d subnet%s", n, plurals(n)),
			Accepted: "at least 2 subnet ids",
			Hint:     "ElastiCache Serverless spreads the cache across the Availability Zones of its subnets"})
	}
	idList(ps, subnets, r.SubnetIDs, subnetRE, "a subnet id: subnet- and 8 or 17 lowercase hex digits")
	idList(ps, path+".applicationSecurityGroupIds", r.ApplicationSecurityGroupIDs, sgRE,
		"a security group id: sg- and 8 or 17 lowercase hex digits")
	cidrList(ps, path+".allowedCidrs", r.AllowedCidrs)
	if len(r.ApplicationSecurityGroupIDs) == 0 && len(r.AllowedCidrs) == 0 {
		ps.add(Problem{Key: path + ".applicationSecurityGroupIds",
			reason: "no ingress source: give applicationSecurityGroupIds and/or allowedCidrs (an empty list never means open)"})
	}

	kms := path + ".kmsKeyArn"
	production := e.Production != nil && *e.Production
	accepted := "a KMS key ARN in " + region + ": arn:aws:kms:" + region + ":<account>:key/<key id>"
	switch m := kmsKeyRE.FindStringSubmatch(r.KmsKeyArn); {
	case r.KmsKeyArn == "":
		if production {
			ps.add(Problem{Key: kms, reason: "is not set", Accepted: "a customer-managed KMS key ARN in " + region, Hint: prodKMSHint})
		}
	case kmsAliasRE.MatchString(r.KmsKeyArn):
		ps.add(Problem{Key: kms, Value: r.KmsKeyArn, reason: "is an alias ARN", Accepted: accepted,
			Hint: "an alias can be re-pointed; the cache must name the key itself"})
	case m == nil:
		ps.add(Problem{Key: kms, Value: r.KmsKeyArn, Accepted: accepted})
	case m[1] != region:
		ps.add(Problem{Key: kms, Value: r.KmsKeyArn, reason: fmt.Sprintf("is a key in %s, not in %s", m[1], region),
			Accepted: accepted,
			Hint:     "KMS keys are regional: use a key, or a multi-region replica key, created in " + region})
	}
}

// idField checks one required id against its format.
func idField(ps *problems, key, value string, re *regexp.Regexp, accepted string) {
	switch {
	case value == "":
		ps.add(Problem{Key: key, reason: "is not set", Accepted: accepted})
	case !re.MatchString(value):
		ps.add(Problem{Key: key, Value: value, Accepted: accepted})
	}
}

// idList checks every id of a list and reports repeats (a repeated subnet or security group
// is either a typo for another one or a CloudFormation error waiting to happen).
func idList(ps *problems, key string, ids []string, re *regexp.Regexp, accepted string) {
	first := map[string]int{}
	for i, id := range ids {
		k := fmt.Sprintf("%s[%d]", key, i)
		if !re.MatchString(id) {
			ps.add(Problem{Key: k, Value: id, Accepted: accepted})
			continue
		}
		if j, dup := first[id]; dup {
			ps.add(Problem{Key: k, Value: id, reason: fmt.Sprintf("repeats %s[%d]", key, j), Accepted: "each id once"})
			continue
		}
		first[id] = i
	}
}

// cidrList checks allowedCidrs: real network prefixes, never the whole Internet.
func cidrList(ps *problems, key string, cidrs []string) {
	first := map[netip.Prefix]int{}
	for i, c := range cidrs {
		k := fmt.Sprintf("%s[%d]", key, i)
		p, err := netip.ParsePrefix(c)
		switch {
		case err != nil:
			ps.add(Problem{Key: k, Value: c, reason: "is not a CIDR", Accepted: "an IPv4 or IPv6 CIDR such as 10.20.0.0/16"})
		case p.Addr().Is4In6():
			ps.add(Problem{Key: k, Value: c, reason: "is an IPv4-mapped IPv6 prefix",
				Accepted: "the IPv4 form of the network, such as 10.20.0.0/16"})
		case p.Bits() == 0:
			ps.add(Problem{Key: k, Value: c, reason: "is open to the world: never accepted",
				Accepted: "the CIDRs of the application networks"})
		case p.Bits() < minPrefixBits:
			ps.add(Problem{Key: k, Value: c, reason: fmt.Sprintf("is wider than /%d", minPrefixBits),
				Accepted: fmt.Sprintf("a prefix of /%d or longer", minPrefixBits)})
		case p.Masked() != p:
			ps.add(Problem{Key: k, Value: c, reason: "is not a network address", Accepted: p.Masked().String()})
		default:
			if j, dup := first[p]; dup {
				ps.add(Problem{Key: k, Value: c, reason: fmt.Sprintf("repeats %s[%d]", key, j), Accepted: "each CIDR once"})
				continue
			}
			first[p] = i
		}
	}
}

// validateCache checks the cache settings (docs/design.md for the limits).
func validateCache(ps *problems, path string, c *Cache, production bool) {
	if c.Name == "" {
		ps.add(Problem{Key: path + ".name", reason: "is not set", Accepted: acceptedCacheName})
	} else if why := nameRule(c.Name, maxCacheName); why != "" {
		ps.add(Problem{Key: path + ".name", Value: c.Name, reason: why, Accepted: acceptedCacheName})
	}

	if v := c.MajorEngineVersion; v != 0 && !slices.Contains(acceptedEngines, v) {
		ps.add(Problem{Key: path + ".majorEngineVersion", Value: strconv.Itoa(v),
			Accepted: fmt.Sprintf("7, 8, 9 (absent or 0 means %d)", DefaultMajorEngineVersion)})
	}

	if v := c.UsageLimits.DataStorageMaxGB; v != 0 && (v < minDataStorageGB || v > maxDataStorageGB) {
		ps.add(Problem{Key: path + ".usageLimits.dataStorageMaxGb", Value: strconv.Itoa(v), reason: "is out of range",
			Accepted: fmt.Sprintf("%d-%d GB (absent or 0 means no limit)", minDataStorageGB, maxDataStorageGB)})
	}
	if v := c.UsageLimits.ECPUPerSecondMax; v != 0 && (v < minECPUPerSecond || v > maxECPUPerSecond) {
		ps.add(Problem{Key: path + ".usageLimits.ecpuPerSecondMax", Value: strconv.Itoa(v), reason: "is out of range",
			Accepted: fmt.Sprintf("%d-%d ECPU per second (absent or 0 means no limit)", minECPUPerSecond, maxECPUPerSecond)})
	}

	auth := path + ".auth"
	switch m := c.Auth.Mode; {
	case m == "":
		ps.add(Problem{Key: auth + ".mode", reason: "is not set", Accepted: authModes()})
	case !slices.Contains(acceptedAuth, m):
		ps.add(Problem{Key: auth + ".mode", Value: string(m), Accepted: authModes()})
	case m == contract.AuthNone && production:
		ps.add(Problem{Key: auth + ".mode", Value: string(m), reason: "is not accepted in production",
			Accepted: "password, iam",
			Hint:     "RBAC is the only access control on ElastiCache Serverless"})
	}
	if why := userNameRule(c.Auth.UserName); why != "" {
		ps.add(Problem{Key: auth + ".userName", Value: c.Auth.UserName, reason: why,
			Accepted: "1-20 lowercase letters, digits and hyphens, starting with a letter, without \"--\" or a trailing \"-\""})
	}
	if a := c.Auth.AccessString; a != "" {
		acc := auth + ".accessString"
		if !strings.HasPrefix(a, "on ") {
			ps.add(Problem{Key: acc, Value: a, reason: `does not start with "on "`,
				Accepted: "an ACL rule list that enables the user, such as " + strconv.Quote(DefaultAccessString)})
		}
		for _, tok := range strings.Fields(a) {
			if tok == "nopass" || tok == "resetpass" || strings.ContainsAny(tok[:1], "><#!") {
				ps.add(Problem{Key: acc, Value: a, reason: "sets a password rule (" + strconv.Quote(tok) + ")",
					Accepted: "key, channel and command rules only",
					Hint:     "passwords come from Secrets Manager, never from the access string or the template"})
				break
			}
		}
	}

	// Per synth, drMode=stateless with snapshotRetentionLimit > 0 is NOT a problem: it is the
	// primary cache's setting, and the DR stack simply never sets it (the stateless runbook's
	// cache is always created empty). Rejecting it would force two configs for one environment.
	if v := c.SnapshotRetentionLimit; v < 0 || v > maxSnapshotDays {
		ps.add(Problem{Key: path + ".snapshotRetentionLimit", Value: strconv.Itoa(v), reason: "is out of range",
			Accepted: fmt.Sprintf("0-%d days (0 means no automatic snapshots)", maxSnapshotDays)})
	}
}

func authModes() string {
	s := make([]string, len(acceptedAuth))
	for i, m := range acceptedAuth {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// validateDNS checks the Route 53 naming.
func validateDNS(ps *problems, path string, d *DNS, regions []string) {
	idField(ps, path+".hostedZoneId", d.HostedZoneID, hostedZoneRE, "a Route 53 hosted zone id: Z and up to 31 uppercase letters or digits")
	zone := path + ".zoneName"
	switch why := dnsName(d.ZoneName); {
	case d.ZoneName == "":
		ps.add(Problem{Key: zone, reason: "is not set", Accepted: "the DNS name of the private hosted zone, such as cache.example.internal"})
	case why != "":
		ps.add(Problem{Key: zone, Value: d.ZoneName, reason: why, Accepted: "a DNS name: labels of a-z, 0-9 and inner hyphens, joined by dots"})
	default:
		// The longest name the stack writes is <record>.drill.<region>.<zone> (a drill).
		if rec := d.RecordName; dnsLabelRE.MatchString(rec) {
			for _, region := range regions {
				full := rec + ".drill." + region + "." + strings.TrimSuffix(d.ZoneName, ".")
				if len(full) > maxDNSNameLen {
					ps.add(Problem{Key: zone, Value: d.ZoneName, reason: "is too long for the records written in it",
						Accepted: fmt.Sprintf("a zone name that keeps %s under %d characters", "<record>.drill.<region>.<zone>", maxDNSNameLen+1)})
					break
				}
			}
		}
	}
	switch {
	case d.RecordName == "":
		ps.add(Problem{Key: path + ".recordName", reason: "is not set", Accepted: "a single DNS label such as sessions"})
	case !dnsLabelRE.MatchString(d.RecordName):
		ps.add(Problem{Key: path + ".recordName", Value: d.RecordName, reason: "is not a single DNS label",
			Accepted: "1-63 of a-z, 0-9 and inner hyphens, no dots, such as sessions"})
	}
	// TTL caps how long clients keep resolving to a dead region after failover.
	if v := d.TTLSeconds; v != 0 && (v < 1 || v > contract.MaxTTLSeconds) {
		ps.add(Problem{Key: path + ".ttlSeconds", Value: strconv.Itoa(v), reason: "is out of range",
			Accepted: fmt.Sprintf("1-%d seconds (absent or 0 means %d)", contract.MaxTTLSeconds, DefaultTTLSeconds),
			Hint:     "the TTL bounds how long clients keep resolving to a failed region"})
	}
}

// validateMonitoring checks the alarm thresholds; zero means the Default* constant.
func validateMonitoring(ps *problems, path string, m *Monitoring) {
	for _, r := range []struct {
		key      string
		v        int
		min, max int
		accepted string
	}{
		{"readLatencyP99Micros", m.ReadLatencyP99Micros, 100, 1_000_000, fmt.Sprintf("100-1000000 microseconds (absent or 0 means %d)", DefaultLatencyP99Micros)},
		{"writeLatencyP99Micros", m.WriteLatencyP99Micros, 100, 1_000_000, fmt.Sprintf("100-1000000 microseconds (absent or 0 means %d)", DefaultLatencyP99Micros)},
		{"usagePercent", m.UsagePercent, 1, 100, fmt.Sprintf("1-100 percent of the usage limits (absent or 0 means %d)", DefaultUsagePercent)},
		{"maxConnections", m.MaxConnections, 1, 65_000, fmt.Sprintf("1-65000 connections (absent or 0 means %d)", DefaultMaxConnections)},
	} {
		if r.v != 0 && (r.v < r.min || r.v > r.max) {
			ps.add(Problem{Key: path + "." + r.key, Value: strconv.Itoa(r.v), reason: "is out of range", Accepted: r.accepted})
		}
	}
	if m.AlarmTopicArn != "" && !snsTopicRE.MatchString(m.AlarmTopicArn) {
		ps.add(Problem{Key: path + ".alarmTopicArn", Value: m.AlarmTopicArn,
			Accepted: "an SNS topic ARN: arn:aws:sns:<region>:<account>:<name> (absent means the stack creates one)"})
	}
}

// validateTags checks the tags every resource gets (who owns it, what data it holds).
func validateTags(ps *problems, path string, tags map[string]string) {
	for _, k := range requiredTags {
		if strings.TrimSpace(tags[k]) == "" {
			ps.add(Problem{Key: path + "." + k, Value: tags[k], reason: "is not set", Accepted: "a non-empty value",
				Hint: "every resource is tagged with its owner and the classification of the data it holds"})
		}
	}
	for _, k := range keysOf(tags) {
		key, v := path+"."+k, tags[k]
		switch {
		case slices.Contains(reservedTags, k):
			ps.add(Problem{Key: key, Value: v, reason: "is a tag the app sets itself",
				Accepted: "any key except " + strings.Join(reservedTags, ", ")})
		case k == "":
			ps.add(Problem{Key: key, reason: "is an empty tag key", Accepted: "1-128 characters"})
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			ps.add(Problem{Key: key, Value: v, reason: `is a tag key with the "aws:" prefix`, Accepted: "a key without the aws: prefix, which AWS reserves"})
		case utf8.RuneCountInString(k) > maxTagKeyLen:
			ps.add(Problem{Key: key, reason: fmt.Sprintf("is a tag key longer than %d characters", maxTagKeyLen), Accepted: "1-128 characters"})
		case !tagCharsRE.MatchString(k):
			ps.add(Problem{Key: key, reason: "is a tag key with characters AWS does not accept", Accepted: tagChars})
		}
		switch {
		case utf8.RuneCountInString(v) > maxTagValLen:
			ps.add(Problem{Key: key, Value: v, reason: fmt.Sprintf("is longer than %d characters", maxTagValLen), Accepted: "0-256 characters"})
		case !tagCharsRE.MatchString(v):
			ps.add(Problem{Key: key, Value: v, reason: "has characters AWS does not accept in a tag value", Accepted: tagChars})
		}
	}
}

const tagChars = "letters, digits, spaces and _ . : / = + - @"

// nameRule checks a name against the ServerlessCacheName rules (also used for environment
// names); it returns why the name is not accepted, or "".
func nameRule(s string, limit int) string {
	switch {
	case s == "":
		return "is empty"
	case utf8.RuneCountInString(s) > limit:
		return fmt.Sprintf("is %d characters, more than %d", utf8.RuneCountInString(s), limit)
	case s[0] < 'a' || s[0] > 'z':
		return "does not start with a lowercase letter"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "contains " + strconv.QuoteRune(r)
		}
	}
	switch {
	case strings.Contains(s, "--"):
		return `contains "--"`
	case strings.HasSuffix(s, "-"):
		return `ends with "-"`
	}
	return ""
}

// userNameRule checks auth.userName ("" is the default name); it returns why not, or "". The
// rule is ^[a-z][a-z0-9-]{0,19}$ plus the cache name rules: the user id is
// <cache name>-<user name>, and ElastiCache user ids may not end with a hyphen
// or contain two in a row.
func userNameRule(u string) string {
	if u == "" {
		return ""
	}
	return nameRule(u, 20)
}

// dnsName checks a DNS name (one trailing dot allowed); it returns why not, or "".
func dnsName(s string) string {
	n := strings.TrimSuffix(s, ".")
	if n == "" {
		return "is not a DNS name"
	}
	if len(n) > maxDNSNameLen {
		return fmt.Sprintf("is longer than %d characters", maxDNSNameLen)
	}
	for _, l := range strings.Split(n, ".") {
		if !dnsLabelRE.MatchString(l) {
			return fmt.Sprintf("has the label %q", l)
		}
	}
	return ""
}

// derivedNames checks the names the stack derives from the cache name for one drMode: the
// DR suffix and the RBAC ids can push a name that is valid alone over ElastiCache's limits.
// Reported on cache.name, the one value the user can change to fix it.
func derivedNames(envName string, e *Environment, mode DrMode) []Problem {
	if nameRule(e.Cache.Name, maxCacheName) != "" || userNameRule(e.Cache.Auth.UserName) != "" {
		return nil // their own problems say it all
	}
	c := &Config{EnvironmentName: envName, Env: *e, DrMode: mode}
	var long []string
	for _, d := range []struct{ what, name string }{
		{"cache name", c.CacheName()},
		{"user id", c.UserID()},
		{"user group id", c.UserGroupID()},
	} {
		why := nameRule(d.name, maxCacheName)
		if why == "" {
			continue
		}
		if n := len(d.name); n > maxCacheName {
			why = fmt.Sprintf("is %d characters", n)
			if len(long) > 0 {
				why = strconv.Itoa(n) // "..., user id 45, user group id 47"
			}
		}
		if len(long) == 0 {
			long = append(long, fmt.Sprintf("%s %q %s", d.what, d.name, why))
		} else {
			long = append(long, d.what+" "+why)
		}
	}
	if len(long) == 0 {
		return nil
	}
	overhead := len(c.CacheName()) - len(e.Cache.Name) + max(len("-users"), len("-"+c.UserName()))
	return []Problem{{
		Key:      KeyEnvironments + "." + envName + ".cache.name",
		Value:    e.Cache.Name,
		reason:   "is too long for drMode=" + string(mode),
		Accepted: fmt.Sprintf("at most %d characters with user name %q", maxCacheName-overhead, c.UserName()),
		Hint:     "the derived " + strings.Join(long, ", ") + "; ElastiCache allows " + strconv.Itoa(maxCacheName),
	}}
}

// listValue renders a list for Problem.Value.
func listValue(l []string) string {
	if len(l) == 0 {
		return ""
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func plurals(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
