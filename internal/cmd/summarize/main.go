// Command summarize prints what a cdk.out directory holds: each stack with its account, region
// and resource counts, so `make synth` shows what would be deployed without dumping templates.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/valkey-dr/valkey-dr/contract"
)

type manifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		Properties  struct {
			TemplateFile string `json:"templateFile"`
		} `json:"properties"`
	} `json:"artifacts"`
}

type template struct {
	Resources map[string]struct {
		Type string `json:"Type"`
	} `json:"Resources"`
	Outputs map[string]any `json:"Outputs"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: summarize CDK_OUT_DIR")
		os.Exit(contract.ExitUsage)
	}
	if err := summarize(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "summarize: %v\n", err)
		os.Exit(contract.ExitFailed)
	}
}

func summarize(dir string) error {
	var m manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		return err
	}
	names := make([]string, 0, len(m.Artifacts))
	for name, a := range m.Artifacts {
		if a.Type == "aws:cloudformation:stack" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		a := m.Artifacts[name]
		var t template
		if err := readJSON(filepath.Join(dir, a.Properties.TemplateFile), &t); err != nil {
			return err
		}
		counts := map[string]int{}
		for _, r := range t.Resources {
			if r.Type == "AWS::CDK::Metadata" {
				continue
			}
			counts[strings.TrimPrefix(r.Type, "AWS::")]++
		}
		types := make([]string, 0, len(counts))
		total := 0
		for k, n := range counts {
			types = append(types, fmt.Sprintf("%s x%d", k, n))
			total += n
		}
		sort.Strings(types)
		fmt.Printf("   %s (%s): %d resources, %d outputs -> %s\n      %s\n", name,
			strings.TrimPrefix(a.Environment, "aws://"), total, len(t.Outputs),
			filepath.Join(dir, a.Properties.TemplateFile), strings.Join(types, ", "))
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
