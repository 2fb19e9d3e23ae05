package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/clawgate/clawgate/internal/jsonanswer"
	"github.com/clawgate/clawgate/internal/prose"
	"github.com/clawgate/clawgate/internal/suggest"
)

// Tool arguments are checked against the tool's input schema (the schema
// the server serves, compiled with santhosh-tekuri/jsonschema) before the
// handler runs. The validator's error tree is translated into sentences a
// model can act on: which argument, what was wrong, what is expected, e.g.
//
//	Invalid arguments for list_sessions: limit must be an integer ≥ 1 (got -1).
//
// All problems are reported at once (up to maxProblems), in a stable order:
// a wrong type of the arguments as a whole, then missing required arguments
// (in the order of the schema's required list), then wrong values (in the
// order the schema lists the properties; nested values by path, as
// "filter.limit" or "tags[2]"), then unknown arguments (those with a close
// match, each with its suggestion, then the others in one sentence that
// lists the tool's arguments). No arguments, and null, are no arguments.

// argValidator checks the arguments of one tool.
type argValidator struct {
	tool     string
	compiled *jsonschema.Schema
	doc      any // the decoded input schema, for looking up subschemas
	root     *objectSchema
}

// objectSchema is what the messages need to know about an object schema:
// its properties in the order the schema lists them, and which of them are
// required.
type objectSchema struct {
	order    []string
	props    map[string]any // each a map[string]any, or a bool schema
	required []string
}

// newArgValidator compiles a tool's input schema.
func newArgValidator(tool string, inputSchema json.RawMessage) (*argValidator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(inputSchema))
	if err != nil {
		return nil, fmt.Errorf("tools: decode the input schema of %s: %w", tool, err)
	}
	root, err := parseObjectSchema(inputSchema)
	if err != nil {
		return nil, fmt.Errorf("tools: read the input schema of %s: %w", tool, err)
	}
	loc := "mem:///clawgate/tools/" + url.PathEscape(tool) + "/input.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("tools: register the input schema of %s: %w", tool, err)
	}
	compiled, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("tools: compile the input schema of %s: %w", tool, err)
	}
	return &argValidator{tool: tool, compiled: compiled, doc: doc, root: root}, nil
}

// parseObjectSchema reads the properties (in schema order) and the required
// list of an object schema.
func parseObjectSchema(raw json.RawMessage) (*objectSchema, error) {
	var s struct {
		Properties orderedKeys `json:"properties"`
		Required   []string    `json:"required"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	var props struct {
		Properties map[string]any `json:"properties"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&props); err != nil {
		return nil, err
	}
	return &objectSchema{order: s.Properties, props: props.Properties, required: s.Required}, nil
}

// orderedKeys decodes a JSON object into its keys, in document order.
type orderedKeys []string

func (k *orderedKeys) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return fmt.Errorf("properties is not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		*k = append(*k, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// wrap validates the arguments before next runs. Invalid arguments are an
// isError result (SEP-1303: the model sees it and can correct the call);
// valid ones reach next re-encoded, with integers in plain notation (2.0 and
// 1e2 are integers to JSON Schema but not to encoding/json).
func (v *argValidator) wrap(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		_, canon, problems := v.check(req.GetRawArguments())
		if len(problems) > 0 {
			return mcp.NewToolResultError(v.message(problems)), nil
		}
		// As mcp-go decodes them from the wire, for handlers that use
		// req.GetArguments rather than BindArguments.
		var args map[string]any
		if err := json.Unmarshal(canon, &args); err != nil {
			return mcp.NewToolResultError(v.message([]string{"the arguments could not be re-read: " + err.Error()})), nil
		}
		req.Params.Arguments = args
		req.Params.RawArguments = canon
		return next(ctx, req)
	}
}

// message is the text of the tool error for problems.
func (v *argValidator) message(problems []string) string {
	return invalidArguments(v.tool, strings.Join(problems, "; "))
}

