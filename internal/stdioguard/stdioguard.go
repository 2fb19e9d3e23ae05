// Package stdioguard sits between an MCP stdio server (mcp-go's) and its
// stdin and stdout, and enforces there what the server does not:
//
//   - Bounded reads: a line longer than MaxLine is held no further than
//     MaxLine, then discarded as the rest of it streams in, and answered
//     with a JSON-RPC error (with its id when the line starts with it); the
//     lines after it are served.
//   - Bounded work: past MaxToolCalls tools/call requests in flight (mcp-go
//     would run the next one on its read loop, stalling every ping,
//     cancellation and EOF behind a whole agent run), past MaxInflight
//     requests, or past MaxInflightBytes of request lines in flight, a new
//     request is refused at once with a "busy" JSON-RPC error, before the
//     server sees it.
//   - Exact ids: the server sees every request under a surrogate id (and
//     progress token) of its own, and the guard puts the client's id (and
//     token) back, byte for byte, on the way out; mcp-go would turn
//     9007199254740993 into 9007199254740992, 1.0 into 1 and "\u0037" into
//     "7". Cancellation is matched on the exact id ("7" is not 7) and passed
//     on under the surrogate; a second request with the id of a request in
//     flight (not cancelled) is refused, since its response and its
//     cancellation could not be told apart.
//   - Valid requests only: an id that is not a string or a number (null,
//     true, an object: JSON-RPC 2.0 allows no other, MCP not even null), a
//     message with both "method" and "result" or "error", a "method" that is
//     not a string, a "jsonrpc" other than "2.0", a progress token that is
//     not a string or a number, an id or a token over MaxID bytes are
//     answered with the JSON-RPC error they call for; a tools/call without an id (a notification cannot call a
//     tool) and a response to no request of the server's are dropped.
//   - MCP's rules on output: a notifications/progress never follows the
//     result of its request (mcp-go writes notifications from one goroutine
//     and results from others), and after the client's
//     notifications/cancelled for a request, no result and no further
//     progress is sent for it.
//
// It also lets the caller reword the JSON-RPC error for an unknown tool.
//
// The guard reads the client's lines whole (up to MaxLine), decides each,
// and hands the server the lines it accepts, in order. It writes its own
// error responses from a goroutine of its own, so that a client that does
// not read them cannot stall the reading of stdin (up to 1024 of them
// wait; past that, reading waits). On stdout it never reorders the
// server's lines, never holds a complete line back, and never waits for
// anything but the write it passes the line on to. Its memory is bounded:
// a request is forgotten once answered, and the number and the bytes of
// the requests in flight are bounded.
package stdioguard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
)

// Defaults of the Options bounds.
const (
	// DefaultMaxInflight bounds the requests in flight. mcp-go answers
	// requests other than tools/call at once, on goroutines of their own,
	// so only a client that sends faster than it reads reaches it.
	DefaultMaxInflight = 10_000
	// DefaultMaxToolCalls is mcp-go's largest worker pool: past it, tool
	// calls would wait in mcp-go's queue, where a cancellation cannot reach
	// them.
	DefaultMaxToolCalls = 100
	// DefaultMaxInflightBytes bounds the bytes of the request lines in
	// flight: two lines of DefaultMaxLine, or thousands of ordinary ones.
	// The server holds each request (decoded, more than once) until it is
	// answered.
	DefaultMaxInflightBytes = 128 << 20
	// DefaultMaxRemembered bounds the memory of the server's own requests
	// awaiting the client's response.
	DefaultMaxRemembered = 4096
	// DefaultMaxLine is the longest line read from the client: OpenClaw
	// accepts gateway frames of up to 25 MiB (policy.maxPayload), and a
	// client's JSON escaping can more than double a text (Python's default
	// ensure_ascii writes each CJK character, 3 bytes of UTF-8, as 6), so
	// 64 MiB lets every message through that a gateway could accept.
	DefaultMaxLine = 64 << 20
	// DefaultMaxID is the longest id or progress token accepted, in bytes
	// of JSON: ids are counters or UUIDs, and the guard keeps each one
	// while its request is in flight.
	DefaultMaxID = 1024
)

// JSON-RPC error codes of the guard's responses.
const (
	// CodeInvalidRequest answers an over-long line and a request that is
	// not a valid JSON-RPC request (an id of the wrong type or already in
	// flight, both "method" and "result", ...).
	CodeInvalidRequest = -32600
	// CodeInvalidParams answers a progress token of the wrong type.
	CodeInvalidParams = -32602
	// CodeBusy answers a request refused because too much is in flight
	// (JSON-RPC's range for implementation-defined server errors).
	CodeBusy = -32000
)

// Surrogates: the server sees request ids and progress tokens as JSON
// strings with these prefixes and a sequence number.
const (
	idPrefix    = "cg:"
	tokenPrefix = "cg:p"
)

// maxQueuedReplies is how many of the guard's own responses may wait to be
// written before reading stdin waits for them.
const maxQueuedReplies = 1024

