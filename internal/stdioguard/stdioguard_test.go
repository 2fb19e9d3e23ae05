package stdioguard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use that counts writes.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness drives a Guard: client lines go through its stdin, server lines
// through its stdout.
type harness struct {
	t   *testing.T
	g   *Guard
	in  *bytes.Buffer
	out *lockedBuffer
	log *lockedBuffer
	buf []byte
}

func newHarness(t *testing.T, opts Options) *harness {
	h := &harness{t: t, in: &bytes.Buffer{}, out: &lockedBuffer{}, log: &lockedBuffer{}, buf: make([]byte, 4096)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h.g = New(h.in, h.out, opts)
	return h
}

// client sends lines from the client, as the server would read them.
func (h *harness) client(lines ...string) {
	h.t.Helper()
	for _, l := range lines {
		h.in.WriteString(l + "\n")
	}
	for {
		if _, err := h.g.Stdin().Read(h.buf); err == io.EOF {
			return
		} else if err != nil {
			h.t.Fatal(err)
		}
	}
}

// server writes lines from the server, one Write each.
func (h *harness) server(lines ...string) {
	h.t.Helper()
	for _, l := range lines {
		if n, err := h.g.Stdout().Write([]byte(l + "\n")); err != nil || n != len(l)+1 {
			h.t.Fatalf("Write = %d, %v", n, err)
		}
	}
}

// expect checks everything written to stdout so far.
func (h *harness) expect(lines ...string) {
	h.t.Helper()
	want := ""
	for _, l := range lines {
		want += l + "\n"
	}
	if got := h.out.String(); got != want {
		h.t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

func call(id, token string) string {
	meta := ""
	if token != "" {
		meta = `,"_meta":{"progressToken":` + token + `}`
	}
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"hi"}` + meta + `}}`
}

func progress(token string, n int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"step","progress":%d,"progressToken":%s}}`, n, token)
}

func result(id string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"result":{"content":[{"type":"text","text":"done"}]}}`
}

func cancelled(id string) string {
	return `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":` + id + `,"reason":"user"}}`
}

func TestProgressBeforeResponseKeptAfterDropped(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("1", `"p1"`))
	h.server(progress(`"p1"`, 1), progress(`"p1"`, 2), result("1"), progress(`"p1"`, 3))
	h.expect(progress(`"p1"`, 1), progress(`"p1"`, 2), result("1"))
	if !strings.Contains(h.log.String(), `level=DEBUG msg="dropped a progress notification after the result of its request" token=p1`) {
		t.Fatalf("log: %s", h.log)
	}
}

func TestCancelledRequest(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("7", `"p7"`), call("8", `"p8"`))
	h.server(progress(`"p7"`, 1))
	h.client(cancelled("7"))
	h.server(progress(`"p7"`, 2), progress(`"p8"`, 1), result("7"), progress(`"p7"`, 3), result("8"))
	h.expect(progress(`"p7"`, 1), progress(`"p8"`, 1), result("8"))
	log := h.log.String()
	for _, want := range []string{
		`msg="dropped a progress notification after its request was cancelled" token=p7`,
		`msg="dropped a response to a cancelled request" id=7`,
		`msg="dropped a progress notification after the result of its request" token=p7`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	// The id and the token may be used again.
	h.client(call("7", `"p7"`))
	h.server(progress(`"p7"`, 1), result("7"))
	h.expect(progress(`"p7"`, 1), progress(`"p8"`, 1), result("8"), progress(`"p7"`, 1), result("7"))
}

func TestCancelledErrorResponseDropped(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call(`"a"`, ""), cancelled(`"a"`))
	h.server(`{"jsonrpc":"2.0","id":"a","error":{"code":-32603,"message":"context canceled"}}`)
	h.expect()
}

// A cancellation for a request not in flight (already answered, or never
// seen whole) still stops a response that comes later, until the id is used
// again.
func TestCancelledNotInFlight(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(cancelled("5"))
	h.server(result("5"), result("5"))
	h.expect(result("5"))
	h.client(cancelled("6"), call("6", ""))
	h.server(result("6"))
	h.expect(result("5"), result("6"))
}