func invalidArguments(tool, what string) string {
	return fmt.Sprintf("Invalid arguments for %s: %s.", tool, what)
}

// issue is one problem with the arguments, with what it sorts by.
type issue struct {
	group int    // issueRoot, issueMissing, issueValue, issueUnknown
	pos   int    // position of the argument in the schema (or required list)
	path  string // the value's path, to order several problems of one argument
	text  string
}

const (
	issueRoot = iota
	issueMissing
	issueValue
	issueUnknown
	issueUnknownUnmatched
)

// check validates the raw arguments (JSON bytes, a json.RawMessage, a Go
// value, or nil) and returns them decoded and re-encoded for binding, or
// the problems as sentences. No arguments, and JSON null, are an empty
// object.
func (v *argValidator) check(rawArgs any) (map[string]any, json.RawMessage, []string) {
	raw, err := argumentBytes(rawArgs)
	if err != nil {
		return nil, nil, []string{"the arguments could not be encoded as JSON: " + err.Error()}
	}
	var value any = map[string]any{}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		value, err = jsonschema.UnmarshalJSON(bytes.NewReader(t))
		if err != nil {
			return nil, nil, []string{"the arguments are not valid JSON"}
		}
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return nil, nil, []string{"the arguments must be a JSON object (got " + describe(value) + ")"}
	}

	var issues []issue
	if err := v.compiled.Validate(obj); err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			return nil, nil, []string{"the arguments could not be checked: " + err.Error()}
		}
		issues = v.collect(verr, obj, issues)
	}
	issues = v.canonicalIntegers(obj, obj, v.doc, nil, issues)
	if len(issues) > 0 {
		return nil, nil, v.texts(issues)
	}
	canon, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, []string{"the arguments could not be re-encoded: " + err.Error()}
	}
	return obj, canon, nil
}

// argumentBytes returns the JSON of the arguments as mcp-go hands them over.
func argumentBytes(rawArgs any) ([]byte, error) {
	switch a := rawArgs.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return a, nil
	case []byte:
		return a, nil
	}
	return json.Marshal(rawArgs)
}

// texts sorts the issues and merges the unknown arguments that have no
// close match into one sentence that lists the tool's arguments.
func (v *argValidator) texts(issues []issue) []string {
	slices.SortStableFunc(issues, func(a, b issue) int {
		if a.group != b.group {
			return a.group - b.group
		}
		if a.pos != b.pos {
			return a.pos - b.pos
		}
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	issues = slices.Compact(issues)
	more := 0
	if len(issues) > maxProblems {
		more, issues = len(issues)-maxProblems, issues[:maxProblems]
	}
	var out, unmatched []string
	for _, is := range issues {
		if is.group == issueUnknownUnmatched {
			unmatched = append(unmatched, is.text)
			continue
		}
		out = append(out, is.text)
	}
	if len(unmatched) > 0 {
		s := "unknown argument " + unmatched[0]
		if len(unmatched) > 1 {
			s = "unknown arguments " + prose.And(unmatched)
		}
		out = append(out, s+" ("+v.argumentList()+")")
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("and %d more problems", more))
	}
	return out
}

// maxProblems bounds how many problems one message reports.
const maxProblems = 12

// argumentList says which arguments the tool takes: "list_sessions takes
// limit, active_minutes, search and agent_id", "patch_session_model takes
// session_key and model, and optionally create".
func (v *argValidator) argumentList() string {
	var required, optional []string
	for _, n := range v.root.order {
		if slices.Contains(v.root.required, n) {
			required = append(required, n)
		} else {
			optional = append(optional, n)
		}
	}
	switch {
	case len(required) == 0 && len(optional) == 0:
		return v.tool + " takes no arguments"
	case len(required) == 0:
		return v.tool + " takes " + prose.And(optional)
	case len(optional) == 0:
		return v.tool + " takes " + prose.And(required)
	}
	return v.tool + " takes " + prose.And(required) + ", and optionally " + prose.And(optional)
}

// collect translates a validation error tree into issues.
func (v *argValidator) collect(e *jsonschema.ValidationError, args any, issues []issue) []issue {
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		if len(e.Causes) == 0 {
			break
		}
		// Every alternative refused the value's type: say what the
		// alternatives accept together ("a string or null"). Otherwise
		// the value has the type of an alternative but breaks one of
		// its constraints: report those.
		for _, c := range e.Causes {
			if !typeOnly(c, e.InstanceLocation) {
				return v.collect(c, args, issues)
			}
		}
		sub := v.subschema(e.SchemaURL)
		got, _ := valueAt(args, e.InstanceLocation)
		return append(issues, v.valueIssue(e.InstanceLocation, args,
			fmt.Sprintf("%s must be %s (got %s)", v.pathName(e.InstanceLocation, args), expect(sub), describe(got))))
	default:
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				issues = v.collect(c, args, issues)
			}
			return issues
		}
	}
	return append(issues, v.leaf(e, args)...)
}

