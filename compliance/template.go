package compliance

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/assembly"
)

// CloudFormation resource types the rules read.
const (
	typeServerlessCache = "AWS::ElastiCache::ServerlessCache"
	typeSecurityGroup   = "AWS::EC2::SecurityGroup"
	typeIngress         = "AWS::EC2::SecurityGroupIngress"
	typeEgress          = "AWS::EC2::SecurityGroupEgress"
	typeRecordSet       = assembly.TypeRecordSet
	typeRecordSetGroup  = assembly.TypeRecordSetGroup
)

// Facts are what the rules need to know about a stack that its template does not say.
type Facts struct {
	// Environment is the cdk.json environment name; the cross-stack rule groups stacks by it.
	Environment string
	// Production turns on the production-only rules.
	Production bool
	// DrMode is none (primary) or stateless (DR).
	DrMode drcontext.DrMode
}

// FactsOf reads the facts from the Config the stack was built from.
func FactsOf(cfg *drcontext.Config) Facts {
	return Facts{Environment: cfg.EnvironmentName, Production: cfg.IsProduction(), DrMode: cfg.DrMode}
}

// Template is the synthesized template as internal/assembly reads it (one Template type for
// every reader of cdk.out).
type Template = assembly.Template

// Resource is one template resource.
type Resource = assembly.Resource

// Stack is one synthesized stack as the rules see it.
type Stack struct {
	// Name is the stack's artifact id, which is also its construct path (top-level stacks).
	Name string
	// TemplatePath is the template file the stack was read from.
	TemplatePath string
	Template     Template
	// TerminationProtection is from the cloud assembly manifest: it is not in the template.
	TerminationProtection bool
	Facts                 Facts
	// Environment is the manifest's aws://<account>/<region>: RegionOf gives the Region
	// cfn-lint checks the template for.
	Environment string
}

// ofType returns the logical ids of the resources of one type, sorted (findings come out in a
// stable order).
func (s *Stack) ofType(typ string) []string {
	var ids []string
	for id, r := range s.Template.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// path is the construct path of a resource: the aws:cdk:path metadata the CLI writes, or
// stack/logical id where there is none (an App in a test).
func (s *Stack) path(logicalID string) string {
	if p, ok := s.Template.Resources[logicalID].Metadata["aws:cdk:path"].(string); ok && p != "" {
		return p
	}
	return s.Name + "/" + logicalID
}

// LoadAssembly reads every stack of a cloud assembly directory (cdk.out); facts says what each
// stack is (by stack name).
func LoadAssembly(dir string, facts func(stack string) Facts) ([]*Stack, error) {
	read, err := assembly.ReadStacks(dir)
	if err != nil {
		return nil, err
	}
	stacks := make([]*Stack, 0, len(read))
	for _, st := range read {
		stacks = append(stacks, &Stack{Name: st.Name, TemplatePath: st.TemplatePath, Template: *st.Template,
			TerminationProtection: st.TerminationProtection, Facts: facts(st.Name), Environment: st.Environment})
	}
	return stacks, nil
}

// LoadStack reads one stack given its template path, taking termination protection from the
// manifest.json beside it (the validation plugin's view: CDK hands it template paths).
func LoadStack(name, templatePath string, f Facts) (*Stack, error) {
	st, err := assembly.ReadStackOfTemplate(name, templatePath)
	if err != nil {
		return nil, err
	}
	return &Stack{Name: name, TemplatePath: templatePath, Template: *st.Template,
		TerminationProtection: st.TerminationProtection, Facts: f, Environment: st.Environment}, nil
}

// refTarget is the logical id a value points at: {"Ref": X} or {"Fn::GetAtt": [X, attr]}.
func refTarget(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	if r, ok := m["Ref"].(string); ok {
		return r, true
	}
	switch ga := m["Fn::GetAtt"].(type) {
	case []any:
		if len(ga) == 2 {
			if id, ok := ga[0].(string); ok {
				return id, true
			}
		}
	case string:
		if id, _, ok := strings.Cut(ga, "."); ok {
			return id, true
		}
	}
	return "", false
}

// present reports whether a property is set to something: not absent, "", or [].
func present(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	}
	return true
}

// number reads a number that CloudFormation may carry as a JSON number or a string ("30").
func number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}

// show renders a template value for a message: strings bare-quoted, the rest as compact JSON.
func show(v any) string {
	if v == nil {
		return "not set"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// tags reads a resource's Tags list ([{Key, Value}]) into a map.
func tags(r Resource) map[string]any {
	out := map[string]any{}
	list, _ := r.Properties["Tags"].([]any)
	for _, t := range list {
		m, _ := t.(map[string]any)
		if k, ok := m["Key"].(string); ok {
			out[k] = m["Value"]
		}
	}
	return out
}
