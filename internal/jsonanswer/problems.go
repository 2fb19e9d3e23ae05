package jsonanswer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/clawgate/clawgate/internal/prose"
	"github.com/clawgate/clawgate/internal/safetext"
)

// The validator's error tree becomes one sentence per problem, each naming
// the value by its JSON Pointer ("at /items/0/price: expected number, got
// string \"12\"", "at the top level: missing required property \"name\""),
// sorted by location (array indexes in numeric order), without duplicates,
// at most MaxProblems (the last then says how many more there are). Values
// from the answer are quoted and shortened, so a problem is bounded however
// long the answer is.

// problem is one thing wrong with an answer.
type problem struct {
	loc      []string
	text     string // the sentence after "at <loc>: "
	rootType bool   // the value at the top level has a type the schema refuses
}

// maxShown bounds how much of a value or name a problem repeats (runes).
const maxShown = 40

// texts sorts problems by location and words them.
func texts(found []problem) []string {
	slices.SortStableFunc(found, func(a, b problem) int {
		if c := compareLoc(a.loc, b.loc); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	var out []string
	for i, p := range found {
		if i > 0 && slices.Equal(p.loc, found[i-1].loc) && p.text == found[i-1].text {
			continue
		}
		out = append(out, clip("at "+pointer(p.loc)+": "+p.text, MaxProblemRunes))
	}
	if len(out) > MaxProblems {
		more := len(out) - (MaxProblems - 1)
		out = append(out[:MaxProblems-1], fmt.Sprintf("and %d more problems", more))
	}
	return out
}

// compareLoc orders locations: shorter prefixes first, array indexes as
// numbers.
func compareLoc(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		if errX == nil && errY == nil {
			return x - y
		}
		return strings.Compare(a[i], b[i])
	}
	return len(a) - len(b)
}

// pointer writes a location as a JSON Pointer ("/items/0/price"), each
// segment shortened and made safe to show; the root is "the top level".
func pointer(loc []string) string {
	if len(loc) == 0 {
		return "the top level"
	}
	var b strings.Builder
	for _, seg := range loc {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~", "~0"), "/", "~1")
		b.WriteByte('/')
		b.WriteString(safetext.Line(clip(seg, maxShown)))
	}
	return clip(b.String(), 120)
}

// collect translates a validation error tree into problems. v is the
// validated value.
func (s *Schema) collect(e *jsonschema.ValidationError, v any, out []problem) []problem {
	switch k := e.ErrorKind.(type) {
	case *kind.OneOf:
		if len(e.Causes) == 0 {
			// Several alternatives matched.
			return append(out, problem{loc: e.InstanceLocation,
				text: fmt.Sprintf("the value matches more than one of the \"oneOf\" alternatives (%s); it must match exactly one", joinInts(k.Subschemas))})
		}
		return s.alternatives(e, v, out)
	case *kind.AnyOf:
		return s.alternatives(e, v, out)
	case *kind.Contains, *kind.MinContains, *kind.MaxContains:
		// Its causes are why each item does not match "contains":
		// not the problem.
		return append(out, problem{loc: e.InstanceLocation, text: s.leafText(e, nil)})
	case *kind.PropertyNames:
		text := fmt.Sprintf("the property name %s is not allowed", quote(k.Property))
		if leaf := firstLeaf(e); leaf != nil && leaf != e {
			if t := s.leafText(leaf, k.Property); t != "" {
				text += " (" + t + ")"
			}
		}
		return append(out, problem{loc: e.InstanceLocation, text: text})
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			out = s.collect(c, v, out)
		}
		return out
	}
	got, _ := valueAt(v, e.InstanceLocation)
	if req, ok := e.ErrorKind.(*kind.Required); ok {
		for _, m := range req.Missing {
			out = append(out, problem{loc: e.InstanceLocation, text: "missing required property " + quote(m)})
		}
		return out
	}
	if add, ok := e.ErrorKind.(*kind.AdditionalProperties); ok {
		allowed := s.propertyNames(e.SchemaURL)
		for _, p := range add.Properties {
			text := "property " + quote(p) + " is not allowed"
			if allowed != "" {
				text += " (" + allowed + ")"
			}
			out = append(out, problem{loc: e.InstanceLocation, text: text})
		}
		return out
	}
	p := problem{loc: e.InstanceLocation, text: s.leafText(e, got)}
	if _, ok := e.ErrorKind.(*kind.Type); ok && len(e.InstanceLocation) == 0 {
		p.rootType = true
	}
	return append(out, p)
}