// typeOnly reports whether e only says that the value at loc has the wrong
// type.
func typeOnly(e *jsonschema.ValidationError, loc []string) bool {
	if !slices.Equal(e.InstanceLocation, loc) {
		return false
	}
	if _, ok := e.ErrorKind.(*kind.Type); ok {
		return len(e.Causes) == 0
	}
	if len(e.Causes) == 0 {
		return false
	}
	for _, c := range e.Causes {
		if !typeOnly(c, loc) {
			return false
		}
	}
	return true
}

// leaf translates one validation error without causes.
func (v *argValidator) leaf(e *jsonschema.ValidationError, args any) []issue {
	loc := e.InstanceLocation
	name := v.pathName(loc, args)
	sub := v.subschema(e.SchemaURL)
	got, _ := valueAt(args, loc)
	value := func(format string, a ...any) []issue {
		return []issue{v.valueIssue(loc, args, fmt.Sprintf(format, a...))}
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		if len(loc) == 0 {
			return []issue{{group: issueRoot, text: "the arguments must be a JSON object (got " + describe(got) + ")"}}
		}
		if got == nil && len(loc) == 1 && !slices.Contains(v.root.required, loc[0]) {
			// Some clients send null for an argument they mean to leave out.
			return value("%s must be %s or left out (got null)", name, expect(sub))
		}
		return value("%s must be %s (got %s)", name, expect(sub), describe(got))
	case *kind.Required:
		var out []issue
		for _, m := range k.Missing {
			if len(loc) == 0 {
				out = append(out, issue{group: issueMissing, pos: indexOr(v.root.required, m), path: m,
					text: fmt.Sprintf("missing required argument %s", quote(m))})
				continue
			}
			out = append(out, v.valueIssue(loc, args, fmt.Sprintf("%s is missing the required field %s", name, quote(m))))
		}
		return out
	case *kind.AdditionalProperties:
		var out []issue
		for _, p := range k.Properties {
			if len(loc) == 0 {
				if s := suggest.Closest(p, v.root.order); s != "" {
					out = append(out, issue{group: issueUnknown, path: p,
						text: fmt.Sprintf("unknown argument %s (did you mean %s?)", quote(p), quote(s))})
				} else {
					out = append(out, issue{group: issueUnknownUnmatched, path: p, text: quote(p)})
				}
				continue
			}
			text := fmt.Sprintf("%s has an unknown field %s", name, quote(p))
			if s := suggest.Closest(p, propertyNames(sub)); s != "" {
				text += fmt.Sprintf(" (did you mean %s?)", quote(s))
			}
			out = append(out, v.valueIssue(loc, args, text))
		}
		return out
	case *kind.Minimum:
		return value("%s must be %s ≥ %s (got %s)", name, numberWord(sub), schemaNumber(sub, "minimum", k.Want), describe(got))
	case *kind.Maximum:
		return value("%s must be %s ≤ %s (got %s)", name, numberWord(sub), schemaNumber(sub, "maximum", k.Want), describe(got))
	case *kind.ExclusiveMinimum:
		return value("%s must be %s > %s (got %s)", name, numberWord(sub), schemaNumber(sub, "exclusiveMinimum", k.Want), describe(got))
	case *kind.ExclusiveMaximum:
		return value("%s must be %s < %s (got %s)", name, numberWord(sub), schemaNumber(sub, "exclusiveMaximum", k.Want), describe(got))
	case *kind.MultipleOf:
		return value("%s must be a multiple of %s (got %s)", name, schemaNumber(sub, "multipleOf", k.Want), describe(got))
	case *kind.MinLength:
		if k.Want == 1 {
			return value("%s must be a non-empty string (got an empty string)", name)
		}
		return value("%s must be at least %d characters long (got %d)", name, k.Want, k.Got)
	case *kind.MaxLength:
		return value("%s must be at most %d characters long (got %d)", name, k.Want, k.Got)
	case *kind.Pattern:
		return value("%s must match the pattern %s (got %s)", name, k.Want, describe(got))
	case *kind.Format:
		return value("%s must be a valid %s (got %s)", name, k.Want, describe(got))
	case *kind.Enum:
		return value("%s must be %s (got %s)", name, expect(sub), describe(got))
	case *kind.Const:
		return value("%s must be %s (got %s)", name, literal(k.Want), describe(got))
	case *kind.MinItems:
		return value("%s must have at least %d items (got %d)", name, k.Want, k.Got)
	case *kind.MaxItems:
		return value("%s must have at most %d items (got %d)", name, k.Want, k.Got)
	case *kind.UniqueItems:
		return value("%s must not repeat items (items %d and %d are equal)", name, k.Duplicates[0], k.Duplicates[1])
	case *kind.MinProperties:
		return value("%s must have at least %d fields (got %d)", name, k.Want, k.Got)
	case *kind.MaxProperties:
		return value("%s must have at most %d fields (got %d)", name, k.Want, k.Got)
	case *kind.FalseSchema:
		return value("%s is not allowed", name)
	case *kind.OneOf:
		return value("%s matches more than one of its allowed forms", name)
	}
	return value("%s does not satisfy the schema keyword %s", name, strings.Join(e.ErrorKind.KeywordPath(), "/"))
}

