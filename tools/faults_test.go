package tools_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/faultproxy"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/tools"
)

// Fault injection through the MCP tools: the same faults as
// gateway/faults_test.go, seen by an MCP client. Every tool call returns
// within its bound with isError and a message that says what happened (or,
// for gateway_status, connected:false), and the next call works once the
// gateway does. TESTING.md lists the cases.

// The client under test waits with long timeouts (testwait.LongTimeout), so
// that an error that must come at once is required well before a timeout
// could have produced it. The cases that check that a timeout fires set that
// timeout to gatewaywait.QuickTimeout(t), measured on this machine, and
// allow twice it.

// fMaxBackoff is the client's longest reconnect backoff in these cases.
const fMaxBackoff = 30 * time.Millisecond

// toolBound is how long a read or patch tool may take before it has hung:
// it makes at most eight gateway calls, each waiting for at most one
// connect and its call timeout.
func toolBound(o gateway.Options) time.Duration { return 8 * (o.DialTimeout + o.CallTimeout) }

// askBound is how long an ask_subagent call may take before it has hung:
// twice its own wall-clock bound (timeout_seconds, by default
// tools.DefaultTimeout, which covers connecting, the model and the run).
const askBound = 2 * tools.DefaultTimeout

type toolFault struct {
	name   string
	proxy  bool
	quick  bool                                                                 // the case needs gatewaywait.QuickTimeout(t)
	setup  func(f *gatewaysim.Options, o *gateway.Options, quick time.Duration) // fake and client options
	inject func(t *testing.T, f *faultRig)
	tool   string
	args   map[string]any
	want   []string // substrings of the error text
	bounds gatewaywait.Bounds
	heal   func(f *faultRig)
}

type faultRig struct {
	*env
	p   *faultproxy.Proxy
	log *testwait.LogWatch
}

// lossNoticed returns a function that waits until the fake has closed every
// connection and the client has noticed that its connection is gone (it
// logs the loss), so that the next call does not race the drop. Call it
// before the drop.
func (f *faultRig) lossNoticed() func(t *testing.T) {
	n := f.log.Count(logConnLost)
	return func(t *testing.T) {
		t.Helper()
		if err := f.fake.WaitConnCount(testwait.Ctx(t), 0); err != nil {
			t.Fatal(err)
		}
		testwait.Until(t, "the client noticed the lost connection", func() bool { return f.log.Count(logConnLost) > n })
	}
}

// reconnectInto drops the healthy connection so that the next call connects
// into the fault, once the client has noticed.
func (f *faultRig) reconnectInto(t *testing.T) {
	t.Helper()
	noticed := f.lossNoticed()
	if f.p != nil {
		f.p.DropAll()
	}
	f.fake.DropConnections()
	noticed(t)
}

// dropWhenRunning drops the connection (with drop) as soon as the fake has
// the agent run, on its own goroutine (or, should the run never start, when
// the test's patience runs out: the call under the fault then fails).
func (f *faultRig) dropWhenRunning(t *testing.T, drop func()) {
	ctx := testwait.Ctx(t)
	go func() {
		_, _ = f.fake.WaitRuns(ctx, 1)
		drop()
	}()
}

