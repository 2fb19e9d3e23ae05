// Package mcptest is a deliberately small, independent MCP client for
// end-to-end tests: it spawns a stdio MCP server, speaks newline-delimited
// JSON-RPC 2.0 on its stdin/stdout, and records everything — every message
// with its arrival time, every notification, every stdout line that is not
// a JSON-RPC message, and the server's stderr — so tests can assert on the
// exact wire behaviour rather than on what an SDK makes of it.
package mcptest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawgate/clawgate/e2e/internal/harness"
)

// ProtocolVersion is the MCP version the client asks for.
const ProtocolVersion = "2025-06-18"

// Message is one JSON-RPC message in either direction.
type Message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}

// RPCError is a JSON-RPC error object; it is also the error Request returns
// for an error response.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// Notification is a server notification and when it arrived.
type Notification struct {
	Method string
	Params json.RawMessage
	At     time.Time
}

// Options say how to start the server.
type Options struct {
	Name   string   // for logs, e.g. "clawgate"
	Bin    string   // server binary
	Args   []string // its arguments
	Env    []string // its environment (nil: harness.CleanEnv())
	Dir    string   // working directory
	LogDir string   // where stderr and the transcript go (created)
}

// Client is a running server and the client side of its stdio.
type Client struct {
	opts           Options
	proc           *harness.Proc
	stdin          *os.File
	stderrPath     string
	transcriptPath string

	writeMu    sync.Mutex
	mu         sync.Mutex
	nextID     int64
	pending    map[string]*Call
	notes      []Notification
	changed    chan struct{} // closed and replaced on every new notification
	garbage    []string      // stdout lines that are not JSON-RPC messages
	transcript *os.File
	readDone   chan struct{}
	readErr    error
}

// Call is a request in flight.
type Call struct {
	ID     int64
	Method string
	Sent   time.Time
	done   chan struct{}
	resp   *Message
	At     time.Time // when the response arrived
}

// Done is closed when the response arrived (or the server's stdout ended).
func (c *Call) Done() <-chan struct{} { return c.done }

// Response is the response message (nil if the server's stdout ended first).
func (c *Call) Response() *Message { return c.resp }

// Start spawns the server.
func Start(opts Options) (*Client, error) {
	if opts.Name == "" {
		opts.Name = filepath.Base(opts.Bin)
	}
	if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
		return nil, err
	}
	c := &Client{opts: opts, pending: map[string]*Call{}, changed: make(chan struct{}), readDone: make(chan struct{}),
		stderrPath: filepath.Join(opts.LogDir, opts.Name+".stderr"), transcriptPath: filepath.Join(opts.LogDir, opts.Name+".transcript.jsonl")}
	var err error
	if c.transcript, err = os.Create(c.transcriptPath); err != nil {
		return nil, err
	}
	stderr, err := os.Create(c.stderrPath)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(opts.Bin, opts.Args...)
	cmd.Env, cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Env, opts.Dir, inR, outW, stderr
	if cmd.Env == nil {
		cmd.Env = harness.CleanEnv()
	}
	c.proc, err = harness.Start(opts.Name, cmd)
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	c.stdin = inW
	go c.readLoop(outR)
	return c, nil
}

// Proc is the server process.
func (c *Client) Proc() *harness.Proc { return c.proc }

// readLoop reads newline-delimited messages from the server's stdout.
func (c *Client) readLoop(r *os.File) {
	defer close(c.readDone)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			c.handleLine(line)
		}
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			for id, call := range c.pending {
				delete(c.pending, id)
				close(call.done)
			}
			c.mu.Unlock()
			return
		}
	}
}

func (c *Client) handleLine(line []byte) {
	now := time.Now()
	var m Message
	if err := json.Unmarshal(line, &m); err != nil || m.JSONRPC != "2.0" {
		c.mu.Lock()
		c.garbage = append(c.garbage, strings.TrimRight(string(line), "\n"))
		c.mu.Unlock()
		c.record("in-garbage", json.RawMessage(strconv.Quote(string(line))))
		return
	}
	c.record("in", json.RawMessage(line))
	switch {
	case m.Method != "" && len(m.ID) > 0: // a request from the server
		c.answerServerRequest(&m)
	case m.Method != "": // a notification
		c.mu.Lock()
		c.notes = append(c.notes, Notification{Method: m.Method, Params: m.Params, At: now})
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
	default: // a response
		c.mu.Lock()
		call := c.pending[string(m.ID)]
		delete(c.pending, string(m.ID))
		c.mu.Unlock()
		if call == nil {
			c.mu.Lock()
			c.garbage = append(c.garbage, "response to an unknown or cancelled request id: "+strings.TrimSpace(string(line)))
			c.mu.Unlock()
			return
		}
		call.resp, call.At = &m, now
		close(call.done)
	}
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

// record appends one line to the transcript.
func (c *Client) record(dir string, msg json.RawMessage) {
	b, _ := json.Marshal(map[string]any{"t": time.Now().UnixMilli(), "dir": dir, "msg": msg})
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, _ = c.transcript.Write(append(b, '\n'))
}

func (c *Client) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.record("out", b)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err = c.stdin.Write(append(b, '\n'))
	return err
}

