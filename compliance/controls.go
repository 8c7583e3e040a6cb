package compliance

// The AWS Control Tower proactive controls (CT.<SERVICE>.PR.<n>) over each synthesized stack:
// the Guard rules an Organization's CloudFormation hook runs before a deploy, with the
// cfn-guard binary that evaluates them, both from the npm package
// @cdklabs/cdk-validator-cfnguard (pinned in package.json; nothing is fetched at run time).
// `make check` runs the binary (internal/cmd/check); this file finds it and the rules, picks the
// rules that can apply to our templates, reads the report, and holds the one waiver table.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// GuardPackage is the npm package with the cfn-guard binary and the Control Tower rules.
const GuardPackage = "@cdklabs/cdk-validator-cfnguard"

// GuardPackageDir is where `npm ci` puts it, relative to the repository.
var GuardPackageDir = filepath.Join("node_modules", "@cdklabs", "cdk-validator-cfnguard")

// GuardPaths are the binary for this OS and architecture and the rules directory inside the
// package (the layout the package's own validator plugin uses).
func GuardPaths(pkgDir, goos, goarch string) (bin, rules string, err error) {
	platform := map[string]string{"linux": "ubuntu", "darwin": "macos"}[goos]
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[goarch]
	if platform == "" || arch == "" {
		return "", "", fmt.Errorf("%s ships cfn-guard for linux and macOS on amd64 and arm64, not %s/%s", GuardPackage, goos, goarch)
	}
	bin = filepath.Join(pkgDir, "bin", platform, arch, "cfn-guard")
	rules = filepath.Join(pkgDir, "rules", "control-tower", "cfn-guard")
	for _, p := range []string{bin, rules} {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("%s is not installed (%v): run `make deps` (npm ci installs it from package-lock.json)", GuardPackage, err)
		}
	}
	return bin, rules, nil
}

var (
	quotedTypeRE = regexp.MustCompile(`["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']`)
	controlIDRE  = regexp.MustCompile(`\[(CT\.[A-Z0-9]+\.PR\.\d+)\]`)
)

// GuardRule is one Control Tower rule file.
type GuardRule struct {
	// Path is the .guard file; Control its control id (CT.KMS.PR.3).
	Path, Control string
	// Evaluates is true when the control evaluates a resource type of our templates (its
	// metadata's EvaluatedResourceTypes; true without metadata): these are the controls our
	// stacks pass or waive. The other selected files only mention one of our types.
	Evaluates bool
}

