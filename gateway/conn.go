package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/schema"
)

// writeTimeout bounds one frame write. A write that cannot finish in this
// time means the connection is unusable; coder/websocket then closes it.
const writeTimeout = 10 * time.Second

// runEventBuffer is how many events of one run may wait for the run's
// callback before further ones are dropped (progress is best effort).
const runEventBuffer = 256

// conn is one authenticated WebSocket connection to the gateway: one read
// loop, requests multiplexed by id, events routed to runs by runId.
type conn struct {
	ws       *websocket.Conn
	hello    schema.HelloOK
	scopes   []string // granted, or requested when the gateway does not say
	log      *slog.Logger
	warns    *warnLimiter // for warnings about what the gateway sends
	red      *redactor    // scrubs every frame, and gateway text bound for errors
	protocol int

	nextID     atomic.Uint64
	closing    atomic.Bool  // set by close: the end is deliberate
	closedByGw atomic.Bool  // the gateway closed it normally (1000 or 1001)
	lastFrame  atomic.Int64 // unix nanoseconds of the last inbound frame

	mu       sync.Mutex
	pending  map[string]*pendingCall
	runs     map[string]*runSub
	shutdown string // reason of a shutdown event, for the close error
	shutSeen bool   // a shutdown event arrived

	dead     chan struct{} // closed when the connection is unusable
	deadOnce sync.Once
	err      error // why it died; set before dead is closed
}

// pendingCall waits for the response(s) to one request. Agent requests get
// two frames (accepted, then final), so replies is buffered for both.
type pendingCall struct {
	replies chan *schema.InboundFrame
	multi   bool
}

// runSub receives the events of one agent run.
type runSub struct {
	events  chan schema.AgentEvent
	dropped atomic.Int64
}

// newConn returns the connection for ws after hello; o (from withDefaults)
// gives its logger, warning limiter and redactor.
func newConn(ws *websocket.Conn, hello schema.HelloOK, scopes []string, o Options) *conn {
	c := &conn{
		ws:       ws,
		hello:    hello,
		scopes:   scopes,
		protocol: hello.Protocol,
		log:      o.Logger,
		warns:    o.warns,
		red:      o.red,
		pending:  make(map[string]*pendingCall),
		runs:     make(map[string]*runSub),
		dead:     make(chan struct{}),
	}
	c.lastFrame.Store(time.Now().UnixNano())
	return c
}

// start runs the read loop and the liveness watchdog.
func (c *conn) start() {
	go c.readLoop()
	go c.watchdog(tickInterval(c.hello.Policy))
}

// tickInterval is the tick interval the watchdog uses: the announced one,
// clamped to minTickInterval..maxTickInterval (see there), or the default
// when none is announced.
func tickInterval(p schema.Policy) time.Duration {
	if p.TickIntervalMs <= 0 {
		return defaultTickInterval
	}
	ms := min(max(p.TickIntervalMs, minTickInterval.Milliseconds()), maxTickInterval.Milliseconds())
	return time.Duration(ms) * time.Millisecond
}

// isDead reports whether the connection can no longer be used.
func (c *conn) isDead() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

// fail marks the connection dead with err, wakes every waiter and closes the
// socket. Only the first call has an effect.
func (c *conn) fail(err error) {
	c.deadOnce.Do(func() {
		c.mu.Lock()
		if c.shutdown != "" {
			err = fmt.Errorf("%w (the gateway announced shutdown: %s)", err, c.shutdown)
		}
		c.err = err
		c.pending = map[string]*pendingCall{}
		c.mu.Unlock()
		close(c.dead)
		if c.closing.Load() {
			c.log.Debug("gateway connection closed", "err", err)
		} else {
			c.log.Warn("gateway connection lost", "err", err)
		}
		c.ws.CloseNow()
	})
}

// close ends the connection deliberately with a close frame.
func (c *conn) close(reason string) {
	c.closing.Store(true)
	done := make(chan struct{})
	go func() {
		_ = c.ws.Close(websocket.StatusNormalClosure, reason)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(500 * time.Millisecond):
	}
	c.fail(ErrClosed)
}

func (c *conn) readLoop() {
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			if isNormalClose(err) {
				c.closedByGw.Store(true)
			}
			c.fail(readError(err, c.red))
			return
		}
		c.lastFrame.Store(time.Now().UnixNano())
		c.handleFrame(typ, data)
	}
}

// isNormalClose reports whether a read failed because the gateway closed
// the connection with 1000 (normal closure) or 1001 (going away): it chose
// to close, and does not answer what it had not answered.
func isNormalClose(err error) bool {
	var ce websocket.CloseError
	return errors.As(err, &ce) && (ce.Code == websocket.StatusNormalClosure || ce.Code == websocket.StatusGoingAway)
}

// closedNormally reports whether the gateway ended the connection with a
// normal close, without announcing a shutdown: a request it had not
// answered by then may never have been read, and a fresh connection is
// likely to work.
func (c *conn) closedNormally() bool {
	if !c.isDead() || !c.closedByGw.Load() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.shutSeen
}