func TestUnknownPassUnchanged(t *testing.T) {
	h := newHarness(t, Options{})
	lines := []string{
		result("99"),            // a response to a request never seen
		progress(`"nobody"`, 1), // progress for an unknown token
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{}}`, // a request of the server's
		`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`, // no token
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":null}}`,
		`not json at all`, ``, `   `, `{`, `}`, `[1,2]`, `"str"`, `{"id":`, "\xff\xfe\x00{}",
		`{"id":1,"result"}`, `{"jsonrpc":"2.0","id":{"x":1},"result":{}}`,
		"{\"id\":\"\\u00zz\",\"result\":1}",
	}
	h.server(lines...)
	h.expect(lines...)
	if log := h.log.String(); log != "" {
		t.Fatalf("logged: %s", log)
	}
}

func TestIDsAndTokensCanonical(t *testing.T) {
	h := newHarness(t, Options{})
	// Numbers compare as numbers, strings as strings; 1 and "1" differ.
	h.client(call("1", "10"), call(`"1"`, `"10"`), call(`"\u0061b"`, `"t\u00e9"`), call("2.0", "3e1"))
	h.client(cancelled("1.0"))
	h.server(
		result("1"),              // cancelled (as 1.0): dropped
		progress("10.0", 1),      // its token, cancelled: dropped
		progress(`"10"`, 1),      // the string token: kept
		result(`"1"`),            // kept
		progress(`"10"`, 2),      // after the result: dropped
		progress(`"té"`, 1),      // kept
		result(`"ab"`),           // kept
		progress(`"t\u00e9"`, 2), // dropped
		progress("30", 1),        // 3e1: kept
		result("2"),              // 2.0: kept
		progress("3E+1", 2),      // dropped
	)
	h.expect(progress(`"10"`, 1), result(`"1"`), progress(`"té"`, 1), result(`"ab"`), progress("30", 1), result("2"))
}

// mcp-go's 2026-07-28 era: no initialize, every request carries the
// protocol version, client info and capabilities in _meta next to the
// progress token.
func TestModernRequests(t *testing.T) {
	h := newHarness(t, Options{})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},` +
		`"progressToken":"m1","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}`
	h.client(`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`)
	h.client(`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"ask_subagent",` + meta + `,"arguments":{"message":"x"}},"id":2}`)
	h.client(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"ask_subagent","arguments":{},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":"m2"}}}`)
	h.client(cancelled("3"))
	res := `{"jsonrpc":"2.0","id":2,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"clawgate","version":"dev"}},"content":[],"resultType":"complete"}}`
	h.server(
		`{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"],"resultType":"complete","ttlMs":0,"cacheScope":"private"}}`,
		progress(`"m1"`, 1), res, progress(`"m1"`, 2),
		progress(`"m2"`, 1), `{"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":true,"resultType":"complete"}}`,
	)
	h.expect(
		`{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"],"resultType":"complete","ttlMs":0,"cacheScope":"private"}}`,
		progress(`"m1"`, 1), res,
	)
}

