package cfnreplace

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestRulesMatchTheRegistrySchemas keeps the table equal to CloudFormation's own data:
// testdata/registry-createonly.json holds, for each type of the table, the union over every
// Region of the createOnlyProperties of the registry schemas cfn-lint 1.51.0 ships
// (cfnlint/data/schemas/providers/<region>.py names each type's schema file in
// cfnlint/data/schemas/resources/; `aws cloudformation describe-type --type RESOURCE
// --type-name <type>` is the account's own answer). Regenerate it when cfn-lint is bumped.
func TestRulesMatchTheRegistrySchemas(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "registry-createonly.json"))
	if err != nil {
		t.Fatal(err)
	}
	var registry map[string][]string
	if err := json.Unmarshal(b, &registry); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.Type] {
			t.Errorf("%s: two rows", r.Type)
		}
		seen[r.Type] = true
		want, ok := registry[r.Type]
		if !ok {
			t.Errorf("%s: not in the registry snapshot: add it to testdata/registry-createonly.json", r.Type)
			continue
		}
		got := slices.Clone(r.CreateOnly)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: CreateOnly %v, the registry says %v", r.Type, got, want)
		}
		if r.NameProperty != "" && !slices.Contains(r.CreateOnly, r.NameProperty) {
			t.Errorf("%s: the custom name %s is not createOnly", r.Type, r.NameProperty)
		}
		if !strings.HasPrefix(r.Doc, ref+"aws-resource-") || !strings.HasSuffix(r.Doc, ".html") {
			t.Errorf("%s: Doc %q: want its template reference page", r.Type, r.Doc)
		}
	}
	for typ := range registry {
		if !seen[typ] {
			t.Errorf("%s: in the snapshot but not in Rules", typ)
		}
	}
}

// notCovered are the resource types our stacks create that have no row, with the reason.
var notCovered = map[string]string{
	"AWS::CDK::Metadata":             "CDK's own, not deployed as a resource",
	"AWS::KMS::Key":                  "no createOnly property in the registry schema",
	"AWS::SNS::TopicPolicy":          "no createOnly property in the registry schema",
	"AWS::SQS::QueuePolicy":          "no createOnly property in the registry schema",
	"AWS::EC2::SecurityGroupIngress": "unnamed, every property createOnly: a replacement always succeeds",
	"AWS::Lambda::Permission":        "unnamed: a replacement always succeeds",
	"AWS::Lambda::EventInvokeConfig": "identified by its function: replaced with the function, never on its own name",
	"AWS::Events::Rule":              "our stacks set no Name: CloudFormation names it, a replacement succeeds",
	"AWS::SNS::Topic":                "our stacks set no TopicName: CloudFormation names it, a replacement succeeds",
	"AWS::S3::Bucket":                "the evidence stack only, which no DR procedure deploys",
	"AWS::S3::BucketPolicy":          "the evidence stack only, which no DR procedure deploys",
	"AWS::EC2::VPCEndpoint":          "staging only (createVpcEndpoints). Unnamed, but with private DNS on a replacement collides with itself (the old endpoint holds the service's private DNS name while the new one is created): NOT judged yet",
}

// TestEveryTypeOurStacksCreateIsDecided: a type the golden templates gain gets a row or a
// reason here, so the check never silently skips a named resource of ours.
func TestEveryTypeOurStacksCreateIsDecided(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "stacks", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden templates: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl struct {
			Resources map[string]struct{ Type string }
		}
		if err := json.Unmarshal(b, &tmpl); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, r := range tmpl.Resources {
			if _, ok := RuleFor(r.Type); ok {
				continue
			}
			if _, ok := notCovered[r.Type]; !ok {
				t.Errorf("%s: %s is %s: add a row to Rules (rules.go) or a reason to notCovered", filepath.Base(f), id, r.Type)
			}
		}
	}
}
