package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/gateway/gatewaytest"
	"github.com/clawgate/clawgate/internal/faultproxy"
	"github.com/clawgate/clawgate/schema"
)

// Fault injection against the fake gateway, through the gateway client. Each
// case injects one fault, makes one call under it and checks that the call
// returns within its bound with the expected, clear error; then it removes
// the fault and checks that the very next call (after the short backoff)
// works. TESTING.md lists the cases. Faults already covered elsewhere are
// not repeated here: see TESTING.md for the map.

// Timeouts of the client under test: small, so that every bound is
// checked in well under a second.
const (
	fDialTimeout = 300 * time.Millisecond
	fCallTimeout = 1500 * time.Millisecond
	fMaxBackoff  = 30 * time.Millisecond
)

type faultEnv struct {
	ctx context.Context
	s   *gatewaytest.Server
	p   *faultproxy.Proxy // nil unless the case runs through the proxy
	c   *gateway.Client
}

// bigString is a JSON string value of about n bytes.
func bigString(n int) string { return `"` + strings.Repeat("x", n) + `"` }

// runIDOf decodes the idempotencyKey of an agent request.
func runIDOf(req gatewaytest.Request) string {
	var p struct{ IdempotencyKey string }
	_ = json.Unmarshal(req.Params, &p)
	return p.IdempotencyKey
}

