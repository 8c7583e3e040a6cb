package assembly

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// assembly writes a minimal cloud assembly around a golden template of stacks/testdata.
func assembly(t *testing.T, golden, stack string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "..", "stacks", "testdata", golden))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stack+".template.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"artifacts": map[string]any{
		stack:  map[string]any{"type": "aws:cloudformation:stack", "environment": "aws://111111111111/us-west-2", "properties": map[string]any{"templateFile": stack + ".template.json", "terminationProtection": true}},
		"Tree": map[string]any{"type": "cdk:tree"},
	}}
	mb, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadStack(t *testing.T) {
	dir := assembly(t, "example-stateless.json", "ValkeyDr-example-us-west-2-dr")
	s, err := ReadStack(dir, "ValkeyDr-example-us-west-2-dr")
	if err != nil {
		t.Fatal(err)
	}
	if !s.TerminationProtection || s.Environment != "aws://111111111111/us-west-2" {
		t.Fatalf("stack %+v", s)
	}
	keys := s.Template.OutputKeys()
	// No DNS names: the DR stack made on the night owns no record (its DNS stack does).
	if len(keys) != 14 || keys[0] != "AuthMode" || !strings.Contains(strings.Join(keys, ","), "SecretArn") || strings.Contains(strings.Join(keys, ","), "DnsName") {
		t.Fatalf("OutputKeys = %v", keys)
	}
	if v, ok := s.Template.Outputs["DrMode"].Literal(); !ok || v != "stateless" {
		t.Fatalf("DrMode literal = %q %v", v, ok)
	}
	if _, ok := s.Template.Outputs["EndpointAddress"].Literal(); ok {
		t.Fatal("EndpointAddress is a GetAtt, not a literal")
	}
	res := s.Template.ResourceList()
	if res[0].Type > res[len(res)-1].Type {
		t.Fatal("ResourceList not sorted")
	}
	for _, r := range res {
		if r.Type == "AWS::CDK::Metadata" {
			t.Fatal("metadata listed")
		}
	}
	if _, err := ReadStack(dir, "Other"); err == nil || !strings.Contains(err.Error(), `stack "Other" not found (it holds: [ValkeyDr-example-us-west-2-dr])`) {
		t.Fatalf("missing stack: %v", err)
	}
	if _, err := ReadStack(t.TempDir(), "X"); err == nil {
		t.Fatal("no manifest: want an error")
	}
}

func TestRoutingChangeOfADRDeploy(t *testing.T) {
	primary, err := ReadStack(assembly(t, "example-none.json", "ValkeyDr-example-us-east-1-primary"), "ValkeyDr-example-us-east-1-primary")
	if err != nil {
		t.Fatal(err)
	}
	// The DR cache's records are its DNS stack's, pointing at the cache stack's SSM parameter
	// (a dynamic reference, resolved here like a token).
	dr, err := ReadStack(assembly(t, "example-stateless-dns.json", "ValkeyDr-example-us-west-2-dr-dns"), "ValkeyDr-example-us-west-2-dr-dns")
	if err != nil {
		t.Fatal(err)
	}
	before := primary.Route53Records(nil)
	after := append(append([]Record{}, before...), dr.Route53Records(map[string]string{"{{resolve:ssm:/valkey-dr/example/endpoint-address}}": "x.serverless.usw2.cache.amazonaws.com"})...)
	c := NewRoutingChange("DR deploy", before, after)
	if len(c.Removed) != 0 || len(c.Added) != 2 {
		t.Fatalf("added %d removed %d", len(c.Added), len(c.Removed))
	}
	var roles []string
	for _, r := range c.Added {
		roles = append(roles, r.Name+"/"+r.Failover+"="+strings.Join(r.Values, ","))
	}
	want := []string{"sessions.cache.internal.example.com/SECONDARY=x.serverless.usw2.cache.amazonaws.com",
		"sessions.us-west-2.cache.internal.example.com/=x.serverless.usw2.cache.amazonaws.com"}
	if !reflect.DeepEqual(roles, want) {
		t.Fatalf("added = %v\nwant %v", roles, want)
	}
	for _, r := range before {
		if r.Failover == "PRIMARY" && (r.HealthCheck == "" || r.Values[0] != "${SessionCache.Endpoint.Address}") {
			t.Fatalf("PRIMARY record %+v: want a health check and an unresolved endpoint token", r)
		}
	}
	md := c.Markdown()
	if !strings.Contains(md, "| added | sessions.cache.internal.example.com | CNAME | SECONDARY |") {
		t.Fatalf("markdown:\n%s", md)
	}
}

func TestRoute53RecordsReadsRecordSetGroups(t *testing.T) {
	s := &Stack{Name: "S", Template: &Template{Resources: map[string]Resource{
		"One": {Type: TypeRecordSet, Properties: map[string]any{"Name": "a.zone.", "Type": "CNAME", "TTL": "30",
			"HostedZoneId": "Z1", "ResourceRecords": []any{"x"}}},
		"Group": {Type: TypeRecordSetGroup, Properties: map[string]any{"HostedZoneId": "Z2", "RecordSets": []any{
			map[string]any{"Name": "b.zone.", "Type": "CNAME", "TTL": "60", "ResourceRecords": []any{"y"}},
		}}},
	}}}
	got := s.Route53Records(nil)
	want := []Record{
		{Stack: "S", LogicalID: "One", Name: "a.zone.", Type: "CNAME", TTL: "30", HostedZoneID: "Z1", Values: []string{"x"}},
		{Stack: "S", LogicalID: "Group/RecordSets/0", Name: "b.zone.", Type: "CNAME", TTL: "60", HostedZoneID: "Z2", Values: []string{"y"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records\n got %+v\nwant %+v", got, want)
	}
}

func TestReports(t *testing.T) {
	dir := t.TempDir()
	rep, err := ReadValidationReport(dir)
	if err != nil || len(rep.PluginReports) != 0 {
		t.Fatalf("a missing validation report is an empty one: %+v, %v", rep, err)
	}
	if _, err := ReadNagReport(dir, "AwsSolutions", "S"); !errors.Is(err, ErrNoNagReport) {
		t.Fatalf("a missing nag report: %v, want ErrNoNagReport", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "AwsSolutions-S-NagReport.json"),
		[]byte(`{"lines":[{"compliance":"Suppressed"},{"compliance":"Compliant"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	nag, err := ReadNagReport(dir, "AwsSolutions", "S")
	if err != nil || nag.Suppressed() != 1 {
		t.Fatalf("nag report: %+v, %v", nag, err)
	}
}
