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

// conn is one authenticated WebSocket connection to the gateway. It knows
// envelopes, not methods: one read loop routes each response frame,
// undecoded, to the pending call with its id, and each agent event to the
// run with its runId. What a response means, and whether more are to come
// for the same request, is the caller's business (see pendingCall).
type conn struct {
	ws       *websocket.Conn
	hello    schema.HelloOK
	caps     Capabilities // what the gateway can do, from hello (see Capabilities)
	scopes   []string     // granted, or requested when the gateway does not say
	log      *slog.Logger
	warns    *warnLimiter    // for warnings about what the gateway sends
	red      *redactor       // scrubs every frame, and gateway text bound for errors
	facts    errorFacts      // what an Error built on this connection says about it
	life     context.Context // the client's lifetime (see Client.life)
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

// pendingCall is a request waiting for its response frames. The read loop
// delivers each frame that carries the request's id to frames, undecoded
// (scrubbed of secrets), in order; the caller decodes it, once, payload
// straight into its result (see decodeResponse). A call sent with stream
// false expects one frame: the read loop forgets it once the frame is
// delivered. A stream call (agent: "accepted", then the final result, or a
// terminal first frame) gets every frame with its id until its caller,
// which alone knows what the frames mean, says it is done (forget).
type pendingCall struct {
	frames chan []byte
	stream bool
}

// pendingFrames is how many response frames of one call may wait for their
// caller; more are dropped with a warning. Two hold an agent request's
// acceptance and its final result.
const pendingFrames = 2

// runSub receives the events of one agent run.
type runSub struct {
	events  chan schema.AgentEvent
	dropped atomic.Int64
}

// newConn returns the connection for ws after hello; o (from withDefaults)
// gives its logger, warning limiter and redactor.
func newConn(ws *websocket.Conn, hello schema.HelloOK, scopes []string, o Options) *conn {
	caps := capabilitiesOf(hello.Protocol)
	c := &conn{
		ws:       ws,
		hello:    hello,
		caps:     caps,
		facts:    o.errorFacts(&caps),
		scopes:   scopes,
		protocol: hello.Protocol,
		log:      o.Logger,
		warns:    o.warns,
		red:      o.red,
		life:     o.life,
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

// closeHandshakeWait bounds how long close waits for the gateway to answer
// the close frame.
const closeHandshakeWait = 500 * time.Millisecond

// close ends the connection deliberately with a close frame, waiting up to
// closeHandshakeWait for the gateway's answer.
func (c *conn) close(reason string) {
	c.closing.Store(true)
	done := make(chan struct{})
	go func() {
		_ = c.ws.Close(websocket.StatusNormalClosure, reason)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeHandshakeWait):
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
// redactor) and routes it by its envelope: a response to the call with its
// id, undecoded (the caller decodes it, see decodeResponse), an event to
// dispatchEvent. Anything it cannot route is dropped, with a warning
// (summarised when repeated: see warnLimiter).
func (c *conn) handleFrame(typ websocket.MessageType, data []byte) {
	if typ != websocket.MessageText {
		c.warns.warn("ignoring binary frame from gateway", "bytes", len(data))
		return
	}
	data = c.red.Frame(data)
	if id, ok := responseID(data); ok {
		c.deliver(id, data)
		return
	}
	var env struct {
		Type    string          `json:"type"`
		ID      string          `json:"id"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		// A response whose type and id decode still belongs to its call
		// (a type error leaves the other fields decoded): the caller's
		// decoding says what is wrong with it, at once, instead of the call
		// waiting until its deadline for a reply that will never come.
		if env.Type == schema.FrameResponse && env.ID != "" && c.deliver(env.ID, data) {
			return
		}
		c.warns.warn("ignoring malformed frame from gateway", "err", c.red.Text(err.Error()), "bytes", len(data))
		return
	}
	switch env.Type {
	case schema.FrameResponse:
		c.deliver(env.ID, data)
	case schema.FrameEvent:
		c.dispatchEvent(env.Event, env.Payload)
	default:
		c.warns.warn("ignoring frame of unknown type from gateway", "type", c.red.Text(env.Type))
	}
}

// responseHead is how both gateway generations begin a response frame.
const responseHead = `{"type":"res","id":"`

// responseID returns the id of a response frame that begins like
// responseHead and whose id has no escape, without decoding the frame: the
// caller decodes it once, payload straight into its result, instead of
// this loop decoding the envelope and the caller the payload again (for a
// 40 KB sessions.list reply that halves clawgate's JSON work), and the
// decoding runs on the caller's goroutine. Other frames are decoded here.
func responseID(data []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(responseHead))
	if !ok {
		return "", false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return "", false
	}
	return string(rest[:end]), true
}

// deliver passes a response frame to the pending call with its id and
// reports whether one was waiting. A call that expects one frame is
// forgotten once it has it; a stream call stays until its caller forgets
// it. A frame beyond what the call's buffer holds is dropped.
func (c *conn) deliver(id string, frame []byte) bool {
	c.mu.Lock()
	pc := c.pending[id]
	if pc != nil && !pc.stream {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	if pc == nil {
		c.warns.note(slog.LevelDebug, "dropping response nobody waits for", "id", id)
		return false
	}
	select {
	case pc.frames <- frame:
	default:
		c.warns.warn("dropping extra response", "id", id)
	}
	return true
}

// codeMalformedResponse is the error code of the response a call gets when
// the gateway answered it with a frame that does not decode (e.g. a string
// where the error object belongs): the call fails at once instead of
// waiting until its deadline for a reply that will never come.
const codeMalformedResponse = "MALFORMED_RESPONSE"

// response is a decoded response frame. Payload is set only when the
// payload did not fit the caller's result: decoding it again says why.
type response struct {
	OK      bool
	Error   *schema.ErrorShape
	Payload json.RawMessage
}

// malformed reports whether the frame did not decode at all.
func (r *response) malformed() bool {
	return !r.OK && r.Error != nil && r.Error.Code == codeMalformedResponse
}

// decodeResponse decodes a response frame in one pass, its payload straight
// into out (nil: the payload is not needed). A frame that does not decode
// that way is decoded again as a whole: one that still does not is
// malformed (a failed response with codeMalformedResponse, whose message
// says so), one whose payload does not fit out keeps its payload, so that
// the caller's own decoding reports the error.
func (c *conn) decodeResponse(frame []byte, out any) response {
	var err error
	if out == nil {
		var r struct {
			OK    bool               `json:"ok"`
			Error *schema.ErrorShape `json:"error"`
		}
		if err = json.Unmarshal(frame, &r); err == nil {
			return response{OK: r.OK, Error: r.Error}
		}
	} else {
		r := struct {
			OK      bool               `json:"ok"`
			Payload any                `json:"payload"`
			Error   *schema.ErrorShape `json:"error"`
		}{Payload: out}
		if json.Unmarshal(frame, &r) == nil {
			return response{OK: r.OK, Error: r.Error}
		}
		var full struct {
			OK      bool               `json:"ok"`
			Payload json.RawMessage    `json:"payload"`
			Error   *schema.ErrorShape `json:"error"`
		}
		if err = json.Unmarshal(frame, &full); err == nil {
			return response{OK: full.OK, Error: full.Error, Payload: full.Payload}
		}
	}
	c.warns.warn("ignoring malformed frame from gateway", "err", c.red.Text(err.Error()), "bytes", len(frame))
	return response{Error: &schema.ErrorShape{
		Code:    codeMalformedResponse,
		Message: fmt.Sprintf("the gateway sent a response clawgate cannot decode (%s); is this gateway version supported?", c.red.Text(err.Error())),
	}}
}

// readError turns a read failure into the error pending calls see; the
// close reason, gateway text, is scrubbed by red.
func readError(err error, red *redactor) error {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return &ClosedError{Code: int(ce.Code), Reason: red.Text(ce.Reason)}
	case errors.Is(err, websocket.ErrMessageTooBig):
		return fmt.Errorf("gateway sent a frame larger than the read limit: %w", err)
	}
	return fmt.Errorf("gateway connection broke: %w", err)
}

// dispatchEvent routes an agent event to the run it belongs to and notes a
// shutdown announcement; other events only count as signs of life.
func (c *conn) dispatchEvent(event string, payload json.RawMessage) {
	switch event {
	case "agent":
	case "shutdown":
		var p struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(payload, &p)
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
	if err := json.Unmarshal(payload, &ev); err != nil || ev.RunID == "" {
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
// intervals (docs/protocol.md §1.3).
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

// send registers a pending call and writes the request frame. A stream
// call gets every response frame with its id until the caller forgets it;
// any other call gets one.
func (c *conn) send(method string, params any, stream bool) (string, *pendingCall, error) {
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	data, err := json.Marshal(schema.RequestFrame{Type: schema.FrameRequest, ID: id, Method: method, Params: params})
	if err != nil {
		return "", nil, fmt.Errorf("encode %s request: %w", method, err)
	}
	if limit := c.hello.Policy.MaxPayload; limit > 0 && int64(len(data)) > limit {
		return "", nil, &FrameTooLargeError{Method: method, Size: len(data), Limit: limit}
	}
	pc := &pendingCall{frames: make(chan []byte, pendingFrames), stream: stream}
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

// forget drops a pending call whose caller has what it waited for, or gave
// up; a late response is ignored.
func (c *conn) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// await waits for the next response frame of a pending call, the
// connection's death, or ctx. When ctx ends it returns ctx.Err() and the
// caller decides what the timeout means; when it ends because the client
// was closed, ErrClosed (see ctxErr).
func (c *conn) await(ctx context.Context, pc *pendingCall) ([]byte, error) {
	select {
	case f := <-pc.frames:
		return f, nil
	case <-c.dead:
		// A response that raced with the close still counts.
		select {
		case f := <-pc.frames:
			return f, nil
		default:
		}
		return nil, &ConnLostError{Cause: c.err}
	case <-ctx.Done():
		return nil, c.ctxErr(ctx)
	}
}

// ctxErr is what a wait on ctx returns when ctx ends: ErrClosed when the
// client's lifetime has ended (ctx derives from it: see Client.bound),
// else ctx.Err(), which the caller turns into a timeout or passes on as
// the cancellation.
func (c *conn) ctxErr(ctx context.Context) error {
	if c.life.Err() != nil {
		return ErrClosed
	}
	return ctx.Err()
}
