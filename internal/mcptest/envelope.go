package mcptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// decodeEnvelope decodes the top level of the JSON object in line into m:
// the members jsonrpc, method and error are decoded, id, params and result
// are kept as slices of line (not copied). It walks the structure of the
// whole line (objects, arrays, strings, the delimiters between them) but
// does not check numbers, literals and escapes inside the values: json.Valid
// does where that is wanted. This keeps the client's cost per message one
// pass over the line, which the benchmarks measure.
func decodeEnvelope(line []byte, m *Message) error {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errors.New("not a JSON object")
	}
	end, err := walkObject(line, i, 1, m.set)
	if err != nil {
		return err
	}
	if skipSpace(line, end) != len(line) {
		return errors.New("data after the object")
	}
	return nil
}

// set stores the member name with value v.
func (m *Message) set(name string, v []byte) error {
	switch name {
	case "jsonrpc":
		return json.Unmarshal(v, &m.JSONRPC)
	case "id":
		m.ID = v
	case "method":
		return json.Unmarshal(v, &m.Method)
	case "params":
		m.Params = v
	case "result":
		m.Result = v
	case "error":
		m.Error = nil
		if string(v) != "null" {
			m.Error = &RPCError{}
			return json.Unmarshal(v, m.Error)
		}
	}
	return nil
}

// maxDepth bounds the nesting of the values walked, as encoding/json does.
const maxDepth = 10000

// walkObject walks the object whose opening brace is at b[i], calling
// member (if not nil) with each member's name and value, and returns the
// index just after its closing brace.
func walkObject(b []byte, i, depth int, member func(name string, value []byte) error) (int, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		nameEnd, err := skipString(b, i)
		if err != nil {
			return 0, fmt.Errorf("a member name: %w", err)
		}
		name := b[i:nameEnd]
		i = skipSpace(b, nameEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, fmt.Errorf("no colon after the member name %s", name)
		}
		start := skipSpace(b, i+1)
		end, err := skipValue(b, start, depth)
		if err != nil {
			return 0, fmt.Errorf("member %s: %w", name, err)
		}
		if member != nil {
			s, err := unquote(name)
			if err == nil {
				err = member(s, b[start:end])
			}
			if err != nil {
				return 0, fmt.Errorf("member %s: %w", name, err)
			}
		}
		var done bool
		if i, done, err = afterItem(b, end, '}'); err != nil || done {
			return i, err
		}
	}
}

// walkArray walks the array whose opening bracket is at b[i] and returns
// the index just after its closing bracket.
func walkArray(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := skipValue(b, i, depth)
		if err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = afterItem(b, end, ']'); err != nil || done {
			return i, err
		}
	}
}

// afterItem looks at what follows an item of an object or array that ends
// at end: at a comma it returns where the next item starts, at the closing
// byte close the index just after it and done.
func afterItem(b []byte, end int, close byte) (next int, done bool, err error) {
	i := skipSpace(b, end)
	switch {
	case i >= len(b):
		return 0, false, fmt.Errorf("no %q at the end", close)
	case b[i] == ',':
		return skipSpace(b, i+1), false, nil
	case b[i] == close:
		return i + 1, true, nil
	}
	return 0, false, fmt.Errorf("%q where a comma or %q belongs", b[i], close)
}

// skipValue returns the index just after the value that starts at b[i].
// depth is the nesting of the value's parent.
func skipValue(b []byte, i, depth int) (int, error) {
	if depth >= maxDepth {
		return 0, errors.New("nested too deeply")
	}
	if i >= len(b) {
		return 0, errors.New("want a value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{':
		return walkObject(b, i, depth+1, nil)
	case '[':
		return walkArray(b, i, depth+1)
	}
	j := i // a number or a literal: up to the next delimiter
	for j < len(b) && !isDelimiter(b[j]) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("want a value, not %q", b[i])
	}
	return j, nil
}

// skipString returns the index just after the string whose opening quote
// is at b[i].
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, errors.New("want a string")
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++ // the escaped byte
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

// unquote returns the value of a quoted member name.
func unquote(quoted []byte) (string, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// isDelimiter reports whether c ends a number or a literal.
func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}
