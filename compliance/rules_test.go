package compliance

// Rule tests on templates written by hand: no jsii, milliseconds. Each case breaks one thing
// in a template shaped like ours and names the rules that must fire, and only those. The jsii
// tests in package gate prove the same on stacks synthesized from cdk.json.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/context"
)

// ourTemplate is a primary stack's template as stacks.NewCacheStack writes it, trimmed to what
// the rules read.
const ourTemplate = `{"Resources": {
  "SessionCacheSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
    "SecurityGroupEgress": [{"CidrIp": "255.255.255.255/32", "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}],
    "SecurityGroupIngress": [
      {"FromPort": 6379, "IpProtocol": "tcp", "SourceSecurityGroupId": "sg-0c5e7a9b1d3f68024", "ToPort": 6380},
      {"FromPort": 6379, "IpProtocol": "tcp", "CidrIp": "10.10.0.0/16", "ToPort": 6380}]},
    "Metadata": {"aws:cdk:path": "S/SessionCache/SecurityGroup"}},
  "SessionCache": {"Type": "AWS::ElastiCache::ServerlessCache", "Properties": {
    "Engine": "valkey", "MajorEngineVersion": "8",
    "KmsKeyId": "arn:aws:kms:us-east-1:333333333333:key/7b4e0c3a-5d9f-4a1b-8c2e-3f4a5b6c7d8e",
    "SecurityGroupIds": [{"Ref": "SessionCacheSecurityGroup"}],
    "SubnetIds": ["subnet-0f2b4d6e8a0c35791", "subnet-0a3c5e7f9b1d46802"],
    "SnapshotRetentionLimit": 0,
    "Tags": [{"Key": "dataClassification", "Value": "phi"}, {"Key": "drMode", "Value": "none"},
             {"Key": "environment", "Value": "prod"}, {"Key": "owner", "Value": "cloud-operations"}],
    "UserGroupId": {"Ref": "SessionCacheUserGroup"}},
    "Metadata": {"aws:cdk:path": "S/SessionCache/Cache"}},
  "DnsRegionalRecord": {"Type": "AWS::Route53::RecordSet", "Properties": {
    "HostedZoneId": "Z1", "Name": "sessions.us-east-1.cache.example.com", "TTL": "30", "Type": "CNAME",
    "ResourceRecords": [{"Fn::GetAtt": ["SessionCache", "Endpoint.Address"]}]}},
  "DnsServiceRecord": {"Type": "AWS::Route53::RecordSet", "Properties": {
    "HostedZoneId": "Z1", "Name": "sessions.cache.example.com", "TTL": "30", "Type": "CNAME",
    "Failover": "PRIMARY", "SetIdentifier": "primary",
    "ResourceRecords": [{"Fn::GetAtt": ["SessionCache", "Endpoint.Address"]}]}}
}}`

func ourStack(t *testing.T) *Stack {
	t.Helper()
	s := &Stack{Name: "S", TemplatePath: "S.template.json", TerminationProtection: true,
		Facts: Facts{Environment: "prod", Production: true, DrMode: drcontext.DrModeNone}}
	if err := json.Unmarshal([]byte(ourTemplate), &s.Template); err != nil {
		t.Fatal(err)
	}
	return s
}

// props returns a resource's properties for mutation.
func props(s *Stack, id string) map[string]any { return s.Template.Resources[id].Properties }

func cache(s *Stack) map[string]any { return props(s, "SessionCache") }
func group(s *Stack) map[string]any { return props(s, "SessionCacheSecurityGroup") }

