package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"sync"
	"time"
)

// tap is a transparent loopback TCP proxy between one clawgate process and
// the gateway that timestamps WebSocket frames as they pass. It forwards each
// frame's bytes untouched before it looks at them, so it only adds one
// loopback copy per frame. With it, the time clawgate itself adds to a tool
// call can be measured exactly, without the gateway's own latency and its
// noise:
//
//	added = (request frame at the tap − tools/call written to stdin)
//	      + (response line read from stdout − final reply frame at the tap)
//
// The second term includes the tap's forwarding of that one frame, so the
// figure is an upper bound.
type tap struct {
	ln       net.Listener
	upstream string // host:port of the gateway

	mu    sync.Mutex
	sent  map[string]tapSent    // request id → request frame seen
	reply map[string]time.Time  // request id → final reply frame seen
	conns map[net.Conn]struct{} // open connections, closed by close

	// Kept across exchange: the sessions.delete requests in flight, how
	// long those that ended took, and the last agent request frame whole.
	dels      map[string]time.Time
	delsSent  int
	delTimes  samples
	lastAgent []byte
	agentRes  int           // size of the last final reply to an agent request
	changed   chan struct{} // closed and replaced when a sessions.delete ends
}

// tapSent is a request frame that passed the tap.
type tapSent struct {
	method string
	at     time.Time
}

// startTap listens on a free loopback port and forwards every connection to
// upstream.
func startTap(upstream string) (*tap, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &tap{ln: ln, upstream: upstream, sent: map[string]tapSent{}, reply: map[string]time.Time{}, conns: map[net.Conn]struct{}{},
		dels: map[string]time.Time{}, changed: make(chan struct{})}
	go t.accept()
	return t, nil
}

// url is the ws:// URL clawgate should dial.
func (t *tap) url() string { return "ws://" + t.ln.Addr().String() }

func (t *tap) accept() {
	for {
		down, err := t.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", t.upstream)
		if err != nil {
			down.Close()
			continue
		}
		t.mu.Lock()
		t.conns[down], t.conns[up] = struct{}{}, struct{}{}
		t.mu.Unlock()
		for _, c := range []net.Conn{down, up} {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetNoDelay(true)
			}
		}
		go t.pipe(down, up, true)
		go t.pipe(up, down, false)
	}
}

// close stops the tap and closes the connections through it.
func (t *tap) close() {
	t.ln.Close()
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.conns {
		c.Close()
	}
}

// pipe forwards src to dst: the HTTP upgrade head verbatim, then one
// WebSocket frame at a time, each observed after it was forwarded.
func (t *tap) pipe(src, dst net.Conn, fromClient bool) {
	defer src.Close()
	defer dst.Close()
	r := bufio.NewReaderSize(src, 64<<10)
	for { // HTTP head, up to the empty line
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		if _, err := dst.Write(line); err != nil {
			return
		}
		if len(line) <= 2 {
			break
		}
	}
	var msg []byte // text message being reassembled from fragments
	for {
		frame, payload, opcode, fin, err := readWSFrame(r)
		if err != nil {
			return
		}
		at := time.Now()
		if _, err := dst.Write(frame); err != nil {
			return
		}
		switch opcode {
		case 1:
			msg = append(msg[:0], payload...)
		case 0:
			msg = append(msg, payload...)
		default:
			continue
		}
		if fin {
			t.observe(msg, at, fromClient)
		}
	}
}

// readWSFrame reads one frame and returns its raw bytes (to forward) and its
// unmasked payload (to inspect).
func readWSFrame(r *bufio.Reader) (frame, payload []byte, opcode byte, fin bool, err error) {
	var h [14]byte
	if _, err = io.ReadFull(r, h[:2]); err != nil {
		return
	}
	fin, opcode = h[0]&0x80 != 0, h[0]&0x0f
	masked := h[1]&0x80 != 0
	n, hl := uint64(h[1]&0x7f), 2
	switch n {
	case 126:
		if _, err = io.ReadFull(r, h[2:4]); err != nil {
			return
		}
		n, hl = uint64(binary.BigEndian.Uint16(h[2:4])), 4
	case 127:
		if _, err = io.ReadFull(r, h[2:10]); err != nil {
			return
		}
		n, hl = binary.BigEndian.Uint64(h[2:10]), 10
	}
	if masked {
		if _, err = io.ReadFull(r, h[hl:hl+4]); err != nil {
			return
		}
		hl += 4
	}
	if n > 256<<20 {
		err = errors.New("frame too large for the tap")
		return
	}
	frame = make([]byte, hl+int(n))
	copy(frame, h[:hl])
	if _, err = io.ReadFull(r, frame[hl:]); err != nil {
		return
	}
	payload = frame[hl:]
	if masked {
		key := h[hl-4 : hl]
		payload = make([]byte, n)
		for i := range payload {
			payload[i] = frame[hl+i] ^ key[i%4]
		}
	}
	return
}

