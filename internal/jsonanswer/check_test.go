package jsonanswer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustCompile(t testing.TB, schema string) *Schema {
	t.Helper()
	s, err := Compile(json.RawMessage(schema))
	if err != nil {
		t.Fatalf("Compile(%s): %v", schema, err)
	}
	return s
}

// product is the schema of most Check tests.
const product = `{
	"type": "object",
	"properties": {
		"name": {"type": "string", "minLength": 2},
		"price": {"type": "number", "minimum": 0},
		"tags": {"type": "array", "items": {"enum": ["new", "sale"]}, "uniqueItems": true},
		"note": {"type": ["string", "null"]},
		"items": {"type": "array", "items": {"$ref": "#/$defs/item"}, "maxItems": 3}
	},
	"required": ["name", "price"],
	"additionalProperties": false,
	"$defs": {
		"item": {
			"type": "object",
			"properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"}, "qty": {"type": "integer", "exclusiveMinimum": 0}},
			"required": ["sku"]
		}
	}
}`

func TestCheck(t *testing.T) {
	s := mustCompile(t, product)
	for _, tc := range []struct {
		name, reply string
		want        string   // the compact value when valid
		problems    []string // else the problems, exactly
	}{
		{name: "valid", reply: `{"name": "Tea", "price": 2.5}`, want: `{"name":"Tea","price":2.5}`},
		{name: "valid in a json fence with prose", reply: "Here you go:\n```json\n{\n  \"name\": \"Tea\",\n  \"price\": 2\n}\n```\nAnything else?", want: `{"name":"Tea","price":2}`},
		{name: "valid in a bare fence", reply: "```\n{\"name\": \"Tea\", \"price\": 0}\n```", want: `{"name":"Tea","price":0}`},
		{name: "numbers kept as written", reply: `{"name":"Tea","price":1e2,"items":[{"sku":"ABC-1","qty":3.0}]}`, want: `{"name":"Tea","price":1e2,"items":[{"sku":"ABC-1","qty":3.0}]}`},
		{name: "local $ref", reply: `{"name":"Tea","price":1,"items":[{"sku":"ABC-12","qty":1}]}`, want: `{"name":"Tea","price":1,"items":[{"sku":"ABC-12","qty":1}]}`},
		{name: "first candidate invalid, second valid", reply: `Draft: {"name": "T", "price": -1}. Final: {"name": "Tea", "price": 1}`, want: `{"name":"Tea","price":1}`},
		{name: "invalid fence, valid prose object", reply: "```json\n{\"name\": 1}\n```\nSorry, I meant {\"name\": \"Tea\", \"price\": 3}", want: `{"name":"Tea","price":3}`},

		{name: "no JSON", reply: "The price of tea is 2.50.", problems: []string{"the answer has no JSON value"}},
		{name: "broken JSON", reply: `{"name": "Tea", "price": 2,}`, problems: []string{
			"the answer is not valid JSON (invalid character '}' looking for beginning of object key string, at line 1, column 28)"}},
		{name: "wrong type at the top level", reply: `["Tea", 2]`, problems: []string{"at the top level: expected object, got array"}},
		{name: "string instead of object", reply: `"Tea costs 2"`, problems: []string{`at the top level: expected object, got string "Tea costs 2"`}},
		{name: "missing required", reply: `{"name": "Tea"}`, problems: []string{`at the top level: missing required property "price"`}},
		{name: "wrong type of a property", reply: `{"name": "Tea", "price": "2.50"}`, problems: []string{`at /price: expected number, got string "2.50"`}},
		{name: "error path into items", reply: `{"name": "Tea", "price": 1, "items": [{"sku": "ABC-1"}, {"sku": "abc", "qty": 0}]}`, problems: []string{
			`at /items/1/qty: expected a number > 0, got 0`,
			`at /items/1/sku: expected a string matching the regular expression ^[A-Z]{3}-[0-9]+$, got "abc"`,
		}},
		{name: "many problems sorted by location", reply: `{"name": "T", "price": -1, "tags": ["new", "old", "new"], "note": 3, "colour": "red", "items": [{}, {}, {}, {}]}`, problems: []string{
			`at the top level: property "colour" is not allowed (allowed: "items", "name", "note", "price" and "tags")`,
			`at /items: expected at most 3 items, got 4`,
			`at /items/0: missing required property "sku"`,
			`at /items/1: missing required property "sku"`,
			`at /items/2: missing required property "sku"`,
			`at /items/3: missing required property "sku"`,
			`at /name: expected a string of at least 2 characters, got 1`,
			`at /note: expected null or string, got number 3`,
			`at /price: expected a number >= 0, got -1`,
			`and 2 more problems`,
		}},
		{name: "integer", reply: `{"name": "Tea", "price": 1, "items": [{"sku": "ABC-1", "qty": 1.5}]}`, problems: []string{`at /items/0/qty: expected integer, got number 1.5`}},
		{name: "duplicate keys", reply: `{"name": "Tea", "price": 1, "price": 2}`, problems: []string{`at the top level: property "price" appears more than once; give each property once`}},
		{name: "none valid: the one of the right type is reported", reply: `See [1] and [2]: {"name": "Tea"}`, problems: []string{`at the top level: missing required property "price"`}},
		{name: "none valid and a broken block", reply: "```json\n{\"name\": \"Tea\", price: 1}\n```\nor {\"name\": 5, \"price\": 1}", problems: []string{
			`at /name: expected string, got number 5`,
			"the ```json code block is not valid JSON (invalid character 'p' looking for beginning of object key string, at line 1, column 17)",
		}},
		{name: "enum", reply: `{"name": "Tea", "price": 1, "tags": ["old"]}`, problems: []string{`at /tags/0: expected one of "new" or "sale", got "old"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, problems := s.Check(tc.reply)
			if tc.problems == nil {
				if problems != nil || string(v) != tc.want {
					t.Fatalf("Check(%q) = %s, %q; want %s", tc.reply, v, problems, tc.want)
				}
				return
			}
			if v != nil {
				t.Fatalf("Check(%q) = %s, want problems", tc.reply, v)
			}
			if strings.Join(problems, "\n") != strings.Join(tc.problems, "\n") {
				t.Errorf("Check(%q) problems:\n%s\nwant:\n%s", tc.reply, strings.Join(problems, "\n"), strings.Join(tc.problems, "\n"))
			}
		})
	}
}

func TestCheckScalars(t *testing.T) {
	for _, tc := range []struct {
		schema, reply, want string
		problems            []string
	}{
		{schema: `{"type": "integer"}`, reply: "42", want: "42"},
		{schema: `{"type": "integer"}`, reply: "```json\n42\n```", want: "42"},
		{schema: `{"type": "integer"}`, reply: "42.5", problems: []string{"at the top level: expected integer, got number 42.5"}},
		{schema: `{"type": "integer"}`, reply: "The answer is 42.", problems: []string{"the answer has no JSON value"}},
		{schema: `{"type": "string", "maxLength": 5}`, reply: `"hello"`, want: `"hello"`},
		{schema: `{"type": "string", "maxLength": 5}`, reply: `"hello world"`, problems: []string{"at the top level: expected a string of at most 5 characters, got 11"}},
		{schema: `{"type": "boolean"}`, reply: " true ", want: "true"},
		{schema: `{"enum": ["yes", "no"]}`, reply: `"maybe"`, problems: []string{`at the top level: expected one of "yes" or "no", got "maybe"`}},
		{schema: `{"type": "null"}`, reply: "null", want: "null"},
		{schema: `{"const": 7}`, reply: "8", problems: []string{"at the top level: expected 7, got 8"}},
	} {
		s := mustCompile(t, tc.schema)
		v, problems := s.Check(tc.reply)
		if string(v) != tc.want || strings.Join(problems, "\n") != strings.Join(tc.problems, "\n") {
			t.Errorf("%s: Check(%q) = %s, %q; want %s, %q", tc.schema, tc.reply, v, problems, tc.want, tc.problems)
		}
	}
}

// TestCheckKeywords covers the other keywords' problems.
func TestCheckKeywords(t *testing.T) {
	for _, tc := range []struct {
		schema, reply, problem string
	}{
		{`{"type":"array","minItems":2}`, `[1]`, "at the top level: expected at least 2 items, got 1"},
		{`{"type":"array","uniqueItems":true}`, `[1,2,1]`, "at the top level: items 0 and 2 are equal; the items must be unique"},
		{`{"type":"array","contains":{"type":"string"}}`, `[1]`, `at the top level: no item matches the "contains" schema; at least one must`},
		{`{"type":"array","contains":{"type":"string"},"minContains":2}`, `["a",1]`, `at the top level: expected at least 2 items matching the "contains" schema, got 1`},
		{`{"type":"object","minProperties":1}`, `{}`, "at the top level: expected at least 1 property, got 0"},
		{`{"type":"object","maxProperties":1}`, `{"a":1,"b":2}`, "at the top level: expected at most 1 property, got 2"},
		{`{"type":"object","dependentRequired":{"a":["b"]}}`, `{"a":1}`, `at the top level: property "a" requires "b", which is missing`},
		{`{"type":"object","propertyNames":{"pattern":"^[a-z]+$"}}`, `{"Bad":1}`, `at the top level: the property name "Bad" is not allowed (expected a string matching the regular expression ^[a-z]+$, got "Bad")`},
		{`{"type":"object","properties":{"a":true},"unevaluatedProperties":false}`, `{"a":1,"b":2}`, "at /b: this property is not allowed"},
		{`{"not":{"type":"string"}}`, `"x"`, `at the top level: the value matches the "not" schema, which it must not`},
		{`{"oneOf":[{"type":"number"},{"type":"integer"}]}`, `1`, `at the top level: the value matches more than one of the "oneOf" alternatives (0 and 1); it must match exactly one`},
		{`{"anyOf":[{"type":"string"},{"type":"object","required":["a"]}]}`, `{}`, `at the top level: missing required property "a"`},
		{`{"type":"number","multipleOf":5}`, `7`, "at the top level: expected a multiple of 5, got 7"},
		{`{"type":"number","maximum":1.5}`, `2`, "at the top level: expected a number <= 1.5, got 2"},
		{`{"type":"number","exclusiveMaximum":10}`, `10`, "at the top level: expected a number < 10, got 10"},
		{`{"type":"string","format":"date"}`, `"2024-13-45"`, `at the top level: expected a valid date (JSON Schema format), got "2024-13-45"`},
		{`{"type":"string","format":"email"}`, `"not an email"`, `at the top level: expected a valid email (JSON Schema format), got "not an email"`},
		{`{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","minimum":0,"exclusiveMinimum":true}`, `0`, "at the top level: expected a number > 0, got 0"},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","type":"array","items":[{"type":"string"}],"additionalItems":false}`, `["a",1]`, "at the top level: 1 item too many"},
		{`{"properties":{"a/b~c":{"type":"string"}}}`, `{"a/b~c":1}`, "at /a~1b~0c: expected string, got number 1"},
	} {
		s := mustCompile(t, tc.schema)
		v, problems := s.Check(tc.reply)
		if v != nil || len(problems) != 1 || problems[0] != tc.problem {
			t.Errorf("%s: Check(%s) = %s, %q\nwant %q", tc.schema, tc.reply, v, problems, tc.problem)
		}
	}
}

// TestCheckProblemsBounded: a reply with huge keys and values, or very
// many problems, gives at most MaxProblems problems, each at most
// MaxProblemRunes long, with control characters escaped.
func TestCheckProblemsBounded(t *testing.T) {
	s := mustCompile(t, `{"type":"object","additionalProperties":{"type":"number"},"propertyNames":{"maxLength":10}}`)
	var b strings.Builder
	b.WriteString("{")
	for i := range 200 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"%s\u001b[31m\n%d": "%s"`, strings.Repeat("k", 5000), i, strings.Repeat("v", 5000))
	}
	b.WriteString("}")
	v, problems := s.Check(b.String())
	if v != nil || len(problems) != MaxProblems {
		t.Fatalf("Check = %s, %d problems", v, len(problems))
	}
	if last := problems[len(problems)-1]; !strings.HasPrefix(last, "and ") || !strings.HasSuffix(last, " more problems") {
		t.Errorf("last problem %q", last)
	}
	for _, p := range problems {
		if utf8.RuneCountInString(p) > MaxProblemRunes {
			t.Errorf("problem of %d runes: %q", utf8.RuneCountInString(p), p)
		}
		if strings.ContainsAny(p, "\x1b\n") {
			t.Errorf("problem with a control character: %q", p)
		}
	}
}

func TestCheckTooLarge(t *testing.T) {
	s := mustCompile(t, `{}`)
	v, problems := s.Check(strings.Repeat(" ", MaxReplyBytes+1))
	if v != nil || len(problems) != 1 || !strings.HasPrefix(problems[0], "the answer is 4194305 bytes, more than") {
		t.Errorf("Check = %s, %q", v, problems)
	}
}

// TestCheckCandidateBound: Check validates at most maxCandidates values.
func TestCheckCandidateBound(t *testing.T) {
	s := mustCompile(t, `{"type":"object","required":["ok"]}`)
	reply := strings.Repeat(`{"no": 1} `, maxCandidates) + `{"ok": 1}`
	if v, problems := s.Check(reply); v != nil {
		t.Errorf("Check of %d candidates = %s, %q; want the last one not reached", maxCandidates+1, v, problems)
	}
	reply = strings.Repeat(`{"no": 1} `, maxCandidates-1) + `{"ok": 1}`
	if v, problems := s.Check(reply); string(v) != `{"ok":1}` {
		t.Errorf("Check of %d candidates = %s, %q", maxCandidates, v, problems)
	}
}

// TestConcurrentCheck: a Schema is used from many goroutines (run with
// -race).
func TestConcurrentCheck(t *testing.T) {
	s := mustCompile(t, product)
	done := make(chan bool)
	for i := range 8 {
		go func() {
			v, _ := s.Check(fmt.Sprintf(`{"name": "Tea", "price": %d}`, i))
			done <- v != nil
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("a concurrent Check failed")
		}
	}
}

// TestItemsAfterPrefixItems: an item after those of "prefixItems" is named
// by its index in the array. jsonschema v6.0.2 counts it from the end of
// prefixItems instead (upstream issue 252, fixed in v6.0.3): skipped while
// go.mod requires a version with that bug.
func TestItemsAfterPrefixItems(t *testing.T) {
	s := mustCompile(t, `{"type":"array","prefixItems":[{"type":"string"}, {"type":"string"}],"items":{"type":"integer"}}`)
	_, problems := s.Check(`["a","b",1,"x"]`)
	if len(problems) == 1 && strings.HasPrefix(problems[0], "at /1: ") {
		t.Skip("jsonschema reports the item at index 3 as /1: fixed in github.com/santhosh-tekuri/jsonschema/v6 v6.0.3")
	}
	if want := `at /3: expected integer, got string "x"`; len(problems) != 1 || problems[0] != want {
		t.Errorf("Check = %q, want %q", problems, want)
	}
	s = mustCompile(t, `{"type":"array","prefixItems":[{"type":"string"}],"items":false}`)
	if _, problems := s.Check(`["a",1]`); len(problems) != 1 || problems[0] != "at /1: no item is allowed at this position" {
		t.Errorf("Check = %q", problems)
	}
}