// Options configure a Guard. The zero value is usable.
type Options struct {
	// UnknownTool, when set, is called with the tool name of a tools/call
	// answered with JSON-RPC error -32602 (what mcp-go answers for a tool it
	// does not know, "tool 'x' not found"); the name is "" when params.name
	// is missing or empty. A non-empty return replaces the error's message;
	// "" keeps it, and must be returned for a tool that exists (the error is
	// then about something else). It is not called when params.name is not
	// a string.
	UnknownTool func(name string) string
	// Logger gets a debug line for each dropped line (ids and tokens only,
	// never the content) and a warning for each over-long line. nil: no
	// logging.
	Logger *slog.Logger
	// MaxInflight bounds the requests in flight; past it a request is
	// refused as busy. Default DefaultMaxInflight.
	MaxInflight int
	// MaxToolCalls bounds the tools/call requests in flight; past it a
	// tools/call is refused as busy. The server must be able to run this
	// many at once, or queue them (mcp-go: WithWorkerPoolSize and
	// WithQueueSize at least this), so that it never runs one on its read
	// loop. Default DefaultMaxToolCalls.
	MaxToolCalls int
	// MaxInflightBytes bounds the bytes of the request lines in flight;
	// past it a request is refused as busy, unless nothing is in flight.
	// Default DefaultMaxInflightBytes.
	MaxInflightBytes int64
	// MaxRemembered bounds the memory of the server's own requests
	// awaiting the client's response. Default DefaultMaxRemembered.
	MaxRemembered int
	// MaxLine is the longest line read from the client; a longer one is
	// discarded and answered with an error. It also bounds how much of a
	// line the server splits across several writes is held to be
	// inspected; a longer one is passed through uninspected (mcp-go writes
	// every message with one write). Default DefaultMaxLine.
	MaxLine int
	// MaxID is the longest id or progress token accepted, in bytes of
	// JSON. Default DefaultMaxID.
	MaxID int
}

// Guard sits between an MCP stdio server and its stdin and stdout. Create
// one with New, give the server Stdin() and Stdout(), and call Flush when
// the server has returned.
type Guard struct {
	opts Options
	log  *slog.Logger
	in   *reader
	out  *writer
	rep  replies

	mu        sync.Mutex          // guards the fields below; never held during I/O
	bySur     map[string]*request // surrogate id → request, until the server answers it
	live      map[string]*request // idKey of the client's id → request, while not cancelled
	byToken   map[string]*request // surrogate token → request
	toolCalls int                 // tools/call in bySur
	bytes     int64               // sum of size in bySur
	seq       uint64
	serverReq *ring // idKeys of the server's requests awaiting the client's response
}

// request is a request the server has, until it writes its response.
type request struct {
	id        []byte // the client's id, as sent
	key       string // idKey(id)
	sur       string // its surrogate id
	token     []byte // the client's progress token, as sent, or nil
	tokenSur  string // its surrogate, or ""
	toolCall  bool   // a tools/call
	reword    bool   // a tools/call whose params.name is a string or missing
	tool      string // its params.name
	size      int    // bytes of the request line
	cancelled bool
}

