package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/internal/testwait"
)

// Stdio hardening of the built binary (issue 10, items 8, 9 and 14): a
// saturated client gets an immediate "busy" error instead of stalling the
// read loop; an over-long line is refused without being held in memory;
// JSON-RPC ids are echoed exactly, malformed ones get the right error, and
// cancellation matches the exact id.

// toolCallLimit is how many tool calls clawgate runs at once (cli's
// toolWorkers). The busy error reports its limit, and the test checks that
// it is this one.
const toolCallLimit = 100

// maxLineBytes is the longest line clawgate reads from stdin
// (stdioguard.DefaultMaxLine).
const maxLineBytes = 64 << 20

// rawResponse sends line and returns the first response that follows,
// skipping notifications. It must come at once.
func rawResponse(t *testing.T, s *session, line string) *mcptest.Message {
	t.Helper()
	s.send(line)
	for {
		if m := nextMsg(t, s, testwait.WellBefore(testwait.LongTimeout)); m.IsResponse() {
			return m
		}
	}
}

// wantError checks that m is a JSON-RPC error with id (exactly), code and
// a message containing msg.
func wantError(t *testing.T, what string, m *mcptest.Message, id string, code int, msg string) {
	t.Helper()
	if m.Error == nil {
		t.Fatalf("%s: %.500s, want error %d", what, m.Line(), code)
	}
	gotwant.Fatal(t, fmt.Sprintf("%s: %.500s", what, m.Line()),
		gotwant.Eq("id", string(m.ID), id),
		gotwant.Eq("error.code", m.Error.Code, code),
		gotwant.Contains("error.message", m.Error.Message, msg),
	)
}

// quiet checks that the lines sent before produced no output: the next
// line is the answer to a ping sent now.
func quiet(t *testing.T, s *session, tag string) {
	t.Helper()
	id := `"quiet-` + tag + `"`
	if m := rawResponse(t, s, `{"jsonrpc":"2.0","id":`+id+`,"method":"ping"}`); string(m.ID) != id || m.Result == nil {
		t.Fatalf("%s: output before the ping's answer: %s", tag, m.Line())
	}
}

func askLine(id, session, message, token string) string {
	meta := ""
	if token != "" {
		meta = `,"_meta":{"progressToken":` + token + `}`
	}
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"` +
		message + `","session_key":"` + session + `"}` + meta + `}}`
}

func cancelLine(id string) string {
	return `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":` + id + `,"reason":"test"}}`
}

// runOf returns the fake's run for session, if it started.
func runOf(g *gatewaysim.Server, session string) (gatewaysim.RunInfo, bool) {
	for _, r := range g.Runs() {
		if r.SessionKey == session {
			return r, true
		}
	}
	return gatewaysim.RunInfo{}, false
}

// promptly waits for what with wait, which must succeed well before a long
// run could end (wait is bounded by the test's patience).
func promptly(t *testing.T, what string, wait func(ctx context.Context) error) {
	t.Helper()
	bound := testwait.WellBefore(testwait.LongTimeout)
	begin := time.Now()
	if err := wait(testwait.Ctx(t)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if el := time.Since(begin); el > bound {
		t.Fatalf("%s only after %s, not well before the runs could end (%s)", what, el, bound)
	}
}

// abortedIn returns a wait for the first run of session on the fake g to
// end aborted.
func abortedIn(g *gatewaysim.Server, session string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		r, err := g.WaitRunOf(ctx, session)
		if err == nil {
			_, err = g.WaitAborted(ctx, r.RunID)
		}
		return err
	}
}

