package assembly

import (
	"fmt"
	"sort"
	"strings"
)

// Route 53 record resource types: a RecordSet is one record, a RecordSetGroup several.
const (
	TypeRecordSet      = "AWS::Route53::RecordSet"
	TypeRecordSetGroup = "AWS::Route53::RecordSetGroup"
)

// Record is one Route 53 record set as synthesized (a RecordSet, or one entry of a
// RecordSetGroup): what a deploy makes Route 53 answer.
type Record struct {
	// Stack is the stack that owns the record.
	Stack string `json:"stack"`
	// LogicalID is the record's logical id in that stack; an entry of a RecordSetGroup reads
	// "<group id>/RecordSets/<index>".
	LogicalID string `json:"logicalId"`
	// Name is the DNS name.
	Name string `json:"name"`
	// Type is the record type (CNAME).
	Type string `json:"type"`
	// TTL is the TTL in seconds, as in the template.
	TTL string `json:"ttl,omitempty"`
	// Failover is PRIMARY or SECONDARY for the service name; empty for the regional name.
	Failover string `json:"failover,omitempty"`
	// SetIdentifier distinguishes the halves of a failover pair.
	SetIdentifier string `json:"setIdentifier,omitempty"`
	// HealthCheck names the health check resource (logical id) of a PRIMARY record.
	HealthCheck string `json:"healthCheck,omitempty"`
	// HostedZoneID is the private hosted zone.
	HostedZoneID string `json:"hostedZoneId"`
	// Values are the record values; an attribute known only after the deploy reads
	// "${SessionCache.Endpoint.Address}" unless resolved.
	Values []string `json:"values"`
}

// Route53Records returns the stack's record sets (RecordSet and RecordSetGroup entries) sorted
// by name then failover role. resolve maps a token such as "SessionCache.Endpoint.Address" to
// its deployed value (may be nil).
func (s *Stack) Route53Records(resolve map[string]string) []Record {
	var out []Record
	for id, r := range s.Template.Resources {
		switch r.Type {
		case TypeRecordSet:
			out = append(out, s.record(id, r.Properties, nil, resolve))
		case TypeRecordSetGroup:
			list, _ := r.Properties["RecordSets"].([]any)
			for i, e := range list {
				if p, ok := e.(map[string]any); ok {
					out = append(out, s.record(fmt.Sprintf("%s/RecordSets/%d", id, i), p, r.Properties, resolve))
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Failover < out[j].Failover
	})
	return out
}

// record reads one record's properties; group holds a RecordSetGroup's own properties (its
// hosted zone applies to every entry), nil for a RecordSet.
func (s *Stack) record(id string, p, group map[string]any, resolve map[string]string) Record {
	zone := p["HostedZoneId"]
	if zone == nil && group != nil {
		zone = group["HostedZoneId"]
	}
	rec := Record{Stack: s.Name, LogicalID: id, Name: render(p["Name"], resolve), Type: render(p["Type"], resolve),
		TTL: render(p["TTL"], resolve), Failover: render(p["Failover"], resolve),
		SetIdentifier: render(p["SetIdentifier"], resolve), HostedZoneID: render(zone, resolve)}
	if hc, ok := p["HealthCheckId"].(map[string]any); ok {
		rec.HealthCheck = tokenTarget(hc)
	}
	if vals, ok := p["ResourceRecords"].([]any); ok {
		for _, v := range vals {
			rec.Values = append(rec.Values, render(v, resolve))
		}
	}
	return rec
}

// render turns a template value into text: literals as is, intrinsics as ${Logical.Attr}.
func render(v any, resolve map[string]string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		// A dynamic reference ({{resolve:ssm:...}}) resolves like a token.
		if val, ok := resolve[x]; ok {
			return val
		}
		return x
	case float64:
		return fmt.Sprint(x)
	case map[string]any:
		tok := tokenTarget(x)
		if val, ok := resolve[tok]; ok {
			return val
		}
		return "${" + tok + "}"
	default:
		return fmt.Sprint(x)
	}
}

// tokenTarget names what a Ref or Fn::GetAtt points at ("SessionCache.Endpoint.Address").
func tokenTarget(m map[string]any) string {
	if ref, ok := m["Ref"].(string); ok {
		return ref
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok {
		parts := make([]string, 0, len(ga))
		for _, p := range ga {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, ".")
	}
	for k := range m {
		return k // another intrinsic: name it rather than guess its value
	}
	return ""
}

// RoutingChange is the Route 53 records before and after one procedure step, as synthesized.
type RoutingChange struct {
	// Step says what changes routing ("DR deploy", "release primary routing", ...).
	Step string `json:"step"`
	// Before and After are every record of the stacks involved.
	Before []Record `json:"before"`
	After  []Record `json:"after"`
	// Added and Removed are the differences (by stack + logical id + name + failover).
	Added   []Record `json:"added"`
	Removed []Record `json:"removed"`
}

// NewRoutingChange computes the differences.
func NewRoutingChange(step string, before, after []Record) RoutingChange {
	key := func(r Record) string {
		return strings.Join([]string{r.Stack, r.LogicalID, r.Name, r.Failover, strings.Join(r.Values, ",")}, "|")
	}
	in := func(list []Record, r Record) bool {
		for _, x := range list {
			if key(x) == key(r) {
				return true
			}
		}
		return false
	}
	c := RoutingChange{Step: step, Before: nonNil(before), After: nonNil(after), Added: []Record{}, Removed: []Record{}}
	for _, r := range after {
		if !in(before, r) {
			c.Added = append(c.Added, r)
		}
	}
	for _, r := range before {
		if !in(after, r) {
			c.Removed = append(c.Removed, r)
		}
	}
	return c
}

func nonNil(r []Record) []Record {
	if r == nil {
		return []Record{}
	}
	return r
}

// Markdown renders the change as a table for the change management record.
func (c RoutingChange) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", c.Step)
	row := func(mark string, r Record) {
		role := r.Failover
		if role == "" {
			role = "regional"
		}
		hc := r.HealthCheck
		if hc == "" {
			hc = "-"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", mark, r.Name, r.Type, role, r.TTL, strings.Join(r.Values, ", "), hc, r.Stack)
	}
	b.WriteString("| change | name | type | role | TTL | value | health check | stack |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range c.Added {
		row("added", r)
	}
	for _, r := range c.Removed {
		row("removed", r)
	}
	for _, r := range c.After {
		if !contains(c.Added, r) {
			row("unchanged", r)
		}
	}
	if len(c.Added)+len(c.Removed)+len(c.After) == 0 {
		b.WriteString("| (none) | | | | | | | |\n")
	}
	return b.String()
}

func contains(list []Record, r Record) bool {
	for _, x := range list {
		if x.Stack == r.Stack && x.LogicalID == r.LogicalID && x.Name == r.Name && x.Failover == r.Failover {
			return true
		}
	}
	return false
}
