package gatewaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The real gateways validate frames and params with closed JSON schemas
// (TypeBox + ajv) and report errors like
//
//	invalid connect params: at /client/id: must be equal to one of the allowed values
//	invalid agent params: must have required property 'message'
//	invalid request frame: at root: unexpected property 'traceparent'
//
// This file holds a tiny validator that produces the same messages for the
// schemas the fake needs. The instance is parsed with key order preserved,
// because the messages list unexpected properties in instance order.

// jkind is the kind of a parsed JSON value.
type jkind int

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jvalue is a JSON value with object key order preserved.
type jvalue struct {
	kind  jkind
	s     string
	n     json.Number
	keys  []string
	vals  []*jvalue
	items []*jvalue
}

// get returns the value of an object key (nil if absent).
func (v *jvalue) get(key string) *jvalue {
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

// parseOrdered parses one JSON value.
func parseOrdered(b []byte) (*jvalue, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := readValue(d)
	if err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func readValue(d *json.Decoder) (*jvalue, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jvalue{kind: jObject}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				val, err := readValue(d)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, key)
				v.vals = append(v.vals, val)
			}
			_, err := d.Token() // '}'
			return v, err
		case '[':
			v := &jvalue{kind: jArray}
			for d.More() {
				it, err := readValue(d)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, it)
			}
			_, err := d.Token() // ']'
			return v, err
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	case string:
		return &jvalue{kind: jString, s: t}, nil
	case json.Number:
		return &jvalue{kind: jNumber, n: t}, nil
	case bool:
		return &jvalue{kind: jBool}, nil
	case nil:
		return &jvalue{kind: jNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// skind is the type a schema accepts.
type skind int

const (
	sAny skind = iota
	sString
	sInt
	sNumber
	sBool
	sObject
	sArray
)

// schema is the subset of JSON schema the gateways' params use.
type schema struct {
	kind      skind
	minLen    int      // strings: minimum length (0 = none)
	maxLen    int      // strings: maximum length (0 = none)
	hasMin    bool     // integers: minimum is set
	min       int64    // integers: minimum
	enum      []string // strings: allowed values
	enumAnyOf bool     // enum encoded as anyOf of consts (v3 style messages)
	constVal  *string  // strings: the only allowed value
	nullable  bool     // anyOf [schema, null]
	props     []prop   // objects: known properties, in schema order
	required  []string // objects: required properties, in schema order
	open      bool     // objects: additional properties allowed
	items     *schema  // arrays: item schema
}

// prop is a named object property.
type prop struct {
	name string
	s    *schema
}

func anyS() *schema                 { return &schema{kind: sAny} }
func strS() *schema                 { return &schema{kind: sString} }
func neStr() *schema                { return &schema{kind: sString, minLen: 1} }
func boolS() *schema                { return &schema{kind: sBool} }
func intS() *schema                 { return &schema{kind: sInt} }
func intMin(n int64) *schema        { return &schema{kind: sInt, hasMin: true, min: n} }
func arrOf(it *schema) *schema      { return &schema{kind: sArray, items: it} }
func openObj() *schema              { return &schema{kind: sObject, open: true} }
func p(name string, s *schema) prop { return prop{name, s} }

// nullable marks s as "s or null".
func nullable(s *schema) *schema { c := *s; c.nullable = true; return &c }

// constS accepts exactly v.
func constS(v string) *schema { return &schema{kind: sString, constVal: &v} }

// enumS accepts one of vals; anyOf selects the v3 (anyOf of consts) messages.
func enumS(vals []string, anyOf bool) *schema {
	return &schema{kind: sString, enum: vals, enumAnyOf: anyOf}
}

// objS is a closed object.
func objS(required []string, props ...prop) *schema {
	return &schema{kind: sObject, required: required, props: props}
}

// with returns a copy of an object schema with extra properties.
func (s *schema) with(props ...prop) *schema {
	c := *s
	c.props = append(append([]prop(nil), s.props...), props...)
	return &c
}

// without returns a copy of an object schema without the named properties.
func (s *schema) without(names ...string) *schema {
	c := *s
	c.props = nil
	for _, pr := range s.props {
		drop := false
		for _, n := range names {
			drop = drop || pr.name == n
		}
		if !drop {
			c.props = append(c.props, pr)
		}
	}
	return &c
}

// verr is one validation error.
type verr struct {
	path     string // "" = root, else "/a/b"
	msg      string
	required bool // "must have required property" (printed without "at root")
}

func (e verr) String() string {
	if e.path == "" {
		if e.required {
			return e.msg
		}
		return "at root: " + e.msg
	}
	return "at " + e.path + ": " + e.msg
}

// validator formats errors the way one gateway generation does.
type validator struct {
	firstOnly bool   // v4: report only the first missing/unexpected property per object
	not       string // "NOT" (v3, ajv default) or "not" (v4)
}

// check validates raw against s and returns the joined error text ("" = valid).
// A missing value (raw empty) is validated as {}.
func (vd validator) check(s *schema, raw []byte) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	v, err := parseOrdered(raw)
	if err != nil {
		return "must be object"
	}
	return vd.checkValue(s, v)
}

