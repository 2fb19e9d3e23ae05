package tools_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/leakcheck"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// TestSoak runs many mixed tool calls from concurrent MCP clients while the
// fake gateway is stopped and started, dropped and shut down at random
// points. Every call must return within its bound, and when everything is
// closed, the goroutines and file descriptors of the process must be back to
// what they were before.
//
// The faults are paced by the calls, not by the clock: the injector waits
// for a few successful calls between faults and keeps a stopped gateway down
// for a few calls, so that a fast run (no -race, thousands of calls a
// second) sees as many faults per call as a slow one (-race on a loaded
// machine). The soak runs until it has made its calls and injected at least
// one fault per 50 calls.
//
// The normal test run does 1,000 calls. The full soak (10,000 calls):
//
//	CLAWGATE_SOAK_CALLS=10000 go test -race -run '^TestSoak$' -v ./tools/
func TestSoak(t *testing.T) {
	calls := 1000
	if testing.Short() {
		calls = 200
	}
	if v := os.Getenv("CLAWGATE_SOAK_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("CLAWGATE_SOAK_CALLS=%q", v)
		}
		calls = n
	}
	const workers = 16
	// Faults per call: at least one per 50 calls. A fault comes after 2 to
	// 16 successful calls (9 on average); a stopped gateway stays down for
	// up to 13 calls (up to 6 after an announced restart).
	minFaults := int64(max(5, calls/50))

	o := gateway.Options{Token: token, DialTimeout: time.Second, CallTimeout: 2 * time.Second,
		AgentGrace: 500 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	const runTimeout = 3 * time.Second // ask_subagent's timeout_seconds below
	// The bound of one call, from the timeouts it runs under: a tool makes
	// at most eight gateway calls (patch_session_model: info, two lists to
	// check the session, patch, the default model, a clear), each waiting
	// for at most one connect and its call timeout; ask_subagent is bounded
	// by its timeout_seconds, plus the grace and the abort (5 s at most).
	// Twice the worst of these is a hang, whatever the machine's speed:
	// every wait in there has fired by then.
	callBound := 2 * max(8*(o.DialTimeout+o.CallTimeout), runTimeout+o.AgentGrace+5*time.Second)

	warmUp(t)
	before := leakcheck.Take()

	fake := gatewaysim.New(gatewaysim.Options{Token: token, AgentDelay: time.Millisecond})
	o.URL = fake.URL()
	gw, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tools.NewServer(tools.Config{Gateway: gw, DefaultTimeout: runTimeout})
	if err != nil {
		t.Fatal(err)
	}
	// A few MCP clients on the one server, like several sessions of an editor.
	clients := make([]*client.Client, 4)
	for i := range clients {
		clients[i] = startInProcess(t, srv)
	}

	var (
		next     atomic.Int64
		restarts atomic.Int64
		drops    atomic.Int64
		mu       sync.Mutex
		progress = sync.NewCond(&mu) // broadcast on every recorded call and on stop
		done     int64               // calls recorded
		oks      int64               // of which succeeded
		stopped  bool                // the workers have finished
		outcomes = map[string]int{}
		slowest  time.Duration
		problems []string
	)
	record := func(kind string, took time.Duration, problem string) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[kind]++
		done++
		if kind == "ok" {
			oks++
		}
		progress.Broadcast()
		slowest = max(slowest, took)
		if problem != "" && len(problems) < 20 {
			problems = append(problems, problem)
		}
	}
	// waitFor waits until cond (called with mu held) holds; false if the
	// workers finished first.
	waitFor := func(cond func() bool) bool {
		mu.Lock()
		defer mu.Unlock()
		for !cond() && !stopped {
			progress.Wait()
		}
		return !stopped
	}
	// counts returns the calls recorded and the successful ones.
	counts := func() (int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		return done, oks
	}

	chaosDone := make(chan struct{})
	go func() { // the fault injector
		defer close(chaosDone)
		rng := rand.New(rand.NewPCG(1, 2))
		// down keeps the gateway stopped until n more calls have returned
		// (they fail fast while it is down), then starts it again.
		down := func(n int) bool {
			d, _ := counts()
			waitFor(func() bool { return done >= d+int64(n) })
			if err := fake.Start(); err != nil {
				t.Error(err)
				return false
			}
			restarts.Add(1)
			return true
		}
		for {
			_, okBefore := counts()
			gap := int64(2 + rng.IntN(15)) // successful calls before the next fault
			if !waitFor(func() bool { return oks >= okBefore+gap }) {
				return
			}
			switch rng.IntN(4) {
			case 0: // killed and restarted
				fake.Stop()
				if !down(rng.IntN(14)) {
					return
				}
			case 1: // announced restart
				fake.Shutdown("soak restart")
				fake.Stop()
				if !down(rng.IntN(7)) {
					return
				}
			default: // network blip
				fake.DropConnections()
				drops.Add(1)
			}
		}
	}()
	faults := func() int64 { return restarts.Load() + drops.Load() }
	injectorGone := func() bool {
		select {
		case <-chaosDone:
			return true
		default:
			return false
		}
	}

	start := time.Now()
	// If faults stop coming (the gateway never recovers, so no call
	// succeeds and the injector waits), the workers give up after half of
	// the test's patience and the soak fails. Only a broken client gets
	// there: the number of calls a fault costs grows with the machine's
	// speed (calls fail fast during the reconnect backoff), so no count of
	// calls can be the limit.
	giveUp := start.Add(testwait.Patience() / 2)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			c := clients[w%len(clients)]
			for {
				i := next.Add(1)
				if i > int64(calls) && (faults() >= minFaults || injectorGone() || time.Now().After(giveUp)) {
					return
				}
				name, args, wantErr := soakCall(rng, w, i)
				kind, took, problem := runSoakCall(c, name, args, wantErr, callBound)
				record(kind, took, problem)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	mu.Lock()
	stopped = true
	progress.Broadcast()
	mu.Unlock()
	<-chaosDone // the gateway is up again

	// Healthy again: every tool works once the gateway stays up. Calls
	// right after the last fault may still fail (a drop the client has not
	// read yet, the reconnect backoff); a successful call means the client
	// is on a new connection, so from then on every call must work.
	testwait.Until(t, "a successful call after the last fault", func() bool {
		kind, _, _ := runSoakCall(clients[0], "list_sessions", map[string]any{"limit": 1}, false, callBound)
		return kind == "ok"
	})
	for _, name := range []string{"gateway_status", "list_sessions", "list_models", "patch_session_model", "ask_subagent"} {
		args := map[string]any{}
		switch name {
		case "patch_session_model":
			args = map[string]any{"session_key": "agent:main:soak-final", "model": "fake/fake-echo", "create": true}
		case "ask_subagent":
			args = map[string]any{"message": "after the soak", "session_key": "agent:main:soak-final"}
		}
		if kind, _, problem := runSoakCall(clients[0], name, args, false, callBound); kind != "ok" {
			t.Errorf("%s after the soak: %s %s", name, kind, problem)
		}
	}

	mu.Lock()
	made := done
	t.Logf("%d calls by %d workers in %s (%.0f calls/s); %d restarts, %d connection drops, %d connects; slowest call %s (bound %s)",
		made, workers, elapsed.Round(time.Millisecond), float64(made)/elapsed.Seconds(), restarts.Load(), drops.Load(),
		len(fake.Connects()), slowest.Round(time.Millisecond), callBound)
	t.Logf("outcomes: %v", outcomes)
	for _, p := range problems {
		t.Error(p)
	}
	// Calls fail fast while the gateway is down, so many do; what matters is
	// that none hung, every failure said why, and calls kept succeeding
	// between the faults: the injector waits for successful calls before
	// each fault, so reaching the minimum number of faults proves that the
	// gateway came back after every one of them.
	total := int64(0)
	for _, n := range outcomes {
		total += int64(n)
	}
	if made < int64(calls) || total != made || faults() < minFaults {
		t.Errorf("%d outcomes for %d calls (want at least %d), %d ok, %d faults (want at least %d)",
			total, made, calls, outcomes["ok"], faults(), minFaults)
	}
	mu.Unlock()

	for _, c := range clients {
		c.Close()
	}
	gw.Close()
	fake.Close()
	after, err := leakcheck.Settle(testwait.Ctx(t), before)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("goroutines %d before, %d after; open fds %d before, %d after", before.Goroutines(), after.Goroutines(), before.FDs(), after.FDs())
}

