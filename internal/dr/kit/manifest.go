// Package drkit is the DR kit: the gate-checked cloud assemblies of an environment's stacks,
// prebuilt drctl and validate binaries and a manifest with the SHA256 of every file, in one
// tarball, so activation on the night needs no Go toolchain, no module download and no synth.
// Build makes a kit (build time: Go, Node 24, the pinned CDK CLI) and signs its manifest with
// the evidence signer; Open authenticates one against keys the operator holds and every file
// against the signed manifest before it extracts anything (docs/evidence.md "Trust").
package drkit

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/dr/evidence"
)

// Schema is the manifest format version; Open refuses any other.
const Schema = 1

// SignatureSchema is signature.json's schema: the evidence signature's (evidence.Signature).
const SignatureSchema = evidence.SignatureSchema

// Names inside a kit (relative to its top directory).
const (
	// ManifestName is the manifest; it and SignatureName are the files not listed in it.
	ManifestName = "manifest.json"
	// SignatureName is the signature of manifest.json by the evidence signer (issue 23).
	SignatureName = "signature.json"
	// ReadmeName says what the kit needs at run time and how to use it.
	ReadmeName = "KIT.md"
	// AssembliesDir holds the cloud assemblies: assemblies/matrix (one synth of the
	// environment's stacks in their default regions) and assemblies/<region>-<drMode> for each
	// other region x drMode cdk.json accepts.
	AssembliesDir = "assemblies"
	// MatrixAssemblyDir is the assembly of `cdk synth --context matrix=<environment>`.
	MatrixAssemblyDir = AssembliesDir + "/matrix"
	// ToolsDir holds the binaries per platform: tools/<goos>-<goarch>/{drctl,validate}.
	ToolsDir = "tools"
	// PrereqsScript is the shared prerequisites check (scripts/prereqs of the repository).
	PrereqsScript = "scripts/prereqs"
)

// MaxAge is the oldest kit activation accepts without --allow-old-kit: a kit deploys the
// stack as it was when built, and CI rebuilds every kit on a schedule (synth.yml) well
// inside it, so an older kit is one nobody refreshed.
const MaxAge = 30 * 24 * time.Hour

// Age is how old the kit is at now (CreatedAt to now), or an error when CreatedAt is not an
// RFC 3339 time.
func (m *Manifest) Age(now time.Time) (time.Duration, error) {
	t, err := time.Parse(time.RFC3339, m.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("createdAt %q is not an RFC 3339 time", m.CreatedAt)
	}
	return now.Sub(t), nil
}

// Platforms are the GOOS/GOARCH pairs the kit carries binaries for (CGO_ENABLED=0).
var Platforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "arm64"}}

// Tools are the binaries built for every platform: name -> package path.
var Tools = []Tool{{"drctl", "./internal/cmd/drctl"}, {"validate", "./validate"}}

// RepoFiles are copied from the repository as they are: the configuration drctl reads
// (cdk.json), the pinned CLI and its installer (bin/cdk, scripts/prereqs, package*.json).
var RepoFiles = []string{drcontext.FileName, "package.json", "package-lock.json", PrereqsScript, "bin/cdk"}

// Platform is one GOOS/GOARCH pair.
type Platform struct{ OS, Arch string }

// String is "linux-amd64".
func (p Platform) String() string { return p.OS + "-" + p.Arch }

// Tool is one binary of the kit.
type Tool struct{ Name, Package string }

// Manifest is manifest.json.
type Manifest struct {
	// Schema is the format version (Schema).
	Schema int `json:"kitSchema"`
	// Environment is the cdk.json environment the assemblies are for.
	Environment string `json:"environment"`
	// Commit is `git rev-parse HEAD` of the tree the kit was built from.
	Commit string `json:"commit"`
	// Dirty is true when that tree had uncommitted changes (`git status --porcelain`): such a
	// kit is not the commit the CI gate passed and must not go to production.
	Dirty bool `json:"dirty"`
	// CreatedAt is the build's UTC time (RFC 3339).
	CreatedAt string `json:"createdAt"`
	// Built are the versions the kit was built with.
	Built Versions `json:"built"`
	// Runtime is what activation from the kit needs on the machine.
	Runtime Runtime `json:"runtime"`
	// Stacks are the assemblies in the kit.
	Stacks []Stack `json:"stacks"`
	// Skipped are the region x drMode cells cdk.json refuses (e.g. the DR mode in the primary
	// region), with the reason.
	Skipped []Skip `json:"skipped,omitempty"`
	// Platforms are the platforms of tools/.
	Platforms []string `json:"platforms"`
	// Files maps every file of the kit but manifest.json (slash-separated, relative to the
	// kit's top directory) to its SHA256, hex.
	Files map[string]string `json:"files"`
}

// Versions are the tool versions of the build.
type Versions struct {
	Go        string `json:"go"`
	CdkCLI    string `json:"cdkCli"`
	Node      string `json:"node"`
	AwsCdkLib string `json:"awsCdkLib"`
}

// Runtime is what the kit needs where it runs.
type Runtime struct {
	Node   string `json:"node"`
	CdkCLI string `json:"cdkCli"`
	Notes  string `json:"notes"`
}

// Stack is one pre-synthesized, gate-checked assembly.
type Stack struct {
	Region string           `json:"region"`
	DrMode drcontext.DrMode `json:"drMode"`
	// Stack is the stack name in the assembly (Config.StackID()).
	Stack string `json:"stack"`
	// Assembly is the assembly's directory in the kit.
	Assembly string `json:"assembly"`
}

// Skip is a cell with no assembly.
type Skip struct {
	Region string           `json:"region"`
	DrMode drcontext.DrMode `json:"drMode"`
	Reason string           `json:"reason"`
}

// AssemblyDir is the assembly directory of one cell, relative to the kit.
func AssemblyDir(region string, mode drcontext.DrMode) string {
	return AssembliesDir + "/" + region + "-" + string(mode)
}

// ToolPath is a tool's path for a platform, relative to the kit.
func ToolPath(p Platform, name string) string { return ToolsDir + "/" + p.String() + "/" + name }

// Host is the platform this binary runs on.
func Host() Platform { return Platform{runtime.GOOS, runtime.GOARCH} }

// Find returns the assembly of region x mode, or an error listing what the kit holds.
func (m *Manifest) Find(region string, mode drcontext.DrMode) (Stack, error) {
	var have []string
	for _, s := range m.Stacks {
		if s.Region == region && s.DrMode == mode {
			return s, nil
		}
		if s.DrMode == mode {
			have = append(have, s.Region)
		}
	}
	sort.Strings(have)
	why := ""
	for _, s := range m.Skipped {
		if s.Region == region && s.DrMode == mode {
			why = " (" + s.Reason + ")"
		}
	}
	return Stack{}, fmt.Errorf("the kit of %s (commit %s) has no drMode=%s assembly for region %s%s; it has one for: %s",
		m.Environment, short(m.Commit), mode, region, why, orNone(have))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
