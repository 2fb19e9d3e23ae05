package tools_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/gateway/gatewaytest"
	"github.com/clawgate/clawgate/internal/faultproxy"
	"github.com/clawgate/clawgate/schema"
	"github.com/clawgate/clawgate/tools"
)

// Fault injection through the MCP tools: the same faults as
// gateway/faults_test.go, seen by an MCP client. Every tool call returns
// within its bound with isError and a message that says what happened (or,
// for gateway_status, connected:false), and the next call works once the
// gateway does. TESTING.md lists the cases.

type toolFault struct {
	name   string
	fake   gatewaytest.Options
	proxy  bool
	inject func(t *testing.T, f *faultRig)
	tool   string
	args   map[string]any
	want   []string // substrings of the error text
	max    time.Duration
	heal   func(f *faultRig)
}

type faultRig struct {
	*env
	p *faultproxy.Proxy
}

// reconnectInto drops the healthy connection so that the next call connects
// into the fault, and gives the client a moment to notice.
func (f *faultRig) reconnectInto() {
	if f.p != nil {
		f.p.DropAll()
	}
	f.fake.DropConnections()
	f.settle()
}

// settle waits until the fake has closed every connection and gives the
// client time to notice, so that the next call does not race the drop.
func (f *faultRig) settle() {
	for deadline := time.Now().Add(5 * time.Second); f.fake.ConnCount() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}

func TestToolFaults(t *testing.T) {
	for _, tc := range []toolFault{
		{
			name:   "gateway not listening",
			inject: func(t *testing.T, f *faultRig) { f.fake.Stop(); f.settle() },
			tool:   "list_sessions",
			want:   []string{"cannot connect to the gateway at ws://127.0.0.1:", "connection refused", "Is the gateway running?"},
			max:    2 * time.Second,
			heal:   func(f *faultRig) { _ = f.fake.Start() },
		},
		{
			name:   "TCP accepted, no WebSocket upgrade",
			proxy:  true,
			inject: func(t *testing.T, f *faultRig) { f.p.SetMode(faultproxy.Blackhole); f.reconnectInto() },
			tool:   "list_models",
			want:   []string{"no WebSocket upgrade within the connect timeout"},
			max:    2500 * time.Millisecond,
			heal:   func(f *faultRig) { f.p.Heal() },
		},
		{
			name:   "upgraded, no challenge",
			inject: func(t *testing.T, f *faultRig) { f.fake.SilentHandshake(); f.reconnectInto() },
			tool:   "list_models",
			want:   []string{"accepted the WebSocket but sent no connect.challenge"},
			max:    2 * time.Second,
			heal:   func(f *faultRig) { f.fake.SetSilentHandshake(false) },
		},
		{
			name:   "challenge, connect never answered",
			inject: func(t *testing.T, f *faultRig) { f.fake.NoHelloReply(); f.reconnectInto() },
			tool:   "list_sessions",
			want:   []string{"did not complete the handshake"},
			max:    2 * time.Second,
			heal:   func(f *faultRig) { f.fake.Handle("connect", nil) },
		},
		{
			name:   "call never answered",
			inject: func(t *testing.T, f *faultRig) { f.fake.Stall("models.list") },
			tool:   "list_models",
			want:   []string{"did not send a reply to models.list within", "the connection stays open"},
			max:    2500 * time.Millisecond,
			heal:   func(f *faultRig) { f.fake.Handle("models.list", nil) },
		},
		{
			name: "connection dropped mid-ask_subagent",
			inject: func(t *testing.T, f *faultRig) {
				go func() { // as soon as the run is going
					for deadline := time.Now().Add(5 * time.Second); len(f.fake.Runs()) == 0 && time.Now().Before(deadline); {
						time.Sleep(5 * time.Millisecond)
					}
					time.Sleep(50 * time.Millisecond)
					f.fake.DropConnections()
				}()
			},
			tool: "ask_subagent",
			args: map[string]any{"message": "[[delay=10]] dropped"},
			want: []string{"connection to the gateway was lost", "the run may still be going on the gateway"},
			max:  3 * time.Second,
		},
		{
			name: "gateway stopped mid-ask_subagent",
			inject: func(t *testing.T, f *faultRig) {
				go func() {
					for deadline := time.Now().Add(5 * time.Second); len(f.fake.Runs()) == 0 && time.Now().Before(deadline); {
						time.Sleep(5 * time.Millisecond)
					}
					time.Sleep(50 * time.Millisecond)
					f.fake.Stop()
				}()
			},
			tool: "ask_subagent",
			args: map[string]any{"message": "[[delay=10]] stopped"},
			want: []string{"connection to the gateway was lost"},
			max:  3 * time.Second,
			heal: func(f *faultRig) { _ = f.fake.Start() },
		},
		{
			name:   "gateway restarted between calls",
			inject: func(t *testing.T, f *faultRig) { f.fake.Stop(); f.settle(); _ = f.fake.Start() },
			tool:   "list_sessions",
			max:    3 * time.Second,
		},
		{
			name:   "tick silence (network stalls, connection stays open)",
			fake:   gatewaytest.Options{TickInterval: 100 * time.Millisecond},
			proxy:  true,
			inject: func(t *testing.T, f *faultRig) { f.p.SetMode(faultproxy.Freeze) },
			tool:   "list_sessions",
			want:   []string{"no frame from the gateway for", "the gateway or the network stalled"},
			max:    2 * time.Second,
			heal:   func(f *faultRig) { f.p.Heal() },
		},
		{
			name: "20 MiB response over the read limit",
			fake: gatewaytest.Options{MaxPayload: 512 << 10},
			inject: func(t *testing.T, f *faultRig) {
				big := `{"junk":"` + strings.Repeat("x", 20<<20) + `"}`
				f.fake.Handle("sessions.list", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":true,"payload":` + big + `}`))
				})
			},
			tool: "list_sessions",
			want: []string{"larger than the read limit"},
			max:  3 * time.Second,
			heal: func(f *faultRig) { f.fake.Handle("sessions.list", nil) },
		},
		{
			name: "malformed response",
			inject: func(t *testing.T, f *faultRig) {
				f.fake.Handle("models.list", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.WriteRaw([]byte(`{"type":"res","id":"` + req.ID + `","ok":false,"error":["not","an","object"]}`))
				})
			},
			tool: "list_models",
			want: []string{"cannot decode"},
			max:  time.Second, // the call timeout is 1.5s
			heal: func(f *faultRig) { f.fake.Handle("models.list", nil) },
		},
		{
			name: "result of the wrong shape",
			inject: func(t *testing.T, f *faultRig) {
				f.fake.Handle("sessions.list", func(c *gatewaytest.Conn, req gatewaytest.Request) {
					_ = c.Reply(req.ID, map[string]any{"sessions": "not a list"})
				})
			},
			tool: "list_sessions",
			want: []string{"decode sessions.list result"},
			max:  time.Second,
			heal: func(f *faultRig) { f.fake.Handle("sessions.list", nil) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := &faultRig{}
			tc.fake.Token = token
			rig.env = setupFake(t, tc.fake, tools.Config{}, func(o *gateway.Options) {
				if tc.proxy {
					rig.p = faultproxy.New(strings.TrimPrefix(o.URL, "ws://"))
					t.Cleanup(rig.p.Close)
					o.URL = "ws://" + rig.p.Addr()
				}
				o.DialTimeout, o.CallTimeout = time.Second, 1500*time.Millisecond
				o.MinBackoff, o.MaxBackoff = 10*time.Millisecond, 30*time.Millisecond
			})
			healthy(t, rig.env) // a working connection first
			if tc.inject != nil {
				tc.inject(t, rig)
			}
			start := time.Now()
			res := callBounded(t, rig.env, tc.tool, tc.args, tc.max)
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
			if b, _ := json.Marshal(res); strings.Contains(string(b), token) {
				t.Fatalf("token in the result: %s", b)
			}
			// gateway_status never fails: it reports the fault as data.
			var st schema.GatewayStatusOutput
			if sres := callBounded(t, rig.env, "gateway_status", nil, 3*time.Second); sres.IsError {
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
			time.Sleep(60 * time.Millisecond) // the reconnect backoff
			if res := callBounded(t, rig.env, "list_sessions", map[string]any{"limit": 1}, 3*time.Second); res.IsError {
				t.Fatalf("first call after the fault is gone: %s", text(res))
			}
			if res := callBounded(t, rig.env, "ask_subagent", map[string]any{"message": "after " + tc.name}, 5*time.Second); res.IsError {
				t.Fatalf("ask_subagent after the fault is gone: %s", text(res))
			}
		})
	}
}

