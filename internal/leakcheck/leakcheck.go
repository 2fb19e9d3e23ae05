// Package leakcheck finds goroutines and file descriptors that outlive
// what started them: a test takes a Snapshot before the code under test
// runs, closes everything, then calls Settle (or SettleCount), which waits
// for what is still ending to end and reports what is left, with the stack
// of every goroutine left. It imports nothing of clawgate's and not package
// testing, so that the tests of every package, the fake gateway's own
// included, and the side-by-side benchmark command can use it.
//
// Only a leak makes a settle wait long: once everything is closed, what is
// left ends at once. Callers bound the wait with a context (tests use
// testwait.Ctx, so that the bound is the test binary's patience, not a guess
// at how fast the machine is).
package leakcheck

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Snapshot is this process's goroutines at one moment, by id with their
// stacks, and the number of its open file descriptors.
type Snapshot struct {
	stacks map[string]string // goroutine id → its stack
	fds    int
}

// Take records the goroutines and file descriptors of this process now.
func Take() Snapshot {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	s := Snapshot{stacks: map[string]string{}, fds: countFDs()}
	for _, g := range strings.Split(string(buf), "\n\n") {
		head, _, _ := strings.Cut(g, "\n")
		if f := strings.Fields(head); len(f) >= 2 && f[0] == "goroutine" { // goroutine 123 [state]:
			s.stacks[f[1]] = g
		}
	}
	return s
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

// Goroutines is the number of goroutines in s.
func (s Snapshot) Goroutines() int { return len(s.stacks) }

// FDs is the number of open file descriptors in s (-1 where /proc is not
// available).
func (s Snapshot) FDs() int { return s.fds }

// Started returns the stacks of the goroutines in s that were not running
// in before, sorted.
func (s Snapshot) Started(before Snapshot) []string {
	var out []string
	for id, stack := range s.stacks {
		if _, ok := before.stacks[id]; !ok {
			out = append(out, stack)
		}
	}
	sort.Strings(out)
	return out
}

// all returns every stack of s, sorted.
func (s Snapshot) all() []string { return s.Started(Snapshot{}) }

// Settle waits until every goroutine started since before has ended and
// the open file descriptors are back to before's count, and returns the
// snapshot that showed it. When ctx ends first, the error counts what is
// left and shows the stacks of the goroutines left.
func Settle(ctx context.Context, before Snapshot) (Snapshot, error) {
	return settle(ctx, before, true)
}

// SettleGoroutines is Settle for the goroutines alone (where descriptors
// created once, such as the netpoller's, may stay).
func SettleGoroutines(ctx context.Context, before Snapshot) (Snapshot, error) {
	return settle(ctx, before, false)
}

func settle(ctx context.Context, before Snapshot, fds bool) (Snapshot, error) {
	now, ok := until(ctx, func(now Snapshot) bool {
		return len(now.Started(before)) == 0 && (!fds || now.fds <= before.fds)
	})
	if ok {
		return now, nil
	}
	left := now.Started(before)
	return now, fmt.Errorf("leak: %d goroutines started since the baseline still run, file descriptors %d → %d (%v)\n\n%s",
		len(left), before.fds, now.fds, context.Cause(ctx), strings.Join(left, "\n\n"))
}

// SettleCount waits until at most n goroutines run, and returns the
// snapshot that showed it. When ctx ends first, the error gives the count
// and every stack.
func SettleCount(ctx context.Context, n int) (Snapshot, error) {
	now, ok := until(ctx, func(now Snapshot) bool { return now.Goroutines() <= n })
	if ok {
		return now, nil
	}
	return now, fmt.Errorf("leak: %d goroutines, want at most %d (%v)\n\n%s",
		now.Goroutines(), n, context.Cause(ctx), strings.Join(now.all(), "\n\n"))
}

// until takes snapshots, every millisecond at first and then less often
// (every 50 ms at most), until done holds for one or ctx ends; it returns
// the last snapshot and whether done held.
func until(ctx context.Context, done func(Snapshot) bool) (Snapshot, bool) {
	pause := time.Millisecond
	for {
		now := Take()
		if done(now) {
			return now, true
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return now, false
		case <-t.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// Baseline waits until the number of goroutines stops changing (two
// samples 50 ms apart agree), for at most within, and returns the last
// snapshot: a baseline for SettleCount. Goroutines still ending can only
// make it too high, which makes a later check more lenient, never fail.
func Baseline(within time.Duration) Snapshot {
	last := Take()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		now := Take()
		if now.Goroutines() == last.Goroutines() {
			return now
		}
		last = now
	}
	return last
}
