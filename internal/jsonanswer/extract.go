package jsonanswer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clawgate/clawgate/internal/safetext"
)

// A reply is searched for its JSON answer in three places, in this order:
//
//  1. the whole reply (without surrounding white space and a byte order
//     mark): a model that follows the instruction answers with nothing else;
//  2. the Markdown code blocks (``` or ~~~), those labelled json (or with no
//     label) first, then the others, each in document order;
//  3. the prose: every balanced {…} or […] span, in order of its first byte.
//
// Every value found in one of these places that decodes as JSON is a
// candidate. Extract takes the first; Check takes the first that validates
// (and reports the problems of the most plausible one when none does).
//
// The prose search is linear in the reply. A span is balanced when its
// brackets pair up, counting only brackets outside JSON strings as a scan
// that starts at its opening bracket sees them (a quote in prose before the
// span does not matter). Scans from different brackets reuse each other's
// work (see run): strings are jumped over, a bracket's outcome (closed at a
// given byte, or never) and the outcome of each point where scans can meet
// are remembered, so no byte is walked twice; a step budget (8 a byte) is a
// safety net on top. A balanced span that does not decode is skipped as a
// whole: its inner spans are not candidates (an object with one unquoted
// key is not an answer made of its sub-objects). Nor are the spans inside a
// broken answer: a JSON code block that does not decode, or JSON that the
// reply ends in the middle of; its syntax error is reported instead.

// Bounds of the search.
const (
	// MaxReplyBytes is the largest reply searched for JSON (4 MiB).
	MaxReplyBytes = 4 << 20
	// maxCandidates bounds how many candidates Check validates.
	maxCandidates = 32
	// stepsPerByte and stepsBase make the prose scan's budget.
	stepsPerByte = 8
	stepsBase    = 1 << 12
)

// candidate is a JSON value found in a reply.
type candidate struct {
	start, end int    // the value's byte range in the reply
	value      []byte // the value's bytes (valid JSON, not compacted)
}

// finder enumerates the candidates of one reply.
type finder struct {
	text string

	seen map[span]bool // the ranges yielded so far

	// syntax is the first JSON syntax problem of something that looked
	// like JSON (a code block, a balanced span starting like a JSON
	// value): reported when no candidate is found.
	syntax string
	// brokenSpans are broken answers: no candidate is taken from inside.
	brokenSpans []span
	// truncationChecked: the first never-closed bracket that starts like
	// JSON was looked at.
	truncationChecked bool

	// The prose scan.
	// memo holds, for an opening bracket, where it closes (e+1 for the
	// closing bracket at e, -1 never, 0 not known yet); for a closing
	// bracket, the summary of the resume point after it (see run); for a
	// double quote, where the string it would open ends (see initMemo).
	memo []int32 // with after: 8 bytes a byte of the reply, while the search runs
	// after holds, for a double quote, the summary of the resume point
	// after the string it closes.
	after  []int32
	steps  int // the bracket scan's steps (a byte walked, or a jump)
	budget int

	jsonBytes int // bytes given to the JSON decoder (for the linearity tests)
}

type span struct{ start, end int }

func newFinder(text string) *finder {
	return &finder{text: text, seen: map[span]bool{}, budget: stepsPerByte*len(text) + stepsBase}
}

// errNoJSON is Extract's error when the reply has no JSON value.
var errNoJSON = errors.New("the answer has no JSON value")

// Extract finds the JSON value in a reply: the whole reply when it is JSON;
// else the first Markdown code block that is (json-labelled and unlabelled
// blocks first); else the first balanced JSON object or array in the prose.
// The value is returned as written (not compacted). The error is a sentence
// a model can act on. Extract never panics, and replies over MaxReplyBytes
// are refused without being searched.
func Extract(reply string) (json.RawMessage, error) {
	if len(reply) > MaxReplyBytes {
		return nil, errors.New(tooLarge(len(reply)))
	}
	f := newFinder(reply)
	var found json.RawMessage
	f.each(func(c candidate) bool {
		found = json.RawMessage(c.value)
		return false
	})
	if found == nil {
		return nil, f.noJSON()
	}
	return found, nil
}

