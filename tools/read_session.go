package tools

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// ToolReadSession is the name of the tool that reads a session's
// conversation.
const ToolReadSession = "read_session"

var readSessionTool = newTool(toolDef{
	name: ToolReadSession, title: "Read a session",
	description: "Read the conversation of one gateway session: who said what (user, assistant), when, with which model, " +
		"and which tools the assistant called (name and outcome only; tool output is not shown). " +
		"Use it to see what a kept session (ask_subagent with keep_session true) or a named one did. " +
		"It returns the newest limit messages, oldest first; pass the result's next as before to read the page before them. " +
		"Texts longer than max_chars are cut with a marker. A key that names no session is an error. " +
		`Example: {"session_key": "agent:main:subagent:clawgate-0123456789", "limit": 10}.`,
	readOnly: true, idempotent: true,
}, (*tools).readSession)

// ReadSessionInput selects a session and a page of its conversation.
type ReadSessionInput struct {
	SessionKey string `json:"session_key" jsonschema:"description=Key of the session to read: from list_sessions\\, or the session_key of an ask_subagent result.,minLength=1,maxLength=1024,example=agent:main:subagent:clawgate-0123456789"`
	Limit      int    `json:"limit,omitempty" jsonschema:"description=Maximum number of messages to return: the newest ones\\, or those just before the before cursor (default 20).,minimum=1,maximum=200,default=20"`
	MaxChars   int    `json:"max_chars,omitempty" jsonschema:"description=Longest text shown per message\\, in characters; a longer one is cut and ends with a marker '[… N more characters cut …]' (default 2000). OpenClaw's chat.history itself shortens texts over 8000 characters.,minimum=50,maximum=20000,default=2000"`
	Before     string `json:"before,omitempty" jsonschema:"description=The next value of an earlier read_session result for the same session_key\\, to read the messages before that page. Leave it out for the newest messages.,maxLength=256"`
}

// ReadSessionOutput is one page of a session's conversation.
type ReadSessionOutput struct {
	SessionKey string           `json:"session_key" jsonschema:"description=The session read."`
	Messages   []SessionMessage `json:"messages" jsonschema:"description=The messages of the page\\, oldest first. Tool results are not messages of their own: each shows as the status of its call."`
	Truncated  bool             `json:"truncated" jsonschema:"description=true when at least one message's text was cut (at max_chars\\, or by the gateway)."`
	Next       string           `json:"next,omitempty" jsonschema:"description=Cursor for the page before this one: pass it as before. Absent when there are no older messages (or none the gateway can serve\\, see note)."`
	Note       string           `json:"note,omitempty" jsonschema:"description=Why older messages cannot be read\\, when that is so."`
}

// SessionMessage is one message of a session's conversation.
type SessionMessage struct {
	Role      string            `json:"role" jsonschema:"description=user or assistant (or another role the gateway stores\\, such as system).,example=assistant"`
	Text      string            `json:"text" jsonschema:"description=The message's text; empty for an assistant message that only called tools. Images and other attachments show as [image] and the like."`
	At        string            `json:"at,omitempty" jsonschema:"description=When the message was written (RFC 3339\\, UTC\\, milliseconds).,example=2026-11-28T11:30:56.426Z"`
	Model     string            `json:"model,omitempty" jsonschema:"description=The model that wrote an assistant message\\, as provider/model.,example=anthropic/claude-sonnet-4-5"`
	ToolCalls []ToolCallSummary `json:"tool_calls,omitempty" jsonschema:"description=The tools an assistant message called\\, in order."`
	Error     string            `json:"error,omitempty" jsonschema:"description=Why the model call of an assistant message failed or stopped\\, when it did."`
	Truncated bool              `json:"truncated,omitempty" jsonschema:"description=true when the text was cut."`
}

// ToolCallSummary is a tool call of an assistant message, without its
// arguments or output.
type ToolCallSummary struct {
	Name   string `json:"name" jsonschema:"description=The tool's name.,example=read"`
	Status string `json:"status" jsonschema:"description=ok or error: the outcome of the call's result; no_result: the transcript holds no result for it (the run is still going\\, or stopped before the tool answered).,enum=ok,enum=error,enum=no_result"`
}

