package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"github.com/coder/websocket"
)

// rawClient is the physical floor clawgate is compared with: one WebSocket
// to the gateway (github.com/coder/websocket, compression off, as clawgate
// dials it), the connect handshake done here without package gateway, and no
// background goroutine: a request is written and its reply read on the
// caller's goroutine, skipping interleaved events. Every frame is decoded
// once into rawFrame with encoding/json (the payload stays raw), which is
// the least a client must do to find its reply.
type rawClient struct {
	ws       *websocket.Conn
	nextID   int
	protocol int
	version  string // hello-ok server.version

	// frames, after pump: the responses a goroutine reads off the
	// connection while the caller is busy elsewhere.
	frames chan rawRead
}

// rawRead is one frame read by pump, or why reading ended.
type rawRead struct {
	f   *rawFrame
	err error
}

// rawFrame is the envelope of a gateway frame.
type rawFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	OK      bool            `json:"ok"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Error   *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// rawRequest is a request frame.
type rawRequest struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// dialRaw connects to url and completes the connect handshake with the same
// client identity, protocol range, caps and scope clawgate uses
// (gateway-client/backend, 3..4, tool-events + model-selection-policy, operator.admin), so that the
// gateway treats both connections alike.
func dialRaw(ctx context.Context, url, token string) (*rawClient, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, fmt.Errorf("raw dial %s: %w", url, err)
	}
	ws.SetReadLimit(64 << 20)
	c := &rawClient{ws: ws}
	for {
		f, err := c.read(ctx)
		if err != nil {
			ws.CloseNow()
			return nil, fmt.Errorf("raw handshake: waiting for connect.challenge: %w", err)
		}
		if f.Type == "event" && f.Event == "connect.challenge" {
			break
		}
	}
	params := map[string]any{
		"minProtocol": 3,
		"maxProtocol": 4,
		"client": map[string]any{
			"id": "gateway-client", "displayName": "sidebyside-raw", "version": "dev",
			"platform": runtime.GOOS, "mode": "backend", "instanceId": "sidebyside-raw",
		},
		"caps":   []string{"tool-events", "model-selection-policy"},
		"role":   "operator",
		"scopes": []string{"operator.admin"},
		"auth":   map[string]string{"token": token},
	}
	if err := c.write(ctx, rawRequest{Type: "req", ID: "connect", Method: "connect", Params: params}); err != nil {
		ws.CloseNow()
		return nil, err
	}
	f, err := c.await(ctx, "connect")
	if err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("raw handshake: %w", err)
	}
	var hello struct {
		Protocol int `json:"protocol"`
		Server   struct {
			Version string `json:"version"`
		} `json:"server"`
	}
	if err := json.Unmarshal(f.Payload, &hello); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("raw handshake: hello-ok: %w", err)
	}
	c.protocol, c.version = hello.Protocol, hello.Server.Version
	return c, nil
}

// close closes the connection with a normal close frame.
func (c *rawClient) close() { _ = c.ws.Close(websocket.StatusNormalClosure, "bye") }

// pump keeps reading the connection on a goroutine of its own, drops
// events and queues the responses for read. For a client that is idle for
// long stretches while the gateway broadcasts events (the delegation
// measurements, where clawgate's runs go on meanwhile): unread, they would
// fill the socket buffers, and the gateway's pings would go unanswered,
// until the gateway closed the connection. It adds a goroutine hop per
// response, so the warm-call rows, whose raw client must be the floor, do
// without.
func (c *rawClient) pump() {
	c.frames = make(chan rawRead, 1024)
	go func() {
		for {
			f, err := c.readWS(context.Background())
			if err != nil {
				c.frames <- rawRead{err: err}
				close(c.frames)
				return
			}
			if f.Type != "event" {
				c.frames <- rawRead{f: f}
			}
		}
	}()
}

func (c *rawClient) read(ctx context.Context) (*rawFrame, error) {
	if c.frames == nil {
		return c.readWS(ctx)
	}
	select {
	case r, ok := <-c.frames:
		if !ok {
			return nil, errors.New("the raw connection is closed")
		}
		return r.f, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *rawClient) readWS(ctx context.Context) (*rawFrame, error) {
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	var f rawFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("malformed frame: %w", err)
	}
	return &f, nil
}

func (c *rawClient) write(ctx context.Context, req rawRequest) error {
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// await reads frames until the response with id and fails on ok:false.
func (c *rawClient) await(ctx context.Context, id string) (*rawFrame, error) {
	for {
		f, err := c.read(ctx)
		if err != nil {
			return nil, err
		}
		if f.Type != "res" || f.ID != id {
			continue
		}
		if !f.OK {
			return nil, frameError(f)
		}
		return f, nil
	}
}

func frameError(f *rawFrame) error {
	if f.Error == nil {
		return errors.New("ok:false without an error")
	}
	return fmt.Errorf("%s: %s", f.Error.Code, f.Error.Message)
}

func (c *rawClient) newID() string {
	c.nextID++
	return strconv.Itoa(c.nextID)
}

// call sends one request and waits for its reply.
func (c *rawClient) call(ctx context.Context, method string, params any) (*rawFrame, error) {
	id := c.newID()
	if err := c.write(ctx, rawRequest{Type: "req", ID: id, Method: method, Params: params}); err != nil {
		return nil, err
	}
	return c.await(ctx, id)
}

// pipeline writes k requests back to back, then reads until all k replies
// have arrived (in whatever order).
func (c *rawClient) pipeline(ctx context.Context, k int, method string, params any) error {
	want := make(map[string]bool, k)
	for range k {
		id := c.newID()
		want[id] = true
		if err := c.write(ctx, rawRequest{Type: "req", ID: id, Method: method, Params: params}); err != nil {
			return err
		}
	}
	for len(want) > 0 {
		f, err := c.read(ctx)
		if err != nil {
			return err
		}
		if f.Type != "res" || !want[f.ID] {
			continue
		}
		if !f.OK {
			return frameError(f)
		}
		delete(want, f.ID)
	}
	return nil
}

// agent starts an agent run and waits for its final reply (the second
// response to the request; the first says "accepted"). It returns the text
// of the first payload.
func (c *rawClient) agent(ctx context.Context, params agentParams) (string, error) {
	id := c.newID()
	if err := c.write(ctx, rawRequest{Type: "req", ID: id, Method: "agent", Params: params}); err != nil {
		return "", err
	}
	for {
		f, err := c.await(ctx, id)
		if err != nil {
			return "", err
		}
		text, final, err := agentFinal(f)
		if err != nil || final {
			return text, err
		}
	}
}

// agents starts one agent run per params, each request its own write, back
// to back on this connection, and waits until every run has its final
// reply (in whatever order they come). All must succeed.
func (c *rawClient) agents(ctx context.Context, params []agentParams) error {
	want := make(map[string]bool, len(params))
	for _, p := range params {
		id := c.newID()
		want[id] = true
		if err := c.write(ctx, rawRequest{Type: "req", ID: id, Method: "agent", Params: p}); err != nil {
			return err
		}
	}
	for len(want) > 0 {
		f, err := c.read(ctx)
		if err != nil {
			return err
		}
		if f.Type != "res" || !want[f.ID] {
			continue
		}
		if !f.OK {
			return frameError(f)
		}
		_, final, err := agentFinal(f)
		if err != nil {
			return err
		}
		if final {
			delete(want, f.ID)
		}
	}
	return nil
}

// agentFinal reads an ok response to an agent request: final is false for
// the "accepted" acknowledgement; a final reply must have status ok. text is
// the text of its first payload.
func agentFinal(f *rawFrame) (text string, final bool, err error) {
	var p struct {
		Status string `json:"status"`
		Result *struct {
			Payloads []struct {
				Text string `json:"text"`
			} `json:"payloads"`
		} `json:"result"`
	}
	if err := json.Unmarshal(f.Payload, &p); err != nil {
		return "", false, fmt.Errorf("agent reply: %w", err)
	}
	if p.Status == "accepted" {
		return "", false, nil
	}
	if p.Status != "ok" {
		return "", true, fmt.Errorf("agent run ended with status %q", p.Status)
	}
	if p.Result == nil || len(p.Result.Payloads) == 0 {
		return "", true, nil
	}
	return p.Result.Payloads[0].Text, true, nil
}

// agentParams are the agent request params, exactly those clawgate's
// ask_subagent sends: for {"message", "session_key"}, the first four
// (timeout is its default 55 s plus the one second it gives the gateway's
// own timeout); in a private session of its own also the label; and per
// mode (protocol 4) modelRun, promptMode and bootstrapContextMode. The
// fields are in the order clawgate writes them.
type agentParams struct {
	Message              string `json:"message"`
	IdempotencyKey       string `json:"idempotencyKey"`
	SessionKey           string `json:"sessionKey"`
	Timeout              int    `json:"timeout"`
	Label                string `json:"label,omitempty"`
	ModelRun             bool   `json:"modelRun,omitempty"`
	PromptMode           string `json:"promptMode,omitempty"`
	BootstrapContextMode string `json:"bootstrapContextMode,omitempty"`
}