// New returns a Guard between stdin and stdout.
func New(stdin io.Reader, stdout io.Writer, opts Options) *Guard {
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = DefaultMaxInflight
	}
	if opts.MaxToolCalls <= 0 {
		opts.MaxToolCalls = DefaultMaxToolCalls
	}
	if opts.MaxInflightBytes <= 0 {
		opts.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if opts.MaxRemembered <= 0 {
		opts.MaxRemembered = DefaultMaxRemembered
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.MaxID <= 0 {
		opts.MaxID = DefaultMaxID
	}
	g := &Guard{
		opts:      opts,
		log:       opts.Logger,
		bySur:     make(map[string]*request),
		live:      make(map[string]*request),
		byToken:   make(map[string]*request),
		serverReq: newRing(opts.MaxRemembered),
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.rep.cond = sync.NewCond(&g.rep.mu)
	g.in = &reader{g: g, r: stdin, buf: make([]byte, 64<<10)}
	g.out = &writer{g: g, w: stdout}
	return g
}

// Stdin returns the reader to give the server in place of stdin. It is
// not safe for concurrent use (mcp-go reads from one goroutine at a time).
func (g *Guard) Stdin() io.Reader { return g.in }

// Stdout returns the writer to give the server in place of stdout. It is
// safe for concurrent use by writers that each write whole lines, as
// mcp-go's do (a line one writer splits across writes must not be
// interleaved with another's, just as on a plain stdout).
func (g *Guard) Stdout() io.Writer { return g.out }

// Flush writes out the guard's own responses still waiting, and a final
// line the server left without its newline (none is expected: every
// message ends with one). Responses for lines read after Flush are not
// written.
func (g *Guard) Flush() error {
	g.rep.stop()
	return g.out.flush()
}

// --- stdin: reading, checking and admitting the client's lines ---

// reader hands the server the client's lines that the guard accepts,
// rewritten where a request's id, progress token or cancelled request id
// is replaced by its surrogate.
type reader struct {
	g      *Guard
	r      io.Reader
	buf    []byte   // what was last read from r
	in     []byte   // the part of buf not scanned yet
	chunks [][]byte // the start of a line split across reads: chunkSize pieces, the last one partial
	first  []byte   // the first chunk, reused from line to line
	n      int      // bytes in chunks (at most MaxLine)
	over   int64    // > 0: the length so far of a line over MaxLine, being discarded
	prefix []byte   // the first bytes of that line, for its id
	out    [][]byte // what to hand the server next (into buf, chunks or new)
	err    error    // what r returned with the bytes in in
}

// prefixLen is how much of an over-long line is kept to find its id.
const prefixLen = 4096

// chunkSize is the size of the pieces a long line is held in: a line over
// MaxLine takes MaxLine of memory until it is found to be too long, never
// more (a buffer grown by doubling would take up to twice that).
const chunkSize = 1 << 20

func (r *reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.out) == 0 {
		if len(r.in) > 0 {
			r.scan()
			continue
		}
		if err := r.err; err != nil {
			// A last line without its newline is dropped, as mcp-go would.
			r.drop()
			r.over, r.err = 0, nil
			return 0, err
		}
		n, err := r.r.Read(r.buf)
		r.in, r.err = r.buf[:n], err
	}
	n := 0
	for n < len(p) && len(r.out) > 0 {
		c := copy(p[n:], r.out[0])
		n += c
		if c == len(r.out[0]) {
			r.out[0] = nil
			r.out = r.out[1:]
		} else {
			r.out[0] = r.out[0][c:]
		}
	}
	return n, nil
}

// scan takes in up to and including the next newline.
func (r *reader) scan() {
	max := r.g.opts.MaxLine
	i := bytes.IndexByte(r.in, '\n')
	if i < 0 {
		if r.over == 0 && r.n+len(r.in) > max {
			r.startOver(r.in)
		} else if r.over == 0 {
			r.add(r.in)
		} else {
			r.over += int64(len(r.in))
			r.keepPrefix(r.in)
		}
		r.in = nil
		return
	}
	chunk := r.in[:i+1]
	r.in = r.in[i+1:]
	switch {
	case r.over > 0:
		r.over += int64(i)
		r.keepPrefix(chunk[:i])
	case r.n == 0 && i <= max:
		r.out = r.g.incoming(chunk[:i], chunk) // the line is in buf: no copy
		return
	case r.n+i <= max:
		r.add(chunk)
		line := r.chunks[0]
		if len(r.chunks) > 1 {
			line = make([]byte, 0, r.n)
			for _, c := range r.chunks {
				line = append(line, c...)
			}
		}
		r.out = r.g.incoming(line[:len(line)-1], line)
		r.drop() // the first chunk is reused once out is handed over
		return
	default:
		r.startOver(chunk[:i])
	}
	r.g.tooLong(r.prefix, r.over)
	r.over, r.prefix = 0, r.prefix[:0]
}

// add takes in b, a piece of a line (r.n+len(b) is at most MaxLine+1).
func (r *reader) add(b []byte) {
	r.n += len(b)
	for len(b) > 0 {
		k := len(r.chunks)
		switch {
		case k == 0:
			r.chunks = append(r.chunks, r.first[:0])
		case len(r.chunks[k-1]) == chunkSize:
			r.chunks = append(r.chunks, make([]byte, 0, chunkSize))
		}
		k = len(r.chunks) - 1
		take := min(chunkSize-len(r.chunks[k]), len(b))
		r.chunks[k] = appendCapped(r.chunks[k], b[:take], chunkSize)
		if k == 0 {
			r.first = r.chunks[0]
		}
		b = b[take:]
	}
}

// drop forgets the line held in chunks.
func (r *reader) drop() {
	clear(r.chunks)
	r.chunks, r.n = r.chunks[:0], 0
}

// startOver starts discarding the current line, whose start is in chunks
// and b: it is over MaxLine.
func (r *reader) startOver(b []byte) {
	r.over = int64(r.n + len(b))
	r.prefix = r.prefix[:0]
	for _, c := range r.chunks {
		r.keepPrefix(c)
	}
	r.keepPrefix(b)
	r.drop()
}

func (r *reader) keepPrefix(b []byte) {
	if n := prefixLen - len(r.prefix); n > 0 {
		r.prefix = append(r.prefix, b[:min(n, len(b))]...)
	}
}

// appendCapped appends b to dst, growing dst's capacity at most to limit.
func appendCapped(dst, b []byte, limit int) []byte {
	if len(dst)+len(b) <= cap(dst) {
		return append(dst, b...)
	}
	n := min(max(2*cap(dst), len(dst)+len(b), 4096), max(limit, len(dst)+len(b)))
	grown := make([]byte, len(dst), n)
	copy(grown, dst)
	return append(grown, b...)
}

// envelope is what the guard reads of a message: the raw values of its
// members (the last of each, keys matched as encoding/json matches struct
// fields, as mcp-go decodes the envelope).
type envelope struct {
	jsonrpc, id, method, params []byte
	idStart, idEnd, paramsStart int
	answer                      string // "result" or "error" if present
	idComplete                  bool   // (in a prefix) the id value is whole
}

func (e *envelope) member(b []byte, m member) bool {
	switch {
	case keyFold(m.key, "id"):
		e.id, e.idStart, e.idEnd = b[m.start:m.end], m.start, m.end
		e.idComplete = m.end < len(b)
	case keyFold(m.key, "method"):
		e.method = b[m.start:m.end]
	case keyFold(m.key, "params"):
		e.params, e.paramsStart = b[m.start:m.end], m.start
	case keyFold(m.key, "jsonrpc"):
		e.jsonrpc = b[m.start:m.end]
	case keyFold(m.key, "result"):
		e.answer = "result"
	case keyFold(m.key, "error"):
		if e.answer == "" {
			e.answer = "error"
		}
	}
	return true
}

// incoming decides a line from the client (without its newline; withNL is
// the same line with it) and returns what to hand the server: nil to drop
// it. It queues the guard's own response when the line gets one.
func (g *Guard) incoming(line, withNL []byte) [][]byte {
	pass := [][]byte{withNL}
	if !json.Valid(line) {
		return pass // mcp-go answers a parse error
	}
	var e envelope
	if !members(line, func(m member) bool { return e.member(line, m) }) {
		return pass // not an object: mcp-go answers it
	}
	switch {
	case e.method == nil && e.answer != "":
		return g.clientResponse(e, pass)
	case e.id == nil && e.method == nil:
		return pass // neither request nor notification: mcp-go answers it
	case e.id == nil:
		return g.notification(line, withNL, e, pass)
	}
	return g.request(line, withNL, e)
}

// clientResponse passes on the client's response to a request of the
// server's, and drops any other response (JSON-RPC: a response is never
// answered; mcp-go would answer an error response with "method not found").
func (g *Guard) clientResponse(e envelope, pass [][]byte) [][]byte {
	if k := idKey(e.id); k != "" {
		g.mu.Lock()
		ok := g.serverReq.has(k)
		g.serverReq.remove(k)
		g.mu.Unlock()
		if ok {
			return pass
		}
	}
	g.log.Debug("dropped a response from the client to no request of the server's", "id", logID(e.id))
	return nil
}

// notification decides a notification (a message with a method and no id).
func (g *Guard) notification(line, withNL []byte, e envelope, pass [][]byte) [][]byte {
	name, ok := jsonString(e.method)
	switch {
	case !ok:
		return pass
	case name == "tools/call":
		g.log.Debug("dropped a tools/call without an id: a notification cannot call a tool")
		return nil
	case name != "notifications/cancelled" || e.params == nil:
		return pass
	}
	start, end, ok := lastMember(e.params, func(k []byte) bool { return keyIs(k, "requestId") })
	if !ok {
		return pass // mcp-go cancels nothing (or answers params that are not an object)
	}
	raw := e.params[start:end]
	g.mu.Lock()
	req := g.live[idKey(raw)]
	if req != nil {
		req.cancelled = true
		delete(g.live, req.key) // the client may use the id again
	}
	g.mu.Unlock()
	if req == nil {
		// Answered already (the result crossed the cancellation), refused,
		// or never sent. The server knows no request by that id: drop it,
		// lest it match one of the surrogates.
		g.log.Debug("dropped a cancellation of no request in flight", "id", logID(raw))
		return nil
	}
	at := e.paramsStart + start
	return [][]byte{line[:at], quoteSurrogate(req.sur), withNL[e.paramsStart+end:]}
}

// request decides a message with an id: a request, or a malformed one.
func (g *Guard) request(line, withNL []byte, e envelope) [][]byte {
	id := e.id
	if what := idType(id); what != "" {
		why := "JSON-RPC 2.0"
		if what == "null" {
			why = "MCP does not allow null ids"
		}
		g.replyError(nil, CodeInvalidRequest, fmt.Sprintf(
			"Invalid Request: the id must be a string or a number, not %s (%s), so the request was not run. Send it with a string or number id.", what, why))
		return nil
	}
	if len(id) > g.opts.MaxID {
		g.replyError(nil, CodeInvalidRequest, fmt.Sprintf(
			"Invalid Request: the id is %d bytes long, more than the %d clawgate accepts, so the request was not run. Send it with a shorter id.", len(id), g.opts.MaxID))
		return nil
	}
	if e.answer != "" {
		g.replyError(id, CodeInvalidRequest, fmt.Sprintf(
			"Invalid Request: the message has both \"method\" and %q, so it is neither a request nor a response, and it was not run. Send a request without %q.", e.answer, e.answer))
		return nil
	}
	name := ""
	if e.method != nil {
		var ok bool
		if name, ok = jsonString(e.method); !ok {
			g.replyError(id, CodeInvalidRequest, "Invalid Request: \"method\" must be a string, so the request was not run.")
			return nil
		}
	}
	if v, ok := jsonString(e.jsonrpc); !ok || v != "2.0" {
		g.replyError(id, CodeInvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\" (JSON-RPC 2.0), so the request was not run.")
		return nil
	}
	req := &request{id: bytes.Clone(id), key: idKey(id), size: len(line), toolCall: name == "tools/call"}
	req.reword = req.toolCall
	// The progress token: params._meta.progressToken (mcp-go decodes params
	// and _meta as struct fields, progressToken as a map key).
	tokStart, tokEnd := -1, -1
	if e.params != nil {
		if ms, me, ok := lastMember(e.params, func(k []byte) bool { return keyFold(k, "_meta") }); ok {
			meta := e.params[ms:me]
			if ts, te, ok := lastMember(meta, func(k []byte) bool { return keyIs(k, "progressToken") }); ok {
				tok := meta[ts:te]
				switch {
				case string(tok) == "null": // no token
				case idType(tok) != "":
					g.replyError(id, CodeInvalidParams, fmt.Sprintf(
						"Invalid params: params._meta.progressToken must be a string or a number, not %s, so the request was not run.", idType(tok)))
					return nil
				case len(tok) > g.opts.MaxID:
					g.replyError(id, CodeInvalidParams, fmt.Sprintf(
						"Invalid params: params._meta.progressToken is %d bytes long, more than the %d clawgate accepts, so the request was not run. Send a shorter token.", len(tok), g.opts.MaxID))
					return nil
				default:
					req.token = bytes.Clone(tok)
					tokStart, tokEnd = e.paramsStart+ms+ts, e.paramsStart+ms+te
				}
			}
		}
		if req.toolCall {
			if s, e2, ok := lastMember(e.params, func(k []byte) bool { return keyFold(k, "name") }); ok {
				req.tool, req.reword = jsonString(e.params[s:e2])
			}
		}
	}
	if refusal, why := g.admit(req); refusal != nil {
		g.log.Debug("refused a request: "+why, "id", logID(req.id), "method", shorten([]byte(name)))
		g.reply(refusal)
		return nil
	}
	// The line with the surrogates in place of the id and the token.
	type span struct {
		start, end int
		with       string
	}
	spans := []span{{e.idStart, e.idEnd, req.sur}}
	if tokStart >= 0 {
		t := span{tokStart, tokEnd, req.tokenSur}
		if t.start < spans[0].start {
			spans = []span{t, spans[0]}
		} else {
			spans = append(spans, t)
		}
	}
	out := make([][]byte, 0, 2*len(spans)+1)
	at := 0
	for _, s := range spans {
		out = append(out, line[at:s.start], quoteSurrogate(s.with))
		at = s.end
	}
	return append(out, withNL[at:])
}

// admit records req as in flight, with its surrogates, or returns the
// response that refuses it and why, for the log.
func (g *Guard) admit(req *request) ([]byte, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live[req.key] != nil {
		return errorResponse(req.id, CodeInvalidRequest, fmt.Sprintf(
			"Invalid Request: the id %s is already used by a request in flight, and responses and cancellations could not tell the two apart, so this one was not run. Send it with an id of its own.",
			shorten(req.id)), nil), "its id is in flight"
	}
	if n := len(g.bySur); n >= g.opts.MaxInflight {
		return errorResponse(req.id, CodeBusy, fmt.Sprintf(
			"clawgate is busy: %d requests are in flight, the most it accepts at once, so this one was not run. Send it again when some have been answered.", n),
			map[string]any{"inFlight": n, "limit": g.opts.MaxInflight}), "busy (requests)"
	}
	if req.toolCall && g.toolCalls >= g.opts.MaxToolCalls {
		return errorResponse(req.id, CodeBusy, fmt.Sprintf(
			"clawgate is busy: %d tool calls are in flight, the most it runs at once, so this call was not run. Call it again when one of them has finished.", g.toolCalls),
			map[string]any{"inFlight": g.toolCalls, "limit": g.opts.MaxToolCalls}), "busy (tool calls)"
	}
	if g.bytes > 0 && g.bytes+int64(req.size) > g.opts.MaxInflightBytes {
		return errorResponse(req.id, CodeBusy, fmt.Sprintf(
			"clawgate is busy: the requests in flight take %s, and with this one (%s) they would take more than the %s it holds at once, so it was not run. Send it again when some have been answered.",
			size(g.bytes), size(int64(req.size)), size(g.opts.MaxInflightBytes)),
			map[string]any{"inFlightBytes": g.bytes, "limitBytes": g.opts.MaxInflightBytes}), "busy (bytes)"
	}
	g.seq++
	req.sur = idPrefix + strconv.FormatUint(g.seq, 10)
	if req.token != nil {
		req.tokenSur = tokenPrefix + strconv.FormatUint(g.seq, 10)
		g.byToken[req.tokenSur] = req
	}
	g.bySur[req.sur] = req
	g.live[req.key] = req
	g.bytes += int64(req.size)
	if req.toolCall {
		g.toolCalls++
	}
	return nil, ""
}

// finish forgets req, answered by the server. Call with g.mu held.
func (g *Guard) finish(req *request) {
	delete(g.bySur, req.sur)
	if req.tokenSur != "" {
		delete(g.byToken, req.tokenSur)
	}
	if g.live[req.key] == req {
		delete(g.live, req.key)
	}
	g.bytes -= int64(req.size)
	if req.toolCall {
		g.toolCalls--
	}
}

// tooLong answers a line of n bytes over MaxLine, whose first bytes are
// prefix: with its id if the prefix shows a request's id whole, else null.
func (g *Guard) tooLong(prefix []byte, n int64) {
	var e envelope
	members(prefix, func(m member) bool { return e.member(prefix, m) })
	var id []byte
	if e.method != nil && e.answer == "" && e.idComplete && idType(e.id) == "" && len(e.id) <= g.opts.MaxID {
		id = e.id
	}
	g.log.Warn("discarded an over-long line from the client", "bytes", n, "limit", g.opts.MaxLine, "id", logID(id))
	g.replyError(id, CodeInvalidRequest, fmt.Sprintf(
		"The message (%s) is longer than %s, the most clawgate reads on one line, so it was discarded unread. Send less: a shorter message, or fewer or smaller attachments.",
		size(n), size(int64(g.opts.MaxLine))))
}

// idType returns "" for a JSON string or number, else what raw is.
func idType(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return ""
	case c == 'n':
		return "null"
	case c == 't', c == 'f':
		return "a boolean"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	}
	return "a value of another type"
}

