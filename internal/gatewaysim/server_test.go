package gatewaysim

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/internal/leakcheck"
	"github.com/clawgate/clawgate/internal/testwait"
)

func TestStopStart(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	c, hello := connected(t, srv, "test-token", nil)
	c.startRun("run", obj{"message": "x [[delay=10]]",
		"sessionKey": "agent:main:k", "idempotencyKey": "k-1"})

	srv.Stop()
	if code, _ := c.waitClose(testwait.Patience()); code != websocket.StatusAbnormalClosure {
		t.Fatalf("Stop must look like a killed process (1006), got %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if ws, _, err := websocket.Dial(ctx, srv.URL(), nil); err == nil {
		_ = ws.CloseNow()
		t.Fatal("a stopped gateway must refuse connections")
	}
	if r := srv.Runs(); len(r) != 1 || !r[0].Done || r[0].Aborted {
		t.Errorf("the run vanishes with the process: %+v", r)
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c2, hello2 := connected(t, srv, "test-token", nil)
	if str(sub(hello, "server"), "bootId") == str(sub(hello2, "server"), "bootId") {
		t.Error("a restarted gateway has a new bootId")
	}
	if up, _ := num(sub(hello2, "snapshot")["uptimeMs"]); up > 2000 {
		t.Errorf("uptime after restart %d ms", up)
	}
	// The store survived; the dedupe cache did not.
	if m := listModel(t, c2, "agent:main:k"); m != DefaultModel {
		t.Errorf("session lost: %s", m)
	}
	frames := c2.requestFinal("agent", obj{"message": "again", "sessionKey": "agent:main:k", "idempotencyKey": "k-1"})
	if len(frames) != 2 {
		t.Errorf("after a restart the idempotency key is new again: %d frames", len(frames))
	}
	if srv.Start() != nil {
		t.Error("Start while running is a no-op")
	}
}

func TestDropConnections(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	a, _ := connected(t, srv, "test-token", nil)
	b, _ := connected(t, srv, "test-token", nil)
	if srv.ConnCount() != 2 {
		t.Fatalf("ConnCount %d", srv.ConnCount())
	}
	srv.DropConnections()
	for _, c := range []*testClient{a, b} {
		if code, _ := c.waitClose(testwait.Patience()); code != websocket.StatusAbnormalClosure {
			t.Errorf("close %d, want 1006", code)
		}
	}
	if err := srv.WaitConnCount(testwait.Ctx(t), 0); err != nil {
		t.Fatal(err)
	}
	connected(t, srv, "test-token", nil)
}

func TestShutdown(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		srv.Shutdown("gateway stopping")
		ev, _ := c.waitFor(isEvent("shutdown"), 0, testwait.Patience())
		want := `{"reason":"gateway stopping"}`
		if g == Clawdbot {
			want = `{"reason":"gateway stopping","restartExpectedMs":null}`
		}
		if got := jsonStr(sub(ev, "payload")); got != want || ev["seq"] == nil {
			t.Errorf("shutdown event %s, want payload %s", jsonStr(ev), want)
		}
		if code, reason := c.waitClose(testwait.Patience()); code != websocket.StatusServiceRestart || reason != "service restart" {
			t.Errorf("close %d %q", code, reason)
		}
		connected(t, srv, "test-token", nil) // still listening
	})
}

