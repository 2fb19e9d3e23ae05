package gateway_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/schema"
)

// Hostile gateways (issue 10): a gateway, or something posing as one, that
// redirects the dial, echoes the token, announces absurd limits, floods the
// log, closes after every reply or escapes the letters of a status. Each
// case is a row of TESTING.md.

// redirectTarget is where a hostile gateway redirects the dial to: a
// working gateway (challenge, hello-ok) that records every request it gets,
// so that a client following the redirect would connect to it, and hand it
// the token.
type redirectTarget struct {
	url      string // ws:// or http:// URL of the target
	hits     atomic.Int32
	referers chan string
}

func newRedirectTarget(t *testing.T) *redirectTarget {
	rt := &redirectTarget{referers: make(chan string, 16)}
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		rt.hits.Add(1) // before the response: a client that followed sees it
		select {
		case rt.referers <- r.Header.Get("Referer"):
		default:
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		s := &scriptConn{t: t, ws: ws, r: r}
		s.challenge()
		s.hello(r.Context(), "openclaw", nil)
		s.drain(r.Context())
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	rt.url = srv.URL
	return rt
}

// A 3xx answer to the WebSocket upgrade fails the dial with an error naming
// the status and the Location host; the redirect is not followed (so the
// token, the TLS pin and the no-plaintext rule cannot be routed around) and
// no Referer carries the URL's query anywhere.
func TestRedirectsAreRefused(t *testing.T) {
	for _, tls := range []bool{false, true} {
		for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			scheme := "ws"
			if tls {
				scheme = "wss (pinned)"
			}
			t.Run(fmt.Sprintf("%s %d", scheme, code), func(t *testing.T) {
				target := newRedirectTarget(t)
				targetURL, _ := url.Parse(target.url)
				location := target.url + "/elsewhere?token=" + testToken
				if code%2 == 0 {
					location = "ws" + strings.TrimPrefix(location, "http")
				}
				var hostileReferer atomic.Value
				hostile := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hostileReferer.Store(r.Header.Get("Referer"))
					w.Header().Set("Location", location)
					w.WriteHeader(code)
				}))
				hostile.Config.ErrorLog = log.New(io.Discard, "", 0)
				o := gateway.Options{DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout}
				if tls {
					hostile.StartTLS()
					o.URL = "wss" + strings.TrimPrefix(hostile.URL, "https")
					o.TLSFingerprint = gateway.CertFingerprint(hostile.Certificate())
				} else {
					hostile.Start()
					o.URL = "ws" + strings.TrimPrefix(hostile.URL, "http")
				}
				t.Cleanup(hostile.Close)
				o.URL += "/?token=" + testToken // a Referer would carry this query
				c := newClient(t, o)
				_, err := c.Info(testwait.Ctx(t))
				var ce *gateway.ConnectError
				if !errors.As(err, &ce) || ce.Stage != "dial" {
					t.Fatalf("want a dial ConnectError, got %T %v", err, err)
				}
				for _, want := range []string{fmt.Sprint(code), http.StatusText(code), "redirect", targetURL.Host} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q: %v", want, err)
					}
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("token in error: %v", err)
				}
				// The redirect is followed inside the dial, before it
				// returns: a target that got nothing by now never will.
				if n := target.hits.Load(); n != 0 {
					t.Fatalf("the redirect was followed: the target got %d requests (Referer %q)", n, <-target.referers)
				}
				if ref, _ := hostileReferer.Load().(string); ref != "" {
					t.Fatalf("the dial sent Referer %q", ref)
				}
			})
		}
	}
}

// secretShapes are the ways gateway-supplied text may carry a secret: as
// is, in a URL query, URL-encoded (query and path style), JSON-escaped in a
// quoted string, base64, and JSON-escaped with every non-ASCII character as
// \uXXXX. The secret has characters each encoding treats differently.
const shapeSecret = `tk/+"&<ü-SECRET-7`

func secretShapes(secret string) map[string]string {
	js, _ := json.Marshal(secret)
	var ascii strings.Builder
	for _, r := range string(js[1 : len(js)-1]) {
		if r > 0x7e {
			fmt.Fprintf(&ascii, `\u%04x`, r)
		} else {
			ascii.WriteRune(r)
		}
	}
	return map[string]string{
		"exact":               secret,
		"in a URL query":      "https://proxy.example/auth?token=" + url.QueryEscape(secret) + "&next=1",
		"query-escaped":       url.QueryEscape(secret),
		"path-escaped":        url.PathEscape(secret),
		"quoted JSON-escaped": `{"token":` + string(js) + `}`,
		"base64":              base64.StdEncoding.EncodeToString([]byte(secret)),
		"JSON \\u-escaped":    `"` + ascii.String() + `"`,
	}
}

