package stdioguard

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// A minimal JSON scanner: it finds the members of an object and the extent
// of their values without decoding or validating what it skips, so that a
// multi-megabyte tool result costs one pass over its bytes, or none when
// the members that matter come first. Anything it cannot make sense of is
// reported as not found, and the line is then passed through untouched.

// member is one member of a JSON object: the raw key (between the quotes)
// and the value's extent in the scanned buffer.
type member struct {
	key        []byte
	start, end int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string whose opening quote is
// at b[i], or -1.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
	return -1
}

// skipValue returns the index just past the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				k := skipString(b, j)
				if k < 0 {
					return -1
				}
				j = k - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case '}', ']', ',', ':':
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			j++
		}
		return j
	}
}

// members calls fn for each member of the object that b holds (surrounding
// whitespace allowed) until fn returns false. It reports whether b is an
// object whose members could all be delimited (true also when fn stopped
// early).
func members(b []byte, fn func(m member) bool) bool {
	return scanMembers(b, nil, fn)
}

// scanMembers is members with a check made on each key before its value
// is skipped: when stop returns true, scanning ends there (reported as
// true), without the cost of skipping a large value.
func scanMembers(b []byte, stop func(key []byte) bool, fn func(m member) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		kend := skipString(b, i)
		if kend < 0 {
			return false
		}
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		if stop != nil && stop(key) {
			return true
		}
		i = skipSpace(b, i+1)
		end := skipValue(b, i)
		if end < 0 {
			return false
		}
		if !fn(member{key: key, start: i, end: end}) {
			return true
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// keyIs reports whether a raw key (escapes and all) names want.
func keyIs(raw []byte, want string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == want
	}
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	return json.Unmarshal(q, &s) == nil && s == want
}

// field returns the raw value of the member key of the object b, or nil.
func field(b []byte, key string) []byte {
	var v []byte
	members(b, func(m member) bool {
		if keyIs(m.key, key) {
			v = b[m.start:m.end]
			return false
		}
		return true
	})
	return v
}

// jsonString decodes a raw JSON string value.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// idKey is the canonical form of a JSON-RPC id or progress token, so that
// 7, 7.0 and 7e0 are one id, and "a" and "\u0061" another; it is "" for a
// value that is neither a string nor a number (null, objects, garbage).
// Numbers go through float64 as in mcp-go, which echoes ids that way.
func idKey(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		s, ok := jsonString(raw)
		if !ok {
			return ""
		}
		return "s" + s
	case c == '-' || (c >= '0' && c <= '9'):
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return ""
		}
		return "n" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return ""
}
