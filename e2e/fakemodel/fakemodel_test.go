package fakemodel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
