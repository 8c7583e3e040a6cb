// Package iam_test checks the operator IAM policies in docs/iam: each file is a valid policy
// document, each drctl command's policy holds the actions that command needs, and every AWS call
// the operator-side code makes (AWS SDK calls in internal/ and validate/, S3 and KMS included, IAM-auth
// signing in validate/) is allowed by at least one of them. A new AWS call without a policy
// line fails here, before an operator finds out with AccessDenied during an incident.
package iam_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// policy is the part of an IAM policy document the test reads.
type policy struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Action    []string       `json:"Action"`
	Resource  any            `json:"Resource"`
	Condition map[string]any `json:"Condition"`
}

// perCommand is what each drctl command (and the validator run locally) must be allowed, by
// policy file. Issue 11 names them; route and the canary invoke are the data-plane switch and
// the in-VPC validation.
var perCommand = map[string][]string{
	// drctl activate / failback: cdk deploy through the bootstrap roles, the preflight (the
	// replacement check reads the deployed template: internal/dr/replacement.go).
	"deploy.json": {"sts:GetCallerIdentity", "sts:AssumeRole", "cloudformation:DescribeStacks", "cloudformation:GetTemplate"},
	// drctl teardown: cdk destroy, and termination protection off when asked.
	"teardown.json": {"sts:GetCallerIdentity", "sts:AssumeRole", "cloudformation:DescribeStacks", "cloudformation:UpdateTerminationProtection"},
	// validate run locally (bastion, VPN): the password secret or an IAM token.
	"validate.json": {"secretsmanager:GetSecretValue", "elasticache:Connect"},
	// validate --via-function / drctl: invoke the health canary on demand.
	"invoke-canary.json": {"lambda:InvokeFunction"},
	// drctl route: publish / clear the failover request, read the switch back.
	"route.json": {"sts:GetCallerIdentity", "scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:DeleteSchedule", "iam:PassRole",
		"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "route53:GetHealthCheckStatus", "route53:ListHealthChecks"},
	// applications and operators: endpoint, ports, auth mode, secret ARN from SSM.
	"read-app-config.json": {"ssm:GetParameter"},
	// drctl archive (internal/dr/evidence/archive.go): PutObject with Object Lock retention headers into
	// the SSE-KMS evidence bucket; sealing and drctl verify (internal/dr/evidence/kms.go): Sign, Verify,
	// and GetPublicKey to pin the public key (docs/evidence.md "Trust").
	"evidence.json": {"s3:PutObject", "s3:PutObjectRetention", "kms:GenerateDataKey", "kms:Decrypt", "kms:Sign", "kms:Verify", "kms:GetPublicKey"},
}

func load(t *testing.T) map[string]policy {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no policy files in docs/iam: %v", err)
	}
	out := map[string]policy{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		var p policy
		if err := dec.Decode(&p); err != nil {
			t.Errorf("%s: not a policy document this test understands: %v", f, err)
			continue
		}
		out[f] = p
	}
	return out
}

func allowed(p policy) map[string]statement {
	m := map[string]statement{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			m[a] = s
		}
	}
	return m
}

