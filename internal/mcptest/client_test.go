package mcptest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/gotwant"
)

// pipes is a scripted server on OS pipes: the test reads what the
// client wrote with recv and writes the server's lines with send.
type pipes struct {
	t      *testing.T
	c      *Client
	in     *bufio.Reader   // what the client wrote to the server's stdin
	out    *os.File        // the server's stdout
	script strings.Builder // the transcript
	mu     sync.Mutex
}

// newPipes uses OS pipes, which hold what is written until it is read, as
// a process's stdio does.
func newPipes(t *testing.T) *pipes {
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	p := &pipes{t: t, in: bufio.NewReader(inR), out: outW}
	p.c = New(inW, outR, Options{Transcript: writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.script.Write(b)
	})})
	t.Cleanup(func() {
		_ = outW.Close()
		<-p.c.Done()
		_ = outR.Close()
		_ = p.c.CloseStdin()
		_ = inR.Close()
	})
	return p
}

// pipe returns the ends of a new OS pipe.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	return r, w
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// recv returns the next line the client wrote, decoded.
func (p *pipes) recv() map[string]any {
	p.t.Helper()
	line, err := p.in.ReadBytes('\n')
	if err != nil {
		p.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		p.t.Fatalf("the client wrote %q: %v", line, err)
	}
	return m
}

// send writes lines as the server's stdout.
func (p *pipes) send(lines ...string) {
	p.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(p.out, l+"\n"); err != nil {
			p.t.Fatal(err)
		}
	}
}

func ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestRequestsGetTheirResponsesWhateverComesBetween(t *testing.T) {
	p := newPipes(t)
	call, err := p.c.Go("tools/call", CallParams("list_models", nil, "tok"))
	if err != nil {
		t.Fatal(err)
	}
	req := p.recv()
	if req["id"] != 1.0 || req["method"] != "tools/call" || req["params"].(map[string]any)["_meta"].(map[string]any)["progressToken"] != "tok" {
		t.Fatalf("request %v", req)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok","progress":1}}`,
		`{"jsonrpc":"2.0","id":99,"result":{}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"1 model"}],"structuredContent":{"models":[]}}}`)
	raw, err := p.c.Wait(ctx(t), call)
	if err != nil {
		t.Fatal(err)
	}
	res, err := DecodeToolResult(raw)
	if err != nil || res.Text() != "1 model" || res.IsError {
		t.Fatalf("result %+v %v", res, err)
	}
	n, err := p.c.WaitNotification(ctx(t), func(n Notification) bool { return n.Method == "notifications/progress" })
	if err != nil || !strings.Contains(string(n.Params), `"tok"`) {
		t.Fatalf("notification %+v %v", n, err)
	}
	// The notification and the unclaimed response are left for Next, in
	// order; the unclaimed response counts as garbage until Next takes it.
	if g := p.c.Garbage(); len(g) != 1 || !strings.Contains(g[0], `"id":99`) {
		t.Fatalf("Garbage %q", g)
	}
	m, err := p.c.Next(ctx(t))
	if err != nil || string(m.ProgressToken()) != `"tok"` || !m.IsNotification() {
		t.Fatalf("first Next: %+v %v", m, err)
	}
	if m, err := p.c.NextResponse(ctx(t)); err != nil || string(m.ID) != "99" || m.Line() != `{"jsonrpc":"2.0","id":99,"result":{}}` {
		t.Fatalf("NextResponse: %+v %v", m, err)
	}
	if g := p.c.Garbage(); len(g) != 0 {
		t.Fatalf("Garbage after Next took the response: %q", g)
	}
}

func TestRawLinesAndTheEnd(t *testing.T) {
	p := newPipes(t)
	if err := p.c.Send(`{"jsonrpc":"2.0","id":null,"method":"ping"}`); err != nil {
		t.Fatal(err)
	}
	if req := p.recv(); req["id"] != nil || req["method"] != "ping" {
		t.Fatalf("raw line arrived as %v", req)
	}
	p.send(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid request.","data":{"a":1}}}`, `not json`, `{"jsonrpc":"1.0","id":1}`)
	m, err := p.c.Next(ctx(t))
	if err != nil || m.Error == nil {
		t.Fatalf("null id: %+v %v", m, err)
	}
	gotwant.Fatal(t, fmt.Sprintf("null id: %+v", m),
		gotwant.Eq("id", string(m.ID), "null"),
		gotwant.Eq("error.code", m.Error.Code, -32600),
		gotwant.Eq("error.data", string(m.Error.Data), `{"a":1}`),
	)
	for _, want := range []string{"not json", `{"jsonrpc":"1.0","id":1}`} {
		var g *GarbageError
		if _, err := p.c.Next(ctx(t)); !errors.As(err, &g) || g.Line != want {
			t.Fatalf("garbage %q: %v", want, err)
		}
	}
	if g := p.c.Garbage(); len(g) != 2 {
		t.Fatalf("Garbage %q", g)
	}
	// Nothing more: Next waits until its context ends.
	short, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.c.Next(short); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with nothing to read: %v", err)
	}
	// A call in flight when stdout ends fails, and Next says io.EOF.
	call, err := p.c.Go("tools/list", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.recv()
	p.out.Close()
	if _, err := p.c.Wait(ctx(t), call); err == nil || !strings.Contains(err.Error(), "stdout ended") {
		t.Fatalf("Wait after the end: %v", err)
	}
	if _, err := p.c.Next(ctx(t)); err != io.EOF {
		t.Fatalf("Next after the end: %v", err)
	}
	<-p.c.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, want := range []string{`"dir":"out","msg":{"jsonrpc":"2.0","id":null,"method":"ping"}`, `"dir":"in-garbage","msg":"not json"`} {
		if !strings.Contains(p.script.String(), want) {
			t.Errorf("transcript lacks %s:\n%s", want, p.script.String())
		}
	}
}

func TestServerRequestsAreAnswered(t *testing.T) {
	p := newPipes(t)
	p.send(`{"jsonrpc":"2.0","id":"s1","method":"ping"}`, `{"jsonrpc":"2.0","id":"s2","method":"sampling/createMessage"}`)
	if r := p.recv(); r["id"] != "s1" || r["result"] == nil {
		t.Fatalf("answer to ping: %v", r)
	}
	if r := p.recv(); r["id"] != "s2" || r["error"].(map[string]any)["code"] != -32601.0 {
		t.Fatalf("answer to sampling: %v", r)
	}
}

func TestInitialize(t *testing.T) {
	p := newPipes(t)
	done := make(chan error, 1)
	var res *InitializeResult
	go func() {
		var err error
		res, err = p.c.Initialize(ctx(t))
		done <- err
	}()
	req := p.recv()
	if params := req["params"].(map[string]any); params["protocolVersion"] != ProtocolVersion ||
		params["clientInfo"].(map[string]any)["name"] != "mcptest" {
		t.Fatalf("initialize %v", req)
	}
	p.send(`{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"}}}`)
	if n := p.recv(); n["method"] != "notifications/initialized" {
		t.Fatalf("after initialize: %v", n)
	}
	if err := <-done; err != nil || res.ServerInfo.Name != "s" {
		t.Fatalf("Initialize: %+v %v", res, err)
	}
}