// valueIssue is a problem with the value at loc.
func (v *argValidator) valueIssue(loc []string, args any, text string) issue {
	is := issue{group: issueValue, pos: len(v.root.order), path: v.pathName(loc, args), text: text}
	if len(loc) > 0 {
		is.pos = indexOr(v.root.order, loc[0])
	}
	return is
}

// canonicalIntegers rewrites the numbers the schema wants as integers in
// plain notation (1e2 → 100, 2.0 → 2), so that encoding/json binds them,
// and reports integers too large for Go's int64. root is the arguments
// object, val the value at loc in it and sch its schema.
func (v *argValidator) canonicalIntegers(root, val, sch any, loc []string, issues []issue) []issue {
	s, _ := sch.(map[string]any)
	if s == nil {
		return issues
	}
	// item checks the element at (key) of val against its schema, and
	// returns its replacement when it is an integer in another notation.
	item := func(key string, elem, elemSchema any) any {
		at := append(slices.Clip(loc), key)
		n, ok := elem.(json.Number)
		if !ok || !wantsInteger(elemSchema) {
			issues = v.canonicalIntegers(root, elem, elemSchema, at, issues)
			return nil
		}
		plain, problem := plainInteger(n)
		if problem != "" {
			if path := v.pathName(at, root); !hasIssue(issues, path) {
				issues = append(issues, v.valueIssue(at, root, fmt.Sprintf("%s must be an integer %s (got %s)", path, problem, describe(n))))
			}
			return nil
		}
		if plain != "" {
			return json.Number(plain)
		}
		return nil
	}
	switch x := val.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for k, elem := range x {
			elemSchema, ok := props[k]
			if !ok {
				elemSchema = s["additionalProperties"]
			}
			if r := item(k, elem, elemSchema); r != nil {
				x[k] = r
			}
		}
	case []any:
		for i, elem := range x {
			if r := item(strconv.Itoa(i), elem, s["items"]); r != nil {
				x[i] = r
			}
		}
	}
	return issues
}

