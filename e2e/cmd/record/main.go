// Command record captures raw gateway frames of the cases where a real
// gateway surprised the e2e tests, in the line format of
// testdata/frames/*.jsonl ({t, scenario, conn, dir: in|out|meta, frame}):
//
//	go run ./e2e/cmd/record --url ws://127.0.0.1:PORT --token T --protocol 4 \
//	    --out e2e/testdata/frames-openclaw-2026.9.6.jsonl
//
// Point it at a gateway configured like the e2e gateways (fake model with
// the "[[delay=N]]" marker), e.g. one started with go run ./e2e/cmd/gateways.
// Scenarios (all by default, or --scenario a,b):
//
//   - run-timeout: an agent run whose own timeout (2 s) passes while the
//     model is still answering, then sessions.list;
//   - active-run: sessions.list while a run is in progress, then (protocol 4
//     only) chat.abort of that run and agent.wait on it, and sessions.list
//     afterwards.
//
// The token is replaced by "<TOKEN>" in the output, and --replace OLD=NEW
// takes machine-specific paths out.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

var (
	url      = flag.String("url", "ws://127.0.0.1:18789", "gateway URL")
	token    = flag.String("token", "", "gateway token")
	protocol = flag.Int("protocol", 4, "gateway protocol (4 OpenClaw, 3 Clawdbot)")
	out      = flag.String("out", "frames.jsonl", "output file (appended)")
	only     = flag.String("scenario", "", "comma-separated scenarios (default all)")
	replace  replacements
)

// replacements are OLD=NEW pairs applied to every recorded line, to take
// machine-specific paths out of the transcripts.
type replacements [][2]string

func (r *replacements) String() string { return fmt.Sprint(*r) }

func (r *replacements) Set(v string) error {
	old, repl, ok := strings.Cut(v, "=")
	if !ok || old == "" {
		return fmt.Errorf("want OLD=NEW, got %q", v)
	}
	*r = append(*r, [2]string{old, repl})
	return nil
}

func init() {
	flag.Var(&replace, "replace", "replace OLD=NEW in the output, e.g. --replace /tmp/run1=<RUN_DIR> (repeatable)")
}

// recorder writes frames to the output file.
type recorder struct {
	mu sync.Mutex
	f  *os.File
}

func (r *recorder) write(scenario string, conn int, dir string, frame json.RawMessage) {
	line, _ := json.Marshal(map[string]any{"t": time.Now().UnixMilli(), "scenario": scenario, "conn": conn, "dir": dir, "frame": frame})
	s := string(line)
	if *token != "" {
		s = strings.ReplaceAll(s, *token, "<TOKEN>")
	}
	for _, r := range replace {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(r.f, s)
}

// conn is one recorded gateway connection.
type conn struct {
	rec      *recorder
	scenario string
	n        int
	ws       *websocket.Conn
	frames   chan map[string]json.RawMessage
}

func dial(ctx context.Context, rec *recorder, scenario string, n int) (*conn, error) {
	ws, _, err := websocket.Dial(ctx, *url, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(32 << 20)
	c := &conn{rec: rec, scenario: scenario, n: n, ws: ws, frames: make(chan map[string]json.RawMessage, 1024)}
	meta, _ := json.Marshal(map[string]string{"event": "open", "url": *url})
	rec.write(scenario, n, "meta", meta)
	go func() {
		defer close(c.frames)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				meta, _ := json.Marshal(map[string]string{"event": "close", "err": err.Error()})
				rec.write(scenario, n, "meta", meta)
				return
			}
			rec.write(scenario, n, "in", b)
			var f map[string]json.RawMessage
			if json.Unmarshal(b, &f) == nil {
				c.frames <- f
			}
		}
	}()
	if _, err := c.next(ctx, func(f map[string]json.RawMessage) bool { return str(f["event"]) == "connect.challenge" }); err != nil {
		return nil, err
	}
	id := c.send("connect", map[string]any{
		"minProtocol": *protocol, "maxProtocol": *protocol,
		"client": map[string]any{"id": "gateway-client", "displayName": "clawgate-e2e-record", "version": "0.0.1",
			"platform": "linux", "mode": "backend", "instanceId": uuid.NewString()},
		"caps": []string{}, "auth": map[string]any{"token": *token}, "role": "operator", "scopes": []string{"operator.admin"},
	})
	f, err := c.res(ctx, id)
	if err != nil {
		return nil, err
	}
	if str(f["ok"]) != "true" {
		return nil, fmt.Errorf("connect refused: %s", f["error"])
	}
	return c, nil
}

