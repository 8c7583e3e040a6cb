package termsafe

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeNeutralisesEveryControlSequence(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain text is unchanged":                    {"validation/summary.md", "validation/summary.md"},
		"spaces and unicode letters are kept":        {"Dana Roé — 日本", "Dana Roé — 日本"},
		"clear screen":                               {"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		"a fake green VERIFIED":                      {"\x1b[32mVERIFIED\x1b[0m", `\x1b[32mVERIFIED\x1b[0m`},
		"carriage return overwrites the line":        {"edited\rVERIFIED", `edited\rVERIFIED`},
		"newline forges a second line":               {"a\nVERIFIED: ok", `a\nVERIFIED: ok`},
		"backspaces erase the finding":               {"edited\b\b\b\b\b\b", `edited\b\b\b\b\b\b`},
		"bell":                                       {"\a", `\a`},
		"tab":                                        {"a\tb", `a\tb`},
		"NUL":                                        {"a\x00b", `a\x00b`},
		"DEL":                                        {"a\x7fb", `a\x7fb`},
		"C1 CSI (U+009B)":                            {"a\u009b2Jb", `a\u009b2Jb`},
		"OSC 8 hyperlink / title set":                {"\x1b]0;owned\x07", `\x1b]0;owned\a`},
		"bidi override reorders the display":         {"evil\u202egpj.exe", `evil\u202egpj.exe`},
		"zero-width joiner":                          {"a\u200db", `a\u200db`},
		"line separator":                             {"a\u2028b", `a\u2028b`},
		"invalid UTF-8 byte":                         {"a\xffb", `a\xffb`},
		"a lone escape byte from a C1 in latin-1":    {"a\x9bb", `a\x9bb`},
		"a literal backslash cannot forge an escape": {`\x1b`, `\\x1b`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Escape(tc.in)
			if got != tc.want {
				t.Fatalf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, r := range got {
				if unsafeRune(r) {
					t.Fatalf("Escape(%q) still holds %U", tc.in, r)
				}
			}
			if !utf8.ValidString(got) {
				t.Fatalf("Escape(%q) is not valid UTF-8", tc.in)
			}
		})
	}
}

func TestQuoteBoundsLength(t *testing.T) {
	long := strings.Repeat("\x1b", 1<<20)
	got := Quote(long)
	if len(got) > MaxLen*8 || !strings.HasSuffix(got, "…(1048576 bytes)\"") {
		t.Fatalf("a 1 MB value printed as %d bytes: %q", len(got), got[len(got)-40:])
	}
	if Quote(strings.Repeat("a", MaxLen)) != `"`+strings.Repeat("a", MaxLen)+`"` {
		t.Fatal("a value of exactly MaxLen was cut")
	}
	if n := len(Escape(strings.Repeat("a", 4*MaxLen))); n != 4*MaxLen {
		t.Fatalf("Escape (whole lines) cut a line to %d", n)
	}
}

func TestWriterAndJSON(t *testing.T) {
	var b strings.Builder
	_, _ = Writer(&b).Write([]byte("flag provided but not defined: -\x1b[2J\n  -env\tenvironment\u009b\n"))
	if got := b.String(); got != "flag provided but not defined: -\\x1b[2J\n  -env\tenvironment\\u009b\n" {
		t.Fatalf("Writer: %q", got)
	}
	in := []byte("{\"kind\": \"drill\\u001b[2J\u009b31m\u202e\u2028\"}")
	got := string(JSON(in))
	if got != `{"kind": "drill\u001b[2J\u009b31m\u202e\u2028"}` {
		t.Fatalf("JSON: %s", got)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(got), &v); err != nil || v["kind"] != "drill\x1b[2J\u009b31m\u202e\u2028" {
		t.Fatalf("JSON changed the value: %q %v", v["kind"], err)
	}
}

func TestQuoteAndLines(t *testing.T) {
	if got := Quote("a\"b\x1b"); got != `"a\"b\x1b"` {
		t.Fatalf("Quote = %s", got)
	}
	if got := Quote(""); got != `""` {
		t.Fatalf("Quote of empty = %s", got)
	}
	if got := Lines("one\x1b[2J\ntwo\r"); got != "one\\x1b[2J\ntwo\\r" {
		t.Fatalf("Lines = %q", got)
	}
}