// wantsInteger reports whether a schema accepts integers and no other
// numbers.
func wantsInteger(sch any) bool {
	s, _ := sch.(map[string]any)
	if s == nil {
		return false
	}
	types := schemaTypes(s)
	if slices.Contains(types, "integer") && !slices.Contains(types, "number") {
		return true
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		branches, _ := s[key].([]any)
		for _, b := range branches {
			if wantsInteger(b) {
				return true
			}
		}
	}
	return false
}

// plainInteger returns n in plain notation when it is an integer that
// needs rewriting, or the bound it breaks when it is too large for int64.
func plainInteger(n json.Number) (plain, problem string) {
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return "", ""
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() {
		return "", "" // not an integer: the schema check has said so
	}
	if r.Num().IsInt64() {
		return r.Num().String(), ""
	}
	if r.Sign() < 0 {
		return "", "≥ -9223372036854775808"
	}
	return "", "≤ 9223372036854775807"
}

func hasIssue(issues []issue, path string) bool {
	return slices.ContainsFunc(issues, func(is issue) bool { return is.group == issueValue && is.path == path })
}

// subschema resolves the schema location a validation error names in the
// decoded input schema.
func (v *argValidator) subschema(schemaURL string) map[string]any {
	_, frag, _ := strings.Cut(schemaURL, "#")
	return jsonanswer.SchemaAt(v.doc, frag)
}