// checkValue validates a parsed value.
func (vd validator) checkValue(s *schema, v *jvalue) string {
	var errs []verr
	vd.validate(s, v, "", &errs)
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.String()
	}
	return strings.Join(parts, "; ")
}

func (vd validator) validate(s *schema, v *jvalue, path string, errs *[]verr) {
	if s.nullable && v.kind == jNull {
		return
	}
	if s.nullable {
		var inner []verr
		c := *s
		c.nullable = false
		vd.validate(&c, v, path, &inner)
		if len(inner) > 0 {
			*errs = append(*errs, inner...)
			*errs = append(*errs, verr{path: path, msg: "must be null"}, verr{path: path, msg: "must match a schema in anyOf"})
		}
		return
	}
	add := func(msg string) { *errs = append(*errs, verr{path: path, msg: msg}) }
	switch s.kind {
	case sAny:
		return
	case sString:
		if v.kind != jString {
			add("must be string")
			return
		}
		n := utf8.RuneCountInString(v.s)
		switch {
		case s.constVal != nil && v.s != *s.constVal:
			add("must be equal to constant")
		case s.enum != nil && !contains(s.enum, v.s):
			if s.enumAnyOf {
				add("must be equal to constant")
				add("must match a schema in anyOf")
			} else {
				add("must be equal to one of the allowed values")
			}
		case s.minLen > 0 && n < s.minLen:
			add(fmt.Sprintf("must %s have fewer than %d characters", vd.not, s.minLen))
		case s.maxLen > 0 && n > s.maxLen:
			add(fmt.Sprintf("must %s have more than %d characters", vd.not, s.maxLen))
		}
	case sInt, sNumber:
		if v.kind != jNumber {
			if s.kind == sInt {
				add("must be integer")
			} else {
				add("must be number")
			}
			return
		}
		if s.kind == sInt {
			i, err := v.n.Int64()
			if err != nil {
				add("must be integer")
				return
			}
			if s.hasMin && i < s.min {
				add(fmt.Sprintf("must be >= %d", s.min))
			}
		}
	case sBool:
		if v.kind != jBool {
			add("must be boolean")
		}
	case sArray:
		if v.kind != jArray {
			add("must be array")
			return
		}
		if s.items != nil {
			for i, it := range v.items {
				vd.validate(s.items, it, fmt.Sprintf("%s/%d", path, i), errs)
			}
		}
	case sObject:
		if v.kind != jObject {
			add("must be object")
			return
		}
		for _, r := range s.required {
			if v.get(r) == nil {
				*errs = append(*errs, verr{path: path, msg: fmt.Sprintf("must have required property '%s'", r), required: true})
				if vd.firstOnly {
					break
				}
			}
		}
		if !s.open {
			for _, k := range v.keys {
				if s.prop(k) == nil {
					add(fmt.Sprintf("unexpected property '%s'", k))
					if vd.firstOnly {
						break
					}
				}
			}
		}
		for i, k := range v.keys {
			if ps := s.prop(k); ps != nil {
				vd.validate(ps, v.vals[i], path+"/"+k, errs)
			}
		}
	}
}

// prop returns the schema of a named property (nil if unknown).
func (s *schema) prop(name string) *schema {
	for _, pr := range s.props {
		if pr.name == name {
			return pr.s
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
