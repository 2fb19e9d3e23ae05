package jsonanswer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExtract feeds arbitrary replies to Extract and Check. It checks that
// neither panics; that a value Extract returns is valid JSON taken from the
// reply; that a value Check returns is compact, valid JSON that validates;
// that Check's problems are 1 to MaxProblems one-line sentences, each at
// most MaxProblemRunes long; that the bracket scan stays within 3 steps a
// byte; and, for short replies, that the memoised scan agrees with a scan
// from each bracket of its own.
func FuzzExtract(f *testing.F) {
	for _, seed := range []string{
		`{"a":1}`, "```json\n{\"a\": 1}\n```", "text {\"a\": [1, {\"b\": \"}\"}]} text", `[1, 2`,
		`{"a": "\"}"} {"b": 2}`, "~~~\n[]\n~~~", `{a: {"b": 1}}`, `"{"{"{`, `{\"{\"{\"`, "\ufeff42",
		`{"name": "Tea", "price": "1"}`, `{"name": "Tea", "price": 1, "price": 2}`, "```json\n{\n```\n{\"x\":1}",
		`say "{" then {"name": "T", "price": 1}`, "[{]}", `{"items":[{"sku":"ABC-1"},{"qty":-1}]}`,
	} {
		f.Add(seed)
	}
	s := mustCompile(f, product)
	f.Fuzz(func(t *testing.T, reply string) {
		v, err := Extract(reply)
		if err == nil {
			if !json.Valid(v) || !strings.Contains(reply, string(v)) {
				t.Fatalf("Extract(%q) = %q: not valid JSON from the reply", reply, v)
			}
		} else if v != nil || err.Error() == "" {
			t.Fatalf("Extract(%q) = %q, %v", reply, v, err)
		}

		value, problems := s.Check(reply)
		if value != nil {
			var compact bytes.Buffer
			if problems != nil || json.Compact(&compact, value) != nil || compact.String() != string(value) {
				t.Fatalf("Check(%q) = %q, %q: not compact valid JSON", reply, value, problems)
			}
			if _, again := s.Check(string(value)); again != nil {
				t.Fatalf("Check(%q) = %q, which does not validate: %q", reply, value, again)
			}
		} else {
			if len(problems) == 0 || len(problems) > MaxProblems {
				t.Fatalf("Check(%q): %d problems", reply, len(problems))
			}
			for _, p := range problems {
				if p == "" || utf8.RuneCountInString(p) > MaxProblemRunes || strings.ContainsAny(p, "\n\r\x1b") {
					t.Fatalf("Check(%q): problem %q", reply, p)
				}
			}
		}

		fi := newFinder(reply)
		fi.each(func(candidate) bool { return true })
		if fi.steps > 3*len(reply)+3 {
			t.Fatalf("%q: %d steps for %d bytes", reply, fi.steps, len(reply))
		}
		if len(reply) <= 512 {
			order := make([]int, len(reply))
			for i := range order {
				order[i] = len(reply) - 1 - i // from the end: the most reuse
			}
			checkAgainstNaive(t, reply, scanAll(reply, order))
		}
	})
}