// leaks reports which shape of a secret s contains.
func leaks(s string, secrets ...string) []string {
	var found []string
	for _, secret := range secrets {
		for name, shape := range secretShapes(secret) {
			if name == "in a URL query" {
				continue // contains the query-escaped shape
			}
			if strings.Contains(s, shape) {
				found = append(found, name)
			}
		}
	}
	if strings.Contains(s, "SECRET") {
		found = append(found, "SECRET")
	}
	return found
}

// logRecorder keeps everything logged to it, as JSON lines.
type logRecorder struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (r *logRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// Logger logs everything, debug included, to r.
func (r *logRecorder) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(r, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// scrubPassword is the password of TestGatewayTextIsScrubbed; scrubExtra
// is what each echo adds where the gateway has room for it: the password
// and a URL whose query must not show either.
const (
	scrubPassword = "pw-SECRET-31337"
	scrubExtra    = " pw " + scrubPassword + " at wss://gw.example/x?session=abc123"
)

// Gateway-supplied text (error messages and details, close reasons, the
// shutdown reason, connect refusals, results) never shows the token, the
// password or a URL query, in any of the shapes a gateway or proxy could
// echo them in: not in errors, not in results, not in the log.
func TestGatewayTextIsScrubbed(t *testing.T) {
	list := func(ctx context.Context, c *gateway.Client) (string, error) {
		l, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
		if err != nil {
			return "", err
		}
		b, _ := json.Marshal(l)
		return string(b), nil
	}
	for _, pl := range []struct {
		name    string
		setup   func(s *gatewaysim.Server, echo string)
		wantErr bool // the call fails (with the echo redacted, not dropped)
		query   bool // the echo comes with scrubExtra
	}{
		{name: "error message and details", wantErr: true, query: true, setup: func(s *gatewaysim.Server, echo string) {
			s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				_ = c.ReplyError(req.ID, gatewaysim.ErrorShape{Code: "INVALID_REQUEST", Message: "bad token " + echo + scrubExtra,
					Details: map[string]any{"code": "X_" + echo, "reason": echo + scrubExtra, "echo": map[string]any{"token": echo}}})
			})
		}},
		{name: "UNAVAILABLE message", wantErr: true, query: true, setup: func(s *gatewaysim.Server, echo string) {
			s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				_ = c.ReplyError(req.ID, gatewaysim.ErrorShape{Code: "UNAVAILABLE", Message: "upstream said " + echo + scrubExtra})
			})
		}},
		{name: "connect refusal with details", wantErr: true, query: true, setup: func(s *gatewaysim.Server, echo string) {
			s.Handle("connect", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				_ = c.ReplyError(req.ID, gatewaysim.ErrorShape{Code: "INVALID_REQUEST", Message: "unauthorized: got " + echo + scrubExtra,
					Details: map[string]any{"code": "AUTH_TOKEN_MISMATCH", "reason": "token " + echo, "missingScope": echo}})
				c.Close(int(websocket.StatusPolicyViolation), "refused "+echo)
			})
		}},
		{name: "close reason", wantErr: true, setup: func(s *gatewaysim.Server, echo string) {
			s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				c.Close(int(websocket.StatusPolicyViolation), "bye "+echo) // 120 bytes at most: no room for more
			})
		}},
		{name: "shutdown reason", wantErr: true, query: true, setup: func(s *gatewaysim.Server, echo string) {
			s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				_ = c.Event("shutdown", map[string]any{"reason": "restart " + echo + scrubExtra})
				c.Close(int(websocket.StatusServiceRestart), "service restart")
			})
		}},
		{name: "result", setup: func(s *gatewaysim.Server, echo string) {
			s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				_ = c.Reply(req.ID, map[string]any{"count": 1, "sessions": []any{map[string]any{"key": "agent:main:" + echo, "label": echo + " pw " + scrubPassword}}})
			})
		}},
	} {
		for name, echo := range secretShapes(shapeSecret) {
			t.Run(pl.name+"/"+name, func(t *testing.T) {
				s := newFake(t, gatewaysim.Options{Token: shapeSecret, Password: scrubPassword})
				pl.setup(s, echo)
				logs := &logRecorder{}
				c := newClient(t, gateway.Options{URL: s.URL(), Token: shapeSecret, Password: scrubPassword,
					DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout, Logger: logs.Logger()})
				out, err := list(testwait.Ctx(t), c)
				if pl.wantErr != (err != nil) {
					t.Fatalf("error %v, result %s", err, out)
				}
				seen := out
				if err != nil {
					seen += err.Error()
					if ge, ok := gateway.AsError(err); ok {
						// MissingScope is the gateway text the advice at
						// the edge quotes (tools.Explain).
						seen += ge.Message + string(ge.RawDetails) + fmt.Sprintf("%+v", ge.Details) + ge.MissingScope()
					}
					if pl.query && strings.Contains(err.Error(), "abc123") {
						t.Errorf("URL query in the error: %v", err)
					}
				}
				if !strings.Contains(seen, "[redacted]") {
					t.Errorf("the echo was dropped or kept, not redacted: %v %s", err, out)
				}
				if found := leaks(seen, shapeSecret, scrubPassword); len(found) > 0 {
					t.Fatalf("secret shapes %v leaked:\nerr: %v\nresult: %s", found, err, out)
				}
				c.Close()
				// Log records are written in order: once Close's own is
				// written, so is everything logged before it.
				testwait.Until(t, "the client logged its close", func() bool { return strings.Contains(logs.String(), "gateway client closed") })
				if found := leaks(logs.String(), shapeSecret, scrubPassword); len(found) > 0 {
					t.Fatalf("secret shapes %v leaked into the log:\n%s", found, logs.String())
				}
				if pl.query && strings.Contains(logs.String(), "abc123") {
					t.Fatalf("URL query in the log: %s", logs.String())
				}
			})
		}
	}
}

