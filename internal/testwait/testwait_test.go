package testwait

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPatienceFollowsTheBinaryDeadline(t *testing.T) {
	d, ok := deadline()
	if !ok {
		if Patience() != 24*time.Hour || FuzzPatience() != time.Minute {
			t.Fatalf("without a deadline: Patience %s, FuzzPatience %s", Patience(), FuzzPatience())
		}
		return
	}
	if p := Patience(); p < time.Second || p > time.Until(d) {
		t.Fatalf("Patience %s with %s left before the deadline", p, time.Until(d))
	}
	if FuzzPatience() > Patience()+time.Second {
		t.Fatalf("FuzzPatience %s beyond Patience %s under a deadline", FuzzPatience(), Patience())
	}
}

func TestUntilAndWait(t *testing.T) {
	var n atomic.Int32
	Until(t, "the third poll", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("cond called %d times, want 3", n.Load())
	}
	done := make(chan bool)
	go func() { done <- Wait(func() bool { return n.Load() >= 5 }) }()
	n.Store(5)
	if !Recv(t, "Wait's result", done) {
		t.Fatal("Wait reported false for a condition that held")
	}
	if !poll(0, func() bool { return true }) || poll(0, func() bool { return false }) {
		t.Fatal("poll with no time left must report the condition's first value")
	}
}

func TestCtxEndsWithTheTest(t *testing.T) {
	var ctx context.Context
	t.Run("inner", func(t *testing.T) {
		ctx = Ctx(t)
		// Patience shrinks as the binary's deadline nears; the two readings
		// are a moment apart, hence the second of slack.
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > Patience()+time.Second {
			t.Fatalf("deadline %v %v, want within Patience", dl, ok)
		}
	})
	if ctx.Err() == nil {
		t.Fatal("Ctx still open after its test ended")
	}
}

func TestQuickTimeout(t *testing.T) {
	calls := 0
	// An instant probe gives the floor (or, if the machine stalled during
	// one of the three probes, 20 times that stall: never less).
	if d := QuickTimeout(t, func() error { calls++; return nil }); d < 250*time.Millisecond || calls != 3 {
		t.Fatalf("instant probe: %s after %d calls, want at least the 250 ms floor after 3", d, calls)
	}
	if d := QuickTimeout(t, func() error { time.Sleep(20 * time.Millisecond); return nil }); d < 400*time.Millisecond {
		t.Fatalf("a 20 ms probe gave %s, want at least 20 times it", d)
	}
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		QuickTimeout(ft, func() error { return errors.New("refused") })
	}()
	if !ft.failed {
		t.Fatal("a failing probe did not fail the test")
	}
}

// fatalRecorder records Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

func TestLogWatchCounts(t *testing.T) {
	w := NewLogWatch()
	log := w.Logger().With("k", "v").WithGroup("g")
	log.Info("gateway connection lost")
	log.Debug("gateway connection lost", "n", 2)
	log.Warn("other")
	if w.Count("gateway connection lost") != 2 || w.Count("other") != 1 || w.Count("never") != 0 {
		t.Fatalf("counts %v", w.counts)
	}
}
