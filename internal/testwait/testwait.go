// Package testwait bounds the waits of clawgate's tests. It is imported only
// by tests (it imports package testing), and it imports nothing of
// clawgate's, so that every package's tests can use it, the fake gateway's
// own in-package tests included.
//
// How long a test waits, and why. No bound here assumes how fast the
// machine is:
//
//   - A wait for something that happens unless the code is broken (a reply,
//     a run starting, a goroutine ending, a process exiting) is bounded by
//     [Patience]: most of the test binary's own deadline. It only matters
//     when something is broken. [Until], [Wait], [Recv] and [Ctx] wait that
//     long; a fuzz target waits [FuzzPatience].
//   - A test that checks that something happens at once, not after a
//     timeout, makes that timeout [LongTimeout] and requires the event
//     [WellBefore] it.
//   - A test that checks that a timeout fires uses a timeout from
//     [QuickTimeout], measured on this machine now (gatewaywait.QuickTimeout
//     measures the gateway client), and allows twice the timeout for the
//     error to come back.
//   - A test that waits for the code under test to have noticed something
//     (a lost connection) waits for its log message with a [LogWatch]
//     instead of sleeping.
//
// What stays fixed: bounds that are the product's promise (an ask_subagent
// call answers within timeout_seconds + 1 s), sleeps that wait for a timer
// by design (twice a reconnect backoff), and windows in which a correct
// implementation cannot fail (nothing may arrive within 300 ms).
package testwait

import (
	"context"
	"flag"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// start is about when this test binary started (this package is
// initialised before any test runs); with go test's -timeout it gives the
// binary's deadline.
var start = time.Now()

// deadline returns about when go test's -timeout (10 minutes by default)
// kills this test binary, and false when there is no deadline (-timeout 0,
// or not in a test binary).
func deadline() (time.Time, bool) {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return time.Time{}, false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return time.Time{}, false
	}
	d, _ := g.Get().(time.Duration)
	if d <= 0 {
		return time.Time{}, false
	}
	return start.Add(d), true
}

// Patience bounds a wait for something that happens unless the code under
// test is broken. Such a bound only matters when something is broken, so it
// is not a guess at how fast the machine is: it is most of what is left of
// the test binary's deadline, leaving a tenth to report the failure before
// go test kills the binary, and at least a second. Without a deadline it is
// a day.
func Patience() time.Duration {
	d, ok := deadline()
	if !ok {
		return 24 * time.Hour
	}
	return max(time.Until(d)*9/10, time.Second)
}

// FuzzPatience bounds a wait, in a fuzz target, for something that cannot
// block unless the code is broken: Patience, or, without a deadline
// (-timeout 0), a minute per input, so that fuzzing reports an input that
// blocks instead of waiting a day for it.
func FuzzPatience() time.Duration {
	if _, ok := deadline(); ok {
		return Patience()
	}
	return time.Minute
}

// Ctx is a context for a call that must return unless something is broken:
// it ends after Patience, and when the test ends.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Patience())
	t.Cleanup(cancel)
	return ctx
}

// Until polls cond until it holds. It fails the test only when cond has not
// held within Patience, i.e. when something is broken; what names the
// awaited event in that failure. Call it from the test's goroutine (Wait
// may be called from any goroutine).
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	p := Patience()
	if !poll(p, cond) {
		t.Fatalf("%s: not after %s", what, p)
	}
}

// Wait polls cond until it holds or Patience has passed, and reports
// whether it held. Unlike Until it does not fail the test, so a goroutine
// other than the test's may use it (to act once something has happened);
// the test then checks the outcome.
func Wait(cond func() bool) bool { return poll(Patience(), cond) }

// poll calls cond first every millisecond, then less often (every 20 ms at
// most), until it holds or within has passed; it reports whether it held.
func poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for pause := time.Millisecond; !cond(); pause = min(2*pause, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
	}
	return true
}

// Recv waits for a value from ch for at most Patience and returns it (the
// zero value if ch is closed). what names the awaited value in the failure.
func Recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	p := Patience()
	timer := time.NewTimer(p)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: nothing after %s", what, p)
	}
	var zero T
	return zero
}

// LongTimeout is a timeout that must not fire in a test: an event that
// happens "at once" is required WellBefore it.
const LongTimeout = time.Minute

// WellBefore is the bound of an event that must come at once rather than
// when timeout fires: half of timeout.
func WellBefore(timeout time.Duration) time.Duration { return timeout / 2 }

// QuickTimeout is a connect, call or tick timeout for a test that waits for
// such a timeout to fire and whose other connects and calls must complete
// within it: 20 times the slowest of three runs of probe, measured now (so
// it grows with the machine's load and with -race instead of assuming a
// speed), and at least 250 ms. probe connects a fresh client to a fresh
// fake gateway and makes one call; an error fails the test.
func QuickTimeout(t testing.TB, probe func() error) time.Duration {
	t.Helper()
	var worst time.Duration
	for range 3 {
		begin := time.Now()
		err := probe()
		worst = max(worst, time.Since(begin))
		if err != nil {
			t.Fatalf("calibrating against a fresh fake: %v", err)
		}
	}
	return max(20*worst, 250*time.Millisecond)
}

// LogWatch is a slog handler that counts log messages, so that a test can
// wait for the code under test to have noticed something (a lost
// connection) instead of sleeping. Its zero value is not ready: use
// NewLogWatch.
type LogWatch struct {
	mu     sync.Mutex
	counts map[string]int
}

// NewLogWatch returns a LogWatch that has counted nothing.
func NewLogWatch() *LogWatch { return &LogWatch{counts: map[string]int{}} }

// Logger returns a logger that logs to w.
func (w *LogWatch) Logger() *slog.Logger { return slog.New(w) }

// Enabled implements slog.Handler: every level counts.
func (w *LogWatch) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler: it counts r's message.
func (w *LogWatch) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	w.counts[r.Message]++
	w.mu.Unlock()
	return nil
}

// WithAttrs implements slog.Handler; attributes are not kept.
func (w *LogWatch) WithAttrs([]slog.Attr) slog.Handler { return w }

// WithGroup implements slog.Handler; groups are not kept.
func (w *LogWatch) WithGroup(string) slog.Handler { return w }

// Count returns how often msg was logged.
func (w *LogWatch) Count(msg string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[msg]
}
