package leakcheck

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// park starts a goroutine that blocks in parked, whose name shows in the
// stacks, until release is closed; it then closes done.
func park() (release, done chan struct{}) {
	release, done = make(chan struct{}), make(chan struct{})
	started := make(chan struct{})
	go parked(started, release, done)
	<-started
	return release, done
}

func parked(started chan<- struct{}, release <-chan struct{}, done chan<- struct{}) {
	close(started)
	<-release
	close(done)
}

// expired is a context that has already ended.
func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestSettleReportsAndThenClears(t *testing.T) {
	before := Take()
	release, done := park()

	now, err := SettleGoroutines(expired(), before)
	if err == nil || !strings.Contains(err.Error(), "1 goroutines started since the baseline still run") ||
		!strings.Contains(err.Error(), "leakcheck.parked") {
		t.Fatalf("a parked goroutine: %v", err)
	}
	if got := len(now.Started(before)); got != 1 {
		t.Fatalf("Started: %d goroutines, want 1", got)
	}

	close(release)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := SettleGoroutines(ctx, before); err != nil {
		t.Fatalf("after the goroutine ended: %v", err)
	}
}

func TestSettleCountsFileDescriptors(t *testing.T) {
	before := Take()
	if before.FDs() < 0 {
		t.Skip("no /proc/self/fd")
	}
	f, err := openDevNull()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Settle(expired(), before); err == nil || !strings.Contains(err.Error(), "file descriptors") {
		t.Fatalf("an open file: %v", err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Settle(ctx, before); err != nil {
		t.Fatalf("after closing the file: %v", err)
	}
}

func TestSettleCount(t *testing.T) {
	base := Baseline(10 * time.Second)
	release, done := park()
	if _, err := SettleCount(expired(), base.Goroutines()); err == nil || !strings.Contains(err.Error(), "leakcheck.parked") {
		t.Fatalf("one goroutine over the baseline: %v", err)
	}
	close(release)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if now, err := SettleCount(ctx, base.Goroutines()); err != nil || now.Goroutines() > base.Goroutines() {
		t.Fatalf("back to the baseline: %d goroutines, %v", now.Goroutines(), err)
	}
}

func openDevNull() (interface{ Close() error }, error) { return os.Open(os.DevNull) }
