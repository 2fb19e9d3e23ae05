package gatewaysim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// obj is a decoded JSON object. Numbers are json.Number so that recorded
// values survive a decode/encode round trip unchanged.
type obj = map[string]any

// decodeJSON decodes b with UseNumber.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeObj decodes b into a JSON object; a non-object yields nil.
func decodeObj(b []byte) obj {
	v, err := decodeJSON(b)
	if err != nil {
		return nil
	}
	m, _ := v.(obj)
	return m
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch t := v.(type) {
	case obj:
		m := make(obj, len(t))
		for k, x := range t {
			m[k] = clone(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = clone(x)
		}
		return a
	default:
		return v
	}
}

// cloneObj deep-copies an object.
func cloneObj(m obj) obj {
	if m == nil {
		return nil
	}
	return clone(m).(obj)
}

// sub returns m[key] as an object (nil if absent or not an object).
func sub(m obj, key string) obj {
	if m == nil {
		return nil
	}
	o, _ := m[key].(obj)
	return o
}

// str returns m[key] as a string ("" if absent or not a string).
func str(m obj, key string) string {
	if m == nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

// num converts a decoded JSON number (json.Number, float64 or int types) to int64.
func num(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n, true
		}
		if f, err := t.Float64(); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(t), true
	case int:
		return int64(t), true
	case int64:
		return t, true
	}
	return 0, false
}

// firstObj returns the first element of m[key] if it is an array of objects.
func firstObj(m obj, key string) obj {
	a, _ := m[key].([]any)
	if len(a) == 0 {
		return nil
	}
	o, _ := a[0].(obj)
	return o
}

// Recorded timestamps are epoch milliseconds in this range; render shifts
// them so that relative times inside a template stay coherent.
const (
	minEpochMs = 1_600_000_000_000
	maxEpochMs = 2_100_000_000_000
)

// rewriter substitutes recorded identifiers and shifts recorded timestamps
// while deep-copying a template.
type rewriter struct {
	repl  *strings.Replacer // nil: no string substitution
	shift int64             // added to every epoch-millisecond number
}

// newRewriter builds a rewriter from old/new pairs. Empty or identical pairs
// are skipped; longer old strings win over shorter ones that they contain.
func newRewriter(shift int64, pairs ...string) rewriter {
	var kept []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != "" && pairs[i] != pairs[i+1] {
			kept = append(kept, pairs[i], pairs[i+1])
		}
	}
	// strings.Replacer prefers earlier pairs at the same position: sort longest first.
	for i := 0; i < len(kept); i += 2 {
		for j := i + 2; j < len(kept); j += 2 {
			if len(kept[j]) > len(kept[i]) {
				kept[i], kept[j] = kept[j], kept[i]
				kept[i+1], kept[j+1] = kept[j+1], kept[i+1]
			}
		}
	}
	rw := rewriter{shift: shift}
	if len(kept) > 0 {
		rw.repl = strings.NewReplacer(kept...)
	}
	return rw
}

// apply returns a rewritten deep copy of v.
func (rw rewriter) apply(v any) any {
	switch t := v.(type) {
	case obj:
		m := make(obj, len(t))
		for k, x := range t {
			m[k] = rw.apply(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = rw.apply(x)
		}
		return a
	case string:
		if rw.repl != nil {
			return rw.repl.Replace(t)
		}
		return t
	case json.Number:
		if rw.shift != 0 {
			if n, err := strconv.ParseInt(string(t), 10, 64); err == nil && n >= minEpochMs && n <= maxEpochMs {
				return json.Number(strconv.FormatInt(n+rw.shift, 10))
			}
		}
		return t
	default:
		return v
	}
}

// applyObj is apply for objects.
func (rw rewriter) applyObj(m obj) obj {
	if m == nil {
		return nil
	}
	return rw.apply(m).(obj)
}

// setModelPairs walks v and, in every object that names the recorded model
// (provider+model or modelProvider+model), substitutes the new one.
func setModelPairs(v any, oldP, oldM, newP, newM string) {
	if oldP == newP && oldM == newM {
		return
	}
	switch t := v.(type) {
	case obj:
		for _, pk := range []string{"provider", "modelProvider"} {
			if str(t, pk) == oldP && str(t, "model") == oldM {
				t[pk] = newP
				t["model"] = newM
				if _, ok := t["responseModel"]; ok {
					t["responseModel"] = newM
				}
			}
		}
		for _, x := range t {
			setModelPairs(x, oldP, oldM, newP, newM)
		}
	case []any:
		for _, x := range t {
			setModelPairs(x, oldP, oldM, newP, newM)
		}
	}
}

// mustJSON marshals v; values built by this package always marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("gatewaysim: marshal: " + err.Error())
	}
	return b
}
