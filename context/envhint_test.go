package drcontext

import (
	"strings"
	"testing"
)

// Issue 26: a mistyped environment gets a "did you mean" (make drill ENV=prdo).
func TestUnknownEnvironmentDidYouMean(t *testing.T) {
	known := []string{"example", "prod", "staging"}
	tests := map[string]string{
		"prdo":    `did you mean "prod"?`,
		"Prod":    `did you mean "prod"? names are case-sensitive`,
		"stagign": `did you mean "staging"?`,
		"qa":      "",
	}
	for name, want := range tests {
		p := unknownEnvironment(name, true, known)
		if want == "" && p.Hint != "" || !strings.Contains(p.Hint, want) {
			t.Errorf("%s: hint %q, want %q", name, p.Hint, want)
		}
	}
}