// soakCall picks the i-th call of worker w: mostly reads, some writes and
// agent runs, and some invalid arguments (which must be refused).
func soakCall(rng *rand.Rand, w int, i int64) (string, map[string]any, bool) {
	session := fmt.Sprintf("agent:main:soak-%d", w)
	switch n := rng.IntN(20); {
	case n < 4:
		return "gateway_status", nil, false
	case n < 9:
		return "list_sessions", map[string]any{"limit": 1 + rng.IntN(5)}, false
	case n < 12:
		return "list_models", map[string]any{}, false
	case n < 15:
		var model any = "fake/fake-echo"
		if rng.IntN(2) == 0 {
			model = nil
		}
		return "patch_session_model", map[string]any{"session_key": session, "model": model, "create": true}, false
	case n < 19:
		return "ask_subagent", map[string]any{"message": fmt.Sprintf("soak %d", i), "session_key": session, "timeout_seconds": 3}, false
	default:
		return "list_sessions", map[string]any{"limit": "many"}, true
	}
}

// Error texts a soak call may legitimately end with while the gateway is
// being restarted: each says what happened.
var soakErrors = []string{
	"cannot connect to the gateway",
	"connection to the gateway was lost",
	"did not complete the handshake",
	"sent no connect.challenge",
	"did not send a reply to",
	"did not send acceptance",
	"the gateway is starting or busy",
	"connecting to the gateway at",
}

