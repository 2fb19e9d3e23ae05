package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/titanous/json5"
)

const (
	includeKey      = "$include"
	maxIncludeDepth = 10
)

// loader reads one config file: JSON5, then $include, then ${VAR}.
type loader struct {
	// lookup resolves ${VAR}: the value, a description of where it came
	// from, and whether it is set (set to "" counts as not set).
	lookup func(name string) (value, source string, ok bool)
	// strict makes a missing ${VAR} an error (clawdbot) instead of a
	// warning (openclaw).
	strict bool
	// warn records a warning.
	warn func(format string, args ...any)
	// via maps a dotted key path to the origins of the ${VAR}s substituted
	// into it, so that Source can say "via env X".
	via map[string][]string
	// unresolved holds the dotted key paths whose value still contains a
	// ${VAR} reference to an unset variable (openclaw rules only).
	unresolved map[string]bool
}

// load returns the fully resolved config tree of path.
func (l *loader) load(path string) (map[string]any, error) {
	v, err := parseFile(path)
	if err != nil {
		return nil, err
	}
	v, err = l.resolveIncludes(v, path, []string{path})
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: the top level must be an object, not %s", path, kind(v))
	}
	l.via, l.unresolved = map[string][]string{}, map[string]bool{}
	v, err = l.substitute(obj, path, "")
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// parseFile reads and parses one JSON5 file. Syntax errors are reported as
// path:line:col: message. The offending text is never quoted beyond the one
// character the parser names, because the line may hold a secret.
func parseFile(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var v any
	err = json5.Unmarshal(data, &v)
	var syn *json5.SyntaxError
	var typ *json5.UnmarshalTypeError
	switch {
	case err == nil:
		return v, nil
	case errors.As(err, &syn):
		eof := strings.HasPrefix(syn.Error(), "unexpected end")
		line, col := position(data, syn.Offset, eof)
		return nil, fmt.Errorf("%s:%d:%d: %w", path, line, col, syn)
	case errors.As(err, &typ):
		// Its message quotes the literal, e.g. a huge number: leave it out.
		line, col := position(data, typ.Offset, false)
		return nil, fmt.Errorf("%s:%d:%d: invalid %s value", path, line, col, strings.Fields(typ.Value)[0])
	default:
		return nil, fmt.Errorf("%s: cannot parse as JSON5", path)
	}
}

// position turns the parser's offset ("error after reading offset bytes")
// into a 1-based line and column (in characters).
func position(data []byte, offset int64, eof bool) (line, col int) {
	p := int(offset) - 1
	if eof {
		p = len(data)
	}
	p = max(0, min(p, len(data)))
	before := data[:p]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte("\n")) + 1, utf8.RuneCount(before[lineStart:]) + 1
}

// resolveIncludes replaces every object holding "$include" with the
// included content, deep-merging sibling keys over it. file is the file v
// came from; chain lists the files being included, outermost first.
func (l *loader) resolveIncludes(v any, file string, chain []string) (any, error) {
	switch t := v.(type) {
	case []any:
		for i := range t {
			r, err := l.resolveIncludes(t[i], file, chain)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
		return t, nil
	case map[string]any:
		rest := make(map[string]any, len(t))
		for k, val := range t {
			if k == includeKey {
				continue
			}
			r, err := l.resolveIncludes(val, file, chain)
			if err != nil {
				return nil, err
			}
			rest[k] = r
		}
		spec, ok := t[includeKey]
		if !ok {
			return rest, nil
		}
		included, err := l.include(spec, file, chain)
		if err != nil {
			return nil, err
		}
		if len(rest) == 0 {
			return included, nil
		}
		if _, ok := included.(map[string]any); !ok {
			return nil, fmt.Errorf("%s: %s has sibling keys, so it must include an object, not %s", file, includeKey, kind(included))
		}
		return deepMerge(included, rest), nil
	default:
		return v, nil
	}
}

// include loads the file(s) named by a $include value, merged left to right.
func (l *loader) include(spec any, file string, chain []string) (any, error) {
	switch t := spec.(type) {
	case string:
		return l.includeFile(t, file, chain)
	case []any:
		var merged any = map[string]any{}
		for _, item := range t {
			name, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("%s: %s array items must be strings, not %s", file, includeKey, kind(item))
			}
			v, err := l.includeFile(name, file, chain)
			if err != nil {
				return nil, err
			}
			merged = deepMerge(merged, v)
		}
		return merged, nil
	default:
		return nil, fmt.Errorf("%s: %s must be a path or an array of paths, not %s", file, includeKey, kind(spec))
	}
}

