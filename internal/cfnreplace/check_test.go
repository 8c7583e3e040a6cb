package cfnreplace

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/internal/assembly"
)

// deployed is the template CloudFormation holds in these tests: a named cache, its named
// user, an SSM parameter whose value is a dynamic reference, an unnamed managed policy.
const deployed = `{"Resources": {
  "SessionCache": {"Type": "AWS::ElastiCache::ServerlessCache", "Properties": {
    "ServerlessCacheName": "gc-sessions-prod", "Engine": "valkey",
    "SubnetIds": ["subnet-a", "subnet-b"],
    "KmsKeyId": "arn:aws:kms:us-east-1:333333333333:key/one",
    "SecurityGroupIds": [{"Fn::GetAtt": ["SessionCacheSecurityGroup", "GroupId"]}],
    "Tags": [{"Key": "owner", "Value": "cloud-operations"}]}},
  "SessionCacheUser": {"Type": "AWS::ElastiCache::User", "Properties": {
    "UserId": "gc-sessions-prod-app", "UserName": "app", "Engine": "valkey"}},
  "EndpointParam": {"Type": "AWS::SSM::Parameter", "Properties": {
    "Name": "/valkey-dr/prod/endpoint-address", "Type": "String",
    "Value": "{{resolve:ssm:/valkey-dr/prod/source}}"}},
  "ConnectPolicy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
    "Description": "connect to the cache", "Path": "/",
    "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}},
  "ServiceRecord": {"Type": "AWS::Route53::RecordSet", "Properties": {
    "HostedZoneId": "Z0PRODZONE", "Name": "sessions.cache.example.internal", "Type": "CNAME",
    "SetIdentifier": "primary", "Failover": "PRIMARY", "TTL": "30", "ResourceRecords": ["x"]}},
  "Unknown": {"Type": "AWS::Example::Thing", "Properties": {"Name": "x"}}
}}`

