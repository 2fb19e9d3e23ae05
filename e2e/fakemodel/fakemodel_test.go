package fakemodel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clawgate/clawgate/internal/gotwant"
)

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ctxFor is a context for waiting on the server, cancelled with the test.
// The deadline is generous: it only bounds a test that would hang.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func post(t *testing.T, ctx context.Context, url string, body any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer fake-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// openclawMessages is the shape of an OpenClaw 2026.9.6 turn: system prompt,
// the timestamped user text with a Runtime paragraph, then injected context
// as a list of parts.
func openclawMessages(text string) []any {
	return []any{
		map[string]any{"role": "system", "content": "You are a personal assistant running inside OpenClaw."},
		map[string]any{"role": "user", "content": "[Wed 2026-11-25 04:40 UTC] " + text + "\n\nRuntime: agent=main | session=agent:main:subagent"},
		map[string]any{"role": "user", "content": []any{map[string]any{"type": "text",
			"text": "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nConversation data\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>"}}},
	}
}

func TestReplyFor(t *testing.T) {
	for in, want := range map[string]string{
		"[Wed 2026-11-25 04:40 UTC] hi there\n\nRuntime: x": "FAKE-REPLY: you said <<hi there>>",
		"plain   text\nsecond line":                         "FAKE-REPLY: you said <<plain text second line>>",
		"[[delay=20]] slow one":                             "FAKE-REPLY: you said <<[[delay=20]] slow one>>",
		"[ts] [[delay=1.5]] x":                              "FAKE-REPLY: you said <<[[delay=1.5]] x>>",
		strings.Repeat("é", 300):                            "FAKE-REPLY: you said <<" + strings.Repeat("é", 200) + ">>",
	} {
		if got := ReplyFor(in); got != want {
			t.Errorf("ReplyFor(%q) = %q, want %q", in, got, want)
		}
	}
	if d, ok := DelayOf("x [[delay=1.5]] y"); !ok || d != 1500*time.Millisecond {
		t.Errorf("DelayOf = %v, %v", d, ok)
	}
	if _, ok := DelayOf("no marker"); ok {
		t.Error("DelayOf found a marker in text without one")
	}
}

func TestModels(t *testing.T) {
	s := start(t, Options{Models: []string{"a", "b"}})
	resp, err := http.Get(s.BaseURL() + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range out.Data {
		ids = append(ids, d.ID)
	}
	gotwant.Fatal(t, fmt.Sprintf("models: %+v", out),
		gotwant.Eq("object", out.Object, "list"),
		gotwant.Eq("data ids", strings.Join(ids, ","), "a,b"),
	)
}

func TestChatJSON(t *testing.T) {
	s := start(t, Options{})
	resp := post(t, context.Background(), s.BaseURL()+"/chat/completions",
		map[string]any{"model": "fake-echo", "messages": openclawMessages("hello json")})
	var out struct {
		Choices []struct {
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			Total int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	gotwant.Fatal(t, fmt.Sprintf("reply: %+v", out), gotwant.Eq("choices", len(out.Choices), 1))
	gotwant.Fatal(t, fmt.Sprintf("reply: %+v", out),
		gotwant.Eq("choices[0].message.content", out.Choices[0].Message.Content, "FAKE-REPLY: you said <<hello json>>"),
		gotwant.Eq("choices[0].finish_reason", out.Choices[0].FinishReason, "stop"),
		gotwant.Ne("usage.total_tokens", out.Usage.Total, 0),
	)
	reqs := s.Requests()
	gotwant.Fatal(t, fmt.Sprintf("recorded: %+v", reqs), gotwant.Eq("requests", len(reqs), 1))
	gotwant.Fatal(t, fmt.Sprintf("recorded: %+v", reqs),
		gotwant.Ne("user text", reqs[0].UserText, ""),
		gotwant.Eq("auth", reqs[0].Auth, "Bearer fake-key"),
		gotwant.Eq("done", reqs[0].Done(), true),
		gotwant.Eq("cancelled", reqs[0].Cancelled, false),
	)
}

func TestChatSSE(t *testing.T) {
	var log bytes.Buffer
	s := start(t, Options{Log: &log})
	// Clawdbot sends the user text as a list of parts.
	resp := post(t, context.Background(), s.BaseURL()+"/chat/completions", map[string]any{
		"model": "fake-echo", "stream": true, "stream_options": map[string]any{"include_usage": true},
		"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "hello sse"}}}},
	})
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var text strings.Builder
	usage, done := false, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Usage *struct {
				Total int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
		}
		if c.Usage != nil && c.Usage.Total > 0 {
			usage = true
		}
	}
	if text.String() != "FAKE-REPLY: you said <<hello sse>>" || !usage || !done {
		t.Fatalf("stream: text=%q usage=%v done=%v", text.String(), usage, done)
	}
	if _, err := s.WaitRequest(ctxFor(t), func(r Request) bool { return r.Done() }); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), "\n"); n != 2 {
		t.Fatalf("log has %d lines, want 2 (arrival, end): %s", n, log.String())
	}
}