// observe records request frames and final reply frames (an agent's
// "accepted" reply is not final). It reads only the head of the frame, where
// clawgate puts type, id and method and the gateways put type, id, ok and the
// payload's status, so that the tap takes next to no CPU from clawgate on a
// small machine.
func (t *tap) observe(msg []byte, at time.Time, fromClient bool) {
	head := msg[:min(len(msg), 512)]
	typ, id := headField(head, "type"), headField(head, "id")
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case fromClient && typ == "req":
		method := headField(head, "method")
		t.sent[id] = tapSent{method: method, at: at}
		switch method {
		case "sessions.delete":
			t.dels[id] = at
			t.delsSent++
		case "agent":
			t.lastAgent = append(t.lastAgent[:0], msg...)
		}
	case !fromClient && typ == "res" && headField(head, "status") != "accepted":
		t.reply[id] = at
		if t.sent[id].method == "agent" {
			t.agentRes = len(msg)
		}
		if sent, ok := t.dels[id]; ok {
			delete(t.dels, id)
			t.delTimes = append(t.delTimes, at.Sub(sent))
			close(t.changed)
			t.changed = make(chan struct{})
		}
	}
}

// waitDeletes waits until n sessions.delete requests in all have passed the
// tap and been answered, and returns how long each took on the gateway, in
// the order they ended.
func (t *tap) waitDeletes(ctx context.Context, n int) (samples, error) {
	for {
		t.mu.Lock()
		done, ch := len(t.delTimes), t.changed
		t.mu.Unlock()
		if done >= n {
			t.mu.Lock()
			defer t.mu.Unlock()
			return slices.Clone(t.delTimes), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.mu.Lock()
			sent := t.delsSent
			t.mu.Unlock()
			return nil, fmt.Errorf("%d sessions.delete requests expected, %d sent, %d answered: %w", n, sent, done, ctx.Err())
		}
	}
}

// deletesSent is how many sessions.delete requests have passed the tap.
func (t *tap) deletesSent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.delsSent
}

// agentReplyBytes is the size of the last final reply to an agent request.
func (t *tap) agentReplyBytes() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.agentRes
}

// agentRequest is the last agent request frame that passed the tap, whole.
func (t *tap) agentRequest() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.lastAgent)
}

// headFields match the string fields observe reads.
var headFields = map[string]*regexp.Regexp{}

func init() {
	for _, k := range []string{"type", "id", "method", "status"} {
		headFields[k] = regexp.MustCompile(`"` + k + `"\s*:\s*"([^"]*)"`)
	}
}

// headField returns the first string value of "key" in head, or "".
func headField(head []byte, key string) string {
	m := headFields[key].FindSubmatch(head)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// exchange returns when the last request of method passed the tap and when
// its final reply did, and forgets all recorded frames. The tap records a
// frame just after forwarding it, so it waits a moment for a reply that
// clawgate may have answered before the tap finished looking at it.
func (t *tap) exchange(method string) (sent, replied time.Time, err error) {
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		sent, replied, err = t.lookup(method)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	t.mu.Lock()
	clear(t.sent)
	clear(t.reply)
	t.mu.Unlock()
	return sent, replied, err
}

func (t *tap) lookup(method string) (sent, replied time.Time, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var id string
	for k, s := range t.sent {
		if s.method == method && s.at.After(sent) {
			id, sent = k, s.at
		}
	}
	if id == "" {
		return sent, replied, fmt.Errorf("tap saw no %s request", method)
	}
	replied, ok := t.reply[id]
	if !ok {
		return sent, replied, fmt.Errorf("tap saw no reply to %s request %s", method, id)
	}
	return sent, replied, nil
}
