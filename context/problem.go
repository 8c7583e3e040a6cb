package drcontext

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one invalid value: Key is the context key path, e.g.
// `environments.prod.regions.us-west-2.vpcId` or `drMode`.
type Problem struct {
	Key      string // context key path, dotted, with [i] for list elements
	Value    string // the value given ("" when it was not set)
	Accepted string // what would have been accepted
	Hint     string // why, or what to do instead; optional
	// reason replaces the generic "is not accepted" when a more precise one says what is wrong
	// (for example "unknown key" or "is not set"). Unexported so that the four public fields
	// stay the API main.go and the tests are written against.
	reason string
}

// maxValueRunes clips a value in messages: a whole environments JSON pasted into --context
// must not turn one problem line into a screenful.
const maxValueRunes = 80

// String renders the problem on ONE line, e.g.
//
//	context "drMode": "bogus" is not accepted; accepted: none, stateless
//
// Key and value are quoted with Go escaping and the other parts have control characters
// escaped, so that nothing a user typed can break the one-problem-per-line promise.
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "context %q: ", p.Key)
	reason := p.reason
	if reason == "" {
		reason = "is not accepted"
		// With the generic reason the value is the whole point: show it even when empty.
		fmt.Fprintf(&b, "%q ", clip(p.Value))
	} else if p.Value != "" {
		fmt.Fprintf(&b, "%q ", clip(p.Value))
	}
	b.WriteString(oneLine(reason))
	if p.Accepted != "" {
		b.WriteString("; accepted: ")
		b.WriteString(oneLine(p.Accepted))
	}
	if p.Hint != "" {
		b.WriteString(" (")
		b.WriteString(oneLine(p.Hint))
		b.WriteString(")")
	}
	return b.String()
}

// clip shortens s to maxValueRunes runes.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxValueRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxValueRunes]) + "..."
}

// oneLine escapes control characters, line and paragraph separators and invalid UTF-8: the
// accepted lists and hints can carry names a user typed (environment, region, tag keys).
func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == utf8.RuneError || r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// Error is every problem found, one per line, sorted by key for stable output.
type Error struct {
	Problems []Problem // at least one, sorted by Key
}

// Error renders "invalid CDK context (N problems):" and one indented line per problem.
func (e *Error) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	noun := "problems"
	if n == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "invalid CDK context (%d %s):", n, noun)
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ExitCode is the process exit status for a context error: 2, the project's code for usage
// and configuration errors (1 is kept for "a check failed").
func (e *Error) ExitCode() int { return 2 }

// newError sorts and de-duplicates the problems (the same fact can be reached by two rules,
// e.g. a region checked for the matrix and for the synth) and returns nil when there are none.
func newError(ps []Problem) *Error {
	if len(ps) == 0 {
		return nil
	}
	lines := make(map[string]bool, len(ps))
	out := make([]Problem, 0, len(ps))
	for _, p := range ps {
		s := p.String()
		if lines[s] {
			continue
		}
		lines[s] = true
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].String() < out[j].String()
	})
	return &Error{Problems: out}
}

// problems collects Problems; every rule appends and none stops the others, so that one run
// reports everything that is wrong.
type problems []Problem

func (ps *problems) add(p Problem) { *ps = append(*ps, p) }

// names renders user-supplied names (environments, regions) as a sorted, comma-separated
// list; a name that is not plain is quoted so that commas or spaces in it stay readable.
func names(ns []string) string {
	s := append([]string(nil), ns...)
	sort.Strings(s)
	for i, n := range s {
		if !plainName(n) {
			s[i] = strconv.Quote(n)
		}
	}
	if len(s) == 0 {
		return "(none defined)"
	}
	return strings.Join(s, ", ")
}

func plainName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
