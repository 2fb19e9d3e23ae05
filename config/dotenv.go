package config

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// dotenvKey is a variable name that OpenClaw takes from a .env file: its
// normalizeEnvVarKey with portable: true (src/infra/host-env-security.ts).
var dotenvKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseDotenv parses a .env file as OpenClaw 2026.9.6 does: with the
// parse() of dotenv 17.4.2 (lib/main.js), keeping only the variables whose
// names OpenClaw accepts (letters, digits and underscores, not starting
// with a digit). A later assignment of the same name wins.
//
// dotenv's parse() is one regular expression applied repeatedly (global,
// multi-line):
//
//	^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?$
//
// after \r\n and \r became \n, followed by: trim the value; remove one pair
// of matching outer quotes (/^(['"`])([\s\S]*)\1$/mg); in a value that
// began with a double quote, turn \n and \r into newline and carriage
// return. This function produces the same results without backtracking, in
// time linear in the input (see dotenvMatch for how). Its consequences,
// which a user may not expect:
//
//   - an unquoted value ends at the first '#' (A=x#y is "x");
//   - a quote that is not closed makes the value a literal up to the end of
//     its line (A="x is `"x`), and the following lines are read as usual;
//   - quoted values may span lines; in double quotes only \n and \r are
//     escapes (\" stays a backslash and a quote, and does not end the
//     value);
//   - "KEY: value" works like KEY=value;
//   - JavaScript's \s is wider than ASCII (it includes U+00A0, U+2028 and
//     the BOM), and U+2028 and U+2029 end a line for ^ and $.
//
// Node decodes invalid UTF-8 as U+FFFD; this function keeps such bytes as
// they are.
//
// It also returns the 1-based numbers of the lines that no assignment
// covers although they are neither blank nor comments, and of those whose
// variable name OpenClaw drops, instead of the lines themselves, because
// they may hold secrets.
func parseDotenv(data string) (vars map[string]string, badLines []int) {
	s := strings.ReplaceAll(data, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	vars = map[string]string{}
	var spans [][2]int // the text each assignment covers
	lines := lineCounter{s: s, line: 1}
	for pos := 0; ; {
		p, ok := nextLineStart(s, pos)
		if !ok {
			break
		}
		m, q := dotenvMatch(s, p)
		if !m.ok {
			// Every start up to q fails the same way (its leading
			// whitespace ends at q too): go on after q.
			if q >= len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[q:])
			pos = q + w
			continue
		}
		spans = append(spans, [2]int{p, m.end})
		key := m.key
		if dotenvKey.MatchString(key) && key != "__proto__" {
			// (In JavaScript, assigning a string to obj.__proto__ does
			// nothing, so dotenv never returns that name.)
			vars[key] = dotenvValue(m.value)
		} else {
			badLines = append(badLines, lines.at(m.keyAt))
		}
		pos = m.end
	}
	return vars, mergeBadLines(s, spans, badLines)
}

// dotenvMatchResult is one match of dotenv's expression.
type dotenvMatchResult struct {
	ok    bool
	key   string
	keyAt int    // offset of the key
	value string // the value group as matched ("" if it did not take part)
	end   int    // offset where the match ends
}

// dotenvMatch matches dotenv's expression at p (a line start) and also
// returns q, where the leading \s* ends.
//
// Why this equals the backtracking regular expression, part by part:
//
//   - ^\s*: the key must start with a word character, so only the longest
//     run of whitespace can lead to a match; q is where it ends.
//   - (?:export\s+)?: tried first with "export", whitespace (all of it,
//     for the same reason) and a key; if the rest then fails, again with
//     "export" as (the start of) the key.
//   - ([\w.-]+): the longest run: giving back characters leaves a word
//     character where the separator must start.
//   - \s*= or :\s+? (lazily at least one whitespace), then the value at
//     v: whatever follows, the rest of the expression matches with the
//     fewest whitespace characters after the separator (see
//     dotenvRest), so the lazy quantifiers take that fewest.
func dotenvMatch(s string, p int) (dotenvMatchResult, int) {
	q := skipJSSpace(s, p)
	if strings.HasPrefix(s[q:], "export") {
		if r, w := utf8.DecodeRuneInString(s[q+6:]); w > 0 && isJSSpace(r) {
			if m := dotenvKeyRest(s, skipJSSpace(s, q+6)); m.ok {
				return m, q
			}
		}
	}
	return dotenvKeyRest(s, q), q
}

