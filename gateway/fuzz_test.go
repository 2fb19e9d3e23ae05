package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/schema"
)

// Fuzz targets for everything clawgate decodes from the gateway. Seed
// corpora: testdata/fuzz/<target>/ (recorded real frames plus malformed
// ones). Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzHandleFrame$' -fuzztime 10s ./gateway/

// FuzzHandleFrame feeds arbitrary bytes, split at newlines into frames, to the
// read loop's dispatch, with one ordinary call, one agent call and one run
// subscription waiting. Whatever arrives, nothing panics or blocks, the
// connection stays usable, frames only ever reach the call or run they
// name, and neither the JSON they deliver nor the error an error reply
// becomes holds the client's token. (A string decoded from JSON may: a
// gateway that spells the token with escapes of its own choosing is not
// echoing it, and no scrubbing could stop one that wants it shown.) The
// agent call's frames are then taken as Agent takes them (agentFrame): an
// accepted reply is never taken for the final one, and once the final one
// is in, the call is no longer pending.
func FuzzHandleFrame(f *testing.F) {
	const token = "fuzz-SECRET-token"
	f.Add([]byte(`{"type":"res","id":"1","ok":true,"payload":{"sessions":[]}}`))
	f.Add([]byte(`{"type":"res","id":"2","ok":true,"payload":{"runId":"run-1","status":"accepted"}}` + "\n" +
		`{"type":"event","event":"agent","payload":{"runId":"run-1","seq":1,"stream":"assistant","data":{"text":"hi"}}}` + "\n" +
		`{"type":"res","id":"2","ok":true,"payload":{"runId":"run-1","status":"ok"}}`))
	f.Add([]byte(`{"type":"res","id":"1","ok":false,"error":"boom"}`))
	f.Add([]byte(`{"type":"event","event":"shutdown","payload":{"reason":"restart"}}`))
	f.Add([]byte(`{"type":"res","id":"1","ok":false,"error":{"code":"X","message":"bad fuzz-SECRET-token","details":{"fuzz-SECRET-token":1}}}`))
	f.Add([]byte(`{"type":"res","id":"2","ok":true,"payload":{"runId":"run-1","status":"\u0061ccepted"}}` + "\n" +
		`{"type":"event","event":"agent","payload":{"runId":"run-1","seq":1,"stream":"assistant","data":{"text":"fuzz-SECRET-token"}}}` + "\n" +
		`{"type":"res","id":"2","ok":true,"payload":{"runId":"run-1","status":"ok","text":"fuzz-SECRET-token"}}`))
	opts, err := Options{Token: token}.withDefaults()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newConn(nil, schema.HelloOK{Protocol: 4}, []string{ScopeAdmin}, opts)
		single := &pendingCall{frames: make(chan []byte, pendingFrames)}
		stream := &pendingCall{frames: make(chan []byte, pendingFrames), stream: true}
		c.pending["1"], c.pending["2"] = single, stream
		sub := c.subscribe("run-1")

		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, frame := range bytes.Split(data, []byte("\n")) {
				c.handleFrame(websocket.MessageText, frame)
			}
			c.handleFrame(websocket.MessageBinary, data)
		}()
		bound := testwait.FuzzPatience() // handleFrame never waits
		select {
		case <-done:
		case <-time.After(bound):
			t.Fatalf("handleFrame blocked for %s", bound)
		}

		if c.isDead() {
			t.Fatal("a frame killed the connection")
		}
		// check decodes the frames delivered to a call as its caller would
		// (decode, a decoding for an ordinary call; agentFrame for the
		// agent call) and checks each.
		check := func(name string, pc *pendingCall, decode func([]byte) response) []response {
			var got []response
			for len(pc.frames) > 0 {
				frame := <-pc.frames
				var head struct{ Type, ID string }
				if id, ok := responseID(frame); ok {
					head.Type, head.ID = schema.FrameResponse, id
				} else {
					_ = json.Unmarshal(frame, &head) // a type error elsewhere leaves these decoded
				}
				if head.ID != name || head.Type != schema.FrameResponse {
					t.Fatalf("call %s got a frame for %q of type %q: %q", name, head.ID, head.Type, frame)
				}
				if bytes.Contains(frame, []byte(token)) {
					t.Fatalf("call %s got the token: %q", name, frame)
				}
				r := decode(frame)
				if r.malformed() && !strings.Contains(r.Error.Message, "cannot decode") {
					t.Fatalf("malformed reply without a clear message: %+v", r.Error)
				}
				if len(r.Payload) > 0 && bytes.Contains(r.Payload, []byte(token)) {
					t.Fatalf("call %s got the token in %q", name, r.Payload)
				}
				if !r.OK {
					ge := c.newError("x", r.Error)
					if strings.Contains(ge.Error()+ge.Message+string(ge.RawDetails)+fmt.Sprintf("%+v", ge.Details), token) {
						t.Fatalf("call %s: the token in the error %v", name, ge)
					}
				}
				got = append(got, r)
			}
			return got
		}
		c.mu.Lock()
		_, singleWaits := c.pending["1"]
		c.mu.Unlock()
		s := check("1", single, func(frame []byte) response {
			var out json.RawMessage
			return c.decodeResponse(frame, &out)
		})
		if len(s) > 1 || (len(s) == 1) == singleWaits {
			t.Fatalf("ordinary call: %d replies, still pending %v", len(s), singleWaits)
		}
		// The agent call: Agent reads frames until one is not an
		// acceptance, then forgets the call.
		final := false
		m := check("2", stream, func(frame []byte) response {
			if final {
				return response{OK: true} // Agent has stopped reading
			}
			var reply schema.AgentReply
			r, status, _ := c.agentFrame(frame, &reply)
			accepted := !r.malformed() && r.OK && status == schema.RunAccepted
			var acc struct {
				OK      bool
				Payload struct{ Status string }
			}
			if !accepted && !r.malformed() && json.Unmarshal(frame, &acc) == nil && acc.OK && acc.Payload.Status == schema.RunAccepted {
				t.Fatalf("call 2: an accepted reply was taken for the final one: %q", frame)
			}
			if !accepted {
				final = true
				c.forget("2")
			}
			return r
		})
		if len(m) > pendingFrames {
			t.Fatalf("agent call: %d replies", len(m))
		}
		c.mu.Lock()
		_, streamWaits := c.pending["2"]
		c.mu.Unlock()
		if final && streamWaits {
			t.Fatal("agent call still pending after a final reply")
		}
		for len(sub.events) > 0 {
			ev := <-sub.events
			if ev.RunID != "run-1" {
				t.Fatalf("run-1 got an event of %q", ev.RunID)
			}
			if bytes.Contains(ev.Data, []byte(token)) {
				t.Fatalf("run-1 got the token: %s", ev.Data)
			}
		}
	})
}

