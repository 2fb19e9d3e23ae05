package gatewaysim

import (
	"context"
	"fmt"
	"sync"
)

// Waiting for the fake. A test that has to wait until the fake has seen
// something (a run started, a run aborted, a connect arrived, every
// connection closed) calls a Wait method instead of polling Runs, Connects
// or ConnCount: the fake wakes its waiters whenever what those report
// changes, so a wait ends as soon as its condition holds, and fails only
// when ctx ends first (a test passes a context bounded by its patience).

// changes wakes the waiters of a Server: fire closes the channel that next
// handed out, so every waiter that took it before the change wakes up. Its
// zero value is ready.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// next returns a channel that is closed at the next change.
func (c *changes) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// fire wakes everyone waiting for the next change.
func (c *changes) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// changed records that what Runs, Sessions, Connects, ConnCount, Conns or
// Requests report has changed.
func (s *Server) changed() { s.changes.fire() }

// WaitFor waits until cond holds. cond is evaluated now and again after
// every change of what the fake reports (Runs, Sessions, Connects,
// ConnCount, Conns, Requests); it must not block. When ctx ends first, the error names what
// (the awaited state) and the context's error.
func (s *Server) WaitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		ch := s.changes.next() // before cond: a change after it still wakes this wait
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("gatewaysim: waiting for %s: %w", what, context.Cause(ctx))
		}
	}
}

// WaitRuns waits until the fake has started at least n agent runs and
// returns them all, in start order (as Runs).
func (s *Server) WaitRuns(ctx context.Context, n int) ([]RunInfo, error) {
	return waitCount(ctx, s, n, "agent run(s) to start", s.Runs)
}

// waitCount waits until list returns at least n items and returns them;
// what names the items in the error.
func waitCount[T any](ctx context.Context, s *Server, n int, what string, list func() []T) ([]T, error) {
	var got []T
	err := s.WaitFor(ctx, fmt.Sprintf("%d %s", n, what), func() bool {
		got = list()
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("%w (%d so far)", err, len(got))
	}
	return got, nil
}

// WaitRunOf waits until an agent run of the session sessionKey (its
// canonical form, as RunInfo.SessionKey) has started and returns the first
// one.
func (s *Server) WaitRunOf(ctx context.Context, sessionKey string) (RunInfo, error) {
	var run RunInfo
	err := s.WaitFor(ctx, "an agent run of "+sessionKey+" to start", func() bool {
		var ok bool
		run, ok = s.runOf(sessionKey)
		return ok
	})
	return run, err
}

// runOf returns the first run of sessionKey, if one started.
func (s *Server) runOf(sessionKey string) (RunInfo, bool) {
	for _, r := range s.Runs() {
		if r.SessionKey == sessionKey {
			return r, true
		}
	}
	return RunInfo{}, false
}

// WaitRunDone waits until the agent run runID has ended (Done), however it
// ended, and returns it.
func (s *Server) WaitRunDone(ctx context.Context, runID string) (RunInfo, error) {
	var run RunInfo
	err := s.WaitFor(ctx, "agent run "+runID+" to end", func() bool {
		var ok bool
		run, ok = s.run(runID)
		return ok && run.Done
	})
	if err != nil {
		return run, fmt.Errorf("%w (last seen: %+v)", err, run)
	}
	return run, nil
}

// WaitAborted waits until the agent run runID has ended and returns it; it
// is an error if the run ended without being aborted.
func (s *Server) WaitAborted(ctx context.Context, runID string) (RunInfo, error) {
	run, err := s.WaitRunDone(ctx, runID)
	if err == nil && !run.Aborted {
		err = fmt.Errorf("gatewaysim: agent run %s ended without being aborted: %+v", runID, run)
	}
	return run, err
}

// run returns the last run with id runID (a restarted fake forgets its
// idempotency keys, so an id may come again).
func (s *Server) run(runID string) (RunInfo, bool) {
	runs := s.Runs()
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].RunID == runID {
			return runs[i], true
		}
	}
	return RunInfo{}, false
}

// WaitConnects waits until the fake has received at least n connect
// requests and returns them all (as Connects).
func (s *Server) WaitConnects(ctx context.Context, n int) ([]ConnectInfo, error) {
	return waitCount(ctx, s, n, "connect request(s)", s.Connects)
}

// WaitConnCount waits until exactly n connections are open (as ConnCount).
func (s *Server) WaitConnCount(ctx context.Context, n int) error {
	live := 0
	err := s.WaitFor(ctx, fmt.Sprintf("%d open connection(s)", n), func() bool {
		live = s.ConnCount()
		return live == n
	})
	if err != nil {
		return fmt.Errorf("%w (%d open)", err, live)
	}
	return nil
}

// WaitSession waits until the store holds the session key (canonicalised
// like Session) and returns it.
func (s *Server) WaitSession(ctx context.Context, key string) (SessionInfo, error) {
	var info SessionInfo
	err := s.WaitFor(ctx, "session "+canonicalKey(key)+" to exist", func() bool {
		var ok bool
		info, ok = s.Session(key)
		return ok
	})
	return info, err
}

// WaitSessionGone waits until the store no longer holds the session key
// (canonicalised like Session), e.g. after sessions.delete. On Clawdbot a
// run that was going when its session was deleted writes the session again
// when it ends, as the real one does.
func (s *Server) WaitSessionGone(ctx context.Context, key string) error {
	return s.WaitFor(ctx, "session "+canonicalKey(key)+" to be gone", func() bool {
		_, ok := s.Session(key)
		return !ok
	})
}