// startedIn returns a wait for a run of each of sessions on the fake g to
// start.
func startedIn(g *gatewaysim.Server, sessions ...string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for _, s := range sessions {
			if _, err := g.WaitRunOf(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// Item 8: more tool calls than clawgate runs at once. The excess gets a
// JSON-RPC "busy" error at once; the read loop never runs a tool, so a
// ping, a cancellation and EOF are handled at once too.
func TestStdioSaturatedToolCalls(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)
	const n = toolCallLimit + 50
	for i := range n {
		s.send(askLine(strconv.Itoa(i), fmt.Sprintf("agent:main:sat-%d", i), longRun+" saturate", ""))
	}
	busy := map[int]bool{}
	for len(busy) < n-toolCallLimit {
		m := nextMsg(t, s, testwait.WellBefore(testwait.LongTimeout))
		if !m.IsResponse() {
			continue
		}
		if m.Error == nil || m.Error.Code != -32000 {
			t.Fatalf("a call ended while all its runs last a minute: %.300s", m.Line())
		}
		id, err := strconv.Atoi(string(m.ID))
		if err != nil || busy[id] {
			t.Fatalf("busy error for an unexpected id: %s", m.Line())
		}
		busy[id] = true
		var data struct{ InFlight, Limit int }
		err = json.Unmarshal(m.Error.Data, &data)
		gotwant.Fatal(t, "busy error: "+m.Line(),
			gotwant.That("error.data", err == nil, m.Error.Data, "{inFlight, limit}"),
			gotwant.Eq("error.data.limit", data.Limit, toolCallLimit),
			gotwant.Eq("error.data.inFlight", data.InFlight, toolCallLimit),
			gotwant.Contains("error.message", m.Error.Message, fmt.Sprintf("clawgate is busy: %d tool calls are in flight", toolCallLimit)),
		)
	}
	for i := toolCallLimit; i < n; i++ {
		if !busy[i] {
			t.Fatalf("call %d was not refused; refused: %v", i, busy)
		}
	}
	promptly(t, "every accepted call started its run", func(ctx context.Context) error {
		_, err := g.WaitRuns(ctx, toolCallLimit)
		return err
	})
	if n := len(g.Runs()); n != toolCallLimit {
		t.Fatalf("%d runs started, want one for each of the %d accepted calls", n, toolCallLimit)
	}
	// A ping is answered at once.
	begin := time.Now()
	if m := rawResponse(t, s, `{"jsonrpc":"2.0","id":"ping-1","method":"ping"}`); string(m.ID) != `"ping-1"` || m.Result == nil {
		t.Fatalf("ping behind %d running calls: %s", toolCallLimit, m.Line())
	}
	t.Logf("ping answered in %s behind %d running calls", time.Since(begin), toolCallLimit)
	// A cancellation is acted on at once, and frees a place: a new call is
	// then accepted.
	s.send(cancelLine("0"))
	promptly(t, "the cancelled run aborted", abortedIn(g, "agent:main:sat-0"))
	if r, _ := runOf(g, "agent:main:sat-1"); r.Aborted {
		t.Fatal("cancelling call 0 aborted call 1")
	}
	k := 0
	promptly(t, "a new call accepted after the cancellation", func(context.Context) error {
		testwait.Until(t, "a new call accepted after the cancellation", func() bool {
			k++
			m := rawResponse(t, s, fmt.Sprintf(`{"jsonrpc":"2.0","id":"status-%d","method":"tools/call","params":{"name":"gateway_status","arguments":{}}}`, k))
			if m.Error != nil {
				if m.Error.Code != -32000 {
					t.Fatalf("gateway_status after a cancellation: %s", m.Line())
				}
				return false // the cancelled handler has not returned yet: its place is freed when it does
			}
			if string(m.ID) != fmt.Sprintf(`"status-%d"`, k) || !strings.Contains(string(m.Result), `"connected":true`) {
				t.Fatalf("gateway_status after a cancellation: %s", m.Line())
			}
			return true
		})
		return nil
	})
	// EOF exits at once and aborts the runs in flight.
	s.c.CloseStdin()
	waitExit(t, s, 0)
	promptly(t, "every run aborted on exit", func(ctx context.Context) error {
		for _, r := range g.Runs() {
			if _, err := g.WaitAborted(ctx, r.RunID); err != nil {
				return err
			}
		}
		return nil
	})
}

// vmHWM returns the peak resident set size of process pid, from
// /proc/<pid>/status.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// sendLong writes head, then n bytes of fill, then tail and a newline,
// without holding the line in memory.
func sendLong(t *testing.T, w io.Writer, head string, n int64, tail string) {
	t.Helper()
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	if _, err := io.WriteString(w, head); err != nil {
		t.Fatal(err)
	}
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	if _, err := io.WriteString(w, tail+"\n"); err != nil {
		t.Fatal(err)
	}
}

// Item 9: a line over the limit gets a JSON-RPC error (with the id when the
// line starts with it); the next lines are served, and a line just under
// the limit is read.
func TestStdioOverlongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 384 MiB through the binary")
	}
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)
	// 256 MiB of agent message, four times the limit: the id comes first,
	// as every client writes it, so the error carries it.
	sendLong(t, s.c, `{"jsonrpc":"2.0","id":"huge-1","method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"`,
		4*maxLineBytes, `"}}}`)
	m := nextMsg(t, s, testwait.Patience())
	wantError(t, "over-long request", m, `"huge-1"`, -32600, "longer than 64 MiB, the most clawgate reads on one line")
	// The next line is served.
	if m := rawResponse(t, s, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_sessions","arguments":{"limit":1}}}`); string(m.ID) != "2" || m.Result == nil {
		t.Fatalf("after the over-long line: %.300s", m.Line())
	}
	// 128 MiB of garbage: no id to echo, so null.
	sendLong(t, s.c, "", 2*maxLineBytes, "")
	if m := nextMsg(t, s, testwait.Patience()); string(m.ID) != "null" || m.Error == nil || m.Error.Code != -32600 {
		t.Fatalf("over-long garbage: %.500s", m.Line())
	}
	// A line just under the limit is read.
	sendLong(t, s.c, `{"jsonrpc":"2.0","id":3,"method":"ping","params":{"pad":"`, maxLineBytes-100, `"}}`)
	if m := nextMsg(t, s, testwait.Patience()); string(m.ID) != "3" || m.Result == nil {
		t.Fatalf("a line under the limit: %.500s", m.Line())
	}
	if n := len(g.RequestsFor("agent")); n != 0 {
		t.Fatalf("%d agent requests sent for the over-long line", n)
	}
	s.c.CloseStdin()
	waitExit(t, s, 0)
}

