// Package jsonanswer makes a subagent's answer structured: it compiles the
// JSON Schema a caller gives as ask_subagent's output_schema, tells the
// subagent to answer with one JSON value matching it, finds that value in
// the reply (tolerating code fences and prose around it), validates it, and
// words what is wrong as short sentences a model can act on, for one repair
// turn.
//
// Schemas are compiled with santhosh-tekuri/jsonschema (draft 2020-12
// unless "$schema" names another draft; formats are asserted). Nothing is
// ever loaded from the network or the file system: a "$ref" must point into
// the schema itself.
package jsonanswer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clawgate/clawgate/internal/safetext"
)

// Bounds.
const (
	// MaxSchemaBytes is the largest output schema accepted (64 KiB).
	MaxSchemaBytes = 64 << 10
	// MaxPreviousBytes bounds how much of a previous answer a fresh
	// repair prompt quotes (4 KiB).
	MaxPreviousBytes = 4 << 10
	// MaxProblems bounds how many problems Check reports; the last one
	// may be "and N more problems".
	MaxProblems = 10
	// MaxProblemRunes bounds the length of one problem.
	MaxProblemRunes = 300
)

// Schema is a compiled output schema. It is safe for concurrent use.
type Schema struct {
	compiled *jsonschema.Schema
	doc      any    // the decoded schema, for property names in problems
	base     string // the location the schema was compiled at
	compact  string // the schema as compact JSON, for the instruction
}

// location is where the schema is registered with the compiler. The mem
// scheme has no loader: relative references resolve to mem:/// URLs that
// nothing can load.
const location = "mem:///output_schema.json"

// Compile checks and compiles an output schema given as JSON. Its errors are
// sentences that start with "output_schema " and say what is wrong and what
// to do: not a JSON object, too large, not a valid JSON Schema (at which
// keyword), a "$ref" that points outside the schema or to nothing, a
// "$schema" that names no known draft.
func Compile(raw json.RawMessage) (*Schema, error) {
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")):
		return nil, errors.New(`output_schema is empty; pass a JSON Schema object, for example {"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`)
	case len(raw) > MaxSchemaBytes:
		return nil, fmt.Errorf(`output_schema is %d bytes, more than the limit of %d bytes (64 KiB); make it smaller, for example by moving repeated parts into "$defs"`, len(raw), MaxSchemaBytes)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(trimmed))
	if err != nil {
		return nil, fmt.Errorf("output_schema is not valid JSON (%s); pass a JSON Schema object", syntaxError(trimmed))
	}
	switch doc.(type) {
	case map[string]any:
	case string:
		return nil, errors.New("output_schema must be a JSON object (a JSON Schema), not a string; pass the schema object itself, not a string that contains it")
	default:
		return nil, fmt.Errorf(`output_schema must be a JSON object (a JSON Schema), not %s; pass for example {"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`, typeName(doc))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	c.AssertFormat()
	if err := c.AddResource(location, doc); err != nil {
		return nil, fmt.Errorf("output_schema could not be registered (%s); check its \"$id\"", cleanURLs(err.Error()))
	}
	compiled, err := c.Compile(location)
	if err != nil {
		return nil, compileError(err, doc)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, trimmed); err != nil {
		return nil, fmt.Errorf("output_schema could not be compacted: %w", err)
	}
	return &Schema{compiled: compiled, doc: doc, base: location, compact: compact.String()}, nil
}

// refuseLoader loads nothing: an output schema is self-contained.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, errors.New("clawgate loads no schema from outside the output schema")
}

// Instruction is the text to append to the subagent's task (after a blank
// line): answer with exactly one JSON value matching the schema (printed
// compactly), with no prose, code fence or comments around it.
func (s *Schema) Instruction() string {
	return "Your answer must be a single JSON value that matches this JSON Schema:\n" +
		s.compact + "\n" +
		"Reply with that JSON value only: no text before or after it, no Markdown code fence, no comments."
}