// Go sends a request and returns at once.
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
		c.mu.Lock()
		delete(c.pending, key)
		c.mu.Unlock()
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
		return nil, fmt.Errorf("%s (id %d): the server's stdout ended (%v) before the response; exit code %d",
			call.Method, call.ID, c.readErr, c.proc.ExitCode())
	}
	if call.resp.Error != nil {
		return nil, call.resp.Error
	}
	return call.resp.Result, nil
}

// Forget stops waiting for call (after cancelling it); a late response is
// then recorded as unexpected.
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

// Notify sends a notification.
func (c *Client) Notify(method string, params any) error {
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		msg["params"] = params
	}
	return c.write(msg)
}

// InitializeResult is the part of the initialize result tests check.
type InitializeResult struct {
	ProtocolVersion string                     `json:"protocolVersion"`
	Capabilities    map[string]json.RawMessage `json:"capabilities"`
	ServerInfo      struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"serverInfo"`
	Instructions string `json:"instructions"`
}

// Initialize performs the MCP handshake: initialize with ProtocolVersion,
// then notifications/initialized.
func (c *Client) Initialize(ctx context.Context) (*InitializeResult, error) {
	raw, err := c.Request(ctx, "initialize", map[string]any{
		"protocolVersion": ProtocolVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "clawgate-e2e", "version": "0.0.0"},
	})
	if err != nil {
		return nil, err
	}
	var res InitializeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("decode initialize result: %w", err)
	}
	return &res, c.Notify("notifications/initialized", nil)
}

// Tool is a tool definition from tools/list.
type Tool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Annotations  map[string]any  `json:"annotations,omitempty"`
	Raw          json.RawMessage `json:"-"`
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

// Content is one content item of a tool result.
type Content struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
}

// ToolResult is a tools/call result.
type ToolResult struct {
	Content           []Content       `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError,omitempty"`
}

// Text joins the text content items.
func (r *ToolResult) Text() string {
	var parts []string
	for _, c := range r.Content {
		if c.Type == "text" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Decode decodes the structured content into v.
func (r *ToolResult) Decode(v any) error {
	if len(r.StructuredContent) == 0 {
		return fmt.Errorf("no structuredContent (isError=%v, text %q)", r.IsError, r.Text())
	}
	return json.Unmarshal(r.StructuredContent, v)
}

// CallParams builds tools/call params; progressToken, if not nil, goes into
// _meta.
func CallParams(name string, args any, progressToken any) map[string]any {
	if args == nil {
		args = map[string]any{}
	}
	p := map[string]any{"name": name, "arguments": args}
	if progressToken != nil {
		p["_meta"] = map[string]any{"progressToken": progressToken}
	}
	return p
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

// DecodeToolResult decodes a tools/call result.
func DecodeToolResult(raw json.RawMessage) (*ToolResult, error) {
	var r ToolResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode tool result: %w", err)
	}
	return &r, nil
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
	for {
		c.mu.Lock()
		ch := c.changed
		for _, n := range c.notes {
			if match(n) {
				c.mu.Unlock()
				return n, nil
			}
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-c.readDone:
			return Notification{}, errors.New("the server's stdout ended while waiting for a notification")
		case <-ctx.Done():
			return Notification{}, fmt.Errorf("no matching notification: %w", ctx.Err())
		}
	}
}

// Garbage returns the stdout lines that were not JSON-RPC 2.0 messages and
// responses nobody waited for.
func (c *Client) Garbage() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.garbage...)
}

// Stderr returns what the server wrote to stderr so far.
func (c *Client) Stderr() string {
	b, _ := os.ReadFile(c.stderrPath)
	return string(b)
}

// TranscriptTail returns the last n lines of the transcript.
func (c *Client) TranscriptTail(n int) string {
	b, _ := os.ReadFile(c.transcriptPath)
	return harness.Tail(string(b), n)
}

// Close closes the server's stdin, which must make it exit, and waits up to
// wait for that; a server that does not exit is killed and an error
// returned. It returns the exit code otherwise.
func (c *Client) Close(wait time.Duration) (int, error) {
	c.stdin.Close()
	err := c.proc.Wait(wait)
	if !c.proc.Exited() {
		_ = c.proc.Kill()
		return -1, fmt.Errorf("%s did not exit within %s after stdin was closed: %w", c.opts.Name, wait, err)
	}
	<-c.readDone
	c.writeMu.Lock()
	c.transcript.Close()
	c.writeMu.Unlock()
	return c.proc.ExitCode(), nil
}