// --- the guard's own responses ---

// replyError queues a JSON-RPC error response with id (nil: null).
func (g *Guard) replyError(id []byte, code int, msg string) {
	g.reply(errorResponse(id, code, msg, nil))
}

// errorResponse returns a JSON-RPC error response line with the raw id
// (nil: null), exactly as the client sent it.
func errorResponse(id []byte, code int, msg string, data any) []byte {
	if id == nil {
		id = []byte("null")
	}
	type errorObject struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":`)
	b.Write(id)
	b.WriteString(`,"error":`)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(errorObject{code, msg, data}); err != nil {
		panic(err) // a string, an int and plain data always encode
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	b.WriteString("}\n")
	return b.Bytes()
}

// replies is the queue of the guard's own responses, written by a
// goroutine of their own so that reading stdin never waits for stdout
// (unless maxQueuedReplies are waiting).
type replies struct {
	mu      sync.Mutex
	cond    *sync.Cond // signalled on every change
	q       [][]byte
	writing bool
	started bool
	stopped bool
	done    chan struct{}
}

func (g *Guard) reply(line []byte) {
	r := &g.rep
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.q) >= maxQueuedReplies && !r.stopped {
		r.cond.Wait()
	}
	if r.stopped {
		return
	}
	r.q = append(r.q, line)
	if !r.started {
		r.started, r.done = true, make(chan struct{})
		go g.writeReplies()
	}
	r.cond.Broadcast()
}

