package tools_test

import (
	"context"
	"flag"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/gateway/gatewaytest"
	"github.com/clawgate/clawgate/schema"
	"github.com/clawgate/clawgate/tools"
)

// unreachableGateway is a client for a URL nobody listens on; building the
// server never connects, so definitions can be listed without a gateway.
func unreachableGateway(t testing.TB) *gateway.Client {
	t.Helper()
	gw, err := gateway.New(gateway.Options{URL: "ws://127.0.0.1:1", Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw
}

// newInProcess starts an initialized in-process MCP client on a server
// built from cfg with gw as its gateway.
func newInProcess(t testing.TB, gw tools.Gateway, cfg tools.Config) *client.Client {
	t.Helper()
	cfg.Gateway = gw
	srv, err := tools.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "0"}
	if _, err := c.Initialize(t.Context(), init); err != nil {
		t.Fatal(err)
	}
	return c
}

// --- bounds of waits -------------------------------------------------------

// binaryStart is about when this test binary started; with go test's
// -timeout it gives the binary's deadline.
var binaryStart = time.Now()

// patience bounds a wait for something that happens unless the code under
// test is broken (a reply, a goroutine ending, a process exiting). Such a
// bound only matters when something is broken, so it is not a guess at how
// fast the machine is: it is most of what is left of the test binary's own
// deadline (go test -timeout, 10 minutes by default), leaving a tenth to
// report the failure before go test kills the binary.
func patience() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return time.Hour
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return time.Hour
	}
	d, _ := g.Get().(time.Duration)
	if d <= 0 {
		return 24 * time.Hour // -timeout 0: no deadline asked for
	}
	return max(time.Until(binaryStart.Add(d))*9/10, time.Second)
}

// patientCtx is a context for a call that must return unless something is
// broken; it ends after patience().
func patientCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience())
	t.Cleanup(cancel)
	return ctx
}

// waitUntil polls cond until it holds; it fails the test only when cond has
// not held for patience(), i.e. when something is broken.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience())
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, patience())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// quickTimeout is the connect and call timeout for cases that wait for such
// a timeout to fire, and whose client must also connect and call within it
// while no fault is injected: 20 times the slowest of three connects plus a
// call to a fresh fake, measured now, so that it grows with the machine's
// load and with -race instead of assuming a speed; at least 250 ms.
func quickTimeout(t testing.TB) time.Duration {
	t.Helper()
	fake := gatewaytest.New(gatewaytest.Options{Token: token})
	defer fake.Close()
	var worst time.Duration
	for range 3 {
		gw, err := gateway.New(gateway.Options{URL: fake.URL(), Token: token})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = gw.SessionsList(patientCtx(t), schema.SessionsListParams{Limit: 1})
		worst = max(worst, time.Since(start))
		gw.Close()
		if err != nil {
			t.Fatalf("calibrating against a fresh fake: %v", err)
		}
	}
	return max(20*worst, 250*time.Millisecond)
}

// logWatch is a slog handler that counts the gateway client's log messages,
// so that a test can wait for the client to have noticed a lost connection
// instead of sleeping.
type logWatch struct {
	mu     sync.Mutex
	counts map[string]int
}

func newLogWatch() *logWatch { return &logWatch{counts: map[string]int{}} }

func (w *logWatch) logger() *slog.Logger { return slog.New(w) }

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }

func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	w.counts[r.Message]++
	w.mu.Unlock()
	return nil
}

func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

// count returns how often msg was logged.
func (w *logWatch) count(msg string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[msg]
}

// logConnLost is what the gateway client logs when a connection dies (not
// closed by clawgate).
const logConnLost = "gateway connection lost"
