package stdioguard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// errResp is a JSON-RPC error response, with the id as written.
type errResp struct {
	ID    json.RawMessage
	Error struct {
		Code    int
		Message string
		Data    map[string]any
	}
}

// replies returns the guard's own responses written so far (the lines of
// stdout with an error), in order.
func (h *harness) replies() []errResp {
	h.t.Helper()
	var out []errResp
	for _, l := range strings.Split(strings.TrimSuffix(h.out.String(), "\n"), "\n") {
		var r errResp
		if l == "" || json.Unmarshal([]byte(l), &r) != nil || r.Error.Code == 0 {
			continue
		}
		if !strings.HasSuffix(r.Error.Message, ".") {
			h.t.Errorf("the error message is not a sentence: %q", r.Error.Message)
		}
		out = append(out, r)
	}
	return out
}

// Item 9: a line over MaxLine is discarded as it streams in, answered
// with -32600 (with the id when its start shows a request's id whole,
// else null), and the lines after it are served. A line of exactly
// MaxLine is read.
func TestOverlongLines(t *testing.T) {
	const max = 300
	pad := func(head, tail string, n int) string { return head + strings.Repeat("x", n-len(head)-len(tail)) + tail }
	exact := pad(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"p":"`, `"}}`, max)
	over := pad(`{"jsonrpc":"2.0","id":"two","method":"ping","params":{"p":"`, `"}}`, max+1)
	longer := pad(`{"jsonrpc":"2.0","id":3.50,"method":"tools/call","params":{"p":"`, `"}}`, 10*max)
	garbage := strings.Repeat("y", 5*max)
	noMethod := pad(`{"jsonrpc":"2.0","id":4,"params":{"p":"`, `"}}`, 2*max)      // no method before the cut: null
	response := pad(`{"jsonrpc":"2.0","id":5,"result":{"p":"`, `"}}`, 2*max)      // a response: null
	cutID := `{"jsonrpc":"2.0","method":"ping","id":` + strings.Repeat("6", 5000) // the id is cut: null
	after := `{"jsonrpc":"2.0","id":7,"method":"ping"}`
	in := strings.Join([]string{exact, over, longer, garbage, noMethod, response, cutID, after}, "\n") + "\n"
	for _, size := range []int{1, 7, 64, 299, 300, 301, 4096, 1 << 20} {
		h := newHarness(t, Options{MaxLine: max})
		h.in.WriteString(in)
		var got []byte
		buf := make([]byte, size)
		for {
			n, err := h.g.Stdin().Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
		}
		h.g.rep.drain()
		if want := strings.Replace(exact, `"id":1`, `"id":"cg:1"`, 1) + "\n" + strings.Replace(after, `"id":7`, `"id":"cg:2"`, 1) + "\n"; string(got) != want {
			t.Fatalf("read size %d: the server got\n%s\nwant\n%s", size, got, want)
		}
		var ids []string
		for _, r := range h.replies() {
			ids = append(ids, string(r.ID))
			if r.Error.Code != CodeInvalidRequest || !strings.Contains(r.Error.Message, "is longer than 300 bytes, the most clawgate reads on one line, so it was discarded unread") {
				t.Fatalf("reply: %+v", r)
			}
		}
		if want := []string{`"two"`, "3.50", "null", "null", "null", "null"}; !slices.Equal(ids, want) {
			t.Fatalf("read size %d: replies with ids %v, want %v", size, ids, want)
		}
		if !strings.Contains(h.log.String(), `level=WARN msg="discarded an over-long line from the client" bytes=3000 limit=300 id=3.50`) {
			t.Fatalf("log: %s", h.log)
		}
	}
}

// endless is a line that never ends: n bytes of x.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), e.n))
	for i := range k {
		p[i] = 'x'
	}
	e.n -= int64(k)
	return k, nil
}

// Reading an over-long line allocates about MaxLine, however long the line.
func TestOverlongLineMemory(t *testing.T) {
	const max = 1 << 20
	for _, n := range []int64{4 * max, 64 * max} {
		r := io.MultiReader(strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"message":"`),
			&endless{n}, strings.NewReader("\"}}}\n"+`{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\n"))
		out := &lockedBuffer{}
		g := New(r, out, Options{MaxLine: max, Logger: slog.New(slog.DiscardHandler)})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := io.ReadAll(g.Stdin())
		runtime.ReadMemStats(&after)
		if err != nil || string(got) != `{"jsonrpc":"2.0","id":"cg:1","method":"ping"}`+"\n" {
			t.Fatalf("the server got %q, %v", got, err)
		}
		if err := g.Flush(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,`) {
			t.Fatalf("stdout: %s", out)
		}
		// The line is held up to MaxLine (in pieces), then dropped.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*max {
			t.Fatalf("a %d MiB line allocated %d bytes (MaxLine %d)", n>>20, alloc, max)
		}
	}
}

