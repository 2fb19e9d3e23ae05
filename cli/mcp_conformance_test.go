package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// MCP conformance of the stdio server (issue 9), driving the built binary
// against the built-in simulator in both protocol eras:
//
//   - a notifications/progress never follows the result of its request;
//   - after notifications/cancelled for a request, neither its result nor
//     any further progress for it is sent;
//   - list results of the 2026-07-28 era carry cache hints.

// modernMeta is the _meta every request of the 2026-07-28 era carries in
// place of the initialize handshake.
const modernMeta = `"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
	`"io.modelcontextprotocol/clientCapabilities":{},` +
	`"io.modelcontextprotocol/clientInfo":{"name":"conformance","version":"0"}`

// wantToolsListTTLMs is the ttlMs the option line sets on tools/list.
const wantToolsListTTLMs = 3_600_000

// stderrLog collects the binary's stderr and says when more arrived.
type stderrLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (l *stderrLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *stderrLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startSim starts the binary as an MCP server on pipes against the built-in
// simulator, with debug logs collected in the returned stderrLog.
func startSim(t *testing.T) (*session, *stderrLog) {
	t.Helper()
	cmd := exec.Command(binary(t))
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"CLAWGATE_SIMULATE=openclaw", "CLAWGATE_LOG_LEVEL=debug"}
	logs := &stderrLog{changed: make(chan struct{}, 1)}
	cmd.Stderr = logs
	// session.stderr is only read in failure messages; the logs are printed
	// on failure below instead.
	s := startCmd(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			out := logs.String()
			if len(out) > 8000 {
				out = "…" + out[len(out)-8000:]
			}
			t.Logf("stderr of the server:\n%s", out)
		}
	})
	return s, logs
}

// jsonKey is the canonical JSON of an id or progress token.
func jsonKey(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// progressToken returns the token of a notifications/progress, or "".
func progressToken(m map[string]any) string {
	if m["method"] != "notifications/progress" {
		return ""
	}
	p, _ := m["params"].(map[string]any)
	return jsonKey(p["progressToken"])
}

// isResponse reports whether m is a response with the given id (canonical JSON).
func isResponse(m map[string]any, id string) bool {
	_, hasID := m["id"]
	return hasID && m["method"] == nil && jsonKey(m["id"]) == id
}

func TestConformanceProgressNeverFollowsResult(t *testing.T) {
	s, _ := startSim(t)
	s.initialize()
	const rounds, width = 20, 6
	tokenOf := map[string]string{} // request id → progress token
	answered := map[string]int{}   // progress token → round its request was answered in
	var late []string
	before := 0 // progress notifications seen before their result
	check := func(m map[string]any, round int) {
		tok := progressToken(m)
		if tok == "" {
			return
		}
		if r, ok := answered[tok]; ok {
			late = append(late, fmt.Sprintf("round %d: progress for %s (answered in round %d): %v", round, tok, r, m["params"]))
		} else {
			before++
		}
	}
	for round := range rounds {
		pending := map[string]bool{}
		for i := range width {
			id := fmt.Sprint(10_000 + round*width + i)
			token := fmt.Sprintf(`"tok-%d-%d"`, round, i)
			if i%2 == 1 {
				token = fmt.Sprint(90_000 + round*width + i) // numeric tokens too
			}
			tokenOf[id], pending[id] = token, true
			delay := []string{"0.05", "0.1", "0.2"}[i%3]
			s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"ask_subagent",`+
				`"arguments":{"message":"[[delay=%s]] round %d call %d","session_key":"agent:main:conformance-%d"},"_meta":{"progressToken":%s}}}`,
				id, delay, round, i, i, token))
		}
		for len(pending) > 0 {
			m := s.next()
			if _, isResp := m["id"]; !isResp || m["method"] != nil {
				check(m, round)
				continue
			}
			id := jsonKey(m["id"])
			if !pending[id] {
				t.Fatalf("round %d: unexpected response %v", round, m)
			}
			delete(pending, id)
			answered[tokenOf[id]] = round
			res, _ := m["result"].(map[string]any)
			if res == nil || res["isError"] == true {
				t.Fatalf("round %d: ask_subagent %s failed: %v", round, id, m)
			}
		}
	}
	// Progress written after the last result would show up before the
	// answer to a request sent now.
	s.send(`{"jsonrpc":"2.0","id":"sync","method":"ping"}`)
	for {
		m := s.next()
		if isResponse(m, `"sync"`) {
			break
		}
		check(m, rounds)
	}
	if len(late) > 0 {
		t.Fatalf("%d progress notifications followed the result of their request (%d calls):\n%s",
			len(late), rounds*width, strings.Join(late, "\n"))
	}
	if before == 0 {
		t.Fatal("no progress notification at all: the test checked nothing")
	}
	t.Logf("%d calls, %d progress notifications, all before their result", rounds*width, before)
}

