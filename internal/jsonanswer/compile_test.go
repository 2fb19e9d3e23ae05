package jsonanswer

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		err          string // the whole error
	}{
		{"empty", ``, `output_schema is empty; pass a JSON Schema object, for example {"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`},
		{"null", ` null `, `output_schema is empty; pass a JSON Schema object, for example {"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`},
		{"not JSON", `{"type": "object",}`, `output_schema is not valid JSON (invalid character '}' looking for beginning of object key string, at line 1, column 19); pass a JSON Schema object`},
		{"truncated", `{"type": "object"`, `output_schema is not valid JSON (unexpected end of JSON input); pass a JSON Schema object`},
		{"two values", `{} {}`, `output_schema is not valid JSON (invalid character '{' after top-level value, at line 1, column 4); pass a JSON Schema object`},
		{"boolean schema", `true`, `output_schema must be a JSON object (a JSON Schema), not a boolean; pass for example {"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`},
		{"array", `[{"type":"string"}]`, `output_schema must be a JSON object (a JSON Schema), not an array; pass for example {"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`},
		{"schema in a string", `"{\"type\":\"object\"}"`, `output_schema must be a JSON object (a JSON Schema), not a string; pass the schema object itself, not a string that contains it`},
		{"unknown type", `{"type": "integr"}`, `output_schema is not a valid JSON Schema: at /type: expected one of "array", "boolean", "integer", "null", "number", "object" or "string", got "integr". Correct the schema (JSON Schema draft 2020-12 unless "$schema" names another draft) and call again`},
		{"unknown type in a list, nested", `{"properties": {"a": {"type": ["string", 3]}}}`, `output_schema is not a valid JSON Schema: at /properties/a/type/1: expected one of "array", "boolean", "integer", "null", "number", "object" or "string", got 3. Correct the schema (JSON Schema draft 2020-12 unless "$schema" names another draft) and call again`},
		{"required not a list", `{"required": "a"}`, `output_schema is not a valid JSON Schema: at /required: expected array, got string "a". Correct the schema (JSON Schema draft 2020-12 unless "$schema" names another draft) and call again`},
		{"negative minLength", `{"minLength": -1}`, `output_schema is not a valid JSON Schema: at /minLength: expected a number >= 0, got -1. Correct the schema (JSON Schema draft 2020-12 unless "$schema" names another draft) and call again`},
		{"lookahead", `{"pattern": "(?=a)"}`, "output_schema is not a valid JSON Schema: at /pattern: expected a regular expression in RE2 syntax (no lookaround, no backreferences), got \"(?=a)\": error parsing regexp: invalid or unsupported Perl syntax: `(?=`. Correct the schema (JSON Schema draft 2020-12 unless \"$schema\" names another draft) and call again"},
		{"draft-07 tuple items in 2020-12", `{"items": [{"type": "string"}]}`, `output_schema is not a valid JSON Schema: at /items: expected boolean or object, got array. Correct the schema (JSON Schema draft 2020-12 unless "$schema" names another draft) and call again`},
		{"draft-04 boolean exclusiveMinimum in 2020-12", `{"exclusiveMinimum": true}`, `output_schema is not a valid JSON Schema: at /exclusiveMinimum: expected number, got boolean true. Correct the schema (JSON Schema draft 2020-12 unless "$schema" names another draft) and call again`},
		{"https $ref", `{"properties": {"a": {"$ref": "https://example.com/item.json"}}}`, `output_schema has a reference to "https://example.com/item.json" at /properties/a/$ref that points outside the schema; clawgate loads nothing from the network or from files, so only references inside the schema are allowed (like "#/$defs/item"): copy the referenced schema into "$defs" and refer to it there`},
		{"relative $ref", `{"items": {"$ref": "item.json#/x"}}`, `output_schema has a reference to "item.json#/x" at /items/$ref that points outside the schema; clawgate loads nothing from the network or from files, so only references inside the schema are allowed (like "#/$defs/item"): copy the referenced schema into "$defs" and refer to it there`},
		{"file $ref", `{"$ref": "file:///etc/passwd"}`, `output_schema has a reference to "file:///etc/passwd" at /$ref that points outside the schema; clawgate loads nothing from the network or from files, so only references inside the schema are allowed (like "#/$defs/item"): copy the referenced schema into "$defs" and refer to it there`},
		{"remote $dynamicRef", `{"$dynamicRef": "https://example.com/meta#meta"}`, `output_schema has a reference to "https://example.com/meta#meta" at /$dynamicRef that points outside the schema; clawgate loads nothing from the network or from files, so only references inside the schema are allowed (like "#/$defs/item"): copy the referenced schema into "$defs" and refer to it there`},
		{"$ref to nothing", `{"properties": {"a": {"$ref": "#/$defs/nope"}}, "$defs": {}}`, `output_schema has a reference to "#/$defs/nope" at /properties/a/$ref, which points to nothing in the schema; add what it names (for example under "$defs") or correct the reference`},
		{"$ref to a missing anchor", `{"items": {"$ref": "#item"}}`, `output_schema has a reference to "#item" at /items/$ref, which points to nothing in the schema; add what it names (for example under "$defs") or correct the reference`},
		{"unknown $schema", `{"$schema": "https://example.com/my-meta", "type": "object"}`, `output_schema has "$schema": "https://example.com/my-meta", which is not a JSON Schema draft clawgate knows; leave "$schema" out (draft 2020-12 is used) or name draft 2020-12, 2019-09, 7, 6 or 4`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(json.RawMessage(tc.schema))
			if err == nil {
				t.Fatalf("Compile(%s) = %v, want an error", tc.schema, s)
			}
			if err.Error() != tc.err {
				t.Errorf("Compile(%s):\n got  %s\n want %s", tc.schema, err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), "output_schema ") || strings.Contains(err.Error(), "mem:") {
				t.Errorf("Compile(%s): %q does not start with output_schema or names the internal location", tc.schema, err)
			}
		})
	}
}