// Item 8: past MaxToolCalls tool calls in flight, a tools/call is refused
// at once with a busy error that says how many are in flight; other
// requests still pass; an answer (or a cancelled call's answer) frees a
// place.
func TestBusyToolCalls(t *testing.T) {
	h := newHarness(t, Options{MaxToolCalls: 3})
	h.client(call("1", ""), call("2", ""), call("3", ""), call(`"four"`, ""), `{"jsonrpc":"2.0","id":5,"method":"ping"}`, call("6", ""))
	if len(h.passed) != 4 {
		t.Fatalf("the server got %q", h.passed)
	}
	r := h.replies()
	if len(r) != 2 || string(r[0].ID) != `"four"` || string(r[1].ID) != "6" || r[0].Error.Code != CodeBusy ||
		r[0].Error.Message != "clawgate is busy: 3 tool calls are in flight, the most it runs at once, so this call was not run. Call it again when one of them has finished." ||
		fmt.Sprint(r[0].Error.Data) != "map[inFlight:3 limit:3]" {
		t.Fatalf("replies: %+v", r)
	}
	// A cancelled call holds its place until the server answers it.
	h.client(cancelled("1"))
	h.client(call("7", ""))
	if r := h.replies(); len(r) != 3 || string(r[2].ID) != "7" {
		t.Fatalf("replies: %+v", r)
	}
	h.server(result("1"), result("5"))
	h.client(call("7", ""))
	if r := h.replies(); len(r) != 3 || len(h.passed) != 6 {
		t.Fatalf("after an answer: replies %+v, passed %q", r, h.passed)
	}
	h.server(result("2"), result("3"), result("7"))
	if h.g.toolCalls != 0 || len(h.g.bySur) != 0 || h.g.bytes != 0 {
		t.Fatalf("in flight: %d tool calls, %d requests, %d bytes", h.g.toolCalls, len(h.g.bySur), h.g.bytes)
	}
}

func TestBusyBytes(t *testing.T) {
	big := func(id string, n int) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"ping","params":{"p":"` + strings.Repeat("x", n) + `"}}`
	}
	h := newHarness(t, Options{MaxInflightBytes: 1000})
	// A request larger than the budget passes when nothing is in flight.
	h.client(big("1", 1500))
	h.client(big("2", 10))
	h.server(result("1"))
	h.client(big("3", 600), big("4", 600), big("5", 100))
	if len(h.passed) != 3 {
		t.Fatalf("the server got %d lines", len(h.passed))
	}
	r := h.replies()
	if len(r) != 2 || string(r[0].ID) != "2" || string(r[1].ID) != "4" || r[0].Error.Code != CodeBusy ||
		!strings.HasPrefix(r[0].Error.Message, "clawgate is busy: the requests in flight take 1.5 KiB, and with this one (68 bytes) they would take more than the 1000 bytes it holds at once") {
		t.Fatalf("replies: %+v", r)
	}
}

// Item 14: malformed requests are answered with the JSON-RPC error they
// call for, with the id exactly as sent when it is valid, else null, and
// never reach the server.
func TestMalformedRequests(t *testing.T) {
	for _, tc := range []struct {
		line, id string
		code     int
		msg      string
	}{
		{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, "null", CodeInvalidRequest, "not null"},
		{`{"jsonrpc":"2.0","id":true,"method":"ping"}`, "null", CodeInvalidRequest, "not a boolean"},
		{`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, "null", CodeInvalidRequest, "not an object"},
		{`{"jsonrpc":"2.0","id":[1],"method":"ping"}`, "null", CodeInvalidRequest, "not an array"},
		{`{"jsonrpc":"2.0","ID":false,"method":"ping"}`, "null", CodeInvalidRequest, "not a boolean"},
		{`{"jsonrpc":"2.0","id":5,"method":"ping","result":{}}`, "5", CodeInvalidRequest, `both "method" and "result"`},
		{`{"jsonrpc":"2.0","id":"e","method":"ping","error":{}}`, `"e"`, CodeInvalidRequest, `both "method" and "error"`},
		{`{"jsonrpc":"2.0","id":1e2,"method":5}`, "1e2", CodeInvalidRequest, `"method" must be a string`},
		{`{"jsonrpc":2,"id":-7,"method":"ping"}`, "-7", CodeInvalidRequest, `"jsonrpc" must be "2.0"`},
		{`{"jsonrpc":"1.0","id":-7,"method":"ping"}`, "-7", CodeInvalidRequest, `"jsonrpc" must be "2.0"`},
		{`{"id":"\u0037","method":"ping"}`, `"\u0037"`, CodeInvalidRequest, `"jsonrpc" must be "2.0"`},
		{`{"jsonrpc":"2.0","id":"` + strings.Repeat("i", 30) + `","method":"ping"}`, "null", CodeInvalidRequest, "the id is 32 bytes long, more than the 20"},
		{call("8", "true"), "8", CodeInvalidParams, "progressToken must be a string or a number, not a boolean"},
		{call("8", `{"a":1}`), "8", CodeInvalidParams, "not an object"},
		{call("8", `"`+strings.Repeat("t", 30)+`"`), "8", CodeInvalidParams, "progressToken is 32 bytes long"},
	} {
		h := newHarness(t, Options{MaxID: 20})
		h.client(tc.line)
		r := h.replies()
		if len(h.passed) != 0 || len(r) != 1 || string(r[0].ID) != tc.id || r[0].Error.Code != tc.code || !strings.Contains(r[0].Error.Message, tc.msg) {
			t.Errorf("%s: passed %q, replies %+v", tc.line, h.passed, r)
		}
	}
	// Valid: a null token is no token; a token of MaxID bytes; an empty
	// method and no method are mcp-go's to answer (-32601).
	h := newHarness(t, Options{MaxID: 20})
	h.client(call("9", "null"), call("10", `"`+strings.Repeat("t", 18)+`"`), `{"jsonrpc":"2.0","id":11}`, `{"jsonrpc":"2.0","id":12,"method":""}`)
	if len(h.passed) != 4 || len(h.replies()) != 0 || h.g.bySur["cg:1"].token != nil || h.g.bySur["cg:2"].tokenSur != "cg:p2" {
		t.Fatalf("passed %q, replies %+v", h.passed, h.replies())
	}
}

