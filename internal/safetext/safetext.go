// Package safetext makes text from the gateway safe to show: to a model
// (tool results) and to a terminal (doctor, call).
package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text from the gateway (session keys, labels, model names, error messages,
// a subagent's reply) goes to a model and to terminals. A control character
// (NUL, an ANSI escape sequence, DEL, C1) or a bidirectional override can
// hide or reorder what a reader sees, so none reaches a result raw: each is
// written as a \uXXXX escape. Invalid UTF-8 becomes U+FFFD.

// Line makes a one-line gateway string safe: every control and bidi
// formatting character, line breaks and tabs included, is escaped.
func Line(s string) string { return clean(s, false) }

// Text is Line for text that may span lines (a reply, an error
// message): newlines and tabs are kept.
func Text(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	if !needsCleaning(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			b.WriteRune(utf8.RuneError)
		case unsafeRune(r, multiline):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// needsCleaning is the fast path: most strings hold nothing to escape.
func needsCleaning(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unsafeRune(r, multiline) {
			return true
		}
	}
	return false
}

// validAt reports whether the RuneError at s[i] is a real U+FFFD.
func validAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r == utf8.RuneError && size == 3
}

// unsafeRune reports whether r must not reach a reader raw.
func unsafeRune(r rune, multiline bool) bool {
	switch {
	case r == '\n' || r == '\t':
		return !multiline
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r >= 0x200e && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x061c:
		return true // bidirectional marks, embeddings, overrides and isolates
	}
	return false
}