// FuzzHandshake plays arbitrary frames as the gateway's side of the connect
// handshake over a real WebSocket: challenge frames (split at newlines), then,
// after the connect request, reply frames, then a close. dial either returns
// a usable connection on a supported protocol with scopes, or an error that
// never contains the token; it never panics and never outlives its timeout.
func FuzzHandshake(f *testing.F) {
	const token = "fuzz-SECRET-token"
	challenge := `{"type":"event","event":"connect.challenge","payload":{"nonce":"n","ts":1}}`
	f.Add([]byte(challenge), []byte(`{"type":"res","id":"connect","ok":true,"payload":{"type":"hello-ok","protocol":4,"server":{"version":"x"},"auth":{"scopes":["operator.admin"]},"policy":{"maxPayload":1048576,"tickIntervalMs":30000}}}`))
	f.Add([]byte(challenge), []byte(`{"type":"res","id":"connect","ok":true,"payload":{"protocol":3,"policy":{"tickIntervalMs":-1}}}`))
	f.Add([]byte(challenge), []byte(`{"type":"res","id":"connect","ok":false,"error":{"code":"INVALID_REQUEST","message":"unauthorized: gateway token mismatch"}}`))
	f.Add([]byte(`{"type":"event","event":"tick"}`+"\n"+challenge), []byte(`{"type":"event","event":"health"}`+"\n"+`{"type":"res","id":"connect","ok":true,"payload":{"protocol":4,"auth":{"scopes":[]}}}`))
	f.Add([]byte("not json"), []byte(""))

	var cur atomic.Pointer[[2][]byte]
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		// The client gives up after its DialTimeout; the server waits
		// twice that for the client's connect.
		ctx, cancel := context.WithTimeout(r.Context(), 2*fuzzDialTimeout)
		defer cancel()
		in := cur.Load()
		send := func(frames []byte) bool {
			for _, fr := range bytes.Split(frames, []byte("\n")) {
				if ws.Write(ctx, websocket.MessageText, fr) != nil {
					return false
				}
			}
			return true
		}
		if !send(in[0]) || !sendsConnect(in[0]) {
			// Closing at once instead of waiting for a connect that will not
			// come keeps every execution fast.
			_ = ws.Close(websocket.StatusNormalClosure, "")
			return
		}
		if _, _, err := ws.Read(ctx); err != nil {
			return
		}
		if !send(in[1]) {
			return
		}
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}))
	f.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	opts, err := Options{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Token: token, DialTimeout: fuzzDialTimeout}.withDefaults()
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, challenge, hello []byte) {
		cur.Store(&[2][]byte{challenge, hello})
		ctx, cancel := context.WithTimeout(context.Background(), opts.DialTimeout)
		defer cancel()
		start := time.Now()
		c, err := dial(ctx, opts, nil)
		// dial returns when its context ends at the latest; twice the
		// timeout means it did not.
		if el := time.Since(start); el > 2*opts.DialTimeout {
			t.Fatalf("dial took %s (timeout %s)", el, opts.DialTimeout)
		}
		if err != nil {
			if c != nil {
				t.Fatal("both a connection and an error")
			}
			if msg := err.Error(); msg == "" || strings.Contains(msg, token) {
				t.Fatalf("bad error %q", msg)
			}
			return
		}
		defer c.close("fuzz")
		if c.protocol < MinProtocol || c.protocol > MaxProtocol || len(c.scopes) == 0 {
			t.Fatalf("accepted protocol %d with scopes %v", c.protocol, c.scopes)
		}
		if tickInterval(c.hello.Policy) <= 0 {
			t.Fatalf("tick interval %s", tickInterval(c.hello.Policy))
		}
	})
}

// sendsConnect reports whether a client reading these frames reaches a
// connect.challenge (and so sends connect) before a frame it cannot decode.
func sendsConnect(frames []byte) bool {
	for _, fr := range bytes.Split(frames, []byte("\n")) {
		var f schema.InboundFrame
		if json.Unmarshal(fr, &f) != nil {
			return false
		}
		if f.Type == schema.FrameEvent && f.Event == "connect.challenge" {
			return true
		}
	}
	return false
}

// fuzzDialTimeout is FuzzHandshake's connect timeout: short, so that inputs
// that stall the handshake run fast. An input whose handshake would succeed
// but is slower than this on a busy machine fails the dial, which the target
// accepts (an error without the token).
const fuzzDialTimeout = 2 * time.Second