// includeFile loads one included file, relative to the including file.
func (l *loader) includeFile(name, from string, chain []string) (any, error) {
	target := name
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(from), target)
	}
	target = filepath.Clean(target)
	if slices.Contains(chain, target) {
		return nil, fmt.Errorf("%s: %s cycle: %s", from, includeKey, strings.Join(append(slices.Clone(chain), target), " -> "))
	}
	if len(chain) > maxIncludeDepth {
		return nil, fmt.Errorf("%s: %s %q: maximum include depth (%d) exceeded: %s", from, includeKey, name, maxIncludeDepth, strings.Join(chain, " -> "))
	}
	v, err := parseFile(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %q: %w", from, includeKey, name, err)
	}
	return l.resolveIncludes(v, target, append(slices.Clone(chain), target))
}

// deepMerge merges src over dst: objects merge recursively, arrays
// concatenate, anything else is replaced by src. Neither input is modified.
func deepMerge(dst, src any) any {
	switch s := src.(type) {
	case []any:
		if d, ok := dst.([]any); ok {
			return append(slices.Clone(d), s...)
		}
	case map[string]any:
		if d, ok := dst.(map[string]any); ok {
			out := make(map[string]any, len(d)+len(s))
			for k, v := range d {
				out[k] = v
			}
			for k, v := range s {
				if old, ok := out[k]; ok {
					v = deepMerge(old, v)
				}
				out[k] = v
			}
			return out
		}
	}
	return src
}

// substitute resolves ${VAR} in every string value below v; keyPath is the
// dotted path of v (e.g. gateway.auth.token, list[0]).
func (l *loader) substitute(v any, file, keyPath string) (any, error) {
	switch t := v.(type) {
	case string:
		return l.substituteString(t, file, keyPath)
	case []any:
		for i := range t {
			r, err := l.substitute(t[i], file, keyPath+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
		return t, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic warnings
		for _, k := range keys {
			child := k
			if keyPath != "" {
				child = keyPath + "." + k
			}
			r, err := l.substitute(t[k], file, child)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
		return t, nil
	default:
		return v, nil
	}
}

// substituteString replaces ${NAME} (NAME matching [A-Z_][A-Z0-9_]*) with
// its value and $${NAME} with a literal ${NAME}. Anything else is kept.
func (l *loader) substituteString(s, file, keyPath string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		escaped := strings.HasPrefix(s[i:], "$${")
		start := i + 2 // just after "${"
		if escaped {
			start++
		}
		name, ok := refName(s, start)
		if !ok {
			b.WriteByte(s[i])
			continue
		}
		end := start + len(name) // index of "}"
		ref := "${" + name + "}"
		i = end
		if escaped {
			b.WriteString(ref)
			continue
		}
		switch value, source, set := l.lookup(name); {
		case set:
			b.WriteString(value)
			l.via[keyPath] = append(l.via[keyPath], source)
		case l.strict:
			return "", fmt.Errorf("%s: %s: environment variable %s is not set (referenced as %s; the clawdbot CLI refuses to load this config)", file, keyPath, name, ref)
		default:
			l.warn("%s: %s references %s, but %s is not set; the value is left unresolved", file, keyPath, ref, name)
			l.unresolved[keyPath] = true
			b.WriteString(ref)
		}
	}
	return b.String(), nil
}

// refName returns NAME if s[start:] is "NAME}" with a valid upper-case name
// and s[start-2:start] is "${".
func refName(s string, start int) (string, bool) {
	if start > len(s) || s[start-2:start] != "${" {
		return "", false
	}
	end := strings.IndexByte(s[start:], '}')
	if end <= 0 {
		return "", false
	}
	name := s[start : start+end]
	for i, c := range name {
		upper := c == '_' || ('A' <= c && c <= 'Z')
		if !upper && (i == 0 || c < '0' || c > '9') {
			return "", false
		}
	}
	return name, true
}

// kind names the JSON type of v for error messages.
func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