// Item 14: the server sees the id of the last member that encoding/json
// takes for "id" (any case), and so does the guard.
func TestEnvelopeKeysAsEncodingJSON(t *testing.T) {
	h := newHarness(t, Options{MaxToolCalls: 1})
	h.client(`{"jsonrpc":"2.0","id":"first","ID":1,"METHOD":"tools/call","Params":{"Name":"x","_Meta":{"progressToken":"t"}}}`)
	if want := `{"jsonrpc":"2.0","id":"first","ID":"cg:1","METHOD":"tools/call","Params":{"Name":"x","_Meta":{"progressToken":"cg:p1"}}}` + "\n"; h.passed[0] != want {
		t.Fatalf("the server got %s", h.passed[0])
	}
	req := h.g.bySur["cg:1"]
	if !req.toolCall || req.tool != "x" || string(req.id) != "1" || string(req.token) != `"t"` {
		t.Fatalf("request %+v", req)
	}
	// It counts as a tool call.
	h.client(`{"jsonrpc":"2.0","Id":2,"method":"tools/call"}`)
	if r := h.replies(); len(r) != 1 || string(r[0].ID) != "2" || r[0].Error.Code != CodeBusy {
		t.Fatalf("replies %+v", r)
	}
}

// Item 14: a request may not reuse the id of a request in flight (not
// cancelled): its response and a cancellation could not be told apart.
func TestDuplicateIDs(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("8", `"a"`), `{"jsonrpc":"2.0","id":8,"method":"ping"}`, call("8.0", `"b"`), call(`"8"`, `"c"`))
	r := h.replies()
	if len(h.passed) != 2 || len(r) != 2 || string(r[0].ID) != "8" || string(r[1].ID) != "8.0" || r[0].Error.Code != CodeInvalidRequest ||
		!strings.Contains(r[0].Error.Message, "the id 8 is already used by a request in flight") {
		t.Fatalf("passed %q, replies %+v", h.passed, r)
	}
	// Once cancelled, the id is free; the cancelled request's response is
	// dropped, the new one's is sent.
	h.client(cancelled("8"), `{"jsonrpc":"2.0","id":8,"method":"ping"}`)
	if len(h.passed) != 4 || len(h.replies()) != 2 {
		t.Fatalf("passed %q", h.passed)
	}
	if _, err := h.g.Stdout().Write([]byte(result(sur(1)) + "\n" + result(sur(3)) + "\n" + progress(`"cg:p1"`, 1) + "\n")); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(h.out.String(), "\n"+result("8")+"\n") {
		t.Fatalf("stdout:\n%s", h.out)
	}
	// Once answered, too.
	h.client(`{"jsonrpc":"2.0","id":8,"method":"ping"}`)
	if len(h.passed) != 5 {
		t.Fatalf("passed %q", h.passed)
	}
}

