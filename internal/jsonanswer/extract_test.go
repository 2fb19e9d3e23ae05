package jsonanswer

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		want        string // the value as written; "" when an error is expected
		err         string // the error, exactly
	}{
		{name: "whole object", reply: `{"a":1}`, want: `{"a":1}`},
		{name: "whole with white space and BOM", reply: "\ufeff \n {\"a\": [1, 2]}\n\n", want: `{"a": [1, 2]}`},
		{name: "whole array", reply: `[{"a":1},{"a":2}]`, want: `[{"a":1},{"a":2}]`},
		{name: "whole number", reply: " 42\n", want: `42`},
		{name: "whole string", reply: `"forty-two"`, want: `"forty-two"`},
		{name: "whole null", reply: `null`, want: `null`},
		{name: "json fence", reply: "```json\n{\"a\": 1}\n```", want: `{"a": 1}`},
		{name: "JSON fence upper case, prose around", reply: "Here it is:\n\n```JSON\n{\"a\": 1}\n```\n\nHope this helps!", want: `{"a": 1}`},
		{name: "bare fence", reply: "Result:\n```\n[1, 2, 3]\n```\n", want: `[1, 2, 3]`},
		{name: "tilde fence", reply: "~~~json\n{\"a\": true}\n~~~", want: `{"a": true}`},
		{name: "fence after text on the line", reply: "Sure! ```json\n{\"a\": 1}\n```", want: `{"a": 1}`},
		{name: "indented closing fence", reply: "  ```json\n  {\"a\": 1}\n  ```\n", want: `{"a": 1}`},
		{name: "unterminated fence", reply: "```json\n{\"a\": 1}\n", want: `{"a": 1}`},
		{name: "scalar in a fence", reply: "```json\n42\n```", want: `42`},
		{name: "fence inside a JSON string does not end the block", reply: "```json\n{\"md\": \"```go\\nx\\n```\"}\n```", want: `{"md": "` + "```go\\nx\\n```" + `"}`},
		{name: "json block before a python block", reply: "```python\n[1, 2]\n```\n```json\n{\"a\": 1}\n```", want: `{"a": 1}`},
		{name: "other block when no json block", reply: "```text\n{\"a\": 1}\n```", want: `{"a": 1}`},
		{name: "prose before and after", reply: `The answer is {"a": {"b": [1, 2]}} as requested.`, want: `{"a": {"b": [1, 2]}}`},
		{name: "nested braces in strings", reply: `Answer: {"a": "}{][", "b": "\"}"} end`, want: `{"a": "}{][", "b": "\"}"}`},
		{name: "array in prose", reply: `Items: [{"x": 1}, {"x": 2}].`, want: `[{"x": 1}, {"x": 2}]`},
		{name: "placeholder braces in prose first", reply: `Fill {name} in: {"name": "Ada"}`, want: `{"name": "Ada"}`},
		{name: "quote in prose before", reply: `The "{" character starts it: {"a": 1}`, want: `{"a": 1}`},
		{name: "apostrophes in prose", reply: `It's done, here's the data: {"ok": true}`, want: `{"ok": true}`},
		{name: "first of several", reply: `{"a": 1} and {"b": 2}`, want: `{"a": 1}`},
		{name: "object with unquoted key skipped as a whole", reply: `{a: {"b": 1}} then {"c": 2}`, want: `{"c": 2}`},
		{name: "value then prose", reply: `{"a": 1} I hope this helps`, want: `{"a": 1}`},
		{name: "multi-byte text", reply: "Résumé ✓: {\"naïve\": \"日本\"}", want: `{"naïve": "日本"}`},

		{name: "empty", reply: "", err: "the answer has no JSON value"},
		{name: "white space", reply: " \n\t", err: "the answer has no JSON value"},
		{name: "prose only", reply: "I could not find the price.", err: "the answer has no JSON value"},
		{name: "braces that are not JSON", reply: "use {name} and [see above]", err: "the answer has no JSON value"},
		{name: "scalar in prose is not taken", reply: "The answer is 42.", err: "the answer has no JSON value"},
		{name: "broken json block", reply: "```json\n{\"a\": 1,}\n```",
			err: "the ```json code block is not valid JSON (invalid character '}' looking for beginning of object key string, at line 1, column 9)"},
		{name: "truncated whole answer: not its inner objects", reply: `{"items": [{"a": 1}, {"a": 2}`,
			err: "the answer is not valid JSON (unexpected end of JSON input)"},
		{name: "truncated answer after prose", reply: `Here: {"items": [{"a": 1}, {"a": 2}`,
			err: "the JSON starting `{\"items\": [{\"a\": 1}, {\"a\": 2}` is not valid JSON (unexpected end of JSON input)"},
		{name: "single quotes", reply: `{'a': 1}`,
			err: "the answer is not valid JSON (invalid character '\\'' looking for beginning of object key string, at line 1, column 2)"},
		{name: "JSON starting prose span", reply: `Result {"a": 1, "b": two} ok`,
			err: "the JSON starting `{\"a\": 1, \"b\": two}` is not valid JSON (invalid character 'w' in literal true (expecting 'r'), at line 1, column 16)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Extract(tc.reply)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Extract(%q) = %s, %v; want the error\n%s", tc.reply, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract(%q): %v", tc.reply, err)
			}
			if string(got) != tc.want {
				t.Errorf("Extract(%q) = %s, want %s", tc.reply, got, tc.want)
			}
		})
	}
}

