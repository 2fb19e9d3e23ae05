package tools

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// janitorCallTimeout bounds one sessions.delete of a private session.
// OpenClaw archives the transcript first (about half a second here) and
// waits up to 15 s for a run of the session to stop.
const janitorCallTimeout = 20 * time.Second

// Janitor removes the private sessions of ask_subagent runs. A run opens
// its session (Open) before it starts and removes it (Remove) when it is
// over; the removal runs in the background, so that the caller gets the
// answer as soon as the run is over. Drain, at exit, removes the sessions
// still open (their runs are stopped with them: sessions.delete aborts a
// session's run) and waits for every removal in flight, so that a normal
// exit leaves no private session behind and a crash leaves at most those of
// the runs in flight. It never touches a session it was not given.
type Janitor struct {
	gw  Gateway
	log *slog.Logger

	mu      sync.Mutex
	wg      sync.WaitGroup
	closed  bool
	open    map[string]struct{}
	pending map[string]struct{}
}

// NewJanitor returns a janitor that removes sessions through gw.
func NewJanitor(gw Gateway, log *slog.Logger) *Janitor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Janitor{gw: gw, log: log, open: map[string]struct{}{}, pending: map[string]struct{}{}}
}

// Open registers the private session key of a run about to start.
func (j *Janitor) Open(key string) {
	j.mu.Lock()
	j.open[key] = struct{}{}
	j.mu.Unlock()
}

// Keep forgets key: the caller asked to keep the session.
func (j *Janitor) Keep(key string) {
	j.mu.Lock()
	delete(j.open, key)
	j.mu.Unlock()
}

// Remove deletes the session key in the background. After Drain it deletes
// at once, in the caller's goroutine, since nobody would wait for it.
func (j *Janitor) Remove(key string) { j.removeAsync(key, false) }

// RemoveInterrupted is Remove for the session of a run that was cancelled
// or timed out, or whose end another process saw (agent.wait), which may
// still be ending on the gateway: Clawdbot answers
// a sessions.delete of a running session at once and writes the session
// again when the aborted run ends (about a second later), so the janitor
// deletes again until the gateway has no such session.
func (j *Janitor) RemoveInterrupted(key string) { j.removeAsync(key, true) }

// interruptedRetries and interruptedRetryGap bound the repeated deletes of
// RemoveInterrupted.
const (
	interruptedRetries  = 5
	interruptedRetryGap = time.Second
)

func (j *Janitor) removeAsync(key string, interrupted bool) {
	j.mu.Lock()
	delete(j.open, key)
	if j.closed {
		j.mu.Unlock()
		j.remove(key, interrupted)
		return
	}
	j.pending[key] = struct{}{}
	j.wg.Add(1)
	j.mu.Unlock()
	go func() {
		defer j.wg.Done()
		j.remove(key, interrupted)
		j.mu.Lock()
		delete(j.pending, key)
		j.mu.Unlock()
	}()
}

func (j *Janitor) remove(key string, interrupted bool) {
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), janitorCallTimeout)
		res, err := j.gw.SessionsDelete(ctx, key)
		cancel()
		if err != nil {
			j.log.Warn("could not remove a private subagent session; remove it with sessions.delete or the gateway's UI",
				"session", key, "err", Explain(err))
			return
		}
		if !interrupted || !res.Deleted || try == interruptedRetries {
			j.log.Debug("removed private subagent session", "session", key, "deletes", try)
			return
		}
		time.Sleep(interruptedRetryGap)
	}
}

// Pending returns the sessions whose removal is in flight.
func (j *Janitor) Pending() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, 0, len(j.pending))
	for k := range j.pending {
		out = append(out, k)
	}
	return out
}

// Drain removes the sessions still open, waits up to timeout for every
// removal in flight and reports whether they all ended. Removals asked for
// after Drain run synchronously.
func (j *Janitor) Drain(timeout time.Duration) bool {
	j.mu.Lock()
	var open []string
	for k := range j.open {
		open = append(open, k)
	}
	j.mu.Unlock()
	for _, k := range open {
		j.Remove(k)
	}
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	done := make(chan struct{})
	go func() { j.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		j.log.Warn("exiting before every private subagent session was removed", "sessions", j.Pending())
		return false
	}
}