// obj parses a JSON literal for a test case.
func obj(t *testing.T, js string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func addResource(t *testing.T, s *Stack, id, typ, propsJSON string) {
	t.Helper()
	s.Template.Resources[id] = Resource{Type: typ, Properties: obj(t, propsJSON).(map[string]any)}
}

func ruleIDs(fs []Finding) []string {
	ids := []string{}
	for _, f := range fs {
		ids = append(ids, f.RuleID)
	}
	sort.Strings(ids)
	return ids
}

func TestRulesFireOnBrokenTemplatesAndOnlyThere(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(t *testing.T, s *Stack)
		want   []string
	}{
		"our template passes every rule": {func(*testing.T, *Stack) {}, nil},

		"an engine other than valkey": {func(t *testing.T, s *Stack) { cache(s)["Engine"] = "redis" }, []string{RuleEngineValkey}},
		"an engine that is not a literal cannot be verified": {func(t *testing.T, s *Stack) {
			cache(s)["Engine"] = obj(t, `{"Ref": "EngineParam"}`)
		}, []string{RuleEngineValkey}},
		"no engine at all": {func(t *testing.T, s *Stack) { delete(cache(s), "Engine") }, []string{RuleEngineValkey}},

		"no SubnetIds":           {func(t *testing.T, s *Stack) { delete(cache(s), "SubnetIds") }, []string{RuleNetworkPlacement}},
		"empty SecurityGroupIds": {func(t *testing.T, s *Stack) { cache(s)["SecurityGroupIds"] = []any{} }, []string{RuleNetworkPlacement}},
		"a GetAtt GroupId reference is the stack's group": {func(t *testing.T, s *Stack) {
			cache(s)["SecurityGroupIds"] = obj(t, `[{"Fn::GetAtt": ["SessionCacheSecurityGroup", "GroupId"]}]`)
		}, nil},
		"an imported security group cannot be checked": {func(t *testing.T, s *Stack) {
			cache(s)["SecurityGroupIds"] = obj(t, `[{"Ref": "SessionCacheSecurityGroup"}, "sg-0123456789abcdef0"]`)
		}, []string{RuleIngressValkeyPorts}},
		"an inline rule wider than 6379-6380": {func(t *testing.T, s *Stack) {
			group(s)["SecurityGroupIngress"].([]any)[0].(map[string]any)["ToPort"] = float64(6390)
		}, []string{RuleIngressValkeyPorts}},
		"an inline rule for all protocols": {func(t *testing.T, s *Stack) {
			group(s)["SecurityGroupIngress"] = obj(t, `[{"IpProtocol": "-1", "SourceSecurityGroupId": "sg-0c5e7a9b1d3f68024"}]`)
		}, []string{RuleIngressValkeyPorts}},
		"a standalone ingress resource for SSH on the cache group": {func(t *testing.T, s *Stack) {
			addResource(t, s, "Ssh", typeIngress, `{"GroupId": {"Fn::GetAtt": ["SessionCacheSecurityGroup", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"}`)
		}, []string{RuleIngressValkeyPorts}},
		"ports given as strings and protocol 6 are still 6379-6380": {func(t *testing.T, s *Stack) {
			group(s)["SecurityGroupIngress"] = obj(t, `[{"IpProtocol": "6", "FromPort": "6379", "ToPort": "6379", "CidrIp": "10.10.0.0/16"}]`)
		}, nil},

		"the cache group open to 0.0.0.0/0 on the Valkey ports": {func(t *testing.T, s *Stack) {
			group(s)["SecurityGroupIngress"].([]any)[1].(map[string]any)["CidrIp"] = "0.0.0.0/0"
		}, []string{RuleNoOpenCIDR}},
		"a standalone rule open to ::/0": {func(t *testing.T, s *Stack) {
			addResource(t, s, "Open6", typeIngress, `{"GroupId": {"Ref": "SessionCacheSecurityGroup"}, "IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6380, "CidrIpv6": "::/0"}`)
		}, []string{RuleNoOpenCIDR}},
		"another group of the stack open to the world": {func(t *testing.T, s *Stack) {
			addResource(t, s, "Other", typeSecurityGroup, `{"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]}`)
		}, []string{RuleNoOpenCIDR}},

		"no SecurityGroupEgress means allow-all egress": {func(t *testing.T, s *Stack) {
			delete(group(s), "SecurityGroupEgress")
		}, []string{RuleNoEgress}},
		"an allow-all egress rule": {func(t *testing.T, s *Stack) {
			group(s)["SecurityGroupEgress"] = obj(t, `[{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]`)
		}, []string{RuleNoEgress}},
		"a standalone egress resource": {func(t *testing.T, s *Stack) {
			addResource(t, s, "Out", typeEgress, `{"GroupId": {"Ref": "SessionCacheSecurityGroup"}, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}`)
		}, []string{RuleNoEgress}},

		"production without a user group": {func(t *testing.T, s *Stack) { delete(cache(s), "UserGroupId") }, []string{RuleProdUserGroup}},
		"no user group outside production is allowed": {func(t *testing.T, s *Stack) {
			delete(cache(s), "UserGroupId")
			s.Facts.Production = false
		}, nil},
		"production without a CMK": {func(t *testing.T, s *Stack) { delete(cache(s), "KmsKeyId") }, []string{RuleProdKMS}},
		"production with a key alias": {func(t *testing.T, s *Stack) {
			cache(s)["KmsKeyId"] = "arn:aws:kms:us-east-1:333333333333:alias/sessions"
		}, []string{RuleProdKMS}},
		"no CMK outside production is allowed": {func(t *testing.T, s *Stack) {
			delete(cache(s), "KmsKeyId")
			s.Facts.Production = false
		}, nil},

		"a snapshot to restore": {func(t *testing.T, s *Stack) {
			cache(s)["SnapshotArnsToRestore"] = obj(t, `["arn:aws:elasticache:us-east-1:333333333333:serverlesscachesnapshot:s1"]`)
		}, []string{RuleNoSnapshotRestore}},
		"snapshot retention in a stateless stack": {func(t *testing.T, s *Stack) {
			nightStack(s)
			cache(s)["SnapshotRetentionLimit"] = float64(7)
		}, []string{RuleStatelessNoBackups}},
		"snapshot retention in a primary stack is the environment's choice": {func(t *testing.T, s *Stack) {
			cache(s)["SnapshotRetentionLimit"] = float64(7)
		}, nil},
		"retention \"0\" as a string in a stateless stack": {func(t *testing.T, s *Stack) {
			nightStack(s)
			cache(s)["SnapshotRetentionLimit"] = "0"
		}, nil},
		"a stateless stack that still writes its Route 53 records": {func(t *testing.T, s *Stack) {
			s.Facts.DrMode = drcontext.DrModeStateless
			tagValue(s, "drMode", "stateless")
		}, []string{RuleNightStaticStable, RuleNightStaticStable}},

		"no owner tag": {func(t *testing.T, s *Stack) { tagValue(s, "owner", "") }, []string{RuleRequiredTags}},
		"no tags at all (one finding listing them)": {func(t *testing.T, s *Stack) { delete(cache(s), "Tags") }, []string{RuleRequiredTags}},
		"a drMode tag that names the other side":    {func(t *testing.T, s *Stack) { tagValue(s, "drMode", "stateless") }, []string{RuleRequiredTags}},

		"production without termination protection": {func(t *testing.T, s *Stack) { s.TerminationProtection = false }, []string{RuleProdTermination}},
		"no termination protection outside production is allowed": {func(t *testing.T, s *Stack) {
			s.TerminationProtection = false
			s.Facts.Production = false
		}, nil},

		"a TTL of five minutes":       {func(t *testing.T, s *Stack) { props(s, "DnsServiceRecord")["TTL"] = "300" }, []string{RuleDNSTTL}},
		"a TTL of exactly 60 seconds": {func(t *testing.T, s *Stack) { props(s, "DnsServiceRecord")["TTL"] = float64(60) }, nil},
		"a record without a TTL":      {func(t *testing.T, s *Stack) { delete(props(s, "DnsRegionalRecord"), "TTL") }, []string{RuleDNSTTL}},
		"an alias record has no TTL of its own": {func(t *testing.T, s *Stack) {
			p := props(s, "DnsRegionalRecord")
			delete(p, "TTL")
			p["AliasTarget"] = obj(t, `{"DNSName": "x.example.com", "HostedZoneId": "Z2"}`)
		}, nil},
		"a record set group with a one-hour TTL": {func(t *testing.T, s *Stack) {
			addResource(t, s, "Group", typeRecordSetGroup, `{"HostedZoneId": "Z1", "RecordSets": [{"Name": "a.cache.example.com", "Type": "A", "TTL": "3600", "ResourceRecords": ["10.0.0.1"]}]}`)
		}, []string{RuleDNSTTL}},
	} {
		t.Run(name, func(t *testing.T) {
			s := ourStack(t)
			tc.mutate(t, s)
			got := CheckStack(s)
			want := append([]string{}, tc.want...)
			sort.Strings(want)
			if ids := ruleIDs(got); !reflect.DeepEqual(ids, want) {
				t.Errorf("rules fired %v, want %v:\n%s", ids, want, findingsText(got))
			}
		})
	}
}