// dotenvKeyRest matches from the key at k to the end of the expression.
func dotenvKeyRest(s string, k int) dotenvMatchResult {
	e := k
	for e < len(s) && isDotenvKeyByte(s[e]) {
		e++
	}
	if e == k {
		return dotenvMatchResult{}
	}
	var v int // where the value may start
	if x := skipJSSpace(s, e); x < len(s) && s[x] == '=' {
		v = x + 1
	} else if e < len(s) && s[e] == ':' {
		r, w := utf8.DecodeRuneInString(s[e+1:])
		if w == 0 || !isJSSpace(r) {
			return dotenvMatchResult{}
		}
		v = e + 1 + w
	} else {
		return dotenvMatchResult{}
	}
	value, end := dotenvRest(s, v)
	return dotenvMatchResult{ok: true, key: s[k:e], keyAt: k, value: value, end: end}
}

// dotenvRest matches the optional value group and \s*(?:#.*)?$ at v, which
// always succeeds: the value group is tried first, as a regular expression
// engine does:
//
//   - a quoted alternative, when the first non-whitespace character from v
//     (its \s* may cross lines) is its quote: it ends at the last of its
//     possible closing quotes after which the rest matches (see
//     dotenvQuoted);
//   - else [^#\r\n]+, when v is not at '#', a line end or the end: the
//     longest run, after which the rest always matches;
//   - else no value: the rest matches at v, because at v there is '#', a
//     line end or the end of the text.
//
// It returns the value group's text and where the match ends.
func dotenvRest(s string, v int) (string, int) {
	w := skipJSSpace(s, v)
	if w < len(s) && (s[w] == '\'' || s[w] == '"' || s[w] == '`') {
		if c, end, ok := dotenvQuoted(s, w); ok {
			return s[v : c+1], end
		}
	}
	if v < len(s) && s[v] != '#' && s[v] != '\n' {
		m := v + strings.IndexAny(s[v:], "#\n")
		if m < v {
			m = len(s)
		}
		end, _ := dotenvTail(s, m)
		return s[v:m], end
	}
	end, _ := dotenvTail(s, v)
	return "", end
}

// dotenvQuoted matches a quoted alternative whose opening quote is at w:
// the body (?:\\q|[^q])* and the closing quote q. The body can contain q
// only right after a backslash (taking both as \\q), so the possible
// closing quotes are the escaped quotes up to the first unescaped one, and
// that one. Greedy matching tries the last first; it returns the last one
// after which \s*(?:#.*)?$ matches, and where the match then ends.
func dotenvQuoted(s string, w int) (closing, end int, ok bool) {
	q := s[w]
	var candidates []int
	for i := w + 1; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == q {
			candidates = append(candidates, i+1)
			i++
			continue
		}
		if s[i] == q {
			candidates = append(candidates, i)
			break
		}
	}
	for i := len(candidates) - 1; i >= 0; i-- {
		if end, ok := dotenvTail(s, candidates[i]+1); ok {
			return candidates[i], end, true
		}
	}
	return 0, 0, false
}

// dotenvTail matches \s*(?:#.*)?$ at x and returns where it ends. The \s*
// is greedy: from the end of the whitespace run back to x, the first place
// where (?:#.*)?$ matches wins, which is the end of the run if it is at
// the end of the text or at '#' (then .* takes the rest of that line), or
// else the last line end inside the run.
func dotenvTail(s string, x int) (int, bool) {
	y := skipJSSpace(s, x)
	if y == len(s) {
		return y, true
	}
	if s[y] == '#' {
		return lineEnd(s, y), true
	}
	for k := y; k > x; {
		r, w := utf8.DecodeLastRuneInString(s[x:k])
		k -= w
		if isJSLineEnd(r) {
			return k, true
		}
	}
	return 0, false
}