// tooLarge is the problem of a reply over MaxReplyBytes.
func tooLarge(n int) string {
	return fmt.Sprintf("the answer is %d bytes, more than the %d bytes (%d MiB) clawgate reads; answer with a smaller JSON value",
		n, MaxReplyBytes, MaxReplyBytes>>20)
}

// noJSON is the error when no candidate was found.
func (f *finder) noJSON() error {
	if f.syntax != "" {
		return errors.New(f.syntax)
	}
	return errNoJSON
}

// each calls yield with every candidate, in order, until it returns false.
func (f *finder) each(yield func(candidate) bool) {
	// 1. The whole reply.
	start, end := trimBounds(f.text, 0, len(f.text))
	if start < end && f.offer(start, end, "the answer", brokenIfTruncated, yield) == stop {
		return
	}
	// 2. Code blocks.
	blocks := codeBlocks(f.text)
	for _, jsonLabelled := range []bool{true, false} {
		for _, b := range blocks {
			if b.jsonish != jsonLabelled {
				continue
			}
			s, e := trimBounds(f.text, b.start, b.end)
			if s < e && f.offer(s, e, b.name(), brokenAlways, yield) == stop {
				return
			}
		}
	}
	// 3. The prose.
	f.prose(yield)
}

type verdict int

const (
	next verdict = iota
	stop
)

// offer yields the range [start, end) when it is valid JSON and was not
// yielded before. When it is not JSON but starts like a JSON object or
// array, what names it in the syntax problem ("the answer", "the ```json
// code block"), and it may be a broken answer (see broken).
func (f *finder) offer(start, end int, what string, mode brokenMode, yield func(candidate) bool) verdict {
	if f.seen[span{start, end}] {
		return next
	}
	s := f.text[start:end]
	f.jsonBytes += len(s)
	if !json.Valid([]byte(s)) {
		if s[0] == '{' || s[0] == '[' {
			f.broken(start, end, what, mode, true)
		}
		return next
	}
	f.seen[span{start, end}] = true
	if !yield(candidate{start: start, end: end, value: []byte(s)}) {
		return stop
	}
	return next
}

// brokenMode says when a range that is not JSON is a broken answer.
type brokenMode int

const (
	brokenNever       brokenMode = iota // a balanced span in prose: skipped as a whole anyway
	brokenIfTruncated                   // the whole reply, a bracket never closed: when it ends too early
	brokenAlways                        // a code block
)

// broken looks at a range that starts like a JSON object or array but is
// not valid JSON. When it starts with a complete JSON value (followed by
// prose), the prose search finds that value. Otherwise, as mode says, it
// is a broken answer: no span inside it is a candidate (the inner objects
// of a broken answer are not the answer). Its syntax problem is recorded
// when it is a broken answer, or with note. It reports whether the range
// is a broken answer.
func (f *finder) broken(start, end int, what string, mode brokenMode, note bool) bool {
	f.jsonBytes += end - start
	dec := json.NewDecoder(strings.NewReader(f.text[start:end]))
	var v json.RawMessage
	err := dec.Decode(&v)
	if err == nil {
		return false
	}
	if mode == brokenNever || mode == brokenIfTruncated && !errors.Is(err, io.ErrUnexpectedEOF) {
		if note {
			f.noteSyntax(start, end, what)
		}
		return false
	}
	f.brokenSpans = append(f.brokenSpans, span{start, end})
	f.noteSyntax(start, end, what)
	return true
}

