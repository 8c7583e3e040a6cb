// Package cfn reads what `cdk synth` wrote: the cloud assembly's manifest and a stack's
// CloudFormation template, and answers the questions the DR procedures ask of it (which
// outputs, which Route 53 records, which resources a destroy removes) without AWS.
package cfn

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Template is the part of a CloudFormation template the procedures read.
type Template struct {
	Description string              `json:"Description"`
	Resources   map[string]Resource `json:"Resources"`
	Outputs     map[string]Output   `json:"Outputs"`
}

// Resource is one template resource.
type Resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
}

// Output is one template output; Value is a string literal or an intrinsic (Ref, Fn::GetAtt).
type Output struct {
	Description string `json:"Description"`
	Value       any    `json:"Value"`
}

// Literal returns the output's value when it is a plain string, known at synth time.
func (o Output) Literal() (string, bool) {
	s, ok := o.Value.(string)
	return s, ok
}

// Stack is one stack artifact of a cloud assembly.
type Stack struct {
	// Name is the artifact id (== stack name for our app).
	Name string
	// Environment is "aws://<account>/<region>".
	Environment string
	// TerminationProtection is what the stack asks CloudFormation for.
	TerminationProtection bool
	// TemplatePath is the template file.
	TemplatePath string
	// Template is the parsed template.
	Template *Template
}

type manifest struct {
	Artifacts map[string]struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		Properties  struct {
			TemplateFile          string `json:"templateFile"`
			TerminationProtection bool   `json:"terminationProtection"`
		} `json:"properties"`
	} `json:"artifacts"`
}

// ReadStack reads stack name from the cloud assembly in dir (a `cdk synth --output` dir).
func ReadStack(dir, name string) (*Stack, error) {
	var m manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		return nil, fmt.Errorf("cloud assembly %s: %w", dir, err)
	}
	var stacks []string
	for id, a := range m.Artifacts {
		if a.Type != "aws:cloudformation:stack" {
			continue
		}
		stacks = append(stacks, id)
		if id != name {
			continue
		}
		s := &Stack{Name: id, Environment: a.Environment, TerminationProtection: a.Properties.TerminationProtection,
			TemplatePath: filepath.Join(dir, a.Properties.TemplateFile)}
		t, err := ReadTemplate(s.TemplatePath)
		if err != nil {
			return nil, err
		}
		s.Template = t
		return s, nil
	}
	sort.Strings(stacks)
	return nil, fmt.Errorf("cloud assembly %s: stack %q not found (it holds: %v)", dir, name, stacks)
}

// ReadTemplate parses a template file.
func ReadTemplate(path string) (*Template, error) {
	var t Template
	if err := readJSON(path, &t); err != nil {
		return nil, err
	}
	return &t, nil
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

// OutputKeys returns the output keys, sorted: the exact key set `cdk deploy --outputs-file`
// writes for this stack.
func (t *Template) OutputKeys() []string {
	keys := make([]string, 0, len(t.Outputs))
	for k := range t.Outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ResourceSummary is one resource a deploy creates or a destroy removes.
type ResourceSummary struct {
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
	// Retained is true when DeletionPolicy is Retain (or RetainExceptOnCreate): a destroy
	// leaves the resource in the account.
	Retained bool `json:"retained,omitempty"`
}

// ResourceList lists the resources sorted by type then logical id, without CDK metadata.
func (t *Template) ResourceList() []ResourceSummary {
	var out []ResourceSummary
	for id, r := range t.Resources {
		if r.Type == "AWS::CDK::Metadata" {
			continue
		}
		out = append(out, ResourceSummary{LogicalID: id, Type: r.Type,
			Retained: r.DeletionPolicy == "Retain" || r.DeletionPolicy == "RetainExceptOnCreate"})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].LogicalID < out[j].LogicalID
	})
	return out
}