// alternatives reports an anyOf or oneOf none of whose alternatives
// matched. When every alternative refused only the value's type, that is
// one problem ("expected string or null, got number 3"). Otherwise the
// value has the type of an alternative: the problems of the alternative
// that got furthest into the value are reported.
func (s *Schema) alternatives(e *jsonschema.ValidationError, v any, out []problem) []problem {
	if len(e.Causes) == 0 {
		got, _ := valueAt(v, e.InstanceLocation)
		return append(out, problem{loc: e.InstanceLocation, text: "expected a value matching one of the alternatives, got " + describe(got)})
	}
	var best *jsonschema.ValidationError
	bestDepth := -1
	var types []string
	for _, c := range e.Causes {
		if t, ok := typeOnly(c, e.InstanceLocation); ok {
			for _, x := range t {
				if !slices.Contains(types, x) {
					types = append(types, x)
				}
			}
			continue
		}
		if d := depth(c); d > bestDepth {
			best, bestDepth = c, d
		}
	}
	if best != nil {
		return s.collect(best, v, out)
	}
	got, _ := valueAt(v, e.InstanceLocation)
	return append(out, problem{loc: e.InstanceLocation, text: "expected " + prose.Or(types) + ", got " + describe(got),
		rootType: len(e.InstanceLocation) == 0})
}

// typeOnly reports whether e only says that the value at loc has the wrong
// type, and which types it wanted.
func typeOnly(e *jsonschema.ValidationError, loc []string) ([]string, bool) {
	if !slices.Equal(e.InstanceLocation, loc) {
		return nil, false
	}
	if t, ok := e.ErrorKind.(*kind.Type); ok && len(e.Causes) == 0 {
		return t.Want, true
	}
	if len(e.Causes) == 0 {
		return nil, false
	}
	var all []string
	for _, c := range e.Causes {
		t, ok := typeOnly(c, loc)
		if !ok {
			return nil, false
		}
		all = append(all, t...)
	}
	return all, true
}

// depth is the deepest instance location in an error tree.
func depth(e *jsonschema.ValidationError) int {
	d := len(e.InstanceLocation)
	for _, c := range e.Causes {
		d = max(d, depth(c))
	}
	return d
}

// firstLeaf is the first error without causes in a tree.
func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}

