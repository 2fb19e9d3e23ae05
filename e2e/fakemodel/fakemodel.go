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
// The reply is "FAKE-REPLY: you said <<T>>", where T is the first paragraph
// of the last real user message: OpenClaw's injected
// <<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> user message is skipped and the
// gateway's "[timestamp] " prefix is stripped. "[[delay=N]]" anywhere in that
// message makes the request wait N seconds before answering; the wait ends
// early when the gateway closes the connection, and the request is then
// recorded as cancelled, which is how a test sees that a run was really
// aborted on the gateway.
//
// Every request is recorded (see Requests and WaitRequest) and, when
// Options.Log is set, appended to it as one JSON object per line.
package fakemodel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultModel is the model id served when Options.Models is empty.
const DefaultModel = "fake-echo"

// maxEcho is how many runes of the user text the reply echoes.
const maxEcho = 200

// Options configure a Server.
type Options struct {
	// Models are the model ids GET /v1/models lists; default [DefaultModel].
	Models []string
	// Delay is added before every answer; "[[delay=N]]" overrides it.
	Delay time.Duration
	// ChunkDelay is the pause between two SSE chunks.
	ChunkDelay time.Duration
	// Log, if set, receives one JSON line per request on arrival and one
	// when it ends. Writes are serialized.
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
	// Cancelled reports that the client went away before the answer was
	// written (the gateway aborted the model call).
	Cancelled bool
}

// Done reports whether the request has ended (answered or cancelled).
func (r Request) Done() bool { return !r.Ended.IsZero() }

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
		opts.Models = []string{DefaultModel}
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
		out[i] = *r
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
			if match(*r) {
				found := *r
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
	req := &Request{Received: time.Now(), Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
	if len(body) > 0 {
		if json.Valid(body) {
			req.Body = body
		} else {
			req.Body, _ = json.Marshal(map[string]string{"_unparsed": string(body)})
		}
	}
	s.update(func() {
		req.Seq = len(s.reqs) + 1
		s.reqs = append(s.reqs, req)
	})
	s.log(map[string]any{"ts": unixSeconds(req.Received), "seq": req.Seq, "method": r.Method, "path": r.URL.Path,
		"auth": nullable(req.Auth), "body": rawOrNil(req.Body)})
	cancelled := s.route(w, r, req)
	s.update(func() {
		req.Ended = time.Now()
		req.Cancelled = cancelled
	})
	end := "ok"
	if cancelled {
		end = "cancelled"
	}
	s.log(map[string]any{"ts": unixSeconds(req.Ended), "seq": req.Seq, "end": end})
}

// route answers req and reports whether the client went away first.
func (s *Server) route(w http.ResponseWriter, r *http.Request, req *Request) bool {
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
	if r.Method != http.MethodPost {
		notFound(w, r)
		return false
	}
	var in struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
		Messages []json.RawMessage `json:"messages"`
		Input    json.RawMessage   `json:"input"`
	}
	_ = json.Unmarshal(req.Body, &in)
	userText := requestUserText(in.Messages, in.Input)
	delay := s.opts.Delay
	if d, ok := DelayOf(userText); ok {
		delay = d
	}
	reply := ReplyFor(userText)
	s.update(func() {
		req.UserText, req.Reply, req.Delay, req.Stream = userText, reply, delay, in.Stream
	})
	if delay > 0 {
		t := time.NewTimer(delay)
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
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
		return s.chat(w, r, model, reply, in.Stream, in.StreamOptions.IncludeUsage)
	case strings.HasSuffix(path, "/responses"):
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "resp_" + randomHex(), "object": "response", "status": "completed", "model": model,
			"output": []any{map[string]any{
				"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
				"content": []any{map[string]any{"type": "output_text", "text": reply, "annotations": []any{}}},
			}},
			"output_text": reply,
			"usage":       map[string]int{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
		})
		return false
	}
	notFound(w, r)
	return false
}

// chat answers a chat completion, as JSON or as SSE chunks.
func (s *Server) chat(w http.ResponseWriter, r *http.Request, model, text string, stream, includeUsage bool) bool {
	id := "chatcmpl-" + randomHex()
	created := time.Now().Unix()
	words := len(strings.Fields(text))
	usage := map[string]int{"prompt_tokens": 10, "completion_tokens": words, "total_tokens": 10 + words}
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

// ReplyFor is the reply to the user text: its first paragraph without the
// timestamp prefix, whitespace collapsed, at most 200 runes.
func ReplyFor(text string) string {
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

// requestUserText is the user text of a chat request (messages) or a
// Responses request (input: a string or a list of items).
func requestUserText(messages []json.RawMessage, input json.RawMessage) string {
	var s string
	if len(input) > 0 && json.Unmarshal(input, &s) == nil {
		return s
	}
	if len(messages) == 0 && len(input) > 0 {
		_ = json.Unmarshal(input, &messages)
	}
	msgs := make([]Message, 0, len(messages))
	for _, raw := range messages {
		var m Message
		if json.Unmarshal(raw, &m) == nil {
			msgs = append(msgs, m)
		}
	}
	return LastUserText(msgs)
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