// noteSyntax records the syntax problem of [start, end) unless one was
// recorded before.
func (f *finder) noteSyntax(start, end int, what string) {
	if f.syntax == "" {
		f.jsonBytes += end - start
		f.syntax = clip(what+" is not valid JSON ("+syntaxError([]byte(f.text[start:end]))+")", MaxProblemRunes)
	}
}

// trimBounds narrows [start, end) of s to exclude white space and a byte
// order mark at either end.
func trimBounds(s string, start, end int) (int, int) {
	for start < end {
		r, n := utf8.DecodeRuneInString(s[start:end])
		if r != '\ufeff' && !isSpace(r) {
			break
		}
		start += n
	}
	for end > start {
		r, n := utf8.DecodeLastRuneInString(s[start:end])
		if r != '\ufeff' && !isSpace(r) {
			break
		}
		end -= n
	}
	return start, end
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xa0:
		return true
	}
	return false
}

// syntaxError says why b is not valid JSON, with the line and column.
func syntaxError(b []byte) string {
	var v any
	err := json.Unmarshal(b, &v)
	if err == nil {
		return "it is valid"
	}
	msg := err.Error()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(min(max(se.Offset, 0), int64(len(b))))
		line := 1 + bytes.Count(b[:off], []byte{'\n'})
		col := off - bytes.LastIndexByte(b[:off], '\n')
		if off > 0 {
			// Offset counts the byte the error is at.
			col--
		}
		if se.Error() != "unexpected end of JSON input" {
			msg = fmt.Sprintf("%s, at line %d, column %d", se.Error(), line, max(col, 1))
		}
	}
	return safetext.Line(clip(msg, 160))
}

// block is a Markdown code block's content.
type block struct {
	start, end int    // the content's byte range
	label      string // the info string's first word, lower case
	jsonish    bool   // labelled json (or a relative) or not labelled
}

func (b block) name() string {
	if b.label == "" {
		return "the ``` code block"
	}
	return "the ```" + clip(safetext.Line(b.label), 20) + " code block"
}

// codeBlocks finds the fenced code blocks of a reply. An opening fence is
// three or more backticks or tildes, at the start of a line or after other
// text on it ("Here it is: ```json"), followed by an optional label up to
// the end of the line; the block ends at a line that starts (after white
// space) with the same fence, or at the end of the reply. A line inside a
// JSON value cannot start with a fence (JSON strings hold no raw line
// breaks), so a fence inside a JSON string does not end the block.
func codeBlocks(text string) []block {
	var out []block
	pos := 0
	for pos < len(text) {
		i := indexFence(text, pos)
		if i < 0 {
			break
		}
		ch := text[i]
		n := 0
		for i+n < len(text) && text[i+n] == ch {
			n++
		}
		fence := text[i : i+n]
		lineEnd := strings.IndexByte(text[i+n:], '\n')
		if lineEnd < 0 {
			// A fence on the last line opens nothing.
			break
		}
		lineEnd += i + n
		info := strings.TrimSpace(text[i+n : lineEnd])
		if strings.Contains(info, fence[:3]) {
			// An inline fence (```x```): not a block; the prose
			// search sees its content.
			pos = lineEnd + 1
			continue
		}
		label, _, _ := strings.Cut(info, " ")
		label = strings.ToLower(strings.Trim(label, "{}."))
		contentStart := lineEnd + 1
		contentEnd, after := closingFence(text, contentStart, fence)
		out = append(out, block{start: contentStart, end: contentEnd, label: label, jsonish: jsonLabel(label)})
		pos = after
	}
	return out
}

// indexFence returns the index of the next ``` or ~~~ at or after pos, or -1.
func indexFence(text string, pos int) int {
	b := strings.Index(text[pos:], "```")
	t := strings.Index(text[pos:], "~~~")
	switch {
	case b < 0 && t < 0:
		return -1
	case b < 0:
		return pos + t
	case t < 0:
		return pos + b
	}
	return pos + min(b, t)
}

