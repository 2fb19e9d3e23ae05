// Package fakemodel is an offline, OpenAI-compatible model server for tests
// of real OpenClaw / Clawdbot gateways. It is the Go twin of the lab's
// fake_openai.py and behaves the same way:
//
//   - GET  /v1/models lists the configured model ids;
//   - POST /v1/chat/completions answers with JSON, or with SSE chunks when
//     the request has "stream": true, plus a usage chunk when
//     stream_options.include_usage is set, then "data: [DONE]";
//   - POST /v1/responses gives a minimal non-streaming Responses API reply;
//   - GET  /healthz answers {"ok": true}.
//
// The reply is taken from the last real user message (OpenClaw's injected
// <<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> user message is skipped), searched
// as a whole, including any paragraphs after the first:
//
//   - "[[reply64:BASE64]]" (standard or URL-safe base64, padding optional)
//     makes the reply exactly the decoded text;
//   - otherwise "[[reply:TEXT]]" (TEXT up to the first "]]", may span lines)
//     makes the reply exactly TEXT;
//   - otherwise it is "FAKE-REPLY: you said <<T>>", where T is the first
//     paragraph with the gateway's "[timestamp] " prefix stripped.
//
// "[[delay=N]]" anywhere in that message makes the request wait N seconds
// before answering; the wait ends early when the gateway closes the
// connection, and the request is then recorded as cancelled, which is how a
// test sees that a run was really aborted on the gateway.
//
// Answers carry usage: prompt tokens are a rough count of the request
// (body bytes / 4), completion tokens of the reply (bytes / 4), so gateways
// with model prices configured report a cost.
//
// Every request is recorded with what the model was sent (size, messages,
// tools, system prompt length, user texts; see Request, Requests and
// WaitRequest) and, when Options.Log is set, appended to it as one JSON
// object per line.
package fakemodel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The model ids of the e2e gateways' "fake" provider.
const (
	// DefaultModel is the gateways' default model.
	DefaultModel = "fake-echo"
	// MiniModel is the second, cheaper model.
	MiniModel = "fake-mini"
)

// DefaultModels returns the model ids GET /v1/models lists when
// Options.Models is empty: DefaultModel and MiniModel.
func DefaultModels() []string { return []string{DefaultModel, MiniModel} }

// maxEcho is how many runes of the user text the reply echoes.
const maxEcho = 200

// Options configure a Server.
type Options struct {
	// Models are the model ids GET /v1/models lists; default
	// DefaultModels().
	Models []string
	// Delay is added before every answer; "[[delay=N]]" overrides it.
	Delay time.Duration
	// ChunkDelay is the pause between two SSE chunks.
	ChunkDelay time.Duration
	// Log, if set, receives one JSON line per request on arrival and one
	// when it ends (written before the request counts as Done). Writes are
	// serialized.
	Log io.Writer
}

// Request is one request the server received.
type Request struct {
	Seq      int             // 1-based arrival order
	Received time.Time       // arrival
	Ended    time.Time       // zero while the request is in progress
	Method   string          // GET or POST
	Path     string          // URL path
	Auth     string          // Authorization header
	Body     json.RawMessage // request body (POST)
	UserText string          // the last real user message, as the reply sees it
	Reply    string          // the reply text ("" for non-model routes)
	Delay    time.Duration   // the wait before answering
	Stream   bool            // SSE was requested

	// What the model was sent (POST requests).
	BodyBytes   int      // size of the request body in bytes
	Model       string   // the model id requested ("" if none)
	Messages    int      // chat messages, or input items of a Responses request
	Tools       int      // tool definitions
	SystemChars int      // characters of system and developer messages (and Responses instructions)
	UserTexts   []string // the text of every user message, oldest first, injected context included

	// The usage the answer reports (model routes only).
	PromptTokens     int
	CompletionTokens int

	// Cancelled reports that the client went away before the answer was
	// written (the gateway aborted the model call).
	Cancelled bool
}

// Done reports whether the request has ended (answered or cancelled).
func (r Request) Done() bool { return !r.Ended.IsZero() }