const (
	readSessionDefaultLimit = 20
	readSessionMaxLimit     = 200
	readSessionDefaultChars = 2000
	readSessionMinChars     = 50
	readSessionMaxChars     = 20000
	// readSessionBudget bounds the text of one page (all messages, in
	// characters): a page stops early, with next, rather than grow past it.
	readSessionBudget = 200_000
	// maxSessionKeyLen bounds a session_key (in bytes).
	maxSessionKeyLen = 1024
	// transcriptCursorPrefix starts every next cursor (version 1).
	transcriptCursorPrefix = "rs1."
	maxTranscriptCursorLen = 256
	// maxToolNameLen bounds a tool name shown (in bytes).
	maxToolNameLen = 100
	// maxErrorChars bounds a message's error text (in characters).
	maxErrorChars = 500
)

// The markers of OpenClaw's internal runtime context, which its runs add to
// what the model sees. Its chat.history leaves that context out (it is a
// transcript entry of its own, role "custom"); should a user message still
// carry such a block, it is taken out of the text.
const (
	internalContextBegin = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>"
	internalContextEnd   = "<<<END_OPENCLAW_INTERNAL_CONTEXT>>>"
)

// gatewayCutSuffix ends a text OpenClaw's chat.history shortened itself
// (its __openclaw.truncated is then true).
const gatewayCutSuffix = "\n...(truncated)..."

func (t *tools) readSession(ctx context.Context, _ mcp.CallToolRequest, in ReadSessionInput) (ReadSessionOutput, string, error) {
	key, err := checkReadSessionKey(in.SessionKey)
	if err != nil {
		return ReadSessionOutput{}, "", err
	}
	limit := readSessionInt(in.Limit, readSessionDefaultLimit, 1, readSessionMaxLimit)
	maxChars := readSessionInt(in.MaxChars, readSessionDefaultChars, readSessionMinChars, readSessionMaxChars)
	var cur *transcriptCursor
	if strings.TrimSpace(in.Before) != "" {
		if cur, err = parseTranscriptCursor(in.Before, key); err != nil {
			return ReadSessionOutput{}, "", err
		}
	}
	// chat.history answers with the newest fetch messages (no generation
	// can skip the newest ones with the params both accept), so a page
	// before a cursor asks for everything after the cursor too, and cuts.
	// Tool results make raw messages outnumber those shown: ask for half
	// as many again as the page needs, twice as many each time that was
	// not enough. (Asking for little matters: Clawdbot's replies can be
	// larger than its announced maxPayload, and a reply over clawgate's
	// read limit costs the connection.)
	skip := 0
	if cur != nil {
		skip = cur.N + 1
	}
	fetch := min(schema.ChatHistoryMaxLimit, skip+limit+limit/2+2)
	for {
		hist, err := t.gw.ChatHistory(ctx, key, fetch)
		if err != nil {
			return ReadSessionOutput{}, "", fmt.Errorf("read the conversation of session %q: %w", safetext.Line(key), err)
		}
		if hist.SessionID == "" && len(hist.Messages) == 0 {
			if err := t.readSessionMissing(ctx, key); err != nil {
				return ReadSessionOutput{}, "", err
			}
			// The session exists, with no transcript yet.
			out := ReadSessionOutput{SessionKey: safetext.Line(key), Messages: []SessionMessage{}}
			return out, readSessionText(out, cur != nil), nil
		}
		w := newTranscript(hist.Messages)
		beyond := len(hist.Messages) >= fetch // the window may not reach the start
		if more, known := hist.More(); known {
			beyond = more
		}
		end := len(w.entries)
		if cur != nil {
			idx := w.find(cur)
			if idx < 0 {
				if beyond && fetch < schema.ChatHistoryMaxLimit {
					fetch = min(schema.ChatHistoryMaxLimit, fetch*2)
					continue
				}
				return ReadSessionOutput{}, "", fmt.Errorf("before no longer matches the conversation of session %q: the message it points at is gone "+
					"(the session was reset or compacted, or more than %d messages were added since). "+
					"Call read_session without before to read the newest messages again", safetext.Line(key), schema.ChatHistoryMaxLimit)
			}
			end = idx
		}
		p := w.page(end, limit, maxChars)
		if p.exhausted && len(p.messages) < limit && beyond && fetch < schema.ChatHistoryMaxLimit {
			fetch = min(schema.ChatHistoryMaxLimit, fetch*2)
			continue
		}
		out := ReadSessionOutput{SessionKey: safetext.Line(key), Messages: p.messages, Truncated: p.truncated}
		if len(p.messages) > 0 && (p.older || beyond) {
			newer := len(w.entries) - 1 - p.first // raw messages after the page's oldest
			if p.older || newer+1 < schema.ChatHistoryMaxLimit {
				out.Next = transcriptCursor{Version: 1, Key: sessionKeyTag(key), N: newer, Mark: w.entries[p.first].mark}.encode()
			} else {
				out.Note = fmt.Sprintf("The session has older messages, but the gateway's chat.history serves only the newest %d.", schema.ChatHistoryMaxLimit)
			}
		}
		return out, readSessionText(out, cur != nil), nil
	}
}