func (g *Guard) writeReplies() {
	r := &g.rep
	defer close(r.done)
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for len(r.q) == 0 && !r.stopped {
			r.cond.Wait()
		}
		if len(r.q) == 0 {
			return
		}
		line := r.q[0]
		r.q[0] = nil
		r.q = r.q[1:]
		r.writing = true
		r.cond.Broadcast()
		r.mu.Unlock()
		if err := g.out.inject(line); err != nil {
			g.log.Debug("could not write a response of the stdio guard", "err", err)
		}
		r.mu.Lock()
		r.writing = false
		r.cond.Broadcast()
	}
}

// drain waits until every queued response is written.
func (r *replies) drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.q) > 0 || r.writing {
		r.cond.Wait()
	}
}

// stop writes out the queued responses and drops later ones.
func (r *replies) stop() {
	r.mu.Lock()
	r.stopped = true
	r.cond.Broadcast()
	done := r.done
	r.mu.Unlock()
	if done != nil {
		<-done
	}
}

// --- stdout: restoring ids, dropping what must not be sent ---

// outgoing decides a line the server writes (without its newline): drop
// it, or write head and then line[tail:] in its place (head nil: the line
// as it is).
func (g *Guard) outgoing(line []byte) (drop bool, head []byte, tail int) {
	var id, method, params []byte
	var idStart, idEnd, paramsStart int
	result, hasErr := false, false
	// mcp-go writes "id" before "result": once both are seen, the line is a
	// response and its result, however large, need not be scanned.
	stop := func(key []byte) bool {
		result = result || keyIs(key, "result")
		return result && id != nil && method == nil
	}
	scanMembers(line, stop, func(m member) bool {
		switch {
		case keyIs(m.key, "id"):
			id, idStart, idEnd = line[m.start:m.end], m.start, m.end
		case keyIs(m.key, "method"):
			method = line[m.start:m.end]
		case keyIs(m.key, "params"):
			params, paramsStart = line[m.start:m.end], m.start
		case keyIs(m.key, "error"):
			hasErr = true
		}
		return method != nil || id == nil || (!result && !hasErr)
	})
	switch {
	case method != nil:
		if name, _ := jsonString(method); name == "notifications/progress" && params != nil {
			return g.progress(line, params, paramsStart)
		}
		if id != nil { // the server's own request to the client
			if k := idKey(id); k != "" {
				g.mu.Lock()
				g.serverReq.add(k)
				g.mu.Unlock()
			}
		}
	case id != nil && (result || hasErr):
		return g.response(line, id, idStart, idEnd, hasErr)
	}
	return false, nil, 0
}

