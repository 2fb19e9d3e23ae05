package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Logging never blocks the client. A slog handler may block (the process's
// stderr is a pipe that the MCP client does not drain), and the client logs
// from its read loop and while holding its lock: a blocked write there would
// stall every call and every tool's deadline. So the client's logger hands
// records to a bounded queue that one goroutine (running only while there
// is something to write) writes in order; when the queue is full, records
// are dropped and counted, and the count is logged once the handler keeps
// up again. Close waits a little for the queue to drain, so that the last
// lines before exit are not lost, but never for a blocked handler.
//
// Repeated lines about what the gateway sends (malformed frames, binary
// frames, unknown frame types, extra or unexpected responses, shutdown
// events) are summarised: the first warnBurst of each kind within
// warnInterval are logged, the rest are counted and reported in one line per
// kind at the end of the interval (or at Close). A gateway flooding garbage
// costs a few lines, not one per frame.
const (
	logQueueSize = 1024
	// logFlushWait bounds how long Close waits for queued log lines.
	logFlushWait = 500 * time.Millisecond
	warnBurst    = 5
	warnInterval = 10 * time.Second
)

// Messages of the log lines that report what was not logged.
const (
	msgLogDropped      = "gateway client log lines dropped: the log output is not being read fast enough"
	msgWarnsSuppressed = "repeated gateway warnings suppressed"
)

// logQueue is the queue of records shared by an asyncHandler and the
// handlers derived from it.
type logQueue struct {
	base slog.Handler // for the dropped-lines report

	mu      sync.Mutex
	items   []queuedRecord
	running bool // a goroutine is writing the queue
	dropped int64
	idle    chan struct{} // closed when the queue is empty and no goroutine writes; nil while running
}

type queuedRecord struct {
	ctx context.Context
	h   slog.Handler
	r   slog.Record
}

// asyncHandler is a slog.Handler that queues records for h instead of
// calling it.
type asyncHandler struct {
	h slog.Handler
	q *logQueue
}

// newAsyncLogger returns a logger that writes to l's handler without ever
// blocking, and its queue.
func newAsyncLogger(l *slog.Logger) (*slog.Logger, *logQueue) {
	q := &logQueue{base: l.Handler()}
	return slog.New(&asyncHandler{h: l.Handler(), q: q}), q
}

// Enabled implements slog.Handler.
func (a *asyncHandler) Enabled(ctx context.Context, l slog.Level) bool { return a.h.Enabled(ctx, l) }

// WithAttrs implements slog.Handler.
func (a *asyncHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &asyncHandler{h: a.h.WithAttrs(attrs), q: a.q}
}

// WithGroup implements slog.Handler.
func (a *asyncHandler) WithGroup(name string) slog.Handler {
	return &asyncHandler{h: a.h.WithGroup(name), q: a.q}
}

// Handle implements slog.Handler: it queues r and returns at once.
func (a *asyncHandler) Handle(ctx context.Context, r slog.Record) error {
	q := a.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) >= logQueueSize {
		q.dropped++
		return nil
	}
	q.items = append(q.items, queuedRecord{ctx: context.WithoutCancel(ctx), h: a.h, r: r.Clone()})
	if !q.running {
		q.running = true
		q.idle = nil
		go q.write()
	}
	return nil
}

// write writes the queue in order until it is empty.
func (q *logQueue) write() {
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.running = false
			q.items = nil
			if q.idle != nil {
				close(q.idle)
				q.idle = nil
			}
			q.mu.Unlock()
			return
		}
		it := q.items[0]
		q.items[0] = queuedRecord{}
		q.items = q.items[1:]
		dropped := q.dropped
		q.dropped = 0
		q.mu.Unlock()
		if dropped > 0 {
			r := slog.NewRecord(time.Now(), slog.LevelWarn, msgLogDropped, 0)
			r.AddAttrs(slog.Int64("dropped", dropped))
			_ = q.base.Handle(context.Background(), r)
		}
		_ = it.h.Handle(it.ctx, it.r)
	}
}

// flush waits until the queue is written, or for at most d.
func (q *logQueue) flush(d time.Duration) {
	q.mu.Lock()
	if !q.running {
		q.mu.Unlock()
		return
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	idle := q.idle
	q.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// warnLimiter logs repeated lines of one kind (message) at most warnBurst
// times per warnInterval and summarises the rest, at the kind's level. It
// is shared by all the connections of a client.
type warnLimiter struct {
	log *slog.Logger

	mu    sync.Mutex
	kinds map[string]*warnKind
}

type warnKind struct {
	level      slog.Level
	start      time.Time // of the current interval
	shown      int
	suppressed int64
	timer      *time.Timer // reports the suppressed ones at the interval's end
}

func newWarnLimiter(log *slog.Logger) *warnLimiter {
	return &warnLimiter{log: log, kinds: map[string]*warnKind{}}
}

// warn logs msg with args as a warning, unless warnBurst lines of this msg
// were logged within the current interval: then it only counts it.
func (w *warnLimiter) warn(msg string, args ...any) { w.note(slog.LevelWarn, msg, args...) }

// note is warn at the given level.
func (w *warnLimiter) note(level slog.Level, msg string, args ...any) {
	if !w.log.Enabled(context.Background(), level) {
		return
	}
	now := time.Now()
	w.mu.Lock()
	k := w.kinds[msg]
	if k == nil || now.Sub(k.start) >= warnInterval {
		if k != nil && k.timer != nil {
			k.timer.Stop()
		}
		var carried int64
		if k != nil { // its timer may be about to fire: it finds nothing
			carried, k.suppressed = k.suppressed, 0
		}
		k = &warnKind{level: level, start: now}
		w.kinds[msg] = k
		if carried > 0 {
			w.summary(k, msg, carried)
		}
	}
	if k.shown < warnBurst {
		k.shown++
		w.mu.Unlock()
		w.log.Log(context.Background(), level, msg, args...)
		return
	}
	k.suppressed++
	if k.timer == nil {
		k.timer = time.AfterFunc(warnInterval-now.Sub(k.start), func() { w.report(msg, k) })
	}
	w.mu.Unlock()
}

// report logs the count of suppressed warnings of kind k (msg), if any.
func (w *warnLimiter) report(msg string, k *warnKind) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := k.suppressed; n > 0 {
		k.suppressed = 0
		w.summary(k, msg, n)
	}
	k.timer = nil
}

// summary logs n suppressed lines of kind k (msg) at its level; the logger
// never blocks.
func (w *warnLimiter) summary(k *warnKind, msg string, n int64) {
	w.log.Log(context.Background(), k.level, msgWarnsSuppressed, "warning", msg, "suppressed", n, "interval", warnInterval)
}

// flush reports every count of suppressed warnings now.
func (w *warnLimiter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for msg, k := range w.kinds {
		if k.timer != nil {
			k.timer.Stop()
			k.timer = nil
		}
		if n := k.suppressed; n > 0 {
			k.suppressed = 0
			w.summary(k, msg, n)
		}
	}
}
