package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

const replayToken = "bench-token"

// replayGateway is a gateway that costs (almost) nothing: after the connect
// handshake it answers every request with a fixed payload for its method,
// spliced behind the request's id, so that a profile shows clawgate's work
// and not the fake's. Payloads are compact JSON, as the real gateways send.
//
// An agent request replays a recorded run instead: the "accepted" reply,
// then the run's recorded frames (events, then the final reply) with the
// request's idempotencyKey as runId and its id as the reply's id.
type replayGateway struct {
	url      string
	srv      *http.Server
	replies  map[string][]byte // method → payload
	agentRun []string          // recorded frames with {{RUN_ID}}; the last one is the final reply
	finalID  string            // the request id in the recorded final reply
	wg       sync.WaitGroup
}

// startReplay serves replies: method → file under testdata/, a payload, or
// for "agent" a recorded run (JSON lines).
func startReplay(tb testing.TB, replies map[string]string) *replayGateway {
	tb.Helper()
	g := &replayGateway{replies: map[string][]byte{}}
	for method, file := range replies {
		data, err := os.ReadFile("testdata/" + file)
		if err != nil {
			tb.Fatal(err)
		}
		if method == "agent" {
			g.agentRun = strings.Split(strings.TrimSpace(string(data)), "\n")
			var final struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(g.agentRun[len(g.agentRun)-1]), &final); err != nil {
				tb.Fatal(err)
			}
			g.finalID = final.ID
			continue
		}
		g.replies[method] = data
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	g.url = "ws://" + ln.Addr().String()
	g.srv = &http.Server{Handler: http.HandlerFunc(g.serve)}
	g.wg.Go(func() { _ = g.srv.Serve(ln) })
	tb.Cleanup(func() {
		_ = g.srv.Close()
		g.wg.Wait()
	})
	return g
}

// helloOK is a minimal protocol-4 hello-ok.
const helloOK = `{"type":"hello-ok","protocol":4,"server":{"version":"replay"},"features":{"methods":["sessions.list"],"events":[]},` +
	`"snapshot":{"sessionDefaults":{"defaultAgentId":"main","mainKey":"main","mainSessionKey":"agent:main:main"}},` +
	`"auth":{"role":"operator","scopes":["operator.admin"]},"policy":{"maxPayload":26214400,"maxBufferedBytes":52428800,"tickIntervalMs":30000}}`

func (g *replayGateway) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(32 << 20)
	ctx := r.Context()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"event","event":"connect.challenge","payload":{"nonce":"n","ts":1}}`)); err != nil {
		return
	}
	var mu sync.Mutex // coder/websocket allows one writer at a time
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var req struct {
			ID     string `json:"id"`
			Method string `json:"method"`
			Params struct {
				IdempotencyKey string `json:"idempotencyKey"`
			} `json:"params"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return
		}
		var replies []string
		switch payload, ok := g.replies[req.Method]; {
		case req.Method == "connect":
			replies = []string{`{"type":"res","id":"connect","ok":true,"payload":` + helloOK + `}`}
		case req.Method == "agent" && g.agentRun != nil:
			replies = g.replayRun(req.ID, req.Params.IdempotencyKey)
		case ok:
			replies = []string{`{"type":"res","id":` + quote(req.ID) + `,"ok":true,"payload":` + string(payload) + `}`}
		default:
			replies = []string{`{"type":"res","id":` + quote(req.ID) + `,"ok":false,"error":{"code":"INVALID_REQUEST","message":"unknown method: ` + req.Method + `"}}`}
		}
		mu.Lock()
		for _, reply := range replies {
			if err = ws.Write(ctx, websocket.MessageText, []byte(reply)); err != nil {
				break
			}
		}
		mu.Unlock()
		if err != nil {
			return
		}
	}
}

// replayRun returns the frames of the recorded agent run for request id
// with runID.
func (g *replayGateway) replayRun(id, runID string) []string {
	out := []string{`{"type":"res","id":` + quote(id) + `,"ok":true,"payload":{"runId":` + quote(runID) + `,"status":"accepted","acceptedAt":1}}`}
	for i, f := range g.agentRun {
		f = strings.ReplaceAll(f, "{{RUN_ID}}", runID)
		if i == len(g.agentRun)-1 {
			f = strings.Replace(f, `"id":`+quote(g.finalID), `"id":`+quote(id), 1)
		}
		out = append(out, f)
	}
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// stdioClawgate is clawgate's serving path as `clawgate` runs it
// (cli.serve): the tools' MCP server under mcp-go's stdio server with 100
// tool workers, here on in-memory pipes instead of the process's stdin and
// stdout, driven with the shared raw stdio client.
type stdioClawgate struct {
	c     *mcptest.Client
	close func() // ends the server and the gateway client; idempotent
}

// startStdio starts clawgate's stdio server for a gateway at url and runs
// the MCP handshake. It is closed at the end of the test, or before by
// close.
func startStdio(tb testing.TB, url string) *stdioClawgate {
	tb.Helper()
	gw, err := gateway.New(gateway.Options{URL: url, Token: replayToken})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := tools.NewServer(tools.Config{Gateway: gw})
	if err != nil {
		tb.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stdio := server.NewStdioServer(srv)
	server.WithWorkerPoolSize(100)(stdio) // as cli.serve does
	go func() { done <- stdio.Listen(ctx, inR, outW) }()
	var once sync.Once
	c := &stdioClawgate{c: mcptest.New(inW, outR, mcptest.Options{ClientName: "bench", Trusted: true}), close: func() {
		once.Do(func() {
			inW.Close()
			cancel()
			outR.Close()
			<-done
			gw.Close()
		})
	}}
	tb.Cleanup(c.close)
	if _, err := c.c.Initialize(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return c
}

// request sends one request, with params as they are, and waits for its
// response, which must be a success (no JSON-RPC error, no tool error).
func (c *stdioClawgate) request(method, params string) error {
	res, err := c.c.Request(context.Background(), method, json.RawMessage(params))
	if err != nil {
		return err
	}
	return toolFailed(res)
}

// toolFailed reports a tool error in a tools/call result. It looks for
// "isError":true instead of decoding the result again, which would add a
// second pass over every reply to what the benchmarks measure.
func toolFailed(res json.RawMessage) error {
	if bytes.Contains(res, []byte(`"isError":true`)) {
		return fmt.Errorf("tool error: %.300s", res)
	}
	return nil
}