// leafText words one error without causes (after "at <loc>: ").
func (s *Schema) leafText(e *jsonschema.ValidationError, got any) string {
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return "expected " + prose.Or(k.Want) + ", got " + describe(got)
	case *kind.Enum:
		return "expected " + oneOf(k.Want) + ", got " + literal(got)
	case *kind.Const:
		return "expected " + literal(k.Want) + ", got " + literal(got)
	case *kind.Minimum:
		return "expected a number >= " + rat(k.Want) + ", got " + rat(k.Got)
	case *kind.Maximum:
		return "expected a number <= " + rat(k.Want) + ", got " + rat(k.Got)
	case *kind.ExclusiveMinimum:
		return "expected a number > " + rat(k.Want) + ", got " + rat(k.Got)
	case *kind.ExclusiveMaximum:
		return "expected a number < " + rat(k.Want) + ", got " + rat(k.Got)
	case *kind.MultipleOf:
		return "expected a multiple of " + rat(k.Want) + ", got " + rat(k.Got)
	case *kind.MinLength:
		return fmt.Sprintf("expected a string of at least %s, got %d", plural(k.Want, "character"), k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("expected a string of at most %s, got %d", plural(k.Want, "character"), k.Got)
	case *kind.Pattern:
		return "expected a string matching the regular expression " + clip(safetext.Line(k.Want), 80) + ", got " + literal(k.Got)
	case *kind.Format:
		if k.Want == "regex" {
			text := "expected a regular expression in RE2 syntax (no lookaround, no backreferences), got " + literal(k.Got)
			if k.Err != nil {
				text += ": " + safetext.Line(clip(k.Err.Error(), 80))
			}
			return text
		}
		return "expected a valid " + safetext.Line(clip(k.Want, maxShown)) + " (JSON Schema format), got " + literal(k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("expected at least %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("expected at most %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.AdditionalItems:
		return fmt.Sprintf("%s too many", plural(k.Count, "item"))
	case *kind.UniqueItems:
		return fmt.Sprintf("items %d and %d are equal; the items must be unique", k.Duplicates[0], k.Duplicates[1])
	case *kind.MinProperties:
		return fmt.Sprintf("expected at least %s, got %d", plural(k.Want, "property"), k.Got)
	case *kind.MaxProperties:
		return fmt.Sprintf("expected at most %s, got %d", plural(k.Want, "property"), k.Got)
	case *kind.Contains:
		return `no item matches the "contains" schema; at least one must`
	case *kind.MinContains:
		return fmt.Sprintf(`expected at least %s matching the "contains" schema, got %d`, plural(k.Want, "item"), len(k.Got))
	case *kind.MaxContains:
		return fmt.Sprintf(`expected at most %s matching the "contains" schema, got %d`, plural(k.Want, "item"), len(k.Got))
	case *kind.DependentRequired:
		return fmt.Sprintf("property %s requires %s, which is missing", quote(k.Prop), quoteAll(k.Missing))
	case *kind.Dependency:
		return fmt.Sprintf("property %s requires %s, which is missing", quote(k.Prop), quoteAll(k.Missing))
	case *kind.Required:
		return "missing required property " + quoteAll(k.Missing)
	case *kind.AdditionalProperties:
		return "property " + quoteAll(k.Properties) + " is not allowed"
	case *kind.FalseSchema:
		switch {
		case strings.HasSuffix(e.SchemaURL, "/unevaluatedProperties"), strings.HasSuffix(e.SchemaURL, "/additionalProperties"):
			return "this property is not allowed"
		case strings.HasSuffix(e.SchemaURL, "/items"), strings.HasSuffix(e.SchemaURL, "/unevaluatedItems"), strings.HasSuffix(e.SchemaURL, "/additionalItems"):
			return "no item is allowed at this position"
		}
		return "no value is allowed here"
	case *kind.Not:
		return `the value matches the "not" schema, which it must not`
	case *kind.OneOf:
		return fmt.Sprintf("the value matches more than one of the \"oneOf\" alternatives (%s); it must match exactly one", joinInts(k.Subschemas))
	case *kind.RefCycle:
		return "the output schema's references loop, so the answer cannot be checked"
	case *kind.ContentEncoding, *kind.ContentMediaType, *kind.ContentSchema:
		return "the string's content does not match its contentEncoding, contentMediaType or contentSchema"
	}
	return "the value does not satisfy the schema keyword " + safetext.Line(clip(strings.Join(e.ErrorKind.KeywordPath(), "/"), maxShown))
}

// propertyNames lists the properties the object schema at schemaURL
// defines: "allowed: a, b and c", or "" when there are none or too many.
func (s *Schema) propertyNames(schemaURL string) string {
	sub := s.subschema(schemaURL)
	props, _ := sub["properties"].(map[string]any)
	if len(props) == 0 || len(props) > 12 {
		return ""
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, quote(n))
	}
	slices.Sort(names)
	return "allowed: " + prose.And(names)
}

// subschema resolves a schema location in the decoded schema, or nil when
// it is elsewhere (in a resource with its own "$id").
func (s *Schema) subschema(schemaURL string) map[string]any {
	base, frag, _ := strings.Cut(schemaURL, "#")
	if base != s.base {
		return nil
	}
	return SchemaAt(s.doc, frag)
}

// SchemaAt resolves a JSON pointer fragment ("/properties/limit", escaped
// as in a schema location's URL: %-escapes, ~1, ~0) in a decoded schema and
// returns the schema object there, or nil when there is none.
func SchemaAt(doc any, frag string) map[string]any {
	cur := doc
	if frag != "" {
		for _, seg := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
			if u, err := url.PathUnescape(seg); err == nil {
				seg = u
			}
			seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
			switch c := cur.(type) {
			case map[string]any:
				cur = c[seg]
			case []any:
				i, err := strconv.Atoi(seg)
				if err != nil || i < 0 || i >= len(c) {
					return nil
				}
				cur = c[i]
			default:
				return nil
			}
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

// valueAt returns the value at loc in v.
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

// describe says what a value is, with its type: `string "12"`, `number
// 1.5`, `boolean true`, `null`, `object`, `array`.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case json.Number:
		return "number " + safetext.Line(clip(string(x), maxShown))
	case string:
		return "string " + quote(x)
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "a value of an unknown kind"
}

// typeName is a JSON type with its article: "a string", "an array".
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a value of an unknown kind"
}

// literal shows a JSON value shortened: "abc", 12, true, null, {"a":1…}.
func literal(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return typeName(v)
	}
	return safetext.Line(clip(string(b), maxShown))
}

