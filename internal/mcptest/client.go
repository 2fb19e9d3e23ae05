// Package mcptest is clawgate's raw stdio MCP test client: a deliberately
// small, independent client that speaks newline-delimited JSON-RPC 2.0 on a
// server's stdin and stdout and records everything it reads, so that tests
// assert on the exact wire behaviour rather than on what an SDK makes of it.
// The cli tests drive the built binary with it, the e2e suite drives the
// binary against real gateways, the bench tests drive clawgate's serving
// path on in-memory pipes, and bench/sidebyside measures the binary with it.
//
// New takes a server's stdin and stdout (in-memory pipes, say); Exec starts
// a process with its stdin and stdout on pipes to a new client, through a
// start function of the caller's, so that each caller starts, tracks and
// stops its processes its own way.
//
// Two ways to read, which mix:
//
//   - structured: Go, Wait, Request, CallTool, Initialize send requests
//     with ids of the client's own and get their responses, whatever else
//     arrives meanwhile; Notifications and WaitNotification see the
//     notifications;
//   - raw: Send writes any line (malformed input, exact ids), and Next
//     returns every message that no Go call claimed, in arrival order
//     (responses to raw lines, notifications, server requests), a
//     *GarbageError for a line that is not JSON-RPC 2.0, and io.EOF once
//     the server's stdout has ended.
package mcptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ProtocolVersion is the MCP version the client asks for.
const ProtocolVersion = "2025-06-18"

// Options configure a Client.
type Options struct {
	// Transcript, if not nil, gets one JSON line per message in either
	// direction: {"t": Unix ms, "dir": "in", "out" or "in-garbage",
	// "msg": the message}.
	Transcript io.Writer
	// Trusted checks the server's lines only as far as their top level
	// (jsonrpc, id, method, error, and where each member ends), not that
	// the whole line is valid JSON. For benchmarks, where checking every
	// reply whole would be most of the client's cost; tests leave it off,
	// so that a line that is not JSON is garbage.
	Trusted bool
	// ClientName is the clientInfo name Initialize sends ("mcptest" if
	// empty).
	ClientName string
	// Ended, if not nil, says how the server ended (its exit code, say);
	// it is added to the errors of calls cut off by the end of its stdout.
	Ended func() string
}

// Client is the client side of an MCP server's stdio.
type Client struct {
	opts   Options
	stdin  io.WriteCloser
	stdout io.Closer // the read end of the server's stdout, when Exec made it

	writeMu sync.Mutex // one line at a time, to stdin and to the transcript

	mu       sync.Mutex
	nextID   int64
	pending  map[string]*Call
	notes    []Notification
	inbox    []inboxEntry // unclaimed messages and garbage, for Next
	garbage  []string     // stdout lines that are not JSON-RPC 2.0 messages
	changed  chan struct{}
	eof      bool  // stdout ended; inbox gets nothing more
	readErr  error // why it ended
	readDone chan struct{}
}

// New returns a client for the server whose stdin and stdout are given, and
// starts reading stdout, until it ends, on a goroutine of its own.
func New(stdin io.WriteCloser, stdout io.Reader, opts Options) *Client {
	return newClient(stdin, stdout, nil, opts)
}

// newClient is New; owned, if not nil, is closed when stdout has ended.
func newClient(stdin io.WriteCloser, stdout io.Reader, owned io.Closer, opts Options) *Client {
	if opts.ClientName == "" {
		opts.ClientName = "mcptest"
	}
	c := &Client{opts: opts, stdin: stdin, stdout: owned, pending: map[string]*Call{}, changed: make(chan struct{}), readDone: make(chan struct{})}
	go c.readLoop(stdout)
	return c
}