func TestResponses(t *testing.T) {
	s := start(t, Options{})
	resp := post(t, context.Background(), s.BaseURL()+"/responses", map[string]any{"model": "fake-echo", "input": "hello responses"})
	var out struct {
		Status     string `json:"status"`
		OutputText string `json:"output_text"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Status != "completed" || out.OutputText != "FAKE-REPLY: you said <<hello responses>>" {
		t.Fatalf("responses: %+v", out)
	}
}

// TestDelayCancelled checks that a delayed request ends as soon as the client
// goes away and is recorded as cancelled.
func TestDelayCancelled(t *testing.T) {
	s := start(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		b, _ := json.Marshal(map[string]any{"messages": openclawMessages("[[delay=30]] slow")})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL()+"/chat/completions", bytes.NewReader(b))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		errc <- err
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	r, err := s.WaitRequest(wctx, func(r Request) bool { return strings.Contains(r.UserText, "slow") })
	if err != nil {
		t.Fatal(err)
	}
	if r.Delay != 30*time.Second {
		t.Fatalf("delay %v", r.Delay)
	}
	start := time.Now()
	cancel()
	<-errc
	r, err = s.WaitRequest(wctx, func(r Request) bool { return r.Seq == 1 && r.Done() })
	if err != nil {
		t.Fatal(err)
	}
	if !r.Cancelled || time.Since(start) > 2*time.Second {
		t.Fatalf("not cancelled promptly: %+v after %v", r, time.Since(start))
	}
}

func TestReplyDirectives(t *testing.T) {
	json64 := base64.StdEncoding.EncodeToString([]byte(`{"a":"ü]] ?>"}`))
	url64 := base64.RawURLEncoding.EncodeToString([]byte("??>>~~ü"))
	std64 := base64.StdEncoding.EncodeToString([]byte("??>>~~ü"))
	if url64 == strings.TrimRight(std64, "=") {
		t.Fatalf("test data: %q has no URL-safe characters", url64)
	}
	// An ask_subagent message: the task, then a long instruction suffix
	// after a blank line, all in one user message.
	suffix := "\n\nAnswer with JSON only.\n\nThe answer must match this schema: {\"type\":\"object\"}"
	for _, c := range []struct{ name, in, want string }{
		{"inline", `x [[reply:{"a":1}]] y`, `{"a":1}`},
		{"with timestamp prefix", `[Wed 2026-11-25 04:40 UTC] do it [[reply:done]]`, "done"},
		{"multi-line text", "[[reply:line one\n\nline two\n]]", "line one\n\nline two\n"},
		{"up to the first ]]", "[[reply:a]] b]]", "a"},
		{"in a later paragraph", "task one\n\nmore context\n\n[[reply:late]]" + suffix, "late"},
		{"before a long suffix", "[[reply:{\"ok\":true}]] task" + suffix + strings.Repeat("\n\nfiller", 100), `{"ok":true}`},
		{"empty", "[[reply:]]", ""},
		{"reply64 std with padding", "x [[reply64:" + json64 + "]]", `{"a":"ü]] ?>"}`},
		{"reply64 url-safe without padding", "x\n\ny [[reply64:" + url64 + "]]", "??>>~~ü"},
		{"reply64 std", "[[reply64:" + std64 + "]]", "??>>~~ü"},
		{"reply64 wins over reply", "[[reply:plain]] [[reply64:" + json64 + "]]", `{"a":"ü]] ?>"}`},
		{"reply64 invalid UTF-8", "[[reply64:" + base64.StdEncoding.EncodeToString([]byte{'a', 0xff}) + "]]", "a\uFFFD"},
		{"reply64 that does not decode falls back to reply", "[[reply64:A]] [[reply:fallback]]", "fallback"},
		{"unterminated", "[[reply:never closed", "FAKE-REPLY: you said <<[[reply:never closed>>"},
		{"delay and reply", "[[delay=0.5]] [[reply:slow]]", "slow"},
	} {
		if got := ReplyFor(c.in); got != c.want {
			t.Errorf("%s: ReplyFor(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
	if _, ok := ReplyDirective("FAKE-REPLY without a directive [[delay=1]]"); ok {
		t.Error("ReplyDirective found a directive in text without one")
	}
}

// sseText reads a chat completion stream and returns its text and the
// usage of its usage chunk.
func sseText(t *testing.T, body io.Reader) (string, map[string]int) {
	t.Helper()
	var text strings.Builder
	var usage map[string]int
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Usage map[string]int `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
		}
		if c.Usage != nil {
			usage = c.Usage
		}
	}
	return text.String(), usage
}