// nightStack makes ourStack the DR stack an activation deploys: drMode stateless, without the
// Route 53 records, which VDR-015 keeps out of it (they belong to the separate DNS step).
func nightStack(s *Stack) {
	s.Facts.DrMode = drcontext.DrModeStateless
	tagValue(s, "drMode", "stateless")
	delete(s.Template.Resources, "DnsRegionalRecord")
	delete(s.Template.Resources, "DnsServiceRecord")
}

// tagValue sets (or with "" removes) one tag of the cache.
func tagValue(s *Stack, key, value string) {
	list, _ := cache(s)["Tags"].([]any)
	var out []any
	for _, t := range list {
		if t.(map[string]any)["Key"] != key {
			out = append(out, t)
		}
	}
	if value != "" {
		out = append(out, map[string]any{"Key": key, "Value": value})
	}
	cache(s)["Tags"] = out
}

func findingsText(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

func TestFindingNamesRulePathProblemAndFix(t *testing.T) {
	s := ourStack(t)
	cache(s)["Engine"] = "redis"
	fs := CheckStack(s)
	if len(fs) != 1 {
		t.Fatalf("want one finding, got:\n%s", findingsText(fs))
	}
	msg := fs[0].String()
	for _, want := range []string{RuleEngineValkey, "S/SessionCache/Cache", "(SessionCache)", `Engine is "redis"`, RuleByID(RuleEngineValkey).Fix} {
		if !strings.Contains(msg, want) {
			t.Errorf("finding lacks %q:\n%s", want, msg)
		}
	}
	if fs[0].Location != "Properties/Engine" {
		t.Errorf("location %q, want Properties/Engine", fs[0].Location)
	}
}

// drStack is the DR stack of the same environment as ourStack.
func drStack(t *testing.T) *Stack {
	s := ourStack(t)
	s.Name = "D"
	s.Facts.DrMode = drcontext.DrModeStateless
	tagValue(s, "drMode", "stateless")
	props(s, "DnsRegionalRecord")["Name"] = "sessions.us-west-2.cache.example.com"
	p := props(s, "DnsServiceRecord")
	p["Failover"], p["SetIdentifier"] = "SECONDARY", "secondary"
	return s
}

func TestRecordSetOwnedByOneStackOfAnEnvironment(t *testing.T) {
	for name, tc := range map[string]struct {
		stacks func(t *testing.T) []*Stack
		want   []string
	}{
		"primary and DR own distinct records": {func(t *testing.T) []*Stack { return []*Stack{ourStack(t), drStack(t)} }, nil},
		"the DR half reuses the primary's set identifier": {func(t *testing.T) []*Stack {
			dr := drStack(t)
			props(dr, "DnsServiceRecord")["SetIdentifier"] = "primary"
			return []*Stack{ourStack(t), dr}
		}, []string{RuleRecordOwnedOnce, RuleRecordOwnedOnce}},
		"case and the final dot do not make a name different": {func(t *testing.T) []*Stack {
			dr := drStack(t)
			props(dr, "DnsRegionalRecord")["Name"] = "Sessions.US-EAST-1.cache.example.com."
			return []*Stack{ourStack(t), dr}
		}, []string{RuleRecordOwnedOnce, RuleRecordOwnedOnce}},
		"a different type is a different record set": {func(t *testing.T) []*Stack {
			dr := drStack(t)
			props(dr, "DnsRegionalRecord")["Name"] = "sessions.us-east-1.cache.example.com"
			props(dr, "DnsRegionalRecord")["Type"] = "TXT"
			return []*Stack{ourStack(t), dr}
		}, nil},
		"the same names in two environments do not collide": {func(t *testing.T) []*Stack {
			other := ourStack(t)
			other.Name, other.Facts.Environment = "O", "staging"
			return []*Stack{ourStack(t), other}
		}, nil},
		"one stack owning a record twice": {func(t *testing.T) []*Stack {
			s := ourStack(t)
			addResource(t, s, "Copy", typeRecordSet, `{"HostedZoneId": "Z1", "Name": "sessions.cache.example.com", "Type": "CNAME", "TTL": "30", "SetIdentifier": "primary", "ResourceRecords": ["x"]}`)
			return []*Stack{s}
		}, []string{RuleRecordOwnedOnce, RuleRecordOwnedOnce}},
	} {
		t.Run(name, func(t *testing.T) {
			got := CheckEnvironments(tc.stacks(t))
			if ids := ruleIDs(got); !reflect.DeepEqual(ids, append([]string{}, tc.want...)) {
				t.Errorf("rules fired %v, want %v:\n%s", ids, tc.want, findingsText(got))
			}
			for _, f := range got {
				if !strings.Contains(f.Problem, "also owned by") {
					t.Errorf("finding does not name the other owner: %s", f.Problem)
				}
			}
		})
	}
}

func TestRuleTableIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for i, r := range Rules {
		if want := fmt.Sprintf("VDR-%03d", i); r.ID != want {
			t.Errorf("rule %d has id %s, want %s (ids are sequential and never reused)", i, r.ID, want)
		}
		if seen[r.ID] {
			t.Errorf("rule id %s twice", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Fix == "" {
			t.Errorf("%s lacks a title or a fix", r.ID)
		}
		if r.ID != RuleStackRegistered && (r.stack == nil) == (r.env == nil) {
			t.Errorf("%s must have exactly one of a stack and an environment check", r.ID)
		}
	}
}

func TestLoadAssemblyReadsTerminationProtectionFromTheManifest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("manifest.json", `{"artifacts": {
	  "P": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "P.template.json", "terminationProtection": true}},
	  "Q": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Q.template.json"}},
	  "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}}`)
	write("P.template.json", ourTemplate)
	write("Q.template.json", `{"Resources": {}}`)
	facts := Facts{Environment: "prod", Production: true, DrMode: drcontext.DrModeNone}
	stacks, err := LoadAssembly(dir, func(string) Facts { return facts })
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) != 2 || stacks[0].Name != "P" || !stacks[0].TerminationProtection || stacks[1].TerminationProtection {
		t.Fatalf("stacks %+v", stacks)
	}
	if ids := ruleIDs(Check(stacks)); !reflect.DeepEqual(ids, []string{RuleProdTermination}) {
		t.Errorf("rules fired %v, want only %s on the unprotected production stack", ids, RuleProdTermination)
	}
	one, err := LoadStack("P", filepath.Join(dir, "P.template.json"), facts)
	if err != nil || !one.TerminationProtection {
		t.Errorf("LoadStack: %+v, %v", one, err)
	}
	if _, err := LoadStack("X", filepath.Join(dir, "X.template.json"), facts); err == nil {
		t.Error("LoadStack of a missing template: no error")
	}
}