// oneOf says which of an enum's values are allowed, at most ten of them.
func oneOf(values []any) string {
	if len(values) == 1 {
		return literal(values[0])
	}
	var shown []string
	for i, v := range values {
		if i == 10 {
			shown = append(shown, fmt.Sprintf("%d more", len(values)-i))
			break
		}
		shown = append(shown, literal(v))
	}
	return "one of " + prose.Or(shown)
}

// quote quotes a string from the answer or the schema, shortened; control
// and bidirectional formatting characters are escaped.
func quote(s string) string { return safetext.Line(strconv.Quote(clip(s, maxShown))) }

// quoteAll quotes and joins at most five names.
func quoteAll(names []string) string {
	var q []string
	for i, n := range names {
		if i == 5 {
			q = append(q, fmt.Sprintf("%d more", len(names)-i))
			break
		}
		q = append(q, quote(n))
	}
	return prose.And(q)
}

// rat shows a number of the schema or the answer.
func rat(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return clip(r.Num().String(), maxShown)
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(word, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return prose.And(s)
}

// duplicateKeys reports the objects of a valid JSON value that hold a key
// more than once (JSON parsers disagree about which value counts). It walks
// the tokens once, with one set of keys per open object.
func duplicateKeys(raw []byte, out []problem) []problem {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		index  int    // the next array index
		key    string // the last key read (objects)
		seg    string // this value's segment in its parent
	}
	var stack []*frame
	loc := func() []string {
		l := make([]string, 0, len(stack))
		for _, f := range stack[1:] {
			l = append(l, f.seg)
		}
		return l
	}
	expectKey := false
	// segment is the location segment of the value about to be read.
	segment := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.object {
			return top.key
		}
		s := strconv.Itoa(top.index)
		top.index++
		return s
	}
	reported := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return out // io.EOF: the end; nothing else (the value is valid)
		}
		if expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				expectKey = len(stack) > 0 && stack[len(stack)-1].object
				continue
			}
			key, _ := tok.(string)
			top := stack[len(stack)-1]
			if top.keys[key] && reported < MaxProblems {
				reported++
				out = append(out, problem{loc: loc(), text: "property " + quote(key) + " appears more than once; give each property once"})
			}
			top.keys[key] = true
			top.key = key
			expectKey = false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{':
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, seg: segment()})
			expectKey = true
		case '[':
			stack = append(stack, &frame{seg: segment()})
		case ']':
			stack = stack[:len(stack)-1]
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
		default:
			// A scalar value.
			if len(stack) > 0 && !stack[len(stack)-1].object {
				stack[len(stack)-1].index++
			}
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
		}
	}
}

