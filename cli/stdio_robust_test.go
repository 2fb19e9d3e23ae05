package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/tools"
)

// Stdio robustness of the built binary: whatever arrives on stdin, every
// line on stdout is a JSON-RPC 2.0 message (session.next fails the test on
// anything else), malformed input gets a JSON-RPC error, and the process
// stays up until EOF or a signal, then exits cleanly.

// respond sends one line and returns the single response it gets (the
// response with id, or for id == nil the next response with a null id).
func (s *session) respond(line string, id any) map[string]any {
	s.t.Helper()
	s.send(line)
	want, _ := json.Marshal(id)
	for {
		m := s.next()
		got, _ := json.Marshal(m["id"])
		if _, isResp := m["id"]; isResp && string(got) == string(want) {
			return m
		}
		if m["method"] == nil {
			s.t.Fatalf("unexpected response %v while waiting for id %s (line %.80q)", m, want, line)
		}
	}
}

// synced checks that nothing but the answer to a ping arrives next, i.e.
// that the lines sent before produced no output.
func (s *session) synced(tag string) {
	s.t.Helper()
	s.send(`{"jsonrpc":"2.0","id":"sync-` + tag + `","method":"ping"}`)
	if m := s.next(); m["id"] != "sync-"+tag || m["result"] == nil {
		s.t.Fatalf("%s: output before the ping's answer: %v", tag, m)
	}
}

func errCode(m map[string]any) float64 {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return c
}

func TestStdioMalformedInput(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)
	for _, tc := range []struct {
		line string
		id   any     // id of the response (nil: null)
		code float64 // JSON-RPC error code
	}{
		{`{`, nil, -32700},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_sessions","arguments":{"limit":1}}`, nil, -32700}, // truncated
		{"\xff\xfe\x00{}", nil, -32700},
		{``, nil, -32700},
		{`   `, nil, -32700},
		{`[]`, nil, -32700},
		{`[{"jsonrpc":"2.0","id":2,"method":"ping"}]`, nil, -32700}, // batches are not MCP
		{`42`, nil, -32700},
		{`"a string"`, nil, -32700},
		{`null`, nil, -32600},
		{`{"jsonrpc":"1.0","id":3,"method":"tools/list"}`, 3.0, -32600},
		{`{"id":4,"method":"tools/list"}`, 4.0, -32600},
		{`{"jsonrpc":"2.0","id":5}`, 5.0, -32601},
		{`{"jsonrpc":"2.0","id":6,"method":"no/such/method"}`, 6.0, -32601},
		{`{"jsonrpc":"2.0","id":7,"method":""}`, 7.0, -32601},
		{`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":"not an object"}`, 8.0, -32600},
		{`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}`, 9.0, -32602},
		{`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":42}}`, 10.0, -32600},
		{`{"jsonrpc":"2.0","id":11,"method":"initialize","params":[1,2]}`, 11.0, -32600},
		{`{"jsonrpc":"2.0","id":"twelve","method":"ping","params":"x"}`, "twelve", -32600},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":"garbage"}`, nil, -32700}, // an unparsable notification
	} {
		m := s.respond(tc.line, tc.id)
		if errCode(m) != tc.code {
			t.Errorf("%.60q: got %v, want error %v", tc.line, m, tc.code)
		}
	}
	// Tool arguments of the wrong shape are a tool error, not a crash.
	m := s.respond(`{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"list_sessions","arguments":"nope"}}`, 20.0)
	if res, _ := m["result"].(map[string]any); res["isError"] != true {
		t.Errorf("string arguments: %v", m)
	}
	// Notifications, unknown or not, and client responses get no answer.
	s.send(`{"jsonrpc":"2.0","method":"notifications/unknown"}`)
	s.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999}}`)
	s.send(`{"jsonrpc":"2.0","id":21,"result":{}}`)
	s.synced("notifications")
	// Still healthy.
	m = s.respond(`{"jsonrpc":"2.0","id":30,"method":"tools/call","params":{"name":"list_sessions","arguments":{"limit":1}}}`, 30.0)
	if res, _ := m["result"].(map[string]any); res["isError"] == true || res["structuredContent"].(map[string]any)["count"] != 1.0 {
		t.Fatalf("after the malformed input: %v", m)
	}
	s.c.CloseStdin()
	waitExit(t, s, 0)
}

func TestStdioHugeLines(t *testing.T) {
	const tenMiB = 10 << 20
	// Clawdbot's maxPayload is 512 KiB, so a 10 MiB tool argument also
	// exercises the refusal of an oversized gateway request.
	g := fake(t, gatewaysim.Clawdbot)
	s := startOn(t, g)
	big := strings.Repeat("y", tenMiB)
	// 10 MiB of garbage on one line.
	if m := s.respond(big, nil); errCode(m) != -32700 {
		t.Fatalf("garbage line: %v", m)
	}
	// A 10 MiB request for a method that does not exist.
	if m := s.respond(`{"jsonrpc":"2.0","id":2,"method":"`+big+`"}`, 2.0); errCode(m) != -32601 {
		t.Fatalf("huge method: %.200v", m)
	}
	// A 10 MiB tool argument that stays in clawgate.
	m := s.respond(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_models","arguments":{"provider":"`+big+`"}}}`, 3.0)
	if res, _ := m["result"].(map[string]any); res["isError"] == true || fmt.Sprint(mapOf(res["structuredContent"])["models"]) != "[]" {
		t.Fatalf("10 MiB provider: %.300v", m)
	}
	// A 10 MiB agent message: more than the gateway accepts, and clawgate
	// says so without sending it.
	m = s.respond(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"`+big+`"}}}`, 4.0)
	if res, _ := m["result"].(map[string]any); res["isError"] != true ||
		!strings.Contains(fmt.Sprint(res["content"]), "more than the gateway accepts (policy.maxPayload 524288 bytes)") {
		t.Fatalf("10 MiB message: %.300v", m)
	}
	if n := len(g.RequestsFor("agent")); n != 0 {
		t.Fatalf("%d oversized agent requests sent", n)
	}
	m = s.respond(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"list_sessions","arguments":{"limit":1}}}`, 5.0)
	if res, _ := m["result"].(map[string]any); res["isError"] == true {
		t.Fatalf("after the huge lines: %v", m)
	}
	s.c.CloseStdin()
	waitExit(t, s, 0)
}

