package mcptest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Call is a request sent with Go.
type Call struct {
	ID     int64
	Method string
	Sent   time.Time
	At     time.Time // when the response arrived
	done   chan struct{}
	resp   *Message
}

// Done is closed when the response arrived (or the server's stdout ended).
func (c *Call) Done() <-chan struct{} { return c.done }

// Response is the response message (nil if the server's stdout ended first).
func (c *Call) Response() *Message { return c.resp }

// Go sends a request with the client's next id and returns at once; Wait
// gets its response.
func (c *Client) Go(method string, params any) (*Call, error) {
	c.mu.Lock()
	c.nextID++
	call := &Call{ID: c.nextID, Method: method, done: make(chan struct{})}
	key := strconv.FormatInt(call.ID, 10)
	c.pending[key] = call
	c.mu.Unlock()
	msg := map[string]any{"jsonrpc": "2.0", "id": call.ID, "method": method}
	if params != nil {
		msg["params"] = params
	}
	call.Sent = time.Now()
	if err := c.write(msg); err != nil {
		c.Forget(call)
		return nil, fmt.Errorf("send %s: %w", method, err)
	}
	return call, nil
}

// Wait waits for call's response and returns its result, or its error as
// an *RPCError.
func (c *Client) Wait(ctx context.Context, call *Call) (json.RawMessage, error) {
	select {
	case <-call.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s (id %d): no response: %w", call.Method, call.ID, ctx.Err())
	}
	if call.resp == nil {
		c.mu.Lock()
		readErr := c.readErr
		c.mu.Unlock()
		how := ""
		if c.opts.Ended != nil {
			how = "; " + c.opts.Ended()
		}
		return nil, fmt.Errorf("%s (id %d): the server's stdout ended (%v) before the response%s", call.Method, call.ID, readErr, how)
	}
	if call.resp.Error != nil {
		return nil, call.resp.Error
	}
	return call.resp.Result, nil
}

// Forget stops waiting for call (after cancelling it); a late response is
// then left for Next, and counted by Garbage unless Next takes it.
func (c *Client) Forget(call *Call) {
	c.mu.Lock()
	delete(c.pending, strconv.FormatInt(call.ID, 10))
	c.mu.Unlock()
}

// Request sends a request and waits for its result.
func (c *Client) Request(ctx context.Context, method string, params any) (json.RawMessage, error) {
	call, err := c.Go(method, params)
	if err != nil {
		return nil, err
	}
	return c.Wait(ctx, call)
}
