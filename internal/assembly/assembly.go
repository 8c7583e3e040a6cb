// Package assembly is the one reader of what `cdk synth` wrote (cdk.out): the cloud assembly's
// manifest, each stack's CloudFormation template, its outputs and Route 53 records, and the
// reports the CLI leaves beside them (CDK's validation report, cdk-nag's). It answers the
// questions the DR procedures, the compliance gate and `make synth` ask of a synth (which
// outputs, which records, which resources a destroy removes) without AWS.
package assembly

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Template is the part of a CloudFormation template the procedures and the rules read.
type Template struct {
	Description string              `json:"Description"`
	Resources   map[string]Resource `json:"Resources"`
	Outputs     map[string]Output   `json:"Outputs"`
}

// Resource is one template resource.
type Resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	Metadata       map[string]any `json:"Metadata"`
	DeletionPolicy string         `json:"DeletionPolicy"`
}

// TypeMetadata is the resource CDK adds to every stack (not part of what is deployed).
const TypeMetadata = "AWS::CDK::Metadata"

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

// ManifestFile is the cloud assembly's manifest inside a cdk.out directory.
const ManifestFile = "manifest.json"

// StackArtifact is the manifest artifact type of a CloudFormation stack.
const StackArtifact = "aws:cloudformation:stack"

// Manifest is the part of a cloud assembly's manifest.json we read.
type Manifest struct {
	Artifacts map[string]Artifact `json:"artifacts"`
}

// Artifact is one manifest artifact.
type Artifact struct {
	Type        string `json:"type"`
	Environment string `json:"environment"`
	Properties  struct {
		TemplateFile          string `json:"templateFile"`
		TerminationProtection bool   `json:"terminationProtection"`
	} `json:"properties"`
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	var m Manifest
	if err := readJSON(filepath.Join(dir, ManifestFile), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// StackNames lists the stack artifacts, sorted.
func (m *Manifest) StackNames() []string {
	var names []string
	for id, a := range m.Artifacts {
		if a.Type == StackArtifact {
			names = append(names, id)
		}
	}
	sort.Strings(names)
	return names
}

// stack reads one stack artifact's template.
func (m *Manifest) stack(dir, id string) (*Stack, error) {
	a := m.Artifacts[id]
	s := &Stack{Name: id, Environment: a.Environment, TerminationProtection: a.Properties.TerminationProtection,
		TemplatePath: filepath.Join(dir, a.Properties.TemplateFile)}
	t, err := ReadTemplate(s.TemplatePath)
	if err != nil {
		return nil, err
	}
	s.Template = t
	return s, nil
}

// ReadStack reads stack name from the cloud assembly in dir (a `cdk synth --output` dir).
func ReadStack(dir, name string) (*Stack, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("cloud assembly %s: %w", dir, err)
	}
	if a, ok := m.Artifacts[name]; ok && a.Type == StackArtifact {
		return m.stack(dir, name)
	}
	return nil, fmt.Errorf("cloud assembly %s: stack %q not found (it holds: %v)", dir, name, m.StackNames())
}

// ReadStacks reads every stack of the cloud assembly in dir, sorted by name.
func ReadStacks(dir string) ([]*Stack, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	names := m.StackNames()
	out := make([]*Stack, 0, len(names))
	for _, id := range names {
		s, err := m.stack(dir, id)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ReadStackOfTemplate reads one stack given its template path, taking the rest from the
// manifest.json beside it (CDK's validation plugins are handed template paths, not stacks).
func ReadStackOfTemplate(name, templatePath string) (*Stack, error) {
	t, err := ReadTemplate(templatePath)
	if err != nil {
		return nil, err
	}
	m, err := ReadManifest(filepath.Dir(templatePath))
	if err != nil {
		return nil, err
	}
	for _, a := range m.Artifacts {
		if a.Type == StackArtifact && a.Properties.TemplateFile == filepath.Base(templatePath) {
			return &Stack{Name: name, Environment: a.Environment, TerminationProtection: a.Properties.TerminationProtection,
				TemplatePath: templatePath, Template: t}, nil
		}
	}
	return nil, fmt.Errorf("%s: no stack artifact in %s uses this template", templatePath, ManifestFile)
}

// ReadTemplate parses a template file.
func ReadTemplate(path string) (*Template, error) {
	var t Template
	if err := readJSON(path, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// readJSON is the one JSON file reader of cdk.out: errors name the file.
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
		if r.Type == TypeMetadata {
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
