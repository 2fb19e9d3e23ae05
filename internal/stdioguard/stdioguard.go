// Package stdioguard enforces, at the stdio transport, two MCP rules that
// mcp-go's stdio server does not:
//
//   - a notifications/progress never follows the result of its request.
//     mcp-go writes notifications from one goroutine and results from
//     others, so progress queued just before a handler returned can be
//     written after the result;
//   - after the client sends notifications/cancelled for a request, no
//     result and no further progress is sent for it (mcp-go cancels the
//     handler's context but still writes what the handler returns).
//
// A Guard wraps the server's stdin, to learn from each request its id and
// progress token (params._meta.progressToken, in both protocol eras) and
// from each notifications/cancelled the request it cancels, and its stdout,
// where it passes every complete line through unchanged unless the line
// must be dropped: a progress notification whose request was already
// answered or cancelled, or a response to a cancelled request. It also
// lets the caller reword the JSON-RPC error for an unknown tool.
//
// The guard never reorders lines, never holds a complete line back, and
// never waits for anything but the write it passes the line on to. Its
// memory is bounded: a request is forgotten once answered, and only a
// bounded number of recently finished progress tokens and cancelled ids is
// remembered for late arrivals.
package stdioguard

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
)

// Defaults of the Options bounds.
const (
	DefaultMaxInflight   = 10_000
	DefaultMaxRemembered = 4096
	DefaultMaxLine       = 64 << 20
)

// codeInvalidParams is the JSON-RPC error code mcp-go answers a tools/call
// for an unknown tool with.
const codeInvalidParams = -32602

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
	// never the content). nil: no logging.
	Logger *slog.Logger
	// MaxInflight bounds the number of unanswered requests tracked; past it
	// the oldest is forgotten (its lines then pass unchecked). Default
	// DefaultMaxInflight.
	MaxInflight int
	// MaxRemembered bounds the memory of recently finished progress tokens
	// and of cancellations of requests not in flight. Default
	// DefaultMaxRemembered.
	MaxRemembered int
	// MaxLine bounds how much of a line split across several reads or writes
	// is held to be inspected; a longer line is passed through uninspected.
	// Default DefaultMaxLine.
	MaxLine int
}

// Guard sits between an MCP stdio server and its stdin and stdout. Create
// one with New and give the server Stdin() and Stdout().
type Guard struct {
	opts Options
	log  *slog.Logger
	in   *reader
	out  *writer

	mu        sync.Mutex // guards the fields below; never held during I/O
	inflight  map[string]*request
	byToken   map[string]string // progress token → id of the request in flight
	order     []orderEntry      // inflight in arrival order, with stale entries
	head      int               // order[:head] is consumed
	seq       uint64
	doneTok   *ring // tokens of requests answered or cancelled
	cancelled *ring // ids cancelled while not in flight
}

// request is a request in flight.
type request struct {
	seq       uint64
	token     string // idKey of the progress token, or ""
	toolCall  bool   // a tools/call with a string or no params.name
	tool      string // its params.name
	cancelled bool
}

type orderEntry struct {
	id  string
	seq uint64
}

// New returns a Guard between stdin and stdout.
func New(stdin io.Reader, stdout io.Writer, opts Options) *Guard {
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = DefaultMaxInflight
	}
	if opts.MaxRemembered <= 0 {
		opts.MaxRemembered = DefaultMaxRemembered
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	g := &Guard{
		opts:      opts,
		log:       opts.Logger,
		inflight:  make(map[string]*request),
		byToken:   make(map[string]string),
		doneTok:   newRing(opts.MaxRemembered),
		cancelled: newRing(opts.MaxRemembered),
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.in = &reader{g: g, r: stdin}
	g.out = &writer{g: g, w: stdout}
	return g
}

// Stdin returns the reader to give the server in place of stdin.
func (g *Guard) Stdin() io.Reader { return g.in }

// Stdout returns the writer to give the server in place of stdout. It is
// safe for concurrent use by writers that each write whole lines, as
// mcp-go's do (a line one writer splits across writes must not be
// interleaved with another's, just as on a plain stdout).
func (g *Guard) Stdout() io.Writer { return g.out }

// Flush writes out a final line the server left without its newline (none
// is expected: every message ends with one).
func (g *Guard) Flush() error { return g.out.flush() }

// --- stdin: learning requests and cancellations ---

// reader passes stdin through unchanged and notes each complete line
// before the server can act on it.
type reader struct {
	g       *Guard
	r       io.Reader
	partial []byte // the start of a line split across reads
	skip    bool   // the current line outgrew MaxLine: not inspected
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.scan(p[:n])
	}
	return n, err
}

