// Package gateway is clawgate's client for the OpenClaw / Clawdbot gateway
// WebSocket protocol (versions 3 and 4).
//
// A Client keeps one connection per process, opened lazily by the first call
// and shared by all calls: requests are multiplexed by id over a single read
// loop and agent events are routed to their run by runId. Every wait is
// bounded: dial and handshake by DialTimeout, ordinary calls by CallTimeout,
// agent runs by their own timeout plus AgentGrace, and the connection itself
// by a liveness watchdog of two tick intervals. When the connection dies,
// every pending call fails at once with the cause and the next call
// reconnects, after a short capped backoff. Close ends the client's
// lifetime, from which every dial and call derives its context: a dial in
// flight stops at once.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Client is a gateway client. It is safe for concurrent use.
type Client struct {
	opts Options
	log  *slog.Logger
	// life is the client's lifetime, like the context of tailscale's
	// derphttp client: Close cancels it (end). Every dial and every call
	// derives its context from it (see bound), so that Close stops a dial
	// in flight, its retries and every wait that is not on a connection (a
	// call waiting for a dial, a retry's pause).
	life context.Context
	end  context.CancelFunc

	mu          sync.Mutex
	cur         *conn
	dialing     chan struct{} // closed when the dial in progress ends
	lastErr     error         // result of the last failed connect
	nextAttempt time.Time     // no new connect before this after a failure
	backoff     time.Duration
	closed      bool
	runs        map[string]string // agent runs in progress: runId → session key
	device      deviceState       // what the dials learned about authenticating
}

// New returns a Client for opts. It validates the options but does not
// connect: the first call does.
func New(opts Options) (*Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.InstanceID == "" {
		id, err := uuid.NewRandom()
		if err != nil {
			return nil, fmt.Errorf("generate instance id: %w", err)
		}
		o.InstanceID = id.String()
	}
	life, end := context.WithCancel(context.Background())
	o.life = life
	return &Client{opts: o, log: o.Logger, life: life, end: end, runs: map[string]string{}}, nil
}

// closeWait bounds how long Close waits for a dial in flight to notice
// that the client's lifetime ended (a dial watches its context, so it
// stops at once; the bound only keeps a misbehaving dial from holding
// Close). It allows for the close handshake of a connection that the dial
// completed all the same (closeHandshakeWait).
const closeWait = 2 * closeHandshakeWait

// bound returns ctx bounded also by d (0: no bound) and by the client's
// lifetime: it ends when ctx does, after d, or when Close ends the
// lifetime (a wait on it then returns ErrClosed: see conn.ctxErr).
func (c *Client) bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	var cancel context.CancelFunc
	if d > 0 {
		ctx, cancel = withTimeout(ctx, d)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	stop := context.AfterFunc(c.life, cancel)
	return ctx, func() { stop(); cancel() }
}

// URL is the gateway URL the client connects to (never with credentials).
func (c *Client) URL() string { return RedactURL(c.opts.URL) }

// Close aborts the agent runs still in progress (best effort, where the
// gateway can abort runs, within abortTimeout), closes the connection, ends
// the client's lifetime, which stops a dial in flight, and makes further
// calls fail with ErrClosed. Pending calls fail at once. When Close
// returns, no dial is running (it waits up to closeWait for one to stop).
func (c *Client) Close() error {
	c.mu.Lock()
	cur := c.cur
	runs := maps.Clone(c.runs)
	c.mu.Unlock()
	if cur != nil && !cur.isDead() && cur.caps.AbortRuns && len(runs) > 0 {
		ctx, cancel := c.bound(context.Background(), abortTimeout)
		var wg sync.WaitGroup
		for runID, key := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.AbortRun(ctx, key, runID)
				c.log.Info("aborted agent run on close", "run_id", runID, "err", err)
			}()
		}
		wg.Wait()
		cancel()
	}
	c.mu.Lock()
	c.closed = true
	cur = c.cur
	c.cur = nil
	dialing := c.dialing
	c.mu.Unlock()
	// The connection first, so that its pending calls fail as a lost
	// connection, as ever; then the lifetime, which stops a dial in flight
	// and every other wait.
	if cur != nil {
		cur.close("clawgate closing")
	}
	c.end()
	if dialing != nil {
		select {
		case <-dialing:
		case <-time.After(closeWait):
			c.log.Warn("a gateway dial did not stop within the close wait", "wait", closeWait)
		}
	}
	c.opts.warns.flush()
	c.log.Debug("gateway client closed")
	// The last lines before exit are worth a moment, a blocked log
	// output is not.
	c.opts.logq.flush(logFlushWait)
	return nil
}