// The read limit is policy.maxPayload clamped to 8 MiB..64 MiB: a gateway
// announcing 1 TiB cannot make clawgate read a frame beyond 64 MiB.
func TestAnnouncedMaxPayloadIsClamped(t *testing.T) {
	const clamp = gateway.MaxReadLimit
	if clamp != 64<<20 {
		t.Fatalf("the read limit's ceiling is %d, not the documented 64 MiB", clamp)
	}
	url := newScripted(t, readyScript(func(p map[string]any) {
		p["policy"].(map[string]any)["maxPayload"] = int64(1) << 40
	}, func(ctx context.Context, s *scriptConn) {
		req, ok := s.recv(ctx)
		if !ok {
			return
		}
		w, err := s.ws.Writer(ctx, websocket.MessageText)
		if err != nil {
			return
		}
		head := `{"type":"res","id":"` + req["id"].(string) + `","ok":true,"payload":"`
		_, _ = io.WriteString(w, head)
		chunk := []byte(strings.Repeat("y", 1<<20))
		for n := 0; n <= clamp; n += len(chunk) { // one chunk past the clamp
			if _, err := w.Write(chunk); err != nil {
				return // the client gave up on the frame: the point
			}
		}
		_, _ = io.WriteString(w, `"}`)
		_ = w.Close()
		s.drain(ctx)
	}))
	c := newClient(t, gateway.Options{URL: url, DialTimeout: testwait.LongTimeout, CallTimeout: testwait.Patience()})
	if info, err := c.Info(testwait.Ctx(t)); err != nil || info.MaxPayload != 1<<40 || info.ReadLimit != clamp {
		t.Fatalf("info %+v, %v: want maxPayload as announced, the read limit clamped", info, err)
	}
	err := c.Call(testwait.Ctx(t), "status", nil, nil)
	var lost *gateway.ConnLostError
	if !errors.As(err, &lost) || !strings.Contains(err.Error(), "larger than the read limit") {
		t.Fatalf("a frame beyond the clamp: got %v", err)
	}
}

// tickIntervalMs is clamped to at least a second for the watchdog: a
// gateway announcing 1 ms that then stays silent for a moment before each
// reply (as every gateway does while it works) does not get its calls
// killed.
func TestAnnouncedTickIntervalIsClamped(t *testing.T) {
	const calls = 20
	url := newScripted(t, readyScript(func(p map[string]any) {
		p["policy"].(map[string]any)["tickIntervalMs"] = 1
	}, func(ctx context.Context, s *scriptConn) {
		for {
			req, ok := s.recv(ctx)
			if !ok {
				return
			}
			// 50 ms of silence: 25 announced tick intervals, a twentieth
			// of the clamped watchdog's two seconds.
			time.Sleep(50 * time.Millisecond)
			s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": map[string]any{}})
		}
	}))
	c := newClient(t, gateway.Options{URL: url, DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
	for i := range calls {
		if err := c.Call(testwait.Ctx(t), "status", nil, nil); err != nil {
			t.Fatalf("call %d of %d: %v", i+1, calls, err)
		}
	}
	info, err := c.Info(testwait.Ctx(t))
	if err != nil || info.TickInterval != time.Second {
		t.Fatalf("Info.TickInterval = %v (%v), want the clamped 1s", info, err)
	}
}

// countingHandler counts records by message and keeps their attributes.
type countingHandler struct {
	mu      sync.Mutex
	counts  map[string]int
	records []slog.Record
	block   chan struct{} // if not nil, Handle waits for it to be closed
}

func newCountingHandler() *countingHandler { return &countingHandler{counts: map[string]int{}} }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if h.block != nil {
		<-h.block
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[r.Message]++
	h.records = append(h.records, r.Clone())
	return nil
}

func (h *countingHandler) total() (n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.counts {
		n += c
	}
	return n
}

// suppressed sums the "suppressed" attribute of the records of msg.
func (h *countingHandler) suppressed(msg string) (n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if r.Message != msg {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "suppressed" {
				n += a.Value.Int64()
			}
			return true
		})
	}
	return n
}

