package tools

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The keywords our generated schemas do not use today (nested objects,
// arrays, enum, const, pattern, exclusive bounds, maxLength, ...) still
// give sentences, with paths into nested values.
func TestValidationOfOtherKeywords(t *testing.T) {
	v, err := newArgValidator("demo", json.RawMessage(`{
		"type": "object",
		"additionalProperties": false,
		"required": ["mode"],
		"properties": {
			"mode": {"type": "string", "enum": ["fast", "slow"]},
			"level": {"enum": [1, 2, 3]},
			"kind": {"const": "x"},
			"ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
			"step": {"type": "number", "multipleOf": 0.5},
			"code": {"type": "string", "pattern": "^[A-Z]{3}$", "maxLength": 3},
			"name": {"type": "string", "minLength": 2, "maxLength": 4},
			"tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 2, "uniqueItems": true},
			"counts": {"type": "array", "items": {"type": "integer", "minimum": 0}},
			"filter": {
				"type": "object",
				"additionalProperties": false,
				"required": ["field"],
				"properties": {
					"field": {"type": "string"},
					"limit": {"type": "integer", "maximum": 10},
					"value": {"oneOf": [{"type": "string", "minLength": 1}, {"type": "null"}]}
				}
			},
			"flag": {"type": "boolean"},
			"never": false
		}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ args, want string }{
		{`{"mode": "medium"}`, `mode must be one of "fast" or "slow" (got the string "medium")`},
		{`{"mode": 1}`, `mode must be one of "fast" or "slow" (got 1)`},
		{`{"mode": "fast", "level": 4}`, `level must be one of 1, 2 or 3 (got 4)`},
		{`{"mode": "fast", "kind": "y"}`, `kind must be "x" (got the string "y")`},
		{`{"mode": "fast", "ratio": 0}`, `ratio must be a number > 0 (got 0)`},
		{`{"mode": "fast", "ratio": 1}`, `ratio must be a number < 1 (got 1)`},
		{`{"mode": "fast", "ratio": "half"}`, `ratio must be a number > 0 and < 1 (got the string "half")`},
		{`{"mode": "fast", "step": 0.7}`, `step must be a multiple of 0.5 (got 0.7)`},
		{`{"mode": "fast", "code": "abc"}`, `code must match the pattern ^[A-Z]{3}$ (got the string "abc")`},
		{`{"mode": "fast", "code": "ABCD"}`, `code must be at most 3 characters long (got 4); code must match the pattern ^[A-Z]{3}$ (got the string "ABCD")`},
		{`{"mode": "fast", "name": "a"}`, `name must be at least 2 characters long (got 1)`},
		{`{"mode": "fast", "name": 5}`, `name must be a string of 2 to 4 characters (got 5)`},
		{`{"mode": "fast", "tags": []}`, `tags must have at least 1 items (got 0)`},
		{`{"mode": "fast", "tags": ["a", "b", "c"]}`, `tags must have at most 2 items (got 3)`},
		{`{"mode": "fast", "tags": ["a", "a"]}`, `tags must not repeat items (items 0 and 1 are equal)`},
		{`{"mode": "fast", "tags": ["a", ""]}`, `tags[1] must be a non-empty string (got an empty string)`},
		{`{"mode": "fast", "tags": [5]}`, `tags[0] must be a non-empty string (got 5)`},
		{`{"mode": "fast", "counts": [1, -1, 2.5, 1e300]}`,
			`counts[1] must be an integer ≥ 0 (got -1); counts[2] must be an integer ≥ 0 (got 2.5); counts[3] must be an integer ≤ 9223372036854775807 (got 1e300)`},
		{`{"mode": "fast", "filter": {}}`, `filter is missing the required field "field"`},
		{`{"mode": "fast", "filter": {"field": "a", "limit": 11}}`, `filter.limit must be an integer ≤ 10 (got 11)`},
		{`{"mode": "fast", "filter": {"field": "a", "lmit": 1}}`, `filter has an unknown field "lmit" (did you mean "limit"?)`},
		{`{"mode": "fast", "filter": {"field": "a", "value": 3}}`, `filter.value must be a non-empty string or null (got 3)`},
		{`{"mode": "fast", "filter": {"field": "a", "value": ""}}`, `filter.value must be a non-empty string (got an empty string)`},
		{`{"mode": "fast", "filter": "field=a"}`, `filter must be an object (got the string "field=a")`},
		{`{"mode": "fast", "flag": "yes"}`, `flag must be true or false (got the string "yes")`},
		{`{"mode": "fast", "never": 1}`, `never is not allowed`},
		{`{"filter": {"limit": "x"}, "tags": [""], "mode": "slow", "zz": 1}`,
			`tags[0] must be a non-empty string (got an empty string); filter is missing the required field "field"; filter.limit must be an integer ≤ 10 (got the string "x"); ` +
				`unknown argument "zz" (demo takes mode, and optionally level, kind, ratio, step, code, name, tags, counts, filter, flag and never)`},
		{`{}`, `missing required argument "mode"`},
	} {
		_, _, problems := v.check(json.RawMessage(tc.args))
		if got := strings.Join(problems, "; "); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}

	// Valid nested integers are rewritten in plain notation.
	args, canon, problems := v.check(json.RawMessage(`{"mode": "fast", "counts": [1e2, 3.0], "filter": {"field": "a", "limit": 1e1}}`))
	if len(problems) != 0 || string(canon) != `{"counts":[100,3],"filter":{"field":"a","limit":10},"mode":"fast"}` || args["mode"] != "fast" {
		t.Fatalf("%v %s %v", problems, canon, args)
	}
}

// The safety net for arguments that pass the schema but do not bind (which
// the generated schemas should make impossible) is a sentence too.
func TestBindError(t *testing.T) {
	var in struct {
		N int8 `json:"n"`
	}
	err := json.Unmarshal([]byte(`{"n": 300}`), &in)
	if got, want := bindError("demo", err), "Invalid arguments for demo: n has a value clawgate cannot use (got number 300)."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := bindError("demo", errors.New("boom")), "Invalid arguments for demo: the arguments could not be read: boom."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Every tool's served input schema compiles and the validator knows its
// properties in schema order.
func TestValidatorsForEveryTool(t *testing.T) {
	for _, d := range registry {
		tool, err := d.mcpTool()
		if err != nil {
			t.Fatal(err)
		}
		v, err := newArgValidator(d.name, tool.RawInputSchema)
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		var s struct {
			Properties map[string]any
		}
		if err := json.Unmarshal(tool.RawInputSchema, &s); err != nil {
			t.Fatal(err)
		}
		if len(v.root.order) != len(s.Properties) {
			t.Errorf("%s: properties %v, schema has %d", d.name, v.root.order, len(s.Properties))
		}
	}
}