func TestCompileTooLarge(t *testing.T) {
	pad := strings.Repeat("x", MaxSchemaBytes)
	_, err := Compile(json.RawMessage(`{"description": "` + pad + `"}`))
	want := `output_schema is 65555 bytes, more than the limit of 65536 bytes (64 KiB); make it smaller, for example by moving repeated parts into "$defs"`
	if err == nil || err.Error() != want {
		t.Errorf("Compile of 64 KiB + 19 bytes: %v", err)
	}
	if _, err := Compile(json.RawMessage(`{"description": "` + pad[:MaxSchemaBytes-19] + `"}`)); err != nil {
		t.Errorf("Compile of exactly 64 KiB: %v", err)
	}
}

func TestCompileValid(t *testing.T) {
	for _, schema := range []string{
		`{}`,
		`{"type": "object"}`,
		product,
		// $defs and $ref into them, recursively.
		`{"$defs": {"node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}, "$ref": "#/$defs/node"}`,
		// An anchor.
		`{"$defs": {"item": {"$anchor": "item", "type": "string"}}, "items": {"$ref": "#item"}}`,
		// An absolute $id: references resolve inside the schema.
		`{"$id": "https://example.com/s", "properties": {"a": {"$ref": "https://example.com/s#/$defs/x"}}, "$defs": {"x": {"type": "string"}}}`,
		// An embedded resource with its own $id, referred to relatively.
		`{"$id": "https://example.com/root.json", "items": {"$ref": "item.json"}, "$defs": {"item": {"$id": "item.json", "type": "string"}}}`,
		// Older drafts, and the 2020-12 meta-schema named explicitly (embedded in the library: not loaded).
		`{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"a": {"type": "string"}}, "items": [{"$ref": "#/definitions/a"}]}`,
		`{"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "exclusiveMinimum": true, "minimum": 0}`,
		`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string"}`,
		`{"$schema": "https://json-schema.org/draft/2019-09/schema", "type": "string"}`,
		// "$ref" as data, and as a property name, is not a reference.
		`{"const": {"$ref": "https://example.com/x"}, "properties": {"$ref": {"type": "string"}}}`,
	} {
		if _, err := Compile(json.RawMessage(schema)); err != nil {
			t.Errorf("Compile(%s): %v", schema, err)
		}
	}
	// The recursive schema validates recursively.
	s := mustCompile(t, `{"$defs": {"node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}, "$ref": "#/$defs/node"}`)
	if _, problems := s.Check(`{"children": [{"children": [{"children": 3}]}]}`); len(problems) != 1 || problems[0] != "at /children/0/children/0/children: expected array, got number 3" {
		t.Errorf("recursive schema: %q", problems)
	}
}

// TestCompileLoadsNothing: a $ref to a schema that exists on disk or on a
// (loopback) HTTP server is refused without reading it.
func TestCompileLoadsNothing(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/schema+json")
		_, _ = w.Write([]byte(`{"type": "string"}`))
	}))
	defer srv.Close()
	abs, err := filepath.Abs(filepath.Join("testdata", "item.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{
		srv.URL + "/item.json",
		srv.URL + "/item.json#/properties/sku",
		"file://" + filepath.ToSlash(abs),
	} {
		for _, schema := range []string{
			`{"type": "array", "items": {"$ref": "` + ref + `"}}`,
			`{"$schema": "` + ref + `"}`,
		} {
			_, err := Compile(json.RawMessage(schema))
			if err == nil || !strings.HasPrefix(err.Error(), "output_schema has ") {
				t.Errorf("Compile(%s): %v", schema, err)
			}
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the HTTP server got %d requests", n)
	}
}

func TestInstructionCompactsTheSchema(t *testing.T) {
	s := mustCompile(t, "{\n  \"type\": \"object\",\n  \"properties\": {\"b\": {\"type\": \"string\", \"description\": \"a  b\"}, \"a\": {}}\n}\n")
	if want := `{"type":"object","properties":{"b":{"type":"string","description":"a  b"},"a":{}}}`; !strings.Contains(s.Instruction(), "\n"+want+"\n") {
		t.Errorf("Instruction() = %q, want the schema as %s", s.Instruction(), want)
	}
}