// progress decides a progress notification: its token back to the
// client's, or dropped when its request was answered or cancelled.
func (g *Guard) progress(line, params []byte, paramsStart int) (bool, []byte, int) {
	start, end, ok := lastMember(params, func(k []byte) bool { return keyIs(k, "progressToken") })
	if !ok {
		return false, nil, 0
	}
	sur, ok := jsonString(params[start:end])
	if !ok || !strings.HasPrefix(sur, tokenPrefix) {
		return false, nil, 0 // not a token of the guard's
	}
	g.mu.Lock()
	req := g.byToken[sur]
	g.mu.Unlock()
	switch {
	case req == nil:
		g.log.Debug("dropped a progress notification after the result of its request", "token", sur)
		return true, nil, 0
	case req.cancelled:
		g.log.Debug("dropped a progress notification after its request was cancelled", "token", logID(req.token))
		return true, nil, 0
	}
	at := paramsStart + start
	return false, append(line[:at:at], req.token...), paramsStart + end
}

// response decides a response: its id back to the client's, or dropped
// when the client cancelled the request.
func (g *Guard) response(line, id []byte, idStart, idEnd int, hasErr bool) (bool, []byte, int) {
	sur, ok := jsonString(id)
	if !ok || !strings.HasPrefix(sur, idPrefix) {
		return false, nil, 0 // a null id (a parse error), or not a surrogate
	}
	g.mu.Lock()
	req := g.bySur[sur]
	if req != nil {
		g.finish(req)
	}
	g.mu.Unlock()
	switch {
	case req == nil:
		return false, nil, 0
	case req.cancelled:
		g.log.Debug("dropped a response to a cancelled request", "id", logID(req.id))
		return true, nil, 0
	}
	if hasErr && req.reword && g.opts.UnknownTool != nil {
		restored := make([]byte, 0, len(line)-(idEnd-idStart)+len(req.id))
		restored = append(append(append(restored, line[:idStart]...), req.id...), line[idEnd:]...)
		if out := g.rewordUnknownTool(restored, req.tool); out != nil {
			return false, out, len(line)
		}
	}
	return false, append(line[:idStart:idStart], req.id...), idEnd
}

