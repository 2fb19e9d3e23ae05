package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/schema"
)

var generations = []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot}

func newFake(t *testing.T, o gatewaysim.Options) *gatewaysim.Server {
	t.Helper()
	if o.Token == "" {
		o.Token = testToken
	}
	s := gatewaysim.New(o)
	t.Cleanup(s.Close)
	return s
}

func TestMethodsAgainstFakeGenerations(t *testing.T) {
	for _, gen := range generations {
		t.Run(gen.String(), func(t *testing.T) {
			s := newFake(t, gatewaysim.Options{Generation: gen})
			c := newClient(t, gateway.Options{URL: s.URL()})
			ctx := testwait.Ctx(t)
			info, err := c.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.Protocol != int(gen) || info.MainSessionKey != "agent:main:main" {
				t.Fatalf("info %+v", info)
			}
			st, raw, err := c.Status(ctx)
			if err != nil || len(raw) == 0 || st.Sessions.Defaults.ContextTokens == 0 {
				t.Fatalf("status %+v %v", st, err)
			}
			list, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
			if err != nil || len(list.Sessions) != 1 || list.Defaults.Model == "" {
				t.Fatalf("sessions.list %+v %v", list, err)
			}
			models, err := c.ModelsList(ctx)
			if err != nil || !slices.ContainsFunc(models.Models, func(m schema.ModelInfo) bool { return m.Ref() == "fake/fake-echo" }) {
				t.Fatalf("models.list: %d models, %v", len(models.Models), err)
			}
			m := "fake/fake-echo"
			pr, err := c.SessionsPatch(ctx, "agent:main:unit", &m)
			if err != nil || pr.Key != "agent:main:unit" {
				t.Fatalf("patch %+v %v", pr, err)
			}
			bad := "fake/nope"
			_, err = c.SessionsPatch(ctx, "agent:main:unit", &bad)
			if ge, ok := gateway.AsError(err); !ok || ge.Kind() != gateway.KindInvalid || !strings.Contains(ge.Message, "model not allowed: fake/nope") {
				t.Fatalf("bad model: %v", err)
			}
			if _, err := c.SessionsPatch(ctx, "agent:main:unit", nil); err != nil {
				t.Fatalf("clear: %v", err)
			}
			var events []schema.AgentEvent
			run, err := c.Agent(ctx, gateway.AgentRequest{Message: "hello unit", SessionKey: "agent:main:unit", Timeout: time.Minute},
				func(ev schema.AgentEvent) { events = append(events, ev) })
			if err != nil {
				t.Fatal(err)
			}
			if run.Reply.Status != "ok" || run.Reply.Text() != "FAKE-REPLY: you said <<hello unit>>" || run.SessionKey != "agent:main:unit" {
				t.Fatalf("run %+v reply %+v", run, run.Reply)
			}
			if len(events) == 0 || events[0].Stream != "lifecycle" {
				t.Fatalf("events %+v", events)
			}
			for i, ev := range events {
				if ev.RunID != run.RunID || (i > 0 && ev.Seq <= events[i-1].Seq) {
					t.Fatalf("event %d out of order or foreign: %+v", i, ev)
				}
			}
			// All of it over one connection, opened once, without an Origin header.
			conns := s.Connects()
			if len(conns) != 1 || conns[0].Origin || !conns[0].OK {
				t.Fatalf("connects %+v", conns)
			}
			// The agent request carried only the portable params.
			reqs := s.RequestsFor("agent")
			var p map[string]any
			if err := json.Unmarshal(reqs[len(reqs)-1].Params, &p); err != nil {
				t.Fatal(err)
			}
			if p["idempotencyKey"] != run.RunID || p["timeout"] != 60.0 || p["model"] != nil || p["spawnedBy"] != nil {
				t.Fatalf("agent params %v", p)
			}
		})
	}
}

