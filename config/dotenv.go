package config

import (
	"regexp"
	"strings"
)

var dotenvKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// parseDotenv parses a .env file: KEY=VALUE lines, an optional "export "
// prefix, blank lines and # comments. Values may be unquoted (an inline
// comment starts at " #"), 'single-quoted' (literal), `backquoted` (literal)
// or "double-quoted" (\n, \r, \t, \" and \\ escapes). Quoted values may span
// several lines. A later assignment of the same key wins.
//
// It returns the 1-based numbers of lines it could not parse instead of the
// lines themselves, because they may hold secrets.
func parseDotenv(data string) (vars map[string]string, badLines []int) {
	vars = map[string]string{}
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		if i == 0 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !dotenvKey.MatchString(key) {
			badLines = append(badLines, lineNo)
			continue
		}
		value = strings.TrimLeft(value, " \t")
		if value == "" || !strings.ContainsRune(`"'`+"`", rune(value[0])) {
			vars[key] = unquotedValue(value)
			continue
		}
		// Quoted: consume further lines until the closing quote.
		quote := value[0]
		text := value[1:]
		end := closingQuote(text, quote)
		for end < 0 && i+1 < len(lines) {
			i++
			text += "\n" + lines[i]
			end = closingQuote(text, quote)
		}
		if end < 0 {
			badLines = append(badLines, lineNo)
			continue
		}
		text = text[:end]
		if quote == '"' {
			text = unescapeDouble(text)
		}
		vars[key] = text
	}
	return vars, badLines
}

// unquotedValue strips an inline " #" comment and surrounding blanks.
func unquotedValue(v string) string {
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			v = v[:i]
			break
		}
	}
	return strings.TrimSpace(v)
}

// closingQuote returns the index of the quote that closes text, or -1.
// Inside double quotes a backslash escapes the next character.
func closingQuote(text string, quote byte) int {
	for i := 0; i < len(text); i++ {
		switch {
		case quote == '"' && text[i] == '\\':
			i++
		case text[i] == quote:
			return i
		}
	}
	return -1
}

// unescapeDouble resolves the escapes allowed in double-quoted values.
func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