func runSoakCall(c *client.Client, name string, args map[string]any, wantErr bool, bound time.Duration) (kind string, took time.Duration, problem string) {
	// A call that outlives bound is reported as a hang; the context only
	// ends the wait for one that never returns.
	ctx, cancel := context.WithTimeout(context.Background(), 2*bound)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	start := time.Now()
	res, err := c.CallTool(ctx, req)
	took = time.Since(start)
	switch {
	case took > bound:
		return "hang", took, fmt.Sprintf("%s %v took %s (bound %s): %v %s", name, args, took, bound, err, resultText(res))
	case err != nil:
		return "rpc-error", took, fmt.Sprintf("%s %v: JSON-RPC error %v", name, args, err)
	case wantErr && !res.IsError:
		return "accepted-invalid", took, fmt.Sprintf("%s %v: invalid arguments accepted", name, args)
	case wantErr:
		return "refused-invalid", took, ""
	case !res.IsError && name == "gateway_status":
		if strings.Contains(resultText(res), "Gateway not usable") {
			return "status-down", took, ""
		}
		return "ok", took, ""
	case !res.IsError:
		return "ok", took, ""
	}
	msg := resultText(res)
	for _, e := range soakErrors {
		if strings.Contains(msg, e) {
			return "error: " + e, took, ""
		}
	}
	return "unexpected-error", took, fmt.Sprintf("%s %v: unexpected error %q", name, args, msg)
}

func resultText(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	return text(res)
}

func startInProcess(t testing.TB, srv *server.MCPServer) *client.Client {
	t.Helper()
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testwait.Ctx(t)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "soak", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// warmUp runs one connection through every layer once, so that lazily
// created process-wide resources (the netpoller's descriptors, pools) exist
// before the baseline is taken.
func warmUp(t *testing.T) {
	t.Helper()
	pre := leakcheck.Take()
	fake := gatewaysim.New(gatewaysim.Options{Token: token})
	gw, err := gateway.New(gateway.Options{URL: fake.URL(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tools.NewServer(tools.Config{Gateway: gw})
	if err != nil {
		t.Fatal(err)
	}
	c := startInProcess(t, srv)
	if kind, _, problem := runSoakCall(c, "list_sessions", map[string]any{"limit": 1}, false, testwait.Patience()); kind != "ok" {
		t.Fatalf("warm-up: %s %s", kind, problem)
	}
	c.Close()
	gw.Close()
	fake.Close()
	// The warm-up's goroutines end before the baseline is taken (its file
	// descriptors may stay: the netpoller's are created once).
	if _, err := leakcheck.SettleGoroutines(testwait.Ctx(t), pre); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
}
