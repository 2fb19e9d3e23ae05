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
	"github.com/clawgate/clawgate/internal/faultproxy"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/schema"
)

// Fault injection against the fake gateway, through the gateway client. Each
// case injects one fault, makes one call under it and checks that the call
// returns within its bound with the expected, clear error; then it removes
// the fault and checks that the very next call (after the short backoff)
// works. TESTING.md lists the cases. Faults already covered elsewhere are
// not repeated here: see TESTING.md for the map.

// The client under test waits with long timeouts (testwait.LongTimeout), so
// that an error that must come at once is required well before a timeout
// could have produced it. The cases that check that a timeout fires set that
// timeout to gatewaywait.QuickTimeout(t), measured on this machine, and
// allow twice it.
const fMaxBackoff = 30 * time.Millisecond

type faultEnv struct {
	ctx   context.Context
	s     *gatewaysim.Server
	p     *faultproxy.Proxy // nil unless the case runs through the proxy
	c     *gateway.Client
	log   *testwait.LogWatch
	quick time.Duration // gatewaywait.QuickTimeout(t), for the cases that use it
}

// bigString is a JSON string value of about n bytes.
func bigString(n int) string { return `"` + strings.Repeat("x", n) + `"` }

// runIDOf decodes the idempotencyKey of an agent request.
func runIDOf(req gatewaysim.Request) string {
	var p struct{ IdempotencyKey string }
	_ = json.Unmarshal(req.Params, &p)
	return p.IdempotencyKey
}

// succeeds: the operation succeeds before the client's own timeouts (a
// connect and a call) would have ended it.
func succeeds(o gateway.Options) (time.Duration, time.Duration) {
	return 0, o.DialTimeout + o.CallTimeout
}

