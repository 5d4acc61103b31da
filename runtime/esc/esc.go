// Package esc makes strings that come from files safe to print: a label,
// a model, op or tensor name, a path or a checkpoint key may hold
// newlines, terminal escape sequences or invalid UTF-8, which printed raw
// would forge lines of output or drive the terminal.
//
// String returns a string unchanged when every rune of it is printable
// (strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space) and the Go-quoted form otherwise ("a\x1b[31mb"), so that
// ordinary names print as they are and a hostile one is visibly quoted.
// JSON output needs none of this: encoding/json escapes control
// characters itself.
package esc

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// String returns s if it is printable as it is, else strconv.Quote(s).
func String(s string) string {
	if Printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// Printable reports whether s is valid UTF-8 made only of printable runes
// (no control characters: no newline, tab or escape).
func Printable(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !strconv.IsPrint(r) {
			return false
		}
		i += n
	}
	return true
}

// Strings applies String to each element of s, in a new slice.
func Strings(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = String(v)
	}
	return out
}

// Line returns s as one printable line: every control character (a
// newline, a carriage return, an escape) and every invalid byte is
// replaced by its Go escape (\n, \x1b, \u202e), other text is kept as it
// is. It is the backstop of an error printer, whose message may embed
// strings that were not escaped where they were made.
func Line(s string) string {
	if Printable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&15, 16))
		case r == ' ' || strconv.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r) // '\x1b'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}