// gateway_status reports a gateway that is not there as data, not as an
// error, within the connect timeout.
func TestGatewayStatusUnderFaults(t *testing.T) {
	e := setupFake(t, gatewaytest.Options{Token: token}, tools.Config{}, func(o *gateway.Options) {
		o.DialTimeout, o.MinBackoff, o.MaxBackoff = time.Second, 10*time.Millisecond, 30*time.Millisecond
	})
	e.fake.SilentHandshake()
	res := callBounded(t, e, "gateway_status", nil, 2*time.Second)
	var st schema.GatewayStatusOutput
	b, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(b, &st)
	if res.IsError || st.Connected || !strings.Contains(st.Error, "sent no connect.challenge") {
		t.Fatalf("%s", b)
	}
	e.fake.SetSilentHandshake(false)
	time.Sleep(60 * time.Millisecond)
	res = callBounded(t, e, "gateway_status", nil, 2*time.Second)
	b, _ = json.Marshal(res.StructuredContent)
	st = schema.GatewayStatusOutput{}
	_ = json.Unmarshal(b, &st)
	if res.IsError || !st.Connected || st.Error != "" {
		t.Fatalf("after the fault: %s", b)
	}
}

// healthy waits until a call succeeds (the first connect of a loaded test
// machine may be slow), so that the fault hits a healthy client.
func healthy(t *testing.T, e *env) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res := e.call(t, ctxT(t), "list_sessions", map[string]any{"limit": 1}, nil)
		if !res.IsError {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy before the fault: %s", text(res))
		}
	}
}

// setupFake is setup with fake options.
func setupFake(t *testing.T, fo gatewaytest.Options, cfg tools.Config, mod ...func(*gateway.Options)) *env {
	t.Helper()
	fake := gatewaytest.New(fo)
	t.Cleanup(fake.Close)
	o := gateway.Options{URL: fake.URL(), Token: fo.Token, ReadOnly: cfg.ReadOnly, AgentGrace: 200 * time.Millisecond}
	for _, m := range mod {
		m(&o)
	}
	gw, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return &env{fake: fake, gw: gw, c: newInProcess(t, gw, cfg)}
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
		res, err := e.c.CallTool(ctxT(t), req)
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
	case <-time.After(max + 5*time.Second):
		t.Fatalf("%s hung: no result after %s", name, max+5*time.Second)
	}
	return nil
}
