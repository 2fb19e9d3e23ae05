package bench_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/gatewaysim"
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
	before := settled(-1)
	func() {
		fake := gatewaysim.New(gatewaysim.Options{Token: replayToken, AgentDelay: time.Millisecond})
		defer fake.Close()
		c := startStdio(t, fake.URL())
		defer c.close()
		const list = `{"name":"list_sessions","arguments":{"limit":5}}`
		const ask = `{"name":"ask_subagent","arguments":{"message":"hi","session_key":"agent:main:bench-goroutines"},"_meta":{"progressToken":"p"}}`
		for _, p := range []string{list, ask} { // connect, start what stays
			if _, err := c.request("tools/call", p); err != nil {
				t.Fatal(err)
			}
		}
		idle := settled(-1)

		for i := range calls {
			p := list
			if i%50 == 0 {
				p = ask
			}
			if _, err := c.request("tools/call", p); err != nil {
				t.Fatal(err)
			}
		}
		for range calls / 64 {
			if err := c.burst(64, list); err != nil {
				t.Fatal(err)
			}
		}
		if after := settled(idle); after > idle {
			t.Errorf("%d goroutines after %d calls, %d when idle before them", after, calls+calls/64*64, idle)
		}
	}()
	if after := settled(before); after > before {
		t.Errorf("%d goroutines after shutdown, %d before start", after, before)
	}
}

// burst writes k tools/call requests back to back, then reads until all k
// responses have arrived; each must be a success.
func (c *stdioClawgate) burst(k int, params string) error {
	want := map[string]bool{}
	for range k {
		c.id++
		want[fmt.Sprintf(`"id":%d,`, c.id)] = true
		if _, err := fmt.Fprintf(c.in, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":%s}`+"\n", c.id, params); err != nil {
			return err
		}
	}
	for len(want) > 0 {
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			return err
		}
		if err := failed(line); err != nil {
			return err
		}
		head := string(line[:min(len(line), 64)])
		for id := range want {
			if strings.Contains(head, id) {
				delete(want, id)
				break
			}
		}
	}
	return nil
}

// settled waits until the goroutine count is at most target and returns it;
// only a leak makes that wait long, so it is bounded by testwait.Patience().
// With target < 0 it waits until the count stops changing (two samples
// 50 ms apart, for at most 10 s) and returns it: a baseline, which can only
// be too high (goroutines still ending), making the later check more
// lenient, never failing it.
func settled(target int) int {
	last := runtime.NumGoroutine()
	within := 10 * time.Second
	if target >= 0 {
		within = testwait.Patience()
	}
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		n := runtime.NumGoroutine()
		if (target >= 0 && n <= target) || (target < 0 && n == last) {
			return n
		}
		last = n
	}
	return last
}
