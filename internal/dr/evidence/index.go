package evidence

// This file is the bundle's index: for every file and directory name a procedure writes,
// which row of the runbook's section 9 table ("Evidence and Documentation Requirements") it
// answers, and how the bundle is verified. The bundle's README.md is generated from it.

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Names this branch adds to the bundle layout.
const (
	FileProvenance = "provenance.json"
	// FileManifestJSON lists every file with SHA256 and size, and the provenance; it is what
	// signature.json signs.
	FileManifestJSON = "manifest.json"
	// FileSignature is the signature of manifest.json (algorithm, key id, public key).
	FileSignature = "signature.json"
)

// Section 9 rows of the runbook (Evidence Type | Storage Location).
const (
	Row9DeployLogs = "CDK deployment logs (CI/CD artifact registry)"
	Row9Metadata   = "Cache endpoint and deployment metadata (DR evidence folder)"
	Row9Validation = "Validation results (DR event documentation)"
	Row9Routing    = "Routing changes (change management record)"
	// Row9Integrity is not a row of the runbook: it is what makes the other rows admissible.
	Row9Integrity = "integrity of all of the above (not a runbook row)"
)

// Section9Rows are the four runbook rows, in the runbook's order.
var Section9Rows = []string{Row9DeployLogs, Row9Metadata, Row9Validation, Row9Routing}

// LayoutEntry is one file (or glob of files) of a bundle.
type LayoutEntry struct {
	// Pattern is a path.Match pattern relative to the bundle; a directory pattern ends in "/".
	Pattern string
	// What says what the file holds.
	What string
	// Row is the section 9 row it answers.
	Row string
}

// Layout is every kind of file a bundle may hold; a file matching none is listed in README.md
// as "not in the index".
var Layout = []LayoutEntry{
	{FileReadme, "this index, generated from the table in internal/dr/evidence/index.go", Row9Integrity},
	{FileMetadata, "what ran, where, verdict, versions (aws-cdk-lib, CDK CLI, Node, Go, this tool's VCS revision)", Row9Metadata},
	{FileProvenance, "who and why: reason, change ticket, approver, AWS caller identity, host and OS user, incident start", Row9Metadata},
	{FileTimelineText, "every phase with UTC start/end and duration beside the runbook's estimates, time since the command and since the incident", Row9Metadata},
	{FileTimelineJSON, "the timeline, machine-readable", Row9Metadata},
	{FileCommands, "every external command line with start time, duration and exit status (no environment values)", Row9DeployLogs},
	{FilePreflight, "credentials (caller identity), bootstrap status, primary probe", Row9Metadata},
	{FilePlanJSON, "teardown: what the destroy deletes and keeps", Row9Metadata},
	{FilePlanText, "teardown: the plan as printed before anything was deleted", Row9Metadata},
	{"stack-outputs*.json", "the stack outputs file(s) (`cdk deploy --outputs-file` shape): endpoint address, ports, names", Row9Metadata},
	{"stack-outputs*.md", "note on the outputs file (drill: what cannot exist locally)", Row9Metadata},
	{"*.log", "cdk deploy / destroy output, secrets and dynamic references scrubbed", Row9DeployLogs},
	{DirValidation + "*/", "the validator's report.json, junit.xml, summary.md", Row9Validation},
	{DirRouting + "/", "Route 53 records before and after, with the differences (JSON + Markdown)", Row9Routing},
	{ManifestName, "`sha256sum -c SHA256SUMS` checks every file (not signed on its own)", Row9Integrity},
	{FileManifestJSON, "every file's path, SHA256 and size, and the provenance: the signed statement", Row9Integrity},
	{FileSignature, "signature of manifest.json: algorithm, key id and public key", Row9Integrity},
}

// LayoutOf returns the layout entry a bundle-relative path belongs to (ok false when none).
func LayoutOf(rel string) (LayoutEntry, bool) {
	first, _, nested := strings.Cut(rel, "/")
	for _, e := range Layout {
		if dir, isDir := strings.CutSuffix(e.Pattern, "/"); isDir {
			if m, _ := path.Match(dir, first); m && nested {
				return e, true
			}
			continue
		}
		if m, _ := path.Match(e.Pattern, rel); m {
			return e, true
		}
	}
	return LayoutEntry{}, false
}

// IndexReadme renders README.md for the files of a bundle: a header, each file with what it
// holds and the section 9 row it answers, the rows with the files answering them, and how
// to verify. files are bundle-relative (the integrity files are added when missing).
func IndexReadme(title, intro string, files []string) string {
	set := map[string]bool{FileReadme: true, ManifestName: true, FileManifestJSON: true, FileSignature: true}
	for _, f := range files {
		set[f] = true
	}
	all := make([]string, 0, len(set))
	for f := range set {
		all = append(all, f)
	}
	sort.Strings(all)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	if intro != "" {
		b.WriteString(strings.TrimSpace(intro) + "\n\n")
	}
	b.WriteString("## Files\n\n| file | what | runbook section 9 row |\n|---|---|---|\n")
	byRow := map[string][]string{}
	for _, f := range all {
		e, ok := LayoutOf(f)
		if !ok {
			e = LayoutEntry{What: "not in the index (internal/dr/evidence/index.go): see the procedure that wrote it", Row: "-"}
		}
		byRow[e.Row] = append(byRow[e.Row], f)
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f, e.What, e.Row)
	}
	b.WriteString("\n## Section 9 evidence types\n\n| evidence type (runbook section 9) | files in this bundle |\n|---|---|\n")
	for _, row := range Section9Rows {
		list := strings.Join(byRow[row], ", ")
		if list == "" {
			list = "none in this bundle (the procedure did not get that far, or does not produce it)"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", row, list)
	}
	b.WriteString(`
## How to verify

    make dr-verify BUNDLE=<this directory or its .tar.gz>

(from the repository root; with only the DR kit: tools/<platform>/drctl verify <bundle>)

checks the signature of manifest.json (signature.json: Ed25519 local key for drills, or the
environment's KMS key, ECDSA_SHA_256) and every file's SHA256 and size against it, and names
each file that was edited, added or removed, and a manifest re-hashed without re-signing.
Exit 0 intact, 6 tampered or unverifiable, 2 bad input. Compare the key id it prints with the
key printed when the bundle was sealed (or pass --trusted-key). ` + "`sha256sum -c SHA256SUMS`" + `
alone is not proof: anyone who edits a file can regenerate it.

Nothing secret is stored here: passwords are never written, CloudFormation dynamic references
are removed, and the bundle is refused if either shows up; the signing private key never
enters the bundle.
`)
	return b.String()
}

// ListFiles lists the regular files under dir, bundle-relative and sorted.
func ListFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out, err
}