// TestReplyDirectiveEndToEnd checks that a directive in the last real user
// message (not in OpenClaw's injected context, not in an earlier user
// message) makes the streamed reply, spaces and newlines intact.
func TestReplyDirectiveEndToEnd(t *testing.T) {
	s := start(t, Options{})
	want := "{\"answer\": \"two words\",\n \"n\": 2}"
	msgs := openclawMessages("first task [[reply:wrong]]")
	msgs = append(msgs,
		map[string]any{"role": "assistant", "content": "ok"},
		map[string]any{"role": "user", "content": "[Wed 2026-11-25 04:41 UTC] second task\n\nInstructions: answer in JSON.\n\n[[reply64:" +
			base64.URLEncoding.EncodeToString([]byte(want)) + "]]"},
		map[string]any{"role": "user", "content": "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\n[[reply:injected]]\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>"},
	)
	resp := post(t, context.Background(), s.BaseURL()+"/chat/completions", map[string]any{
		"model": "fake-mini", "stream": true, "stream_options": map[string]any{"include_usage": true}, "messages": msgs})
	text, usage := sseText(t, resp.Body)
	gotwant.Fatal(t, fmt.Sprintf("usage %v", usage),
		gotwant.Eq("text", text, want),
		gotwant.Eq("usage.completion_tokens", usage["completion_tokens"], (len(want)+3)/4),
	)
}

