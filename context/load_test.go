package drcontext

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/contract"
)

// Fixtures are built the way jsii hands cdk.json to main.go: map[string]any, []any and
// float64 numbers. Each row starts from a fresh valid table and mutates it.

const (
	exampleZone = "cache.example.internal"
	prodKeyEast = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	prodKeyWest = "arn:aws:kms:us-west-2:222222222222:key/mrk-1234abcd12ab34cd56ef1234567890ab"
)

func region(vpc, subnetA, subnetB, sg string) map[string]any {
	return map[string]any{
		"vpcId":                       vpc,
		"subnetIds":                   []any{subnetA, subnetB},
		"applicationSecurityGroupIds": []any{sg},
		"allowedCidrs":                []any{},
	}
}

// fixture is a valid environments table: a non-production "example" and a "prod" with IAM
// auth and CMKs in both regions.
func fixture() map[string]any {
	exEast := region("vpc-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60712", "sg-0a1b2c3d4e5f60719")
	exEast["allowedCidrs"] = []any{"10.10.0.0/16"}
	exWest := region("vpc-1a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60711", "subnet-1a1b2c3d4e5f60712", "sg-1a1b2c3d4e5f60719")
	prodEast := region("vpc-2a1b2c3d", "subnet-2a1b2c3d", "subnet-2a1b2c3e", "sg-2a1b2c3d")
	prodEast["kmsKeyArn"] = prodKeyEast
	prodWest := region("vpc-3a1b2c3d", "subnet-3a1b2c3d", "subnet-3a1b2c3e", "sg-3a1b2c3d")
	prodWest["kmsKeyArn"] = prodKeyWest
	return map[string]any{
		"example": map[string]any{
			"account":       "111111111111",
			"production":    false,
			"primaryRegion": "us-east-1",
			"drRegion":      "us-west-2",
			"regions":       map[string]any{"us-east-1": exEast, "us-west-2": exWest},
			"cache": map[string]any{
				"name":               "sessions-example",
				"majorEngineVersion": 8.0,
				"usageLimits":        map[string]any{"dataStorageMaxGb": 10.0, "ecpuPerSecondMax": 5000.0},
				"auth":               map[string]any{"mode": "password"},
			},
			"dns":  map[string]any{"recordName": "sessions", "ttlSeconds": 30.0, "hostedZoneId": "Z0EXAMPLE00000000001", "zoneName": exampleZone},
			"tags": map[string]any{"owner": "platform-team", "dataClassification": "phi"},
		},
		"prod": map[string]any{
			"account":       "222222222222",
			"production":    true,
			"primaryRegion": "us-east-1",
			"drRegion":      "us-west-2",
			"regions":       map[string]any{"us-east-1": prodEast, "us-west-2": prodWest},
			"cache": map[string]any{
				"name":                   "sessions-prod",
				"auth":                   map[string]any{"mode": "iam", "userName": "webapp"},
				"snapshotRetentionLimit": 7.0,
			},
			"dns":  map[string]any{"recordName": "sessions", "hostedZoneId": "Z0PROD0000000000001", "zoneName": "cache.prod.internal"},
			"tags": map[string]any{"owner": "platform-team", "dataClassification": "phi", "costCenter": "cc-42"},
		},
	}
}

// mutation edits a fixture; paths are dotted from the environment name down.
type mutation func(envs map[string]any)

// set puts v at a dotted path, creating objects on the way.
func set(path string, v any) mutation {
	return func(envs map[string]any) {
		parts := strings.Split(path, ".")
		m := envs
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
}

// del removes the key at a dotted path.
func del(path string) mutation {
	return func(envs map[string]any) {
		parts := strings.Split(path, ".")
		m := envs
		for _, p := range parts[:len(parts)-1] {
			m = m[p].(map[string]any)
		}
		delete(m, parts[len(parts)-1])
	}
}

func build(ms ...mutation) map[string]any {
	envs := fixture()
	for _, m := range ms {
		m(envs)
	}
	return envs
}

// absent stands for a context key that is not given at all (nil means "use the fixture").
type absent struct{}

func lines(t *testing.T, err error) []string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T (%v), want *Error", err, err)
	}
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

