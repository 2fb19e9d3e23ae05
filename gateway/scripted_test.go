package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/internal/testwait"
)

// A scripted server plays exactly the frames a test gives it, for handshake
// and transport cases that need byte-level control. Replies are taken from
// the real recordings in testdata/frames wherever one exists.

type script func(ctx context.Context, s *scriptConn)

type scriptConn struct {
	t  *testing.T
	ws *websocket.Conn
	r  *http.Request
}

func (s *scriptConn) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Errorf("marshal: %v", err)
		return
	}
	s.sendRaw(b)
}

func (s *scriptConn) sendRaw(b []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Patience())
	defer cancel()
	_ = s.ws.Write(ctx, websocket.MessageText, b)
}

// recv reads the next request frame.
func (s *scriptConn) recv(ctx context.Context) (map[string]any, bool) {
	_, b, err := s.ws.Read(ctx)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		s.t.Errorf("client sent non-JSON: %q", b)
		return nil, false
	}
	return m, true
}

// drain reads until the client goes away (or ctx ends).
func (s *scriptConn) drain(ctx context.Context) {
	for {
		if _, _, err := s.ws.Read(ctx); err != nil {
			return
		}
	}
}

func (s *scriptConn) challenge() {
	s.send(map[string]any{"type": "event", "event": "connect.challenge", "payload": map[string]any{"nonce": "n", "ts": 1}})
}

// helloFrom answers the connect request with the recorded hello-ok of the
// given generation, after applying mod to its payload.
func (s *scriptConn) hello(ctx context.Context, gen string, mod func(p map[string]any)) bool {
	req, ok := s.recv(ctx)
	if !ok || req["method"] != "connect" {
		return false
	}
	p := recordedHello(s.t, gen)
	if mod != nil {
		mod(p)
	}
	s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": p})
	return true
}

func newScripted(t *testing.T, sc script) string {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ws.SetReadLimit(64 << 20)
		// The script ends when the client goes away (or the test ends:
		// cleanup closes the connections); patience bounds a stuck one.
		ctx, cancel := context.WithTimeout(r.Context(), testwait.Patience())
		defer cancel()
		sc(ctx, &scriptConn{t: t, ws: ws, r: r})
		ws.CloseNow()
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

var (
	recOnce sync.Once
	recs    map[string][]recorded
)

type recorded struct {
	Scenario string          `json:"scenario"`
	Dir      string          `json:"dir"`
	Frame    json.RawMessage `json:"frame"`
}

// recordedFrames returns the gateway → client frames of one scenario of one
// generation ("openclaw" or "clawdbot") from testdata/frames.
func recordedFrames(t *testing.T, gen, scenario string) []map[string]any {
	t.Helper()
	recOnce.Do(func() {
		recs = map[string][]recorded{}
		for g, f := range map[string]string{"openclaw": "frames-openclaw-2026.9.6.jsonl", "clawdbot": "frames-clawdbot-2026.1.24-3.jsonl"} {
			fh, err := os.Open("../testdata/frames/" + f)
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(fh)
			sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
			for sc.Scan() {
				var r recorded
				if json.Unmarshal(sc.Bytes(), &r) == nil {
					recs[g] = append(recs[g], r)
				}
			}
			fh.Close()
		}
	})
	var out []map[string]any
	for _, r := range recs[gen] {
		if r.Scenario == scenario && r.Dir == "in" {
			var m map[string]any
			if err := json.Unmarshal(r.Frame, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no recorded frames for %s/%s", gen, scenario)
	}
	return out
}

// recordedResponse returns the first recorded res frame of a scenario.
func recordedResponse(t *testing.T, gen, scenario string) map[string]any {
	t.Helper()
	for _, f := range recordedFrames(t, gen, scenario) {
		if f["type"] == "res" {
			return f
		}
	}
	t.Fatalf("no recorded response for %s/%s", gen, scenario)
	return nil
}

func recordedHello(t *testing.T, gen string) map[string]any {
	t.Helper()
	scenario := map[string]string{"openclaw": "protocol-4", "clawdbot": "protocol-3"}[gen]
	return recordedResponse(t, gen, scenario)["payload"].(map[string]any)
}
