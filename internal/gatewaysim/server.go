package gatewaysim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// Server is a running fake gateway.
type Server struct {
	opts    Options
	prof    *profile
	tpl     *templates
	methods map[string]bool // features.methods of the recorded hello-ok
	store   *store
	runs    *runRegistry
	addr    string

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the fake starts

	mu          sync.Mutex
	httpSrv     *http.Server // nil while stopped
	closed      bool
	bootID      string
	bootedAt    time.Time
	boot        chan struct{} // closed by Stop/Close: kills the runs of this boot
	conns       map[int]*Conn
	nextConn    int
	handlers    map[string]HandlerFunc
	requests    []Request
	connects    []ConnectInfo
	silent      bool
	startupLeft int
	injected    map[string]int64 // EmitAgentEvent per-run seq

	seqMu     sync.Mutex // Clawdbot: global event seq allocation + fan-out
	globalSeq int64

	changes changes // wakes the Wait methods (wait.go)

	dev devices // device pairing (device.go)
}

type netConnKey struct{}

// Start starts a simulated gateway on 127.0.0.1 (random port); call Close
// when done. It is what clawgate --simulate runs.
func Start(opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	tpl, err := loadTemplates(opts.Generation)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gatewaysim: listen on 127.0.0.1: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:        opts,
		prof:        profileFor(opts.Generation),
		tpl:         tpl,
		runs:        newRunRegistry(),
		ctx:         ctx,
		cancel:      cancel,
		conns:       map[int]*Conn{},
		handlers:    map[string]HandlerFunc{},
		startupLeft: opts.StartupUnavailable,
		injected:    map[string]int64{},
		methods:     map[string]bool{},
	}
	s.store = newStore(opts.Generation, s.tpl, opts.Sessions)
	if ms, ok := sub(s.tpl.hello, "features")["methods"].([]any); ok {
		for _, m := range ms {
			if name, ok := m.(string); ok {
				s.methods[name] = true
			}
		}
	}
	s.addr = ln.Addr().String()
	s.serveOn(ln)
	if opts.TickInterval > 0 {
		s.goTracked(s.tickLoop)
	}
	return s, nil
}

// New is Start for tests, like httptest.NewServer: it panics when the
// simulator cannot start.
func New(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// URL returns the WebSocket URL, ws://127.0.0.1:PORT. It stays the same
// across Stop and Start.
func (s *Server) URL() string { return "ws://" + s.addr }

// Close stops the fake: it stops listening, drops every connection abruptly,
// cancels the runs and waits for all goroutines it started.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.Stop()
	s.cancel()
	s.wg.Wait()
}

// Stop simulates a killed gateway process: every connection is dropped
// without a close frame (clients see 1006), running agent runs vanish without
// a final response, and the port stops listening. The URL stays reserved for
// Start. The session store survives, like the real on-disk store.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.httpSrv
	s.httpSrv = nil
	if s.boot != nil {
		close(s.boot)
		s.boot = nil
	}
	conns := s.connList()
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	for _, c := range conns {
		c.Kill()
	}
	for _, r := range s.runs.active("", "") { // they end at once: wait, so Runs() is settled
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
		}
	}
}

// Start listens again on the same address after Stop, like a restarted
// gateway (new bootId, uptime from zero, idempotency cache cleared). It is a
// no-op while listening.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("gatewaysim: server closed")
	}
	running := s.httpSrv != nil
	s.mu.Unlock()
	if running {
		return nil
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger for a moment
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("gatewaysim: restart on %s: %w", s.addr, err)
	}
	s.runs.reset()
	s.serveOn(ln)
	return nil
}

// serveOn starts the HTTP server for one "boot" of the gateway.
func (s *Server) serveOn(ln net.Listener) {
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, netConnKey{}, c)
		},
	}
	s.mu.Lock()
	s.httpSrv = srv
	s.bootID = uuid.NewString()
	s.bootedAt = time.Now()
	s.boot = make(chan struct{})
	s.mu.Unlock()
	s.goTracked(func() { _ = srv.Serve(ln) })
}

