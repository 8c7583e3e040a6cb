package compliance

// cfn-lint, AWS's CloudFormation linter, over each synthesized stack for the stack's own Region:
// it validates every resource against that Region's CloudFormation registry schemas (which
// differ between Regions: AWS::CloudWatch::Dashboard takes Tags in us-west-2 and not, in the
// schemas cfn-lint 1.51.0 carries, in us-east-1), so a template CDK and cdk-nag accept can
// still fail to deploy in one Region. `make check` runs it (internal/cmd/check); this file is
// the pin, the command line and the reading of its JSON report.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// CfnLintVersion is the pinned cfn-lint: scripts/prereqs checks it, the gate refuses another.
const CfnLintVersion = "1.51.0"

// CfnLintInstall is the command that installs the pinned cfn-lint (a Python tool, from PyPI).
const CfnLintInstall = "pip install cfn-lint==" + CfnLintVersion

// CfnLintArgs is the command line (after the program) that lints templates for one Region,
// with a JSON report on stdout. Exit status: 0 clean, else a bit mask (2 error, 4 warning,
// 8 informational); 1 and 32 are cfn-lint's own failures.
func CfnLintArgs(region string, templates []string) []string {
	return append([]string{"--format", "json", "--regions", region, "-t"}, templates...)
}

// CfnLintFinding is one match of the report.
type CfnLintFinding struct {
	// Template is the file cfn-lint read.
	Template string
	// Rule is the rule id (E3002), Level Error, Warning or Informational.
	Rule, Level string
	Message     string
	// Path is the location in the template (Resources/<logical id>/Properties/Tags).
	Path   string
	Region string
}

// Fails reports whether the finding fails the gate: errors and warnings do (none is accepted
// today; a new one is decided, not scrolled past), informational matches do not.
func (f CfnLintFinding) Fails() bool { return f.Level == "Error" || f.Level == "Warning" }

// LogicalID is the resource the finding is about ("" for a template-level one).
func (f CfnLintFinding) LogicalID() string {
	if id, ok := strings.CutPrefix(f.Path, "Resources/"); ok {
		id, _, _ = strings.Cut(id, "/")
		return id
	}
	return ""
}

// String is the finding as the gate prints it.
func (f CfnLintFinding) String() string {
	return fmt.Sprintf("cfn-lint %s (%s, %s) %s: %s", f.Rule, strings.ToLower(f.Level), f.Region, f.Path, f.Message)
}

// ParseCfnLint reads cfn-lint's JSON report for one Region.
func ParseCfnLint(out []byte, region string) ([]CfnLintFinding, error) {
	var raw []struct {
		Filename string `json:"Filename"`
		Level    string `json:"Level"`
		Message  string `json:"Message"`
		Location struct {
			Path []any `json:"Path"`
		} `json:"Location"`
		Rule struct {
			ID string `json:"Id"`
		} `json:"Rule"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("cfn-lint's report is not JSON (%v): %.300s", err, out)
	}
	findings := make([]CfnLintFinding, 0, len(raw))
	for _, r := range raw {
		parts := make([]string, len(r.Location.Path))
		for i, p := range r.Location.Path {
			parts[i] = fmt.Sprint(p)
		}
		findings = append(findings, CfnLintFinding{Template: r.Filename, Rule: r.Rule.ID, Level: r.Level,
			Message: r.Message, Path: strings.Join(parts, "/"), Region: region})
	}
	return findings, nil
}

var cfnLintVersionRE = regexp.MustCompile(`cfn-lint (\d+\.\d+\.\d+)`)

// ParseCfnLintVersion reads `cfn-lint --version` ("cfn-lint 1.51.0").
func ParseCfnLintVersion(out string) (string, bool) {
	m := cfnLintVersionRE.FindStringSubmatch(out)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// RegionOf is the Region of a cloud assembly environment (aws://<account>/<region>); ok is
// false for an environment-agnostic stack (unknown-region), which cannot be linted per Region.
func RegionOf(environment string) (string, bool) {
	rest, ok := strings.CutPrefix(environment, "aws://")
	if !ok {
		return "", false
	}
	_, region, ok := strings.Cut(rest, "/")
	if !ok || region == "" || region == "unknown-region" {
		return "", false
	}
	return region, true
}
