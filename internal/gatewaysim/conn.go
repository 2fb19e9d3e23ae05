package gatewaysim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// errConnClosed is returned by Conn methods once the connection is closing.
var errConnClosed = errors.New("gatewaysim: connection closed")

// writeTimeout bounds one frame write to a client.
const writeTimeout = 10 * time.Second

// Conn is one client connection on the fake. All its methods are safe for
// concurrent use; frames are written in the order the calls were made.
type Conn struct {
	srv    *Server
	id     int
	ws     *websocket.Conn
	raw    net.Conn // the TCP connection under ws, for abrupt kills
	origin bool
	connID string

	ctx    context.Context // canceled when the connection is killed
	cancel context.CancelFunc
	dead   chan struct{} // closed when the writer goroutine has exited

	connectSeen chan struct{} // closed when a connect request arrives (stops the handshake timer)
	seenOnce    sync.Once

	qmu     sync.Mutex
	queue   []outItem
	wake    chan struct{}
	closing bool  // a close frame is queued, or the connection was killed
	killed  bool  // Kill was called
	seq     int64 // v4: per-connection event seq

	smu        sync.Mutex
	ready      bool // hello-ok sent
	connectIdx int  // index into Server.connects
	scopes     []string
	caps       []string // the connect request's caps
	nonce      string   // the connect.challenge nonce
	deviceID   string   // the verified device of the connect ("" if none)
}

// outItem is one queued frame, or a close.
type outItem struct {
	data  []byte
	close *websocket.CloseError
	done  chan error // nil: nobody waits
}

// resFrame is a res frame.
type resFrame struct {
	Type    string          `json:"type"`
	ID      any             `json:"id"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *ErrorShape     `json:"error,omitempty"`
}

// eventFrame is an event frame.
type eventFrame struct {
	Type    string          `json:"type"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Seq     *int64          `json:"seq,omitempty"`
}

// ID returns the connection number (1, 2, ... in accept order); Request.Conn
// and ConnectInfo.Conn refer to it.
func (c *Conn) ID() int { return c.id }

// Scopes returns the effective scopes granted at connect (nil before hello-ok).
func (c *Conn) Scopes() []string {
	c.smu.Lock()
	defer c.smu.Unlock()
	return append([]string(nil), c.scopes...)
}

// Reply sends a successful res frame for request id.
func (c *Conn) Reply(id string, payload any) error {
	return c.send(mustJSON(resFrame{Type: "res", ID: id, OK: true, Payload: rawPayload(payload)}))
}

// ReplyError sends a failed res frame for request id.
func (c *Conn) ReplyError(id string, e ErrorShape) error {
	return c.send(mustJSON(resFrame{Type: "res", ID: id, Error: &e}))
}

// ReplyFrame sends frame (any JSON value, typically a hand-made res frame such
// as ok:false with both payload and error) as one text frame.
func (c *Conn) ReplyFrame(frame any) error {
	return c.send(mustJSON(frame))
}

// Event sends an event frame to this connection only, numbered with the
// fake's seq counter (per connection on OpenClaw, global on Clawdbot).
func (c *Conn) Event(name string, payload any) error {
	done := make(chan error, 1)
	if err := c.srv.sendEvent(c, name, rawPayload(payload), done); err != nil {
		return err
	}
	return c.wait(done)
}

// WriteRaw sends b unchanged as one text frame (malformed JSON, huge frames, ...).
func (c *Conn) WriteRaw(b []byte) error {
	return c.send(append([]byte(nil), b...))
}

// Close queues a close frame with code and reason after the frames already
// queued; the close handshake finishes in the background. The reason is
// truncated to 120 bytes like the real gateways do.
func (c *Conn) Close(code int, reason string) {
	_ = c.enqueue(outItem{close: &websocket.CloseError{Code: websocket.StatusCode(code), Reason: truncateReason(reason)}})
}

