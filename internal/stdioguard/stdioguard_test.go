package stdioguard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
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

// harness drives a Guard: client lines go through its stdin, to a
// simulated server that sees the surrogate ids and tokens the guard hands
// it; server lines are written in the client's terms (ids and tokens as
// the client sent them) and translated to the surrogates before they go
// through the guard's stdout.
type harness struct {
	t      *testing.T
	g      *Guard
	in     *bytes.Buffer
	out    *lockedBuffer
	log    *lockedBuffer
	buf    []byte
	passed []string          // the lines the server got
	ids    map[string]string // idKey of a client id → its latest surrogate
	toks   map[string]string // idKey of a client token → its latest surrogate
}

func newHarness(t *testing.T, opts Options) *harness {
	h := &harness{t: t, in: &bytes.Buffer{}, out: &lockedBuffer{}, log: &lockedBuffer{}, buf: make([]byte, 4096),
		ids: map[string]string{}, toks: map[string]string{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h.g = New(h.in, h.out, opts)
	return h
}

// client sends lines from the client, as the server would read them, and
// waits for the guard's own responses to be written.
func (h *harness) client(lines ...string) {
	h.t.Helper()
	for _, l := range lines {
		h.in.WriteString(l + "\n")
	}
	var got []byte
	for {
		n, err := h.g.Stdin().Read(h.buf)
		got = append(got, h.buf[:n]...)
		if err == io.EOF {
			break
		} else if err != nil {
			h.t.Fatal(err)
		}
	}
	for _, l := range strings.SplitAfter(string(got), "\n") {
		if l != "" {
			h.passed = append(h.passed, l)
		}
	}
	h.learn()
	h.g.rep.drain()
}

// learn records the surrogates of the requests in flight.
func (h *harness) learn() {
	h.g.mu.Lock()
	defer h.g.mu.Unlock()
	for sur, req := range h.g.bySur {
		h.ids[req.key] = sur
		if req.token != nil {
			h.toks[idKey(req.token)] = req.tokenSur
		}
	}
}

// translate returns a server line written in the client's terms with the
// surrogates in place of the ids and tokens the client used.
func (h *harness) translate(line string) string {
	if strings.Contains(line, "\n") {
		lines := strings.Split(line, "\n")
		for i, l := range lines {
			lines[i] = h.translate(l)
		}
		return strings.Join(lines, "\n")
	}
	b := []byte(line)
	if s, e, ok := lastMember(b, func(k []byte) bool { return keyIs(k, "id") }); ok {
		if sur, ok := h.ids[idKey(b[s:e])]; ok {
			b = slices.Concat(b[:s], jsonQuote(sur), b[e:])
		}
	}
	if ps, pe, ok := lastMember(b, func(k []byte) bool { return keyIs(k, "params") }); ok {
		if s, e, ok := lastMember(b[ps:pe], func(k []byte) bool { return keyIs(k, "progressToken") }); ok {
			if sur, ok := h.toks[idKey(b[ps+s:ps+e])]; ok {
				b = slices.Concat(b[:ps+s], jsonQuote(sur), b[ps+e:])
			}
		}
	}
	return string(b)
}

// server writes lines from the server, one Write each.
func (h *harness) server(lines ...string) {
	h.t.Helper()
	for _, l := range lines {
		l = h.translate(l)
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

// sur is the surrogate id of the n-th request a fresh guard admits.
func sur(n int) string { return fmt.Sprintf(`"cg:%d"`, n) }

func TestProgressBeforeResponseKeptAfterDropped(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("1", `"p1"`))
	h.server(progress(`"p1"`, 1), progress(`"p1"`, 2), result("1"), progress(`"p1"`, 3))
	h.expect(progress(`"p1"`, 1), progress(`"p1"`, 2), result("1"))
	if !strings.Contains(h.log.String(), `level=DEBUG msg="dropped a progress notification after the result of its request" token=cg:p1`) {
		t.Fatalf("log: %s", h.log)
	}
	// The server saw its own id and token, never the client's.
	if want := `{"jsonrpc":"2.0","id":"cg:1","method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"hi"},"_meta":{"progressToken":"cg:p1"}}}` + "\n"; h.passed[0] != want {
		t.Fatalf("the server got %s", h.passed[0])
	}
}

func TestCancelledRequest(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("7", `"p7"`), call("8", `"p8"`))
	h.server(progress(`"p7"`, 1))
	h.client(cancelled("7"))
	if got, want := h.passed[2], `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"cg:1","reason":"user"}}`+"\n"; got != want {
		t.Fatalf("the server got the cancellation as %s", got)
	}
	h.server(progress(`"p7"`, 2), progress(`"p8"`, 1), result("7"), progress(`"p7"`, 3), result("8"))
	h.expect(progress(`"p7"`, 1), progress(`"p8"`, 1), result("8"))
	log := h.log.String()
	for _, want := range []string{
		`msg="dropped a progress notification after its request was cancelled" token=p7`,
		`msg="dropped a response to a cancelled request" id=7`,
		`msg="dropped a progress notification after the result of its request" token=cg:p1`,
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

// A cancellation of a request not in flight (already answered, refused,
// never sent) is not handed to the server, which knows no such request; a
// request with that id later is served as usual.
func TestCancelledNotInFlight(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("5", ""))
	h.server(result("5"))
	h.client(cancelled("5"), cancelled("6"), cancelled("true"), cancelled(sur(1)))
	if len(h.passed) != 1 {
		t.Fatalf("cancellations of nothing in flight reached the server: %q", h.passed[1:])
	}
	h.client(call("6", ""))
	h.server(result("6"))
	h.expect(result("5"), result("6"))
	if !strings.Contains(h.log.String(), `msg="dropped a cancellation of no request in flight" id=6`) {
		t.Fatalf("log: %s", h.log)
	}
}

func TestUnknownPassUnchanged(t *testing.T) {
	h := newHarness(t, Options{})
	lines := []string{
		result("99"),            // a response to a request never seen
		result(`"cg:99"`),       // a surrogate never issued
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

// Ids and tokens come back exactly as the client wrote them; they match
// as JSON values (1 and 1.0 are one number, "ab" and "\u0061b" one string,
// 1 and "1" differ).
func TestIDsAndTokensCanonical(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(call("1", "10"), call(`"1"`, `"10"`), call(`"\u0061b"`, `"t\u00e9"`), call("2.0", "3e1"))
	h.client(cancelled("1.0"))
	h.server(
		result("1"),              // cancelled (as 1.0): dropped
		progress("10.0", 1),      // its token, cancelled: dropped
		progress(`"10"`, 1),      // the string token: kept
		result(`"1"`),            // kept
		progress(`"10"`, 2),      // after the result: dropped
		progress(`"té"`, 1),      // kept, as the client wrote it
		result(`"ab"`),           // kept, as the client wrote it
		progress(`"t\u00e9"`, 2), // dropped
		progress("30", 1),        // 3e1: kept
		result("2"),              // 2.0: kept
		progress("3E+1", 2),      // dropped
	)
	h.expect(progress(`"10"`, 1), result(`"1"`), progress(`"t\u00e9"`, 1), result(`"\u0061b"`), progress("3e1", 1), result("2.0"))
}

func TestNumberKey(t *testing.T) {
	same := [][]string{
		{"7", "7.0", "70e-1", "0.7e1", "7E0", "7e+0", "700e-2"},
		{"0", "-0", "0.0", "0e5", "-0.000e-3"},
		{"9007199254740993", "9007199254740993.0", "9.007199254740993e15"},
		{"-12.5", "-125e-1", "-1.25E1"},
	}
	var keys []string
	for _, group := range same {
		k := numberKey([]byte(group[0]))
		if k == "" {
			t.Fatalf("%s: no key", group[0])
		}
		for _, n := range group[1:] {
			if got := numberKey([]byte(n)); got != k {
				t.Errorf("%s: key %q, want %q (as %s)", n, got, k, group[0])
			}
		}
		keys = append(keys, k)
	}
	for _, n := range []string{"9007199254740992", "70", "-7", "1e400", "1e1000000000000"} {
		k := numberKey([]byte(n))
		if k == "" || slices.Contains(keys, k) {
			t.Errorf("%s: key %q", n, k)
		}
		keys = append(keys, k)
	}
	for _, bad := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "0x10", "1 ", "--1", "1e1000000000000x"} {
		if k := numberKey([]byte(bad)); k != "" {
			t.Errorf("%q: key %q for no number", bad, k)
		}
	}
	if idKey([]byte("7")) == idKey([]byte(`"7"`)) || idKey([]byte(`"\u0037"`)) != idKey([]byte(`"7"`)) {
		t.Fatal("idKey confuses strings and numbers")
	}
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

// The client's responses to no request of the server's are dropped (a
// response is never answered), notifications pass, malformed requests are
// answered by the guard; none of them is a request in flight.
func TestClientLinesThatAreNotRequests(t *testing.T) {
	h := newHarness(t, Options{})
	h.client(`{"jsonrpc":"2.0","id":4,"result":{"model":"x"}}`, `{"jsonrpc":"2.0","id":5,"error":{"code":1,"message":"no"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`, `{"jsonrpc":"2.0","id":null,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":6,"method":"x","result":{}}`, `{"jsonrpc":"2.0","id":7,"method":"ping"`)
	if len(h.g.bySur) != 0 || len(h.g.live) != 0 || h.g.bytes != 0 {
		t.Fatalf("tracked %v", h.g.bySur)
	}
	want := []string{`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n", `{"jsonrpc":"2.0","id":7,"method":"ping"` + "\n"}
	if !slices.Equal(h.passed, want) {
		t.Fatalf("the server got %q", h.passed)
	}
	out := h.out.String()
	if !strings.Contains(out, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: the id must be a string or a number, not null`) ||
		!strings.Contains(out, `{"jsonrpc":"2.0","id":6,"error":{"code":-32600,"message":"Invalid Request: the message has both \"method\" and \"result\"`) ||
		strings.Count(out, "\n") != 2 {
		t.Fatalf("stdout:\n%s", out)
	}
}

func TestSplitLines(t *testing.T) {
	lines := []string{progress(`"p"`, 1), result("1"), progress(`"p"`, 2), "garbage", result("2")}
	want := progress(`"p"`, 1) + "\n" + result("1") + "\n" + "garbage\n" + result("2") + "\n"
	for cut := 0; ; cut++ {
		h := newHarness(t, Options{})
		h.client(call("1", `"p"`), call("2", ""))
		var tr []string
		for _, l := range lines {
			tr = append(tr, h.translate(l))
		}
		stream := strings.Join(tr, "\n") + "\n"
		if cut > len(stream) {
			break
		}
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
	var tr []string
	for _, l := range lines {
		tr = append(tr, h.translate(l))
	}
	stream := strings.Join(tr, "\n") + "\n"
	for i := range len(stream) {
		if _, err := h.g.Stdout().Write([]byte{stream[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.out.String(); got != want {
		t.Fatalf("byte by byte:\n%s\nwant\n%s", got, want)
	}
}

// However the client's bytes are split across reads, the server gets the
// same lines.
func TestSplitInput(t *testing.T) {
	in := call("1", `"p"`) + "\n" + cancelled("1") + "\n" + call(`"two"`, "2") + "\n" + "not json\n" + cancelled("3") + "\n"
	read := func(size int) (*harness, string) {
		h := newHarness(t, Options{})
		h.in.WriteString(in)
		got, err := io.ReadAll(readerFunc(func(p []byte) (int, error) {
			return h.g.Stdin().Read(p[:min(len(p), size)])
		}))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		h.learn()
		return h, string(got)
	}
	_, want := read(1 << 20)
	if want != strings.NewReplacer(`"id":1,`, `"id":"cg:1",`, `"requestId":1,`, `"requestId":"cg:1",`, `"id":"two"`, `"id":"cg:2"`,
		`"progressToken":"p"`, `"progressToken":"cg:p1"`, `"progressToken":2`, `"progressToken":"cg:p2"`, cancelled("3")+"\n", "").Replace(in) {
		t.Fatalf("the server got:\n%s", want)
	}
	for size := 1; size <= len(in); size += 7 {
		h, got := read(size)
		if got != want {
			t.Fatalf("size %d: read %q, want %q", size, got, want)
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
	var lines []string
	for _, l := range []string{
		progress(`"a"`, 1), progress(`"b"`, 1), result("1"), progress(`"a"`, 2), progress(`"b"`, 2),
		progress(`"c"`, 1), result("3"), result("2"), progress(`"b"`, 3), "tail-partial",
	} {
		lines = append(lines, h.translate(l))
	}
	chunk := strings.Join(lines, "\n")
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

// Lines that pass unchanged are written with one write, as they came; a
// small line whose id is restored is written with one write too.
func TestWrites(t *testing.T) {
	h := newHarness(t, Options{})
	chunk := progress(`"a"`, 1) + "\n" + result("1") + "\n"
	h.server(strings.TrimSuffix(chunk, "\n"))
	if h.out.writes != 1 || h.out.String() != chunk {
		t.Fatalf("%d writes: %q", h.out.writes, h.out.String())
	}
	h = newHarness(t, Options{})
	h.client(call("1", `"a"`))
	h.server(progress(`"a"`, 1))
	h.server(result("1"))
	if h.out.writes != 2 || h.out.String() != chunk {
		t.Fatalf("%d writes: %q", h.out.writes, h.out.String())
	}
	// A large one: the head with the id, then the rest as it is.
	big := `{"jsonrpc":"2.0","id":2,"result":{"text":"` + strings.Repeat("x", smallLine) + `"}}`
	h.client(call("2", ""))
	h.out.writes = 0
	if _, err := h.g.Stdout().Write([]byte(h.translate(big) + "\n" + result("99") + "\n")); err != nil {
		t.Fatal(err)
	}
	if h.out.writes != 2 || !strings.HasSuffix(h.out.String(), big+"\n"+result("99")+"\n") {
		t.Fatalf("%d writes", h.out.writes)
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

// Output lines: one split across writes over MaxLine passes uninspected
// and unchanged (mcp-go writes every message with one write); a long line
// in one Write is inspected.
func TestLongOutputLines(t *testing.T) {
	big := strings.Repeat("x", 5000)
	h := newHarness(t, Options{MaxLine: 1000})
	h.client(call("2", `"small"`))
	long := `{"jsonrpc":"2.0","id":2,"result":{"text":"` + big + `"}}`
	w := h.g.Stdout()
	for i := 0; i < len(long); i += 300 {
		if _, err := w.Write([]byte(long[i:min(i+300, len(long))])); err != nil {
			t.Fatal(err)
		}
	}
	h.server("", progress(`"small"`, 1))
	h.expect(long, progress(`"small"`, 1))
	h.client(call("3", `"x"`), call("4", ""))
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
	chunk := result("5") + "\n" + result(sur(1)) + "\n" + result("6") + "\n"
	n, err := g.Stdout().Write([]byte(chunk))
	if want := len(result("5")) + 1 + len(result(sur(1))) + 1; err == nil || n != want {
		t.Fatalf("Write = %d, %v; want %d and an error", n, err, want)
	}
	// A response of the guard's own that cannot be written is dropped.
	g = New(strings.NewReader(`{"jsonrpc":"2.0","id":null,"method":"ping"}`+"\n"), &failWriter{}, Options{})
	_, _ = io.Copy(io.Discard, g.Stdin())
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
}

// State stays bounded: answered and cancelled requests are forgotten once
// the server answers them; requests never answered are capped (past the
// cap, refused as busy).
// (This test is single-threaded: under -race it runs fewer requests.)
func TestBoundedMemory(t *testing.T) {
	n := 100_000
	if raceEnabled {
		n = 20_000
	}
	h := newHarness(t, Options{Logger: slog.New(slog.DiscardHandler), MaxToolCalls: 1000})
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
		h.passed = nil
		for i := range out {
			out[i] = h.translate(out[i])
		}
		if _, err := g.Stdout().Write([]byte(strings.Join(out, "\n") + "\n")); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(h.out.String(), "\n"); got != want {
			t.Fatalf("batch %d: %d lines out, want %d", b, got, want)
		}
		h.out.buf.Reset()
		clear(h.ids)
		clear(h.toks)
	}
	if len(g.bySur) != 0 || len(g.live) != 0 || len(g.byToken) != 0 || g.bytes != 0 || g.toolCalls != 0 {
		t.Fatalf("answered: bySur %d live %d byToken %d bytes %d toolCalls %d", len(g.bySur), len(g.live), len(g.byToken), g.bytes, g.toolCalls)
	}
	// Never answered: past MaxInflight, refused as busy.
	h = newHarness(t, Options{MaxInflight: 1000, MaxToolCalls: 2000, Logger: slog.New(slog.DiscardHandler)})
	g = h.g
	var in []string
	for i := range 1500 {
		in = append(in, call(fmt.Sprint(i), fmt.Sprintf(`"t%d"`, i)))
	}
	h.client(in...)
	if len(g.bySur) != 1000 || len(g.byToken) != 1000 || len(h.passed) != 1000 ||
		strings.Count(h.out.String(), `"error":{"code":-32000,"message":"clawgate is busy: 1000 requests are in flight`) != 500 {
		t.Fatalf("unanswered: bySur %d byToken %d passed %d\n%.500s", len(g.bySur), len(g.byToken), len(h.passed), h.out.String())
	}
}

// Concurrent writers (mcp-go's workers and its notification goroutine,
// each writing whole lines) while the client's lines are read: run with
// -race. Checks that nothing is lost or altered, and that no progress
// follows its result.
func TestConcurrentUse(t *testing.T) {
	const requests, writers = 400, 8
	pr, pw := io.Pipe()
	out := &lockedBuffer{}
	g := New(pr, out, Options{Logger: slog.New(slog.DiscardHandler), MaxToolCalls: requests})
	// The server learns each request's surrogate id and token from the
	// lines it reads, in the order the client sent them.
	surs, toks := make([]string, requests), make([]string, requests)
	ready := make([]chan struct{}, requests)
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(g.Stdin())
		i := 0
		for sc.Scan() {
			var m struct {
				ID     string
				Params struct {
					Meta struct{ ProgressToken string } `json:"_meta"`
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil || i >= requests {
				t.Errorf("the server got %q: %v", sc.Text(), err)
				return
			}
			surs[i], toks[i] = strconv.Quote(m.ID), strconv.Quote(m.Params.Meta.ProgressToken)
			close(ready[i])
			i++
		}
	}()
	go func() {
		for i := range requests {
			if _, err := io.WriteString(pw, call(fmt.Sprint(i), fmt.Sprint(i))+"\n"); err != nil {
				t.Error(err)
				return
			}
		}
		pw.Close()
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; i < requests; i += writers {
				<-ready[i]
				var chunk []byte
				for k := range r.IntN(3) {
					chunk = append(chunk, progress(toks[i], k)+"\n"...)
				}
				chunk = append(chunk, result(surs[i])+"\n"...)
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
			if _, err := g.Stdout().Write([]byte(progress(toks[i], 100) + "\n")); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
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
			if _, err := strconv.Atoi(string(m.Params.ProgressToken)); err != nil {
				t.Fatalf("progress token not restored: %s", line)
			}
		case m.ID != nil:
			if answered[string(m.ID)] {
				t.Fatalf("two results for %s", m.ID)
			}
			if _, err := strconv.Atoi(string(m.ID)); err != nil {
				t.Fatalf("id not restored: %s", line)
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

// keyFold matches keys as encoding/json matches struct fields, which is
// how mcp-go reads a message's envelope.
func TestKeyFoldAgreesWithEncodingJSON(t *testing.T) {
	for _, key := range []string{"id", "ID", "Id", "iD", `\u0069d`, "method", "METHOD", "meſhod", "params", "paramſ", "_META", "nam\u212a", "idx", "i", ""} {
		var v struct {
			ID     int `json:"id"`
			Method int `json:"method"`
			Params int `json:"params"`
			Meta   int `json:"_meta"`
		}
		_ = json.Unmarshal([]byte(`{"`+key+`":1}`), &v)
		for want, got := range map[string]int{"id": v.ID, "method": v.Method, "params": v.Params, "_meta": v.Meta} {
			if keyFold([]byte(key), want) != (got == 1) {
				t.Errorf("keyFold(%q, %q) = %v; encoding/json: %v", key, want, !(got == 1), got == 1)
			}
		}
	}
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
				g.mu.Lock()
				clear(g.bySur) // answered
				clear(g.live)
				g.bytes, g.toolCalls = 0, 0
				g.mu.Unlock()
			}
		})
	}
}
