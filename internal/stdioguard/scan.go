package stdioguard

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
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

// keyIs reports whether a raw key (escapes and all) names want exactly,
// as encoding/json matches the keys of a map.
func keyIs(raw []byte, want string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == want
	}
	s, ok := jsonString(quote(raw))
	return ok && s == want
}

// keyFold reports whether a raw key names want as encoding/json matches
// the fields of a struct: without regard to case (Unicode case folding,
// so "ID" and "Id" are "id", and "ſ" is "s"). mcp-go decodes the envelope
// and params of a message into structs, so this is how it reads "id",
// "method", "params", "_meta" and "name".
func keyFold(raw []byte, want string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return bytes.EqualFold(raw, []byte(want))
	}
	s, ok := jsonString(quote(raw))
	return ok && strings.EqualFold(s, want)
}

func quote(raw []byte) []byte {
	q := make([]byte, 0, len(raw)+2)
	return append(append(append(q, '"'), raw...), '"')
}

// lastMember returns the extent in b of the value of the last member of
// the object b whose key matches (encoding/json keeps the last of
// duplicate keys), and false when there is none or b is not an object.
func lastMember(b []byte, match func(key []byte) bool) (start, end int, ok bool) {
	members(b, func(m member) bool {
		if match(m.key) {
			start, end, ok = m.start, m.end, true
		}
		return true
	})
	return start, end, ok
}

// jsonString decodes a raw JSON string value.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// idKey is the canonical form of a JSON-RPC id or progress token: equal
// for the same JSON value, so that 7, 7.0 and 70e-1 are one id, and "a"
// and "\u0061" another, and different for different values: 7 and "7"
// differ, and so do 9007199254740993 and 9007199254740992 (numbers are
// compared exactly, not as float64). It is "" for a value that is neither
// a string nor a number (null, true, objects, arrays, garbage).
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
		return numberKey(raw)
	}
	return ""
}

// numberKey returns "n" and the exact value of the JSON number raw as
// [-]digits"e"exponent, with no leading or trailing zeros in digits ("n0"
// for zero, negative or not), or "" if raw is not a JSON number. A number
// whose exponent has more than 9 digits is keyed by its text.
func numberKey(raw []byte) string {
	i, neg := 0, false
	if i < len(raw) && raw[i] == '-' {
		neg = true
		i++
	}
	digitsFrom := func(j int) int {
		for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
			j++
		}
		return j
	}
	intEnd := digitsFrom(i)
	if intEnd == i || (raw[i] == '0' && intEnd > i+1) {
		return ""
	}
	intPart, frac := raw[i:intEnd], []byte(nil)
	i = intEnd
	if i < len(raw) && raw[i] == '.' {
		end := digitsFrom(i + 1)
		if end == i+1 {
			return ""
		}
		frac, i = raw[i+1:end], end
	}
	exp := 0
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		eneg := false
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			eneg = raw[i] == '-'
			i++
		}
		end := digitsFrom(i)
		if end == i {
			return ""
		}
		if end-i > 9 {
			if end != len(raw) {
				return ""
			}
			return "x" + string(raw)
		}
		exp, _ = strconv.Atoi(string(raw[i:end]))
		if eneg {
			exp = -exp
		}
		i = end
	}
	if i != len(raw) {
		return ""
	}
	digits := make([]byte, 0, len(intPart)+len(frac))
	digits = append(append(digits, intPart...), frac...)
	exp -= len(frac)
	digits = bytes.TrimLeft(digits, "0")
	n := len(digits)
	digits = bytes.TrimRight(digits, "0")
	exp += n - len(digits)
	if len(digits) == 0 {
		return "n0"
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return "n" + sign + string(digits) + "e" + strconv.Itoa(exp)
}