func TestConcurrentCallsAnsweredOutOfOrder(t *testing.T) {
	s := newFake(t, gatewaysim.Options{})
	// The fake holds the requests until all 20 are in, then answers them
	// in the reverse order of their arrival.
	var mu sync.Mutex
	var held []gatewaysim.Request
	s.Handle("test.echo", func(c *gatewaysim.Conn, req gatewaysim.Request) {
		mu.Lock()
		held = append(held, req)
		all := len(held) == 20
		mu.Unlock()
		if !all {
			return
		}
		for i := len(held) - 1; i >= 0; i-- {
			var p struct{ N int }
			_ = json.Unmarshal(held[i].Params, &p)
			_ = c.Reply(held[i].ID, map[string]int{"n": p.N})
		}
	})
	c := newClient(t, gateway.Options{URL: s.URL()})
	ctx := testwait.Ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ N int }
			if err := c.Call(ctx, "test.echo", map[string]int{"n": i}, &out); err != nil || out.N != i {
				errs <- fmt.Errorf("call %d: got %d, %v", i, out.N, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(s.Connects()); n != 1 {
		t.Fatalf("%d connects for concurrent calls, want 1", n)
	}
}

func TestAgentIgnoresOtherRunsAndChecksTerminalFirstFrame(t *testing.T) {
	t.Run("interleaved events of other runs", func(t *testing.T) {
		s := newFake(t, gatewaysim.Options{})
		s.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
			var p struct{ IdempotencyKey string }
			_ = json.Unmarshal(req.Params, &p)
			go func() {
				_ = c.Reply(req.ID, map[string]any{"runId": p.IdempotencyKey, "status": "accepted", "acceptedAt": 1})
				for seq := 1; seq <= 5; seq++ {
					_ = c.Event("agent", map[string]any{"runId": "other-run", "seq": seq, "stream": "assistant", "data": map[string]any{"text": "nope"}})
					_ = c.Event("agent", map[string]any{"runId": p.IdempotencyKey, "seq": seq, "stream": "assistant", "data": map[string]any{"text": fmt.Sprint(seq)}})
					_ = c.Event("chat", map[string]any{"runId": p.IdempotencyKey, "seq": seq, "state": "delta"})
				}
				_ = c.Reply(req.ID, map[string]any{"runId": p.IdempotencyKey, "status": "ok", "summary": "completed",
					"result": map[string]any{"payloads": []any{map[string]any{"text": "done", "mediaUrl": nil}}, "meta": map[string]any{"durationMs": 5}}})
			}()
		})
		c := newClient(t, gateway.Options{URL: s.URL()})
		var got []string
		run, err := c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "x", SessionKey: "agent:main:t"}, func(ev schema.AgentEvent) {
			got = append(got, ev.DecodeData().Text)
		})
		if err != nil || run.Reply.Text() != "done" {
			t.Fatalf("%+v %v", run, err)
		}
		if strings.Join(got, ",") != "1,2,3,4,5" {
			t.Fatalf("events %v", got)
		}
	})
	t.Run("terminal first frame: validation error", func(t *testing.T) {
		s := newFake(t, gatewaysim.Options{Generation: gatewaysim.Clawdbot})
		o := gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout}
		c := newClient(t, o)
		if _, err := c.Info(testwait.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		// Clawdbot refuses an agent run without a session key in one
		// frame: the refusal ends the wait at once, not a timeout.
		start := time.Now()
		_, err := c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "x"}, nil)
		ge, ok := gateway.AsError(err)
		if el := time.Since(start); !ok || ge.Code != "UNAVAILABLE" || !strings.Contains(ge.Message, "Pass --to") || el > testwait.WellBefore(o.CallTimeout) {
			t.Fatalf("got %v after %s", err, el)
		}
	})
	t.Run("terminal first frame: in_flight", func(t *testing.T) {
		s := newFake(t, gatewaysim.Options{})
		s.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
			var p struct{ IdempotencyKey string }
			_ = json.Unmarshal(req.Params, &p)
			_ = c.Reply(req.ID, map[string]any{"runId": p.IdempotencyKey, "status": "in_flight"})
		})
		c := newClient(t, gateway.Options{URL: s.URL()})
		run, err := c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "x", SessionKey: "agent:main:t"}, nil)
		if err != nil || run.Reply.Status != schema.RunInFlight {
			t.Fatalf("%+v %v", run, err)
		}
	})
}

