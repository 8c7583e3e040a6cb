package cfnreplace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/valkey-dr/valkey-dr/internal/assembly"
	"github.com/valkey-dr/valkey-dr/internal/termsafe"
)

// Kind is what CloudFormation does with a resource on the update.
type Kind string

const (
	// Replacement: a createOnly property changes and the resource has no custom name, or its
	// name changes too: CloudFormation creates the new resource, then deletes the old one.
	Replacement Kind = "replacement"
	// Blocked: a createOnly property changes and the custom name stays: CloudFormation cannot
	// replace it, the update fails and the stack rolls back (DocCustomName).
	Blocked Kind = "blocked"
	// NameConflict: a named resource left one logical id for another with the same name.
	// CloudFormation creates the added resource before it deletes the removed one
	// (DocUpdateBehaviors), so the create finds the name taken and the update rolls back.
	NameConflict Kind = "name-conflict"
)

// Change is one createOnly property that differs, as canonical JSON, escaped and cut for a
// terminal ("(absent)" when the template does not set it).
type Change struct {
	Property string `json:"property"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// Finding is one resource the update replaces or cannot update.
type Finding struct {
	LogicalID string `json:"logicalId"`
	// FromLogicalID is the removed logical id of a NameConflict.
	FromLogicalID string `json:"fromLogicalId,omitempty"`
	Type          string `json:"type"`
	Kind          Kind   `json:"kind"`
	// Changes are the createOnly properties that differ (none for a NameConflict).
	Changes []Change `json:"changes,omitempty"`
	// Name is the custom name, as canonical JSON (escaped), when the resource has one.
	Name string `json:"name,omitempty"`
	// Blocking is true when the deploy cannot succeed (Blocked, NameConflict).
	Blocking bool `json:"blocking"`
	// Consequence says what CloudFormation will do.
	Consequence string `json:"consequence"`
	// WayOut says how to make the update possible (blocking findings only).
	WayOut string `json:"wayOut,omitempty"`
	// Doc is the resource type's page.
	Doc string `json:"doc"`
}

// maxValue bounds one printed value: a policy document or a long list must not flood the
// refusal message.
const maxValue = 120

// Check compares the template CloudFormation holds (before) with the one about to be deployed
// (after) and returns every resource the update replaces or cannot update, sorted by logical
// id. Values are compared as canonical JSON: an intrinsic (Ref, Fn::GetAtt, Fn::Join) equal to
// itself is unchanged, as is a dynamic reference ({{resolve:...}}), whose resolved value
// CloudFormation does not compare either; two different intrinsics count as a change even if
// they might resolve to the same value. Types without a row in Rules are not judged.
func Check(before, after *assembly.Template) []Finding {
	if before == nil || after == nil {
		return nil
	}
	var out []Finding
	for _, id := range sortedIDs(after.Resources) {
		a := after.Resources[id]
		b, ok := before.Resources[id]
		if !ok || b.Type != a.Type {
			continue
		}
		rule, ok := RuleFor(a.Type)
		if !ok {
			continue
		}
		var changes []Change
		for _, p := range rule.CreateOnly {
			from, fok := lookup(b.Properties, p)
			to, tok := lookup(a.Properties, p)
			if fok == tok && (!fok || canonical(from) == canonical(to)) {
				continue
			}
			changes = append(changes, Change{Property: p, From: show(from, fok), To: show(to, tok)})
		}
		if len(changes) == 0 {
			continue
		}
		f := Finding{LogicalID: id, Type: a.Type, Kind: Replacement, Changes: changes, Doc: rule.Doc,
			Consequence: "CloudFormation replaces it: the new resource is created, then the old one deleted"}
		if rule.OnReplace != "" {
			f.Consequence += "; " + rule.OnReplace
		}
		if rule.NameProperty != "" {
			from, fok := lookup(b.Properties, rule.NameProperty)
			to, tok := lookup(a.Properties, rule.NameProperty)
			if tok {
				f.Name = show(to, true)
			}
			if fok && tok && canonical(from) == canonical(to) {
				f.Kind, f.Blocking = Blocked, true
				f.Consequence = fmt.Sprintf("its custom name (%s %s) stays: CloudFormation cannot replace it: the update fails and rolls back (%s)",
					rule.NameProperty, f.Name, DocCustomName)
				f.WayOut = wayOut(rule)
			}
		}
		out = append(out, f)
	}
	return append(out, moved(before, after)...)
}

// moved finds named resources whose logical id changed while their name (or identity) did not.
func moved(before, after *assembly.Template) []Finding {
	var out []Finding
	for _, oldID := range sortedIDs(before.Resources) {
		b := before.Resources[oldID]
		if _, kept := after.Resources[oldID]; kept {
			continue
		}
		rule, ok := RuleFor(b.Type)
		if !ok {
			continue
		}
		identity := rule.identity()
		if len(identity) == 0 {
			continue
		}
		if _, named := lookup(b.Properties, rule.NameProperty); rule.NameProperty != "" && !named {
			continue // named by CloudFormation: a move gets a new name
		}
		for _, newID := range sortedIDs(after.Resources) {
			a := after.Resources[newID]
			if _, existed := before.Resources[newID]; existed || a.Type != b.Type || !sameValues(b.Properties, a.Properties, identity) {
				continue
			}
			what, nameProp := rule.NameProperty, rule.NameProperty
			if what == "" {
				what, nameProp = strings.Join(identity, ", "), "Name"
			}
			name, named := lookup(a.Properties, nameProp)
			out = append(out, Finding{LogicalID: newID, FromLogicalID: oldID, Type: a.Type, Kind: NameConflict, Name: show(name, named), Blocking: true, Doc: rule.Doc,
				Consequence: fmt.Sprintf("it moves from logical id %s with the same %s: CloudFormation creates %s before it deletes %s, the name is taken, and the update fails and rolls back (%s)",
					oldID, what, newID, oldID, DocUpdateBehaviors),
				WayOut: movedWayOut(rule, oldID)})
		}
	}
	return out
}

// identity is what names the resource in its service: Identity, or NameProperty alone.
func (r Rule) identity() []string {
	if len(r.Identity) > 0 {
		return r.Identity
	}
	if r.NameProperty != "" {
		return []string{r.NameProperty}
	}
	return nil
}

// sameValues reports whether a and b agree on every property of paths (absent in both counts
// as equal).
func sameValues(a, b map[string]any, paths []string) bool {
	for _, p := range paths {
		x, xok := lookup(a, p)
		y, yok := lookup(b, p)
		if xok != yok || (xok && canonical(x) != canonical(y)) {
			return false
		}
	}
	return true
}

// movedWayOut says how to move a named resource to a new logical id.
func movedWayOut(r Rule, oldID string) string {
	if r.NameProperty == "" {
		return r.WayOut
	}
	return fmt.Sprintf("keep the logical id %s (the construct id), or give the resource a new %s; %s", oldID, r.NameProperty, wayOut(r))
}

// wayOut is the rule's way out, or the generic one.
func wayOut(r Rule) string {
	if r.WayOut != "" {
		return r.WayOut
	}
	return fmt.Sprintf("give it a new %s (the new resource is created under the new name, then the old one deleted), or drop %s so CloudFormation names it",
		r.NameProperty, r.NameProperty)
}

// Blocking returns the findings that make the deploy fail.
func Blocking(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Blocking {
			out = append(out, f)
		}
	}
	return out
}

// String is one finding for a terminal: the resource, what changed, what CloudFormation does
// and (blocking) the way out.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s", termsafe.Escape(f.LogicalID), termsafe.Escape(f.Type))
	if f.Name != "" {
		fmt.Fprintf(&b, ", name %s", f.Name)
	}
	b.WriteString(")")
	if len(f.Changes) > 0 {
		parts := make([]string, 0, len(f.Changes))
		for _, c := range f.Changes {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", c.Property, c.From, c.To))
		}
		b.WriteString(": " + strings.Join(parts, "; "))
	}
	b.WriteString(": " + f.Consequence)
	if f.WayOut != "" {
		b.WriteString(". Way out: " + f.WayOut)
	}
	return b.String()
}

// lookup reads a property by its path below Properties ("HealthCheckConfig/Type").
func lookup(props map[string]any, path string) (any, bool) {
	var v any = props
	for _, k := range strings.Split(path, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// canonical is v as JSON with sorted keys and no HTML escaping: two values are equal when
// their canonical forms are.
func canonical(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only values decoded from JSON reach here; say what it was rather than panic.
		return fmt.Sprintf("%#v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// show is a value for a message: canonical JSON, cut at maxValue runes, escaped.
func show(v any, present bool) string {
	if !present {
		return "(absent)"
	}
	s := canonical(v)
	if utf8.RuneCountInString(s) > maxValue {
		s = string([]rune(s)[:maxValue]) + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return termsafe.Escape(s)
}

func sortedIDs(m map[string]assembly.Resource) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
