package bench_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/leakcheck"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/internal/testwait"
)

// TestGoroutinesReturnToBaseline drives clawgate's serving path (the stdio
// server on pipes, as in startStdio) with thousands of tool calls, serial
// and 64 at a time, including agent runs with progress, against the fake
// gateway, and checks that the goroutine count returns to what it was when
// the server was connected and idle, and after shutdown to what it was
// before. It asserts counts, never durations; the waits only let goroutines
// that are already ending finish.
func TestGoroutinesReturnToBaseline(t *testing.T) {
	calls := 1000 // bench/sidebyside counts after 10,000 against a real gateway
	if testing.Short() {
		calls = 100
	}
	before := leakcheck.Baseline(10 * time.Second).Goroutines()
	func() {
		fake := gatewaysim.New(gatewaysim.Options{Token: replayToken, AgentDelay: time.Millisecond})
		defer fake.Close()
		c := startStdio(t, fake.URL())
		defer c.close()
		const list = `{"name":"list_sessions","arguments":{"limit":5}}`
		const ask = `{"name":"ask_subagent","arguments":{"message":"hi","session_key":"agent:main:bench-goroutines"},"_meta":{"progressToken":"p"}}`
		for _, p := range []string{list, ask} { // connect, start what stays
			if err := c.request("tools/call", p); err != nil {
				t.Fatal(err)
			}
		}
		idle := leakcheck.Baseline(10 * time.Second).Goroutines()

		for i := range calls {
			p := list
			if i%50 == 0 {
				p = ask
			}
			if err := c.request("tools/call", p); err != nil {
				t.Fatal(err)
			}
		}
		for range calls / 64 {
			if err := c.burst(testwait.Ctx(t), 64, list); err != nil {
				t.Fatal(err)
			}
		}
		if after, err := leakcheck.SettleCount(testwait.Ctx(t), idle); err != nil {
			t.Errorf("%d goroutines after %d calls, %d when idle before them: %v", after.Goroutines(), calls+calls/64*64, idle, err)
		}
	}()
	if after, err := leakcheck.SettleCount(testwait.Ctx(t), before); err != nil {
		t.Errorf("%d goroutines after shutdown, %d before start: %v", after.Goroutines(), before, err)
	}
}

// burst sends k tools/call requests back to back, then waits until all k
// responses have arrived; each must be a success.
func (c *stdioClawgate) burst(ctx context.Context, k int, params string) error {
	calls := make([]*mcptest.Call, k)
	for i := range calls {
		var err error
		if calls[i], err = c.c.Go("tools/call", json.RawMessage(params)); err != nil {
			return err
		}
	}
	for _, call := range calls {
		res, err := c.c.Wait(ctx, call)
		if err == nil {
			err = toolFailed(res)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