// readSessionInt is v, or def when v is 0 (not given), kept within lo..hi.
func readSessionInt(v, def, lo, hi int) int {
	if v == 0 {
		v = def
	}
	return min(max(v, lo), hi)
}

// checkReadSessionKey returns the trimmed key, or an error when it cannot be a
// session key: empty, too long, not UTF-8, or holding a space or a control
// or formatting character (the gateways accept any string and answer an
// empty transcript, so garbage is refused here).
func checkReadSessionKey(raw string) (string, error) {
	key := strings.TrimSpace(raw)
	if key == "" {
		return "", errors.New("session_key must not be empty: pass a key from list_sessions or the session_key of an ask_subagent result, e.g. agent:main:subagent:clawgate-0123456789")
	}
	bad := len(key) > maxSessionKeyLen || !utf8.ValidString(key)
	for _, r := range key {
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			bad = true
			break
		}
	}
	if bad {
		shown := key
		if utf8.RuneCountInString(shown) > 60 {
			shown = string([]rune(shown)[:60]) + "…"
		}
		// %q escapes every control and formatting character itself.
		return "", fmt.Errorf("session_key %q is not a session key: a key has no spaces, line breaks or control characters and is at most %d bytes long, "+
			"e.g. agent:main:subagent:clawgate-0123456789. Pass a key from list_sessions or the session_key of an ask_subagent result",
			shown, maxSessionKeyLen)
	}
	return key, nil
}

// readSessionMissing returns nil when key names an existing session (one
// that simply has no transcript yet), or an error that names the closest
// existing keys. Both generations answer chat.history for an unknown key
// with an empty transcript and no sessionId, the same as for a typo or a
// private session already removed, so an empty list would read as "the
// session did nothing"; hence an error.
func (t *tools) readSessionMissing(ctx context.Context, key string) error {
	info, err := t.gw.Info(ctx)
	if err != nil {
		return fmt.Errorf("check that session %q exists: %w", safetext.Line(key), err)
	}
	want := canonicalCandidates(key, info)
	list, err := t.gw.SessionsList(ctx, schema.SessionsListParams{Limit: sessionScanLimit})
	if err != nil {
		return fmt.Errorf("check that session %q exists: %w", safetext.Line(key), err)
	}
	keys := make([]string, 0, len(list.Sessions))
	for _, r := range list.Sessions {
		if want[strings.ToLower(r.Key)] {
			return nil
		}
		keys = append(keys, r.Key)
	}
	hint := "list_sessions shows the existing keys"
	if near := nearestKeys(key, keys, 3); len(near) > 0 {
		for i := range near {
			near[i] = safetext.Line(near[i])
		}
		hint = "did you mean " + quoteJoin(near, " or ") + "?"
	} else if len(keys) == 0 {
		hint = "the gateway has no sessions"
	}
	return fmt.Errorf("session %q does not exist on the gateway (%s). Pass the key of an existing session; "+
		"a private ask_subagent session is removed after its run unless the call set keep_session true", safetext.Line(key), hint)
}

// transcriptEntry is one raw chat.history message: decoded, and marked with
// a fingerprint that finds it again in a later reply.
type transcriptEntry struct {
	msg  schema.HistoryMessage
	ok   bool   // msg decoded (the raw message was a JSON object)
	mark string // fingerprint: 16 hex digits
}