// handleFrame scrubs one inbound frame of the client's secrets (see
// redactor), decodes it and routes it to the call or run it belongs to.
// Anything it cannot use is dropped, with a warning (summarised when
// repeated: see warnLimiter).
func (c *conn) handleFrame(typ websocket.MessageType, data []byte) {
	if typ != websocket.MessageText {
		c.warns.warn("ignoring binary frame from gateway", "bytes", len(data))
		return
	}
	data = c.red.Frame(data)
	if c.handOver(data) {
		return
	}
	var f schema.InboundFrame
	if err := json.Unmarshal(data, &f); err != nil {
		c.warns.warn("ignoring malformed frame from gateway", "err", c.red.Text(err.Error()), "bytes", len(data))
		c.failMalformedResponse(data, err)
		return
	}
	switch f.Type {
	case schema.FrameResponse:
		c.dispatchResponse(&f)
	case schema.FrameEvent:
		c.dispatchEvent(&f)
	default:
		c.warns.warn("ignoring frame of unknown type from gateway", "type", c.red.Text(f.Type))
	}
}

// codeMalformedResponse is the error code of the reply a pending call gets
// when the gateway answered it with a response frame that does not decode
// (e.g. a string where the error object belongs): the call fails at once
// instead of waiting until its deadline for a reply that will never come.
const codeMalformedResponse = "MALFORMED_RESPONSE"

func isMalformed(f *schema.InboundFrame) bool {
	return !f.OK && f.Error != nil && f.Error.Code == codeMalformedResponse
}

// failMalformedResponse fails the pending call that an undecodable frame
// answers, if the frame is recognisably a response to one.
func (c *conn) failMalformedResponse(data []byte, decodeErr error) {
	var head struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(data, &head) != nil || head.Type != schema.FrameResponse || head.ID == "" {
		return
	}
	c.dispatchResponse(c.malformedReply(head.ID, decodeErr))
}

// malformedReply is the reply a call gets for a response it cannot decode.
func (c *conn) malformedReply(id string, decodeErr error) *schema.InboundFrame {
	return &schema.InboundFrame{Type: schema.FrameResponse, ID: id, Error: &schema.ErrorShape{
		Code:    codeMalformedResponse,
		Message: fmt.Sprintf("the gateway sent a response clawgate cannot decode (%s); is this gateway version supported?", c.red.Text(decodeErr.Error())),
	}}
}

// responseHead is how both gateway generations begin a response frame.
const responseHead = `{"type":"res","id":"`

// handOver passes a response to its caller undecoded, in Raw, when the
// frame begins like responseHead and is the call's last reply: the reply to
// an ordinary call, or an agent reply that cannot be the "accepted" one
// because neither the word nor a \u escape (which could spell it, as in
// "\u0061ccepted") occurs in it. The caller then decodes it once, payload
// straight into its result (see decodeReply), instead of this loop decoding
// the envelope and the caller the payload again: for a 40 KB sessions.list
// reply that halves clawgate's JSON work, and the decoding runs on the
// caller's goroutine. Everything else takes the general path, where the
// status is decoded (isAccepted), never matched as bytes.
func (c *conn) handOver(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte(responseHead))
	if !ok {
		return false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return false
	}
	id := string(rest[:end])
	c.mu.Lock()
	pc := c.pending[id]
	if pc == nil || (pc.multi && (bytes.Contains(data, []byte(schema.RunAccepted)) || bytes.Contains(data, []byte(`\u`)))) {
		c.mu.Unlock()
		return false
	}
	delete(c.pending, id)
	c.mu.Unlock()
	select {
	case pc.replies <- &schema.InboundFrame{Type: schema.FrameResponse, ID: id, Raw: data}:
	default:
		c.warns.warn("dropping extra response", "id", id)
	}
	return true
}

// decodeReply decodes a response handed over in f.Raw in one pass, its
// payload straight into out (which may be nil), and returns the frame
// without payload. A frame that does not decode that way is decoded as the
// read loop would have: an undecodable one becomes a malformed reply, one
// whose payload does not fit out keeps its payload, so that the caller's own
// decoding reports the error.
func (c *conn) decodeReply(f *schema.InboundFrame, out any) *schema.InboundFrame {
	if out == nil {
		out = new(json.RawMessage)
	}
	r := struct {
		OK      bool               `json:"ok"`
		Payload any                `json:"payload"`
		Error   *schema.ErrorShape `json:"error"`
	}{Payload: out}
	if err := json.Unmarshal(f.Raw, &r); err == nil {
		return &schema.InboundFrame{Type: f.Type, ID: f.ID, OK: r.OK, Error: r.Error}
	}
	var full schema.InboundFrame
	if err := json.Unmarshal(f.Raw, &full); err != nil {
		c.warns.warn("ignoring malformed frame from gateway", "err", c.red.Text(err.Error()), "bytes", len(f.Raw))
		return c.malformedReply(f.ID, err)
	}
	return &full
}

