package tools_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
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
	"github.com/clawgate/clawgate/gateway/gatewaytest"
	"github.com/clawgate/clawgate/tools"
)

// TestSoak runs many mixed tool calls from concurrent MCP clients while the
// fake gateway is stopped and started, dropped and shut down at random
// points. Every call must return within its bound, and when everything is
// closed, the goroutines and file descriptors of the process must be back to
// what they were before.
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
	// The bound of one call: dial (1s) + status/list calls (2s each) or, for
	// ask_subagent, info + patch + acceptance + run timeout (3s) + grace +
	// abort (5s). Anything longer is a hang.
	const callBound = 15 * time.Second

	warmUp(t)
	before := snapshot()

	fake := gatewaytest.New(gatewaytest.Options{Token: token, AgentDelay: time.Millisecond})
	gw, err := gateway.New(gateway.Options{URL: fake.URL(), Token: token, DialTimeout: time.Second, CallTimeout: 2 * time.Second,
		AgentGrace: 500 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tools.NewServer(tools.Config{Gateway: gw, DefaultTimeout: 3 * time.Second})
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
		outcomes = map[string]int{}
		slowest  time.Duration
		problems []string
	)
	record := func(kind string, took time.Duration, problem string) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[kind]++
		slowest = max(slowest, took)
		if problem != "" && len(problems) < 20 {
			problems = append(problems, problem)
		}
	}

	stopChaos := make(chan struct{})
	chaosDone := make(chan struct{})
	go func() { // the fault injector
		defer close(chaosDone)
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stopChaos:
				return
			case <-time.After(time.Duration(20+rng.IntN(150)) * time.Millisecond):
			}
			switch rng.IntN(4) {
			case 0: // killed and restarted
				fake.Stop()
				time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
				if err := fake.Start(); err != nil {
					t.Error(err)
					return
				}
				restarts.Add(1)
			case 1: // announced restart
				fake.Shutdown("soak restart")
				fake.Stop()
				time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
				if err := fake.Start(); err != nil {
					t.Error(err)
					return
				}
				restarts.Add(1)
			default: // network blip
				fake.DropConnections()
				drops.Add(1)
			}
		}
	}()

	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			c := clients[w%len(clients)]
			for {
				i := next.Add(1)
				if i > int64(calls) {
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
	close(stopChaos)
	<-chaosDone

	// Healthy again: every tool works once the gateway stays up.
	time.Sleep(100 * time.Millisecond)
	for _, name := range []string{"gateway_status", "list_sessions", "list_models", "patch_session_model", "ask_subagent"} {
		args := map[string]any{}
		switch name {
		case "patch_session_model":
			args = map[string]any{"session_key": "agent:main:soak-final", "model": "fake/fake-echo"}
		case "ask_subagent":
			args = map[string]any{"message": "after the soak", "session_key": "agent:main:soak-final"}
		}
		if kind, _, problem := runSoakCall(clients[0], name, args, false, callBound); kind != "ok" {
			t.Errorf("%s after the soak: %s %s", name, kind, problem)
		}
	}

	mu.Lock()
	t.Logf("%d calls by %d workers in %s (%.0f calls/s); %d restarts, %d connection drops, %d connects; slowest call %s",
		calls, workers, elapsed.Round(time.Millisecond), float64(calls)/elapsed.Seconds(), restarts.Load(), drops.Load(),
		len(fake.Connects()), slowest.Round(time.Millisecond))
	t.Logf("outcomes: %v", outcomes)
	for _, p := range problems {
		t.Error(p)
	}
	// Calls fail fast while the gateway is down, so many do; what matters is
	// that none hung, every failure said why, and calls kept succeeding
	// between the faults.
	total := 0
	for _, n := range outcomes {
		total += n
	}
	if total != calls || outcomes["ok"] < calls/20 || restarts.Load()+drops.Load() < 5 {
		t.Errorf("%d outcomes for %d calls, %d ok, %d faults", total, calls, outcomes["ok"], restarts.Load()+drops.Load())
	}
	mu.Unlock()

	for _, c := range clients {
		c.Close()
	}
	gw.Close()
	fake.Close()
	after := settle(t, before, 10*time.Second)
	t.Logf("goroutines %d before, %d after; open fds %d before, %d after", len(before.goroutines), after.numGoroutines, before.fds, after.fds)
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
		return "patch_session_model", map[string]any{"session_key": session, "model": model}, false
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
	ctx, cancel := context.WithTimeout(context.Background(), bound+10*time.Second)
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
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

// --- leak checks ---------------------------------------------------------

// procState is what must come back to its baseline: the goroutines (by id,
// with their stacks for the report) and the open file descriptors.
type procState struct {
	goroutines    map[string]string // id → stack
	numGoroutines int
	fds           int
}

func snapshot() procState {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	st := procState{goroutines: map[string]string{}}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		head, _, _ := bytes.Cut(g, []byte("\n"))
		f := strings.Fields(string(head)) // goroutine 123 [state]:
		if len(f) >= 2 && f[0] == "goroutine" {
			st.goroutines[f[1]] = string(g)
		}
	}
	st.numGoroutines = len(st.goroutines)
	st.fds = countFDs()
	return st
}

// countFDs counts this process's open file descriptors (-1 where /proc is
// not available).
func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// settle waits until every goroutine started since before has ended and the
// file descriptors are back to their count, or fails with the leftovers.
func settle(t *testing.T, before procState, within time.Duration) procState {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		now := snapshot()
		var extra []string
		for id, stack := range now.goroutines {
			if _, ok := before.goroutines[id]; !ok {
				extra = append(extra, stack)
			}
		}
		if len(extra) == 0 && now.fds <= before.fds {
			return now
		}
		if time.Now().After(deadline) {
			sort.Strings(extra)
			t.Fatalf("leak after %s: %d new goroutines, fds %d → %d\n\n%s", within, len(extra), before.fds, now.fds, strings.Join(extra, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// warmUp runs one connection through every layer once, so that lazily
// created process-wide resources (the netpoller's descriptors, pools) exist
// before the baseline is taken.
func warmUp(t *testing.T) {
	t.Helper()
	fake := gatewaytest.New(gatewaytest.Options{Token: token})
	gw, err := gateway.New(gateway.Options{URL: fake.URL(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tools.NewServer(tools.Config{Gateway: gw})
	if err != nil {
		t.Fatal(err)
	}
	c := startInProcess(t, srv)
	if kind, _, problem := runSoakCall(c, "list_sessions", map[string]any{"limit": 1}, false, 10*time.Second); kind != "ok" {
		t.Fatalf("warm-up: %s %s", kind, problem)
	}
	c.Close()
	gw.Close()
	fake.Close()
	time.Sleep(100 * time.Millisecond)
}