func TestHandleOverride(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	var calls atomic.Int32
	srv.Handle("sessions.list", func(c *Conn, req Request) {
		if calls.Add(1) == 1 {
			_ = c.ReplyError(req.ID, ErrorShape{Code: "UNAVAILABLE", Message: "busy", Retryable: true, RetryAfterMs: 10})
			return
		}
		c.Default(req)
	})
	c, _ := connected(t, srv, "test-token", obj{"scopes": []any{scopeRead}})
	res := c.request("sessions.list", obj{})
	e := sub(res, "error")
	if errMsg(res) != "UNAVAILABLE: busy" || e["retryable"] != true || jsonStr(e["retryAfterMs"]) != "10" {
		t.Errorf("scripted failure %s", jsonStr(res))
	}
	if res := c.request("sessions.list", obj{}); res["ok"] != true {
		t.Errorf("Default after the scripted failure: %s", jsonStr(res))
	}
	srv.Handle("sessions.list", nil)
	if res := c.request("sessions.list", obj{}); res["ok"] != true || calls.Load() != 2 {
		t.Errorf("Handle(nil) restores the built-in: %s (calls %d)", jsonStr(res), calls.Load())
	}

	srv.Stall("health")
	c.sendJSON(obj{"type": "req", "id": "stalled", "method": "health"})
	// A window to catch an answer: it cannot fail a correct fake.
	if f, _ := c.waitFor(isRes("stalled"), 0, 300*time.Millisecond); f != nil {
		t.Errorf("stalled method answered: %s", jsonStr(f))
	}
	if reqs := srv.RequestsFor("health"); len(reqs) != 1 || reqs[0].ID != "stalled" {
		t.Errorf("stalled request not recorded: %+v", reqs)
	}

	srv.Handle("status", func(c *Conn, req Request) {
		_ = c.ReplyFrame(obj{"type": "res", "id": req.ID, "ok": false, "payload": obj{"status": "error"},
			"error": obj{"code": "UNAVAILABLE", "message": "both"}})
		_ = c.Event("custom.event", obj{"n": 1})
		_ = c.WriteRaw([]byte(`{"type":"event","event":"broken"`))
		c.Close(4000, "scripted close")
	})
	res = c.request("status", nil)
	if res["ok"] != false || str(sub(res, "payload"), "status") != "error" || errMsg(res) != "UNAVAILABLE: both" {
		t.Errorf("ReplyFrame %s", jsonStr(res))
	}
	if ev, _ := c.waitFor(isEvent("custom.event"), 0, testwait.Patience()); ev == nil || ev["seq"] == nil {
		t.Errorf("Event %s", jsonStr(ev))
	}
	if code, reason := c.waitClose(testwait.Patience()); code != 4000 || reason != "scripted close" {
		t.Errorf("Close %d %q", code, reason)
	}
	c.mu.Lock()
	lastRaw := string(c.raws[len(c.raws)-1])
	c.mu.Unlock()
	if lastRaw != `{"type":"event","event":"broken"` {
		t.Errorf("WriteRaw sent %q", lastRaw)
	}
}

func TestKillFromHandler(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	srv.Handle("health", func(c *Conn, _ Request) { c.Kill() })
	c, _ := connected(t, srv, "test-token", nil)
	c.sendJSON(obj{"type": "req", "id": "h", "method": "health"})
	if code, _ := c.waitClose(testwait.Patience()); code != websocket.StatusAbnormalClosure {
		t.Errorf("Kill: close %d, want 1006", code)
	}
}

func TestConnectOverride(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	var seen atomic.Int32
	srv.Handle("connect", func(c *Conn, req Request) {
		seen.Add(1)
		c.Default(req)
	})
	c, hello := connected(t, srv, "test-token", nil)
	if seen.Load() != 1 || str(hello, "type") != "hello-ok" {
		t.Fatalf("connect override: %d %s", seen.Load(), jsonStr(hello))
	}
	if res := c.request("health", nil); res["ok"] != true {
		t.Errorf("connection after an overridden connect: %s", jsonStr(res))
	}
	if ci := srv.Connects(); len(ci) != 1 || !ci[0].OK || ci[0].Protocol != 4 {
		t.Errorf("Connects() %+v", ci)
	}
}

// TestNoGoroutineLeak runs a busy session and checks that Close leaves no
// goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := leakcheck.Take().Goroutines()
	srv := New(Options{Generation: OpenClaw, TickInterval: 20 * time.Millisecond})
	c := dialClient(t, srv.URL(), nil)
	c.handshake(connectParamsFor("test-token", nil))
	c.requestFinal("agent", obj{"message": "x", "sessionKey": "agent:main:l", "idempotencyKey": "l1"})
	c.sendJSON(obj{"type": "req", "id": "long", "method": "agent", "params": obj{"message": "y [[delay=30]]",
		"sessionKey": "agent:main:l", "idempotencyKey": "l2"}})
	c.sendJSON(obj{"type": "req", "id": "wait", "method": "agent.wait", "params": obj{"runId": "l2", "timeoutMs": 30000}})
	c.waitFor(isRes("long"), 0, testwait.Patience())
	silent := dialClient(t, srv.URL(), nil) // a connection that never shakes hands
	_ = silent
	srv.Close()
	c.waitClose(testwait.Patience())
	silent.waitClose(testwait.Patience())
	srv.Close() // idempotent
	// Close has returned: what is left ends at once unless it leaked, so
	// only a leak makes this wait long (testwait.Patience()).
	if _, err := leakcheck.SettleCount(testwait.Ctx(t), before); err != nil {
		t.Fatalf("goroutines: %d before Close: %v", before, err)
	}
}

