package mcptest

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// record appends one line to the transcript, if there is one.
func (c *Client) record(dir string, msg json.RawMessage) {
	if c.opts.Transcript == nil {
		return
	}
	b, _ := json.Marshal(map[string]any{"t": time.Now().UnixMilli(), "dir": dir, "msg": msg})
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, _ = c.opts.Transcript.Write(append(b, '\n'))
}

// write sends v as one line.
func (c *Client) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.writeLine(b)
}

// writeLine sends line and a newline in one write, and records it.
func (c *Client) writeLine(line []byte) error {
	if json.Valid(line) {
		c.record("out", line)
	} else {
		c.record("out", json.RawMessage(strconv.Quote(string(line))))
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err := c.stdin.Write(append(line[:len(line):len(line)], '\n'))
	return err
}

// Send writes line, as it is, and a newline: malformed input, exact ids,
// anything. Its responses come from Next.
func (c *Client) Send(line string) error { return c.writeLine([]byte(line)) }

// Write writes p to the server's stdin as it is, with no newline added and
// nothing recorded: for a partial line, or a line too long to hold in
// memory, streamed in parts.
func (c *Client) Write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.stdin.Write(p)
}

// CloseStdin closes the server's stdin (EOF: a stdio server's signal to
// exit).
func (c *Client) CloseStdin() error { return c.stdin.Close() }

// CloseStdout closes the client's end of stdout of a server started with
// Exec, as a client that goes away does: the server's next write fails.
// Reading ends.
func (c *Client) CloseStdout() error {
	if c.stdout == nil {
		return errors.New("mcptest: CloseStdout on a client New made: close the reader given to New instead")
	}
	return c.stdout.Close()
}

// Notify sends a notification.
func (c *Client) Notify(method string, params any) error {
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		msg["params"] = params
	}
	return c.write(msg)
}