func TestFaultMatrix(t *testing.T) {
	list := func(e *faultEnv) error {
		_, err := e.c.SessionsList(e.ctx, schema.SessionsListParams{Limit: 1})
		return err
	}
	for _, tc := range []struct {
		name     string
		proxy    bool
		quick    bool                                                                 // the case needs gatewaywait.QuickTimeout(t) (in e.quick and setup's argument)
		setup    func(f *gatewaysim.Options, o *gateway.Options, quick time.Duration) // fake and client options
		inject   func(t *testing.T, e *faultEnv)
		op       func(e *faultEnv) error
		check    func(t *testing.T, e *faultEnv, err error)
		bounds   gatewaywait.Bounds // of op's duration
		heal     func(e *faultEnv)
		parallel bool // slow under -race: runs alongside the other slow ones
	}{
		{
			name:   "gateway not listening",
			inject: func(t *testing.T, e *faultEnv) { noticed := lossNoticed(e); e.s.Stop(); noticed(t) },
			op:     list,
			check:  wantConnectError("dial", "cannot connect to the gateway at", "connection refused"),
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { _ = e.s.Start() },
		},
		{
			name:   "TCP accepted, no WebSocket upgrade",
			proxy:  true,
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.DialTimeout = q },
			inject: func(t *testing.T, e *faultEnv) { e.p.SetMode(faultproxy.Blackhole); dropAll(t, e) },
			op:     list,
			check:  wantConnectError("dial", "no WebSocket upgrade within the connect timeout", "cannot connect to the gateway at"),
			bounds: gatewaywait.DialFires,
			heal:   func(e *faultEnv) { e.p.Heal() },
		},
		{
			name:   "upgraded, no challenge",
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.DialTimeout = q },
			inject: func(t *testing.T, e *faultEnv) { e.s.SilentHandshake(); dropAll(t, e) },
			op:     list,
			check:  wantConnectError("challenge", "sent no connect.challenge", "timed out waiting for the gateway"),
			bounds: gatewaywait.DialFires,
			heal:   func(e *faultEnv) { e.s.SetSilentHandshake(false) },
		},
		{
			name:   "challenge, connect never answered",
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.DialTimeout = q },
			inject: func(t *testing.T, e *faultEnv) { e.s.NoHelloReply(); dropAll(t, e) },
			op:     list,
			check:  wantConnectError("hello", "did not complete the handshake", "timed out waiting for the gateway"),
			bounds: gatewaywait.DialFires,
			heal:   func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name:   "connected, call never answered",
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.CallTimeout = q },
			inject: func(t *testing.T, e *faultEnv) { e.s.Stall("sessions.list") },
			op:     list,
			check: func(t *testing.T, e *faultEnv, err error) {
				var te *gateway.TimeoutError
				if !errors.As(err, &te) || te.Method != "sessions.list" || !strings.Contains(err.Error(), "did not send a reply to sessions.list") {
					t.Fatalf("got %T %v", err, err)
				}
			},
			bounds: gatewaywait.CallFires,
			heal:   func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name:   "connection dropped mid-call",
			inject: func(t *testing.T, e *faultEnv) { e.s.Stall("sessions.list") },
			op: func(e *faultEnv) error {
				sent := len(e.s.RequestsFor("sessions.list"))
				done := make(chan struct{})
				defer close(done)
				go func() { // drop as soon as the request is on the gateway
					for len(e.s.RequestsFor("sessions.list")) == sent {
						select {
						case <-done:
							return
						case <-time.After(2 * time.Millisecond):
						}
					}
					e.s.DropConnections()
				}()
				return list(e)
			},
			check:  wantConnLost("gateway connection broke"), // not a TimeoutError: the drop ended it
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name: "connection dropped mid-agent-run",
			op: func(e *faultEnv) error {
				var once sync.Once
				// The run would go on for a minute: the drop must end the wait at once.
				_, err := e.c.Agent(e.ctx, gateway.AgentRequest{Message: "[[delay=60]] cut me", SessionKey: "agent:main:fault", Timeout: 2 * time.Minute},
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
			bounds: func(gateway.Options) (time.Duration, time.Duration) { return 0, testwait.WellBefore(time.Minute) }, // the run's [[delay=60]]
		},
		{
			name: "gateway restarted between calls",
			inject: func(t *testing.T, e *faultEnv) {
				noticed := lossNoticed(e)
				e.s.Stop()
				noticed(t)
				mustStart(t, e.s)
			},
			op:     list,
			check:  wantNoError,
			bounds: succeeds,
		},
		{
			name: "gateway restart announced (shutdown event, 1012) between calls",
			inject: func(t *testing.T, e *faultEnv) {
				noticed := lossNoticed(e)
				e.s.Shutdown("update")
				e.s.Stop()
				noticed(t)
				mustStart(t, e.s)
			},
			op:     list,
			check:  wantNoError,
			bounds: succeeds,
		},
		{
			name:  "tick silence (network stalls, connection stays open)",
			proxy: true,
			quick: true,
			// Ticks every quick: a healthy connection survives any stall
			// shorter than that (the watchdog allows two intervals). The
			// call timeout is far longer than the watchdog's two
			// intervals.
			setup: func(f *gatewaysim.Options, o *gateway.Options, q time.Duration) {
				f.TickInterval = q
				o.CallTimeout = max(testwait.LongTimeout, 10*q)
			},
			inject: func(t *testing.T, e *faultEnv) { e.p.SetMode(faultproxy.Freeze) },
			op:     list,
			check:  wantConnLost("no frame from the gateway for", "2 × tickIntervalMs"),
			// The watchdog fires two intervals after the last frame, well
			// before the call timeout; the error says it was the watchdog.
			bounds: func(o gateway.Options) (time.Duration, time.Duration) { return 0, testwait.WellBefore(o.CallTimeout) },
			heal:   func(e *faultEnv) { e.p.Heal() },
		},
		{
			name: "20 MiB response within policy.maxPayload (OpenClaw: 25 MiB)",
			// Decoding 20 MiB takes a quarter of a second without -race
			// and ten times that with it, more on a busy machine: the
			// call may take as long as it needs (patience).
			setup: func(_ *gatewaysim.Options, o *gateway.Options, _ time.Duration) { o.CallTimeout = testwait.Patience() },
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
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
			bounds:   succeeds,
			heal:     func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
			parallel: true,
		},
		{
			name:  "20 MiB response over the read limit (maxPayload 512 KiB, floor 8 MiB)",
			setup: func(f *gatewaysim.Options, _ *gateway.Options, _ time.Duration) { f.MaxPayload = 512 << 10 },
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":true,"payload":{"junk":` + bigString(20<<20) + `}}`))
				})
			},
			op:     list,
			check:  wantConnLost("larger than the read limit"),
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name: "20 MiB frame during the handshake (pre-auth read limit 4 MiB)",
			inject: func(t *testing.T, e *faultEnv) {
				frame := []byte(`{"type":"event","event":"noise","payload":` + bigString(20<<20) + `}`)
				e.s.Handle("connect", func(c *gatewaysim.Conn, req gatewaysim.Request) { _ = c.WriteRaw(frame) })
				dropAll(t, e)
			},
			op:     list,
			check:  wantConnectError("hello", "larger than the read limit"),
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name: "20 MiB event of another run during an agent run",
			// The client reads the 20 MiB event and decodes it to find
			// its run id (twice 20 MiB of JSON: a quarter of a second
			// without -race, ten times that with it, much more on a busy
			// 2-core machine), before the run's own later frames. The run
			// may take as long as that needs (patience): this case is
			// about the result, not about speed.
			setup: func(_ *gatewaysim.Options, o *gateway.Options, _ time.Duration) { o.CallTimeout = testwait.Patience() },
			inject: func(t *testing.T, e *faultEnv) {
				big := []byte(`{"type":"event","event":"agent","payload":{"runId":"someone-elses-run","seq":1,"stream":"assistant","data":{"text":` + bigString(20<<20) + `}}}`)
				e.s.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
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
				// No run timeout: the run ends with its result, or the
				// test's patience ends it.
				run, err := e.c.Agent(e.ctx, gateway.AgentRequest{Message: "x", SessionKey: "agent:main:fault"},
					func(ev schema.AgentEvent) { texts = append(texts, ev.DecodeData().Text) })
				if err == nil && (run.Reply.Text() != "big neighbour survived" || strings.Join(texts, ",") != "before,after") {
					err = fmt.Errorf("reply %q, events %q", run.Reply.Text(), texts)
				}
				return err
			},
			check: wantNoError,
			bounds: func(o gateway.Options) (time.Duration, time.Duration) {
				return 0, testwait.Patience()
			},
			heal:     func(e *faultEnv) { e.s.Handle("agent", nil) },
			parallel: true,
		},
		{
			name: "malformed response to a pending call (error is a string)",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
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
			bounds: gatewaywait.AtOnce, // not after the call timeout
			heal:   func(e *faultEnv) { e.s.Handle("sessions.list", nil) },
		},
		{
			name: "malformed accepted reply to an agent request (ok is a string)",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
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
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { e.s.Handle("agent", nil) },
		},
		{
			name: "malformed hello-ok (protocol is a string)",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("connect", func(c *gatewaysim.Conn, req gatewaysim.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"connect","ok":true,"payload":{"protocol":"four"}}`))
				})
				dropAll(t, e)
			},
			op:     list,
			check:  wantConnectError("hello", "undecodable hello-ok"),
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name: "hello-ok response frame of the wrong shape (ok is a string)",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("connect", func(c *gatewaysim.Conn, req gatewaysim.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"connect","ok":"yes"}`))
				})
				dropAll(t, e)
			},
			op:     list,
			check:  wantConnectError("hello", "gateway sent a malformed frame"),
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
		{
			name: "hello-ok with an unknown protocol",
			inject: func(t *testing.T, e *faultEnv) {
				e.s.Handle("connect", func(c *gatewaysim.Conn, req gatewaysim.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"connect","ok":true,"payload":{"protocol":99}}`))
				})
				dropAll(t, e)
			},
			op:     list,
			check:  wantConnectError("hello", "gateway chose protocol 99, outside 3..4"),
			bounds: gatewaywait.AtOnce,
			heal:   func(e *faultEnv) { e.s.Handle("connect", nil) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parallel {
				t.Parallel()
			}
			e := &faultEnv{ctx: testwait.Ctx(t), log: testwait.NewLogWatch()}
			if tc.quick {
				e.quick = gatewaywait.QuickTimeout(t)
			}
			fo := gatewaysim.Options{Token: testToken}
			o := gateway.Options{DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout, AgentGrace: 200 * time.Millisecond,
				MinBackoff: 10 * time.Millisecond, MaxBackoff: fMaxBackoff, Logger: e.log.Logger()}
			if tc.setup != nil {
				tc.setup(&fo, &o, e.quick)
			}
			e.s = newFake(t, fo)
			o.URL = e.s.URL()
			if tc.proxy {
				e.p = faultproxy.New(strings.TrimPrefix(e.s.URL(), "ws://"))
				t.Cleanup(e.p.Close)
				o.URL = "ws://" + e.p.Addr()
			}
			e.c = newClient(t, o)
			lo, hi := tc.bounds(o)

			// A working connection first, so that every fault hits a client
			// that was healthy.
			if _, err := bounded(t, o.DialTimeout+o.CallTimeout, func() error { return list(e) }); err != nil {
				t.Fatalf("before the fault: %v", err)
			}
			if tc.inject != nil {
				tc.inject(t, e)
			}
			took, err := bounded(t, hi, func() error { return tc.op(e) })
			tc.check(t, e, err)
			if took < lo {
				t.Fatalf("returned after %s, before its deadline %s", took, lo)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Fatalf("token in error: %v", err)
			}
			if tc.heal != nil {
				tc.heal(e)
			}
			time.Sleep(2 * fMaxBackoff) // the reconnect backoff (a timer) passes
			if _, err := bounded(t, o.DialTimeout+o.CallTimeout, func() error { return list(e) }); err != nil {
				t.Fatalf("first call after the fault is gone: %v", err)
			}
		})
	}
}

// bounded runs op and returns its error and duration; it fails the test if op
// has not returned within max.
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
	case <-time.After(min(2*max, testwait.Patience())):
		t.Fatalf("hung: no return after %s (bound %s)", min(2*max, testwait.Patience()), max)
	}
	return 0, nil
}

// lossNoticed returns a function that waits until the fake has closed every
// connection and the client has noticed that its connection is gone (it
// logs the loss), so that the next call does not race the drop (a request
// written into a connection that is just dying fails with ConnLostError,
// which is right but not the case under test). Call it before the drop.
func lossNoticed(e *faultEnv) func(t *testing.T) {
	n := e.log.Count(logConnLost)
	return func(t *testing.T) {
		t.Helper()
		wantNil(t, e.s.WaitConnCount(testwait.Ctx(t), 0))
		testwait.Until(t, "the client noticed the lost connection", func() bool { return e.log.Count(logConnLost) > n })
	}
}

// dropAll drops the client's healthy connection so that the next call
// reconnects into the fault.
func dropAll(t *testing.T, e *faultEnv) {
	t.Helper()
	noticed := lossNoticed(e)
	if e.p != nil {
		e.p.DropAll()
	}
	e.s.DropConnections()
	noticed(t)
}

func mustStart(t *testing.T, s *gatewaysim.Server) {
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

// wantConnectError checks for a ConnectError at stage, of the kind of that
// stage (what to do about it is the advice's, checked in tools), whose
// text holds parts.
func wantConnectError(stage string, parts ...string) func(*testing.T, *faultEnv, error) {
	kind := map[string]gateway.Kind{"dial": gateway.KindUnreachable, "challenge": gateway.KindNotGateway, "hello": gateway.KindHandshake}[stage]
	return func(t *testing.T, _ *faultEnv, err error) {
		t.Helper()
		var ce *gateway.ConnectError
		if !errors.As(err, &ce) || ce.Stage != stage {
			t.Fatalf("want a ConnectError at stage %s, got %T %v", stage, err, err)
		}
		if got := gateway.KindOf(err); got != kind {
			t.Fatalf("kind %v, want %v: %v", got, kind, err)
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
	o := gateway.Options{URL: url, DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	c := newClient(t, o)
	_, err := bounded(t, testwait.WellBefore(o.DialTimeout), func() error { return c.Call(testwait.Ctx(t), "status", nil, nil) })
	wantConnectError("challenge", "gateway sent a malformed frame")(t, nil, err)
	time.Sleep(2 * o.MaxBackoff) // the reconnect backoff (a timer) passes
	var out struct{ Fine bool }
	if err := c.Call(testwait.Ctx(t), "status", nil, &out); err != nil || !out.Fine {
		t.Fatalf("after a good challenge: %v %+v", err, out)
	}
}

// Malformed and foreign frames in the middle of an agent run are skipped:
// the run's own well-formed events arrive in order and the result is right.
func TestMalformedFramesDuringAgentRun(t *testing.T) {
	s := newFake(t, gatewaysim.Options{})
	s.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
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
	o := gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout}
	c := newClient(t, o)
	var texts []string
	var seqs []int64
	_, err := bounded(t, o.DialTimeout+o.CallTimeout, func() error {
		run, err := c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "x", SessionKey: "agent:main:t", Timeout: time.Minute}, func(ev schema.AgentEvent) {
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
	if _, err := c.SessionsList(testwait.Ctx(t), schema.SessionsListParams{Limit: 1}); err != nil || len(s.Connects()) != 1 {
		t.Fatalf("after the run: %v, %d connects", err, len(s.Connects()))
	}
}

// A flood of the run's own events faster than the callback consumes them is
// dropped beyond the buffer (progress is best effort), counted, and never
// delays the result by more than the queued backlog.
//
// The callback is blocked (as slow as can be) from the first event until the
// client has read the whole flood: the fake answers a ping of the same client
// after the flood, and frames are read in order.
func TestOwnEventFloodWithSlowCallback(t *testing.T) {
	const flood = 3000
	s := newFake(t, gatewaysim.Options{})
	pings := make(chan gatewaysim.Request, 1)
	s.Handle("test.ping", func(c *gatewaysim.Conn, req gatewaysim.Request) { pings <- req })
	s.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
		id := runIDOf(req)
		_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "accepted", "acceptedAt": 1})
		for i := 1; i <= flood; i++ {
			_ = c.Event("agent", map[string]any{"runId": id, "seq": i, "stream": "assistant", "data": map[string]any{"text": "t"}})
		}
		select {
		case ping := <-pings: // the ping's reply comes after the flood
			_ = c.Reply(ping.ID, map[string]any{})
		case <-time.After(testwait.Patience()):
		}
		_ = c.Reply(req.ID, map[string]any{"runId": id, "status": "ok", "summary": "completed",
			"result": map[string]any{"payloads": []any{map[string]any{"text": "flooded"}}, "meta": map[string]any{"durationMs": 1}}})
	})
	c := newClient(t, gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
	var delivered atomic.Int64
	first, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	type result struct {
		run *gateway.AgentRun
		err error
	}
	done := make(chan result, 1)
	go func() {
		run, err := c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "x", SessionKey: "agent:main:t", Timeout: time.Minute}, func(schema.AgentEvent) {
			delivered.Add(1)
			once.Do(func() { close(first) })
			<-release
		})
		done <- result{run, err}
	}()
	testwait.Recv(t, "the first event", first)
	err := c.Call(testwait.Ctx(t), "test.ping", nil, nil) // returns once the flood has been read
	close(release)
	if err != nil {
		t.Fatalf("ping after the flood: %v", err)
	}
	r := testwait.Recv(t, "the run's result", done)
	if r.err != nil || r.run.Reply.Text() != "flooded" {
		t.Fatalf("%+v %v", r.run, r.err)
	}
	if r.run.DroppedEvents == 0 || delivered.Load()+r.run.DroppedEvents != flood {
		t.Fatalf("delivered %d + dropped %d != %d", delivered.Load(), r.run.DroppedEvents, flood)
	}
	// onEvent is never called after Agent returned. (A window to catch a
	// late call: it cannot fail a correct client, however slow.)
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
	s := newFake(t, gatewaysim.Options{})
	s.Stall("status")
	o := gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	c := newClient(t, o)
	if _, err := c.Info(testwait.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	const n = 50
	errs := make(chan error, n)
	for range n {
		go func() { errs <- c.Call(testwait.Ctx(t), "status", nil, nil) }()
	}
	wantNil(t, s.WaitFor(testwait.Ctx(t), "all calls reached the gateway", func() bool { return len(s.RequestsFor("status")) >= n }))
	s.Stop()
	start := time.Now()
	for range n {
		err := testwait.Recv(t, "a call in flight after the gateway stopped", errs)
		var lost *gateway.ConnLostError
		if !errors.As(err, &lost) {
			t.Fatalf("got %v", err)
		}
	}
	if el := time.Since(start); el > testwait.WellBefore(o.CallTimeout) {
		t.Fatalf("calls failed after %s, not at once (the call timeout is %s)", el, o.CallTimeout)
	}
	s.Handle("status", nil)
	mustStart(t, s)
	time.Sleep(2 * o.MaxBackoff) // a reconnect backoff, if any, passes
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.Status(testwait.Ctx(t)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := len(s.Connects()); got != 2 {
		t.Fatalf("%d connects, want 2 (one before, one after the restart)", got)
	}
}