// transcript is a chat.history reply's messages, oldest first, with the
// outcome of every tool call whose result the reply holds.
type transcript struct {
	entries []transcriptEntry
	// status of the tool call at (entry index, part index): "ok" or
	// "error"; absent: no result.
	status map[[2]int]string
}

func newTranscript(raws []json.RawMessage) *transcript {
	w := &transcript{entries: make([]transcriptEntry, len(raws)), status: map[[2]int]string{}}
	// Pending calls by id, oldest first: a result answers the oldest call
	// with its id still open (some providers reuse ids such as call_0).
	pending := map[string][][2]int{}
	for i, raw := range raws {
		m, ok := schema.DecodeHistoryMessage(raw)
		w.entries[i] = transcriptEntry{msg: m, ok: ok, mark: historyFingerprint(raw, m, ok)}
		if !ok {
			continue
		}
		if m.IsToolResult() {
			if q := pending[m.ToolCallID]; len(q) > 0 {
				w.status[q[0]] = map[bool]string{false: "ok", true: "error"}[m.IsError]
				pending[m.ToolCallID] = q[1:]
			}
			continue
		}
		for j, p := range m.Parts() {
			if p.IsToolCall() {
				pending[p.ID] = append(pending[p.ID], [2]int{i, j})
			}
		}
	}
	return w
}

