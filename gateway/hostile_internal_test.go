package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/schema"
)

// The clamps of the gateway's announced limits (issue 10), value by value.
func TestAnnouncedLimitClamps(t *testing.T) {
	for _, tc := range []struct {
		maxPayload, want int64
	}{
		{-1, minReadLimit}, {0, minReadLimit}, {512 << 10, minReadLimit}, {26214400, 26214400},
		{maxReadLimit, maxReadLimit}, {1 << 40, maxReadLimit}, {1<<63 - 1, maxReadLimit},
	} {
		if got := readLimit(tc.maxPayload); got != tc.want {
			t.Errorf("readLimit(%d) = %d, want %d", tc.maxPayload, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ms   int64
		want time.Duration
	}{
		{-1, defaultTickInterval}, {0, defaultTickInterval}, {1, time.Second}, {999, time.Second},
		{30000, 30 * time.Second}, {1 << 62, time.Hour},
	} {
		if got := tickInterval(schema.Policy{TickIntervalMs: tc.ms}); got != tc.want {
			t.Errorf("tickInterval(%d ms) = %s, want %s", tc.ms, got, tc.want)
		}
	}
}

func TestRedactorText(t *testing.T) {
	r := newRedactor("tok-SECRET-1", "", "abc")
	for in, want := range map[string]string{
		"bad token tok-SECRET-1":                     "bad token [redacted]",
		`{"token":"tok-SECRET-1"}`:                   `{"token":"[redacted]"}`,
		"b64 dG9rLVNFQ1JFVC0x":                       "b64 [redacted]",
		"short abc too":                              "short [redacted] too",
		"see https://gw.example/a/b?x=1&y=2 now":     "see https://gw.example/a/b?[redacted] now",
		"fragment wss://gw.example/#access_token=zz": "fragment wss://gw.example/?[redacted]",
		"relative /connect?session=s1 here":          "relative /connect?[redacted] here",
		"a question? yes":                            "a question? yes",
		"no secret here":                             "no secret here",
	} {
		if got := r.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	var none *redactor // no secrets: URL queries are still scrubbed
	if got := none.Text("x https://h/p?token=1"); got != "x https://h/p?[redacted]" {
		t.Errorf("nil redactor: %q", got)
	}
	if newRedactor("", "") != nil {
		t.Error("a redactor without secrets")
	}
}

// Frame scrubs secrets inside JSON strings and keys, keeps the frame's
// structure (a secret that matches a number stays: it is no leak), leaves
// frames without a secret untouched, and does not scrub results of a
// secret too short to tell from ordinary text.
func TestRedactorFrame(t *testing.T) {
	r := newRedactor("12345678", "abc")
	in := []byte(`{"type":"res","id":"1","ok":true,"payload":{"n":12345678,"s":"pw 12345678","12345678":"k","big":123456789012345678901,"t":"abc"}}`)
	out := r.Frame(in)
	var v struct {
		Payload map[string]json.RawMessage
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("frame broken: %v: %s", err, out)
	}
	p := v.Payload
	if string(p["n"]) != "12345678" || string(p["s"]) != `"pw [redacted]"` || string(p["[redacted]"]) != `"k"` ||
		string(p["big"]) != "123456789012345678901" || string(p["t"]) != `"abc"` {
		t.Fatalf("scrubbed frame %s", out)
	}
	clean := []byte(`{"type":"res","id":"1","ok":true,"payload":{}}`)
	if got := r.Frame(clean); &got[0] != &clean[0] {
		t.Fatal("a frame without a secret was copied")
	}
	if got := string(r.Frame([]byte(`not json 12345678`))); got != "not json [redacted]" {
		t.Fatalf("malformed frame: %q", got)
	}
}

// The URL's query values and ExtraSecrets are secrets too.
func TestOptionSecrets(t *testing.T) {
	o, err := Options{URL: "ws://127.0.0.1:1/?token=url-SECRET-q", Token: "tok-SECRET", Password: "pw-SECRET", ExtraSecrets: []string{"dev-SECRET"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	got := o.red.Text("url-SECRET-q tok-SECRET pw-SECRET dev-SECRET")
	if strings.Contains(got, "SECRET") {
		t.Fatalf("Text kept a secret: %q", got)
	}
}

// blockingHandler blocks every Handle until release is closed, then counts.
type blockingHandler struct {
	release chan struct{}
	mu      sync.Mutex
	records []slog.Record
}

func (h *blockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *blockingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *blockingHandler) WithGroup(string) slog.Handler            { return h }
func (h *blockingHandler) Handle(_ context.Context, r slog.Record) error {
	<-h.release
	h.mu.Lock()
	h.records = append(h.records, r)
	h.mu.Unlock()
	return nil
}

// A blocked log handler never blocks the logger: records beyond the queue
// are dropped and their number is logged once the handler writes again.
// Close waits for the queue a bounded time only.
func TestAsyncLoggerNeverBlocks(t *testing.T) {
	const n = 5000
	h := &blockingHandler{release: make(chan struct{})}
	log, q := newAsyncLogger(slog.New(h))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			log.Info("line", "i", i)
		}
	}()
	testwait.Recv(t, "logging to a blocked handler returned", done)
	start := time.Now()
	q.flush(50 * time.Millisecond)
	if el := time.Since(start); el > testwait.WellBefore(testwait.LongTimeout) {
		t.Fatalf("flush waited %s for a blocked handler", el)
	}
	close(h.release)
	var shown, dropped int64
	testwait.Until(t, "every line written or counted as dropped", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		shown, dropped = 0, 0
		for _, r := range h.records {
			if r.Message == msgLogDropped {
				r.Attrs(func(a slog.Attr) bool { dropped += a.Value.Int64(); return true })
			} else {
				shown++
			}
		}
		return shown+dropped == n
	})
	if dropped == 0 || shown > logQueueSize+1 {
		t.Fatalf("%d shown, %d dropped: the queue was not bounded", shown, dropped)
	}
}

// A burst of one warning shows warnBurst lines; the rest are counted and
// reported in one line by flush.
func TestWarnLimiter(t *testing.T) {
	h := &blockingHandler{release: make(chan struct{})}
	close(h.release)
	w := newWarnLimiter(slog.New(h))
	for range 1000 {
		w.warn("junk")
	}
	w.warn("other")
	w.flush()
	var junk, other, suppressed int
	for _, r := range h.records {
		switch r.Message {
		case "junk":
			junk++
		case "other":
			other++
		case msgWarnsSuppressed:
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "suppressed" {
					suppressed += int(a.Value.Int64())
				}
				return true
			})
		}
	}
	if junk != warnBurst || other != 1 || suppressed != 1000-warnBurst {
		t.Fatalf("junk %d, other %d, suppressed %d", junk, other, suppressed)
	}
}

// BenchmarkRedactorFrame measures the search every frame gets: a 48-hex
// token (OpenClaw's generated ones) and a password, on a frame holding
// neither (the rule).
func BenchmarkRedactorFrame(b *testing.B) {
	r := newRedactor("3f9c2a7e1b0d4c6f8a2e5b7d9c1f3a6e8b0d2c4f6a8e1b3d", "correct horse battery")
	for _, size := range []int{1 << 10, 20 << 20} {
		frame := []byte(`{"type":"res","id":"1","ok":true,"payload":{"junk":"` + strings.Repeat("x", size) + `"}}`)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				r.Frame(frame)
			}
		})
	}
}
