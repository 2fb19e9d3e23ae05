package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
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

// loader reads one config file: JSON5, then $include, then ${VAR}. It
// enforces the limits in limits.go; its counters say how much it read.
type loader struct {
	// ctx stops the loader between files; nil means never.
	ctx context.Context
	// lookup resolves ${VAR}: the value, a description of where it came
	// from, and whether it is set (set to "" counts as not set).
	lookup func(name string) (value, source string, ok bool)
	// strict makes a missing ${VAR} an error (clawdbot) instead of a
	// warning (openclaw).
	strict bool
	// warn records a warning.
	warn func(format string, args ...any)
	// opened, if set, is called for every file read (the config and each
	// included file) with what fstat said about it.
	opened func(path string, info fs.FileInfo)
	// name names the config file itself in messages about reading it,
	// e.g. "config file /x (from flag --config)"; "" means its path.
	name string
	// via maps a dotted key path to the origins of the ${VAR}s substituted
	// into it, so that Source can say "via env X". Key paths longer than
	// maxShownKeyPath are not recorded (discovery asks only for short
	// ones).
	via map[string][]string
	// unresolved holds the dotted key paths whose value still contains a
	// ${VAR} reference to an unset variable (openclaw rules only; short
	// key paths only, as for via).
	unresolved map[string]bool

	files    int   // files read: the config and its includes, counting repeats
	bytes    int64 // bytes read from them
	expanded int   // bytes that ${VAR} substitution put in
	missing  int   // references to unset variables (openclaw rules)
}

// load returns the fully resolved config tree of path.
func (l *loader) load(path string) (map[string]any, error) {
	if l.ctx == nil {
		l.ctx = context.Background()
	}
	name := l.name
	if name == "" {
		name = path
	}
	v, err := l.parseFile(path, name, "point it at the config file itself")
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
	v, err = l.substitute(obj, path, &keyPath{})
	if err != nil {
		return nil, err
	}
	if n := l.missing - maxVarWarnings; n > 0 {
		l.warn("%s: and %d more references to unset variables, not listed one by one", path, n)
	}
	return v.(map[string]any), nil
}