// floodScript answers each request after a flood of n malformed frames
// (not JSON, binary, unknown type, in turn).
func floodScript(n int) script {
	return readyScript(nil, func(ctx context.Context, s *scriptConn) {
		for {
			req, ok := s.recv(ctx)
			if !ok {
				return
			}
			for i := range n {
				switch i % 3 {
				case 0:
					s.sendRaw([]byte("not json"))
				case 1:
					_ = s.ws.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
				default:
					s.sendRaw([]byte(`{"type":"mystery"}`))
				}
			}
			s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": map[string]any{"value": 42}})
		}
	})
}

// A flood of malformed frames logs a bounded number of lines: the first
// few of each kind per interval, then a summary with the count of those
// suppressed. Every frame is accounted for: shown + suppressed = sent.
func TestMalformedFrameFloodIsSummarised(t *testing.T) {
	const flood = 30000
	const kinds = 3 // floodScript's: not JSON, binary, unknown type
	h := newCountingHandler()
	start := time.Now()
	c := newClient(t, gateway.Options{URL: newScripted(t, floodScript(flood)), DialTimeout: testwait.LongTimeout,
		CallTimeout: testwait.LongTimeout, Logger: slog.New(h)})
	var out struct{ Value int }
	if err := c.Call(testwait.Ctx(t), "status", nil, &out); err != nil || out.Value != 42 {
		t.Fatalf("call after the flood: %v %+v", err, out)
	}
	c.Close() // reports what is still suppressed, then logs its close
	// Records are written in order: once Close's own is, all are.
	testwait.Until(t, "the client logged its close", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.counts["gateway client closed"] > 0
	})
	// Per kind and interval begun: the burst and a summary; plus the
	// client's own few lines (connected, closed).
	intervals := int(time.Since(start)/gateway.WarnInterval) + 1
	if n, bound := h.total(), kinds*intervals*(gateway.WarnBurst+1)+5; n > bound {
		t.Fatalf("%d log lines for a flood of %d malformed frames over %d warning intervals (bound %d)", n, flood, intervals, bound)
	}
	h.mu.Lock()
	shown := h.counts["ignoring malformed frame from gateway"] + h.counts["ignoring binary frame from gateway"] + h.counts["ignoring frame of unknown type from gateway"]
	h.mu.Unlock()
	if got := int64(shown) + h.suppressed(gateway.MsgWarnsSuppressed); got != flood {
		t.Fatalf("%d shown + suppressed, %d sent", got, flood)
	}
}

// A log handler that blocks (a client that does not read clawgate's stderr)
// never blocks the read loop: a call answered after a flood of malformed
// frames still completes.
func TestBlockingLogHandlerDoesNotStallCalls(t *testing.T) {
	h := newCountingHandler()
	h.block = make(chan struct{})
	t.Cleanup(func() { close(h.block) }) // after the client's cleanup
	c := newClient(t, gateway.Options{URL: newScripted(t, floodScript(3000)), DialTimeout: testwait.LongTimeout,
		CallTimeout: testwait.LongTimeout, Logger: slog.New(h)})
	for i := range 3 {
		var out struct{ Value int }
		if err := c.Call(testwait.Ctx(t), "status", nil, &out); err != nil || out.Value != 42 {
			t.Fatalf("call %d with a blocked log: %v %+v", i, err, out)
		}
	}
}