// The client's responses to the server's requests, and its notifications,
// are not requests: nothing is tracked for them.
func TestClientResponsesNotTracked(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(`{"jsonrpc":"2.0","id":4,"result":{"model":"x"}}`, `{"jsonrpc":"2.0","id":5,"error":{"code":1,"message":"no"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `{"jsonrpc":"2.0","id":null,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":6,"method":"x","result":{}}`, `{"jsonrpc":"2.0","id":7,"method":"ping"`)
	if n := len(h.g.inflight); n != 0 {
		t.Fatalf("%d requests tracked", n)
	}
}

func TestSplitLines(t *testing.T) {
	lines := []string{progress(`"p"`, 1), result("1"), progress(`"p"`, 2), "garbage", result("2")}
	want := progress(`"p"`, 1) + "\n" + result("1") + "\n" + "garbage\n" + result("2") + "\n"
	stream := strings.Join(lines, "\n") + "\n"
	for cut := 0; cut <= len(stream); cut++ {
		h := newHarness(t, Options{})
		h.client(call("1", `"p"`), call("2", ""))
		w := h.g.Stdout()
		for _, part := range []string{stream[:cut], stream[cut:]} {
			if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
				t.Fatalf("cut %d: Write = %d, %v", cut, n, err)
			}
		}
		if got := h.out.String(); got != want {
			t.Fatalf("cut %d:\n%s\nwant\n%s", cut, got, want)
		}
	}
	// Byte by byte.
	h := newHarness(t, Options{})
	h.client(call("1", `"p"`), call("2", ""))
	for i := range len(stream) {
		if _, err := h.g.Stdout().Write([]byte{stream[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.out.String(); got != want {
		t.Fatalf("byte by byte:\n%s\nwant\n%s", got, want)
	}
}

func TestSplitInput(t *testing.T) {
	in := call("1", `"p"`) + "\n" + cancelled("1") + "\n" + call(`"two"`, "2") + "\n"
	for size := 1; size <= len(in); size += 7 {
		h := newHarness(t, Options{})
		h.in.WriteString(in)
		got, err := io.ReadAll(io.LimitReader(readerFunc(func(p []byte) (int, error) {
			return h.g.Stdin().Read(p[:min(len(p), size)])
		}), int64(len(in))))
		if err != nil || string(got) != in {
			t.Fatalf("size %d: read %q, %v", size, got, err)
		}
		h.server(progress(`"p"`, 1), result("1"), progress("2", 1), result(`"two"`), progress("2", 2))
		h.expect(progress("2", 1), result(`"two"`))
	}
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestManyLinesPerWrite(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("1", `"a"`), call("2", `"b"`), call("3", `"c"`))
	h.client(cancelled("3"))
	chunk := strings.Join([]string{
		progress(`"a"`, 1), progress(`"b"`, 1), result("1"), progress(`"a"`, 2), progress(`"b"`, 2),
		progress(`"c"`, 1), result("3"), result("2"), progress(`"b"`, 3), "tail-partial",
	}, "\n")
	n, err := h.g.Stdout().Write([]byte(chunk))
	if err != nil || n != len(chunk) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	h.expect(progress(`"a"`, 1), progress(`"b"`, 1), result("1"), progress(`"b"`, 2), result("2"))
	// The partial line goes out with its newline, or on Flush.
	h.server(" end")
	h.expect(progress(`"a"`, 1), progress(`"b"`, 1), result("1"), progress(`"b"`, 2), result("2"), "tail-partial end")
	if _, err := h.g.Stdout().Write([]byte("unterminated")); err != nil {
		t.Fatal(err)
	}
	if err := h.g.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(h.out.String(), "tail-partial end\nunterminated") {
		t.Fatalf("after Flush: %q", h.out.String())
	}
}

// Lines that all pass are written with one write, as they came.
func TestNothingDroppedOneWrite(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("1", `"a"`))
	chunk := progress(`"a"`, 1) + "\n" + result("1") + "\n"
	h.server(strings.TrimSuffix(chunk, "\n"))
	if h.out.writes != 1 || h.out.String() != chunk {
		t.Fatalf("%d writes: %q", h.out.writes, h.out.String())
	}
}

func TestUnknownTool(t *testing.T) {
	var asked []string
	h := newHarness(t, Options{UnknownTool: func(name string) string {
		asked = append(asked, name)
		if name == "known" {
			return ""
		}
		return `unknown tool "` + name + `": the tools are <a> & <b>`
	}})
	h.client(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"known","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope2"}}`,
		`{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":"nope"}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"arguments":{}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope3"}}`,
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":42}}`,
		`{"jsonrpc":"2.0","id":8,"method":"tools/call"}`)
	h.server(
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"tool 'nope' not found: tool not found","data":{"x":1}}}`,
		`{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"invalid arguments"}}`,
		`{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"other"}}`,
		`{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"prompt 'nope' not found"}}`,
		`{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"no name"}}`,
		`{"jsonrpc":"2.0","id":6,"result":{"content":[]}}`,
		`{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"not a string"}}`,
		`{"jsonrpc":"2.0","id":8,"error":{"code":-32602.0,"message":"tool '' not found"}}`,
	)
	h.expect(
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool \"nope\": the tools are <a> & <b>","data":{"x":1}}}`,
		`{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"invalid arguments"}}`,
		`{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"other"}}`,
		`{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"prompt 'nope' not found"}}`,
		`{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"unknown tool \"\": the tools are <a> & <b>"}}`,
		`{"jsonrpc":"2.0","id":6,"result":{"content":[]}}`,
		`{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"not a string"}}`,
		`{"jsonrpc":"2.0","id":8,"error":{"code":-32602.0,"message":"unknown tool \"\": the tools are <a> & <b>"}}`,
	)
	if fmt.Sprint(asked) != "[nope known  ]" {
		t.Fatalf("asked about %v", asked)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(h.out.String(), "\n", 2)[0]), &m); err != nil {
		t.Fatalf("rewritten line is not JSON: %v", err)
	}
}