// copy is r with its own slices, for a caller outside the lock.
func (r *Request) copy() Request {
	c := *r
	c.Body = slices.Clone(r.Body)
	c.UserTexts = slices.Clone(r.UserTexts)
	return c
}

// Server is a fake model server. Create it with New, then either Start it on
// a loopback port or mount Handler yourself.
type Server struct {
	opts    Options
	logMu   sync.Mutex
	mu      sync.Mutex
	reqs    []*Request
	changed chan struct{} // closed and replaced whenever reqs changes
	srv     *http.Server
	ln      net.Listener
}

// New returns a Server with opts.
func New(opts Options) *Server {
	if len(opts.Models) == 0 {
		opts.Models = DefaultModels()
	}
	return &Server{opts: opts, changed: make(chan struct{})}
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fakemodel: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// Addr is the listening address (host:port) after Start.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// BaseURL is the OpenAI base URL after Start, e.g. http://127.0.0.1:4711/v1.
func (s *Server) BaseURL() string { return "http://" + s.Addr() + "/v1" }

// Close stops the server and ends the waits of requests in progress.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = r.copy()
	}
	return out
}

// WaitRequest waits until a received request satisfies match (checked on
// every change, including a request ending) and returns it.
func (s *Server) WaitRequest(ctx context.Context, match func(Request) bool) (Request, error) {
	for {
		s.mu.Lock()
		ch := s.changed
		for _, r := range s.reqs {
			if c := r.copy(); match(c) {
				found := c
				s.mu.Unlock()
				return found, nil
			}
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Request{}, fmt.Errorf("fakemodel: no matching request: %w", ctx.Err())
		}
	}
}

// update runs fn under the lock and wakes the waiters of WaitRequest.
func (s *Server) update(fn func()) {
	s.mu.Lock()
	fn()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Handler returns the HTTP handler of the fake API.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req := &Request{Received: time.Now(), Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"),
		BodyBytes: len(body)}
	if len(body) > 0 {
		if json.Valid(body) {
			req.Body = body
		} else {
			req.Body, _ = json.Marshal(map[string]string{"_unparsed": string(body)})
		}
	}
	var in modelRequest
	if r.Method == http.MethodPost {
		_ = json.Unmarshal(body, &in)
		in.stats(req)
		req.Delay = s.opts.Delay
		if d, ok := DelayOf(req.UserText); ok {
			req.Delay = d
		}
	}
	s.update(func() {
		req.Seq = len(s.reqs) + 1
		s.reqs = append(s.reqs, req)
	})
	entry := map[string]any{"ts": unixSeconds(req.Received), "seq": req.Seq, "method": r.Method, "path": r.URL.Path,
		"auth": nullable(req.Auth)}
	if r.Method == http.MethodPost {
		entry["body_bytes"] = req.BodyBytes
		entry["model"] = req.Model
		entry["messages"] = req.Messages
		entry["tools"] = req.Tools
		entry["system_chars"] = req.SystemChars
		entry["user_texts"] = req.UserTexts
	}
	entry["body"] = rawOrNil(req.Body)
	s.log(entry)
	cancelled := s.route(w, r, req, in)
	// The end line is written before the request counts as done, so a test
	// that waited for Done finds it in the log.
	ended := time.Now()
	end := map[string]any{"ts": unixSeconds(ended), "seq": req.Seq, "end": "ok"}
	if cancelled {
		end["end"] = "cancelled"
	}
	s.mu.Lock()
	if req.PromptTokens > 0 {
		end["reply"] = req.Reply
		end["prompt_tokens"] = req.PromptTokens
		end["completion_tokens"] = req.CompletionTokens
	}
	s.mu.Unlock()
	s.log(end)
	s.update(func() {
		req.Ended = ended
		req.Cancelled = cancelled
	})
}

// modelRequest is the part of a chat completion or Responses request the
// server reads.
type modelRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages     []json.RawMessage `json:"messages"`     // chat completions
	Input        json.RawMessage   `json:"input"`        // Responses: a string or a list of items
	Instructions string            `json:"instructions"` // Responses: the system prompt
	Tools        []json.RawMessage `json:"tools"`
}