// trackRun records an agent run in progress until the returned func is
// called.
func (c *Client) trackRun(runID, sessionKey string) func() {
	c.mu.Lock()
	c.runs[runID] = sessionKey
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.runs, runID)
		c.mu.Unlock()
	}
}

// connection returns a live connection, connecting if needed. Concurrent
// callers share one dial, and each caller waits for at most one dial. After a
// failed connect, calls made before the backoff ends get that failure at once
// without dialing again, so a down gateway is never hammered, while a
// restarted one is found by the first call after the backoff. Nothing waits
// past its ctx.
func (c *Client) connection(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.cur != nil && !c.cur.isDead() {
		cur := c.cur
		c.mu.Unlock()
		return cur, nil
	}
	ch := c.dialing
	if ch == nil {
		if c.lastErr != nil && time.Now().Before(c.nextAttempt) {
			err := c.lastErr
			c.mu.Unlock()
			return nil, err
		}
		ch = make(chan struct{})
		c.dialing = ch
		go c.dialOnce(ch)
	}
	c.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, c.waitError(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.cur != nil && !c.cur.isDead():
		return c.cur, nil
	case c.cur != nil:
		return nil, &ConnLostError{Cause: c.cur.err}
	case c.lastErr != nil:
		return nil, c.lastErr
	}
	return nil, fmt.Errorf("connecting to the gateway at %s failed for an unknown reason", c.URL())
}

// waitError is what a caller gets when its ctx ends while a dial runs:
// ErrClosed once Close has begun.
func (c *Client) waitError(ctx context.Context) error {
	c.mu.Lock()
	closed, lastErr := c.closed, c.lastErr
	c.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case lastErr != nil:
		return lastErr
	}
	return fmt.Errorf("connecting to the gateway at %s: %w", c.URL(), ctx.Err())
}

// dialOnce runs one connect (with retries of retryable startup refusals)
// under DialTimeout, independent of any caller's context but not of the
// client's lifetime (Close stops it), and publishes the result.
func (c *Client) dialOnce(done chan struct{}) {
	ctx, cancel := context.WithTimeout(c.life, c.opts.DialTimeout)
	defer cancel()
	start := time.Now()
	cn, err := c.dialRetrying(ctx)
	c.mu.Lock()
	c.dialing = nil
	if c.closed {
		c.mu.Unlock()
		// Close came while the dial ran: a connection made all the same
		// is closed before Close's wait for this dial ends.
		if cn != nil {
			cn.close("clawgate closing")
		}
		close(done)
		return
	}
	defer c.mu.Unlock()
	defer close(done)
	if err != nil {
		switch {
		case isPermanent(err):
			c.backoff = c.opts.MaxBackoff
		case c.backoff == 0:
			c.backoff = c.opts.MinBackoff
		default:
			c.backoff = min(2*c.backoff, c.opts.MaxBackoff)
		}
		c.cur = nil // a dead connection must not hide why reconnecting fails
		c.lastErr = err
		c.nextAttempt = time.Now().Add(c.backoff)
		c.log.Warn("gateway connect failed", "url", c.URL(), "err", err, "retry_in", c.backoff)
		return
	}
	c.cur, c.lastErr, c.backoff = cn, nil, 0
	c.nextAttempt = time.Time{}
	c.log.Info("gateway connected", "url", c.URL(), "protocol", cn.protocol, "server_version", cn.hello.Server.Version,
		"scopes", cn.scopes, "took", time.Since(start).Round(time.Millisecond))
}

func (c *Client) dialRetrying(ctx context.Context) (*conn, error) {
	for {
		cn, err := dial(ctx, c.opts, &c.device)
		ge, ok := AsError(err)
		if !ok || !ge.Retryable {
			return cn, err
		}
		wait := max(ge.RetryAfter, 50*time.Millisecond)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, err
		}
		c.log.Info("gateway not ready, retrying connect", "retry_after", wait, "reason", ge.Details.Reason)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, err
		}
	}
}

func isPermanent(err error) bool {
	if ge, ok := AsError(err); ok {
		return ge.Permanent()
	}
	var se *ScopeError
	return errors.As(err, &se)
}