func TestExtractTooLarge(t *testing.T) {
	reply := `{"a":"` + strings.Repeat("x", MaxReplyBytes) + `"}`
	_, err := Extract(reply)
	if err == nil || !strings.Contains(err.Error(), "more than the 4194304 bytes (4 MiB) clawgate reads") {
		t.Fatalf("Extract of %d bytes: %v", len(reply), err)
	}
	// At the limit it is read.
	reply = `{"a":"` + strings.Repeat("x", MaxReplyBytes-8) + `"}`
	if v, err := Extract(reply); err != nil || len(v) != len(reply) {
		t.Fatalf("Extract of %d bytes: %d bytes, %v", len(reply), len(v), err)
	}
}

// naiveClose is where the bracket at p closes, by a scan of its own from
// p (-1: never): the definition the memoised scan must agree with.
func naiveClose(text string, p int) int {
	stack := []byte{text[p]}
	inString, escaped := false, false
	for i := p + 1; i < len(text); i++ {
		c := text[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			stack = append(stack, c)
		case '}', ']':
			if stack[len(stack)-1] != opener(c) {
				return -1
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i
			}
		}
	}
	return -1
}

// scanAll runs the bracket scan from every opening bracket, in the given
// order, and returns the finder.
func scanAll(text string, order []int) *finder {
	f := newFinder(text)
	f.initMemo()
	for _, p := range order {
		if (text[p] == '{' || text[p] == '[') && f.memo[p] == 0 {
			f.run(p)
		}
	}
	return f
}

// checkAgainstNaive compares the memoised outcome of every opening bracket
// with naiveClose.
func checkAgainstNaive(t testing.TB, text string, f *finder) {
	t.Helper()
	for p := range len(text) {
		if text[p] != '{' && text[p] != '[' {
			continue
		}
		got := int(f.memo[p])
		if got > 0 {
			got--
		}
		if want := naiveClose(text, p); got != want {
			t.Fatalf("%q: the bracket at %d closes at %d, the memoised scan says %d", text, p, want, got)
		}
	}
}

// TestScanMatchesNaive: the memoised scan (strings jumped over, spans and
// resume points reused between scans) finds for every bracket the same
// closing bracket as a scan of its own, whatever order the scans run in;
// and it takes at most 3 steps a byte (each byte is walked once; a jump to
// a closing bracket already seen pops a bracket the scan pushed, or ends
// the scan).
func TestScanMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	alphabets := []string{`{}[]"\a`, `{"\`, `{}"`, `[]{}`, `{}[]""\\\a :,1`}
	for trial := range 20000 {
		alpha := alphabets[trial%len(alphabets)]
		n := 1 + rng.Intn(64)
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.Intn(len(alpha))]
		}
		text := string(b)
		f := scanAll(text, rng.Perm(n))
		checkAgainstNaive(t, text, f)
		if f.steps > 3*n {
			t.Fatalf("%q: %d steps for %d bytes", text, f.steps, n)
		}
	}
}