// readError turns a read failure into the error pending calls see; the
// close reason, gateway text, is scrubbed by red.
func readError(err error, red *redactor) error {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		if ce.Reason != "" {
			return fmt.Errorf("gateway closed the connection: %d %s", ce.Code, red.Text(ce.Reason))
		}
		return fmt.Errorf("gateway closed the connection: %d", ce.Code)
	case errors.Is(err, websocket.ErrMessageTooBig):
		return fmt.Errorf("gateway sent a frame larger than the read limit: %w", err)
	}
	return fmt.Errorf("gateway connection broke: %w", err)
}

func (c *conn) dispatchResponse(f *schema.InboundFrame) {
	c.mu.Lock()
	pc := c.pending[f.ID]
	if pc != nil && !(pc.multi && f.OK && isAccepted(f.Payload)) {
		delete(c.pending, f.ID)
	}
	c.mu.Unlock()
	if pc == nil {
		c.warns.note(slog.LevelDebug, "dropping response nobody waits for", "id", f.ID)
		return
	}
	select {
	case pc.replies <- f:
	default:
		c.warns.warn("dropping extra response", "id", f.ID)
	}
}

func isAccepted(payload json.RawMessage) bool {
	var s struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(payload, &s) == nil && s.Status == schema.RunAccepted
}

func (c *conn) dispatchEvent(f *schema.InboundFrame) {
	switch f.Event {
	case "agent":
	case "shutdown":
		var p struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(f.Payload, &p)
		p.Reason = c.red.Text(p.Reason)
		c.mu.Lock()
		c.shutdown, c.shutSeen = p.Reason, true
		c.mu.Unlock()
		c.warns.note(slog.LevelInfo, "gateway is shutting down", "reason", p.Reason)
		return
	default:
		return // tick, chat, health, presence, …: liveness only
	}
	var ev schema.AgentEvent
	if err := json.Unmarshal(f.Payload, &ev); err != nil || ev.RunID == "" {
		return
	}
	c.mu.Lock()
	sub := c.runs[ev.RunID]
	c.mu.Unlock()
	if sub == nil {
		return
	}
	select {
	case sub.events <- ev:
	default:
		sub.dropped.Add(1)
	}
}

// watchdog fails the connection when no frame arrived for two tick
// intervals (PROTOCOL.md §1.3).
func (c *conn) watchdog(tick time.Duration) {
	limit := 2 * tick
	t := time.NewTicker(max(tick/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
			idle := time.Since(time.Unix(0, c.lastFrame.Load()))
			if idle > limit {
				c.fail(fmt.Errorf("no frame from the gateway for %s (2 × tickIntervalMs): the gateway or the network stalled", idle.Round(time.Millisecond)))
				return
			}
		}
	}
}

// subscribe routes the events of runID to the returned subscription until
// unsubscribe.
func (c *conn) subscribe(runID string) *runSub {
	sub := &runSub{events: make(chan schema.AgentEvent, runEventBuffer)}
	c.mu.Lock()
	c.runs[runID] = sub
	c.mu.Unlock()
	return sub
}

func (c *conn) unsubscribe(runID string) {
	c.mu.Lock()
	delete(c.runs, runID)
	c.mu.Unlock()
}

// errNotSent wraps failures that happened before the request left the
// process, which makes a retry on a fresh connection safe.
type errNotSent struct{ err error }

func (e errNotSent) Error() string { return e.err.Error() }
func (e errNotSent) Unwrap() error { return e.err }

// send registers a pending call and writes the request frame.
func (c *conn) send(method string, params any, multi bool) (string, *pendingCall, error) {
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	data, err := json.Marshal(schema.RequestFrame{Type: schema.FrameRequest, ID: id, Method: method, Params: params})
	if err != nil {
		return "", nil, fmt.Errorf("encode %s request: %w", method, err)
	}
	if limit := c.hello.Policy.MaxPayload; limit > 0 && int64(len(data)) > limit {
		return "", nil, &FrameTooLargeError{Method: method, Size: len(data), Limit: limit}
	}
	pc := &pendingCall{replies: make(chan *schema.InboundFrame, 2), multi: multi}
	c.mu.Lock()
	if c.isDead() {
		c.mu.Unlock()
		return "", nil, errNotSent{&ConnLostError{Cause: c.err}}
	}
	c.pending[id] = pc
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		c.forget(id)
		werr := fmt.Errorf("write %s request: %w", method, err)
		c.fail(werr)
		return "", nil, errNotSent{&ConnLostError{Cause: werr}}
	}
	return id, pc, nil
}

// forget drops a pending call whose caller gave up; a late reply is ignored.
func (c *conn) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// await waits for the next frame of a pending call, the connection's death,
// or ctx. On ctx expiry it returns ctx.Err() and the caller decides what the
// timeout means.
func (c *conn) await(ctx context.Context, pc *pendingCall) (*schema.InboundFrame, error) {
	select {
	case f := <-pc.replies:
		return f, nil
	case <-c.dead:
		// A reply that raced with the close still counts.
		select {
		case f := <-pc.replies:
			return f, nil
		default:
		}
		return nil, &ConnLostError{Cause: c.err}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
