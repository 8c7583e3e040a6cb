package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// mergeMatrix writes fixtures/matrix: what `cdk synth --context matrix=all` leaves, made from
// the per-cell fixtures: their manifests' artifacts and validation reports merged, their files
// copied; a cell that fails makes the whole synth fail with its output.
func (f *fixture) mergeMatrix(t *testing.T) {
	t.Helper()
	root := filepath.Join(f.root, "fixtures")
	dst := filepath.Join(root, "matrix")
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	cells, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	artifacts := map[string]any{}
	var reports []any
	var names []string
	for _, c := range cells {
		// Every cell, and every environment's evidence archive: one synth builds them all.
		names = append(names, c.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		dir := filepath.Join(root, name)
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(filepath.Join(dir, file.Name()))
			if err != nil {
				t.Fatal(err)
			}
			switch file.Name() {
			case "manifest.json":
				var m struct {
					Artifacts map[string]any `json:"artifacts"`
				}
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				for k, v := range m.Artifacts {
					artifacts[k] = v
				}
				continue
			case "validation-report.json":
				var r struct {
					PluginReports []any `json:"pluginReports"`
				}
				if err := json.Unmarshal(b, &r); err != nil {
					t.Fatal(err)
				}
				reports = append(reports, r.PluginReports...)
				continue
			}
			f.write(t, filepath.Join("fixtures", "matrix", file.Name()), string(b))
		}
	}
	m, _ := json.Marshal(map[string]any{"artifacts": artifacts})
	f.write(t, "fixtures/matrix/manifest.json", string(m))
	if len(reports) > 0 {
		r, _ := json.Marshal(map[string]any{"pluginReports": reports})
		f.write(t, "fixtures/matrix/validation-report.json", string(r))
	}
}