// closingFence finds the line that closes a block opened with fence: it
// returns where the content ends and where the search goes on.
func closingFence(text string, from int, fence string) (contentEnd, after int) {
	lineStart := from
	for lineStart <= len(text) {
		j := lineStart
		for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
			j++
		}
		if strings.HasPrefix(text[j:], fence) {
			end := strings.IndexByte(text[j:], '\n')
			if end < 0 {
				return lineStart, len(text)
			}
			return lineStart, j + end + 1
		}
		nl := strings.IndexByte(text[lineStart:], '\n')
		if nl < 0 {
			break
		}
		lineStart += nl + 1
	}
	return len(text), len(text)
}

// jsonLabel reports whether a code block's label says JSON (or says
// nothing).
func jsonLabel(label string) bool {
	switch label {
	case "", "json", "jsonc", "json5", "jsonl", "javascript", "js":
		return true
	}
	return false
}

// prose yields the balanced spans of the reply that decode, in order.
func (f *finder) prose(yield func(candidate) bool) {
	text := f.text
	// The broken answers found so far, by start: a span is inside one
	// when one that starts at or before it ends at or after it.
	broken := slices.SortedFunc(slices.Values(f.brokenSpans), func(a, b span) int { return a.start - b.start })
	brokenEnd := 0 // the furthest end of the broken answers that start at or before pos
	pos := 0
	for pos < len(text) {
		i := strings.IndexAny(text[pos:], "{[")
		if i < 0 {
			return
		}
		p := pos + i
		for len(broken) > 0 && broken[0].start <= p {
			brokenEnd = max(brokenEnd, broken[0].end)
			broken = broken[1:]
		}
		if f.memo == nil {
			f.initMemo()
		}
		if f.memo[p] == 0 && !f.run(p) {
			return // out of budget
		}
		if f.memo[p] < 0 {
			if !f.truncationChecked && looksLikeJSON(text[p:]) {
				// A JSON answer cut short: report that, rather
				// than the objects inside it.
				f.truncationChecked = true
				if f.broken(p, len(text), "the JSON starting "+quoteStart(text[p:]), brokenIfTruncated, false) {
					brokenEnd = len(text)
				}
			}
			pos = p + 1
			continue
		}
		e := int(f.memo[p]) // one past the closing bracket
		if looksLikeJSON(text[p:e]) && e > brokenEnd {
			if f.offer(p, e, "the JSON starting "+quoteStart(text[p:e]), brokenNever, yield) == stop {
				return
			}
		}
		pos = e
	}
}

// looksLikeJSON reports whether a balanced span starts like a JSON object
// or array, rather than like prose in braces ("{name}", "[1]" is JSON).
func looksLikeJSON(s string) bool {
	rest := strings.TrimLeft(s[1:], " \t\r\n")
	if rest == "" {
		return false
	}
	c := rest[0]
	if s[0] == '{' {
		return c == '"' || c == '}'
	}
	return c == ']' || c == '"' || c == '{' || c == '[' || c == '-' || c == 't' || c == 'f' || c == 'n' || (c >= '0' && c <= '9')
}

// quoteStart quotes the start of a span, for a syntax problem.
func quoteStart(s string) string {
	return "`" + strings.ReplaceAll(safetext.Line(clip(s, 30)), "`", "'") + "`"
}