// historyFingerprint identifies a message across chat.history replies: its role,
// time, ids and content (the same transcript entry is sent the same way
// every time).
func historyFingerprint(raw json.RawMessage, m schema.HistoryMessage, ok bool) string {
	h := fnv.New64a()
	if !ok {
		h.Write(bytes.TrimSpace(raw))
	} else {
		id := ""
		if m.OpenClaw != nil {
			id = m.OpenClaw.ID
		}
		for _, s := range []string{m.Role, strconv.FormatInt(int64(m.Timestamp), 10), id, m.ToolCallID} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		h.Write(bytes.TrimSpace(m.Content))
		h.Write([]byte{0})
		h.Write([]byte(m.Text))
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// find returns the index of the entry the cursor points at, or -1. The
// entry is looked for where the cursor expects it (cur.N entries from the
// newest), then further from the newest end (messages added since), then
// nearer.
func (w *transcript) find(cur *transcriptCursor) int {
	at := len(w.entries) - 1 - cur.N
	for d := 0; d < len(w.entries)+cur.N+1; d++ {
		for _, i := range []int{at - d, at + d} {
			if i >= 0 && i < len(w.entries) && w.entries[i].mark == cur.Mark {
				return i
			}
		}
	}
	return -1
}

// transcriptPage is a page cut from a transcript.
type transcriptPage struct {
	messages  []SessionMessage // oldest first
	first     int              // entry index of the oldest message's first entry
	older     bool             // an older message is in the window
	exhausted bool             // the page took every message the window had before end
	truncated bool
}

// page returns up to limit messages that end before entry end, the newest
// ones, within readSessionBudget characters.
func (w *transcript) page(end, limit, maxChars int) transcriptPage {
	var p transcriptPage
	var rev []SessionMessage
	budget := readSessionBudget
	i := end - 1
	for ; i >= 0; i-- {
		// A group: consecutive entries OpenClaw split from one transcript
		// entry (same role and __openclaw.id).
		j := i
		for j > 0 && sameEntry(w.entries[j-1].msg, w.entries[i].msg) {
			j--
		}
		m, ok := w.render(j, i, maxChars)
		if ok {
			if len(rev) == limit || (len(rev) > 0 && utf8.RuneCountInString(m.Text) > budget) {
				p.older = true
				break
			}
			budget -= utf8.RuneCountInString(m.Text)
			rev = append(rev, m)
			p.first = j
			p.truncated = p.truncated || m.Truncated
		}
		i = j
	}
	p.exhausted = i < 0
	p.messages = make([]SessionMessage, 0, len(rev))
	for k := len(rev) - 1; k >= 0; k-- {
		p.messages = append(p.messages, rev[k])
	}
	return p
}

// sameEntry reports whether a and b are parts of one transcript entry that
// OpenClaw's chat.history sent as two messages.
func sameEntry(a, b schema.HistoryMessage) bool {
	return a.OpenClaw != nil && b.OpenClaw != nil && a.OpenClaw.ID != "" &&
		a.OpenClaw.ID == b.OpenClaw.ID && a.Role == b.Role
}

// render makes entries j..i (one message) into a message of the
// conversation, or reports false for what is not one: tool results, hidden
// context, messages without text, tool calls or error.
func (w *transcript) render(j, i, maxChars int) (SessionMessage, bool) {
	first := w.entries[j].msg
	if !w.entries[j].ok || first.IsToolResult() {
		return SessionMessage{}, false
	}
	role := strings.ToLower(strings.TrimSpace(first.Role))
	if role == "" || role == "custom" {
		return SessionMessage{}, false
	}
	var texts []string
	var calls []ToolCallSummary
	var m SessionMessage
	gatewayCut := false
	for k := j; k <= i; k++ {
		e := w.entries[k].msg
		cut := e.OpenClaw != nil && e.OpenClaw.Truncated
		for pi, part := range e.Parts() {
			switch {
			case part.IsToolCall():
				status := w.status[[2]int{k, pi}]
				if status == "" {
					status = "no_result"
				}
				calls = append(calls, ToolCallSummary{Name: historyLine(part.Name, maxToolNameLen), Status: status})
			case strings.EqualFold(part.Type, "text"):
				tx := part.Text
				if cut && strings.HasSuffix(tx, gatewayCutSuffix) {
					tx, gatewayCut = strings.TrimSuffix(tx, gatewayCutSuffix), true
				}
				if role == "user" {
					tx = stripInternalContext(tx)
				}
				if strings.TrimSpace(tx) != "" {
					texts = append(texts, tx)
				}
			case isAttachmentPart(part.Type):
				texts = append(texts, "["+strings.ToLower(part.Type)+"]")
			}
		}
		if m.Model == "" && e.Model != "" {
			m.Model = safetext.Line(schema.ModelRef(e.Provider, e.Model))
		}
		if m.Error == "" {
			m.Error = historyRunError(e)
		}
	}
	if len(texts) == 0 && len(calls) == 0 && m.Error == "" {
		return SessionMessage{}, false
	}
	m.Role = historyLine(role, 40)
	m.Text, m.Truncated = cutHistoryText(strings.Join(texts, "\n\n"), maxChars, gatewayCut)
	m.ToolCalls = calls
	if ms, ok := first.Timestamp.Millis(); ok {
		m.At = time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return m, true
}

// isAttachmentPart reports whether a content part of this type is an
// attachment, shown as [type].
func isAttachmentPart(typ string) bool {
	switch strings.ToLower(typ) {
	case "image", "audio", "video", "file", "document":
		return true
	}
	return false
}

// historyRunError is why an assistant message's model call failed or stopped, or
// "".
func historyRunError(e schema.HistoryMessage) string {
	if s := strings.TrimSpace(e.ErrorMessage); s != "" {
		s, _ = cutHistoryText(s, maxErrorChars, false)
		return s
	}
	switch strings.ToLower(e.StopReason) {
	case "error":
		return "the model call failed"
	case "aborted":
		return "the run was aborted"
	}
	return ""
}

// stripInternalContext takes OpenClaw's internal runtime context blocks out
// of a user text (an unterminated block runs to the end).
func stripInternalContext(s string) string {
	for {
		b := strings.Index(s, internalContextBegin)
		if b < 0 {
			return s
		}
		rest := s[b+len(internalContextBegin):]
		e := strings.Index(rest, internalContextEnd)
		if e < 0 {
			return strings.TrimSpace(s[:b])
		}
		s = strings.TrimSpace(s[:b] + "\n\n" + strings.TrimSpace(rest[e+len(internalContextEnd):]))
	}
}

// cutHistoryText makes gateway text safe and cuts it at maxChars characters with a
// marker; gatewayCut says the gateway already cut it. It reports whether
// the text was cut.
func cutHistoryText(s string, maxChars int, gatewayCut bool) (string, bool) {
	n := utf8.RuneCountInString(s)
	if n <= maxChars {
		s = safetext.Text(s)
		if gatewayCut {
			s += "\n[… cut by the gateway]"
		}
		return s, gatewayCut
	}
	more := strconv.Itoa(n-maxChars) + " more characters"
	if gatewayCut {
		more = "at least " + more
	}
	return safetext.Text(string([]rune(s)[:maxChars])) + "\n[… " + more + " cut (max_chars " + strconv.Itoa(maxChars) + ")]", true
}

// historyLine makes gateway text one safe line of at most n bytes.
func historyLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		k := n
		for k > 0 && !utf8.RuneStart(s[k]) {
			k--
		}
		s = s[:k] + "…"
	}
	return safetext.Line(s)
}

// transcriptCursor is what a next cursor carries: the session it belongs to
// (a tag of its key), how many raw messages were newer than the page's
// oldest message, and that message's fingerprint.
type transcriptCursor struct {
	Version int    `json:"v"`
	Key     string `json:"k"`
	N       int    `json:"n"`
	Mark    string `json:"f"`
}

// sessionKeyTag ties a cursor to a session key without spelling it out.
func sessionKeyTag(key string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(key)))
	return hex.EncodeToString(sum[:6])
}

