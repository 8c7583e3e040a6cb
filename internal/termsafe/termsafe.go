// Package termsafe makes untrusted strings safe to print on an operator's terminal.
//
// A name inside an evidence bundle or a DR kit, a server's reply or a command-line argument
// can carry control characters: an ANSI escape sequence can clear the screen, move the
// cursor, recolour text or print a fake green "VERIFIED" over the real findings (issue 23,
// docs/evidence.md "Terminal output"). Every printer of such a string goes through Escape
// (one helper, so one test covers every printer's escaping).
package termsafe

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen bounds what Quote prints of one value: a hostile value (a 1 MB entry name, a
// server's endless line) must not flood the terminal. Longer values are cut and say so.
const MaxLen = 512

// Escape returns s with every control character (C0, DEL, C1), every invalid UTF-8 byte and
// every Unicode format character (bidi overrides, zero-width) replaced by a visible Go
// escape (\x1b, \u202e, ...), and a backslash doubled so an escape cannot be forged. Printable
// text, spaces included, is unchanged. Printers call it on whole lines they compose.
func Escape(s string) string { return escape(s, -1) }

// escape is Escape, cut after max runes (max < 0: never) with "…(N bytes)".
func escape(s string, max int) string {
	if clean(s) && (max < 0 || utf8.RuneCountInString(s) <= max) {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		if n == max {
			b.WriteString("…(" + strconv.Itoa(len(s)) + " bytes)")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x` + hex2(s[i]))
		case r == '\\':
			b.WriteString(`\\`)
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r) // 'x1b' style, with quotes
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
		n++
	}
	return b.String()
}

// Quote is Escape in double quotes, cut at MaxLen runes: for echoing one value given on the
// command line or read from a bundle, a kit or a server, where the reader must see where it
// starts and ends (an empty value too).
func Quote(s string) string { return `"` + strings.ReplaceAll(escape(s, MaxLen), `"`, `\"`) + `"` }

// Writer escapes what is written through it, except newlines and tabs (the layout of a
// usage text): for output a library composes from untrusted values (the flag package's
// "flag provided but not defined: -<name>").
func Writer(w io.Writer) io.Writer { return writer{w} }

type writer struct{ w io.Writer }

func (e writer) Write(p []byte) (int, error) {
	parts := strings.Split(string(p), "\n")
	for i, part := range parts {
		cells := strings.Split(part, "\t")
		for j := range cells {
			cells[j] = Escape(cells[j])
		}
		parts[i] = strings.Join(cells, "\t")
	}
	if _, err := io.WriteString(e.w, strings.Join(parts, "\n")); err != nil {
		return 0, err
	}
	return len(p), nil
}

// JSON rewrites the characters encoding/json leaves raw inside strings but a terminal may
// act on (C1 controls, bidi and other format characters, U+2028/9 are escaped by json only
// in HTML mode) as \uXXXX: the result is the same JSON value.
func JSON(data []byte) []byte {
	s := string(data)
	if clean(s) {
		return data
	}
	var b strings.Builder
	for _, r := range s {
		if r != utf8.RuneError && unsafeRune(r) && r >= 0x20 {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return []byte(b.String())
}

// Lines escapes each line of a multi-line text (a report the program wrote itself, holding
// untrusted values) and keeps its newlines.
func Lines(s string) string {
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = Escape(p)
	}
	return strings.Join(parts, "\n")
}

func clean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r == '\\' || unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune is a rune a terminal may interpret rather than print: C0 controls (ESC, CR,
// BS, BEL, TAB, NL), DEL, C1 controls (U+0080-U+009F: CSI is U+009B), and format
// characters (Cf: bidi overrides that reorder what is shown, zero-width joiners).
func unsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029'
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
