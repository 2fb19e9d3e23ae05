package cli

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// logQueue is how many log lines may wait for a slow stderr before new ones
// are dropped.
const logQueue = 1024

// logFlushWait bounds how long exiting waits for queued log lines to reach
// stderr.
const logFlushWait = time.Second

// asyncWriter passes each Write (one log line: slog handlers write a record
// in one call) to w on a goroutine of its own, so that a client that does not
// read clawgate's stderr can never block a tool call, the gateway client's
// read loop or a deadline. When the queue is full, lines are dropped and
// counted; the count is reported once stderr drains again.
type asyncWriter struct {
	w       io.Writer
	lines   chan []byte
	dropped atomic.Int64
	done    chan struct{}

	mu     sync.RWMutex // held for writing only to close lines
	closed bool
}

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{w: w, lines: make(chan []byte, logQueue), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	defer close(a.done)
	for line := range a.lines {
		if n := a.dropped.Swap(0); n > 0 {
			fmt.Fprintf(a.w, "clawgate: %d log lines were dropped because stderr was not being read\n", n)
		}
		_, _ = a.w.Write(line)
	}
}

// Write queues a copy of p, or drops it when the queue is full. It never
// blocks and never fails.
func (a *asyncWriter) Write(p []byte) (int, error) {
	line := append([]byte(nil), p...)
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return len(p), nil
	}
	select {
	case a.lines <- line:
	default:
		a.dropped.Add(1)
	}
	return len(p), nil
}

// Close stops accepting lines and waits up to logFlushWait for the queued
// ones to be written. Writes after Close are dropped.
func (a *asyncWriter) Close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.lines)
	}
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-time.After(logFlushWait):
	}
}

// syncWriter serialises writes to w (stderr is written by the log goroutine
// and by the commands' own messages).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