// SelectGuardRules lists the rule files that can apply to templates made of the given
// resource types: a file naming none of them in quotes ('AWS::S3::Bucket') skips every one of
// our templates, so running it only costs time (all 237 rules: 17 s over the matrix; these:
// a few seconds). A file that names no type at all is kept.
func SelectGuardRules(rulesDir string, types map[string]bool) ([]GuardRule, error) {
	var out []GuardRule
	err := filepath.WalkDir(rulesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".guard") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		named := quotedTypeRE.FindAllSubmatch(b, -1)
		keep := len(named) == 0
		for _, m := range named {
			keep = keep || types[string(m[1])]
		}
		if keep {
			r := GuardRule{Path: path, Evaluates: true}
			if m := controlIDRE.FindSubmatch(b); m != nil {
				r.Control = string(m[1])
			}
			meta := filepath.Join(filepath.Dir(rulesDir), "metadata", filepath.Base(filepath.Dir(path)),
				strings.TrimSuffix(filepath.Base(path), ".guard")+".metadata.json")
			var md struct {
				EvaluatedResourceTypes []string
			}
			if mb, err := os.ReadFile(meta); err == nil && json.Unmarshal(mb, &md) == nil && len(md.EvaluatedResourceTypes) > 0 {
				r.Evaluates = false
				for _, typ := range md.EvaluatedResourceTypes {
					r.Evaluates = r.Evaluates || types[typ]
				}
			}
			out = append(out, r)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// GuardArgs is the command line (after the program) that validates templates against rules,
// with the structured JSON report on stdout. Exit status 0: every template passes; 19: a rule
// failed; anything else: cfn-guard itself failed.
func GuardArgs(rules []GuardRule, templates []string) []string {
	args := []string{"validate"}
	for _, r := range rules {
		args = append(args, "--rules", r.Path)
	}
	for _, t := range templates {
		args = append(args, "--data", t)
	}
	return append(args, "--output-format", "json", "--show-summary", "none", "--structured")
}

// GuardExitFailed is cfn-guard's exit status when a rule failed (0: all passed).
const GuardExitFailed = 19

// ControlFinding is one resource a control fails.
type ControlFinding struct {
	// Control is the control id (CT.S3.PR.2); Title its first line.
	Control, Title string
	// Template is the template's base name; LogicalID the resource.
	Template, LogicalID string
}

// String is the finding as the gate prints it (the construct path, when the template has it,
// is added by the caller).
func (f ControlFinding) String() string {
	return fmt.Sprintf("%s %s: %s", f.Control, f.LogicalID, f.Title)
}

// ParseGuard reads cfn-guard's structured JSON report: the failing controls by template base
// name, one finding per control and resource, sorted.
func ParseGuard(out []byte) (map[string][]ControlFinding, error) {
	var raw []struct {
		Name         string `json:"name"`
		NotCompliant []any  `json:"not_compliant"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("cfn-guard's report is not JSON (%v): %.300s", err, out)
	}
	res := map[string][]ControlFinding{}
	for _, t := range raw {
		tmpl := filepath.Base(t.Name)
		seen := map[string]bool{}
		for _, nc := range t.NotCompliant {
			walkGuard(nc, ControlFinding{Template: tmpl}, func(f ControlFinding) {
				if f.Control == "" {
					f.Control, f.Title = "CT.?", "a Control Tower rule without a control id in its message failed"
				}
				if k := f.Control + "/" + f.LogicalID; !seen[k] {
					seen[k] = true
					res[tmpl] = append(res[tmpl], f)
				}
			})
		}
		sort.Slice(res[tmpl], func(i, j int) bool {
			a, b := res[tmpl][i], res[tmpl][j]
			return a.Control+"/"+a.LogicalID < b.Control+"/"+b.LogicalID
		})
	}
	return res, nil
}

// walkGuard finds the resources a failed rule traversed to (/Resources/<id>/...), under the
// control named by the nearest custom message ("[CT.KMS.PR.3]: Require ...").
func walkGuard(v any, cur ControlFinding, emit func(ControlFinding)) {
	switch x := v.(type) {
	case map[string]any:
		if msgs, ok := x["messages"].(map[string]any); ok {
			if cm, ok := msgs["custom_message"].(string); ok {
				if m := controlIDRE.FindStringSubmatchIndex(cm); m != nil {
					cur.Control = cm[m[2]:m[3]]
					title := strings.TrimSpace(strings.TrimPrefix(cm[m[1]:], ":"))
					title, _, _ = strings.Cut(title, "\n")
					cur.Title = strings.TrimSpace(title)
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if p, ok := x[k].(string); ok && k == "path" {
				if rest, ok := strings.CutPrefix(p, "/Resources/"); ok {
					id, _, _ := strings.Cut(rest, "/")
					f := cur
					f.LogicalID = id
					emit(f)
				}
				continue
			}
			walkGuard(x[k], cur, emit)
		}
	case []any:
		for _, e := range x {
			walkGuard(e, cur, emit)
		}
	}
}

// ControlWaiver is a Control Tower control we accept failing on one resource, with the reason,
// like the cdk-nag suppressions (compliance/gate/suppressions.go). This table is the only place
// a control is waived; `make check` fails on a finding it does not hold and on a waiver that
// hides nothing, and a test keeps README.md in step with it. An Organization that enables a
// waived control rejects the deploy through its hook all the same: the waiver records why we
// do not change the resource, not that the control is off.
type ControlWaiver struct {
	// Control is the control id.
	Control string
	// Resource is the logical id (stable by design: a changed id replaces the resource).
	Resource string
	// On names the construct, relative to the stack, as README.md lists it.
	On string
	// Reason says why the resource does not do what the control asks.
	Reason string
}

// evidenceAccessLogs is the evidence archive's server access log bucket.
const evidenceAccessLogs = "EvidenceArchiveAccessLogs26FC99AB"

// ControlWaivers is every waiver.
var ControlWaivers = []ControlWaiver{
	{
		Control: "CT.S3.PR.2", Resource: evidenceAccessLogs, On: "EvidenceArchive/AccessLogs",
		Reason: "The bucket is where the evidence bucket's server access logs are delivered. Logging it in turn would need " +
			"another log bucket, of which the control would ask the same; S3's guide says a destination bucket should not have " +
			"server access logging enabled (delivering a bucket's logs to itself loops). Only the S3 logging service writes to it " +
			"(bucket policy), and CloudTrail records its management events.",
	},
	{
		Control: "CT.S3.PR.9", Resource: evidenceAccessLogs, On: "EvidenceArchive/AccessLogs",
		Reason: "S3 buckets with Object Lock cannot be the destination of server access logs (Amazon S3 user guide, " +
			"object-lock-managing.html). The evidence itself is in the Object Lock bucket (COMPLIANCE mode); its access logs " +
			"are versioned, never public, TLS only and retained with the stack.",
	},
	{
		Control: "CT.S3.PR.10", Resource: evidenceAccessLogs, On: "EvidenceArchive/AccessLogs",
		Reason: "Server access logs are delivered only to a bucket whose default encryption is SSE-S3: SSE-KMS default " +
			"encryption is not supported on a server access logging destination (Amazon S3 user guide, " +
			"enable-server-access-logging.html). The logs are encrypted at rest with SSE-S3; the evidence bucket uses SSE-KMS.",
	},
}

// WaivedControl returns the waiver that covers f, if any.
func WaivedControl(f ControlFinding) (ControlWaiver, bool) {
	for _, w := range ControlWaivers {
		if w.Control == f.Control && w.Resource == f.LogicalID {
			return w, true
		}
	}
	return ControlWaiver{}, false
}

// UnusedControlWaivers are the waivers whose resource is among the checked ones (logical ids)
// and that cover none of the findings: each one hides nothing and is removed, not kept "just in
// case". (A waiver whose resource no checked template holds is judged by the test over the
// golden templates, which cover every stack.)
func UnusedControlWaivers(findings []ControlFinding, checked map[string]bool) []ControlWaiver {
	var unused []ControlWaiver
	for _, w := range ControlWaivers {
		if !checked[w.Resource] {
			continue
		}
		used := false
		for _, f := range findings {
			used = used || (w.Control == f.Control && w.Resource == f.LogicalID)
		}
		if !used {
			unused = append(unused, w)
		}
	}
	return unused
}