// serveHTTP upgrades a request and serves the connection.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the real gateways accept any Origin and downgrade scopes instead
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	raw, _ := r.Context().Value(netConnKey{}).(net.Conn)
	ctx, cancel := context.WithCancel(s.ctx)
	c := &Conn{srv: s, ws: ws, raw: raw, origin: r.Header.Get("Origin") != "", connID: uuid.NewString(),
		ctx: ctx, cancel: cancel, dead: make(chan struct{}), wake: make(chan struct{}, 1), connectSeen: make(chan struct{})}
	s.mu.Lock()
	s.nextConn++
	c.id = s.nextConn
	s.conns[c.id] = c
	s.mu.Unlock()
	s.changed()
	s.logf("conn %d: open (origin header: %v)", c.id, c.origin)
	c.serve()
	s.logf("conn %d: gone", c.id)
}

// removeConn forgets a finished connection.
func (s *Server) removeConn(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c.id)
	s.mu.Unlock()
	s.changed()
}

// connList returns the live connections ordered by id; s.mu must be held.
func (s *Server) connList() []*Conn {
	list := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	return list
}

// DropConnections closes every live connection abruptly (no close frame) and
// keeps listening, like a network blip. Runs keep going.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	for _, c := range conns {
		c.Kill()
	}
}

// Shutdown imitates a gateway restart: every connection gets the event
// shutdown {reason} (Clawdbot adds restartExpectedMs: null, as recorded) and
// then close 1012 "service restart". The fake keeps listening; call Stop as
// well to make the restart take time.
func (s *Server) Shutdown(reason string) {
	payload := cloneObj(s.tpl.shutdown)
	payload["reason"] = reason
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	s.broadcast("shutdown", payload, "", conns)
	for _, c := range conns {
		c.Close(int(websocket.StatusServiceRestart), "service restart")
	}
}

// ConnCount returns the number of live connections (handshake done or not).
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Conns returns the live connections, in accept order.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connList()
}

// Handle overrides (or adds) the behaviour of a method: every later request
// of that method, on any connection, is passed to h instead of the built-in
// handler, before any scope check. h runs on its own goroutine (for
// "connect": on the connection's reader, before hello-ok) and may answer
// with the Conn methods, answer nothing, or call Conn.Default for the
// built-in answer. For "connect" only Conn.Default completes the handshake:
// a hand-made hello-ok leaves the fake waiting for a connect. A nil h
// restores the built-in behaviour.
func (s *Server) Handle(method string, h HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.handlers, method)
	} else {
		s.handlers[method] = h
	}
}

// handler returns the override for method, if any.
func (s *Server) handler(method string) HandlerFunc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handlers[method]
}

// Stall makes the fake never answer method (the request is still recorded).
func (s *Server) Stall(method string) {
	s.Handle(method, func(*Conn, Request) {})
}

// SilentHandshake makes connections accepted from now on silent: the
// WebSocket upgrade succeeds but no connect.challenge is sent and nothing is
// ever answered (no handshake timeout either), like a wedged gateway.
// Connections already open are unaffected. SetSilentHandshake(false) restores.
func (s *Server) SilentHandshake() { s.SetSilentHandshake(true) }

// SetSilentHandshake switches SilentHandshake on or off for later connections.
func (s *Server) SetSilentHandshake(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = on
}

func (s *Server) isSilent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.silent
}

// NoHelloReply makes the fake send connect.challenge but never answer the
// connect request (implemented with Handle("connect", ...)). Handle("connect",
// nil) restores the default.
func (s *Server) NoHelloReply() {
	s.Stall("connect")
}

// Requests returns every request received after a handshake, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsFor returns the received requests of one method.
func (s *Server) RequestsFor(method string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Connects returns one entry per connect request received, in arrival order.
func (s *Server) Connects() []ConnectInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnectInfo, len(s.connects))
	for i, ci := range s.connects {
		if ci.Scopes != nil {
			ci.Scopes = append([]string{}, ci.Scopes...)
		}
		out[i] = ci
	}
	return out
}

// Runs returns the agent runs the fake started, in start order.
func (s *Server) Runs() []RunInfo { return s.runs.infos() }

// SessionInfo describes one session of the fake's store.
type SessionInfo struct {
	// Key is the canonical session key, e.g. "agent:main:subagent:x".
	Key string
	// SessionID is the session's current id.
	SessionID string
	// Label is the stored label ("" if none): set by sessions.patch or by
	// an agent run's label param.
	Label string
	// Model is the "provider/model" the session's next run would use.
	Model string
	// Runs counts the session's finished runs, aborted ones included.
	Runs int
	// Running reports whether a run of the session is going.
	Running bool
}