// A gateway (or proxy) that closes normally right after each reply: the
// next call, which may go out on the closing connection, is retried once on
// a fresh connection when it is idempotent, so every call succeeds. A call
// that is not idempotent is never sent twice.
func TestCloseAfterEachReply(t *testing.T) {
	t.Run("200 list calls", func(t *testing.T) {
		s := newFake(t, gatewaysim.Options{})
		closeAfter := func(c *gatewaysim.Conn, req gatewaysim.Request) {
			c.Default(req)
			c.Close(int(websocket.StatusNormalClosure), "")
		}
		for _, m := range []string{"sessions.list", "models.list", "status"} {
			s.Handle(m, closeAfter)
		}
		c := newClient(t, gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
		ctx := testwait.Ctx(t)
		for i := range 200 {
			var err error
			switch i % 3 {
			case 0:
				_, err = c.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
			case 1:
				_, err = c.ModelsList(ctx)
			default:
				_, _, err = c.Status(ctx)
			}
			if err != nil {
				t.Fatalf("call %d: %v", i+1, err)
			}
		}
	})
	t.Run("closed before the reply: retried once", func(t *testing.T) {
		s := newFake(t, gatewaysim.Options{})
		var n atomic.Int32
		s.Handle("status", func(c *gatewaysim.Conn, req gatewaysim.Request) {
			if n.Add(1) == 1 {
				c.Close(int(websocket.StatusNormalClosure), "")
				return
			}
			c.Default(req)
		})
		c := newClient(t, gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
		if _, _, err := c.Status(testwait.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		if got := len(s.RequestsFor("status")); got != 2 {
			t.Fatalf("%d status requests, want 2", got)
		}
	})
	t.Run("closed before every reply: one retry only", func(t *testing.T) {
		s := newFake(t, gatewaysim.Options{})
		s.Handle("status", func(c *gatewaysim.Conn, req gatewaysim.Request) { c.Close(int(websocket.StatusNormalClosure), "") })
		c := newClient(t, gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
		_, _, err := c.Status(testwait.Ctx(t))
		var lost *gateway.ConnLostError
		if !errors.As(err, &lost) || !strings.Contains(err.Error(), "1000") {
			t.Fatalf("got %v", err)
		}
		if got := len(s.RequestsFor("status")); got != 2 {
			t.Fatalf("%d status requests, want 2", got)
		}
	})
	t.Run("not idempotent: never sent twice", func(t *testing.T) {
		s := newFake(t, gatewaysim.Options{})
		s.Handle("sessions.patch", func(c *gatewaysim.Conn, req gatewaysim.Request) { c.Close(int(websocket.StatusNormalClosure), "") })
		c := newClient(t, gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
		m := gatewaysim.DefaultModel
		_, err := c.SessionsPatch(testwait.Ctx(t), "agent:main:x", &m)
		var lost *gateway.ConnLostError
		if !errors.As(err, &lost) {
			t.Fatalf("got %v", err)
		}
		if got := len(s.RequestsFor("sessions.patch")); got != 1 {
			t.Fatalf("%d sessions.patch requests, want 1", got)
		}
	})
}

// An accepted reply whose status is spelled with JSON escapes
// ("\u0061ccepted") is decoded as accepted, not taken for the final reply
// because the bytes "accepted" do not occur in it; whitespace and escapes
// in the final reply do not matter either.
func TestEscapedAgentStatusIsDecoded(t *testing.T) {
	for _, tc := range []struct{ name, accepted, final string }{
		{"escaped accepted", `"status":"\u0061ccepted"`, `"status":"ok"`},
		{"two letters escaped", `"status":"\u0061\u0063cepted"`, `"status":"ok"`},
		{"fully escaped accepted", `"status":"\u0061\u0063\u0063\u0065\u0070\u0074\u0065\u0064"`, `"status":"ok"`},
		{"whitespace around the status", "\"status\" :\t\"accepted\" ", `"status" : "ok"`},
		{"escaped accepted and escaped final", `"status":"\u0061ccepted"`, `"status":"\u006Fk"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t, gatewaysim.Options{})
			s.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				id := runIDOf(req)
				head := `{"type":"res","id":"` + req.ID + `","ok":true,"payload":{"runId":"` + id + `",`
				_ = c.WriteRaw([]byte(head + tc.accepted + `}}`)) // no acceptedAt: the word must come from the status alone
				_ = c.Event("agent", map[string]any{"runId": id, "seq": 1, "stream": "assistant", "data": map[string]any{"text": "working"}})
				_ = c.WriteRaw([]byte(head + tc.final + `,"summary":"completed","result":{"payloads":[{"text":"the real result"}],"meta":{"durationMs":1}}}}`))
			})
			c := newClient(t, gateway.Options{URL: s.URL(), DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
			run, err := c.Agent(testwait.Ctx(t), gateway.AgentRequest{Message: "x", SessionKey: "agent:main:esc", Timeout: time.Minute}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if run.Reply.Status != "ok" || run.Reply.Text() != "the real result" {
				t.Fatalf("took %+v for the final reply", run.Reply)
			}
		})
	}
}