// Next returns the next message that no Go call claimed, in arrival order:
// a response to a line written with Send, a notification (which
// Notifications also keeps) or a request from the server (which the client
// answers itself). For a line that is not JSON-RPC 2.0 it returns a
// *GarbageError, and once the server's stdout has ended and every message
// before the end was returned, io.EOF.
func (c *Client) Next(ctx context.Context) (*Message, error) {
	var e inboxEntry
	var eof bool
	err := c.await(ctx, func() bool {
		if len(c.inbox) > 0 {
			e = c.inbox[0]
			c.inbox[0] = inboxEntry{}
			c.inbox = c.inbox[1:]
			return true
		}
		eof = c.eof
		return eof
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("no message from the server: %w", err)
	case eof:
		return nil, io.EOF
	case e.msg == nil:
		return nil, &GarbageError{Line: e.garbage}
	}
	return e.msg, nil
}

// await calls done with c.mu held, now and after every change (a message,
// the end of stdout), until it returns true or ctx ends.
func (c *Client) await(ctx context.Context, done func() bool) error {
	for {
		c.mu.Lock()
		ch, ok := c.changed, done()
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NextResponse is Next, skipping notifications and server requests: the
// next response that no Go call claimed.
func (c *Client) NextResponse(ctx context.Context) (*Message, error) {
	for {
		m, err := c.Next(ctx)
		if err != nil || m.IsResponse() {
			return m, err
		}
	}
}

// InitializeParams are the params of the client's initialize request.
func (c *Client) InitializeParams() map[string]any {
	return map[string]any{
		"protocolVersion": ProtocolVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": c.opts.ClientName, "version": "0.0.0"},
	}
}

// Initialize performs the MCP handshake: initialize with ProtocolVersion,
// then notifications/initialized.
func (c *Client) Initialize(ctx context.Context) (*InitializeResult, error) {
	raw, err := c.Request(ctx, "initialize", c.InitializeParams())
	if err != nil {
		return nil, err
	}
	var res InitializeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("decode initialize result: %w", err)
	}
	return &res, c.Notify("notifications/initialized", nil)
}

// ListTools calls tools/list.
func (c *Client) ListTools(ctx context.Context) ([]Tool, error) {
	raw, err := c.Request(ctx, "tools/list", map[string]any{})
	if err != nil {
		return nil, err
	}
	var res struct {
		Tools      []json.RawMessage `json:"tools"`
		NextCursor string            `json:"nextCursor"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, err
	}
	if res.NextCursor != "" {
		return nil, errors.New("tools/list paginates; this client does not")
	}
	tools := make([]Tool, len(res.Tools))
	for i, r := range res.Tools {
		if err := json.Unmarshal(r, &tools[i]); err != nil {
			return nil, err
		}
		tools[i].Raw = r
	}
	return tools, nil
}

// CallTool calls a tool and waits for its result. A JSON-RPC error is
// returned as an *RPCError.
func (c *Client) CallTool(ctx context.Context, name string, args any) (*ToolResult, error) {
	raw, err := c.Request(ctx, "tools/call", CallParams(name, args, nil))
	if err != nil {
		return nil, err
	}
	return DecodeToolResult(raw)
}

// Cancel sends notifications/cancelled for call.
func (c *Client) Cancel(call *Call, reason string) error {
	return c.Notify("notifications/cancelled", map[string]any{"requestId": call.ID, "reason": reason})
}

// Notifications returns the notifications received so far with method
// ("" for all).
func (c *Client) Notifications(method string) []Notification {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Notification
	for _, n := range c.notes {
		if method == "" || n.Method == method {
			out = append(out, n)
		}
	}
	return out
}

// WaitNotification waits for a notification that satisfies match.
func (c *Client) WaitNotification(ctx context.Context, match func(Notification) bool) (Notification, error) {
	var found *Notification
	var eof bool
	err := c.await(ctx, func() bool {
		for i := range c.notes {
			if n := c.notes[i]; match(n) {
				found = &n
				return true
			}
		}
		eof = c.eof
		return eof
	})
	switch {
	case err != nil:
		return Notification{}, fmt.Errorf("no matching notification: %w", err)
	case found == nil:
		return Notification{}, errors.New("the server's stdout ended while waiting for a notification")
	}
	return *found, nil
}

// Garbage returns the stdout lines that were not JSON-RPC 2.0 messages, and
// the responses that neither a Go call nor Next took.
func (c *Client) Garbage() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.garbage...)
	for _, e := range c.inbox {
		if e.msg != nil && e.msg.IsResponse() {
			out = append(out, "response to an unknown or cancelled request id: "+e.msg.Line())
		}
	}
	return out
}

// Done is closed once the server's stdout has ended and everything on it
// was read.
func (c *Client) Done() <-chan struct{} { return c.readDone }