func (r *reader) scan(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if !r.skip {
				if len(r.partial)+len(b) > r.g.opts.MaxLine {
					r.partial, r.skip = nil, true
				} else {
					r.partial = append(r.partial, b...)
				}
			}
			return
		}
		switch {
		case r.skip:
			r.skip = false
		case len(r.partial) > 0:
			if len(r.partial)+i <= r.g.opts.MaxLine {
				r.partial = append(r.partial, b[:i]...)
				r.g.incoming(r.partial)
			}
			r.partial = r.partial[:0]
			if cap(r.partial) > 1<<20 {
				r.partial = nil // do not keep a huge buffer
			}
		default:
			r.g.incoming(b[:i])
		}
		b = b[i+1:]
	}
}

// incoming notes a line the client sent: a request, or a cancellation.
func (g *Guard) incoming(line []byte) {
	var id, method, params []byte
	answer := false
	if !members(line, func(m member) bool {
		switch {
		case keyIs(m.key, "id"):
			id = line[m.start:m.end]
		case keyIs(m.key, "method"):
			method = line[m.start:m.end]
		case keyIs(m.key, "params"):
			params = line[m.start:m.end]
		case keyIs(m.key, "result"), keyIs(m.key, "error"):
			answer = true // the client answering a request of the server's
		}
		return true
	}) || method == nil || answer {
		return
	}
	name, ok := jsonString(method)
	if !ok {
		return
	}
	if id == nil {
		if name == "notifications/cancelled" && params != nil {
			if k := idKey(field(params, "requestId")); k != "" {
				g.cancel(k)
			}
		}
		return
	}
	k := idKey(id)
	if k == "" {
		return // a null or malformed id: mcp-go treats it as a notification
	}
	req := &request{}
	if params != nil {
		if meta := field(params, "_meta"); meta != nil {
			req.token = idKey(field(meta, "progressToken"))
		}
	}
	if name == "tools/call" {
		var raw []byte
		if params != nil {
			raw = field(params, "name")
		}
		req.toolCall = true
		if raw != nil {
			req.tool, req.toolCall = jsonString(raw)
		}
	}
	g.track(k, req)
}

func (g *Guard) track(id string, req *request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old := g.inflight[id]; old != nil {
		g.untoken(id, old) // a client reusing an id in flight: the new one wins
	}
	g.cancelled.remove(id)
	g.seq++
	req.seq = g.seq
	g.inflight[id] = req
	g.order = append(g.order, orderEntry{id: id, seq: req.seq})
	if req.token != "" {
		g.byToken[req.token] = id
		g.doneTok.remove(req.token)
	}
	for len(g.inflight) > g.opts.MaxInflight {
		g.evictOldest()
	}
	if len(g.order) > 2*len(g.inflight)+64 {
		g.compact()
	}
}

// cancel marks the request id cancelled (the client sent
// notifications/cancelled for it).
func (g *Guard) cancel(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if req := g.inflight[id]; req != nil {
		req.cancelled = true
		return
	}
	// Not in flight: already answered (the result crossed the cancellation),
	// or never seen whole (a line over MaxLine). Remember it for a
	// response that may still come.
	g.cancelled.add(id)
}

// untoken removes the token of req, the request id, from byToken.
func (g *Guard) untoken(id string, req *request) {
	if req.token != "" && g.byToken[req.token] == id {
		delete(g.byToken, req.token)
	}
}

// evictOldest forgets the oldest request in flight.
func (g *Guard) evictOldest() {
	for g.head < len(g.order) {
		e := g.order[g.head]
		g.order[g.head] = orderEntry{}
		g.head++
		req := g.inflight[e.id]
		if req == nil || req.seq != e.seq {
			continue // answered, or its id reused
		}
		delete(g.inflight, e.id)
		g.untoken(e.id, req)
		if req.cancelled {
			g.cancelled.add(e.id)
			if req.token != "" {
				g.doneTok.add(req.token)
			}
		}
		return
	}
}

// compact drops the stale entries of order.
func (g *Guard) compact() {
	live := make([]orderEntry, 0, len(g.inflight)+16)
	for _, e := range g.order[g.head:] {
		if req := g.inflight[e.id]; req != nil && req.seq == e.seq {
			live = append(live, e)
		}
	}
	g.order, g.head = live, 0
}

// --- stdout: dropping what must not be sent ---

// verdict is what happens to an outgoing line.
type verdict int

const (
	pass verdict = iota
	drop
	replace
)