// parseFile reads and parses one JSON5 file, the config itself or an
// included one; what names it in errors and fix says how to fix a path
// that names no regular file. Syntax errors are reported as
// path:line:col: message. The offending text is never quoted beyond the
// one character the parser names, because the line may hold a secret.
func (l *loader) parseFile(path, what, fix string) (any, error) {
	if l.files >= maxIncludeFiles {
		return nil, fmt.Errorf("more than %d files to read (the config and its included files, counting a file each time it is included), the most clawgate reads for one config: include each file once, not from several places", maxIncludeFiles)
	}
	l.files++
	limit := min(maxConfigFileBytes, maxConfigTotalBytes-l.bytes)
	data, info, err := readRegular(l.ctx, path, what, limit)
	var notRegular *notRegularError
	var tooLarge *tooLargeError
	switch {
	case errors.As(err, &notRegular):
		return nil, fmt.Errorf("%w; clawgate reads only regular files, because a pipe or a device could block it forever or never end: %s", err, fix)
	case errors.As(err, &tooLarge) && limit < maxConfigFileBytes:
		return nil, fmt.Errorf("reading %s would make the config and its included files add up to more than %s (counting a file each time it is included), the most clawgate reads for one config: include fewer or smaller files",
			what, sizeString(maxConfigTotalBytes))
	case errors.As(err, &tooLarge):
		return nil, fmt.Errorf("%w, the most clawgate reads from one config file (OpenClaw's own limit for an included file): check that it names the real config file", err)
	case err != nil:
		return nil, err
	}
	l.bytes += int64(len(data))
	if l.opened != nil {
		l.opened(path, info)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if offset, deep := nestingError(data, maxNesting); deep {
		line, col := position(data, int64(offset)+1, false)
		return nil, fmt.Errorf("%s:%d:%d: objects and arrays nested more than %d levels deep, the most clawgate accepts (real configs need fewer than 10): flatten the structure",
			path, line, col, maxNesting)
	}
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
			// In place: deepMerge would copy what is merged so far once
			// per item, quadratic in the number of items.
			merged = mergeInto(merged, v)
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
	v, err := l.parseFile(target, target, "include a regular file")
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

// mergeInto merges src over dst like deepMerge, but may reuse dst (and
// link src's parts into it): for trees that nothing else refers to, which
// every tree the loader builds is (each parse makes a new one).
func mergeInto(dst, src any) any {
	switch s := src.(type) {
	case []any:
		if d, ok := dst.([]any); ok {
			return append(d, s...)
		}
	case map[string]any:
		if d, ok := dst.(map[string]any); ok {
			for k, v := range s {
				if old, ok := d[k]; ok {
					v = mergeInto(old, v)
				}
				d[k] = v
			}
			return d
		}
	}
	return src
}

// keyPath is the path of the value being substituted, such as
// gateway.auth.token or list[0], kept as its parts and rendered only when
// a string holds a ${VAR}: building the path at every level cost time and
// memory quadratic in the depth.
type keyPath struct {
	parts []pathPart
}

// pathPart is a key or an array index.
type pathPart struct {
	key   string
	index int // >= 0 for an array element
}

func (p *keyPath) push(part pathPart) { p.parts = append(p.parts, part) }
func (p *keyPath) pop()               { p.parts = p.parts[:len(p.parts)-1] }

// render returns the dotted path, cut to at most maxShownKeyPath bytes
// (plus "…"), and whether it is whole.
func (p *keyPath) render() (string, bool) {
	var b strings.Builder
	for _, part := range p.parts {
		if b.Len() > maxShownKeyPath {
			break
		}
		switch {
		case part.index >= 0:
			b.WriteString("[" + strconv.Itoa(part.index) + "]")
		case b.Len() > 0:
			b.WriteString(".")
			b.WriteString(part.key[:min(len(part.key), maxShownKeyPath+1)])
		default:
			b.WriteString(part.key[:min(len(part.key), maxShownKeyPath+1)])
		}
	}
	s := b.String()
	if len(s) <= maxShownKeyPath {
		return s, true
	}
	cut := maxShownKeyPath
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…", false
}

// substitute resolves ${VAR} in every string value below v; path is the
// path of v.
func (l *loader) substitute(v any, file string, path *keyPath) (any, error) {
	switch t := v.(type) {
	case string:
		return l.substituteString(t, file, path)
	case []any:
		for i := range t {
			path.push(pathPart{index: i})
			r, err := l.substitute(t[i], file, path)
			path.pop()
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
			path.push(pathPart{key: k, index: -1})
			r, err := l.substitute(t[k], file, path)
			path.pop()
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
func (l *loader) substituteString(s, file string, path *keyPath) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	keyPath, whole := path.render()
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
		case set && l.expanded+len(value) > maxExpandedBytes:
			return "", fmt.Errorf("%s: %s: substituting %s makes the values that ${VAR} substitution puts in the config add up to more than %s, the most clawgate accepts (${VAR} is meant for short values such as tokens): reference large variables less often",
				file, keyPath, ref, sizeString(maxExpandedBytes))
		case set:
			l.expanded += len(value)
			b.WriteString(value)
			if whole {
				l.via[keyPath] = append(l.via[keyPath], source)
			}
		case l.strict:
			return "", fmt.Errorf("%s: %s: environment variable %s is not set (referenced as %s; the clawdbot CLI refuses to load this config)", file, keyPath, name, ref)
		default:
			if l.missing++; l.missing <= maxVarWarnings {
				l.warn("%s: %s references %s, but %s is not set; the value is left unresolved", file, keyPath, ref, name)
			}
			if whole {
				l.unresolved[keyPath] = true
			}
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