// TestRequestStats checks what a request records about what the model was
// sent, for a chat completion and a Responses request, and that the usage
// answered follows the request and reply sizes.
func TestRequestStats(t *testing.T) {
	var log bytes.Buffer
	s := start(t, Options{Log: &log})
	system := "You are a personal assistant running inside OpenClaw. ü"
	chat := map[string]any{
		"model": "fake-mini", "stream": true, "stream_options": map[string]any{"include_usage": true},
		"messages": []any{
			map[string]any{"role": "system", "content": system},
			map[string]any{"role": "developer", "content": []any{map[string]any{"type": "text", "text": "dev"}}},
			map[string]any{"role": "user", "content": "first subtask"},
			map[string]any{"role": "assistant", "content": "done"},
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "second subtask"}}},
		},
		"tools": []any{
			map[string]any{"type": "function", "function": map[string]any{"name": "read", "parameters": map[string]any{"type": "object"}}},
			map[string]any{"type": "function", "function": map[string]any{"name": "write", "parameters": map[string]any{"type": "object"}}},
		},
	}
	chatBody, _ := json.Marshal(chat)
	text, usage := sseText(t, post(t, context.Background(), s.BaseURL()+"/chat/completions", chat).Body)
	wantReply := "FAKE-REPLY: you said <<second subtask>>"
	wantPrompt, wantCompletion := (len(chatBody)+3)/4, (len(wantReply)+3)/4
	gotwant.Fatal(t, fmt.Sprintf("usage %v", usage),
		gotwant.Eq("reply", text, wantReply),
		gotwant.Eq("usage.prompt_tokens", usage["prompt_tokens"], wantPrompt),
		gotwant.Eq("usage.completion_tokens", usage["completion_tokens"], wantCompletion),
		gotwant.Eq("usage.total_tokens", usage["total_tokens"], wantPrompt+wantCompletion),
	)

	responses := map[string]any{
		"model": "fake-echo", "instructions": "Be brief.",
		"input": []any{
			map[string]any{"type": "message", "role": "developer", "content": []any{map[string]any{"type": "input_text", "text": "d"}}},
			map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": "question"}}},
			map[string]any{"type": "function_call_output", "call_id": "c1", "output": "x"},
		},
		"tools": []any{map[string]any{"type": "function", "name": "read"}},
	}
	respBody, _ := json.Marshal(responses)
	var out struct {
		OutputText string         `json:"output_text"`
		Usage      map[string]int `json:"usage"`
	}
	if err := json.NewDecoder(post(t, context.Background(), s.BaseURL()+"/responses", responses).Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	gotwant.Fatal(t, fmt.Sprintf("responses %+v", out),
		gotwant.Eq("output_text", out.OutputText, "FAKE-REPLY: you said <<question>>"),
		gotwant.Eq("usage.input_tokens", out.Usage["input_tokens"], (len(respBody)+3)/4),
		gotwant.Eq("usage.output_tokens", out.Usage["output_tokens"], (len(out.OutputText)+3)/4),
	)
	post(t, context.Background(), s.BaseURL()+"/responses", map[string]any{"model": "fake-echo", "input": "just a string"})

	reqs := s.Requests()
	gotwant.Fatal(t, fmt.Sprintf("recorded: %+v", reqs), gotwant.Eq("requests", len(reqs), 3))
	c, r, str := reqs[0], reqs[1], reqs[2]
	gotwant.Error(t, fmt.Sprintf("chat request: %+v", c),
		gotwant.Eq("BodyBytes", c.BodyBytes, len(chatBody)),
		gotwant.Eq("Model", c.Model, "fake-mini"),
		gotwant.Eq("Messages", c.Messages, 5),
		gotwant.Eq("Tools", c.Tools, 2),
		gotwant.Eq("SystemChars", c.SystemChars, utf8.RuneCountInString(system)+len("dev")),
		gotwant.Eq("UserTexts", strings.Join(c.UserTexts, "|"), "first subtask|second subtask"),
		gotwant.Eq("UserText", c.UserText, "second subtask"),
		gotwant.Eq("PromptTokens", c.PromptTokens, wantPrompt),
		gotwant.Eq("CompletionTokens", c.CompletionTokens, wantCompletion),
		gotwant.Eq("Stream", c.Stream, true),
	)
	gotwant.Error(t, fmt.Sprintf("responses request: %+v", r),
		gotwant.Eq("BodyBytes", r.BodyBytes, len(respBody)),
		gotwant.Eq("Model", r.Model, "fake-echo"),
		gotwant.Eq("Messages", r.Messages, 3),
		gotwant.Eq("Tools", r.Tools, 1),
		gotwant.Eq("SystemChars", r.SystemChars, len("Be brief.")+len("d")),
		gotwant.Eq("UserTexts", strings.Join(r.UserTexts, "|"), "question"),
	)
	gotwant.Error(t, fmt.Sprintf("responses request with string input: %+v", str),
		gotwant.Eq("Messages", str.Messages, 1),
		gotwant.Eq("UserTexts", strings.Join(str.UserTexts, "|"), "just a string"),
		gotwant.Eq("Tools", str.Tools, 0),
		gotwant.Eq("SystemChars", str.SystemChars, 0),
	)

	// Requests returns copies: changing one does not change the record.
	reqs[0].UserTexts[0] = "changed"
	if got := s.Requests()[0].UserTexts[0]; got != "first subtask" {
		t.Errorf("Requests shares UserTexts with the record: %q", got)
	}

	// The log's arrival lines carry the same figures. The log is complete
	// once every request is done.
	if _, err := s.WaitRequest(ctxFor(t), func(r Request) bool { return r.Seq == 3 && r.Done() }); err != nil {
		t.Fatal(err)
	}
	var first map[string]any
	line, _, _ := strings.Cut(log.String(), "\n")
	if err := json.Unmarshal([]byte(line), &first); err != nil {
		t.Fatalf("log line %q: %v", line, err)
	}
	gotwant.Error(t, "first log line: "+line,
		gotwant.Eq("body_bytes", first["body_bytes"], any(float64(len(chatBody)))),
		gotwant.Eq("model", first["model"], any("fake-mini")),
		gotwant.Eq("messages", first["messages"], any(float64(5))),
		gotwant.Eq("tools", first["tools"], any(float64(2))),
		gotwant.Eq("system_chars", first["system_chars"], any(float64(c.SystemChars))),
		gotwant.Eq("user_texts", fmt.Sprint(first["user_texts"]), "[first subtask second subtask]"),
	)
}