// pathName names the value at loc: "limit", "filter.limit", "items[2]", or
// "the arguments" for the arguments as a whole.
func (v *argValidator) pathName(loc []string, args any) string {
	if len(loc) == 0 {
		return "the arguments"
	}
	var b strings.Builder
	cur := args
	for i, seg := range loc {
		if arr, ok := cur.([]any); ok {
			b.WriteString("[" + seg + "]")
			if n, err := strconv.Atoi(seg); err == nil && n >= 0 && n < len(arr) {
				cur = arr[n]
			} else {
				cur = nil
			}
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
		if m, ok := cur.(map[string]any); ok {
			cur = m[seg]
		} else {
			cur = nil
		}
	}
	return b.String()
}

// valueAt returns the value at loc.
func valueAt(v any, loc []string) (any, bool) {
	for _, seg := range loc {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// schemaTypes returns the types a schema names ("type": "x" or ["x", "y"]).
func schemaTypes(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// typeNames returns the JSON types a schema accepts, looking into oneOf and
// anyOf when it has no type of its own.
func typeNames(s map[string]any) []string {
	if t := schemaTypes(s); len(t) > 0 {
		return t
	}
	var out []string
	for _, key := range []string{"oneOf", "anyOf"} {
		branches, _ := s[key].([]any)
		for _, b := range branches {
			if bm, ok := b.(map[string]any); ok {
				for _, t := range typeNames(bm) {
					if !slices.Contains(out, t) {
						out = append(out, t)
					}
				}
			}
		}
	}
	return out
}

// expect says what a schema accepts: "an integer from 1 to 500", "a
// non-empty string", "a string or null", `one of "a" or "b"`.
func expect(s map[string]any) string {
	if s == nil {
		return "a valid value"
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		if len(enum) == 1 {
			return literal(enum[0])
		}
		var vals []string
		for _, e := range enum {
			vals = append(vals, literal(e))
		}
		return "one of " + prose.Or(vals)
	}
	if c, ok := s["const"]; ok {
		return literal(c)
	}
	types := schemaTypes(s)
	if len(types) == 0 {
		var alts []string
		for _, key := range []string{"oneOf", "anyOf"} {
			branches, _ := s[key].([]any)
			for _, b := range branches {
				bm, _ := b.(map[string]any)
				if a := expect(bm); !slices.Contains(alts, a) {
					alts = append(alts, a)
				}
			}
		}
		if len(alts) == 0 {
			return "a valid value"
		}
		return prose.Or(alts)
	}
	var alts []string
	for _, t := range types {
		alts = append(alts, expectType(s, t))
	}
	return prose.Or(alts)
}

// expectType describes values of type t under the constraints of s.
func expectType(s map[string]any, t string) string {
	switch t {
	case "integer", "number":
		word := "a number"
		if t == "integer" {
			word = "an integer"
		}
		lo, hasLo := s["minimum"]
		hi, hasHi := s["maximum"]
		var bounds []string
		if hasLo && hasHi {
			bounds = append(bounds, fmt.Sprintf("from %v to %v", lo, hi))
		} else if hasLo {
			bounds = append(bounds, fmt.Sprintf("≥ %v", lo))
		} else if hasHi {
			bounds = append(bounds, fmt.Sprintf("≤ %v", hi))
		}
		if x, ok := s["exclusiveMinimum"]; ok {
			bounds = append(bounds, fmt.Sprintf("> %v", x))
		}
		if x, ok := s["exclusiveMaximum"]; ok {
			bounds = append(bounds, fmt.Sprintf("< %v", x))
		}
		if len(bounds) > 0 {
			word += " " + strings.Join(bounds, " and ")
		}
		return word
	case "string":
		lo, _ := intKeyword(s, "minLength")
		hi, hasHi := intKeyword(s, "maxLength")
		word := "a string"
		switch {
		case lo == 1 && !hasHi:
			word = "a non-empty string"
		case lo > 0 && hasHi:
			word = fmt.Sprintf("a string of %d to %d characters", lo, hi)
		case lo > 1:
			word = fmt.Sprintf("a string of at least %d characters", lo)
		case hasHi:
			word = fmt.Sprintf("a string of at most %d characters", hi)
		}
		if p, ok := s["pattern"].(string); ok {
			word += " matching " + p
		}
		return word
	case "boolean":
		return "true or false"
	case "null":
		return "null"
	case "object":
		return "an object"
	case "array":
		return "an array"
	}
	return t
}

func intKeyword(s map[string]any, key string) (int64, bool) {
	n, ok := s[key].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// numberWord is "an integer" or "a number", as the schema says.
func numberWord(s map[string]any) string {
	if slices.Contains(schemaTypes(s), "integer") {
		return "an integer"
	}
	return "a number"
}

// schemaNumber is a schema keyword's number as written in the schema.
func schemaNumber(s map[string]any, key string, fallback *big.Rat) string {
	if n, ok := s[key].(json.Number); ok {
		return n.String()
	}
	if fallback != nil {
		return fallback.RatString()
	}
	return "?"
}

func propertyNames(s map[string]any) []string {
	props, _ := s["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// maxShown bounds how much of a value a message repeats.
const maxShown = 40

// describe says what a JSON value is, for "(got …)".
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return truncate(string(x))
	case string:
		if x == "" {
			return "an empty string"
		}
		return "the string " + quote(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a value of an unknown kind"
}

// literal shows a JSON value from a schema (enum, const).
func literal(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b))
}

// quote quotes s, shortened to maxShown characters.
func quote(s string) string { return strconv.Quote(truncate(s)) }

// truncate shortens s to maxShown characters, marking the cut with "…".
func truncate(s string) string {
	n := 0
	for i := range s {
		if n == maxShown {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

func indexOr(list []string, s string) int {
	if i := slices.Index(list, s); i >= 0 {
		return i
	}
	return len(list)
}

// bindError is the tool error for arguments that passed the schema but do
// not decode into the tool's Go type (a safety net: the schema is generated
// from that type, so this should not happen).
func bindError(tool string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return invalidArguments(tool, fmt.Sprintf("%s has a value clawgate cannot use (got %s)", te.Field, truncate(te.Value)))
	}
	return invalidArguments(tool, "the arguments could not be read: "+err.Error())
}