// edit returns the deployed template with fn applied to its parsed JSON.
func edit(t *testing.T, fn func(rs map[string]map[string]any)) *assembly.Template {
	t.Helper()
	var raw struct {
		Resources map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(deployed), &raw); err != nil {
		t.Fatal(err)
	}
	if fn != nil {
		fn(raw.Resources)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl assembly.Template
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	return &tmpl
}

func props(rs map[string]map[string]any, id string) map[string]any {
	return rs[id]["Properties"].(map[string]any)
}

func TestCheck(t *testing.T) {
	type want struct {
		id       string
		kind     Kind
		blocking bool
		// parts must all be in the finding's String().
		parts []string
	}
	cases := map[string]struct {
		change func(rs map[string]map[string]any)
		want   []want
	}{
		"nothing changed": {},
		"subnets changed, name kept: blocked, with the way out": {
			change: func(rs map[string]map[string]any) {
				props(rs, "SessionCache")["SubnetIds"] = []any{"subnet-a", "subnet-c"}
			},
			want: []want{{"SessionCache", Blocked, true, []string{
				`SubnetIds ["subnet-a","subnet-b"] -> ["subnet-a","subnet-c"]`, `name "gc-sessions-prod"`,
				"CloudFormation cannot replace it: the update fails and rolls back", DocCustomName,
				"Way out: give the cache a new name (cdk.json environments.<env>.cache.name)", "sessions in it are lost"}}},
		},
		"KMS key changed, name kept: blocked": {
			change: func(rs map[string]map[string]any) {
				props(rs, "SessionCache")["KmsKeyId"] = "arn:aws:kms:us-east-1:333333333333:key/two"
			},
			want: []want{{"SessionCache", Blocked, true, []string{`KmsKeyId "arn:aws:kms:us-east-1:333333333333:key/one" -> "arn:aws:kms:us-east-1:333333333333:key/two"`}}},
		},
		"KMS key removed (the AWS-owned key): a change from a value to absent": {
			change: func(rs map[string]map[string]any) { delete(props(rs, "SessionCache"), "KmsKeyId") },
			want:   []want{{"SessionCache", Blocked, true, []string{`-> (absent)`}}},
		},
		"subnets and the name changed: a replacement that succeeds, sessions lost, not blocking": {
			change: func(rs map[string]map[string]any) {
				p := props(rs, "SessionCache")
				p["SubnetIds"] = []any{"subnet-c"}
				p["ServerlessCacheName"] = "gc-sessions-prod-2"
			},
			want: []want{{"SessionCache", Replacement, false, []string{"ServerlessCacheName", "SubnetIds", "the new resource is created, then the old one deleted",
				"the sessions in the old one are lost"}}},
		},
		"tags and a non-createOnly property changed: no replacement": {
			change: func(rs map[string]map[string]any) {
				p := props(rs, "SessionCache")
				p["Tags"] = []any{map[string]any{"Key": "owner", "Value": "someone-else"}}
				p["Engine"] = "redis" // Engine is not createOnly in the registry schema
				p["SecurityGroupIds"] = []any{"sg-1"}
			},
		},
		"a dynamic reference and an intrinsic unchanged: equal": {
			change: func(rs map[string]map[string]any) {
				// Re-typed from scratch: same canonical JSON, other key order in the source.
				props(rs, "EndpointParam")["Value"] = "{{resolve:ssm:/valkey-dr/prod/source}}"
				props(rs, "SessionCache")["SubnetIds"] = []any{"subnet-a", "subnet-b"}
			},
		},
		"the name changed to a dynamic reference: a replacement": {
			change: func(rs map[string]map[string]any) {
				props(rs, "EndpointParam")["Name"] = "{{resolve:ssm:/other}}"
			},
			want: []want{{"EndpointParam", Replacement, false, []string{`Name "/valkey-dr/prod/endpoint-address" -> "{{resolve:ssm:/other}}"`}}},
		},
		"an intrinsic that differs counts as a change": {
			change: func(rs map[string]map[string]any) {
				props(rs, "SessionCache")["KmsKeyId"] = map[string]any{"Fn::GetAtt": []any{"NewKey", "Arn"}}
			},
			want: []want{{"SessionCache", Blocked, true, []string{`-> {"Fn::GetAtt":["NewKey","Arn"]}`}}},
		},
		"user name changed, user id kept: blocked, the id's way out": {
			change: func(rs map[string]map[string]any) { props(rs, "SessionCacheUser")["UserName"] = "gc-sessions-prod-app" },
			want:   []want{{"SessionCacheUser", Blocked, true, []string{`UserName "app" -> "gc-sessions-prod-app"`, "user id is <cache name>-<user name>"}}},
		},
		"an unnamed resource with a createOnly change: a replacement that succeeds": {
			change: func(rs map[string]map[string]any) { props(rs, "ConnectPolicy")["Description"] = "connect (IAM auth)" },
			want:   []want{{"ConnectPolicy", Replacement, false, []string{`Description "connect to the cache" -> "connect (IAM auth)"`}}},
		},
		"a named resource moved to a new logical id with the same name: name conflict": {
			change: func(rs map[string]map[string]any) {
				rs["EndpointAddressParameter"] = rs["EndpointParam"]
				delete(rs, "EndpointParam")
			},
			want: []want{{"EndpointAddressParameter", NameConflict, true, []string{"moves from logical id EndpointParam", "keep the logical id EndpointParam",
				DocUpdateBehaviors}}},
		},
		"a named resource moved with a new name: no conflict": {
			change: func(rs map[string]map[string]any) {
				rs["EndpointAddressParameter"] = map[string]any{"Type": "AWS::SSM::Parameter", "Properties": map[string]any{"Name": "/valkey-dr/prod/endpoint"}}
				delete(rs, "EndpointParam")
			},
		},
		"a record moved to a new logical id unchanged: name conflict (zone, name, type, set identifier)": {
			change: func(rs map[string]map[string]any) {
				rs["DnsServiceRecord"] = rs["ServiceRecord"]
				delete(rs, "ServiceRecord")
			},
			want: []want{{"DnsServiceRecord", NameConflict, true, []string{"moves from logical id ServiceRecord",
				"HostedZoneId, HostedZoneName, Name, Type, SetIdentifier", "keep the record's logical id", DocUpdateBehaviors}}},
		},
		"a record moved with another set identifier: no conflict": {
			change: func(rs map[string]map[string]any) {
				rs["DnsServiceRecord"] = rs["ServiceRecord"]
				delete(rs, "ServiceRecord")
				props(rs, "DnsServiceRecord")["SetIdentifier"] = "primary-2"
			},
		},
		"a record renamed in place: a replacement that succeeds": {
			change: func(rs map[string]map[string]any) { props(rs, "ServiceRecord")["Name"] = "cache.example.internal" },
			want:   []want{{"ServiceRecord", Replacement, false, []string{`Name "sessions.cache.example.internal" -> "cache.example.internal"`}}},
		},
		"a record's target changed: no replacement": {
			change: func(rs map[string]map[string]any) { props(rs, "ServiceRecord")["ResourceRecords"] = []any{"y"} },
		},
		"a type without a row is not judged": {
			change: func(rs map[string]map[string]any) { props(rs, "Unknown")["Name"] = "y" },
		},
		"a value with control characters is escaped and a long one cut": {
			change: func(rs map[string]map[string]any) {
				props(rs, "SessionCache")["KmsKeyId"] = "\x1b[2J" + strings.Repeat("k", 300)
			},
			want: []want{{"SessionCache", Blocked, true, []string{`u001b[2J`, "…(", "bytes)"}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Check(edit(t, nil), edit(t, tc.change))
			if len(got) != len(tc.want) {
				t.Fatalf("%d findings, want %d: %v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				f := got[i]
				if f.LogicalID != w.id || f.Kind != w.kind || f.Blocking != w.blocking {
					t.Errorf("finding %d: %s %s blocking=%v, want %s %s blocking=%v", i, f.LogicalID, f.Kind, f.Blocking, w.id, w.kind, w.blocking)
				}
				for _, p := range w.parts {
					if !strings.Contains(f.String(), p) {
						t.Errorf("finding %d lacks %q:\n%s", i, p, f)
					}
				}
				if strings.ContainsRune(f.String(), '\x1b') {
					t.Errorf("finding %d prints a raw escape: %q", i, f)
				}
				if f.Doc == "" || (f.Blocking && f.WayOut == "") {
					t.Errorf("finding %d without its page or way out: %+v", i, f)
				}
			}
			blocking := 0
			for _, w := range tc.want {
				if w.blocking {
					blocking++
				}
			}
			if n := len(Blocking(got)); n != blocking {
				t.Errorf("Blocking: %d, want %d", n, blocking)
			}
		})
	}
}

func TestCheckWithoutADeployedTemplate(t *testing.T) {
	if got := Check(nil, edit(t, nil)); got != nil {
		t.Fatalf("a stack that does not exist yet has nothing to replace: %v", got)
	}
}