// Kill drops the connection abruptly: the TCP connection is closed without a
// close frame, so the client sees 1006.
func (c *Conn) Kill() {
	c.qmu.Lock()
	c.killed, c.closing = true, true
	c.qmu.Unlock()
	c.cancel()
	if c.raw != nil {
		_ = c.raw.Close()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// isReady reports whether hello-ok was sent.
func (c *Conn) isReady() bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.ready
}

// hasScope reports whether the connection's scopes satisfy need.
func (c *Conn) hasScope(need string) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return scopesSatisfy(c.srv.opts.Generation, c.scopes, need)
}

// hasCap reports whether the connect request listed the client cap.
func (c *Conn) hasCap(name string) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return contains(c.caps, name)
}

// isClosing reports whether a close is queued or the connection was killed.
func (c *Conn) isClosing() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.closing
}

// rawPayload marshals a payload (nil stays absent).
func rawPayload(payload any) json.RawMessage {
	if payload == nil {
		return nil
	}
	if r, ok := payload.(json.RawMessage); ok {
		return r
	}
	return mustJSON(payload)
}

// send queues data and waits until it was written.
func (c *Conn) send(data []byte) error {
	done := make(chan error, 1)
	if err := c.enqueue(outItem{data: data, done: done}); err != nil {
		return err
	}
	return c.wait(done)
}

// sendAsync queues data without waiting.
func (c *Conn) sendAsync(data []byte) { _ = c.enqueue(outItem{data: data}) }

// replyAsync queues a res frame without waiting.
func (c *Conn) replyAsync(id string, payload any) {
	c.sendAsync(mustJSON(resFrame{Type: "res", ID: id, OK: true, Payload: rawPayload(payload)}))
}

// replyErrAsync queues a failed res frame without waiting.
func (c *Conn) replyErrAsync(id any, e *ErrorShape) {
	c.sendAsync(mustJSON(resFrame{Type: "res", ID: id, Error: e}))
}

// wait waits for a queued item to be written.
func (c *Conn) wait(done chan error) error {
	select {
	case err := <-done:
		return err
	case <-c.dead:
		select {
		case err := <-done:
			return err
		default:
			return errConnClosed
		}
	}
}

// enqueue appends an item to the write queue.
func (c *Conn) enqueue(it outItem) error {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return errConnClosed
	}
	if it.close != nil {
		c.closing = true
	}
	c.queue = append(c.queue, it)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// enqueueEvent queues an event frame; seq is the Clawdbot global seq, or 0 to
// take the next per-connection seq (OpenClaw). Allocation and queueing happen
// under one lock so seq numbers reach the client in order.
func (c *Conn) enqueueEvent(name string, payload json.RawMessage, seq int64, done chan error) error {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return errConnClosed
	}
	if seq == 0 {
		c.seq++
		seq = c.seq
	}
	c.queue = append(c.queue, outItem{data: mustJSON(eventFrame{Type: "event", Event: name, Payload: payload, Seq: &seq}), done: done})
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// next pops the next queued item; false once the connection is killed.
func (c *Conn) next() (outItem, bool) {
	for {
		c.qmu.Lock()
		if c.killed {
			c.qmu.Unlock()
			return outItem{}, false
		}
		if len(c.queue) > 0 {
			it := c.queue[0]
			c.queue = c.queue[1:]
			c.qmu.Unlock()
			return it, true
		}
		c.qmu.Unlock()
		<-c.wake
	}
}

// writeLoop writes queued frames until a close or kill.
func (c *Conn) writeLoop() {
	defer func() {
		c.qmu.Lock()
		for _, it := range c.queue {
			if it.done != nil {
				it.done <- errConnClosed
			}
		}
		c.queue, c.closing = nil, true
		c.qmu.Unlock()
		close(c.dead)
	}()
	for {
		it, ok := c.next()
		if !ok {
			return
		}
		if it.close != nil {
			_ = c.ws.Close(it.close.Code, it.close.Reason)
			return
		}
		ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
		err := c.ws.Write(ctx, websocket.MessageText, it.data)
		cancel()
		if it.done != nil {
			it.done <- err
		}
		if err != nil {
			c.Kill()
			return
		}
	}
}

