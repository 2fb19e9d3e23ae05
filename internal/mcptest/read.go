package mcptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// inboxEntry is what Next returns next: a message, or a garbage line.
type inboxEntry struct {
	msg     *Message
	garbage string
}

// readLoop reads newline-delimited messages from the server's stdout.
func (c *Client) readLoop(r io.Reader) {
	defer close(c.readDone)
	defer func() {
		if c.stdout != nil {
			c.stdout.Close()
		}
	}()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			c.handleLine(bytes.TrimRight(line, "\r\n"))
		}
		if err != nil {
			c.mu.Lock()
			c.eof, c.readErr = true, err
			for id, call := range c.pending {
				delete(c.pending, id)
				close(call.done)
			}
			c.wake()
			c.mu.Unlock()
			return
		}
	}
}

// wake wakes Next and WaitNotification; c.mu must be held.
func (c *Client) wake() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Client) handleLine(line []byte) {
	now := time.Now()
	m := &Message{line: line}
	if err := decodeEnvelope(line, m); err != nil || m.JSONRPC != "2.0" || !(c.opts.Trusted || json.Valid(line)) {
		c.record("in-garbage", json.RawMessage(strconv.Quote(string(line))))
		c.mu.Lock()
		c.garbage = append(c.garbage, string(line))
		c.inbox = append(c.inbox, inboxEntry{garbage: string(line)})
		c.wake()
		c.mu.Unlock()
		return
	}
	c.record("in", line)
	if m.Method != "" && m.ID != nil { // a request from the server
		c.answerServerRequest(m)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case m.IsNotification():
		c.notes = append(c.notes, Notification{Method: m.Method, Params: m.Params, At: now})
	case m.IsResponse():
		if call := c.pending[string(m.ID)]; call != nil {
			delete(c.pending, string(m.ID))
			call.resp, call.At = m, now
			close(call.done)
			return
		}
	}
	c.inbox = append(c.inbox, inboxEntry{msg: m})
	c.wake()
}

// answerServerRequest answers ping and refuses anything else: this client
// offers no capabilities.
func (c *Client) answerServerRequest(m *Message) {
	resp := map[string]any{"jsonrpc": "2.0", "id": m.ID}
	if m.Method == "ping" {
		resp["result"] = map[string]any{}
	} else {
		resp["error"] = map[string]any{"code": -32601, "message": "method not found: " + m.Method}
	}
	_ = c.write(resp)
}