func TestEventFloodOfOtherRuns(t *testing.T) {
	s := newFake(t, gatewaysim.Options{AgentDelay: 300 * time.Millisecond})
	c := newClient(t, gateway.Options{URL: s.URL()})
	ctx := testwait.Ctx(t)
	if _, err := c.Info(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				s.EmitAgentEvent(fmt.Sprintf("flood-%d", i%7), "assistant", map[string]any{"text": strings.Repeat("z", 200)})
			}
		}
	}()
	var own int
	run, err := c.Agent(ctx, gateway.AgentRequest{Message: "in the flood", SessionKey: "agent:main:flood"}, func(ev schema.AgentEvent) { own++ })
	close(stop)
	if err != nil || !strings.Contains(run.Reply.Text(), "in the flood") || own == 0 {
		t.Fatalf("%v %v own=%d", run, err, own)
	}
}

func TestConnectionLossFailsPendingCallsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(s *gatewaysim.Server)
		want string
	}{
		{"dropped", func(s *gatewaysim.Server) { s.DropConnections() }, "connection to the gateway was lost"},
		{"restart announced", func(s *gatewaysim.Server) { s.Shutdown("gateway stopping") }, "1012 service restart (the gateway announced shutdown: gateway stopping)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t, gatewaysim.Options{})
			s.Stall("sessions.list")
			o := gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout}
			c := newClient(t, o)
			ctx := testwait.Ctx(t)
			if _, err := c.Info(ctx); err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 2)
			go func() { _, err := c.SessionsList(ctx, schema.SessionsListParams{}); errs <- err }()
			started := make(chan struct{})
			var once sync.Once
			go func() {
				// The run would last a minute: the cut must end it at once.
				_, err := c.Agent(ctx, gateway.AgentRequest{Message: "[[delay=60]] long", SessionKey: "agent:main:cut"},
					func(schema.AgentEvent) { once.Do(func() { close(started) }) })
				errs <- err
			}()
			// Both are pending: the call is on the gateway, the run streams.
			testwait.Recv(t, "the run's first event", started)
			wantNil(t, s.WaitFor(testwait.Ctx(t), "the call reached the gateway", func() bool { return len(s.RequestsFor("sessions.list")) > 0 }))
			start := time.Now()
			tc.cut(s)
			for range 2 {
				err := testwait.Recv(t, "a pending call's error", errs)
				var lost *gateway.ConnLostError
				if !errors.As(err, &lost) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %v", err)
				}
			}
			if el := time.Since(start); el > testwait.WellBefore(o.CallTimeout) {
				t.Fatalf("pending calls failed after %s, not at once (call timeout %s, run of a minute)", el, o.CallTimeout)
			}
		})
	}
}

func TestStalledCallHitsDeadlineAndConnectionStays(t *testing.T) {
	s := newFake(t, gatewaysim.Options{})
	s.Stall("status")
	o := gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: gatewaywait.QuickTimeout(t)}
	c := newClient(t, o)
	ctx := testwait.Ctx(t)
	if _, err := c.Info(ctx); err != nil { // connected: the call's timeout is the call's alone
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err := c.Status(ctx)
	var te *gateway.TimeoutError
	if !errors.As(err, &te) || te.Method != "status" {
		t.Fatalf("got %v", err)
	}
	if el := time.Since(start); el < o.CallTimeout || el > 2*o.CallTimeout {
		t.Fatalf("the %s deadline fired after %s", o.CallTimeout, el)
	}
	if _, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 1}); err != nil {
		t.Fatalf("next call: %v", err)
	}
	if n := len(s.Connects()); n != 1 {
		t.Fatalf("%d connects, want 1", n)
	}
}