// Sessions returns the sessions the fake's store holds (what sessions.list
// lists, unfiltered), most recently updated first.
func (s *Server) Sessions() []SessionInfo {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []SessionInfo
	for _, x := range st.sorted() {
		out = append(out, SessionInfo{Key: x.key, SessionID: x.sessionID, Label: x.label, Model: x.selected(),
			Runs: x.runs, Running: x.activeRun != ""})
	}
	return out
}

// Session returns the stored session key (short keys such as "main" are
// canonicalised), if the store holds it.
func (s *Server) Session(key string) (SessionInfo, bool) {
	key = canonicalKey(key)
	for _, x := range s.Sessions() {
		if x.Key == key {
			return x, true
		}
	}
	return SessionInfo{}, false
}

// EmitAgentEvent broadcasts an agent event for runID (which need not be a
// run of the fake, e.g. another client's run) to every connection allowed to
// see it. Its payload.seq counts the events injected for that runID, from 1.
func (s *Server) EmitAgentEvent(runID string, stream string, data any) {
	s.mu.Lock()
	s.injected[runID]++
	seq := s.injected[runID]
	s.mu.Unlock()
	payload := obj{"runId": runID, "stream": stream, "data": data, "seq": seq, "ts": nowMs()}
	if r := s.runs.get(runID); r != nil {
		payload["sessionKey"] = r.sessionKey
	}
	s.broadcastReady("agent", payload, scopeRead)
}

// recordRequest stores a request for Requests.
func (s *Server) recordRequest(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
	s.changed()
}

// goTracked runs f on a goroutine that Close waits for.
func (s *Server) goTracked(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// logf logs through Options.Logf.
func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf("gatewaysim[%v]: "+format, append([]any{s.opts.Generation}, args...)...)
	}
}

// maxPayload is the post-handshake read limit and policy.maxPayload.
func (s *Server) maxPayload() int {
	if s.opts.MaxPayload > 0 {
		return s.opts.MaxPayload
	}
	return s.prof.maxPayload
}

// handshakeTimeout is how long a connection may stay without connect.
func (s *Server) handshakeTimeout() time.Duration {
	if s.opts.HandshakeTimeout > 0 {
		return s.opts.HandshakeTimeout
	}
	return s.prof.handshakeTimeout
}

// tickLoop broadcasts tick events.
func (s *Server) tickLoop() {
	t := time.NewTicker(s.opts.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			payload := cloneObj(s.tpl.tick)
			payload["ts"] = nowMs()
			s.broadcastReady("tick", payload, "")
		}
	}
}

// broadcastReady sends an event to every connection past the handshake that
// may see it (OpenClaw: need is the scope required, "" = unrestricted;
// Clawdbot delivers agent, chat and tick events to every operator).
func (s *Server) broadcastReady(name string, payload any, need string) {
	s.mu.Lock()
	var conns []*Conn
	for _, c := range s.connList() {
		if c.isReady() {
			conns = append(conns, c)
		}
	}
	s.mu.Unlock()
	s.broadcast(name, payload, need, conns)
}

// broadcast sends an event to conns.
func (s *Server) broadcast(name string, payload any, need string, conns []*Conn) {
	raw := rawPayload(payload)
	if s.opts.Generation == Clawdbot {
		s.seqMu.Lock()
		defer s.seqMu.Unlock()
		s.globalSeq++
		for _, c := range conns {
			_ = c.enqueueEvent(name, raw, s.globalSeq, nil)
		}
		return
	}
	for _, c := range conns {
		if need == "" || c.hasScope(need) {
			_ = c.enqueueEvent(name, raw, 0, nil)
		}
	}
}

// sendEvent sends an event to one connection with the right seq.
func (s *Server) sendEvent(c *Conn, name string, payload json.RawMessage, done chan error) error {
	if s.opts.Generation == Clawdbot {
		s.seqMu.Lock()
		defer s.seqMu.Unlock()
		s.globalSeq++
		return c.enqueueEvent(name, payload, s.globalSeq, done)
	}
	return c.enqueueEvent(name, payload, 0, done)
}

// bootChan returns the channel closed when the current boot ends (Stop).
func (s *Server) bootChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.boot == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return s.boot
}
