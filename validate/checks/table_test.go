package checks

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

// TestEveryRowDeclaresItsPathAndCanaryMembership keeps a new check from silently joining or
// leaving the canary, or the primary verdict: each row of Table says Path and Canary in the
// source (a bool left out would read as "not in the canary" without anyone deciding it).
func TestEveryRowDeclaresItsPathAndCanaryMembership(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "table.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rows []ast.Expr
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && vs.Names[0].Name == "Table" && len(vs.Values) == 1 {
			if cl, ok := vs.Values[0].(*ast.CompositeLit); ok {
				rows = cl.Elts
			}
		}
		return true
	})
	if len(rows) != len(Table) {
		t.Fatalf("table.go: found %d rows in the source of Table, the package has %d: is Table still one literal in table.go?", len(rows), len(Table))
	}
	for i, r := range rows {
		keys := map[string]bool{}
		for _, e := range r.(*ast.CompositeLit).Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				keys[kv.Key.(*ast.Ident).Name] = true
			}
		}
		for _, k := range []string{"Name", "Path", "Canary"} {
			if !keys[k] {
				t.Errorf("Table row %d (%s) does not declare %s: every row says its path and whether the canary runs it (Canary: false included)", i, Table[i].Name, k)
			}
		}
	}
	for _, c := range Table {
		if c.Path != PathPrimary && c.Path != PathReader {
			t.Errorf("check %s: path %q, want %q or %q", c.Name, c.Path, PathPrimary, PathReader)
		}
	}
}

// TestCountsComeFromTheTable pins the helpers every count is derived from (no test or message
// hard-codes the number of checks).
func TestCountsComeFromTheTable(t *testing.T) {
	canary := 0
	for _, c := range Table {
		if c.Canary {
			canary++
		}
	}
	if len(CanaryChecks()) != canary || len(Names()) != len(Table) || len(Subset(Names()...)) != len(Table) {
		t.Fatalf("CanaryChecks %d (want %d), Names %d, Subset %d (want %d)", len(CanaryChecks()), canary, len(Names()), len(Subset(Names()...)), len(Table))
	}
}