func TestReconnectAfterGatewayRestart(t *testing.T) {
	s := newFake(t, gatewaysim.Options{})
	o := gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout, MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	c := newClient(t, o)
	ctx := testwait.Ctx(t)
	if _, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	start := time.Now()
	_, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
	if el := time.Since(start); err == nil || el > testwait.WellBefore(o.DialTimeout) {
		t.Fatalf("call to a stopped gateway: %v after %s, not at once", err, el)
	}
	// Within the backoff the error comes back without a new dial.
	if _, err2 := c.SessionsList(ctx, schema.SessionsListParams{Limit: 1}); err2 == nil {
		t.Fatal("call within backoff succeeded on a stopped gateway")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * o.MaxBackoff) // the reconnect backoff (a timer) passes
	if _, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 1}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if n := len(s.Connects()); n != 2 {
		t.Fatalf("%d connects, want 2", n)
	}
}

func TestStartupUnavailableIsRetried(t *testing.T) {
	s := newFake(t, gatewaysim.Options{StartupUnavailable: 2})
	c := newClient(t, gateway.Options{URL: s.URL()})
	info, err := c.Info(testwait.Ctx(t))
	if err != nil || info.Protocol != 4 {
		t.Fatalf("%+v %v", info, err)
	}
	if n := len(s.Connects()); n != 3 {
		t.Fatalf("%d connects, want 3", n)
	}
}

func TestSilentScopeDowngradeIsAnError(t *testing.T) {
	s := newFake(t, gatewaysim.Options{ClearScopes: true})
	c := newClient(t, gateway.Options{URL: s.URL()})
	_, err := c.SessionsList(testwait.Ctx(t), schema.SessionsListParams{})
	var se *gateway.ScopeError
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
}

func TestWrongTokenAgainstFake(t *testing.T) {
	for _, gen := range generations {
		s := newFake(t, gatewaysim.Options{Generation: gen})
		c := newClient(t, gateway.Options{URL: s.URL(), Token: "wrong-SECRET"})
		_, err := c.Info(testwait.Ctx(t))
		ge, ok := gateway.AsError(err)
		if !ok || ge.Kind() != gateway.KindAuth || strings.Contains(err.Error(), "wrong-SECRET") {
			t.Fatalf("%s: %v", gen, err)
		}
	}
}

func TestReadOnlyRequestsReadScope(t *testing.T) {
	for _, gen := range generations {
		s := newFake(t, gatewaysim.Options{Generation: gen})
		c := newClient(t, gateway.Options{URL: s.URL(), ReadOnly: true})
		ctx := testwait.Ctx(t)
		if _, err := c.SessionsList(ctx, schema.SessionsListParams{}); err != nil {
			t.Fatal(err)
		}
		m := "fake/fake-echo"
		_, err := c.SessionsPatch(ctx, "agent:main:x", &m)
		ge, ok := gateway.AsError(err)
		// The facts the advice turns into "restart it without --read-only"
		// (tools.Explain; the words: tools/advice_test.go).
		if !ok || ge.Kind() != gateway.KindMissingScope || !ge.ReadOnly || ge.MissingScope() == "" {
			t.Fatalf("%s: %v", gen, err)
		}
		var p struct{ Scopes []string }
		_ = json.Unmarshal(s.Connects()[0].Params, &p)
		if len(p.Scopes) != 1 || p.Scopes[0] != gateway.ScopeRead {
			t.Fatalf("%s: requested scopes %v", gen, p.Scopes)
		}
	}
}