// Info describes the negotiated connection. What the gateway can do is
// Capabilities, not a comparison of Protocol numbers.
type Info struct {
	URL            string
	Protocol       int
	ServerVersion  string
	Scopes         []string // granted scopes, or the requested ones when the gateway does not report them
	ScopesReported bool     // whether the gateway reported the granted scopes (protocol 4 does)
	MainSessionKey string
	DefaultAgentID string
	// MaxPayload is policy.maxPayload as the gateway announced it: the
	// largest request it accepts (0: not announced).
	MaxPayload int64
	// ReadLimit is the largest frame clawgate reads from the gateway:
	// MaxPayload clamped to 1 MiB..64 MiB.
	ReadLimit int64
	// TickInterval is the tick interval the liveness watchdog uses: the
	// announced policy.tickIntervalMs clamped to 1 s..1 h (30 s when
	// none is announced).
	TickInterval time.Duration
	Methods      []string
}

// Info connects if needed and describes the connection. It waits at most a
// little longer than DialTimeout, so that a failed dial reports its own
// cause.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	ctx, cancel := c.bound(ctx, c.opts.DialTimeout+time.Second)
	defer cancel()
	cn, err := c.connection(ctx)
	if err != nil {
		return nil, err
	}
	return cn.info(c.URL()), nil
}

func (cn *conn) info(url string) *Info {
	h := cn.hello
	in := &Info{
		URL:            url,
		Protocol:       h.Protocol,
		ServerVersion:  h.Server.Version,
		Scopes:         cn.scopes,
		ScopesReported: h.Auth != nil && h.Auth.Scopes != nil,
		MaxPayload:     h.Policy.MaxPayload,
		ReadLimit:      readLimit(h.Policy.MaxPayload),
		TickInterval:   tickInterval(h.Policy),
		Methods:        h.Features.Methods,
	}
	if h.Snapshot != nil && h.Snapshot.SessionDefaults != nil {
		in.MainSessionKey = h.Snapshot.SessionDefaults.MainSessionKey
		in.DefaultAgentID = h.Snapshot.SessionDefaults.DefaultAgentID
	}
	return in
}

// withTimeout bounds ctx by d unless it already ends sooner.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// idempotent lists the methods that may be sent twice: they only read.
// agent, sessions.patch and the aborts are not among them.
var idempotent = map[string]bool{
	"status":        true,
	"health":        true,
	"sessions.list": true,
	"models.list":   true,
	"agents.list":   true,
	"chat.history":  true,
}

// Call sends one request and decodes the payload of its reply into out (if
// out is not nil). It connects if needed and sends the request again, once,
// on a fresh connection when it could not be sent, or, for an idempotent
// method, when the gateway closed the connection normally before replying
// (a gateway or proxy that closes right after a reply may have closed
// before it read the next request). It retries UNAVAILABLE replies marked
// retryable while the deadline allows. The call is bounded by CallTimeout
// unless ctx ends sooner.
func (c *Client) Call(ctx context.Context, method string, params, out any) error {
	return c.call(ctx, c.opts.CallTimeout, method, params, out)
}

// call is Call bounded by timeout instead of CallTimeout, for methods that
// wait on the gateway side (agent.wait).
func (c *Client) call(ctx context.Context, timeout time.Duration, method string, params, out any) error {
	start := time.Now()
	ctx, cancel := c.bound(ctx, timeout)
	defer cancel()
	resent := false
	for {
		cn, err := c.connection(ctx)
		if err != nil {
			return err
		}
		frame, err := cn.roundTrip(ctx, method, params)
		var ns errNotSent
		var lost *ConnLostError
		if !resent && (errors.As(err, &ns) || errors.As(err, &lost) && idempotent[method] && cn.closedNormally()) {
			resent = true
			continue
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return &TimeoutError{Method: method, After: time.Since(start), What: "a reply"}
			}
			return err
		}
		r := cn.decodeResponse(frame, out)
		if !r.OK {
			ge := cn.newError(method, r.Error)
			if ge.Retryable && sleepRetry(ctx, ge.RetryAfter) {
				continue
			}
			return ge
		}
		if out != nil && len(r.Payload) > 0 {
			if err := json.Unmarshal(r.Payload, out); err != nil {
				return fmt.Errorf("decode %s result: %w", method, err)
			}
		}
		return nil
	}
}

// roundTrip sends one request and waits for its single response frame.
func (cn *conn) roundTrip(ctx context.Context, method string, params any) ([]byte, error) {
	id, pc, err := cn.send(method, params, false)
	if err != nil {
		return nil, err
	}
	f, err := cn.await(ctx, pc)
	if err != nil {
		cn.forget(id)
	}
	return f, err
}

// sleepRetry waits d (at least 50ms) unless ctx ends first; it reports
// whether a retry fits before the deadline.
func sleepRetry(ctx context.Context, d time.Duration) bool {
	d = max(d, 50*time.Millisecond)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
