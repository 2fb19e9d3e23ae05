package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/clawgate/clawgate/schema"
)

// Background runs (start_subagent, wait_subagent, cancel_subagent,
// list_subagents): the handle a caller holds, and the book of the runs this
// process started.

// handlePrefix starts every handle; the version is in the payload.
const handlePrefix = "sa_"

// maxHandle bounds the length of a handle clawgate accepts.
const maxHandle = 2048

// runHandle is what a handle carries: enough to find the run and its
// session on the gateway again from another clawgate process (agent.wait,
// chat.history), and what to do with the session once the result is in.
type runHandle struct {
	V       int    `json:"v"`
	Run     string `json:"r"`           // the gateway's run id
	Key     string `json:"k"`           // the run's session
	Mode    string `json:"m"`           // agent, light or model
	Private bool   `json:"p,omitempty"` // clawgate created the session
	Keep    bool   `json:"keep,omitempty"`
	Model   string `json:"q,omitempty"` // the requested model
	Started int64  `json:"t"`           // Unix milliseconds
}

// encode returns the opaque handle string.
func (h runHandle) encode() string {
	b, _ := json.Marshal(h)
	return handlePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// decodeHandle checks and decodes a handle; its errors say what to pass.
func decodeHandle(s string) (runHandle, error) {
	var h runHandle
	bad := func(why string) error {
		return fmt.Errorf("run_id %s is not a handle from start_subagent (%s): pass the run_id that start_subagent returned, or see list_subagents",
			quoteClip(s), why)
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return h, errors.New("run_id must not be empty: pass the run_id that start_subagent returned, or see list_subagents")
	case len(s) > maxHandle:
		return h, bad(fmt.Sprintf("longer than %d characters", maxHandle))
	case !strings.HasPrefix(s, handlePrefix):
		return h, bad("it does not start with " + handlePrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, handlePrefix))
	if err != nil {
		return h, bad("it is damaged")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, bad("it is damaged")
	}
	if _, err := uuid.Parse(h.Run); err != nil || h.V != 1 {
		return h, bad("it names no run")
	}
	if h.Key == "" || len(h.Key) > 512 || strings.IndexFunc(h.Key, unicode.IsControl) >= 0 {
		return h, bad("it names no session")
	}
	if h.Mode != modeAgent && h.Mode != modeLight && h.Mode != modeModel {
		return h, bad("it names no mode")
	}
	if h.Private && !IsPrivateSession(h.Key) {
		return h, bad("its session is not one clawgate creates")
	}
	return h, nil
}

// quoteClip quotes s for a message, cut to 60 characters.
func quoteClip(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Limits of the book.
const (
	// maxRuns is how many runs the book holds: running, finished and not
	// collected, and collected ones kept for a later wait or list (those
	// go first when room is needed).
	maxRuns = 100
	// resultTTL is how long a finished run's result is kept uncollected;
	// then it is dropped and its private session removed.
	resultTTL = 24 * time.Hour
	// collectedTTL is how long a collected result stays for a repeated
	// wait_subagent.
	collectedTTL = 10 * time.Minute
)

// RunProgress summarises what a running subagent is doing.
type RunProgress struct {
	LastText  string `json:"last_text,omitempty" jsonschema:"description=The tail of the text the subagent is writing."`
	ToolCalls int    `json:"tool_calls" jsonschema:"description=Tool calls it started so far."`
	LastTool  string `json:"last_tool,omitempty" jsonschema:"description=The tool it used last."`
}

// bgRun is one run started by start_subagent in this process.
type bgRun struct {
	h       runHandle
	handle  string
	message string // the task, for list_subagents
	cancel  context.CancelFunc
	done    chan struct{}

	mu        sync.Mutex
	progress  RunProgress
	listeners map[int]func(string)
	nextID    int
	// Set when done is closed.
	out         AskSubagentOutput
	text        string
	err         error
	ended       time.Time
	interrupted bool
	stopped     bool // the gateway confirmed the run stopped
	cancelled   bool
	collected   time.Time // zero until wait_subagent returned the result
}

// observe keeps the progress summary from the run's events.
func (r *bgRun) observe(stream string, d schema.AgentEventData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch stream {
	case "assistant":
		if d.Text != "" {
			r.progress.LastText = tail(d.Text, progressTail)
		}
	case "tool", "item":
		name := d.Name
		if name == "" {
			name = d.Title
		}
		if d.Phase == "start" && name != "" {
			r.progress.ToolCalls++
			r.progress.LastTool = name
		}
	}
}

// publish passes a progress message to everyone waiting on the run.
func (r *bgRun) publish(msg string) {
	r.mu.Lock()
	fns := make([]func(string), 0, len(r.listeners))
	for _, fn := range r.listeners {
		fns = append(fns, fn)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(msg)
	}
}

// listen registers fn for the run's progress messages until the returned
// function is called.
func (r *bgRun) listen(fn func(string)) func() {
	if fn == nil {
		return func() {}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.listeners == nil {
		r.listeners = map[int]func(string){}
	}
	id := r.nextID
	r.nextID++
	r.listeners[id] = fn
	return func() {
		r.mu.Lock()
		delete(r.listeners, id)
		r.mu.Unlock()
	}
}

// finished reports whether the run has ended.
func (r *bgRun) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// runBook holds the runs this process started, by gateway run id.
type runBook struct {
	mu   sync.Mutex
	runs map[string]*bgRun
}

func newRunBook() *runBook { return &runBook{runs: map[string]*bgRun{}} }

// get returns the run of h, if this process started it.
func (b *runBook) get(h runHandle) *bgRun {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runs[h.Run]
}

// add records r, making room first; it fails when the book is full of
// runs that are going or waiting to be collected.
func (b *runBook) add(r *bgRun, now time.Time, drop func(*bgRun)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(now, drop)
	if len(b.runs) >= maxRuns {
		var oldest *bgRun
		for _, x := range b.runs {
			if !x.collected.IsZero() && (oldest == nil || x.collected.Before(oldest.collected)) {
				oldest = x
			}
		}
		if oldest == nil {
			return fmt.Errorf("%d subagent runs are going or waiting to be collected, the most one clawgate keeps: collect finished ones with wait_subagent (see list_subagents) or cancel some with cancel_subagent, then start again", maxRuns)
		}
		delete(b.runs, oldest.h.Run)
	}
	b.runs[r.h.Run] = r
	return nil
}

// expire drops collected results after collectedTTL and uncollected ones
// after resultTTL (drop removes what they left on the gateway). b.mu held.
func (b *runBook) expire(now time.Time, drop func(*bgRun)) {
	for id, r := range b.runs {
		if !r.finished() {
			continue
		}
		r.mu.Lock()
		collected, ended := r.collected, r.ended
		r.mu.Unlock()
		switch {
		case !collected.IsZero() && now.Sub(collected) > collectedTTL:
			delete(b.runs, id)
		case collected.IsZero() && now.Sub(ended) > resultTTL:
			delete(b.runs, id)
			if drop != nil {
				drop(r)
			}
		}
	}
}

// list returns the runs that are going or not yet collected, newest first.
func (b *runBook) list(now time.Time, drop func(*bgRun)) []*bgRun {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(now, drop)
	var out []*bgRun
	for _, r := range b.runs {
		r.mu.Lock()
		collected := r.collected
		r.mu.Unlock()
		if collected.IsZero() {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].h.Started > out[j].h.Started })
	return out
}