// Item 9: the peak RSS of a process that discarded an over-long line stays
// near the limit (the line is held up to the limit, then discarded as it
// streams in), not near the line: a 512 MiB line took over 2 GB before.
func TestStdioOverlongLineMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 512 MiB through the binary")
	}
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)
	sendLong(t, s.c, `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"`, 8*maxLineBytes, `"}}`)
	if m := nextMsg(t, s, testwait.Patience()); string(m.ID) != "1" || m.Error == nil || m.Error.Code != -32600 {
		t.Fatalf("over-long ping: %.500s", m.Line())
	}
	quiet(t, s, "after")
	hwm := vmHWM(t, s.cmd.Process.Pid)
	t.Logf("peak RSS %d MiB after a 512 MiB line", hwm>>20)
	if hwm > 2*maxLineBytes {
		t.Fatalf("peak RSS %d MiB after discarding a 512 MiB line; want under %d MiB", hwm>>20, 2*maxLineBytes>>20)
	}
	s.c.CloseStdin()
	waitExit(t, s, 0)
}

// Item 14: JSON-RPC ids. Valid ids come back exactly as sent; malformed
// requests get the JSON-RPC error the spec asks for; a cancellation
// matches the exact id; an id already in flight is refused.
func TestStdioJSONRPCIDs(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)

	t.Run("ids echoed exactly", func(t *testing.T) {
		for _, id := range []string{
			"9007199254740993", "-9007199254740993", "18446744073709551617", "123456789012345678901234567890",
			"1.0", "1e3", "-0", "0.1", "1e400", `"\u0037"`, `"a\/b"`, `"ü"`, `""`,
		} {
			m := rawResponse(t, s, `{"jsonrpc":"2.0","id":`+id+`,"method":"ping"}`)
			if string(m.ID) != id || m.Result == nil {
				t.Errorf("id %s came back as %s: %s", id, m.ID, m.Line())
			}
		}
		// Errors from mcp-go carry the exact id too.
		m := rawResponse(t, s, `{"jsonrpc":"2.0","id":9007199254740995,"method":"no/such/method"}`)
		if string(m.ID) != "9007199254740995" || m.Error == nil || m.Error.Code != -32601 {
			t.Errorf("unknown method: %s", m.Line())
		}
	})

	t.Run("progress tokens echoed exactly", func(t *testing.T) {
		const id, token = "9007199254740997", "9007199254740999"
		s.send(askLine(id, "agent:main:token", "[[delay=1]] token", token))
		progress := 0
		for {
			m := nextMsg(t, s, testwait.Patience())
			if m.Method == "notifications/progress" {
				if string(m.ProgressToken()) != token {
					t.Fatalf("progress token %s came back as %s", token, m.ProgressToken())
				}
				progress++
				continue
			}
			if string(m.ID) != id || m.Result == nil {
				t.Fatalf("response: %.300s", m.Line())
			}
			break
		}
		if progress == 0 {
			t.Fatal("no progress during a one-second run")
		}
	})

	t.Run("malformed requests", func(t *testing.T) {
		for _, tc := range []struct {
			line string
			id   string // the id of the error response, exactly
			code int
		}{
			{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, "null", -32600},
			{`{"jsonrpc":"2.0","id":true,"method":"ping"}`, "null", -32600},
			{`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, "null", -32600},
			{`{"jsonrpc":"2.0","id":[1],"method":"ping"}`, "null", -32600},
			{`{"jsonrpc":"2.0","id":5,"method":"ping","result":{}}`, "5", -32600},
			{`{"jsonrpc":"2.0","id":"e","method":"ping","error":{"code":1,"message":"x"}}`, `"e"`, -32600},
			{`{"jsonrpc":"2.0","id":null,"method":"tools/call","result":1}`, "null", -32600},
			{`{"jsonrpc":"2.0","id":6,"method":5}`, "6", -32600},
			{`{"jsonrpc":2,"id":7,"method":"ping"}`, "7", -32600},
			{`{"jsonrpc":"2.0","id":"` + strings.Repeat("i", 2000) + `","method":"ping"}`, "null", -32600},
			{`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"list_models","arguments":{},"_meta":{"progressToken":{"x":1}}}}`, "8", -32602},
		} {
			m := rawResponse(t, s, tc.line)
			if m.Error == nil {
				t.Errorf("%.80s: got %.300s, want error %d with id %s", tc.line, m.Line(), tc.code, tc.id)
				continue
			}
			gotwant.Error(t, fmt.Sprintf("%.80s: got %.300s", tc.line, m.Line()),
				gotwant.Eq("id", string(m.ID), tc.id),
				gotwant.Eq("error.code", m.Error.Code, tc.code),
				gotwant.HasSuffix("error.message", m.Error.Message, "."),
			)
		}
		// A tools/call without an id is a notification: no answer, no run.
		before := len(g.RequestsFor("models.list"))
		s.send(`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"list_models","arguments":{}}}`)
		// A response to a request clawgate never sent: no answer.
		s.send(`{"jsonrpc":"2.0","id":77,"error":{"code":-1,"message":"no"}}`)
		s.send(`{"jsonrpc":"2.0","id":78,"result":{}}`)
		quiet(t, s, "notifications")
		if n := len(g.RequestsFor("models.list")); n != before {
			t.Fatalf("a tools/call notification ran the tool (%d models.list requests, %d before)", n, before)
		}
	})

	t.Run("cancellation matches the exact id", func(t *testing.T) {
		// "7" first, then 7: mcp-go would key both as 7.
		s.send(askLine(`"7"`, "agent:main:str-7", longRun+" string seven", ""))
		s.send(askLine("7", "agent:main:num-7", longRun+" number seven", ""))
		promptly(t, "both runs started", startedIn(g, "agent:main:str-7", "agent:main:num-7"))
		s.send(cancelLine(`"7"`))
		promptly(t, `the run of "7" aborted`, abortedIn(g, "agent:main:str-7"))
		if r, _ := runOf(g, "agent:main:num-7"); r.Aborted {
			t.Fatal(`cancelling "7" aborted the run of 7`)
		}
		s.send(cancelLine("7.0")) // the same number
		promptly(t, "the run of 7 aborted", abortedIn(g, "agent:main:num-7"))
		quiet(t, s, "cancelled") // neither call is answered
	})

	t.Run("an id in flight is refused", func(t *testing.T) {
		s.send(askLine("8", "agent:main:dup-8", longRun+" first eight", ""))
		promptly(t, "the run started", startedIn(g, "agent:main:dup-8"))
		m := rawResponse(t, s, `{"jsonrpc":"2.0","id":8,"method":"ping"}`)
		wantError(t, "second request with id 8", m, "8", -32600, "in flight")
		m = rawResponse(t, s, askLine("8.0", "agent:main:dup-8b", "second eight", ""))
		if string(m.ID) != "8.0" || m.Error == nil || m.Error.Code != -32600 {
			t.Fatalf("third request with id 8.0: %s", m.Line())
		}
		if _, ok := runOf(g, "agent:main:dup-8b"); ok {
			t.Fatal("the refused call ran")
		}
		// The first one is still cancellable.
		s.send(cancelLine("8"))
		promptly(t, "the run of 8 aborted", abortedIn(g, "agent:main:dup-8"))
		// Once cancelled, its id may be used again; the cancelled call's
		// own result is never sent.
		if m := rawResponse(t, s, `{"jsonrpc":"2.0","id":8,"method":"ping"}`); string(m.ID) != "8" || m.Result == nil {
			t.Fatalf("id 8 after its cancellation: %s", m.Line())
		}
		quiet(t, s, "reused")
	})

	s.c.CloseStdin()
	waitExit(t, s, 0)
}
