// Command summarize prints what a cdk.out directory holds: each stack with its account, region
// and resource counts, so `make synth` shows what would be deployed without dumping templates.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/valkey-dr/valkey-dr/contract"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
)

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
	stacks, err := assembly.ReadStacks(dir)
	if err != nil {
		return err
	}
	for _, s := range stacks {
		counts := map[string]int{}
		for _, r := range s.Template.Resources {
			if r.Type == assembly.TypeMetadata {
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
		fmt.Printf("   %s (%s): %d resources, %d outputs -> %s\n      %s\n", s.Name,
			strings.TrimPrefix(s.Environment, "aws://"), total, len(s.Template.Outputs),
			s.TemplatePath, strings.Join(types, ", "))
	}
	return nil
}