// dotenvValue turns the matched value group into the value, as dotenv
// does: trim, remove outer quotes, and expand \n and \r if the value began
// with a double quote.
func dotenvValue(raw string) string {
	value := strings.TrimFunc(raw, isJSSpace)
	if value == "" {
		return ""
	}
	doubleQuoted := value[0] == '"'
	value = unquoteLines(value)
	if doubleQuoted {
		value = strings.ReplaceAll(value, `\n`, "\n")
		value = strings.ReplaceAll(value, `\r`, "\r")
	}
	return value
}

// unquoteLines is value.replace(/^(['"`])([\s\S]*)\1$/mg, '$2'): from each
// line start (scanning on after each replacement) that holds a quote, the
// text up to the last same quote that ends a line loses both quotes.
func unquoteLines(value string) string {
	var last [256]int // per quote: the last offset of it that ends a line
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == '\'' || c == '"' || c == '`' {
			if r, _ := utf8.DecodeRuneInString(value[i+1:]); i+1 == len(value) || isJSLineEnd(r) {
				last[c] = i
			}
		}
	}
	var b strings.Builder
	done := 0 // value[:done] is written or replaced
	for p := 0; p < len(value); {
		c := value[p]
		if (c == '\'' || c == '"' || c == '`') && last[c] > p {
			b.WriteString(value[done:p])
			b.WriteString(value[p+1 : last[c]])
			done = last[c] + 1
			p = done
		}
		_, w := utf8.DecodeRuneInString(value[p:])
		next, ok := nextLineStart(value, p+w)
		if !ok {
			break
		}
		p = next
	}
	if done == 0 {
		return value
	}
	b.WriteString(value[done:])
	return b.String()
}

// nextLineStart returns the first offset at or after pos where ^ matches in
// multi-line mode: the start of the text or just after a line end.
func nextLineStart(s string, pos int) (int, bool) {
	if pos == 0 {
		return 0, true
	}
	for pos <= len(s) {
		if r, _ := utf8.DecodeLastRuneInString(s[:pos]); isJSLineEnd(r) {
			return pos, true
		}
		if pos == len(s) {
			break
		}
		i := strings.IndexAny(s[pos:], jsLineEnds)
		if i < 0 {
			break
		}
		_, w := utf8.DecodeRuneInString(s[pos+i:])
		pos += i + w
	}
	return 0, false
}

// lineEnd returns the offset of the line end at or after i, or len(s).
func lineEnd(s string, i int) int {
	if j := strings.IndexAny(s[i:], jsLineEnds); j >= 0 {
		return i + j
	}
	return len(s)
}

// skipJSSpace returns the end of the run of JavaScript whitespace at i.
func skipJSSpace(s string, i int) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !isJSSpace(r) {
			break
		}
		i += w
	}
	return i
}

// isJSSpace is JavaScript's \s, which String.prototype.trim also removes.
func isJSSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsLineEnds are the line terminators for ^, $ and . in JavaScript.
const jsLineEnds = "\n\r\u2028\u2029"

// isJSLineEnd is a line terminator for ^, $ and . in JavaScript.
func isJSLineEnd(r rune) bool { return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 }

// isDotenvKeyByte is [\w.-] (ASCII only, as without the u flag).
func isDotenvKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// lineCounter finds the 1-based line number (lines end at \n) of
// offsets that only grow, in time linear in the text.
type lineCounter struct {
	s         string
	pos, line int // line is the number of the line holding pos
}

func (c *lineCounter) at(i int) int {
	c.line += strings.Count(c.s[c.pos:i], "\n")
	c.pos = i
	return c.line
}

// mergeBadLines adds to bad the lines that no span covers and that are
// neither blank nor comments, and sorts them.
func mergeBadLines(s string, spans [][2]int, bad []int) []int {
	line, start := 1, 0
	si := 0
	for start <= len(s) {
		end := strings.IndexByte(s[start:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		for si < len(spans) && spans[si][1] < start {
			si++
		}
		covered := si < len(spans) && spans[si][0] <= end
		text := strings.TrimFunc(s[start:end], isJSSpace)
		if !covered && text != "" && text[0] != '#' {
			bad = append(bad, line)
		}
		if end == len(s) {
			break
		}
		line, start = line+1, end+1
	}
	sort.Ints(bad)
	return slices.Compact(bad)
}