// adversarial are reply shapes that make a scan from every bracket walk
// far, for the linearity tests.
var adversarial = map[string]func(n int) string{
	"open braces":            func(n int) string { return strings.Repeat("{", n) },
	"open brackets":          func(n int) string { return strings.Repeat("[", n) },
	"brace quote":            func(n int) string { return strings.Repeat(`{"`, n) },
	"quote brace":            func(n int) string { return strings.Repeat(`"{`, n) },
	"brace escaped quote":    func(n int) string { return strings.Repeat(`{\"`, n) },
	"keys without values":    func(n int) string { return strings.Repeat(`{"a":`, n) },
	"mismatched":             func(n int) string { return strings.Repeat(`{]`, n) },
	"array of open objects":  func(n int) string { return strings.Repeat(`[{`, n) },
	"empty objects as keys":  func(n int) string { return strings.Repeat(`{"a":{}`, n) },
	"escapes in arrays":      func(n int) string { return strings.Repeat(`["\{`, n) },
	"scans that meet":        func(n int) string { return `{"` + strings.Repeat(`{\"`, n) + `"` + strings.Repeat("a", n) },
	"broken spans":           func(n int) string { return strings.Repeat(`{"a" x} `, n) },
	"broken code blocks":     func(n int) string { return strings.Repeat("```json\n{\"a\" x}\n```\n", n) },
	"footnotes":              func(n int) string { return strings.Repeat("[1] ", n) },
	"prose quotes and JSON":  func(n int) string { return strings.Repeat(`say "{" then {"k": "v"} `, n) },
	"deep valid then broken": func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) + "x]" },
}

// TestScanLinear: on every adversarial shape, the bracket scan walks at
// most about one byte per byte of the reply and the JSON decoder sees at
// most a few times the reply, counted rather than timed, and the counts
// for 4N are at most 4.5 times those for N (quadratic work gives 16).
func TestScanLinear(t *testing.T) {
	for name, shape := range adversarial {
		t.Run(name, func(t *testing.T) {
			count := func(n int) (steps, decoded, size int) {
				in := shape(n)
				f := newFinder(in)
				f.each(func(candidate) bool { return true })
				return f.steps, f.jsonBytes, len(in)
			}
			s1, d1, n1 := count(2000)
			s4, d4, n4 := count(8000)
			t.Logf("%d bytes: %d steps, %d decoded; %d bytes: %d steps, %d decoded", n1, s1, d1, n4, s4, d4)
			if s4 > 2*n4 || d4 > 6*n4 {
				t.Errorf("%d bytes: %d steps, %d bytes decoded: more than linear", n4, s4, d4)
			}
			if 2*s4 > 9*s1+64 || 2*d4 > 9*d1+64 {
				t.Errorf("4 times the input: %d → %d steps, %d → %d bytes decoded", s1, s4, d1, d4)
			}
		})
	}
}

// TestCheckHugeAdversarialReply runs Check on 4 MiB of adversarial replies:
// it returns (the step counts above bound its work) with the problem a
// model can act on.
func TestCheckHugeAdversarialReply(t *testing.T) {
	if testing.Short() {
		t.Skip("4 MiB replies")
	}
	s := mustCompile(t, `{"type":"object"}`)
	for _, name := range []string{"open braces", "brace escaped quote", "scans that meet"} {
		in := adversarial[name](MaxReplyBytes / 4)
		if len(in) > MaxReplyBytes {
			in = in[:MaxReplyBytes]
		}
		f := newFinder(in)
		f.each(func(candidate) bool { return true })
		if f.steps > 2*len(in) {
			t.Errorf("%s: %d steps for %d bytes", name, f.steps, len(in))
		}
		v, problems := s.Check(in)
		if v != nil || len(problems) != 1 {
			t.Errorf("%s: Check = %s, %q", name, v, problems)
		}
	}
}

func TestCodeBlocks(t *testing.T) {
	text := "a\n```json\nX\n```\nb ```\nY\n```\n~~~~ js extra\nZ\n~~~\n~~~~\n```inline```\n"
	var got []string
	for _, b := range codeBlocks(text) {
		got = append(got, b.label+"="+text[b.start:b.end]+"/"+map[bool]string{true: "json", false: "other"}[b.jsonish])
	}
	want := []string{"json=X\n/json", "=Y\n/json", "js=Z\n~~~\n/json"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("codeBlocks = %q, want %q", got, want)
	}
}

// TestExtractValueIsFromTheReply: Extract's value is a substring of the
// reply, and valid JSON.
func TestExtractValueIsFromTheReply(t *testing.T) {
	for _, reply := range []string{"x {\"a\":1} y", "```\n[1]\n```", `"s"`} {
		v, err := Extract(reply)
		if err != nil || !json.Valid(v) || !strings.Contains(reply, string(v)) {
			t.Errorf("Extract(%q) = %s, %v", reply, v, err)
		}
	}
}