// stats fills in what req was sent: model, counts, user texts and the
// last real user text.
func (in *modelRequest) stats(req *Request) {
	req.Model, req.Stream, req.Tools = in.Model, in.Stream, len(in.Tools)
	req.SystemChars = utf8.RuneCountInString(in.Instructions)
	var s string
	if len(in.Input) > 0 && json.Unmarshal(in.Input, &s) == nil {
		req.Messages, req.UserText, req.UserTexts = 1, s, []string{s}
		return
	}
	raw := in.Messages
	if len(raw) == 0 && len(in.Input) > 0 {
		_ = json.Unmarshal(in.Input, &raw)
	}
	req.Messages = len(raw)
	msgs := make([]Message, 0, len(raw))
	for _, b := range raw {
		var m Message
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		msgs = append(msgs, m)
		switch m.Role {
		case "system", "developer":
			req.SystemChars += utf8.RuneCountInString(contentText(m.Content))
		case "user":
			req.UserTexts = append(req.UserTexts, contentText(m.Content))
		}
	}
	req.UserText = LastUserText(msgs)
}

// route answers req and reports whether the client went away first.
func (s *Server) route(w http.ResponseWriter, r *http.Request, req *Request, in modelRequest) bool {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if r.Method == http.MethodGet {
		switch {
		case strings.HasSuffix(path, "/models"):
			data := make([]map[string]any, len(s.opts.Models))
			for i, m := range s.opts.Models {
				data[i] = map[string]any{"id": m, "object": "model", "created": 0, "owned_by": "fake"}
			}
			writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
		case strings.HasPrefix(path, "/healthz"):
			writeJSON(w, http.StatusOK, map[string]any{"ok": true})
		default:
			notFound(w, r)
		}
		return false
	}
	chat, responses := strings.HasSuffix(path, "/chat/completions"), strings.HasSuffix(path, "/responses")
	if r.Method != http.MethodPost || !chat && !responses {
		notFound(w, r)
		return false
	}
	reply := ReplyFor(req.UserText)
	prompt, completion := tokens(req.BodyBytes), tokens(len(reply))
	s.update(func() {
		req.Reply, req.PromptTokens, req.CompletionTokens = reply, prompt, completion
	})
	if req.Delay > 0 {
		t := time.NewTimer(req.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	model := in.Model
	if model == "" {
		model = s.opts.Models[0]
	}
	if chat {
		usage := map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
		return s.chat(w, r, model, reply, usage, in.Stream, in.StreamOptions.IncludeUsage)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "resp_" + randomHex(), "object": "response", "status": "completed", "model": model,
		"output": []any{map[string]any{
			"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
			"content": []any{map[string]any{"type": "output_text", "text": reply, "annotations": []any{}}},
		}},
		"output_text": reply,
		"usage":       map[string]int{"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion},
	})
	return false
}

// tokens is a rough token count of n bytes: a quarter, at least 1.
func tokens(n int) int { return max(1, (n+3)/4) }

// chat answers a chat completion, as JSON or as SSE chunks.
func (s *Server) chat(w http.ResponseWriter, r *http.Request, model, text string, usage map[string]int, stream, includeUsage bool) bool {
	id := "chatcmpl-" + randomHex()
	created := time.Now().Unix()
	if !stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
			"usage":   usage,
		})
		return false
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(obj map[string]any) bool {
		b, _ := json.Marshal(obj)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	chunk := func(delta map[string]any, finish any) bool {
		return send(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
	}
	if !chunk(map[string]any{"role": "assistant", "content": ""}, nil) {
		return true
	}
	parts := strings.Split(text, " ")
	for i, p := range parts {
		if i < len(parts)-1 {
			p += " "
		}
		if !chunk(map[string]any{"content": p}, nil) {
			return true
		}
		if s.opts.ChunkDelay > 0 {
			select {
			case <-time.After(s.opts.ChunkDelay):
			case <-r.Context().Done():
				return true
			}
		}
	}
	if !chunk(map[string]any{}, "stop") {
		return true
	}
	if includeUsage && !send(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
		"choices": []any{}, "usage": usage}) {
		return true
	}
	_, err := io.WriteString(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
	return err != nil
}

// delayRE finds the per-request delay marker.
var delayRE = regexp.MustCompile(`\[\[delay=([0-9.]+)\]\]`)

// DelayOf returns the delay a "[[delay=N]]" marker in text asks for.
func DelayOf(text string) (time.Duration, bool) {
	m := delayRE.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// tsPrefix is the "[Wed 2026-11-25 03:27 UTC] " prefix gateways put before
// the user text. Unlike fake_openai.py it does not match a leading
// "[[delay=N]]" marker, so such a marker is echoed intact.
var tsPrefix = regexp.MustCompile(`^\[[^\[\]]{0,60}\]\s*`)

// The reply directives: "[[reply64:BASE64]]" and "[[reply:TEXT]]".
var (
	reply64RE = regexp.MustCompile(`\[\[reply64:([A-Za-z0-9+/=_-]+)\]\]`)
	replyRE   = regexp.MustCompile(`(?s)\[\[reply:(.*?)\]\]`)
)

// ReplyDirective returns the reply a "[[reply64:BASE64]]" or
// "[[reply:TEXT]]" directive anywhere in text asks for, the base64 one
// first. BASE64 may use the standard or the URL-safe alphabet, with or
// without padding; invalid UTF-8 in it becomes U+FFFD. A reply64 that does
// not decode counts as no directive of that kind.
func ReplyDirective(text string) (string, bool) {
	if m := reply64RE.FindStringSubmatch(text); m != nil {
		b := strings.NewReplacer("-", "+", "_", "/").Replace(strings.TrimRight(m[1], "="))
		if dec, err := base64.RawStdEncoding.DecodeString(b); err == nil {
			return strings.ToValidUTF8(string(dec), "\uFFFD"), true
		}
	}
	if m := replyRE.FindStringSubmatch(text); m != nil {
		return m[1], true
	}
	return "", false
}

// ReplyFor is the reply to the user text: what a reply directive anywhere
// in it asks for (see ReplyDirective), else its first paragraph without the
// timestamp prefix, whitespace collapsed, at most 200 runes, as
// "FAKE-REPLY: you said <<…>>".
func ReplyFor(text string) string {
	if reply, ok := ReplyDirective(text); ok {
		return reply
	}
	first, _, _ := strings.Cut(text, "\n\n")
	t := strings.Join(strings.Fields(tsPrefix.ReplaceAllString(first, "")), " ")
	if r := []rune(t); len(r) > maxEcho {
		t = string(r[:maxEcho])
	}
	return "FAKE-REPLY: you said <<" + t + ">>"
}

// Message is a chat message or a Responses API input item.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// LastUserText is the newest user message that is not gateway-injected
// context (OpenClaw appends a "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>" user
// message after the real one). If every user message is injected context,
// the newest one is returned.
func LastUserText(msgs []Message) string {
	fallback, seen := "", false
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role != "user" {
			continue
		}
		t := strings.TrimSpace(contentText(msgs[i].Content))
		if !seen {
			fallback, seen = t, true
		}
		if strings.HasPrefix(t, "<<<BEGIN_") {
			continue
		}
		return t
	}
	return fallback
}

// contentText flattens message content: a string, or a list of parts of
// type "text" / "input_text" joined by newlines.
func contentText(c json.RawMessage) string {
	var s string
	if json.Unmarshal(c, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(c, &parts) != nil {
		return ""
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" || p.Type == "input_text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

func (s *Server) log(entry map[string]any) {
	if s.opts.Log == nil {
		return
	}
	b, err := json.Marshal(entry)
	if err != nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = s.opts.Log.Write(append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"message": "no route " + r.URL.Path, "type": "not_found"}})
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func rawOrNil(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

var (
	idMu  sync.Mutex
	idSeq uint64
)

// randomHex returns a short unique hex id.
func randomHex() string {
	idMu.Lock()
	defer idMu.Unlock()
	idSeq++
	return fmt.Sprintf("%06x%06x", time.Now().UnixNano()&0xffffff, idSeq&0xffffff)
}
