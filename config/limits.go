package config

import "fmt"

// Limits on what discovery reads (see "Limits" in the package
// documentation for why these values).
const (
	// maxConfigFileBytes is the most read from one config or included
	// file: OpenClaw's own limit for an included file
	// (MAX_INCLUDE_FILE_BYTES in src/config/includes.ts).
	maxConfigFileBytes = 2 << 20
	// maxConfigTotalBytes is the most read from the config and its
	// included files together, counting a file each time it is included.
	maxConfigTotalBytes = 4 << 20
	// maxIncludeFiles is the most files read for one config: the config
	// itself and its included files, counting a file each time it is
	// included.
	maxIncludeFiles = 100
	// maxNesting is the deepest that objects and arrays may be nested in
	// one file.
	maxNesting = 64
	// maxExpandedBytes is the most text that ${VAR} substitution may add
	// to a config in all.
	maxExpandedBytes = 1 << 20
	// maxVarWarnings is the most warnings about unset ${VAR}s; the rest
	// are counted in one more.
	maxVarWarnings = 20
	// maxDotenvBytes is the largest .env file read: OpenClaw's
	// MAX_DOTENV_FILE_BYTES (src/infra/dotenv-global-core.ts), which
	// skips a larger file with a warning, as clawgate does.
	maxDotenvBytes = 1 << 20
	// maxShownKeyPath is the longest key path shown in a warning or an
	// error, and the longest recorded for Source; longer ones are cut.
	maxShownKeyPath = 200
)

// sizeString renders a limit in bytes for messages: "2 MiB", "512 KiB".
func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// nestingError returns the offset in data of the bracket that first nests
// objects and arrays more than limit levels deep, and ok false if none
// does. It follows the scanner of github.com/titanous/json5 v1.0.0, quirks
// included, so that for a document that scanner accepts it counts exactly
// the brackets that the parser recurses on (not those inside strings and
// comments). It costs one pass over data and allocates nothing, so that it
// can run before that parser, which recurses once per level and overflows
// the stack on a few megabytes of brackets. For a document the scanner
// refuses the answer does not matter: the scanner checks the whole text
// before the parser recurses.
func nestingError(data []byte, limit int) (offset int, ok bool) {
	const (
		code = iota
		inString
		inLineComment
		inBlockComment
		inBlockCommentStar
	)
	state, quote, depth := code, byte(0), 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch state {
		case inString:
			switch c {
			case '\\':
				i++ // the escaped byte; an escaped newline continues the string
			case quote:
				state = code
			}
		case inLineComment:
			if c == '\n' || c == '\r' {
				state = code
			}
		case inBlockComment:
			if c == '*' {
				state = inBlockCommentStar
			}
		case inBlockCommentStar:
			// As the json5 scanner does (stateMaybeEndBlockComment), a
			// block comment ends at the first '/' anywhere after its first
			// '*', not only right after it.
			if c == '/' {
				state = code
			}
		default:
			switch c {
			case '"', '\'':
				state, quote = inString, c
			case '/':
				if i+1 < len(data) && data[i+1] == '/' {
					state = inLineComment
					i++
				} else if i+1 < len(data) && data[i+1] == '*' {
					state = inBlockComment
					i++
				}
			case '[', '{':
				depth++
				if depth > limit {
					return i, true
				}
			case ']', '}':
				depth--
			}
		}
	}
	return 0, false
}