// Start, the product path of --simulate, returns errors; New, for tests,
// panics on them.
func TestStartReturnsErrors(t *testing.T) {
	if s, err := Start(Options{Generation: 7}); err == nil || s != nil || !strings.Contains(err.Error(), "unknown generation 7") {
		t.Fatalf("Start with generation 7: %v %v", s, err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New with generation 7 did not panic")
		}
	}()
	New(Options{Generation: 7})
}

// The Wait methods wake up on the change they wait for: each wait below is
// started before the change and must end with it.
func TestWaitForRunsAndAborts(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	c, _ := connected(t, srv, "test-token", nil)
	ctx := testwait.Ctx(t)

	started := make(chan []RunInfo, 1)
	go func() {
		runs, err := srv.WaitRuns(ctx, 2)
		if err != nil {
			t.Error(err)
		}
		started <- runs
	}()
	c.sendJSON(obj{"type": "req", "id": "long", "method": "agent", "params": obj{"message": "[[delay=60]] long",
		"sessionKey": "agent:main:wait-long", "idempotencyKey": "wait-long"}})
	c.requestFinal("agent", obj{"message": "short", "sessionKey": "agent:main:wait-short", "idempotencyKey": "wait-short"})
	if runs := testwait.Recv(t, "WaitRuns", started); len(runs) != 2 {
		t.Fatalf("WaitRuns(2) returned %+v", runs)
	}
	if r, err := srv.WaitRunOf(ctx, "agent:main:wait-long"); err != nil || r.RunID != "wait-long" {
		t.Fatalf("WaitRunOf: %+v %v", r, err)
	}

	// A run that ended normally is done, and not aborted.
	if r, err := srv.WaitRunDone(ctx, "wait-short"); err != nil || !r.Done || r.Aborted {
		t.Fatalf("WaitRunDone of a finished run: %+v %v", r, err)
	}
	if _, err := srv.WaitAborted(ctx, "wait-short"); err == nil || !strings.Contains(err.Error(), "ended without being aborted") {
		t.Fatalf("WaitAborted of a run that finished: %v", err)
	}

	aborted := make(chan RunInfo, 1)
	go func() {
		r, err := srv.WaitAborted(ctx, "wait-long")
		if err != nil {
			t.Error(err)
		}
		aborted <- r
	}()
	if res := c.request("chat.abort", obj{"sessionKey": "agent:main:wait-long", "runId": "wait-long"}); res["ok"] != true {
		t.Fatalf("chat.abort: %s", jsonStr(res))
	}
	if r := testwait.Recv(t, "WaitAborted", aborted); !r.Aborted || !r.Done {
		t.Fatalf("WaitAborted returned %+v", r)
	}
}

func TestWaitForConnections(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	ctx := testwait.Ctx(t)
	c := dialClient(t, srv.URL(), nil)
	if err := srv.WaitConnCount(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.handshake(connectParamsFor("test-token", nil))
	if cs, err := srv.WaitConnects(ctx, 1); err != nil || len(cs) != 1 || !cs[0].OK {
		t.Fatalf("WaitConnects: %+v %v", cs, err)
	}
	srv.DropConnections()
	if err := srv.WaitConnCount(ctx, 0); err != nil {
		t.Fatal(err)
	}
}

// A wait that does not come true ends with its context and says what it
// waited for and what it saw.
func TestWaitEndsWithItsContext(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := srv.WaitRuns(ctx, 1); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 agent run(s) to start") ||
		!strings.Contains(err.Error(), "(0 so far)") {
		t.Errorf("WaitRuns: %v", err)
	}
	if _, err := srv.WaitAborted(ctx, "nope"); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "agent run nope to end") {
		t.Errorf("WaitAborted: %v", err)
	}
	if _, err := srv.WaitConnects(ctx, 1); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 connect request(s): context canceled (0 so far)") {
		t.Errorf("WaitConnects: %v", err)
	}
	if err := srv.WaitConnCount(ctx, 1); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "(0 open)") {
		t.Errorf("WaitConnCount: %v", err)
	}
	if err := srv.WaitFor(ctx, "never", func() bool { return false }); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "waiting for never") {
		t.Errorf("WaitFor: %v", err)
	}
}