func (c transcriptCursor) encode() string {
	b, _ := json.Marshal(c)
	return transcriptCursorPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// errBadCursor is the error for a before that read_session did not make.
var errBadCursor = errors.New("before is not a cursor read_session returned: pass the next value of an earlier read_session result for the same session_key unchanged, " +
	"or leave before out to read the newest messages")

// parseTranscriptCursor checks a before cursor: its form, and that it
// belongs to key.
func parseTranscriptCursor(s, key string) (*transcriptCursor, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxTranscriptCursorLen || !strings.HasPrefix(s, transcriptCursorPrefix) {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s[len(transcriptCursorPrefix):])
	if err != nil {
		return nil, errBadCursor
	}
	var c transcriptCursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if dec.Decode(&c) != nil || dec.More() || c.Version != 1 || c.N < 0 || c.N >= schema.ChatHistoryMaxLimit || !isLowerHex(c.Mark, 16) || !isLowerHex(c.Key, 12) {
		return nil, errBadCursor
	}
	if c.Key != sessionKeyTag(key) {
		return nil, fmt.Errorf("before belongs to another session, not %q: pass the next value of a read_session result for this session_key, "+
			"or leave before out to read the newest messages", safetext.Line(key))
	}
	return &c, nil
}

// isLowerHex reports whether s is n lowercase hex digits.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// readSessionText is the text content of a read_session result (a page
// before a cursor when paged): the conversation as a person would read it.
func readSessionText(out ReadSessionOutput, paged bool) string {
	var b strings.Builder
	switch {
	case len(out.Messages) == 0 && paged:
		fmt.Fprintf(&b, "Session %s has no older messages.\n", out.SessionKey)
	case len(out.Messages) == 0:
		fmt.Fprintf(&b, "Session %s has no messages yet.\n", out.SessionKey)
	default:
		fmt.Fprintf(&b, "Session %s: %s, oldest first.\n", out.SessionKey, countOf(len(out.Messages), "message", "messages"))
	}
	for _, m := range out.Messages {
		b.WriteByte('\n')
		if m.At != "" {
			fmt.Fprintf(&b, "[%s] ", m.At)
		}
		b.WriteString(m.Role)
		if m.Model != "" {
			fmt.Fprintf(&b, " (%s)", m.Model)
		}
		b.WriteString(":\n")
		if m.Text != "" {
			b.WriteString(m.Text)
			b.WriteByte('\n')
		}
		if len(m.ToolCalls) > 0 {
			calls := make([]string, len(m.ToolCalls))
			for i, c := range m.ToolCalls {
				calls[i] = c.Name + " (" + c.Status + ")"
			}
			fmt.Fprintf(&b, "tool calls: %s\n", strings.Join(calls, ", "))
		}
		if m.Error != "" {
			fmt.Fprintf(&b, "error: %s\n", m.Error)
		}
	}
	if out.Next != "" {
		fmt.Fprintf(&b, "\nOlder messages: call read_session again with before %q.\n", out.Next)
	}
	if out.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", out.Note)
	}
	return b.String()
}