func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func (c *conn) send(method string, params any) string {
	id := uuid.NewString()
	b, _ := json.Marshal(map[string]any{"type": "req", "id": id, "method": method, "params": params})
	c.rec.write(c.scenario, c.n, "out", b)
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		log.Printf("%s: write: %v", c.scenario, err)
	}
	return id
}

// next returns the next frame that satisfies match.
func (c *conn) next(ctx context.Context, match func(map[string]json.RawMessage) bool) (map[string]json.RawMessage, error) {
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return nil, errors.New("connection closed")
			}
			if match(f) {
				return f, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// res waits for a response to id that is not an "accepted" acknowledgement.
func (c *conn) res(ctx context.Context, id string) (map[string]json.RawMessage, error) {
	return c.next(ctx, func(f map[string]json.RawMessage) bool {
		if str(f["type"]) != "res" || str(f["id"]) != id {
			return false
		}
		var p struct{ Status string }
		_ = json.Unmarshal(f["payload"], &p)
		return p.Status != "accepted"
	})
}

func (c *conn) close() { c.ws.Close(websocket.StatusNormalClosure, "done") }

func agentParams(msg, key string, timeout int) map[string]any {
	p := map[string]any{"message": msg, "sessionKey": key, "idempotencyKey": uuid.NewString()}
	if timeout > 0 {
		p["timeout"] = timeout
	}
	return p
}

var scenarios = map[string]func(ctx context.Context, rec *recorder) error{
	"run-timeout": func(ctx context.Context, rec *recorder) error {
		c, err := dial(ctx, rec, "run-timeout", 1)
		if err != nil {
			return err
		}
		defer c.close()
		key := "agent:main:e2e-rec-timeout-" + uuid.NewString()[:8]
		id := c.send("agent", agentParams("[[delay=30]] record run timeout", key, 2))
		if _, err := c.res(ctx, id); err != nil {
			return err
		}
		c.send("sessions.list", map[string]any{"limit": 3})
		time.Sleep(time.Second)
		return nil
	},
	"active-run": func(ctx context.Context, rec *recorder) error {
		c, err := dial(ctx, rec, "active-run", 1)
		if err != nil {
			return err
		}
		defer c.close()
		key := "agent:main:e2e-rec-active-" + uuid.NewString()[:8]
		params := agentParams("[[delay=20]] record active run", key, 60)
		agentID := c.send("agent", params)
		acc, err := c.next(ctx, func(f map[string]json.RawMessage) bool { return str(f["id"]) == agentID })
		if err != nil {
			return err
		}
		var p struct{ RunID string }
		_ = json.Unmarshal(acc["payload"], &p)
		time.Sleep(2 * time.Second)
		if _, err := c.res(ctx, c.send("sessions.list", map[string]any{"limit": 3})); err != nil {
			return err
		}
		if *protocol >= 4 {
			if _, err := c.res(ctx, c.send("chat.abort", map[string]any{"sessionKey": key, "runId": p.RunID})); err != nil {
				return err
			}
			if _, err := c.res(ctx, agentID); err != nil {
				return err
			}
			if _, err := c.res(ctx, c.send("agent.wait", map[string]any{"runId": p.RunID, "timeoutMs": 1000})); err != nil {
				return err
			}
		}
		time.Sleep(500 * time.Millisecond)
		_, err = c.res(ctx, c.send("sessions.list", map[string]any{"limit": 3}))
		return err
	},
}

func main() {
	flag.Parse()
	f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rec := &recorder{f: f}
	if *token == "" {
		log.Fatal("--token is required")
	}
	names := []string{"run-timeout", "active-run"}
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	for _, name := range names {
		fn, ok := scenarios[name]
		if !ok {
			log.Fatalf("unknown scenario %q", name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		err := fn(ctx, rec)
		cancel()
		log.Printf("%s: %v", name, err)
	}
}