func TestLoad(t *testing.T) {
	const (
		accRegion   = "accepted: an AWS region name such as us-east-1"
		accName     = `accepted: 1-40 lowercase letters, digits and hyphens, starting with a letter, without "--" or a trailing "-"`
		exEast      = "environments.example.regions.us-east-1"
		exWest      = "environments.example.regions.us-west-2"
		prodWest    = "environments.prod.regions.us-west-2"
		accSubnet   = "accepted: a subnet id: subnet- and 8 or 17 lowercase hex digits"
		accSG       = "accepted: a security group id: sg- and 8 or 17 lowercase hex digits"
		accKMSWest  = "accepted: a KMS key ARN in us-west-2: arn:aws:kms:us-west-2:<account>:key/<key id>"
		snapshotWhy = "(snapshots are out of scope of the stateless DR runbook: the DR cache is always created empty)"
	)
	tests := map[string]struct {
		envs   any // nil: the fixture after mutate; absent{}: the key is not given
		mutate []mutation
		in     Input // Environments is filled from envs

		wantedErrors []string
		wanted       func(t *testing.T, c *Config)
	}{
		// --- the selected environment, region and mode ---
		"unknown environment lists the known ones": {
			in: Input{Environment: "nope"},
			wantedErrors: []string{
				`context "environment": "nope" is not accepted; accepted: example, prod`,
			},
		},
		"environment differing only in case says which one was meant": {
			in: Input{Environment: "Prod"},
			wantedErrors: []string{
				`context "environment": "Prod" is not accepted; accepted: example, prod (did you mean "prod"? names are case-sensitive)`,
			},
		},
		"no environment given and no example environment defined": {
			mutate: []mutation{del("example")},
			wantedErrors: []string{
				`context "environment": is not set, and the default "example" is not defined; accepted: prod (pass --context environment=<name>)`,
			},
		},
		"environment name that cannot become a stack name": {
			mutate: []mutation{func(e map[string]any) { e["Prod_1"] = e["prod"] }},
			in:     Input{Environment: "Prod_1", DrMode: "none"},
			wantedErrors: []string{
				`context "environments.Prod_1": "Prod_1" does not start with a lowercase letter; accepted: 1-32 lowercase letters, digits and hyphens, starting with a letter, without "--" or a trailing "-" (the name becomes part of stack names and SSM paths)`,
			},
		},
		"environments missing from cdk.json": {
			envs: absent{},
			wantedErrors: []string{
				`context "environments": is not set; accepted: an object of named environments (environments live in cdk.json under context.environments)`,
			},
		},
		"environments given as JSON that does not parse": {
			envs: `{"example": `,
			wantedErrors: []string{
				`context "environments": "{\"example\": " is not valid JSON: unexpected EOF; accepted: an object of named environments`,
			},
		},
		"environments given as a list": {
			envs: []any{"example"},
			wantedErrors: []string{
				`context "environments": "[\"example\"]" is a list; accepted: an object of named environments`,
			},
		},
		"environments empty": {
			envs: map[string]any{},
			wantedErrors: []string{
				`context "environments": is empty; accepted: an object of named environments`,
			},
		},
		"region that is not a region name at all": {
			in: Input{Region: "mars-1"},
			wantedErrors: []string{
				`context "region": "mars-1" is not an AWS region name at all; accepted: us-east-1, us-west-2 (the regions with an entry in environments.example.regions)`,
			},
		},
		"region without a networking entry lists the regions that have one": {
			in: Input{Region: "eu-west-1", DrMode: "stateless"},
			wantedErrors: []string{
				`context "region": "eu-west-1" has no entry in environments.example.regions; accepted: us-east-1, us-west-2 (a region needs its networking (vpcId, subnetIds, ingress, hosted zone) in cdk.json)`,
			},
		},
		"empty region never falls back to the default": {
			in: Input{Region: "", DrMode: "stateless"},
			wantedErrors: []string{
				`context "region": is empty; ` + accRegion + ` (an empty value never means the default: leave the key out to use primaryRegion or drRegion)`,
			},
		},
		"drMode not in the accepted set": {
			in: Input{DrMode: "bogus"},
			wantedErrors: []string{
				`context "drMode": "bogus" is not accepted; accepted: none, stateless, standby`,
			},
		},
		"drMode snapshot says snapshots are out of scope": {
			in:           Input{DrMode: "snapshot"},
			wantedErrors: []string{`context "drMode": "snapshot" is not accepted; accepted: none, stateless, standby ` + snapshotWhy},
		},
		"drMode restore says snapshots are out of scope": {
			in:           Input{DrMode: "restore"},
			wantedErrors: []string{`context "drMode": "restore" is not accepted; accepted: none, stateless, standby ` + snapshotWhy},
		},
		"drMode snapshot-restore says snapshots are out of scope": {
			in:           Input{DrMode: "snapshot-restore"},
			wantedErrors: []string{`context "drMode": "snapshot-restore" is not accepted; accepted: none, stateless, standby ` + snapshotWhy},
		},
		"drMode in the wrong case": {
			in: Input{DrMode: "Stateless"},
			wantedErrors: []string{
				`context "drMode": "Stateless" is not accepted; accepted: none, stateless, standby (did you mean "stateless"? values are case-sensitive)`,
			},
		},
		"drMode from cdk.json as a number": {
			in:           Input{DrMode: 1.0},
			wantedErrors: []string{`context "drMode": "1" is a number; accepted: none, stateless, standby`},
		},
		"stateless in the primary region without the drill switch": {
			in: Input{DrMode: "stateless", Region: "us-east-1"},
			wantedErrors: []string{
				`context "region": "us-east-1" is the primaryRegion of environment "example"; accepted: a region other than us-east-1, such as the drRegion us-west-2; or allowSameRegionDrill=true for a drill (a DR cache in the failed region does not survive its outage)`,
			},
		},
		"drill switch with drMode none": {
			in: Input{AllowSameRegionDrill: "true"},
			wantedErrors: []string{
				`context "allowSameRegionDrill": "true" is not accepted with drMode=none; accepted: false (a same-region drill is a drMode=stateless deploy to the primary region)`,
			},
		},
		"holding primary routing with drMode stateless": {
			in: Input{DrMode: "stateless", HoldPrimaryRouting: true},
			wantedErrors: []string{
				`context "holdPrimaryRouting": "true" is not accepted with drMode=stateless; accepted: false (holding routing back is a failback step: it applies to drMode=none in the primary region)`,
			},
		},
		"switches accept only true and false": {
			in: Input{HoldPrimaryRouting: "yes", AllowSameRegionDrill: 1.0},
			wantedErrors: []string{
				`context "allowSameRegionDrill": "1" is a number; accepted: true, false`,
				`context "holdPrimaryRouting": "yes" is not accepted; accepted: true, false`,
			},
		},
		"switches are case-sensitive": {
			in:           Input{HoldPrimaryRouting: "True"},
			wantedErrors: []string{`context "holdPrimaryRouting": "True" is not accepted; accepted: true, false`},
		},
		"drMode none outside the primary region": {
			in: Input{Region: "us-west-2"},
			wantedErrors: []string{
				`context "region": "us-west-2" is not the primaryRegion of environment "example"; accepted: us-east-1 (drMode=none serves the primary region, failback included; a deploy to another region is drMode=stateless)`,
			},
		},

		// --- environment-level values ---
		"account that is not 12 digits": {
			mutate:       []mutation{set("example.account", "1111-1111-1111")},
			wantedErrors: []string{`context "environments.example.account": "1111-1111-1111" is not accepted; accepted: a 12-digit AWS account id`},
		},
		"account missing": {
			mutate:       []mutation{del("example.account")},
			wantedErrors: []string{`context "environments.example.account": is not set; accepted: a 12-digit AWS account id`},
		},
		"production missing": {
			mutate: []mutation{del("example.production")},
			wantedErrors: []string{
				`context "environments.example.production": is not set: it must be true or false (it switches the production requirements on, so it never has a default)`,
			},
		},
		"production given as a string": {
			mutate:       []mutation{set("example.production", "false")},
			wantedErrors: []string{`context "environments.example.production": "false" is a string; accepted: true or false`},
		},
		"primaryRegion that is not a region name": {
			mutate: []mutation{set("example.primaryRegion", "us-east")},
			wantedErrors: []string{
				`context "environments.example.primaryRegion": "us-east" is not an AWS region name at all; ` + accRegion,
			},
		},
		"drRegion without a networking entry": {
			mutate: []mutation{set("example.drRegion", "eu-central-1")},
			in:     Input{DrMode: "stateless"},
			wantedErrors: []string{
				`context "environments.example.drRegion": "eu-central-1" has no entry in environments.example.regions; accepted: us-east-1, us-west-2`,
			},
		},
		"drRegion equal to primaryRegion": {
			mutate: []mutation{set("example.drRegion", "us-east-1")},
			wantedErrors: []string{
				`context "environments.example.drRegion": "us-east-1" is the primaryRegion too; accepted: a region other than us-east-1 (a DR cache in the primary region does not survive that region's outage; use allowSameRegionDrill=true for a drill)`,
			},
		},
		"regions entry keyed by something that is not a region": {
			mutate: []mutation{set("example.regions.mars-1", fixture()["example"].(map[string]any)["regions"].(map[string]any)["us-west-2"])},
			wantedErrors: []string{
				`context "environments.example.regions.mars-1": "mars-1" is not an AWS region name at all; ` + accRegion,
			},
		},

		// --- networking ---
		"malformed vpcId": {
			mutate:       []mutation{set("example.regions.us-east-1.vpcId", "vpc-123")},
			wantedErrors: []string{`context "` + exEast + `.vpcId": "vpc-123" is not accepted; accepted: a VPC id: vpc- and 8 or 17 lowercase hex digits`},
		},
		"vpcId missing": {
			mutate:       []mutation{del("example.regions.us-east-1.vpcId")},
			wantedErrors: []string{`context "` + exEast + `.vpcId": is not set; accepted: a VPC id: vpc- and 8 or 17 lowercase hex digits`},
		},
		"a single subnet": {
			mutate: []mutation{set("example.regions.us-east-1.subnetIds", []any{"subnet-0a1b2c3d"})},
			wantedErrors: []string{
				`context "` + exEast + `.subnetIds": "[\"subnet-0a1b2c3d\"]" has 1 subnet; accepted: at least 2 subnet ids (ElastiCache Serverless spreads the cache across the Availability Zones of its subnets)`,
			},
		},
		"malformed and repeated subnet ids": {
			mutate: []mutation{set("example.regions.us-east-1.subnetIds", []any{"subnet-0a1b2c3d", "subnet-0A1B2C3D", "subnet-0a1b2c3d"})},
			wantedErrors: []string{
				`context "` + exEast + `.subnetIds[1]": "subnet-0A1B2C3D" is not accepted; ` + accSubnet,
				`context "` + exEast + `.subnetIds[2]": "subnet-0a1b2c3d" repeats ` + exEast + `.subnetIds[0]; accepted: each id once`,
			},
		},
		"malformed security group id": {
			mutate:       []mutation{set("example.regions.us-east-1.applicationSecurityGroupIds", []any{"sg-xyz"})},
			wantedErrors: []string{`context "` + exEast + `.applicationSecurityGroupIds[0]": "sg-xyz" is not accepted; ` + accSG},
		},
		"IPv4 CIDR open to the world": {
			mutate: []mutation{set("example.regions.us-east-1.allowedCidrs", []any{"0.0.0.0/0"})},
			wantedErrors: []string{
				`context "` + exEast + `.allowedCidrs[0]": "0.0.0.0/0" is open to the world: never accepted; accepted: the CIDRs of the application networks`,
			},
		},
		"IPv6 CIDR open to the world": {
			mutate: []mutation{set("example.regions.us-east-1.allowedCidrs", []any{"::/0"})},
			wantedErrors: []string{
				`context "` + exEast + `.allowedCidrs[0]": "::/0" is open to the world: never accepted; accepted: the CIDRs of the application networks`,
			},
		},
		"CIDR wider than /8": {
			mutate:       []mutation{set("example.regions.us-east-1.allowedCidrs", []any{"10.0.0.0/7"})},
			wantedErrors: []string{`context "` + exEast + `.allowedCidrs[0]": "10.0.0.0/7" is wider than /8; accepted: a prefix of /8 or longer`},
		},
		"CIDR that is not the network address": {
			mutate:       []mutation{set("example.regions.us-east-1.allowedCidrs", []any{"10.10.1.7/16"})},
			wantedErrors: []string{`context "` + exEast + `.allowedCidrs[0]": "10.10.1.7/16" is not a network address; accepted: 10.10.0.0/16`},
		},
		"CIDR that does not parse": {
			mutate:       []mutation{set("example.regions.us-east-1.allowedCidrs", []any{"10.10.0.0"})},
			wantedErrors: []string{`context "` + exEast + `.allowedCidrs[0]": "10.10.0.0" is not a CIDR; accepted: an IPv4 or IPv6 CIDR such as 10.20.0.0/16`},
		},
		"IPv4-mapped IPv6 CIDR": {
			mutate: []mutation{set("example.regions.us-east-1.allowedCidrs", []any{"::ffff:10.0.0.0/104"})},
			wantedErrors: []string{
				`context "` + exEast + `.allowedCidrs[0]": "::ffff:10.0.0.0/104" is an IPv4-mapped IPv6 prefix; accepted: the IPv4 form of the network, such as 10.20.0.0/16`,
			},
		},
		"repeated CIDR": {
			mutate:       []mutation{set("example.regions.us-east-1.allowedCidrs", []any{"10.10.0.0/16", "10.10.0.0/16"})},
			wantedErrors: []string{`context "` + exEast + `.allowedCidrs[1]": "10.10.0.0/16" repeats ` + exEast + `.allowedCidrs[0]; accepted: each CIDR once`},
		},
		"no ingress source at all": {
			mutate: []mutation{
				set("example.regions.us-east-1.applicationSecurityGroupIds", []any{}),
				del("example.regions.us-east-1.allowedCidrs"),
			},
			wantedErrors: []string{
				`context "` + exEast + `.applicationSecurityGroupIds": no ingress source: give applicationSecurityGroupIds and/or allowedCidrs (an empty list never means open)`,
			},
		},
		"malformed hosted zone id": {
			mutate: []mutation{set("example.dns.hostedZoneId", "z123")},
			wantedErrors: []string{
				`context "environments.example.dns.hostedZoneId": "z123" is not accepted; accepted: a Route 53 hosted zone id: Z and up to 31 uppercase letters or digits`,
			},
		},
		"hosted zone still under a region (the old layout) points at dns": {
			mutate: []mutation{set("example.regions.us-east-1.hostedZoneId", "Z0EXAMPLE00000000001")},
			wantedErrors: []string{
				`context "` + exEast + `.hostedZoneId": unknown key; accepted: vpcId, subnetIds, applicationSecurityGroupIds, allowedCidrs, kmsKeyArn, createVpcEndpoints (hostedZoneId belongs under environments.example.dns.hostedZoneId)`,
			},
		},
		"monitoring thresholds out of range": {
			mutate: []mutation{
				set("example.monitoring", map[string]any{"readLatencyP99Micros": 5.0, "usagePercent": 120.0, "maxConnections": 70000.0}),
			},
			wantedErrors: []string{
				`context "environments.example.monitoring.maxConnections": "70000" is out of range; accepted: 1-65000 connections (absent or 0 means 5000)`,
				`context "environments.example.monitoring.readLatencyP99Micros": "5" is out of range; accepted: 100-1000000 microseconds (absent or 0 means 2000)`,
				`context "environments.example.monitoring.usagePercent": "120" is out of range; accepted: 1-100 percent of the usage limits (absent or 0 means 75)`,
			},
		},
		"alarm topic that is not an SNS topic ARN": {
			mutate: []mutation{set("example.monitoring", map[string]any{"alarmTopicArn": "arn:aws:sqs:us-east-1:111111111111:alarms"})},
			wantedErrors: []string{
				`context "environments.example.monitoring.alarmTopicArn": "arn:aws:sqs:us-east-1:111111111111:alarms" is not accepted; accepted: an SNS topic ARN: arn:aws:sns:<region>:<account>:<name> (absent means the stack creates one)`,
			},
		},
		"zone name with a bad label": {
			mutate: []mutation{set("example.dns.zoneName", "cache.-example.internal")},
			wantedErrors: []string{
				`context "environments.example.dns.zoneName": "cache.-example.internal" has the label "-example"; accepted: a DNS name: labels of a-z, 0-9 and inner hyphens, joined by dots`,
			},
		},
		"malformed KMS key ARN": {
			mutate:       []mutation{set("example.regions.us-west-2.kmsKeyArn", "arn:aws:kms:us-west-2:222222222222:key/not-a-key")},
			wantedErrors: []string{`context "` + exWest + `.kmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/not-a-key" is not accepted; ` + accKMSWest},
		},
		"KMS key from another region": {
			mutate: []mutation{set("prod.regions.us-west-2.kmsKeyArn", prodKeyEast)},
			in:     Input{Environment: "prod", DrMode: "none"},
			wantedErrors: []string{
				`context "` + prodWest + `.kmsKeyArn": "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab" is a key in us-east-1, not in us-west-2; ` + accKMSWest + ` (KMS keys are regional: use a key, or a multi-region replica key, created in us-west-2)`,
			},
		},
		"KMS alias instead of a key": {
			mutate: []mutation{set("prod.regions.us-west-2.kmsKeyArn", "arn:aws:kms:us-west-2:222222222222:alias/sessions")},
			in:     Input{Environment: "prod", DrMode: "none"},
			wantedErrors: []string{
				`context "` + prodWest + `.kmsKeyArn": "arn:aws:kms:us-west-2:222222222222:alias/sessions" is an alias ARN; ` + accKMSWest + ` (an alias can be re-pointed; the cache must name the key itself)`,
			},
		},
		"production region without a KMS key": {
			mutate: []mutation{del("prod.regions.us-west-2.kmsKeyArn")},
			in:     Input{Environment: "prod", DrMode: "none"},
			wantedErrors: []string{
				`context "` + prodWest + `.kmsKeyArn": is not set; accepted: a customer-managed KMS key ARN in us-west-2 (production requires a customer-managed KMS key)`,
			},
		},

		// --- cache ---
		"cache name longer than 40": {
			mutate:       []mutation{set("example.cache.name", "sessions-0123456789-0123456789-0123456789")},
			wantedErrors: []string{`context "environments.example.cache.name": "sessions-0123456789-0123456789-0123456789" is 41 characters, more than 40; ` + accName},
		},
		"cache name with an uppercase letter": {
			mutate:       []mutation{set("example.cache.name", "sessionsProd")},
			wantedErrors: []string{`context "environments.example.cache.name": "sessionsProd" contains 'P'; ` + accName},
		},
		"cache name starting with a digit": {
			mutate:       []mutation{set("example.cache.name", "1sessions")},
			wantedErrors: []string{`context "environments.example.cache.name": "1sessions" does not start with a lowercase letter; ` + accName},
		},
		"cache name with a double hyphen": {
			mutate:       []mutation{set("example.cache.name", "sessions--example")},
			wantedErrors: []string{`context "environments.example.cache.name": "sessions--example" contains "--"; ` + accName},
		},
		"cache name with a trailing hyphen": {
			mutate:       []mutation{set("example.cache.name", "sessions-")},
			wantedErrors: []string{`context "environments.example.cache.name": "sessions-" ends with "-"; ` + accName},
		},
		"cache name missing": {
			mutate:       []mutation{del("example.cache.name")},
			wantedErrors: []string{`context "environments.example.cache.name": is not set; ` + accName},
		},
		"cache name whose DR name is too long": {
			mutate: []mutation{set("example.cache.name", "sessions-0123456789-0123456789-0123456")},
			in:     Input{DrMode: "stateless"},
			wantedErrors: []string{
				`context "environments.example.cache.name": "sessions-0123456789-0123456789-0123456" is too long for drMode=stateless; accepted: at most 31 characters with user name "app" (the derived cache name "sessions-0123456789-0123456789-0123456-dr" is 41 characters, user id 45, user group id 47; ElastiCache allows 40)`,
			},
		},
		"cache name whose user group id is too long": {
			mutate: []mutation{set("example.cache.name", "sessions-0123456789-0123456789-0")},
			in:     Input{DrMode: "stateless"},
			wantedErrors: []string{
				`context "environments.example.cache.name": "sessions-0123456789-0123456789-0" is too long for drMode=stateless; accepted: at most 31 characters with user name "app" (the derived user group id "sessions-0123456789-0123456789-0-dr-users" is 41 characters; ElastiCache allows 40)`,
			},
		},
		"user name that makes the user id too long": {
			mutate: []mutation{set("example.cache.name", "sessions-0123456789-0123"), set("example.cache.auth.userName", "webapp-0123456789")},
			wantedErrors: []string{
				`context "environments.example.cache.name": "sessions-0123456789-0123" is too long for drMode=none; accepted: at most 22 characters with user name "webapp-0123456789" (the derived user id "sessions-0123456789-0123-webapp-0123456789" is 42 characters; ElastiCache allows 40)`,
			},
		},
		"engine version not 7, 8 or 9": {
			mutate:       []mutation{set("example.cache.majorEngineVersion", 6.0)},
			wantedErrors: []string{`context "environments.example.cache.majorEngineVersion": "6" is not accepted; accepted: 7, 8, 9 (absent or 0 means 8)`},
		},
		"engine version as a string": {
			mutate:       []mutation{set("example.cache.majorEngineVersion", "8")},
			wantedErrors: []string{`context "environments.example.cache.majorEngineVersion": "8" is a string; accepted: a whole number`},
		},
		"engine version with a fraction": {
			mutate:       []mutation{set("example.cache.majorEngineVersion", 8.5)},
			wantedErrors: []string{`context "environments.example.cache.majorEngineVersion": "8.5" is not a whole number; accepted: a whole number`},
		},
		"data storage limit above 5000 GB": {
			mutate:       []mutation{set("example.cache.usageLimits.dataStorageMaxGb", 5001.0)},
			wantedErrors: []string{`context "environments.example.cache.usageLimits.dataStorageMaxGb": "5001" is out of range; accepted: 1-5000 GB (absent or 0 means no limit)`},
		},
		"negative data storage limit": {
			mutate:       []mutation{set("example.cache.usageLimits.dataStorageMaxGb", -1.0)},
			wantedErrors: []string{`context "environments.example.cache.usageLimits.dataStorageMaxGb": "-1" is out of range; accepted: 1-5000 GB (absent or 0 means no limit)`},
		},
		"ECPU limit below 1000": {
			mutate:       []mutation{set("example.cache.usageLimits.ecpuPerSecondMax", 999.0)},
			wantedErrors: []string{`context "environments.example.cache.usageLimits.ecpuPerSecondMax": "999" is out of range; accepted: 1000-15000000 ECPU per second (absent or 0 means no limit)`},
		},
		"ECPU limit above 15 million": {
			mutate:       []mutation{set("example.cache.usageLimits.ecpuPerSecondMax", 15000001.0)},
			wantedErrors: []string{`context "environments.example.cache.usageLimits.ecpuPerSecondMax": "15000001" is out of range; accepted: 1000-15000000 ECPU per second (absent or 0 means no limit)`},
		},
		"auth mode missing": {
			mutate:       []mutation{del("example.cache.auth.mode")},
			wantedErrors: []string{`context "environments.example.cache.auth.mode": is not set; accepted: password, iam, none`},
		},
		"auth mode not accepted": {
			mutate:       []mutation{set("example.cache.auth.mode", "ldap")},
			wantedErrors: []string{`context "environments.example.cache.auth.mode": "ldap" is not accepted; accepted: password, iam, none`},
		},
		"production with auth none": {
			mutate: []mutation{set("prod.cache.auth.mode", "none")},
			in:     Input{Environment: "prod", DrMode: "none"},
			wantedErrors: []string{
				`context "environments.prod.cache.auth.mode": "none" is not accepted in production; accepted: password, iam (RBAC is the only access control on ElastiCache Serverless)`,
			},
		},
		"user name with a trailing hyphen": {
			mutate: []mutation{set("example.cache.auth.userName", "app-")},
			wantedErrors: []string{
				`context "environments.example.cache.auth.userName": "app-" ends with "-"; accepted: 1-20 lowercase letters, digits and hyphens, starting with a letter, without "--" or a trailing "-"`,
			},
		},
		"access string that does not enable the user": {
			mutate: []mutation{set("example.cache.auth.accessString", "off ~* +@all")},
			wantedErrors: []string{
				`context "environments.example.cache.auth.accessString": "off ~* +@all" does not start with "on "; accepted: an ACL rule list that enables the user, such as "on ~* &* +@all -@dangerous +cluster|shards +cluster|slots +cluster|info"`,
			},
		},
		"access string that carries a password": {
			mutate: []mutation{set("example.cache.auth.accessString", "on >hunter2 ~* +@all")},
			wantedErrors: []string{
				`context "environments.example.cache.auth.accessString": "on >hunter2 ~* +@all" sets a password rule (">hunter2"); accepted: key, channel and command rules only (passwords come from Secrets Manager, never from the access string or the template)`,
			},
		},
		"snapshot retention above 35 days": {
			mutate:       []mutation{set("prod.cache.snapshotRetentionLimit", 36.0)},
			in:           Input{Environment: "prod", DrMode: "none"},
			wantedErrors: []string{`context "environments.prod.cache.snapshotRetentionLimit": "36" is out of range; accepted: 0-35 days (0 means no automatic snapshots)`},
		},

		"negative snapshot retention": {
			mutate:       []mutation{set("example.cache.snapshotRetentionLimit", -1.0)},
			wantedErrors: []string{`context "environments.example.cache.snapshotRetentionLimit": "-1" is out of range; accepted: 0-35 days (0 means no automatic snapshots)`},
		},

		// --- dns ---
		"record name with a dot": {
			mutate: []mutation{set("example.dns.recordName", "sessions.cache")},
			wantedErrors: []string{
				`context "environments.example.dns.recordName": "sessions.cache" is not a single DNS label; accepted: 1-63 of a-z, 0-9 and inner hyphens, no dots, such as sessions`,
			},
		},
		"record name missing": {
			mutate:       []mutation{del("example.dns.recordName")},
			wantedErrors: []string{`context "environments.example.dns.recordName": is not set; accepted: a single DNS label such as sessions`},
		},
		"TTL above 60 seconds": {
			mutate: []mutation{set("example.dns.ttlSeconds", 300.0)},
			wantedErrors: []string{
				`context "environments.example.dns.ttlSeconds": "300" is out of range; accepted: 1-60 seconds (absent or 0 means 30) (the TTL bounds how long clients keep resolving to a failed region)`,
			},
		},
		"negative TTL": {
			mutate: []mutation{set("example.dns.ttlSeconds", -5.0)},
			wantedErrors: []string{
				`context "environments.example.dns.ttlSeconds": "-5" is out of range; accepted: 1-60 seconds (absent or 0 means 30) (the TTL bounds how long clients keep resolving to a failed region)`,
			},
		},

		// --- tags ---
		"required tags missing or blank": {
			mutate: []mutation{del("example.tags.owner"), set("example.tags.dataClassification", "  ")},
			wantedErrors: []string{
				`context "environments.example.tags.dataClassification": "  " is not set; accepted: a non-empty value (every resource is tagged with its owner and the classification of the data it holds)`,
				`context "environments.example.tags.owner": is not set; accepted: a non-empty value (every resource is tagged with its owner and the classification of the data it holds)`,
			},
		},
		"tags the app sets itself": {
			mutate: []mutation{set("example.tags.environment", "prod"), set("example.tags.managedBy", "me")},
			wantedErrors: []string{
				`context "environments.example.tags.environment": "prod" is a tag the app sets itself; accepted: any key except environment, drMode, managedBy`,
				`context "environments.example.tags.managedBy": "me" is a tag the app sets itself; accepted: any key except environment, drMode, managedBy`,
			},
		},
		"tag key with the aws: prefix": {
			mutate: []mutation{set("example.tags.aws:owner", "x")},
			wantedErrors: []string{
				`context "environments.example.tags.aws:owner": "x" is a tag key with the "aws:" prefix; accepted: a key without the aws: prefix, which AWS reserves`,
			},
		},
		"tag key and value too long": {
			mutate: []mutation{set("example.tags."+strings.Repeat("k", 129), "v"), set("example.tags.team", strings.Repeat("v", 257))},
			wantedErrors: []string{
				`context "environments.example.tags.` + strings.Repeat("k", 129) + `": is a tag key longer than 128 characters; accepted: 1-128 characters`,
				`context "environments.example.tags.team": "` + strings.Repeat("v", 80) + `..." is longer than 256 characters; accepted: 0-256 characters`,
			},
		},
		"tag value with characters AWS does not accept": {
			mutate: []mutation{set("example.tags.team", "a;b")},
			wantedErrors: []string{
				`context "environments.example.tags.team": "a;b" has characters AWS does not accept in a tag value; accepted: letters, digits, spaces and _ . : / = + - @`,
			},
		},

		// --- keys and types (the shape walk) ---
		"typo in a cache key": {
			mutate: []mutation{set("example.cache.nmae", "sessions")},
			wantedErrors: []string{
				`context "environments.example.cache.nmae": unknown key; accepted: name, majorEngineVersion, usageLimits, auth, snapshotRetentionLimit`,
			},
		},
		"key in the wrong case": {
			mutate: []mutation{set("example.regions.us-east-1.VpcId", "vpc-0a1b2c3d")},
			wantedErrors: []string{
				`context "` + exEast + `.VpcId": unknown key; accepted: vpcId, subnetIds, applicationSecurityGroupIds, allowedCidrs, kmsKeyArn, createVpcEndpoints (did you mean "vpcId"? keys are case-sensitive)`,
			},
		},
		"snapshots to restore are an unknown key with a reason": {
			mutate: []mutation{set("example.cache.snapshotArnsToRestore", []any{"arn:aws:elasticache:us-east-1:111111111111:serverlesscachesnapshot:s1"})},
			wantedErrors: []string{
				`context "environments.example.cache.snapshotArnsToRestore": unknown key; accepted: name, majorEngineVersion, usageLimits, auth, snapshotRetentionLimit ` + snapshotWhy,
			},
		},
		"KMS key under cache instead of the region": {
			mutate: []mutation{set("example.cache.kmsKeyArn", prodKeyEast)},
			wantedErrors: []string{
				`context "environments.example.cache.kmsKeyArn": unknown key; accepted: name, majorEngineVersion, usageLimits, auth, snapshotRetentionLimit (kmsKeyArn belongs under environments.example.regions.<region>.kmsKeyArn)`,
			},
		},
		"unknown key at the environment level": {
			mutate: []mutation{set("example.engine", "redis")},
			wantedErrors: []string{
				`context "environments.example.engine": unknown key; accepted: account, production, primaryRegion, drRegion, drPosture, regions, cache, dns, monitoring, evidence, tags`,
			},
		},
		"a key in the wrong object points at where it belongs": {
			mutate: []mutation{set("example.snapshotRetentionLimit", 1.0)},
			wantedErrors: []string{
				`context "environments.example.snapshotRetentionLimit": unknown key; accepted: account, production, primaryRegion, drRegion, drPosture, regions, cache, dns, monitoring, evidence, tags (snapshotRetentionLimit belongs under environments.example.cache.snapshotRetentionLimit)`,
			},
		},
		"list given as a string is a type problem only": {
			mutate: []mutation{set("example.regions.us-east-1.subnetIds", "subnet-0a1b2c3d,subnet-0a1b2c3e")},
			wantedErrors: []string{
				`context "` + exEast + `.subnetIds": "subnet-0a1b2c3d,subnet-0a1b2c3e" is a string; accepted: a list of strings`,
			},
		},
		"number inside a list names the element": {
			mutate: []mutation{set("example.regions.us-east-1.applicationSecurityGroupIds", []any{"sg-0a1b2c3d", 42.0})},
			wantedErrors: []string{
				`context "` + exEast + `.applicationSecurityGroupIds[1]": "42" is a number; accepted: a string`,
			},
		},
		"object given as a string": {
			mutate:       []mutation{set("example.cache.usageLimits", "none")},
			wantedErrors: []string{`context "environments.example.cache.usageLimits": "none" is a string; accepted: an object with keys dataStorageMaxGb, ecpuPerSecondMax`},
		},

		// --- everything at once ---
		"several problems are reported together, sorted by key": {
			mutate: []mutation{
				set("prod.account", "12"),
				set("prod.regions.us-west-2.vpcId", "vpc-1"),
				set("prod.cache.auth.mode", "none"),
				set("prod.dns.ttlSeconds", 61.0),
				set("prod.cache.nmae", "x"),
			},
			in: Input{Environment: "prod", DrMode: "snapshot", Region: "mars-1", HoldPrimaryRouting: "maybe"},
			wantedErrors: []string{
				`context "drMode": "snapshot" is not accepted; accepted: none, stateless, standby ` + snapshotWhy,
				`context "environments.prod.account": "12" is not accepted; accepted: a 12-digit AWS account id`,
				`context "environments.prod.cache.auth.mode": "none" is not accepted in production; accepted: password, iam (RBAC is the only access control on ElastiCache Serverless)`,
				`context "environments.prod.cache.nmae": unknown key; accepted: name, majorEngineVersion, usageLimits, auth, snapshotRetentionLimit`,
				`context "environments.prod.dns.ttlSeconds": "61" is out of range; accepted: 1-60 seconds (absent or 0 means 30) (the TTL bounds how long clients keep resolving to a failed region)`,
				`context "environments.prod.regions.us-west-2.vpcId": "vpc-1" is not accepted; accepted: a VPC id: vpc- and 8 or 17 lowercase hex digits`,
				`context "holdPrimaryRouting": "maybe" is not accepted; accepted: true, false`,
				`context "region": "mars-1" is not an AWS region name at all; accepted: us-east-1, us-west-2 (the regions with an entry in environments.prod.regions)`,
			},
		},

		// --- valid configs ---
		"example with no context given deploys the primary": {
			wanted: func(t *testing.T, c *Config) {
				want(t, "EnvironmentName", c.EnvironmentName, "example")
				want(t, "Region", c.Region, "us-east-1")
				want(t, "DrMode", c.DrMode, DrModeNone)
				want(t, "Net.VpcID", c.Net.VpcID, "vpc-0a1b2c3d4e5f60718")
				want(t, "StackID", c.StackID(), "ValkeyDr-example-us-east-1-primary")
				want(t, "CacheName", c.CacheName(), "sessions-example")
				want(t, "UserID", c.UserID(), "sessions-example-app")
				want(t, "UserGroupID", c.UserGroupID(), "sessions-example-users")
				want(t, "RegionalDNSName", c.RegionalDNSName(), "sessions.us-east-1.cache.example.internal")
				want(t, "ServiceDNSName", c.ServiceDNSName(), "sessions.cache.example.internal")
				want(t, "OwnsServiceRecord", c.OwnsServiceRecord(), true)
				want(t, "FailoverRole", c.FailoverRole(), "PRIMARY")
				want(t, "MajorEngineVersion", c.MajorEngineVersion(), 8)
				want(t, "TTLSeconds", c.TTLSeconds(), 30)
				want(t, "IsProduction", c.IsProduction(), false)
				want(t, "HoldPrimaryRouting", c.HoldPrimaryRouting, false)
				want(t, "SameRegionDrill", c.SameRegionDrill, false)
				want(t, "SSMPrefix", c.SSMPrefix(), "/valkey-dr/example")
			},
		},
		"example stateless defaults to the DR region": {
			in: Input{DrMode: "stateless"},
			wanted: func(t *testing.T, c *Config) {
				want(t, "Region", c.Region, "us-west-2")
				want(t, "Net.VpcID", c.Net.VpcID, "vpc-1a1b2c3d4e5f60718")
				want(t, "StackID", c.StackID(), "ValkeyDr-example-us-west-2-dr")
				want(t, "CacheName", c.CacheName(), "sessions-example-dr")
				want(t, "UserID", c.UserID(), "sessions-example-dr-app")
				want(t, "UserGroupID", c.UserGroupID(), "sessions-example-dr-users")
				want(t, "RegionalDNSName", c.RegionalDNSName(), "sessions.us-west-2.cache.example.internal")
				want(t, "OwnsServiceRecord", c.OwnsServiceRecord(), true)
				want(t, "FailoverRole", c.FailoverRole(), "SECONDARY")
			},
		},
		"same-region drill with the explicit override": {
			in: Input{DrMode: "stateless", Region: "us-east-1", AllowSameRegionDrill: "true"},
			wanted: func(t *testing.T, c *Config) {
				want(t, "SameRegionDrill", c.SameRegionDrill, true)
				want(t, "StackID", c.StackID(), "ValkeyDr-example-us-east-1-dr")
				want(t, "CacheName", c.CacheName(), "sessions-example-dr")
				want(t, "RegionalDNSName", c.RegionalDNSName(), "sessions.drill.us-east-1.cache.example.internal")
				want(t, "OwnsServiceRecord", c.OwnsServiceRecord(), false)
				want(t, "SSMPrefix", c.SSMPrefix(), "/valkey-dr/example/drill")
			},
		},
		"drill override in the DR region is no drill": {
			in: Input{DrMode: "stateless", Region: "us-west-2", AllowSameRegionDrill: true},
			wanted: func(t *testing.T, c *Config) {
				want(t, "SameRegionDrill", c.SameRegionDrill, false)
				want(t, "OwnsServiceRecord", c.OwnsServiceRecord(), true)
			},
		},
		"failback holds the primary routing back": {
			in: Input{HoldPrimaryRouting: "true", Region: "us-east-1"},
			wanted: func(t *testing.T, c *Config) {
				want(t, "HoldPrimaryRouting", c.HoldPrimaryRouting, true)
				want(t, "OwnsServiceRecord", c.OwnsServiceRecord(), false)
				want(t, "FailoverRole", c.FailoverRole(), "PRIMARY")
			},
		},
		"switches set to false as strings": {
			in: Input{HoldPrimaryRouting: "false", AllowSameRegionDrill: "false"},
			wanted: func(t *testing.T, c *Config) {
				want(t, "OwnsServiceRecord", c.OwnsServiceRecord(), true)
			},
		},
		"prod stateless keeps its snapshot retention for the primary only": {
			in: Input{Environment: "prod", DrMode: "stateless"},
			wanted: func(t *testing.T, c *Config) {
				want(t, "IsProduction", c.IsProduction(), true)
				want(t, "Region", c.Region, "us-west-2")
				want(t, "Net.KmsKeyArn", c.Net.KmsKeyArn, prodKeyWest)
				want(t, "SnapshotRetentionLimit", c.Env.Cache.SnapshotRetentionLimit, 7)
				// iam mode: the user id (== its name) carries the mode, so switching modes replaces
				// the user instead of failing on its unchanged custom id.
				want(t, "AuthUserName", c.AuthUserName(), "sessions-prod-dr-webapp-iam")
				want(t, "Tags", c.Tags()["costCenter"], "cc-42")
			},
		},
		"a broken environment that is not selected does not block a deploy": {
			mutate: []mutation{set("prod.account", "x"), set("prod.typo", true)},
			wanted: func(t *testing.T, c *Config) {
				want(t, "EnvironmentName", c.EnvironmentName, "example")
			},
		},
		"environments given as a JSON string": {
			envs: mustJSON(fixture()),
			in:   Input{Environment: "prod", DrMode: "none"},
			wanted: func(t *testing.T, c *Config) {
				want(t, "Region", c.Region, "us-east-1")
				want(t, "Account", c.Env.Account, "222222222222")
			},
		},
		"pointers from jsii read like values": {
			in: Input{Environment: ptr("prod"), DrMode: ptr("stateless"), HoldPrimaryRouting: ptr(false)},
			wanted: func(t *testing.T, c *Config) {
				want(t, "StackID", c.StackID(), "ValkeyDr-prod-us-west-2-dr")
			},
		},
		"longest cache name that fits every derived name": {
			mutate: []mutation{set("example.cache.name", "sessions-0123456789-0123456789-0")},
			in:     Input{DrMode: "none"},
			wanted: func(t *testing.T, c *Config) {
				want(t, "UserGroupID", c.UserGroupID(), "sessions-0123456789-0123456789-0-users")
			},
		},
		"IPv6 CIDR and a zone name with a trailing dot": {
			mutate: []mutation{
				set("example.regions.us-east-1.allowedCidrs", []any{"fd00:10::/48", "10.10.0.0/16"}),
				set("example.dns.zoneName", exampleZone+"."),
			},
			wanted: func(t *testing.T, c *Config) {
				want(t, "RegionalDNSName", c.RegionalDNSName(), "sessions.us-east-1.cache.example.internal")
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			switch tc.envs.(type) {
			case nil:
				in.Environments = build(tc.mutate...)
			case absent:
				in.Environments = nil
			default:
				in.Environments = tc.envs
			}
			cfg, err := Load(in)
			if tc.wantedErrors != nil {
				if cfg != nil {
					t.Errorf("Load returned a Config with an error")
				}
				got := lines(t, err)
				if !slices.Equal(got, tc.wantedErrors) {
					t.Errorf("problems:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tc.wantedErrors, "\n      "))
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.wanted != nil {
				tc.wanted(t, cfg)
			}
		})
	}
}

func want[T comparable](t *testing.T, what string, got, wanted T) {
	t.Helper()
	if got != wanted {
		t.Errorf("%s = %v, want %v", what, got, wanted)
	}
}

func ptr[T any](v T) *T { return &v }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestProblemString(t *testing.T) {
	tests := map[string]struct {
		p      Problem
		wanted string
	}{
		"a value with a newline stays on one line": {
			p:      Problem{Key: "environment", Value: "pro\nd", Accepted: "prod"},
			wanted: `context "environment": "pro\nd" is not accepted; accepted: prod`,
		},
		"an accepted list carrying a user's name stays on one line": {
			p:      Problem{Key: "environment", Value: "x", Accepted: "a\nb\u2028c", Hint: "tab\there"},
			wanted: `context "environment": "x" is not accepted; accepted: a\nb\u2028c (tab\there)`,
		},
		"a given empty value is shown": {
			p:      Problem{Key: "drMode", Accepted: "none, stateless"},
			wanted: `context "drMode": "" is not accepted; accepted: none, stateless`,
		},
		"a long value is clipped": {
			p:      Problem{Key: "k", Value: strings.Repeat("x", 100)},
			wanted: `context "k": "` + strings.Repeat("x", 80) + `..." is not accepted`,
		},
		"invalid UTF-8 is escaped": {
			p:      Problem{Key: "k\xff", Value: "v", Hint: "h\xff"},
			wanted: `context "k\xff": "v" is not accepted (h\xff)`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.wanted {
				t.Errorf("got  %s\nwant %s", got, tc.wanted)
			}
		})
	}
}

func TestError(t *testing.T) {
	_, err := Load(Input{Environments: build(), Environment: "nope", DrMode: "x"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Load error is %T, want *Error", err)
	}
	wanted := "invalid CDK context (2 problems):\n" +
		`  - context "drMode": "x" is not accepted; accepted: none, stateless, standby` + "\n" +
		`  - context "environment": "nope" is not accepted; accepted: example, prod`
	if err.Error() != wanted {
		t.Errorf("Error():\n%s\nwant:\n%s", err, wanted)
	}
	if e.ExitCode() != 2 {
		t.Errorf("ExitCode() = %d, want 2", e.ExitCode())
	}
	_, err = Load(Input{Environments: build(), DrMode: "x"})
	if got := strings.SplitN(err.Error(), "\n", 2)[0]; got != "invalid CDK context (1 problem):" {
		t.Errorf("header %q, want the singular", got)
	}
}

func TestEnvironments(t *testing.T) {
	t.Run("every environment is validated, not only one", func(t *testing.T) {
		_, err := Environments(build(set("prod.account", "x"), set("example.dns.ttlSeconds", 61.0)))
		wanted := []string{
			`context "environments.example.dns.ttlSeconds": "61" is out of range; accepted: 1-60 seconds (absent or 0 means 30) (the TTL bounds how long clients keep resolving to a failed region)`,
			`context "environments.prod.account": "x" is not accepted; accepted: a 12-digit AWS account id`,
		}
		if got := lines(t, err); !slices.Equal(got, wanted) {
			t.Errorf("problems:\n%s", strings.Join(got, "\n"))
		}
	})
	t.Run("cache names are checked for the DR mode too", func(t *testing.T) {
		_, err := Environments(build(set("example.cache.name", "sessions-0123456789-0123456789-0")))
		wanted := []string{
			`context "environments.example.cache.name": "sessions-0123456789-0123456789-0" is too long for drMode=standby; accepted: at most 26 characters with user name "app" (the derived user id "sessions-0123456789-0123456789-0-standby-app" is 44 characters, user group id 46; ElastiCache allows 40)`,
		}
		if got := lines(t, err); !slices.Equal(got, wanted) {
			t.Errorf("problems:\n%s", strings.Join(got, "\n"))
		}
	})
	t.Run("a valid table decodes every environment", func(t *testing.T) {
		envs, err := Environments(mustJSON(build()))
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(envs)); !slices.Equal(got, []string{"example", "prod"}) {
			t.Errorf("environments %v", got)
		}
		want(t, "prod subnets", len(envs["prod"].Regions["us-west-2"].SubnetIDs), 2)
	})
}

func TestMatrix(t *testing.T) {
	ts, err := Matrix(build())
	if err != nil {
		t.Fatal(err)
	}
	wanted := []Cell{
		{"example", DrModeNone, "us-east-1"},
		{"example", DrModeStandby, "us-west-2"},
		{"example", DrModeStateless, "us-west-2"},
		{"prod", DrModeNone, "us-east-1"},
		{"prod", DrModeStandby, "us-west-2"},
		{"prod", DrModeStateless, "us-west-2"},
	}
	if !slices.Equal(ts, wanted) {
		t.Errorf("Matrix = %v, want %v", ts, wanted)
	}
	if _, err := Matrix(build(set("prod.drRegion", "us-east-1"))); err == nil {
		t.Error("Matrix accepted an environment whose DR region is its primary region")
	}
}

// TestShapeCoversEnvironment is the audit that every field of Environment is known to the shape
// walk: a fully populated environment must walk clean (a field of a new kind would panic).
func TestShapeCoversEnvironment(t *testing.T) {
	yes := true
	full := Environment{
		Account: "111111111111", Production: &yes, PrimaryRegion: "us-east-1", DrRegion: "us-west-2",
		Regions: map[string]Region{"us-east-1": {
			VpcID: "vpc-0a1b2c3d", SubnetIDs: []string{"a"}, ApplicationSecurityGroupIDs: []string{"b"},
			AllowedCidrs: []string{"c"}, KmsKeyArn: "k",
		}},
		Cache: Cache{Name: "n", MajorEngineVersion: 8, UsageLimits: UsageLimits{1, 1000},
			Auth: Auth{Mode: contract.AuthIAM, UserName: "u", AccessString: "on"}, SnapshotRetentionLimit: 1},
		DrPosture:  DrModeStandby,
		DNS:        DNS{RecordName: "r", TTLSeconds: 1, HostedZoneID: "Z1", ZoneName: "z"},
		Monitoring: Monitoring{ReadLatencyP99Micros: 1, WriteLatencyP99Micros: 1, UsagePercent: 1, MaxConnections: 1, AlarmTopicArn: "a"},
		Tags:       map[string]string{"owner": "o"},
	}
	v, err := decodeJSON([]byte(mustJSON(full)))
	if err != nil {
		t.Fatal(err)
	}
	var ps problems
	walk(&ps, "environments.full", v, envType)
	if len(ps) > 0 {
		t.Errorf("a fully populated Environment does not walk clean: %v", ps)
	}
}

// TestCDKJSON loads the environments the project ships in cdk.json: every one of them must
// validate, and the CI synth matrix is environment x drMode.
func TestCDKJSON(t *testing.T) {
	path := filepath.Join("..", "cdk.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read %s (cdk.json with context.environments is part of the project): %v", path, err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not valid JSON: %v", path, err)
	}
	raw, ok := doc.Context[KeyEnvironments]
	if !ok {
		t.Fatalf("%s has no context.%s", path, KeyEnvironments)
	}
	ts, err := Matrix(raw)
	if err != nil {
		t.Fatalf("Matrix(%s): %v", path, err)
	}
	if len(ts) != 3*len(Modes) {
		t.Errorf("Matrix(%s) has %d targets, want %d (example, staging, prod x none, stateless, standby): %v", path, len(ts), 3*len(Modes), ts)
	}
	envs := map[string]bool{}
	for _, tg := range ts {
		envs[tg.Environment] = true
		cfg, err := Load(Input{Environments: raw, Environment: tg.Environment, DrMode: string(tg.DrMode)})
		if err != nil {
			t.Errorf("Load(%+v): %v", tg, err)
			continue
		}
		if cfg.Region != tg.Region {
			t.Errorf("Load(%+v) chose region %s", tg, cfg.Region)
		}
	}
	if !envs[DefaultEnvironment] {
		t.Errorf("%s has no %q environment, the default", path, DefaultEnvironment)
	}
	// The default synth (no --context at all) must work: it is `make synth`.
	if _, err := Load(Input{Environments: raw}); err != nil {
		t.Errorf("Load with no context: %v", err)
	}
}
