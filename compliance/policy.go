package compliance

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// IAM policy documents as the rules read them from a template (SNS topic policies, KMS key
// policies). Only what a rule can decide from the template counts: a value built by an
// intrinsic function is "unknown", and each rule says what unknown means for it.

// statement is one statement of a policy document.
type statement struct {
	index     int
	sid       string
	effect    string
	principal any
	// notPrincipal and notAction are kept only to refuse them: an Allow written with them is
	// not the explicit grant the rules look for.
	notPrincipal any
	actions      []string // literal actions; an intrinsic in Action is dropped
	notAction    any
	resources    []any
	condition    map[string]any
}

// label names a statement in a message: "Statement[1] (Sid AllowPublishThroughSSLOnly)".
func (st statement) label() string {
	if st.sid != "" {
		return fmt.Sprintf("Statement[%d] (Sid %s)", st.index, st.sid)
	}
	return fmt.Sprintf("Statement[%d]", st.index)
}

// statements reads the statements of a policy document; a document that is not an object
// (absent, or an intrinsic) has none.
func statements(doc any) []statement {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	var list []any
	switch s := m["Statement"].(type) {
	case []any:
		list = s
	case map[string]any:
		list = []any{s} // a single statement need not be in a list
	}
	out := make([]statement, 0, len(list))
	for i, v := range list {
		sm, _ := v.(map[string]any)
		st := statement{index: i, principal: sm["Principal"], notPrincipal: sm["NotPrincipal"], notAction: sm["NotAction"]}
		st.sid, _ = sm["Sid"].(string)
		st.effect, _ = sm["Effect"].(string)
		st.actions, _ = literals(sm["Action"])
		st.resources = asList(sm["Resource"])
		st.condition, _ = sm["Condition"].(map[string]any)
		out = append(out, st)
	}
	return out
}

// asList is a value that may be a single item or a list, as a list.
func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

// literals returns the string items of a value that may be one string or a list; unknown
// reports that some item was not a string (an intrinsic).
func literals(v any) (lits []string, unknown bool) {
	for _, item := range asList(v) {
		if s, ok := item.(string); ok {
			lits = append(lits, s)
		} else {
			unknown = true
		}
	}
	return lits, unknown
}

func (st statement) allow() bool { return strings.EqualFold(st.effect, "Allow") }
func (st statement) deny() bool  { return strings.EqualFold(st.effect, "Deny") }

// namesService reports whether the statement's Principal names the service principal svc
// explicitly ({"Service": svc} or a list holding it).
func (st statement) namesService(svc string) bool {
	m, ok := st.principal.(map[string]any)
	if !ok {
		return false
	}
	lits, _ := literals(m["Service"])
	for _, s := range lits {
		if strings.EqualFold(s, svc) {
			return true
		}
	}
	return false
}

// mayApplyTo reports whether a statement's principal could be the service principal svc:
// "*", {"AWS": "*"}, the service itself, or anything written with NotPrincipal. Used for
// Deny statements, where "could" is what matters.
func (st statement) mayApplyTo(svc string) bool {
	if st.notPrincipal != nil {
		return true
	}
	if s, ok := st.principal.(string); ok {
		return s == "*"
	}
	if st.namesService(svc) {
		return true
	}
	m, _ := st.principal.(map[string]any)
	lits, _ := literals(m["AWS"])
	for _, s := range lits {
		if s == "*" {
			return true
		}
	}
	return false
}

// coversAction reports whether the statement's Action covers action (IAM wildcards, case
// does not matter). A statement written with NotAction covers it unless NotAction names it.
func (st statement) coversAction(action string) bool {
	if st.notAction != nil {
		excluded, _ := literals(st.notAction)
		return !anyGlob(excluded, action)
	}
	return anyGlob(st.actions, action)
}

// anyGlob reports whether one of the IAM patterns (* and ? wildcards) matches s.
func anyGlob(patterns []string, s string) bool {
	for _, p := range patterns {
		if globMatch(p, s) {
			return true
		}
	}
	return false
}

// globMatch matches an IAM-style pattern: * any run of characters, ? one character, case
// insensitive (IAM action names are).
func globMatch(pattern, s string) bool { return glob(pattern, s, true) }

// globMatchCase is globMatch for what IAM compares case-sensitively: ARNs (alarm names).
func globMatchCase(pattern, s string) bool { return glob(pattern, s, false) }

func glob(pattern, s string, fold bool) bool {
	var b strings.Builder
	b.WriteString("(?s)^")
	if fold {
		b.WriteString("(?i)")
	}
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

// coversResource reports whether the statement's Resource is the resource with logical id
// target ({"Ref": id} or {"Fn::GetAtt": [id, ...]}) or "*".
func (st statement) coversResource(target string) bool {
	for _, r := range st.resources {
		if s, ok := r.(string); ok && s == "*" {
			return true
		}
		if id, ok := refTarget(r); ok && id == target {
			return true
		}
	}
	return false
}

// conditionValue returns the value of condition key (case-insensitive, as IAM compares keys)
// under one of the operators ops (compared exactly: "StringEqualsIfExists" is another
// operator, and a weaker one).
func (st statement) conditionValue(ops []string, key string) (any, bool) {
	for _, op := range ops {
		m, ok := st.condition[op].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			if strings.EqualFold(k, key) && present(v) {
				return v, true
			}
		}
	}
	return nil, false
}

// onlyTLSCondition reports whether the statement's whole condition is
// aws:SecureTransport false (Bool or BoolIfExists): it matches plain-HTTP requests only.
// AWS services call each other over TLS, so such a Deny never stops a service principal.
func (st statement) onlyTLSCondition() bool {
	if len(st.condition) == 0 {
		return false
	}
	for op, v := range st.condition {
		if op != "Bool" && op != "BoolIfExists" {
			return false
		}
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return false
		}
		for k, val := range m {
			if !strings.EqualFold(k, "aws:SecureTransport") || !isFalse(val) {
				return false
			}
		}
	}
	return true
}

func isFalse(v any) bool {
	switch t := v.(type) {
	case bool:
		return !t
	case string:
		return strings.EqualFold(t, "false")
	case []any:
		return len(t) == 1 && isFalse(t[0])
	}
	return false
}

// conditionKeys renders a statement's condition for a message: "StringNotEquals aws:SourceVpce".
func (st statement) conditionKeys() string {
	var parts []string
	for op, v := range st.condition {
		m, _ := v.(map[string]any)
		for k := range m {
			parts = append(parts, op+" "+k)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// flatten renders a template string value as text, every part an intrinsic computes replaced
// by "*" ({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:..."]]} is
// "arn:*:cloudwatch:..."). A value it cannot read at all is "*".
func flatten(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		if j, ok := t["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			texts := make([]string, len(parts))
			for i, p := range parts {
				texts[i] = flatten(p)
			}
			return strings.Join(texts, sep)
		}
		if sub, ok := t["Fn::Sub"].(string); ok {
			return subVar.ReplaceAllString(sub, "*")
		}
		if sub, ok := t["Fn::Sub"].([]any); ok && len(sub) > 0 {
			if s, ok := sub[0].(string); ok {
				return subVar.ReplaceAllString(s, "*")
			}
		}
	}
	return "*"
}

// subVar is a ${...} variable of Fn::Sub (not the literal ${!...}).
var subVar = regexp.MustCompile(`\$\{[^!}][^}]*\}`)