func TestAgentCancelAndTimeoutAbortTheRun(t *testing.T) {
	for _, gen := range generations {
		t.Run(gen.String(), func(t *testing.T) {
			s := newFake(t, gatewaysim.Options{Generation: gen})
			c := newClient(t, gateway.Options{URL: s.URL(), AgentGrace: 100 * time.Millisecond})
			ctx, cancel := context.WithCancel(testwait.Ctx(t))
			// Cancelled once the run is accepted and streaming.
			_, err := c.Agent(ctx, gateway.AgentRequest{Message: "[[delay=60]] cancel me", SessionKey: "agent:main:cancel"},
				func(schema.AgentEvent) { cancel() })
			var re *gateway.RunError
			if !errors.As(err, &re) || !errors.Is(err, context.Canceled) {
				t.Fatalf("cancel: %v", err)
			}
			_, err = c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "[[delay=60]] time me out", SessionKey: "agent:main:timeout", Timeout: 200 * time.Millisecond}, nil)
			var re2 *gateway.RunError
			if !errors.As(err, &re2) {
				t.Fatalf("timeout: %v", err)
			}
			if gen == gatewaysim.Clawdbot {
				if !errors.Is(re.AbortErr, gateway.ErrAbortUnsupported) || !errors.Is(err, gateway.ErrRunTimeout) {
					t.Fatalf("clawdbot: %v / %v", re, err)
				}
				return
			}
			// OpenClaw: both runs really ended on the gateway.
			if !re.Aborted {
				t.Fatalf("cancelled run not aborted: %v", re)
			}
			waitAborted(t, s, "[[delay=60]] cancel me")
		})
	}
}

func TestCloseAbortsRunsInProgress(t *testing.T) {
	s := newFake(t, gatewaysim.Options{})
	c, err := gateway.New(gateway.Options{URL: s.URL(), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	started := make(chan struct{})
	var once sync.Once
	go func() {
		run, err := c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "[[delay=20]] still going", SessionKey: "agent:main:close"},
			func(schema.AgentEvent) { once.Do(func() { close(started) }) })
		if err == nil && !run.Reply.Aborted() {
			err = fmt.Errorf("run finished normally: %+v", run.Reply)
		}
		errs <- err
	}()
	testwait.Recv(t, "the run's first event", started) // the run is accepted and streaming
	c.Close()
	if err := testwait.Recv(t, "Agent's return after Close", errs); err != nil && strings.HasPrefix(err.Error(), "run finished normally") {
		t.Fatal(err)
	}
	waitAborted(t, s, "[[delay=20]] still going")
	if _, err := c.Info(testwait.Ctx(t)); !errors.Is(err, gateway.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
}

// waitAborted waits until the fake marks the run with this message aborted
// (the fake finishes an aborted run just after answering the abort).
func waitAborted(t *testing.T, s *gatewaysim.Server, message string) {
	t.Helper()
	wantNil(t, s.WaitFor(testwait.Ctx(t), fmt.Sprintf("run %q aborted on the gateway", message), func() bool {
		for _, r := range s.Runs() {
			if r.Message == message && r.Aborted {
				return true
			}
		}
		return false
	}))
}

func TestDownGatewayReportsWhyNotTheOldLoss(t *testing.T) {
	s := newFake(t, gatewaysim.Options{})
	log := testwait.NewLogWatch()
	c := newClient(t, gateway.Options{URL: s.URL(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: log.Logger()})
	ctx := testwait.Ctx(t)
	if _, err := c.Info(ctx); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	testwait.Until(t, "the client noticed the loss", func() bool { return log.Count(logConnLost) > 0 })
	// The next calls, the second within the reconnect backoff, say that
	// the gateway cannot be reached, not that the old connection was lost.
	for range 2 {
		_, err := c.Info(ctx)
		var ce *gateway.ConnectError
		if !errors.As(err, &ce) || gateway.KindOf(err) != gateway.KindUnreachable {
			t.Fatalf("a stopped gateway is reported as %v", err)
		}
	}
}