func TestPoliciesAreValidDocuments(t *testing.T) {
	for f, p := range load(t) {
		if p.Version != "2012-10-17" {
			t.Errorf("%s: Version %q, want 2012-10-17", f, p.Version)
		}
		if len(p.Statement) == 0 {
			t.Errorf("%s: no statements", f)
		}
		sids := map[string]bool{}
		for _, s := range p.Statement {
			if s.Sid == "" || sids[s.Sid] {
				t.Errorf("%s: statement without a unique Sid: %+v", f, s)
			}
			sids[s.Sid] = true
			if s.Effect != "Allow" && s.Effect != "Deny" {
				t.Errorf("%s/%s: Effect %q", f, s.Sid, s.Effect)
			}
			if s.Resource == nil {
				t.Errorf("%s/%s: no Resource", f, s.Sid)
			}
			for _, a := range s.Action {
				if !regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z]+\*?$`).MatchString(a) || strings.Contains(a, ":*") {
					t.Errorf("%s/%s: action %q: want service:Action, no service-wide wildcard", f, s.Sid, a)
				}
			}
		}
	}
}

func TestEachCommandPolicyHoldsWhatTheCommandNeeds(t *testing.T) {
	ps := load(t)
	for f, actions := range perCommand {
		p, ok := ps[f]
		if !ok {
			t.Errorf("docs/iam/%s missing", f)
			continue
		}
		got := allowed(p)
		for _, a := range actions {
			if _, ok := got[a]; !ok {
				t.Errorf("%s does not allow %s", f, a)
			}
		}
	}
	// The request schedule publishes with the switch stack's role: the operator may pass that
	// role, to EventBridge Scheduler only, and nothing else.
	pass := allowed(ps["route.json"])["iam:PassRole"]
	cond, _ := json.Marshal(pass.Condition)
	res, _ := json.Marshal(pass.Resource)
	if !strings.Contains(string(cond), `"iam:PassedToService":"scheduler.amazonaws.com"`) || !strings.Contains(string(res), ":role/ValkeyDr-ENVIRONMENT-routing-publisher") {
		t.Errorf("route.json: iam:PassRole on %s with %s: want the publisher role, passed to scheduler.amazonaws.com only", res, cond)
	}
	// The bootstrap roles only: the operator never needs CloudFormation or IAM write access.
	for _, f := range []string{"deploy.json", "teardown.json"} {
		s := allowed(ps[f])["sts:AssumeRole"]
		res, _ := json.Marshal(s.Resource)
		if !strings.Contains(string(res), ":role/cdk-") || strings.Contains(string(res), `"*"`) {
			t.Errorf("%s: sts:AssumeRole on %s: want the cdk-* bootstrap roles only", f, res)
		}
	}
	// The evidence policy: objects of the evidence bucket only (no delete: Object Lock and the
	// bucket policy refuse it anyway), the bucket's key through S3 only, the signing key.
	ev := allowed(ps["evidence.json"])
	if res, _ := json.Marshal(ev["s3:PutObject"].Resource); !strings.Contains(string(res), "arn:aws:s3:::valkeydr-ENVIRONMENT-evidence-ACCOUNT_ID-EVIDENCE_REGION/*") {
		t.Errorf("evidence.json: s3:PutObject on %s: want the evidence bucket's objects only", res)
	}
	if cond, _ := json.Marshal(ev["kms:GenerateDataKey"].Condition); !strings.Contains(string(cond), `"kms:ViaService":"s3.EVIDENCE_REGION.amazonaws.com"`) {
		t.Errorf("evidence.json: kms:GenerateDataKey with %s: want it through S3 only (kms:ViaService)", cond)
	}
	for a := range ev {
		if strings.HasPrefix(a, "s3:Delete") || a == "s3:BypassGovernanceRetention" || a == "kms:CreateGrant" {
			t.Errorf("evidence.json allows %s: the archive is write-once", a)
		}
	}
	ssm, _ := json.Marshal(allowed(ps["read-app-config.json"])["ssm:GetParameter"].Resource)
	if !strings.Contains(string(ssm), ":parameter/valkey-dr/ENVIRONMENT/*") {
		t.Errorf("read-app-config.json: ssm:GetParameter on %s: want /valkey-dr/<env>/*", ssm)
	}
}

// cliCall matches an aws CLI command line built in Go: runner.Cmd{Name: "aws", Args:
// []string{"<service>", "<operation>", ...}}.
var cliCall = regexp.MustCompile(`Name:\s*"aws",\s*Args:\s*\[\]string\{"([a-z0-9-]+)",\s*"([a-z0-9-]+)"`)

// sdkCall matches an AWS SDK for Go v2 request: <service>.<Operation>Input{.
var sdkCall = regexp.MustCompile(`\b(secretsmanager|cloudwatch|lambda|ssm|sts|route53|cloudformation|elasticache|scheduler|s3|kms)\.([A-Z][A-Za-z]+)Input\{`)

// cliServices maps aws CLI service names to IAM prefixes where they differ.
var cliServices = map[string]string{}

// sdkActions maps SDK operations whose IAM action has another name.
var sdkActions = map[string]string{"lambda:Invoke": "lambda:InvokeFunction"}

// codeActions greps the operator-side code for AWS calls. validate/canary is left out: it runs
// as the canary's role, whose policy is in the template (stacks tests pin it).
func codeActions(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	found := map[string][]string{}
	for _, dir := range []string{"internal", "validate"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "canary" && filepath.Base(filepath.Dir(path)) == "validate" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			src := string(b)
			rel, _ := filepath.Rel(root, path)
			for _, m := range cliCall.FindAllStringSubmatch(src, -1) {
				svc := m[1]
				if p, ok := cliServices[svc]; ok {
					svc = p
				}
				a := svc + ":" + kebabToPascal(m[2])
				found[a] = append(found[a], rel)
			}
			for _, m := range sdkCall.FindAllStringSubmatch(src, -1) {
				a := m[1] + ":" + m[2]
				if r, ok := sdkActions[a]; ok {
					a = r
				}
				found[a] = append(found[a], rel)
			}
			// A PutObject with Object Lock retention headers is also authorized as
			// s3:PutObjectRetention; into an SSE-KMS bucket, S3 calls kms:GenerateDataKey (and
			// kms:Decrypt, for multipart uploads) on the operator's behalf.
			if strings.Contains(src, "s3.PutObjectInput{") {
				if strings.Contains(src, "ObjectLockRetainUntilDate") {
					found["s3:PutObjectRetention"] = append(found["s3:PutObjectRetention"], rel)
				}
				found["kms:GenerateDataKey"] = append(found["kms:GenerateDataKey"], rel)
				found["kms:Decrypt"] = append(found["kms:Decrypt"], rel)
			}
			// IAM auth: a SigV4-presigned connect request, authorized as elasticache:Connect.
			if strings.Contains(src, "PresignHTTP(") && strings.Contains(src, `"elasticache"`) {
				found["elasticache:Connect"] = append(found["elasticache:Connect"], rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

func kebabToPascal(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func TestEveryAWSCallOfTheCodeIsCovered(t *testing.T) {
	found := codeActions(t)
	// The scan must see what is known to be there, or it proves nothing.
	for _, a := range []string{"sts:GetCallerIdentity", "cloudformation:DescribeStacks", "cloudformation:UpdateTerminationProtection",
		"secretsmanager:GetSecretValue", "elasticache:Connect", "lambda:InvokeFunction", "scheduler:CreateSchedule", "scheduler:DeleteSchedule",
		"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "route53:GetHealthCheckStatus", "route53:ListHealthChecks",
		"s3:PutObject", "s3:PutObjectRetention", "kms:GenerateDataKey", "kms:Sign", "kms:Verify"} {
		if _, ok := found[a]; !ok {
			t.Errorf("the code scan no longer finds %s: fix the scan (regexps in this file)", a)
		}
	}
	all := map[string]bool{}
	for _, p := range load(t) {
		for a := range allowed(p) {
			all[a] = true
		}
	}
	actions := make([]string, 0, len(found))
	for a := range found {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	for _, a := range actions {
		if !all[a] {
			t.Errorf("%s (called in %v) is allowed by no policy in docs/iam", a, found[a])
		}
	}
	t.Logf("AWS calls found in internal/ and validate/: %v", actions)
}

// awsCLIInvocation matches the ways Go code could run the AWS CLI: a command builder's
// Cmd{Name: "aws", ...}, os/exec's Command("aws", ...) or CommandContext(ctx, "aws", ...), a
// shell line starting with aws in an argument list, or a name for the program ("aws" assigned
// to a variable or constant) to pass on.
var awsCLIInvocation = regexp.MustCompile(`Name:\s*"aws"|exec\.Command(Context)?\(\s*(\w+,\s*)?"aws"|Args:\s*\[\]string\{[^}]*"aws\s[a-z0-9-]+\s|\b\w+\s*(:=|=)\s*"aws"\s*$`)

// TestNoAWSCLIInvocationRemains: drctl makes every AWS call through aws-sdk-go-v2 (regional
// endpoints, SDK errors mapped to sentences: internal/dr/awsseam.go), so the AWS CLI is no
// prerequisite of any procedure. Any invocation of it in the operator-side code (internal/,
// validate/; tests aside) fails here.
func TestNoAWSCLIInvocationRemains(t *testing.T) {
	for _, planted := range []string{`Cmd{Name: "aws", Args: []string{"sts", "get-caller-identity"}}`, `exec.CommandContext(ctx, "aws", "s3", "cp")`,
		`exec.Command("aws")`, `Args: []string{"-c", "aws cloudformation describe-stacks --stack-name x"}`, `awsCLI = "aws"`} {
		if !awsCLIInvocation.MatchString(planted) {
			t.Errorf("the scan misses %s: fix awsCLIInvocation", planted)
		}
	}
	// What is not an invocation: an ARN partition, advice printed to the operator.
	for _, fine := range []string{`return "aws"`, "run `aws sso login --profile %s` and re-run"} {
		if awsCLIInvocation.MatchString(fine) {
			t.Errorf("the scan flags %q, which runs nothing", fine)
		}
	}
	root := filepath.Join("..", "..")
	for _, dir := range []string{"internal", "validate"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if awsCLIInvocation.MatchString(line) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s:%d runs the AWS CLI: %s\n  make the call with aws-sdk-go-v2 at a seam (internal/dr/awsseam.go) and allow it in docs/iam", rel, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