// awaitDisposal waits until the server has disposed of the cancelled
// request id: the stdio guard logs (at debug level) when it drops the result
// the handler produced. Meanwhile nothing for the request may reach stdout.
// The request is a longRun: its handler must return at once on the cancel,
// well before the run could have ended.
func awaitDisposal(t *testing.T, s *session, logs *stderrLog, id, token string) {
	t.Helper()
	want := `msg="dropped a response to a cancelled request" id=` + strings.Trim(id, `"`) + "\n"
	bound := testwait.WellBefore(testwait.LongTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	for !strings.Contains(logs.String(), want) {
		// Read stdout until a line arrives or the log grows.
		wake, stop := context.WithCancel(ctx)
		go func() {
			select {
			case <-logs.changed:
				stop()
			case <-wake.Done():
			}
		}()
		m, err := s.c.Next(wake)
		stop()
		switch {
		case err == nil:
			var msg map[string]any
			_ = json.Unmarshal([]byte(m.Line()), &msg) // JSON: the client checked
			if isResponse(msg, id) {
				t.Fatalf("a result was sent for the cancelled request %s: %s", id, m.Line())
			}
			if progressToken(msg) == token {
				t.Fatalf("progress for %s after its request was cancelled: %s", token, m.Line())
			}
		case ctx.Err() != nil:
			t.Fatalf("the cancelled request %s was neither answered nor dropped within %s", id, bound)
		case !errors.Is(err, context.Canceled): // not the log growing
			t.Fatalf("stdout: %v", err)
		}
	}
}

// expectQuietUntil sends a follow-up request and reads up to its answer:
// nothing for the request id, already answered or cancelled, may come
// before it.
func expectQuietUntil(t *testing.T, s *session, followUp, followID, id, token string) map[string]any {
	t.Helper()
	s.send(followUp)
	for {
		m := s.next()
		if isResponse(m, followID) {
			return m
		}
		if isResponse(m, id) {
			t.Fatalf("a (second) result was sent for the answered or cancelled request %s: %v", id, m)
		}
		if progressToken(m) == token {
			t.Fatalf("progress for %s after its request was answered or cancelled: %v", token, m)
		}
	}
}

// firstProgress reads until the first progress notification for token.
func firstProgress(t *testing.T, s *session, id, token string) {
	t.Helper()
	for {
		m := s.next()
		if progressToken(m) == token {
			return
		}
		if isResponse(m, id) {
			t.Fatalf("the long call %s ended before it was cancelled: %v", id, m)
		}
	}
}

func TestConformanceCancelledRequestGetsNoResult(t *testing.T) {
	s, logs := startSim(t)
	s.initialize()
	s.send(`{"jsonrpc":"2.0","id":"long-1","method":"tools/call","params":{"name":"ask_subagent",` +
		`"arguments":{"message":"` + longRun + ` cancel me"},"_meta":{"progressToken":"cancel-me"}}}`)
	firstProgress(t, s, `"long-1"`, `"cancel-me"`)
	s.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long-1","reason":"the user gave up"}}`)
	awaitDisposal(t, s, logs, `"long-1"`, `"cancel-me"`)
	expectQuietUntil(t, s, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, "2", `"long-1"`, `"cancel-me"`)
	// The server stays healthy, and a new request may reuse the token.
	s.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"ask_subagent",` +
		`"arguments":{"message":"again"},"_meta":{"progressToken":"cancel-me"}}}`)
	if m := s.response(); !isResponse(m, "3") || m["result"].(map[string]any)["isError"] == true {
		t.Fatalf("call after the cancellation: %v", m)
	}
}

func TestConformanceModernEra(t *testing.T) {
	s, logs := startSim(t)
	// No initialize: each request carries the protocol version in _meta.
	m := s.respond(`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{`+modernMeta+`}}}`, 1.0)
	res, _ := m["result"].(map[string]any)
	if res == nil || !strings.Contains(fmt.Sprint(res["supportedVersions"]), "2026-07-28") || res["resultType"] != "complete" {
		t.Fatalf("server/discover: %v", m)
	}
	if info := res["_meta"].(map[string]any)["io.modelcontextprotocol/serverInfo"].(map[string]any); info["name"] != "clawgate" {
		t.Fatalf("server/discover serverInfo: %v", m)
	}

	t.Run("tools/list cache hints", func(t *testing.T) {
		m := s.respond(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{`+modernMeta+`}}}`, 2.0)
		res, _ := m["result"].(map[string]any)
		if tl, _ := res["tools"].([]any); len(tl) != len(tools.Names(false)) {
			t.Fatalf("tools/list: %v", m)
		}
		ttl, hasTTL := res["ttlMs"].(float64)
		if !hasTTL || res["cacheScope"] != "private" {
			t.Fatalf("tools/list without cache hints: ttlMs %v cacheScope %v", res["ttlMs"], res["cacheScope"])
		}
		if ttl != wantToolsListTTLMs {
			t.Fatalf("tools/list ttlMs %v, want %v", ttl, wantToolsListTTLMs)
		}
	})

	t.Run("progress before the result", func(t *testing.T) {
		progress := 0
		for round := range 5 {
			id, token := fmt.Sprint(100+round), fmt.Sprint(7000+round)
			s.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"ask_subagent",` +
				`"arguments":{"message":"[[delay=0.1]] modern ` + id + `"},"_meta":{"progressToken":` + token + `,` + modernMeta + `}}}`)
			for {
				m := s.next()
				if progressToken(m) == token {
					progress++
					continue
				}
				if isResponse(m, id) {
					res, _ := m["result"].(map[string]any)
					if res == nil || res["isError"] == true || res["resultType"] != "complete" {
						t.Fatalf("modern tools/call: %v", m)
					}
					if sc, _ := res["structuredContent"].(map[string]any); !strings.Contains(fmt.Sprint(sc["text"]), "modern "+id) {
						t.Fatalf("modern tools/call reply: %v", m)
					}
					break
				}
			}
			// Nothing for the token after the result.
			expectQuietUntil(t, s, `{"jsonrpc":"2.0","id":"sync-`+id+`","method":"tools/list","params":{"_meta":{`+modernMeta+`}}}`,
				`"sync-`+id+`"`, id, token)
		}
		if progress == 0 {
			t.Fatal("no progress before the result of any modern tools/call")
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		s.send(`{"jsonrpc":"2.0","id":200,"method":"tools/call","params":{"name":"ask_subagent",` +
			`"arguments":{"message":"` + longRun + ` modern cancel"},"_meta":{"progressToken":"modern-cancel",` + modernMeta + `}}}`)
		firstProgress(t, s, "200", `"modern-cancel"`)
		s.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":200,"reason":"no longer needed"}}`)
		awaitDisposal(t, s, logs, "200", `"modern-cancel"`)
		expectQuietUntil(t, s, `{"jsonrpc":"2.0","id":201,"method":"tools/list","params":{"_meta":{`+modernMeta+`}}}`,
			"201", "200", `"modern-cancel"`)
	})
}