// outgoing decides the fate of a line the server writes (without its
// newline). For replace, it returns the new line.
func (g *Guard) outgoing(line []byte) (verdict, []byte) {
	var id, method, params, errv []byte
	result, errStart := false, 0
	// mcp-go writes "id" before "result": once both are seen, the line is a
	// response and its result, however large, need not be scanned.
	stop := func(key []byte) bool {
		result = result || keyIs(key, "result")
		return result && id != nil && method == nil
	}
	scanMembers(line, stop, func(m member) bool {
		switch {
		case keyIs(m.key, "id"):
			id = line[m.start:m.end]
		case keyIs(m.key, "method"):
			method = line[m.start:m.end]
		case keyIs(m.key, "params"):
			params = line[m.start:m.end]
		case keyIs(m.key, "error"):
			errv, errStart = line[m.start:m.end], m.start
		}
		return method != nil || id == nil || (!result && errv == nil)
	})
	switch {
	case method != nil:
		if name, _ := jsonString(method); name != "notifications/progress" || params == nil {
			return pass, nil
		}
		if tok := idKey(field(params, "progressToken")); tok != "" {
			return g.progress(tok), nil
		}
	case id != nil && (result || errv != nil):
		if k := idKey(id); k != "" {
			return g.response(line, k, errv, errStart)
		}
	}
	return pass, nil
}

// progress decides a progress notification for token.
func (g *Guard) progress(token string) verdict {
	g.mu.Lock()
	var why string
	if id, ok := g.byToken[token]; ok {
		if req := g.inflight[id]; req != nil && req.cancelled {
			why = "dropped a progress notification after its request was cancelled"
		}
	} else if g.doneTok.has(token) {
		why = "dropped a progress notification after the result of its request"
	}
	g.mu.Unlock()
	if why == "" {
		return pass
	}
	g.log.Debug(why, "token", logKey(token))
	return drop
}

// response decides the response to the request k (an idKey); errv is its
// error member's value, at errStart in line, if any.
func (g *Guard) response(line []byte, k string, errv []byte, errStart int) (verdict, []byte) {
	g.mu.Lock()
	req := g.inflight[k]
	cancelledElsewhere := false
	if req != nil {
		delete(g.inflight, k)
		g.untoken(k, req)
		if req.token != "" {
			g.doneTok.add(req.token)
		}
		if len(g.order) > 2*len(g.inflight)+64 {
			g.compact()
		}
	} else if g.cancelled.has(k) {
		g.cancelled.remove(k)
		cancelledElsewhere = true
	}
	g.mu.Unlock()
	if cancelledElsewhere || (req != nil && req.cancelled) {
		g.log.Debug("dropped a response to a cancelled request", "id", logKey(k))
		return drop, nil
	}
	if req != nil && req.toolCall && errv != nil && g.opts.UnknownTool != nil {
		if out := g.rewordUnknownTool(line, errv, errStart, req.tool); out != nil {
			return replace, out
		}
	}
	return pass, nil
}

// rewordUnknownTool returns line with the message of its error (errv, at
// off in line) replaced by UnknownTool's, or nil to leave it.
func (g *Guard) rewordUnknownTool(line, errv []byte, off int, tool string) []byte {
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
	if c, err := strconv.ParseFloat(string(code), 64); err != nil || c != codeInvalidParams {
		return nil
	}
	text := g.opts.UnknownTool(tool)
	if text == "" {
		return nil
	}
	var quoted bytes.Buffer
	enc := json.NewEncoder(&quoted)
	enc.SetEscapeHTML(false)
	if enc.Encode(text) != nil {
		return nil
	}
	q := bytes.TrimSuffix(quoted.Bytes(), []byte("\n"))
	out := make([]byte, 0, len(line)-(msgEnd-msgStart)+len(q))
	out = append(out, line[:off+msgStart]...)
	out = append(out, q...)
	return append(out, line[off+msgEnd:]...)
}

// logKey renders an idKey for the log: the string or the number.
func logKey(k string) string {
	if k == "" {
		return ""
	}
	return k[1:]
}

// writer is the guarded stdout.
type writer struct {
	g       *Guard
	w       io.Writer
	mu      sync.Mutex // serialises writes: a line is decided and written as one step
	partial []byte     // the start of a line split across writes
	through bool       // the current line outgrew MaxLine: passed through uninspected
}

// Write passes every complete line of p through unless it must be dropped,
// and holds a trailing incomplete line until its newline arrives. It writes
// the lines that pass in as few writes as possible (all of p at once when
// nothing is dropped).
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
		v, out := w.g.outgoing(line)
		if v == pass {
			off += i + 1
			continue
		}
		if off > start {
			if _, err := w.w.Write(rest[start:off]); err != nil {
				return done + start, err
			}
		}
		if v == replace {
			if _, err := w.w.Write(append(out, '\n')); err != nil {
				return done + off, err
			}
		}
		off += i + 1
		start = off
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
	v, out := w.g.outgoing(line)
	switch v {
	case drop:
		return nil
	case replace:
		line = out
	}
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
	_, err := w.w.Write(buf)
	return err
}

func (w *writer) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) == 0 {
		return nil
	}
	_, err := w.w.Write(w.partial)
	w.partial = nil
	return err
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
