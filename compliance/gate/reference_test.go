package gate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/valkey-dr/valkey-dr/compliance"
	"github.com/valkey-dr/valkey-dr/compliance/gate"
	"github.com/valkey-dr/valkey-dr/context"
	"github.com/valkey-dr/valkey-dr/internal/cdktest"
	"github.com/valkey-dr/valkey-dr/internal/repotest"
	"github.com/valkey-dr/valkey-dr/validate/checks"
)

// referenceFile is the reference the docs link to: every table in it is generated from the code
// (and, for the alarms, from the golden template the stacks tests keep equal to a synth), never
// written by hand. `go test ./compliance/gate -run TestReferenceIsGenerated -update` rewrites it.
const referenceFile = "docs/reference.md"

// TestReferenceIsGenerated keeps docs/reference.md equal to what the code says.
func TestReferenceIsGenerated(t *testing.T) {
	root := repotest.RepoRoot(t)
	got := reference(t, root)
	path := filepath.Join(root, referenceFile)
	if *cdktest.Update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./compliance/gate -run TestReferenceIsGenerated -update)", err)
	}
	if string(b) != got {
		t.Fatalf("%s is not what the code says: regenerate it (go test ./compliance/gate -run TestReferenceIsGenerated -update) and review the diff", referenceFile)
	}
}

func reference(t *testing.T, root string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	w("# valkey-dr reference\n\nGenerated from the code by `go test ./compliance/gate -run TestReferenceIsGenerated -update`:\n")
	w("do not edit by hand. The prose around these tables is in [design.md](design.md), [compliance.md](compliance.md),\n")
	w("[configuration.md](configuration.md) and [validate/README.md](../validate/README.md).\n")

	w("\n## Context keys\n\nOn the command line (`--context key=value`; `drcontext.OurKeys`):\n\n")
	for _, k := range drcontext.OurKeys {
		w("- `%s`\n", k)
	}
	w("\nPer environment, under `environments.<name>` in cdk.json (the `Environment` struct; an unknown key is refused):\n\n| key | type |\n| --- | --- |\n")
	var rows [][2]string
	walkKeys(reflect.TypeOf(drcontext.Environment{}), "", &rows)
	for _, r := range rows {
		w("| `%s` | %s |\n", r[0], r[1])
	}

	w("\n## Compliance rules\n\n`compliance.Rules`: each finding prints the rule, where, what was found and the fix.\n\n| Rule | Requires | Fix |\n| --- | --- | --- |\n")
	for _, r := range compliance.Rules {
		w("| %s | %s | %s |\n", r.ID, cell(r.Title), cell(r.Fix))
	}

	w("\n## cdk-nag suppressions\n\n`compliance/gate/suppressions.go` is the only place a suppression is made; a test fails when one no longer matches a finding.\n\n| cdk-nag rules | On | Reason |\n| --- | --- | --- |\n")
	sup := func(s gate.Suppression) {
		rules := "`" + strings.Join(s.Rules, "`, `") + "`"
		if len(s.Findings) > 0 {
			rules += " (findings `" + strings.Join(s.Findings, "`, `") + "` only)"
		}
		w("| %s | `%s` | %s |\n", rules, s.On, cell(s.Reason))
	}
	for _, s := range gate.Suppressions {
		sup(s)
	}
	for _, s := range gate.SwitchSuppressions {
		sup(s.Suppression)
	}

	w("\n## Control Tower waivers\n\n`compliance.ControlWaivers` is the only place a control is waived; a waived control still blocks the deploy in an Organization that enables it.\n\n| Control | On | Reason |\n| --- | --- | --- |\n")
	for _, cw := range compliance.ControlWaivers {
		w("| `%s` | `%s` | %s |\n", cw.Control, cw.On, cell(cw.Reason))
	}

	w("\n## Validator checks\n\n`validate/checks.Table`, in the order they run; a check whose needs failed is skipped with the reason.\n\n| check | deadline | needs | path | in the canary |\n| --- | --- | --- | --- | --- |\n")
	for _, c := range checks.Table {
		needs := strings.Join(c.Needs, ", ")
		if c.Always {
			needs += " (runs even when the overall deadline is spent)"
		}
		w("| `%s` | %s | %s | %s | %v |\n", c.Name, c.Timeout, needs, c.Path, c.Canary)
	}

	w("\n## Alarms\n\nThe prod primary stack's alarms, as synthesized (`stacks/testdata/prod-none.json`); each notifies the stack's alarm topic.\n\n| alarm | metric | statistic | period | condition | evaluation |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, a := range alarms(t, filepath.Join(root, "stacks", "testdata", "prod-none.json")) {
		w("| `%s` | %s | %s | %s s | %s %s | %s of %s, missing data %s |\n", a["name"], a["metric"], a["stat"], a["period"], a["op"], a["threshold"],
			a["dta"], a["evals"], a["missing"])
	}
	return b.String()
}

// walkKeys lists the cdk.json keys of a struct type by its json tags, in declaration order.
func walkKeys(t reflect.Type, prefix string, rows *[][2]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		key := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			walkKeys(ft, key+".", rows)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			walkKeys(ft.Elem(), key+".<"+strings.TrimSuffix(name, "s")+">.", rows)
		default:
			*rows = append(*rows, [2]string{key, kindName(ft)})
		}
	}
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "list of " + kindName(t.Elem())
	case reflect.Map:
		return "map of " + kindName(t.Elem())
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64:
		return "number"
	}
	return "string"
}

// alarms reads the alarms of a synthesized template, sorted by name.
func alarms(t *testing.T, path string) []map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range tmpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := r.Properties
		s := func(k string) string {
			if v, ok := p[k]; ok {
				return fmt.Sprint(v)
			}
			return ""
		}
		stat := s("Statistic")
		if stat == "" {
			stat = s("ExtendedStatistic")
		}
		dta := s("DatapointsToAlarm")
		if dta == "" {
			dta = s("EvaluationPeriods")
		}
		missing := s("TreatMissingData")
		if missing == "" {
			missing = "missing"
		}
		out = append(out, map[string]string{"name": s("AlarmName"), "metric": s("Namespace") + " " + s("MetricName"), "stat": stat,
			"period": s("Period"), "op": s("ComparisonOperator"), "threshold": s("Threshold"), "dta": dta, "evals": s("EvaluationPeriods"), "missing": missing})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["name"] < out[j]["name"] })
	return out
}