func TestFaultMatrix(t *testing.T) {
	list := func(e *faultEnv) error {
		_, err := e.c.SessionsList(e.ctx, schema.SessionsListParams{Limit: 1})
		return err
	}
	for _, tc := range []struct {
		name     string
		fake     gatewaytest.Options
		proxy    bool
		opts     func(*gateway.Options)
		inject   func(t *testing.T, e *faultEnv)
		op       func(e *faultEnv) error
		check    func(t *testing.T, e *faultEnv, err error)
		min, max time.Duration // bounds of op's duration
		heal     func(e *faultEnv)
		parallel bool // slow under -race: runs alongside the other slow ones
	}{
		{
			name:   "gateway not listening",
			inject: func(t *testing.T, e *faultEnv) { e.s.Stop(); settleDrop(e) },
			op:     list,
			check:  wantConnectError("dial", "Is the gateway running?", "connection refused"),
			max:    fCallTimeout + 200*time.Millisecond,
			heal:   func(e *faultEnv) { _ = e.s.Start() },
		},
		{
			name:   "TCP accepted, no WebSocket upgrade",
			proxy:  true,
			inject: func(t *testing.T, e *faultEnv) { e.p.SetMode(faultproxy.Blackhole); dropAll(e) },
			op:     list,
			check:  wantConnectError("dial", "no WebSocket upgrade within the connect timeout", "Is the gateway running?"),
			min:    fDialTimeout - 50*time.Millisecond, max: fDialTimeout + time.Second,
			heal: func(e *faultEnv) { e.p.Heal() },
		},
		{
			name:   "upgraded, no challenge",
			inject: func(t *testing.T, e *faultEnv) { e.s.SilentHandshake(); dropAll(e) },
			op:     list,
			check:  wantConnectError("challenge", "sent no connect.challenge", "timed out waiting for the gateway"),
			min:    fDialTimeout - 50*time.Millisecond, max: fDialTimeout + time.Second,
			heal: func(e *faultEnv) { e.s.SetSilentHandshake(false) },
		},
		{
			name:   "challenge, connect never answered",
			inject: func(t *testing.T, e *faultEnv) { e.s.NoHelloReply(); dropAll(e) },
			op:     list,
			check:  wantConnectError("hello", "did not complete the handshake", "timed out waiting for the gateway"),
			min:    fDialTimeout - 50*time.Millisecond, max: fDialTimeout + time.Second,
			heal: func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name:   "connected, call never answered",
			inject: func(t *testing.T, e *faultEnv) { e.s.Stall("sessions.list") },
			op:     list,
			check: func(t *testing.T, e *faultEnv, err error) {
				var te *gateway.TimeoutError
				if !errors.As(err, &te) || te.Method != "sessions.list" || !strings.Contains(err.Error(), "did not send a reply to sessions.list") {
					t.Fatalf("got %T %v", err, err)
				}
			},
			min: fCallTimeout - 50*time.Millisecond, max: fCallTimeout + 500*time.Millisecond,
			heal: func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name:   "connection dropped mid-call",
			inject: func(t *testing.T, e *faultEnv) { e.s.Stall("sessions.list") },
			op: func(e *faultEnv) error {
				sent := len(e.s.RequestsFor("sessions.list"))
				go func() { // drop as soon as the request is on the gateway
					for deadline := time.Now().Add(5 * time.Second); len(e.s.RequestsFor("sessions.list")) == sent && time.Now().Before(deadline); {
						time.Sleep(2 * time.Millisecond)
					}
					e.s.DropConnections()
				}()
				return list(e)
			},
			check: wantConnLost("gateway connection broke"), // not a TimeoutError: the drop ended it
			max:   fCallTimeout + 200*time.Millisecond,
			heal:  func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name: "connection dropped mid-agent-run",
			op: func(e *faultEnv) error {
				var once sync.Once
				_, err := e.c.Agent(e.ctx, gateway.AgentRequest{Message: "[[delay=10]] cut me", SessionKey: "agent:main:fault", Timeout: time.Minute},
					func(schema.AgentEvent) { once.Do(func() { go e.s.DropConnections() }) })
				return err
			},
			check: func(t *testing.T, e *faultEnv, err error) {
				var re *gateway.RunError
				var lost *gateway.ConnLostError
				if !errors.As(err, &re) || !errors.As(err, &lost) || re.Aborted || re.AbortErr == nil ||
					!strings.Contains(err.Error(), "the connection is gone; the run may still be going on the gateway") || re.RunID == "" {
					t.Fatalf("got %T %v", err, err)
				}
			},
			max: 1500 * time.Millisecond,
		},
		{
			name: "gateway restarted between calls",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Stop()
				settleDrop(e) // the restart takes a moment
				mustStart(t, e.s)
			},
			op:    list,
			check: wantNoError,
			max:   2 * time.Second,
		},
		{
			name: "gateway restart announced (shutdown event, 1012) between calls",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Shutdown("update")
				e.s.Stop()
				settleDrop(e)
				mustStart(t, e.s)
			},
			op:    list,
			check: wantNoError,
			max:   2 * time.Second,
		},
		{
			name:   "tick silence (network stalls, connection stays open)",
			fake:   gatewaytest.Options{TickInterval: 100 * time.Millisecond},
			proxy:  true,
			opts:   func(o *gateway.Options) { o.CallTimeout = 5 * time.Second },
			inject: func(t *testing.T, e *faultEnv) { e.p.SetMode(faultproxy.Freeze) },
			op:     list,
			check:  wantConnLost("no frame from the gateway for", "2 × tickIntervalMs"),
			min:    150 * time.Millisecond, max: 2 * time.Second, // 2 × 100ms, checked every 25ms; the call timeout is 5s
			heal: func(e *faultEnv) { e.p.Heal() },
		},
		{
			name: "20 MiB response within policy.maxPayload (OpenClaw: 25 MiB)",
			opts: func(o *gateway.Options) { o.CallTimeout = 40 * time.Second },
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("sessions.list", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":true,"payload":{"count":1,"sessions":[{"key":"agent:main:big"}],"junk":` + bigString(20<<20) + `}}`))
				})
			},
			op: func(e *faultEnv) error {
				l, err := e.c.SessionsList(e.ctx, schema.SessionsListParams{Limit: 1})
				if err == nil && (len(l.Sessions) != 1 || l.Sessions[0].Key != "agent:main:big") {
					err = fmt.Errorf("decoded %+v", l)
				}
				return err
			},
			check:    wantNoError,
			max:      45 * time.Second, // decoding 20 MiB under -race on a busy 2-core machine
			heal:     func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
			parallel: true,
		},
		{
			name: "20 MiB response over the read limit (maxPayload 512 KiB, floor 1 MiB)",
			fake: gatewaytest.Options{MaxPayload: 512 << 10},
			opts: func(o *gateway.Options) { o.CallTimeout = 10 * time.Second },
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("sessions.list", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":true,"payload":{"junk":` + bigString(20<<20) + `}}`))
				})
			},
			op:    list,
			check: wantConnLost("larger than the read limit"),
			max:   2 * time.Second,
			heal:  func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name: "20 MiB frame during the handshake (pre-auth read limit 4 MiB)",
			opts: func(o *gateway.Options) { o.DialTimeout, o.CallTimeout = 5*time.Second, 10*time.Second },
			inject: func(t *testing.T, e *faultEnv) {
				frame := []byte(`{"type":"event","event":"noise","payload":` + bigString(20<<20) + `}`)
				e.s.Handle("connect", func(c *gatewaytest.Conn, req gatewaytest.Request) { _ = c.WriteRaw(frame) })
				dropAll(e)
			},
			op:    list,
			check: wantConnectError("hello", "larger than the read limit"),
			max:   2 * time.Second,
			heal:  func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name: "20 MiB event of another run during an agent run",
			opts: func(o *gateway.Options) { o.CallTimeout = 40 * time.Second },
			inject: func(t *testing.T, e *faultEnv) {
				big := []byte(`{"type":"event","event":"agent","payload":{"runId":"someone-elses-run","seq":1,"stream":"assistant","data":{"text":` + bigString(20<<20) + `}}}`)
				e.s.Handle("agent", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					id := runIDOf(req)
					_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "accepted", "acceptedAt": 1})
					_ = c.Event("agent", map[string]any{"runId": id, "seq": 1, "stream": "assistant", "data": map[string]any{"text": "before"}})
					_ = c.WriteRaw(big)
					_ = c.Event("agent", map[string]any{"runId": id, "seq": 2, "stream": "assistant", "data": map[string]any{"text": "after"}})
					_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "ok", "summary": "completed",
						"result": map[string]any{"payloads": []any{map[string]any{"text": "big neighbour survived"}}, "meta": map[string]any{"durationMs": 1}}})
				})
			},
			op: func(e *faultEnv) error {
				var texts []string
				run, err := e.c.Agent(e.ctx, gateway.AgentRequest{Message: "x", SessionKey: "agent:main:fault", Timeout: time.Minute},
					func(ev schema.AgentEvent) { texts = append(texts, ev.DecodeData().Text) })
				if err == nil && (run.Reply.Text() != "big neighbour survived" || strings.Join(texts, ",") != "before,after") {
					err = fmt.Errorf("reply %q, events %q", run.Reply.Text(), texts)
				}
				return err
			},
			check:    wantNoError,
			max:      45 * time.Second, // 20 MiB under -race on a busy machine
			heal:     func(e *faultEnv) { e.s.Handle("agent", nil) },
			parallel: true,
		},
		{
			name: "malformed response to a pending call (error is a string)",
			opts: func(o *gateway.Options) { o.CallTimeout = 10 * time.Second },
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("sessions.list", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":false,"error":"boom"}`))
				})
			},
			op: list,
			check: func(t *testing.T, e *faultEnv, err error) {
				ge, ok := gateway.AsError(err)
				if !ok || ge.Method != "sessions.list" || !strings.Contains(err.Error(), "the gateway sent a response clawgate cannot decode") {
					t.Fatalf("got %T %v", err, err)
				}
			},
			max:  2 * time.Second, // not the 10s call timeout
			heal: func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name: "malformed accepted reply to an agent request (ok is a string)",
			opts: func(o *gateway.Options) { o.CallTimeout = 10 * time.Second },
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("agent", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":"true","payload":{"runId":"` + runIDOf(req) + `","status":"accepted"}}`))
				})
			},
			op: func(e *faultEnv) error {
				_, err := e.c.Agent(e.ctx, gateway.AgentRequest{Message: "x", SessionKey: "agent:main:fault", Timeout: time.Minute}, nil)
				return err
			},
			check: func(t *testing.T, e *faultEnv, err error) {
				var re *gateway.RunError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), "cannot decode") || re.AbortErr == nil {
					t.Fatalf("got %T %v", err, err)
				}
				// The run might have been started: clawgate tried to abort it.
				if len(e.s.RequestsFor("chat.abort")) != 1 {
					t.Fatalf("abort requests: %+v", e.s.RequestsFor("chat.abort"))
				}
			},
			max:  2 * time.Second,
			heal: func(e *faultEnv) { e.s.Handle("agent", nil) },
		},
		{
			name: "malformed hello-ok (protocol is a string)",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("connect", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"connect","ok":true,"payload":{"protocol":"four"}}`))
				})
				dropAll(e)
			},
			op:    list,
			check: wantConnectError("hello", "undecodable hello-ok"),
			max:   fCallTimeout + 200*time.Millisecond,
			heal:  func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name: "hello-ok response frame of the wrong shape (ok is a string)",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("connect", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"connect","ok":"yes"}`))
				})
				dropAll(e)
			},
			op:    list,
			check: wantConnectError("hello", "gateway sent a malformed frame"),
			max:   fCallTimeout + 200*time.Millisecond,
			heal:  func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name: "hello-ok with an unknown protocol",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("connect", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"connect","ok":true,"payload":{"protocol":99}}`))
				})
				dropAll(e)
			},
			op:    list,
			check: wantConnectError("hello", "gateway chose protocol 99, outside 3..4"),
			max:   fCallTimeout + 200*time.Millisecond,
			heal:  func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parallel {
				t.Parallel()
			}
			if tc.fake.Token == "" {
				tc.fake.Token = testToken
			}
			s := newFake(t, tc.fake)
			e := &faultEnv{ctx: testCtx(t), s: s}
			url := s.URL()
			if tc.proxy {
				e.p = faultproxy.New(strings.TrimPrefix(s.URL(), "ws://"))
				t.Cleanup(e.p.Close)
				url = "ws://" + e.p.Addr()
			}
			o := gateway.Options{URL: url, DialTimeout: fDialTimeout, CallTimeout: fCallTimeout,
				AgentGrace: 200 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: fMaxBackoff}
			if tc.opts != nil {
				tc.opts(&o)
			}
			e.c = newClient(t, o)

			// A working connection first, so that every fault hits a client
			// that was healthy.
			if err := list(e); err != nil {
				t.Fatalf("before the fault: %v", err)
			}
			if tc.inject != nil {
				tc.inject(t, e)
			}
			took, err := bounded(t, tc.max, func() error { return tc.op(e) })
			tc.check(t, e, err)
			if took < tc.min {
				t.Fatalf("returned after %s, before its deadline %s", took, tc.min)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Fatalf("token in error: %v", err)
			}
			if tc.heal != nil {
				tc.heal(e)
			}
			time.Sleep(2 * fMaxBackoff) // let the reconnect backoff pass
			if _, err := bounded(t, 5*time.Second, func() error { return list(e) }); err != nil {
				t.Fatalf("first call after the fault is gone: %v", err)
			}
		})
	}
}

// bounded runs op and returns its error and duration; it fails the test if op
// has not returned within max (plus a little scheduling slack).
func bounded(t *testing.T, max time.Duration, op func() error) (time.Duration, error) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- op() }()
	select {
	case err := <-done:
		took := time.Since(start)
		if took > max {
			t.Fatalf("returned after %s, bound %s (err %v)", took, max, err)
		}
		return took, err
	case <-time.After(max + 5*time.Second):
		t.Fatalf("hung: no return after %s (bound %s)", max+5*time.Second, max)
	}
	return 0, nil
}

// dropAll drops the client's healthy connection so that the next call
// reconnects into the fault.
func dropAll(e *faultEnv) {
	if e.p != nil {
		e.p.DropAll()
	}
	e.s.DropConnections()
	settleDrop(e)
}

// settleDrop waits until the fake has closed every connection and gives the
// client's read loop time to notice, so that the next call does not race
// the drop (a request written into a connection that is just dying fails
// with ConnLostError, which is right but not the case under test).
func settleDrop(e *faultEnv) {
	for deadline := time.Now().Add(5 * time.Second); e.s.ConnCount() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}

func mustStart(t *testing.T, s *gatewaytest.Server) {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
}

func wantNoError(t *testing.T, _ *faultEnv, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("got %v", err)
	}
}

func wantConnectError(stage string, parts ...string) func(*testing.T, *faultEnv, error) {
	return func(t *testing.T, _ *faultEnv, err error) {
		t.Helper()
		var ce *gateway.ConnectError
		if !errors.As(err, &ce) || ce.Stage != stage {
			t.Fatalf("want a ConnectError at stage %s, got %T %v", stage, err, err)
		}
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error lacks %q: %v", p, err)
			}
		}
	}
}

func wantConnLost(parts ...string) func(*testing.T, *faultEnv, error) {
	return func(t *testing.T, _ *faultEnv, err error) {
		t.Helper()
		var lost *gateway.ConnLostError
		if !errors.As(err, &lost) || !strings.Contains(err.Error(), "connection to the gateway was lost") {
			t.Fatalf("want a ConnLostError, got %T %v", err, err)
		}
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error lacks %q: %v", p, err)
			}
		}
	}
}

// A malformed connect.challenge fails the connect with a clear error; the
// next connection, with a good challenge, works.
func TestMalformedChallenge(t *testing.T) {
	var conns atomic.Int32
	url := newScripted(t, func(ctx context.Context, s *scriptConn) {
		if conns.Add(1) == 1 {
			s.sendRaw([]byte("this is not a frame"))
			s.drain(ctx)
			return
		}
		s.challenge()
		if !s.hello(ctx, "openclaw", nil) {
			return
		}
		for {
			req, ok := s.recv(ctx)
			if !ok {
				return
			}
			s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": map[string]any{"fine": true}})
		}
	})
	c := newClient(t, gateway.Options{URL: url, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	_, err := bounded(t, 2*time.Second, func() error { return c.Call(testCtx(t), "status", nil, nil) })
	wantConnectError("challenge", "gateway sent a malformed frame")(t, nil, err)
	time.Sleep(50 * time.Millisecond)
	var out struct{ Fine bool }
	if err := c.Call(testCtx(t), "status", nil, &out); err != nil || !out.Fine {
		t.Fatalf("after a good challenge: %v %+v", err, out)
	}
}

// Malformed and foreign frames in the middle of an agent run are skipped:
// the run's own well-formed events arrive in order and the result is right.
func TestMalformedFramesDuringAgentRun(t *testing.T) {
	s := newFake(t, gatewaytest.Options{})
	s.Handle("agent", func(c *gatewaytest.Conn, req gatewaytest.Request) {
		id := runIDOf(req)
		raw := func(s string) { _ = c.WriteRaw([]byte(s)) }
		_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "accepted", "acceptedAt": 1})
		raw(`{"type":"event","event":"agent","payload":{"runId":"` + id + `","seq":"one","stream":"assistant"}}`) // seq of the wrong type
		raw(`{"type":"event","event":"agent","payload":{"runId":"` + id + `","seq":1,"stream":"assistant","data":{"text":"a"}}}`)
		raw(`{"type":"event","event":"agent","payload":{"runId":"` + id + `","seq":2,"stream":"assistant","data":"not an object"}}`)
		raw(`{"type":"event","event":"agent","payload":[1,2,3]}`)
		raw(`{"type":"event","event":"agent","payload":{"seq":3,"stream":"assistant","data":{"text":"no run id"}}}`)
		raw(`{"type":"event","event":42,"payload":{}}`)
		raw(`{"type":"event","event":"shutdown","payload":{"reason":5}}`)
		raw(`{"type":"event","event":"chat","payload":null}`)
		raw(`{"type":"hello","id":"` + req.ID + `"}`)
		raw(`{"type":"res","id":"no-such-request","ok":true,"payload":{}}`)
		raw(`{"type":"res","ok":true}`)
		raw(`[]`)
		raw(`null`)
		raw("\x00\xff garbage")
		raw(`{"type":"event","event":"agent","payload":{"runId":"` + id + `","seq":3,"stream":"assistant","data":{"text":"b"}}}`)
		_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "ok", "summary": "completed",
			"result": map[string]any{"payloads": []any{map[string]any{"text": "survived"}}, "meta": map[string]any{"durationMs": 1}}})
	})
	c := newClient(t, gateway.Options{URL: s.URL(), CallTimeout: 5 * time.Second})
	var texts []string
	var seqs []int64
	_, err := bounded(t, 3*time.Second, func() error {
		run, err := c.Agent(testCtx(t), gateway.AgentRequest{Message: "x", SessionKey: "agent:main:t", Timeout: time.Minute}, func(ev schema.AgentEvent) {
			texts = append(texts, ev.DecodeData().Text)
			seqs = append(seqs, ev.Seq)
		})
		if err == nil && run.Reply.Text() != "survived" {
			err = fmt.Errorf("reply %+v", run.Reply)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[1 2 3]" || strings.Join(texts, ",") != "a,,b" {
		t.Fatalf("events seq %v text %q", seqs, texts)
	}
	// The connection survived all of it.
	if _, err := c.SessionsList(testCtx(t), schema.SessionsListParams{Limit: 1}); err != nil || len(s.Connects()) != 1 {
		t.Fatalf("after the run: %v, %d connects", err, len(s.Connects()))
	}
}

// A flood of the run's own events faster than the callback consumes them is
// dropped beyond the buffer (progress is best effort), counted, and never
// delays the result by more than the queued backlog.
func TestOwnEventFloodWithSlowCallback(t *testing.T) {
	const flood = 3000
	s := newFake(t, gatewaytest.Options{})
	s.Handle("agent", func(c *gatewaytest.Conn, req gatewaytest.Request) {
		id := runIDOf(req)
		_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "accepted", "acceptedAt": 1})
		for i := 1; i <= flood; i++ {
			_ = c.Event("agent", map[string]any{"runId": id, "seq": i, "stream": "assistant", "data": map[string]any{"text": "t"}})
		}
		_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "ok", "summary": "completed",
			"result": map[string]any{"payloads": []any{map[string]any{"text": "flooded"}}, "meta": map[string]any{"durationMs": 1}}})
	})
	c := newClient(t, gateway.Options{URL: s.URL()})
	var delivered atomic.Int64
	var run *gateway.AgentRun
	_, err := bounded(t, 10*time.Second, func() (err error) {
		run, err = c.Agent(testCtx(t), gateway.AgentRequest{Message: "x", SessionKey: "agent:main:t", Timeout: time.Minute}, func(schema.AgentEvent) {
			delivered.Add(1)
			time.Sleep(time.Millisecond)
		})
		return err
	})
	if err != nil || run.Reply.Text() != "flooded" {
		t.Fatalf("%+v %v", run, err)
	}
	if run.DroppedEvents == 0 || delivered.Load()+run.DroppedEvents != flood {
		t.Fatalf("delivered %d + dropped %d != %d", delivered.Load(), run.DroppedEvents, flood)
	}
	// onEvent is never called after Agent returned.
	n := delivered.Load()
	time.Sleep(50 * time.Millisecond)
	if delivered.Load() != n {
		t.Fatal("onEvent called after Agent returned")
	}
}

// Concurrent calls in flight when the gateway restarts all fail at once with
// the cause, none hangs, and the next round of calls works on one new
// connection.
func TestRestartWithManyCallsInFlight(t *testing.T) {
	s := newFake(t, gatewaytest.Options{})
	s.Stall("status")
	c := newClient(t, gateway.Options{URL: s.URL(), CallTimeout: 10 * time.Second, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if _, err := c.Info(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	const n = 50
	errs := make(chan error, n)
	for range n {
		go func() { errs <- c.Call(testCtx(t), "status", nil, nil) }()
	}
	for deadline := time.Now().Add(5 * time.Second); len(s.RequestsFor("status")) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d calls reached the gateway", len(s.RequestsFor("status")), n)
		}
	}
	s.Stop()
	start := time.Now()
	for range n {
		select {
		case err := <-errs:
			var lost *gateway.ConnLostError
			if !errors.As(err, &lost) {
				t.Fatalf("got %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("a call in flight did not return after the gateway stopped")
		}
	}
	if el := time.Since(start); el > 2*time.Second { // the call timeout is 10s
		t.Fatalf("calls failed after %s", el)
	}
	s.Handle("status", nil)
	mustStart(t, s)
	time.Sleep(50 * time.Millisecond)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.Status(testCtx(t)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := len(s.Connects()); got != 2 {
		t.Fatalf("%d connects, want 2 (one before, one after the restart)", got)
	}
}