func TestToolFaults(t *testing.T) {
	for _, tc := range []toolFault{
		{
			name: "gateway not listening",
			inject: func(t *testing.T, f *faultRig) {
				noticed := f.lossNoticed()
				f.fake.Stop()
				noticed(t)
			},
			tool:   "list_sessions",
			want:   []string{"cannot connect to the gateway at ws://127.0.0.1:", "connection refused", "Is the gateway running?"},
			bounds: gatewaywait.AtOnce,
			heal:   func(f *faultRig) { _ = f.fake.Start() },
		},
		{
			name:   "TCP accepted, no WebSocket upgrade",
			proxy:  true,
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.DialTimeout = q },
			inject: func(t *testing.T, f *faultRig) { f.p.SetMode(faultproxy.Blackhole); f.reconnectInto(t) },
			tool:   "list_models",
			want:   []string{"no WebSocket upgrade within the connect timeout"},
			bounds: gatewaywait.DialFires,
			heal:   func(f *faultRig) { f.p.Heal() },
		},
		{
			name:   "upgraded, no challenge",
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.DialTimeout = q },
			inject: func(t *testing.T, f *faultRig) { f.fake.SilentHandshake(); f.reconnectInto(t) },
			tool:   "list_models",
			want:   []string{"accepted the WebSocket but sent no connect.challenge"},
			bounds: gatewaywait.DialFires,
			heal:   func(f *faultRig) { f.fake.SetSilentHandshake(false) },
		},
		{
			name:   "challenge, connect never answered",
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.DialTimeout = q },
			inject: func(t *testing.T, f *faultRig) { f.fake.NoHelloReply(); f.reconnectInto(t) },
			tool:   "list_sessions",
			want:   []string{"did not complete the handshake"},
			bounds: gatewaywait.DialFires,
			heal:   func(f *faultRig) { f.fake.Handle("connect", nil) },
		},
		{
			name:   "call never answered",
			quick:  true,
			setup:  func(_ *gatewaysim.Options, o *gateway.Options, q time.Duration) { o.CallTimeout = q },
			inject: func(t *testing.T, f *faultRig) { f.fake.Stall("models.list") },
			tool:   "list_models",
			want:   []string{"did not send a reply to models.list within", "the connection stays open"},
			bounds: gatewaywait.CallFires,
			heal:   func(f *faultRig) { f.fake.Handle("models.list", nil) },
		},
		{
			name:   "connection dropped mid-ask_subagent",
			inject: func(t *testing.T, f *faultRig) { f.dropWhenRunning(t, f.fake.DropConnections) },
			tool:   "ask_subagent",
			// The run would last a minute, the tool call its default
			// timeout: the drop must end it at once.
			args: map[string]any{"message": "[[delay=60]] dropped"},
			want: []string{"connection to the gateway was lost", "the run may still be going on the gateway"},
			bounds: func(gateway.Options) (time.Duration, time.Duration) {
				return 0, testwait.WellBefore(tools.DefaultTimeout)
			},
		},
		{
			name:   "gateway stopped mid-ask_subagent",
			inject: func(t *testing.T, f *faultRig) { f.dropWhenRunning(t, f.fake.Stop) },
			tool:   "ask_subagent",
			args:   map[string]any{"message": "[[delay=60]] stopped"},
			want:   []string{"connection to the gateway was lost"},
			bounds: func(gateway.Options) (time.Duration, time.Duration) {
				return 0, testwait.WellBefore(tools.DefaultTimeout)
			},
			heal: func(f *faultRig) { _ = f.fake.Start() },
		},
		{
			name: "gateway restarted between calls",
			inject: func(t *testing.T, f *faultRig) {
				noticed := f.lossNoticed()
				f.fake.Stop()
				noticed(t)
				_ = f.fake.Start()
			},
			tool:   "list_sessions",
			bounds: func(o gateway.Options) (time.Duration, time.Duration) { return 0, toolBound(o) },
		},
		{
			name:  "tick silence (network stalls, connection stays open)",
			proxy: true,
			quick: true,
			// Ticks every quick: a healthy connection survives any stall
			// shorter than that (the watchdog allows two intervals). The
			// call timeout is far longer than the watchdog's two intervals;
			// the connect timeout is quick too, as gateway_status connects
			// into the frozen network.
			setup: func(f *gatewaysim.Options, o *gateway.Options, q time.Duration) {
				f.TickInterval = q
				o.DialTimeout, o.CallTimeout = q, max(testwait.LongTimeout, 10*q)
			},
			inject: func(t *testing.T, f *faultRig) { f.p.SetMode(faultproxy.Freeze) },
			tool:   "list_sessions",
			want:   []string{"no frame from the gateway for", "the gateway or the network stalled"},
			// The watchdog fires two intervals after the last frame, well
			// before the call timeout.
			bounds: func(o gateway.Options) (time.Duration, time.Duration) { return 0, testwait.WellBefore(o.CallTimeout) },
			heal:   func(f *faultRig) { f.p.Heal() },
		},
		{
			name:  "20 MiB response over the read limit",
			setup: func(f *gatewaysim.Options, _ *gateway.Options, _ time.Duration) { f.MaxPayload = 512 << 10 },
			inject: func(t *testing.T, f *faultRig) {
				big := `{"junk":"` + strings.Repeat("x", 20<<20) + `"}`
				f.fake.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":true,"payload":` + big + `}`))
				})
			},
			tool:   "list_sessions",
			want:   []string{"larger than the read limit"},
			bounds: gatewaywait.AtOnce,
			heal:   func(f *faultRig) { f.fake.Handle("sessions.list", nil) },
		},
		{
			name: "malformed response",
			inject: func(t *testing.T, f *faultRig) {
				f.fake.Handle("models.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":false,"error":["not","an","object"]}`))
				})
			},
			tool:   "list_models",
			want:   []string{"cannot decode"},
			bounds: gatewaywait.AtOnce, // not after the call timeout
			heal:   func(f *faultRig) { f.fake.Handle("models.list", nil) },
		},
		{
			name: "result of the wrong shape",
			inject: func(t *testing.T, f *faultRig) {
				f.fake.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
					_ = c.Reply(req.ID, map[string]any{"sessions": "not a list"})
				})
			},
			tool:   "list_sessions",
			want:   []string{"decode sessions.list result"},
			bounds: gatewaywait.AtOnce,
			heal:   func(f *faultRig) { f.fake.Handle("sessions.list", nil) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := &faultRig{log: testwait.NewLogWatch()}
			var quick time.Duration
			if tc.quick {
				quick = gatewaywait.QuickTimeout(t)
			}
			fo := gatewaysim.Options{Token: token}
			opts := gateway.Options{DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout,
				MinBackoff: 10 * time.Millisecond, MaxBackoff: fMaxBackoff, Logger: rig.log.Logger()}
			if tc.setup != nil {
				tc.setup(&fo, &opts, quick)
			}
			rig.env = setupFake(t, fo, tools.Config{}, func(o *gateway.Options) {
				o.DialTimeout, o.CallTimeout, o.MinBackoff, o.MaxBackoff, o.Logger = opts.DialTimeout, opts.CallTimeout, opts.MinBackoff, opts.MaxBackoff, opts.Logger
				if tc.proxy {
					rig.p = faultproxy.New(strings.TrimPrefix(o.URL, "ws://"))
					t.Cleanup(rig.p.Close)
					o.URL = "ws://" + rig.p.Addr()
				}
			})
			lo, hi := tc.bounds(opts)
			healthy(t, rig.env) // a working connection first
			if tc.inject != nil {
				tc.inject(t, rig)
			}
			start := time.Now()
			res := callBounded(t, rig.env, tc.tool, tc.args, hi)
			took := time.Since(start)
			if len(tc.want) == 0 {
				if res.IsError {
					t.Fatalf("%s: %s", tc.tool, text(res))
				}
			} else {
				if !res.IsError {
					t.Fatalf("%s succeeded under the fault: %s", tc.tool, text(res))
				}
				for _, w := range tc.want {
					if !strings.Contains(text(res), w) {
						t.Fatalf("%s error lacks %q (after %s): %s", tc.tool, w, took, text(res))
					}
				}
			}
			if took < lo {
				t.Fatalf("%s returned after %s, before its deadline %s", tc.tool, took, lo)
			}
			if b, _ := json.Marshal(res); strings.Contains(string(b), token) {
				t.Fatalf("token in the result: %s", b)
			}
			// gateway_status never fails: it reports the fault as data.
			var st tools.GatewayStatusOutput
			if sres := callBounded(t, rig.env, "gateway_status", nil, toolBound(opts)); sres.IsError {
				t.Fatalf("gateway_status is an error: %s", text(sres))
			} else {
				b, _ := json.Marshal(sres.StructuredContent)
				_ = json.Unmarshal(b, &st)
				if st.URL == "" || (!st.Connected && st.Error == "") {
					t.Fatalf("gateway_status: %s", b)
				}
			}
			if tc.heal != nil {
				tc.heal(rig)
			}
			time.Sleep(2 * opts.MaxBackoff) // the reconnect backoff (a timer) passes
			if res := callBounded(t, rig.env, "list_sessions", map[string]any{"limit": 1}, toolBound(opts)); res.IsError {
				t.Fatalf("first call after the fault is gone: %s", text(res))
			}
			if res := callBounded(t, rig.env, "ask_subagent", map[string]any{"message": "after " + tc.name}, askBound); res.IsError {
				t.Fatalf("ask_subagent after the fault is gone: %s", text(res))
			}
		})
	}
}

// gateway_status reports a gateway that is not there as data, not as an
// error, within the connect timeout.
func TestGatewayStatusUnderFaults(t *testing.T) {
	// The connect timeout fires under the fault, and a healthy connect
	// fits in it afterwards: measured on this machine.
	o := gateway.Options{DialTimeout: gatewaywait.QuickTimeout(t), CallTimeout: testwait.LongTimeout, MinBackoff: 10 * time.Millisecond, MaxBackoff: fMaxBackoff}
	e := setupFake(t, gatewaysim.Options{Token: token}, tools.Config{}, func(g *gateway.Options) {
		g.DialTimeout, g.CallTimeout, g.MinBackoff, g.MaxBackoff = o.DialTimeout, o.CallTimeout, o.MinBackoff, o.MaxBackoff
	})
	e.fake.SilentHandshake()
	res := callBounded(t, e, "gateway_status", nil, 2*o.DialTimeout)
	var st tools.GatewayStatusOutput
	b, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(b, &st)
	if res.IsError || st.Connected || !strings.Contains(st.Error, "sent no connect.challenge") {
		t.Fatalf("%s", b)
	}
	e.fake.SetSilentHandshake(false)
	time.Sleep(2 * o.MaxBackoff) // the reconnect backoff (a timer) passes
	res = callBounded(t, e, "gateway_status", nil, toolBound(o))
	b, _ = json.Marshal(res.StructuredContent)
	st = tools.GatewayStatusOutput{}
	_ = json.Unmarshal(b, &st)
	if res.IsError || !st.Connected || st.Error != "" {
		t.Fatalf("after the fault: %s", b)
	}
}

// healthy waits until a call succeeds, so that the fault hits a healthy
// client; only a broken setup makes it wait long (patience).
func healthy(t *testing.T, e *env) {
	t.Helper()
	testwait.Until(t, "healthy before the fault", func() bool {
		return !e.call(t, testwait.Ctx(t), "list_sessions", map[string]any{"limit": 1}, nil).IsError
	})
}

// callBounded calls a tool and fails the test if it has not returned within
// max, or returned a JSON-RPC error.
func callBounded(t *testing.T, e *env, name string, args map[string]any, max time.Duration) *mcp.CallToolResult {
	t.Helper()
	type result struct {
		res *mcp.CallToolResult
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name = name
		req.Params.Arguments = args
		res, err := e.c.CallTool(testwait.Ctx(t), req)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("%s: JSON-RPC error %v", name, r.err)
		}
		if took := time.Since(start); took > max {
			t.Fatalf("%s returned after %s, bound %s: %s", name, took, max, text(r.res))
		}
		return r.res
	case <-time.After(min(2*max, testwait.Patience())):
		t.Fatalf("%s hung: no result after %s (bound %s)", name, min(2*max, testwait.Patience()), max)
	}
	return nil
}