// readMessage reads one message, enforcing the read limit of the current
// phase (closing with 1009 and an empty reason like the real gateways).
func (c *Conn) readMessage() ([]byte, error) {
	limit := c.srv.maxPayload()
	if !c.isReady() {
		limit = min(limit, c.srv.prof.preauthLimit)
	}
	_, r, err := c.ws.Reader(c.ctx)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		c.srv.logf("conn %d: frame larger than %d bytes, closing 1009", c.id, limit)
		c.Close(int(websocket.StatusMessageTooBig), "")
		return nil, errConnClosed
	}
	return data, nil
}

// serve runs the connection: challenge, handshake, then requests. It returns
// when the connection is gone.
func (c *Conn) serve() {
	go c.writeLoop()
	defer c.cleanup()
	c.ws.SetReadLimit(-1)
	if c.srv.isSilent() {
		c.srv.logf("conn %d: silent handshake", c.id)
		for {
			if _, err := c.readMessage(); err != nil {
				return
			}
		}
	}
	c.sendChallenge()
	c.srv.goTracked(c.handshakeTimer)
	for {
		data, err := c.readMessage()
		if err != nil {
			return
		}
		if c.isClosing() {
			continue
		}
		c.handleMessage(data)
	}
}

// cleanup waits for a queued close handshake, then drops the connection.
func (c *Conn) cleanup() {
	if c.isClosing() {
		select {
		case <-c.dead:
		case <-time.After(2*writeTimeout + time.Second):
		}
	}
	c.Kill()
	<-c.dead
	_ = c.ws.CloseNow()
	c.srv.removeConn(c)
}

// handleMessage handles one inbound message.
func (c *Conn) handleMessage(data []byte) {
	ready := c.isReady()
	v, err := parseOrdered(data)
	if err != nil {
		if !ready {
			c.Close(int(websocket.StatusNormalClosure), "") // what both gateways do with non-JSON
		}
		return // after the handshake the real gateways ignore non-JSON
	}
	if msg := c.srv.prof.val.checkValue(c.srv.prof.frame, v); msg != "" {
		if !ready {
			c.Close(int(websocket.StatusPolicyViolation), "invalid request frame")
			return
		}
		var id any = "invalid"
		if idv := v.get("id"); idv != nil && (idv.kind == jString || idv.kind == jNumber) {
			id = idv.s
			if idv.kind == jNumber {
				id = idv.n
			}
		}
		c.replyErrAsync(id, invalid("invalid request frame: "+msg))
		return
	}
	var f struct {
		ID     string          `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	_ = json.Unmarshal(data, &f)
	req := Request{ID: f.ID, Method: f.Method, Params: f.Params, Conn: c.id}
	if !ready {
		if f.Method != "connect" {
			msg := "invalid handshake: first request must be connect"
			c.replyErrAsync(f.ID, invalid(msg))
			c.Close(int(websocket.StatusPolicyViolation), msg)
			return
		}
		c.seenOnce.Do(func() { close(c.connectSeen) })
		c.srv.dispatchConnect(c, req)
		return
	}
	c.srv.recordRequest(req)
	c.srv.goTracked(func() { c.srv.dispatch(c, req) })
}

// handshakeTimer closes a connection that sends no connect in time (with
// 1000 and no reason, as recorded).
func (c *Conn) handshakeTimer() {
	t := time.NewTimer(c.srv.handshakeTimeout())
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.connectSeen:
		return
	case <-c.ctx.Done():
		return
	}
	c.srv.logf("conn %d: handshake timeout", c.id)
	c.Close(int(websocket.StatusNormalClosure), "")
}

// truncateReason truncates a close reason to 120 bytes (the gateways'
// truncateCloseReason), keeping valid UTF-8.
func truncateReason(s string) string {
	const maxBytes = 120
	if len(s) <= maxBytes {
		return s
	}
	s = s[:maxBytes]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