// compileError words a compile error of an output schema.
func compileError(err error, doc any) error {
	var (
		sve    *jsonschema.SchemaValidationError
		load   *jsonschema.LoadURLError
		ptr    *jsonschema.JSONPointerNotFoundError
		anchor *jsonschema.AnchorNotFoundError
		regex  *jsonschema.InvalidRegexError
	)
	switch {
	case errors.As(err, &sve):
		var verr *jsonschema.ValidationError
		if errors.As(sve.Err, &verr) {
			meta := &Schema{doc: nil}
			found := meta.collect(verr, doc, nil)
			ts := texts(found)
			if len(ts) > 3 {
				ts = append(ts[:3], fmt.Sprintf("and %d more problems", len(ts)-3))
			}
			return fmt.Errorf("output_schema is not a valid JSON Schema: %s. Correct the schema (JSON Schema draft 2020-12 unless \"$schema\" names another draft) and call again", strings.Join(ts, "; "))
		}
	case errors.As(err, &load):
		if sch, ok := schemaKeyword(doc); ok && sameURL(sch, load.URL) {
			return fmt.Errorf(`output_schema has "$schema": %s, which is not a JSON Schema draft clawgate knows; leave "$schema" out (draft 2020-12 is used) or name draft 2020-12, 2019-09, 7, 6 or 4`, quote(sch))
		}
		ref, at := findRef(doc, func(ref string) bool {
			r, _, _ := strings.Cut(ref, "#")
			l, _, _ := strings.Cut(load.URL, "#")
			return r != "" && strings.HasSuffix(l, r)
		})
		if ref == "" {
			ref = cleanURLs(load.URL)
		}
		where := ""
		if at != nil {
			where = " at " + pointer(at)
		}
		return fmt.Errorf(`output_schema has a reference to %s%s that points outside the schema; clawgate loads nothing from the network or from files, so only references inside the schema are allowed (like "#/$defs/item"): copy the referenced schema into "$defs" and refer to it there`, quote(ref), where)
	case errors.As(err, &ptr), errors.As(err, &anchor):
		u := ""
		if ptr != nil {
			u = ptr.URL
		} else {
			u = anchor.Reference
		}
		_, frag, _ := strings.Cut(u, "#")
		ref, at := findRef(doc, func(ref string) bool {
			_, f, ok := strings.Cut(ref, "#")
			return ok && unescapeFragment(f) == unescapeFragment(frag)
		})
		if ref == "" {
			ref = "#" + frag
		}
		where := ""
		if at != nil {
			where = " at " + pointer(at)
		}
		return fmt.Errorf(`output_schema has a reference to %s%s, which points to nothing in the schema; add what it names (for example under "$defs") or correct the reference`, quote(ref), where)
	case errors.As(err, &regex):
		return fmt.Errorf("output_schema has a regular expression %s that clawgate cannot use (%s); write it in RE2 syntax (no lookaround, no backreferences)",
			quote(regex.Regex), safetext.Line(clip(regex.Err.Error(), 100)))
	}
	return fmt.Errorf(`output_schema could not be compiled (%s); check its "$id", "$anchor" and "$ref" keywords`, safetext.Line(clip(cleanURLs(err.Error()), 200)))
}

// cleanURLs removes the schema's internal location from a message.
func cleanURLs(s string) string {
	return strings.ReplaceAll(s, location, "output_schema")
}

func unescapeFragment(f string) string {
	if u, err := url.PathUnescape(f); err == nil {
		return u
	}
	return f
}

// schemaKeyword returns the schema's "$schema".
func schemaKeyword(doc any) (string, bool) {
	m, _ := doc.(map[string]any)
	s, ok := m["$schema"].(string)
	return s, ok
}

func sameURL(a, b string) bool {
	a, _, _ = strings.Cut(a, "#")
	b, _, _ = strings.Cut(b, "#")
	return a == b
}

// findRef finds the first reference keyword ($ref, $dynamicRef,
// $recursiveRef) whose value match accepts, and where it is. Values of
// keywords that hold data rather than schemas are not searched.
func findRef(doc any, match func(string) bool) (string, []string) {
	var walk func(v any, loc []string) (string, []string)
	walk = func(v any, loc []string) (string, []string) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				switch k {
				case "$ref", "$dynamicRef", "$recursiveRef":
					if s, ok := x[k].(string); ok && match(s) {
						return s, append(slices.Clip(loc), k)
					}
				case "const", "enum", "examples", "default":
					continue
				}
				if r, at := walk(x[k], append(slices.Clip(loc), k)); r != "" {
					return r, at
				}
			}
		case []any:
			for i, e := range x {
				if r, at := walk(e, append(slices.Clip(loc), strconv.Itoa(i))); r != "" {
					return r, at
				}
			}
		}
		return "", nil
	}
	return walk(doc, nil)
}