// rewordUnknownTool returns line with the message of its error replaced by
// UnknownTool's, or nil to leave it.
func (g *Guard) rewordUnknownTool(line []byte, tool string) []byte {
	es, ee, ok := lastMember(line, func(k []byte) bool { return keyIs(k, "error") })
	if !ok {
		return nil
	}
	errv := line[es:ee]
	var code, msg []byte
	var msgStart, msgEnd int
	if !members(errv, func(m member) bool {
		switch {
		case keyIs(m.key, "code"):
			code = errv[m.start:m.end]
		case keyIs(m.key, "message"):
			msg, msgStart, msgEnd = errv[m.start:m.end], m.start, m.end
		}
		return true
	}) || msg == nil || msg[0] != '"' {
		return nil
	}
	if c, err := strconv.ParseFloat(string(code), 64); err != nil || c != CodeInvalidParams {
		return nil
	}
	text := g.opts.UnknownTool(tool)
	if text == "" {
		return nil
	}
	q := jsonQuote(text)
	out := make([]byte, 0, len(line)-(msgEnd-msgStart)+len(q))
	out = append(out, line[:es+msgStart]...)
	out = append(out, q...)
	return append(out, line[es+msgEnd:]...)
}

// quoteSurrogate returns a surrogate id or token (plain ASCII) as a JSON
// string.
func quoteSurrogate(s string) []byte {
	b := make([]byte, 0, len(s)+2)
	return append(append(append(b, '"'), s...), '"')
}

// jsonQuote returns s as a JSON string, without escaping HTML characters.
func jsonQuote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// logID renders a raw id or token for the log: a string's text, a
// number's digits, "" for none.
func logID(raw []byte) string {
	if s, ok := jsonString(raw); ok {
		return s
	}
	return shorten(raw)
}

// shorten returns raw as text, cut to 100 bytes.
func shorten(raw []byte) string {
	if len(raw) > 100 {
		return string(raw[:100]) + "…"
	}
	return string(raw)
}

