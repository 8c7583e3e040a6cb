package assembly

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ValidationReportFile is where the CLI writes the report of CDK's validation plugins (our
// compliance plugin, and CloudFormation's own template validation) in a cdk.out directory.
const ValidationReportFile = "validation-report.json"

// ValidationReport is the part of cdk.out/validation-report.json we read.
type ValidationReport struct {
	PluginReports []struct {
		PluginName string `json:"pluginName"`
		Violations []struct {
			RuleName            string `json:"ruleName"`
			Description         string `json:"description"`
			Fix                 string `json:"fix"`
			Severity            string `json:"severity"`
			ViolatingConstructs []struct {
				ConstructPath          string `json:"constructPath"`
				CloudFormationResource struct {
					TemplatePath string `json:"templatePath"`
				} `json:"cloudFormationResource"`
			} `json:"violatingConstructs"`
		} `json:"violations"`
	} `json:"pluginReports"`
}

// ReadValidationReport reads dir's validation report; a missing file (no plugin reported
// anything) is an empty report.
func ReadValidationReport(dir string) (*ValidationReport, error) {
	var rep ValidationReport
	err := readJSON(filepath.Join(dir, ValidationReportFile), &rep)
	if errors.Is(err, os.ErrNotExist) {
		return &rep, nil
	}
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// NagReport is the part of a cdk-nag JSON report (<pack>-<stack>-NagReport.json) we read.
type NagReport struct {
	Lines []struct {
		Compliance string `json:"compliance"`
	} `json:"lines"`
}

// ErrNoNagReport is matched (errors.Is) when a pack left no single report for a stack.
var ErrNoNagReport = errors.New("the pack did not run")

// ReadNagReport reads the one report of a cdk-nag pack for a stack in dir; a missing report
// means the pack did not run on the stack.
func ReadNagReport(dir, pack, stack string) (*NagReport, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, pack+"-*"+stack+"-NagReport.json"))
	if len(matches) != 1 {
		return nil, fmt.Errorf("cdk-nag %s report for %s: want one %s-*%s-NagReport.json in %s, found %d: %w", pack, stack, pack, stack, dir, len(matches), ErrNoNagReport)
	}
	var rep NagReport
	if err := readJSON(matches[0], &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Suppressed counts the findings the report marks suppressed.
func (r *NagReport) Suppressed() int {
	n := 0
	for _, l := range r.Lines {
		if l.Compliance == "Suppressed" {
			n++
		}
	}
	return n
}