// Item 14: a cancellation matches the exact id: "7" is not 7, 7.0 is 7,
// and it reaches the server under the surrogate.
func TestCancellationMatchesExactID(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call(`"7"`, ""), call("7", ""), call("9007199254740993", ""), call("9007199254740992", ""))
	h.client(cancelled(`"7"`), cancelled("7.0"), cancelled("9007199254740993"), cancelled("9007199254740994"))
	var got []string
	for _, l := range h.passed[4:] {
		var m struct{ Params struct{ RequestID string } }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Params.RequestID)
	}
	if want := []string{"cg:1", "cg:2", "cg:3"}; !slices.Equal(got, want) {
		t.Fatalf("the server got cancellations of %v, want %v", got, want)
	}
	h.server(result(`"7"`), result("7"), result("9007199254740993"), result("9007199254740992"))
	h.expect(result("9007199254740992"))
}

// Ids the server cannot hold exactly come back as the client sent them.
func TestIDsEchoedExactly(t *testing.T) {
	ids := []string{"9007199254740993", "-9007199254740993", "123456789012345678901234567890", "1.0", "1e3", "1E+3", "-0", "0.10",
		"1e400", "1e-400", `"\u0037"`, `"a\/b"`, `"ü"`, `""`, `"\ud83d\ude00"`}
	h := newHarness(t, Options{})
	var want []string
	for _, id := range ids {
		h.client(`{"jsonrpc":"2.0","id":` + id + `,"method":"ping"}`)
		h.server(`{"jsonrpc":"2.0","id":` + id + `,"result":{}}`)
		want = append(want, `{"jsonrpc":"2.0","id":`+id+`,"result":{}}`)
	}
	h.expect(want...)
}

// The client's responses pass only to requests of the server's, once each.
func TestServerRequests(t *testing.T) {
	h := newHarness(t, Options{MaxRemembered: 2})
	h.server(`{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{}}`, `{"jsonrpc":"2.0","id":2,"method":"roots/list"}`)
	h.client(`{"jsonrpc":"2.0","id":1.0,"result":{}}`, `{"jsonrpc":"2.0","id":1,"result":{}}`, `{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"x"}}`,
		`{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"x"}}`)
	if want := []string{`{"jsonrpc":"2.0","id":1.0,"result":{}}` + "\n", `{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"x"}}` + "\n"}; !slices.Equal(h.passed, want) {
		t.Fatalf("the server got %q", h.passed)
	}
}

// A tools/call without an id is a notification: dropped, never run.
func TestToolCallNotification(t *testing.T) {
	h := newHarness(t, Options{MaxToolCalls: 1})
	h.client(`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}`, call("1", ""))
	if len(h.passed) != 1 || len(h.replies()) != 0 {
		t.Fatalf("passed %q", h.passed)
	}
}

// blockingWriter blocks every write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// The guard's own responses never hold up reading stdin (up to
// maxQueuedReplies of them): a client that writes all its requests before
// reading any answer does not deadlock with it.
func TestRepliesDoNotBlockReading(t *testing.T) {
	var in strings.Builder
	for i := range maxQueuedReplies {
		fmt.Fprintf(&in, `{"jsonrpc":"2.0","id":%d,"method":"tools/call"}`+"\n", i)
	}
	in.WriteString(`{"jsonrpc":"2.0","id":"last","method":"ping"}` + "\n")
	w := &blockingWriter{release: make(chan struct{})}
	g := New(strings.NewReader(in.String()), w, Options{MaxToolCalls: 1})
	got, err := io.ReadAll(g.Stdin()) // stdout is blocked all along
	if err != nil || !strings.HasSuffix(string(got), `{"jsonrpc":"2.0","id":"cg:2","method":"ping"}`+"\n") {
		t.Fatalf("read %q, %v", got, err)
	}
	close(w.release)
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(w.buf.String(), `"code":-32000`); n != maxQueuedReplies-1 {
		t.Fatalf("%d busy errors written", n)
	}
}

// The guard's responses are written between the server's lines, never in
// the middle of one the server split across writes.
func TestRepliesBetweenLines(t *testing.T) {
	h := newHarness(t, Options{})
	if _, err := h.g.Stdout().Write([]byte(`{"jsonrpc":"2.0","method":"notifications/message",`)); err != nil {
		t.Fatal(err)
	}
	h.client(`{"jsonrpc":"2.0","id":true,"method":"ping"}`)
	if _, err := h.g.Stdout().Write([]byte(`"params":{}}` + "\n")); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(h.out.String(), "\n")
	if len(lines) != 3 || lines[0] != `{"jsonrpc":"2.0","method":"notifications/message","params":{}}` || !strings.HasPrefix(lines[1], `{"jsonrpc":"2.0","id":null,"error"`) {
		t.Fatalf("stdout:\n%s", h.out)
	}
}