// size renders n bytes: "64 MiB", "1.5 MiB", "900 bytes".
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// writer is the guarded stdout.
type writer struct {
	g        *Guard
	w        io.Writer
	mu       sync.Mutex // serialises writes: a line is decided and written as one step
	partial  []byte     // the start of a line split across writes
	through  bool       // the current line outgrew MaxLine: passed through uninspected
	deferred [][]byte   // the guard's responses waiting for the current line to end
	scratch  []byte
}

// smallLine is the size up to which a rewritten line is written with one
// write (copied); a longer one is written in two (no copy).
const smallLine = 64 << 10

// Write passes every complete line of p through, with ids and tokens
// restored, unless it must be dropped, and holds a trailing incomplete
// line until its newline arrives. It writes lines that pass unchanged in
// as few writes as possible (all of p at once when nothing changes).
func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rest := p
	if len(w.partial) > 0 || w.through {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return len(p), w.hold(p)
		}
		if w.through {
			w.through = false
			if _, err := w.w.Write(p[:i+1]); err != nil {
				return 0, err
			}
		} else {
			w.partial = append(w.partial, p[:i]...)
			err := w.emit(w.partial)
			w.partial = w.partial[:0]
			if cap(w.partial) > 1<<20 {
				w.partial = nil
			}
			if err != nil {
				return 0, err
			}
		}
		if err := w.writeDeferred(); err != nil {
			return i + 1, err
		}
		rest = p[i+1:]
	}
	done := len(p) - len(rest) // bytes of p written or dropped
	start, off := 0, 0         // rest[start:off] passes and is not written yet
	for {
		i := bytes.IndexByte(rest[off:], '\n')
		if i < 0 {
			break
		}
		line := rest[off : off+i]
		drop, head, tail := w.g.outgoing(line)
		if !drop && head == nil {
			off += i + 1
			continue
		}
		if off > start {
			if _, err := w.w.Write(rest[start:off]); err != nil {
				return done + start, err
			}
		}
		next := off + i + 1
		switch {
		case drop:
			start = next
		case len(head)+i-tail+1 <= smallLine:
			w.scratch = append(append(append(w.scratch[:0], head...), line[tail:]...), '\n')
			if _, err := w.w.Write(w.scratch); err != nil {
				return done + off, err
			}
			start = next
		default:
			if _, err := w.w.Write(head); err != nil {
				return done + off, err
			}
			start = off + tail // the rest of the line passes with what follows
		}
		off = next
	}
	if off > start {
		if _, err := w.w.Write(rest[start:off]); err != nil {
			return done + start, err
		}
	}
	if off < len(rest) {
		if err := w.hold(rest[off:]); err != nil {
			return done + off, err
		}
	}
	return len(p), nil
}

// hold keeps b, the start of a line, until its newline arrives; past
// MaxLine the line is passed through uninspected.
func (w *writer) hold(b []byte) error {
	if w.through {
		_, err := w.w.Write(b)
		return err
	}
	if len(w.partial)+len(b) <= w.g.opts.MaxLine {
		w.partial = append(w.partial, b...)
		return nil
	}
	w.through = true
	held := w.partial
	w.partial = nil
	if len(held) > 0 {
		if _, err := w.w.Write(held); err != nil {
			return err
		}
	}
	_, err := w.w.Write(b)
	return err
}

// emit decides line (without its newline) and writes it unless dropped.
func (w *writer) emit(line []byte) error {
	drop, head, tail := w.g.outgoing(line)
	if drop {
		return nil
	}
	if head == nil {
		head = line[:0]
	}
	buf := make([]byte, 0, len(head)+len(line)-tail+1)
	buf = append(append(append(buf, head...), line[tail:]...), '\n')
	_, err := w.w.Write(buf)
	return err
}

// inject writes a response of the guard's own, between the server's lines.
func (w *writer) inject(line []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 || w.through {
		w.deferred = append(w.deferred, line)
		return nil
	}
	_, err := w.w.Write(line)
	return err
}

func (w *writer) writeDeferred() error {
	for len(w.deferred) > 0 {
		line := w.deferred[0]
		w.deferred[0] = nil
		w.deferred = w.deferred[1:]
		if _, err := w.w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		if _, err := w.w.Write(w.partial); err != nil {
			return err
		}
		w.partial = nil
	}
	w.through = false
	return w.writeDeferred()
}

// --- bounded memory ---

// ring is a set that remembers its last n additions.
type ring struct {
	keys []string
	next int
	idx  map[string]int
}

func newRing(n int) *ring { return &ring{keys: make([]string, n), idx: make(map[string]int, n)} }

func (r *ring) add(k string) {
	if old := r.keys[r.next]; old != "" {
		if i, ok := r.idx[old]; ok && i == r.next {
			delete(r.idx, old)
		}
	}
	if i, ok := r.idx[k]; ok {
		r.keys[i] = "" // already there: move it to the newest slot
	}
	r.keys[r.next] = k
	r.idx[k] = r.next
	r.next = (r.next + 1) % len(r.keys)
}

func (r *ring) has(k string) bool { _, ok := r.idx[k]; return ok }

func (r *ring) remove(k string) { delete(r.idx, k) }