// Requests before initialize are answered like any other request (mcp-go
// serves them; the MCP spec only says clients should not send them), and the
// session still initializes normally afterwards.
func TestStdioRequestsBeforeInitialize(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	s := start(t, []string{"OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secret})
	if m := s.respond(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, 1.0); m["result"] == nil {
		t.Fatalf("tools/list before initialize: %v", m)
	}
	m := s.respond(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_models","arguments":{}}}`, 2.0)
	if res, _ := m["result"].(map[string]any); res == nil || res["isError"] == true {
		t.Fatalf("tools/call before initialize: %v", m)
	}
	s.initialize()
	if m := s.respond(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, 3.0); len(m["result"].(map[string]any)["tools"].([]any)) != len(tools.Names(false)) {
		t.Fatalf("tools/list after initialize: %v", m)
	}
	// A second initialize is answered too and changes nothing.
	if m := s.respond(`{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"again","version":"0"}}}`, 4.0); m["result"] == nil && m["error"] == nil {
		t.Fatalf("second initialize: %v", m)
	}
	s.synced("after")
}

func TestStdioEOF(t *testing.T) {
	t.Run("in the middle of a request line", func(t *testing.T) {
		g := fake(t, gatewaysim.OpenClaw)
		s := startOn(t, g)
		_, _ = io.WriteString(s.c, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_ses`)
		s.c.CloseStdin()
		waitExit(t, s, 0)
		if n := len(g.RequestsFor("sessions.list")); n != 0 {
			t.Fatalf("the partial request was executed (%d)", n)
		}
	})
	t.Run("before initialize", func(t *testing.T) {
		s := start(t, []string{"OPENCLAW_GATEWAY_URL=ws://127.0.0.1:1"})
		s.c.CloseStdin()
		waitExit(t, s, 0)
	})
	t.Run("with an agent run in flight", func(t *testing.T) {
		g, s := startWithRun(t, 2, "[[delay=30]] eof")
		s.c.CloseStdin()
		waitExit(t, s, 0)
		gatewaywait.OnlyRunAborted(t, g)
	})
	t.Run("with a connect to a wedged gateway in flight", func(t *testing.T) {
		g := fake(t, gatewaysim.OpenClaw)
		g.SilentHandshake()
		s := startOn(t, g, "CLAWGATE_CONNECT_TIMEOUT=60s")
		s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_sessions","arguments":{}}}`)
		if err := g.WaitFor(testwait.Ctx(t), "the connect to reach the wedged gateway", func() bool { return g.ConnCount() > 0 }); err != nil {
			t.Fatal(err)
		}
		s.c.CloseStdin()
		waitExit(t, s, 0)
	})
}

func TestStdioSignals(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGINT", syscall.SIGINT}, {"SIGTERM", syscall.SIGTERM}, {"SIGHUP", syscall.SIGHUP}} {
		t.Run(tc.name+" with a connect to a wedged gateway in flight", func(t *testing.T) {
			g := fake(t, gatewaysim.OpenClaw)
			g.NoHelloReply()
			s := startOn(t, g, "CLAWGATE_CONNECT_TIMEOUT=60s")
			s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"gateway_status","arguments":{}}}`)
			if _, err := g.WaitConnects(testwait.Ctx(t), 1); err != nil {
				t.Fatal(err)
			}
			_ = s.cmd.Process.Signal(tc.sig)
			waitExit(t, s, 0)
		})
		t.Run(tc.name+" with an agent run in flight", func(t *testing.T) {
			g, s := startWithRun(t, 2, "[[delay=30]] signal")
			_ = s.cmd.Process.Signal(tc.sig)
			waitExit(t, s, 0)
			gatewaywait.OnlyRunAborted(t, g)
		})
	}
}

// exitBound is how long clawgate may take to exit after EOF or a signal:
// closing aborts the runs in flight (the gateway client's abortTimeout,
// 5 s) and closes the connection (at most 500 ms); twice that is a hang,
// however busy the machine.
const exitBound = 2 * (5*time.Second + 500*time.Millisecond)

// waitExit waits for the process to exit with code, within exitBound, then
// checks that whatever is left on stdout is JSON-RPC.
func waitExit(t *testing.T, s *session, code int) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
		if el := time.Since(start); el > exitBound {
			t.Fatalf("exit took %s (bound %s); stderr:\n%s", el, exitBound, s.stderr)
		}
	case <-time.After(min(2*exitBound, testwait.Patience())):
		t.Fatalf("no exit within %s; stderr:\n%s", min(2*exitBound, testwait.Patience()), s.stderr)
	}
	if got := s.cmd.ProcessState.ExitCode(); got != code {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", got, code, s.stderr)
	}
	s.drained(t)
}

// startWithRun starts the binary against a fresh OpenClaw fake, sends
// tools/call ask_subagent with id and message, and waits until the fake has
// the run: clawgate tracks a run before sending its request, so from then on
// closing or cancelling aborts it.
func startWithRun(t *testing.T, id int, message string) (*gatewaysim.Server, *session) {
	t.Helper()
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)
	s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":%q}}}`, id, message))
	gatewaywait.Runs(t, g, 1)
	return g, s
}

// quickTimeout is a call timeout for a test that waits for it to fire and
// whose other calls must complete within it: gatewaywait.QuickTimeout,
// measured in this process, and at least 2 s, because the calls it bounds
// are made by another process, the clawgate binary (in whole milliseconds,
// to pass it in CLAWGATE_CALL_TIMEOUT).
func quickTimeout(t testing.TB) time.Duration {
	t.Helper()
	return max(gatewaywait.QuickTimeout(t), 2*time.Second).Round(time.Millisecond)
}

// mapOf is v as a JSON object, or nil.
func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
