package gatewaysim

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/clawgate/clawgate/internal/testwait"
)

// testClient is a raw coder/websocket client that records every frame.
type testClient struct {
	t  testing.TB
	ws *websocket.Conn

	mu     sync.Mutex
	cond   *sync.Cond
	frames []obj
	raws   [][]byte
	done   bool
	code   websocket.StatusCode
	reason string
}

// dialClient connects to url (optionally with headers) and starts reading.
func dialClient(t testing.TB, url string, header http.Header) *testClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Patience())
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	ws.SetReadLimit(64 << 20)
	c := &testClient{t: t, ws: ws, code: -1}
	c.cond = sync.NewCond(&c.mu)
	go c.readLoop()
	t.Cleanup(func() { _ = ws.CloseNow() })
	return c
}

func (c *testClient) readLoop() {
	for {
		_, data, err := c.ws.Read(context.Background())
		c.mu.Lock()
		if err != nil {
			c.done = true
			c.code = websocket.CloseStatus(err)
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				c.reason = ce.Reason
			}
			if c.code == -1 {
				c.code = websocket.StatusAbnormalClosure
			}
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		c.raws = append(c.raws, data)
		c.frames = append(c.frames, decodeObj(data))
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// sendJSON sends v as a text frame.
func (c *testClient) sendJSON(v any) {
	c.t.Helper()
	c.sendRaw(mustJSON(v))
}

// sendRaw sends b as a text frame.
func (c *testClient) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Patience())
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// waitFor waits until pred matches a received frame (scanning from index
// from) and returns it with its index; nil if the connection ended or the
// timeout passed. A wait for a frame that must come uses
// testwait.Patience(); a shorter timeout is only for checking that a frame
// does not come.
func (c *testClient) waitFor(pred func(obj) bool, from int, timeout time.Duration) (obj, int) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for i := from; i < len(c.frames); i++ {
			if pred(c.frames[i]) {
				return c.frames[i], i
			}
		}
		from = len(c.frames)
		if c.done || time.Now().After(deadline) {
			return nil, -1
		}
		c.cond.Wait()
	}
}

// snapshot returns the frames received so far.
func (c *testClient) snapshot() []obj {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]obj(nil), c.frames...)
}

// waitClose waits for the connection to end and returns the close code and reason.
func (c *testClient) waitClose(timeout time.Duration) (websocket.StatusCode, string) {
	c.waitFor(func(obj) bool { return false }, 0, timeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		c.t.Fatalf("connection still open after %v", timeout)
	}
	return c.code, c.reason
}

// isRes matches the res frame(s) of id.
func isRes(id string) func(obj) bool {
	return func(f obj) bool { return str(f, "type") == "res" && str(f, "id") == id }
}

// isEvent matches events of a name.
func isEvent(name string) func(obj) bool {
	return func(f obj) bool { return str(f, "type") == "event" && str(f, "event") == name }
}

// request sends a req and returns its first res.
func (c *testClient) request(method string, params any) obj {
	c.t.Helper()
	id := uuid.NewString()
	frame := obj{"type": "req", "id": id, "method": method}
	if params != nil {
		frame["params"] = params
	}
	c.sendJSON(frame)
	res, _ := c.waitFor(isRes(id), 0, testwait.Patience())
	if res == nil {
		c.t.Fatalf("no response to %s", method)
	}
	return res
}

// startRun sends the agent request id with params and returns its first
// reply (accepted: the run goes on).
func (c *testClient) startRun(id string, params obj) obj {
	c.t.Helper()
	c.sendJSON(obj{"type": "req", "id": id, "method": "agent", "params": params})
	acc, _ := c.waitFor(isRes(id), 0, testwait.Patience())
	if acc == nil {
		c.t.Fatalf("no reply to the agent request %s", id)
	}
	return acc
}

// final returns the final reply of the agent request id: its res after the
// accepted one.
func (c *testClient) final(id string) obj {
	c.t.Helper()
	_, i := c.waitFor(isRes(id), 0, testwait.Patience())
	if i < 0 {
		c.t.Fatalf("no reply to the agent request %s", id)
	}
	fin, _ := c.waitFor(isRes(id), i+1, testwait.Patience())
	if fin == nil {
		c.t.Fatalf("no final reply to the agent request %s", id)
	}
	return fin
}

// requestFinal sends a req and returns all res frames of its id up to a
// frame whose status is not "accepted".
func (c *testClient) requestFinal(method string, params any) []obj {
	c.t.Helper()
	id := uuid.NewString()
	c.sendJSON(obj{"type": "req", "id": id, "method": method, "params": params})
	var out []obj
	from := 0
	for {
		res, i := c.waitFor(isRes(id), from, testwait.Patience())
		if res == nil {
			c.t.Fatalf("no final response to %s (got %d frames)", method, len(out))
		}
		out = append(out, res)
		from = i + 1
		if str(sub(res, "payload"), "status") != "accepted" {
			return out
		}
	}
}

// connectParams returns the recommended connect params for token.
func connectParamsFor(token string, over obj) obj {
	p := obj{
		"minProtocol": 3, "maxProtocol": 4,
		"client": obj{"id": "gateway-client", "displayName": "gatewaysim", "version": "0.1.0",
			"platform": "linux", "mode": "backend", "instanceId": uuid.NewString()},
		"caps":   []any{},
		"role":   "operator",
		"scopes": []any{scopeAdmin},
		"auth":   obj{"token": token},
	}
	for k, v := range over {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return p
}

// handshake waits for the challenge and sends connect; it returns the res.
func (c *testClient) handshake(params obj) obj {
	c.t.Helper()
	if ch, _ := c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience()); ch == nil {
		c.t.Fatal("no connect.challenge")
	}
	return c.request("connect", params)
}

// connected dials srv and completes a default handshake with over applied.
func connected(t testing.TB, srv *Server, token string, over obj) (*testClient, obj) {
	t.Helper()
	c := dialClient(t, srv.URL(), nil)
	res := c.handshake(connectParamsFor(token, over))
	if res["ok"] != true {
		t.Fatalf("connect failed: %s", mustJSON(res))
	}
	return c, sub(res, "payload")
}

// eachGeneration runs f as a subtest per generation, with a fresh fake of
// that generation and a client connected to it.
func eachGeneration(t *testing.T, f func(t *testing.T, g Generation, srv *Server, c *testClient)) {
	t.Helper()
	for _, g := range generations {
		t.Run(g.String(), func(t *testing.T) {
			srv := newServer(t, Options{Generation: g})
			c, _ := connected(t, srv, "test-token", nil)
			f(t, g, srv, c)
		})
	}
}

// newServer starts a fake that is closed at the end of the test.
func newServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// errMsg returns "CODE: message" of a failed res.
func errMsg(res obj) string {
	e := sub(res, "error")
	if e == nil {
		return ""
	}
	return str(e, "code") + ": " + str(e, "message")
}

// jsonStr is a compact JSON rendering for messages.
func jsonStr(v any) string {
	s := string(mustJSON(v))
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// keysOf returns the sorted keys of an object, joined.
func keysOf(m obj) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}