// Check finds the JSON answer in a reply and validates it. When it is valid,
// value is the answer as compact JSON and problems is nil. Otherwise value
// is nil and problems (at least one, at most MaxProblems, each at most
// MaxProblemRunes long) say what is wrong: "the answer has no JSON value",
// "at /items/0/price: expected number, got string \"12\"", …
//
// Of several JSON values in a reply, the first that validates is the
// answer. When none does, the problems are those of the first whose type
// at the top level the schema accepts (else of the first).
func (s *Schema) Check(reply string) (value json.RawMessage, problems []string) {
	if len(reply) > MaxReplyBytes {
		return nil, []string{tooLarge(len(reply))}
	}
	f := newFinder(reply)
	var (
		best      []string
		bestFits  bool
		tried     int
		validated json.RawMessage
	)
	f.each(func(c candidate) bool {
		tried++
		ps, fits := s.validate(c.value)
		if len(ps) == 0 {
			validated = c.value
			return false
		}
		if best == nil || (fits && !bestFits) {
			best, bestFits = ps, fits
		}
		return tried < maxCandidates
	})
	if validated != nil {
		var b bytes.Buffer
		if err := json.Compact(&b, validated); err != nil {
			return nil, []string{"the answer could not be compacted: " + err.Error()}
		}
		return json.RawMessage(b.Bytes()), nil
	}
	if best == nil {
		return nil, []string{f.noJSON().Error()}
	}
	if f.syntax != "" && len(best) < MaxProblems {
		best = append(best, f.syntax)
	}
	return nil, best
}

// validate checks one candidate. fits reports whether the schema accepts
// the value's type at the top level.
func (s *Schema) validate(raw []byte) (problems []string, fits bool) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []string{"the answer is not valid JSON (" + syntaxError(raw) + ")"}, false
	}
	var found []problem
	found = duplicateKeys(raw, found)
	if err := s.compiled.Validate(v); err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			return []string{"the answer could not be checked: " + clip(cleanURLs(err.Error()), 200)}, false
		}
		found = s.collect(verr, v, found)
	}
	if len(found) == 0 {
		return nil, true
	}
	fits = true
	for _, p := range found {
		if p.rootType {
			fits = false
		}
	}
	return texts(found), fits
}

// RepairPrompt is the follow-up message, in the same session, after an
// answer with problems: the problems (bounded), then the instruction again.
func (s *Schema) RepairPrompt(problems []string) string {
	return "Your previous answer was not accepted:\n" + problemList(problems) +
		"Give your whole answer again, corrected.\n" + s.Instruction()
}

// RepairPromptFresh is a self-contained message for a new model call that
// has no history: the task, the previous answer (quoted line by line, cut
// at MaxPreviousBytes with a marker), its problems, and the instruction.
// Nothing in the previous answer can end the quotation: every line of it
// starts with "> ", and control characters are escaped.
func (s *Schema) RepairPromptFresh(task, previous string, problems []string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(task, " \t\r\n"))
	b.WriteString("\n\nAn earlier answer to this task was not accepted. It is quoted below, every line starting with \"> \"")
	shown := previous
	if len(previous) > MaxPreviousBytes {
		shown = cutUTF8(previous, MaxPreviousBytes)
		fmt.Fprintf(&b, " (its first %d of %d bytes)", len(shown), len(previous))
	}
	b.WriteString(":\n")
	for _, line := range strings.Split(safetext.Text(shown), "\n") {
		b.WriteString("> ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if len(shown) < len(previous) {
		fmt.Fprintf(&b, "[… %d more bytes not shown]\n", len(previous)-len(shown))
	}
	b.WriteString("It was not accepted because:\n")
	b.WriteString(problemList(problems))
	b.WriteString("\nAnswer the task again.\n")
	b.WriteString(s.Instruction())
	return b.String()
}

// problemList is the bulleted list of problems for a prompt, bounded in
// count and length, each on one line.
func problemList(problems []string) string {
	if len(problems) == 0 {
		problems = []string{"the answer does not match the schema"}
	}
	var b strings.Builder
	for i, p := range problems {
		if i == MaxProblems {
			fmt.Fprintf(&b, "- and %d more problems\n", len(problems)-i)
			break
		}
		b.WriteString("- ")
		b.WriteString(clip(safetext.Line(p), MaxProblemRunes))
		b.WriteByte('\n')
	}
	return b.String()
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
