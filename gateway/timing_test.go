package gateway_test

import (
	"context"
	"flag"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/gateway/gatewaytest"
	"github.com/clawgate/clawgate/schema"
)

// How long the tests of this package wait, and why. No bound here assumes
// how fast the machine is:
//
//   - A wait for something that happens unless the code is broken (a reply,
//     a run starting, a goroutine ending) is bounded by patience(): most of
//     the test binary's own deadline. It only matters when something is
//     broken.
//   - A test that checks that something happens at once, not after a
//     timeout, makes that timeout longTimeout and requires the event well
//     before it (wellBefore).
//   - A test that checks that a timeout fires uses a timeout from
//     quickTimeout(t), measured on this machine now, and allows twice the
//     timeout for the error to come back.

// longTimeout is a timeout that must not fire in a test: an event that
// happens "at once" is required well before it.
const longTimeout = time.Minute

// wellBefore is the bound of an event that must come at once rather than
// when timeout fires: half of timeout.
func wellBefore(timeout time.Duration) time.Duration { return timeout / 2 }

// binaryStart is about when this test binary started; with go test's
// -timeout it gives the binary's deadline.
var binaryStart = time.Now()

// patience bounds a wait for something that happens unless the code under
// test is broken. Such a bound only matters when something is broken, so it
// is not a guess at the machine's speed: it is most of what is left of the
// test binary's deadline (go test -timeout, 10 minutes by default), leaving
// a tenth to report the failure before go test kills the binary.
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

// waitUntil polls cond until it holds; it fails the test only when cond has
// not held within patience(), i.e. when something is broken.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience())
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, patience())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recv waits for a value from ch for at most patience().
func recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience()):
		t.Fatalf("%s: nothing after %s", what, patience())
	}
	var zero T
	return zero
}

// quickTimeout is a connect, call or tick timeout for a case that waits for
// such a timeout to fire and whose client must also connect and call within
// it while no fault is injected: 20 times the slowest of three connects
// plus a call to a fresh fake, measured now (so it grows with the machine's
// load and with -race instead of assuming a speed), and at least 250 ms.
func quickTimeout(t testing.TB) time.Duration {
	t.Helper()
	s := gatewaytest.New(gatewaytest.Options{Token: testToken})
	defer s.Close()
	var worst time.Duration
	for range 3 {
		c, err := gateway.New(gateway.Options{URL: s.URL(), Token: testToken, DialTimeout: longTimeout, CallTimeout: longTimeout})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = c.SessionsList(context.Background(), schema.SessionsListParams{Limit: 1})
		worst = max(worst, time.Since(start))
		c.Close()
		if err != nil {
			t.Fatalf("calibrating against a fresh fake: %v", err)
		}
	}
	return max(20*worst, 250*time.Millisecond)
}

// logWatch is a slog handler that counts the client's log messages, so that
// a test can wait for the client to have noticed something (a lost
// connection) instead of sleeping.
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

// Messages of the client that a test waits for.
const (
	logConnLost = "gateway connection lost" // a connection died (not closed by clawgate)
)