func TestLongLines(t *testing.T) {
	big := strings.Repeat("x", 5000)
	h := newHarness(t, Options{MaxLine: 1000})
	// A request line over MaxLine is not inspected: its response passes.
	h.in.WriteString(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"s":"` + big + `"},"_meta":{"progressToken":"big"}}}` + "\n")
	h.in.WriteString(call("2", `"small"`) + "\n")
	buf := make([]byte, 100)
	for {
		if _, err := h.g.Stdin().Read(buf); err == io.EOF {
			break
		}
	}
	if _, ok := h.g.inflight["n1"]; ok || len(h.g.inflight) != 1 {
		t.Fatalf("tracked %v", h.g.inflight)
	}
	// An output line split over writes and over MaxLine passes uninspected,
	// unchanged; a long line in one Write is inspected.
	long := `{"jsonrpc":"2.0","id":2,"result":{"text":"` + big + `"}}`
	w := h.g.Stdout()
	for i := 0; i < len(long); i += 300 {
		if _, err := w.Write([]byte(long[i:min(i+300, len(long))])); err != nil {
			t.Fatal(err)
		}
	}
	h.server("", progress(`"small"`, 1))
	h.expect(long, progress(`"small"`, 1))
	h.client(call("3", `"x"`))
	h.server(result("3")+"\n"+progress(`"x"`, 1), `{"jsonrpc":"2.0","id":4,"result":"`+big+`"}`)
	h.expect(long, progress(`"small"`, 1), result("3"), `{"jsonrpc":"2.0","id":4,"result":"`+big+`"}`)
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("broken pipe")
	}
	w.n--
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	g := New(strings.NewReader(call("1", "")+"\n"), &failWriter{}, Options{})
	_, _ = io.Copy(io.Discard, g.Stdin())
	if n, err := g.Stdout().Write([]byte(result("2") + "\n")); err == nil || n != 0 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	g = New(strings.NewReader(call("1", "")+"\n"+cancelled("1")+"\n"), &failWriter{n: 1}, Options{})
	_, _ = io.Copy(io.Discard, g.Stdin())
	chunk := result("5") + "\n" + result("1") + "\n" + result("6") + "\n"
	n, err := g.Stdout().Write([]byte(chunk))
	if want := len(result("5")) + 1 + len(result("1")) + 1; err == nil || n != want {
		t.Fatalf("Write = %d, %v; want %d and an error", n, err, want)
	}
}

// State stays bounded: answered requests are forgotten, unanswered ones are
// capped, and the memory of finished tokens and cancellations is a ring.
// (This test is single-threaded: under -race it runs fewer requests.)
func TestBoundedMemory(t *testing.T) {
	n := 100_000
	if raceEnabled {
		n = 20_000
	}
	h := newHarness(t, Options{Logger: slog.New(slog.DiscardHandler)})
	g := h.g
	const batch = 1000
	for b := 0; b < n; b += batch {
		var in, out []string
		want := 0 // lines that pass: the first progress and the result, unless cancelled
		for i := b; i < b+batch; i++ {
			id, tok := fmt.Sprint(i), fmt.Sprintf(`"t%d"`, i)
			in = append(in, call(id, tok))
			if i%3 == 0 {
				in = append(in, cancelled(id))
			} else {
				want += 2
			}
			out = append(out, progress(tok, 1), result(id), progress(tok, 2))
		}
		h.client(in...)
		h.server(strings.Join(out, "\n"))
		if got := strings.Count(h.out.String(), "\n"); got != want {
			t.Fatalf("batch %d: %d lines out, want %d", b, got, want)
		}
		h.out.buf.Reset()
	}
	if len(g.inflight) != 0 || len(g.byToken) != 0 || len(g.order) > 64 {
		t.Fatalf("answered: inflight %d byToken %d order %d", len(g.inflight), len(g.byToken), len(g.order))
	}
	if len(g.doneTok.idx) > DefaultMaxRemembered || len(g.cancelled.idx) > DefaultMaxRemembered {
		t.Fatalf("rings: %d %d", len(g.doneTok.idx), len(g.cancelled.idx))
	}
	// Never answered, a third cancelled; cancellations of unknown ids.
	h = newHarness(t, Options{MaxInflight: 1000, MaxRemembered: 500, Logger: slog.New(slog.DiscardHandler)})
	g = h.g
	var in []string
	for i := range n {
		id := fmt.Sprint(i)
		in = append(in, call(id, fmt.Sprintf(`"t%d"`, i)))
		if i%3 == 0 {
			in = append(in, cancelled(id), cancelled(fmt.Sprint(-i-1)))
		}
	}
	h.client(in...)
	if len(g.inflight) != 1000 || len(g.byToken) != 1000 || len(g.order) > 2*1000+64 ||
		len(g.doneTok.idx) > 500 || len(g.cancelled.idx) > 500 || len(g.doneTok.keys) != 500 {
		t.Fatalf("unanswered: inflight %d byToken %d order %d rings %d %d", len(g.inflight), len(g.byToken), len(g.order),
			len(g.doneTok.idx), len(g.cancelled.idx))
	}
	// The newest requests are the ones still tracked, cancelled or not.
	c := n - 1 - (n-1)%3 // the last one cancelled
	k := c - 1           // one not cancelled
	h.server(progress(fmt.Sprintf(`"t%d"`, k), 1), result(fmt.Sprint(k)), progress(fmt.Sprintf(`"t%d"`, k), 2),
		progress(fmt.Sprintf(`"t%d"`, c), 1), result(fmt.Sprint(c)))
	h.expect(progress(fmt.Sprintf(`"t%d"`, k), 1), result(fmt.Sprint(k)))
}

// Concurrent writers (mcp-go's workers and its notification goroutine,
// each writing whole lines) while the client's lines are read: run with
// -race. Checks that nothing is lost or altered, and that no progress
// follows its result.
func TestConcurrentUse(t *testing.T) {
	const requests, writers = 400, 8
	pr, pw := io.Pipe()
	out := &lockedBuffer{}
	g := New(pr, out, Options{Logger: slog.New(slog.DiscardHandler)})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		_, _ = io.Copy(io.Discard, g.Stdin())
	}()
	// Requests are known before their lines are written: the client sends,
	// then the server answers.
	var sent sync.WaitGroup
	ready := make([]chan struct{}, requests)
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	sent.Add(1)
	go func() {
		defer sent.Done()
		for i := range requests {
			if _, err := io.WriteString(pw, call(fmt.Sprint(i), fmt.Sprint(i))+"\n"); err != nil {
				t.Error(err)
				return
			}
		}
		// io.Pipe hands the data over only as it is read; a final line
		// makes sure every request line before it was scanned.
		_, _ = io.WriteString(pw, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
		for _, c := range ready {
			close(c)
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; i < requests; i += writers {
				<-ready[i]
				id := fmt.Sprint(i)
				var chunk []byte
				for k := range r.IntN(3) {
					chunk = append(chunk, progress(id, k)+"\n"...)
				}
				chunk = append(chunk, result(id)+"\n"...)
				// One line per write, or all of them in one.
				lines := [][]byte{chunk}
				if r.IntN(2) == 0 {
					lines = bytes.SplitAfter(chunk, []byte("\n"))
				}
				for _, l := range lines {
					if _, err := g.Stdout().Write(l); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	// A late notifier: progress for random requests, possibly after their result.
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(99, 1))
		for range 2000 {
			i := r.IntN(requests)
			<-ready[i]
			if _, err := g.Stdout().Write([]byte(progress(fmt.Sprint(i), 100) + "\n")); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	sent.Wait()
	pw.Close()
	<-readerDone
	answered := map[string]bool{}
	results := 0
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var m struct {
			ID     json.RawMessage
			Method string
			Params struct{ ProgressToken json.RawMessage }
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("altered line %q: %v", line, err)
		}
		switch {
		case m.Method == "notifications/progress":
			if answered[string(m.Params.ProgressToken)] {
				t.Fatalf("progress after its result: %s", line)
			}
		case m.ID != nil:
			if answered[string(m.ID)] {
				t.Fatalf("two results for %s", m.ID)
			}
			answered[string(m.ID)] = true
			results++
		}
	}
	if results != requests {
		t.Fatalf("%d results of %d", results, requests)
	}
}

// The scanner agrees with encoding/json on the members it finds.
func TestMembersAgreeWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a" : "x\"}" , "b":[1,{"c":"]"}],"d":null,"e":true,"f":-1.5e3}`,
		`{"\u0069d":"v","k\\":{"n":{}}}`, "{\"a\":\"\\\\\",\"b\":2}\r",
	} {
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		got := map[string]string{}
		if !members([]byte(s), func(m member) bool {
			k, _ := jsonString([]byte(`"` + string(m.key) + `"`))
			got[k] = s[m.start:m.end]
			return true
		}) {
			t.Fatalf("%s: not an object", s)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %v vs %v", s, got, want)
		}
		for k, v := range want {
			if got[k] != string(v) {
				t.Fatalf("%s: member %q = %q, want %q", s, k, got[k], v)
			}
		}
	}
	for _, s := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":"x}`, `[]`, `{"a":[1}`, `{} x`} {
		if members([]byte(s), func(member) bool { return true }) {
			t.Errorf("%q taken for an object", s)
		}
	}
}

// FuzzGuard: whatever the client and the server send, every line the
// guard writes is one the server wrote, unchanged and in order.
func FuzzGuard(f *testing.F) {
	f.Add(call("1", `"p"`)+"\n"+cancelled("2")+"\n", progress(`"p"`, 1)+"\n"+result("1")+"\n"+result("2")+"\nxx", 7)
	f.Add("{\"id\":1,\"method\":\"a\",\"params\":{\"_meta\":{\"progressToken\":1}}}\n", "{\"id\":1,\"result\":1}\n{\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1}}\n", 3)
	f.Fuzz(func(t *testing.T, in, out string, split int) {
		var buf bytes.Buffer
		g := New(strings.NewReader(in), &buf, Options{MaxLine: 200})
		_, _ = io.Copy(io.Discard, g.Stdin())
		if split <= 0 {
			split = 1
		}
		for rest := out; len(rest) > 0; {
			n := min(split, len(rest))
			if k, err := g.Stdout().Write([]byte(rest[:n])); err != nil || k != n {
				t.Fatalf("Write = %d, %v", k, err)
			}
			rest = rest[n:]
		}
		_ = g.Flush()
		wrote := strings.SplitAfter(out, "\n")
		j := 0
		for _, line := range strings.SplitAfter(buf.String(), "\n") {
			if line == "" {
				continue
			}
			for j < len(wrote) && wrote[j] != line {
				j++
			}
			if j == len(wrote) {
				t.Fatalf("line %q was not written by the server in this order", line)
			}
			j++
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{100, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			g := New(strings.NewReader(""), io.Discard, Options{})
			line := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("x", size) + `"}]}}` + "\n")
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				_, _ = g.Stdout().Write(line)
			}
		})
	}
}

func BenchmarkRead(b *testing.B) {
	for _, size := range []int{100, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			line := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"` +
				strings.Repeat("x", size) + `"},"_meta":{"progressToken":"p"}}}` + "\n")
			b.SetBytes(int64(len(line)))
			r := bytes.NewReader(line)
			g := New(r, io.Discard, Options{})
			buf := make([]byte, 4096)
			for b.Loop() {
				r.Reset(line)
				for {
					if _, err := g.Stdin().Read(buf); err != nil {
						break
					}
				}
			}
		})
	}
}