// run scans from the opening bracket at p, with a stack of the brackets
// open, and records the outcome of every opening bracket it pushes: closed
// (at the matching bracket) or never closed (a mismatched closing bracket,
// a string or the reply ending with it still open). It reports false when
// the budget ran out (the outcome of p is then unknown).
//
// Scans started at different brackets can meet: be outside strings at the
// same byte, having come there by different ways (one stepped past a
// closing bracket, the other jumped over the string or span it ends). From
// there on they see the same brackets, and differ only in the brackets open
// below. So every such resume point (the byte after a closing quote or a
// closing bracket) gets a summary: the first closing bracket a scan from
// there meets with nothing of its own open (or -1: the scan from there
// fails first). A scan that reaches a resume point with a summary jumps to
// that closing bracket. With strings jumped over too, no byte is walked
// twice, and the work is linear in the reply.
func (f *finder) run(p int) bool {
	text := f.text
	stack := []int{p}
	// waiting are the resume points passed, without a summary yet, with
	// the stack size there (non-decreasing: a pop resolves the top ones).
	type resume struct {
		slot  *int32
		depth int
	}
	var waiting []resume
	// settle gives the waiting resume points at depth the summary y.
	settle := func(depth int, y int32) {
		for len(waiting) > 0 && waiting[len(waiting)-1].depth >= depth {
			*waiting[len(waiting)-1].slot = y
			waiting = waiting[:len(waiting)-1]
		}
	}
	fail := func() bool {
		for _, q := range stack {
			f.memo[q] = -1
		}
		settle(0, -1)
		return true
	}
	i := p + 1
	// resumeAfter is called with i at the byte after a closing quote or
	// bracket, whose summary is in slot. It reports whether the scan failed.
	resumeAfter := func(slot *int32) bool {
		switch m := *slot; {
		case m < 0:
			return true
		case m > 0:
			i = int(m) - 1 // the closing bracket; it is handled next
		default:
			waiting = append(waiting, resume{slot, len(stack)})
		}
		return false
	}
	for i < len(text) {
		if f.steps++; f.steps > f.budget {
			return false // nothing waiting or on the stack was recorded
		}
		switch text[i] {
		case '"':
			// A string: jump past its closing quote.
			m := f.memo[i]
			if m < 0 {
				return fail() // it never ends
			}
			z := int(m) - 1
			i = z + 1
			if resumeAfter(&f.after[z]) {
				return fail()
			}
		case '{', '[':
			switch m := f.memo[i]; {
			case m > 0:
				// Scanned before, from the same state: jump past
				// its closing bracket.
				e := int(m) - 1
				i = e + 1
				if resumeAfter(&f.memo[e]) {
					return fail()
				}
			case m < 0:
				return fail() // it is never closed, and so neither is p
			default:
				stack = append(stack, i)
				i++
			}
		case '}', ']':
			settle(len(stack), int32(i+1))
			top := stack[len(stack)-1]
			if text[top] != opener(text[i]) {
				return fail()
			}
			f.memo[top] = int32(i + 1)
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return true
			}
			i++
			if resumeAfter(&f.memo[i-1]) {
				return fail()
			}
		default:
			i++
		}
	}
	return fail() // the reply ended with p open
}

// initMemo allocates the memo and fills in, for every double quote, where
// the string it would open ends: memo[q] is the index of the closing quote
// plus one, or -1 when the string runs to the end of the reply. A string's
// end does not depend on where a scan started: so scans that meet inside a
// string do not walk it twice.
func (f *finder) initMemo() {
	text := f.text
	f.memo = make([]int32, len(text))
	f.after = make([]int32, len(text))
	// end1 and end2 are where a string that is open at i+1 and at i+2
	// ends (-1: never).
	end1, end2 := int32(-1), int32(-1)
	for i := len(text) - 1; i >= 0; i-- {
		var end int32
		switch text[i] {
		case '"':
			f.memo[i] = end1 + 1
			if end1 < 0 {
				f.memo[i] = -1
			}
			end = int32(i)
		case '\\':
			end = end2 // the escaped byte is skipped
		default:
			end = end1
		}
		end1, end2 = end, end1
	}
}

func opener(closer byte) byte {
	if closer == '}' {
		return '{'
	}
	return '['
}

// clip shortens s to at most n runes (n ≥ 1), ending a cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	count, cut := 0, 0
	for i := range s {
		if count == n-1 {
			cut = i
		}
		if count == n {
			return s[:cut] + "…"
		}
		count++
	}
	return s
}
