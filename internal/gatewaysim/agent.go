package gatewaysim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// run is one agent run of the fake.
type run struct {
	id, sessionKey, sessionID string
	keyGiven                  bool // the request named the session (v4 accepted/in_flight echo it)
	message, reply, model     string
	conn                      *Conn
	reqID                     string
	delay                     time.Duration
	startedAt                 int64
	abortCh                   chan abortReq
	done                      chan struct{}

	mu       sync.Mutex
	finished bool
	aborted  bool
	failed   string // error summary of a failed run
	endedAt  int64
	last     resFrame // last res frame sent, replayed for a duplicate idempotencyKey
}

// runRegistry holds the runs by idempotencyKey (the dedupe cache).
type runRegistry struct {
	mu    sync.Mutex
	byID  map[string]*run
	order []*run
}

func newRunRegistry() *runRegistry { return &runRegistry{byID: map[string]*run{}} }

// add registers r unless its id is known; it returns the registered run.
func (rr *runRegistry) add(r *run) (*run, bool) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if old := rr.byID[r.id]; old != nil {
		return old, false
	}
	rr.byID[r.id] = r
	rr.order = append(rr.order, r)
	return r, true
}

func (rr *runRegistry) get(id string) *run {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.byID[id]
}

// reset forgets the dedupe cache (gateway restart). Runs stay listed.
func (rr *runRegistry) reset() {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.byID = map[string]*run{}
}

// active returns running runs of a session (and runID, if given).
func (rr *runRegistry) active(sessionKey, runID string) []*run {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	var out []*run
	for _, r := range rr.order {
		if r.isFinished() || (sessionKey != "" && r.sessionKey != sessionKey) || (runID != "" && r.id != runID) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (rr *runRegistry) infos() []RunInfo {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	out := make([]RunInfo, len(rr.order))
	for i, r := range rr.order {
		r.mu.Lock()
		out[i] = RunInfo{RunID: r.id, SessionKey: r.sessionKey, Message: r.message, Model: r.model,
			Conn: r.conn.id, Aborted: r.aborted, Done: r.finished}
		r.mu.Unlock()
	}
	return out
}

func (r *run) isFinished() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finished
}

// agentParams are the agent params the fake uses.
type agentParams struct {
	Message        string `json:"message"`
	IdempotencyKey string `json:"idempotencyKey"`
	SessionKey     string `json:"sessionKey"`
	AgentID        string `json:"agentId"`
	Timeout        *int   `json:"timeout"`
	Provider       string `json:"provider"`
	Model          string `json:"model"`
}

var delayMarker = regexp.MustCompile(`\[\[delay=([0-9.]+)\]\]`)

// fakeReply is what the lab's fake model answers.
func fakeReply(message string) string {
	first, _, _ := strings.Cut(message, "\n\n")
	if strings.HasPrefix(first, "[") {
		if i := strings.Index(first, "]"); i >= 0 && i <= 61 {
			first = first[i+1:]
		}
	}
	t := strings.Join(strings.Fields(first), " ")
	if r := []rune(t); len(r) > 200 {
		t = string(r[:200])
	}
	return "FAKE-REPLY: you said <<" + t + ">>"
}

// agent answers the agent method: validation, dedupe, accepted, then the run.
func (s *Server) agent(c *Conn, req Request) *ErrorShape {
	v4 := s.opts.Generation == OpenClaw
	if e := s.checkParams("agent", s.prof.agent, req.Params); e != nil {
		return e
	}
	var p agentParams
	_ = json.Unmarshal(req.Params, &p)
	if v4 && (p.Model != "" || p.Provider != "") && !c.hasScope(scopeAdmin) {
		return invalid("provider/model overrides are not authorized for this caller.")
	}
	if p.AgentID != "" && p.AgentID != "main" {
		return invalid(fmt.Sprintf("unknown agent id %q", p.AgentID))
	}
	if old := s.runs.get(p.IdempotencyKey); old != nil {
		old.replay(c, req.ID, v4)
		return nil
	}
	r := &run{id: p.IdempotencyKey, message: p.Message, reply: fakeReply(p.Message), conn: c, reqID: req.ID,
		keyGiven: p.SessionKey != "", sessionKey: canonicalKey(p.SessionKey),
		abortCh: make(chan abortReq), done: make(chan struct{})}
	r.delay = s.opts.AgentDelay
	if m := delayMarker.FindStringSubmatch(p.Message); m != nil {
		if secs, err := strconv.ParseFloat(m[1], 64); err == nil {
			r.delay = time.Duration(secs * float64(time.Second))
		}
	}
	if r.sessionKey == "" && v4 {
		r.sessionKey, r.sessionID = "agent:main:explicit:"+r.id, r.id
	}
	// Failures after acceptance: the run is accepted, then fails at once.
	var failure string
	switch {
	case !v4 && r.sessionKey == "":
		failure = "Error: Pass --to <E.164>, --session-id, or --agent to choose a session"
	case !v4 && p.Timeout != nil && *p.Timeout == 0:
		failure = "Error: --timeout must be a positive integer (seconds)"
	}
	r.model = s.store.sessionModel(r.sessionKey)
	if v4 && (p.Model != "" || p.Provider != "") {
		ref := p.Model
		if p.Provider != "" && !strings.Contains(ref, "/") {
			if ref == "" {
				_, ref = splitModel(r.model)
			}
			ref = p.Provider + "/" + ref
		}
		resolved, _ := resolveModelRef(ref, s.opts.Models)
		if !modelAllowed(resolved, s.opts.AllowedModels) {
			prov, _ := splitModel(resolved)
			failure = fmt.Sprintf("Model override %q is not allowed for agent \"main\" by agents.defaults.models. "+
				"Add %q or %q to agents.defaults.modelPolicy.allow, or remove/empty the list to allow any model.",
				resolved, resolved, prov+"/*")
		} else {
			r.model = resolved
		}
	}

	accepted := cloneObj(s.tpl.accepted)
	accepted["runId"] = r.id
	accepted["acceptedAt"] = nowMs()
	if v4 && r.keyGiven {
		accepted["sessionKey"] = r.sessionKey
	} else {
		delete(accepted, "sessionKey")
	}
	r.last = resFrame{Type: "res", ID: req.ID, OK: true, Payload: mustJSON(accepted)}
	if old, added := s.runs.add(r); !added {
		old.replay(c, req.ID, v4)
		return nil
	}
	s.changed()

	if failure != "" {
		c.replyAsync(req.ID, accepted)
		r.fail(s, failure)
		return nil
	}
	if r.sessionKey != "" {
		sess := s.store.startRun(r.sessionKey, r.sessionID, r.id)
		s.store.mu.Lock()
		r.sessionID = sess.sessionID
		s.store.mu.Unlock()
	}
	c.replyAsync(req.ID, accepted)
	boot := s.bootChan()
	s.goTracked(func() { r.execute(s, boot) })
	return nil
}

// replay answers a duplicate idempotencyKey: OpenClaw says in_flight while
// the run is going; otherwise the last response is sent again as one frame.
func (r *run) replay(c *Conn, id string, v4 bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v4 && !r.finished {
		p := cloneObj(c.srv.tpl.inFlight)
		p["runId"] = r.id
		if r.keyGiven {
			p["sessionKey"] = r.sessionKey
		} else {
			delete(p, "sessionKey")
		}
		c.replyAsync(id, p)
		return
	}
	f := r.last
	f.ID = id
	c.sendAsync(mustJSON(f))
}

// fail finishes a run that failed right after acceptance.
func (r *run) fail(s *Server, summary string) {
	f := resFrame{Type: "res", ID: r.reqID, Payload: mustJSON(obj{"runId": r.id, "status": "error", "summary": summary}),
		Error: &ErrorShape{Code: "UNAVAILABLE", Message: summary}}
	r.mu.Lock()
	r.finished, r.failed, r.endedAt, r.last = true, summary, nowMs(), f
	r.mu.Unlock()
	close(r.done)
	s.changed()
	r.conn.sendAsync(mustJSON(f))
}

// rewriter substitutes the recorded run's identifiers with r's.
func (r *run) rewriter(s *Server) rewriter {
	t := s.tpl
	return newRewriter(nowMs()-t.t0, t.runID, r.id, t.sessionID, r.sessionID, t.sessionKey, r.sessionKey,
		t.reply, r.reply, t.message, r.message)
}

// event renders a recorded event payload for this run.
func (r *run) event(s *Server, key string, seq int) obj {
	p := r.rewriter(s).applyObj(s.tpl.events[key])
	p["runId"] = r.id
	p["sessionKey"] = r.sessionKey
	if _, ok := p["sessionId"]; ok {
		p["sessionId"] = r.sessionID
	}
	p["seq"] = seq
	if _, ok := p["ts"]; ok {
		p["ts"] = nowMs()
	}
	prov, model := splitModel(r.model)
	setModelPairs(p, "fake", "fake-echo", prov, model)
	return p
}

// chatEvent renders a chat event carrying text.
func (r *run) chatEvent(s *Server, key string, seq int, text, delta string) obj {
	p := r.event(s, key, seq)
	if msg := sub(p, "message"); msg != nil {
		msg["content"] = []any{obj{"type": "text", "text": text}}
		msg["timestamp"] = nowMs()
	}
	if _, ok := p["deltaText"]; ok {
		p["deltaText"] = delta
	}
	return p
}

// tokens splits a reply the way the streamed deltas arrive: "A", " b", " c".
func tokens(text string) []string {
	var out []string
	for i, w := range strings.Split(text, " ") {
		if i > 0 {
			w = " " + w
		}
		out = append(out, w)
	}
	return out
}

// execute streams the run's events and sends the final response.
func (r *run) execute(s *Server, boot chan struct{}) {
	v4 := s.opts.Generation == OpenClaw
	emit := func(name string, p obj) { s.broadcastReady(name, p, scopeRead) }
	r.startedAt = nowMs()

	start := r.event(s, "lifecycle:start", 1)
	sub(start, "data")["startedAt"] = r.startedAt
	emit("agent", start)

	timer := time.NewTimer(r.delay)
	select {
	case <-timer.C:
	case ab := <-r.abortCh:
		timer.Stop()
		r.abort(s, ab)
		return
	case <-boot:
		timer.Stop()
		r.vanish(s)
		return
	case <-s.ctx.Done():
		timer.Stop()
		r.vanish(s)
		return
	}

	toks := tokens(r.reply)
	n := len(toks)
	prov, model := splitModel(r.model)
	if v4 {
		m := r.event(s, "lifecycle:model", 2)
		sub(m, "data")["provider"], sub(m, "data")["model"] = prov, model
		emit("agent", m)
		itemID := uuid.NewString() + ":1"
		a := r.event(s, "assistant", 3)
		d := sub(a, "data")
		d["text"], d["delta"], d["itemId"] = toks[0], toks[0], itemID
		emit("agent", a)
		emit("chat", r.chatEvent(s, "chat:delta", 3, toks[0], toks[0]))
		rest := strings.TrimPrefix(r.reply, toks[0])
		a = r.event(s, "assistant", 2+n)
		d = sub(a, "data")
		d["text"], d["delta"], d["itemId"] = r.reply, rest, itemID
		emit("agent", a)
		u := r.event(s, "usage", 3+n)
		sub(u, "data")["outputTokens"] = n
		emit("agent", u)
		f := r.event(s, "lifecycle:finishing", 4+n)
		sub(f, "data")["endedAt"] = nowMs()
		emit("agent", f)
		emit("agent", r.event(s, "lifecycle:model-null", 5+n))
		end := r.event(s, "lifecycle:end", 6+n)
		sub(end, "data")["startedAt"], sub(end, "data")["endedAt"] = r.startedAt, nowMs()
		if tr := sub(sub(end, "data"), "terminalReply"); tr != nil {
			tr["text"] = r.reply
		}
		emit("agent", end)
		emit("chat", r.chatEvent(s, "chat:delta", 6+n, r.reply, rest))
		emit("chat", r.chatEvent(s, "chat:final", 6+n, r.reply, ""))
	} else {
		cum := ""
		for i, tok := range toks {
			cum += tok
			a := r.event(s, "assistant", 2+i)
			sub(a, "data")["text"], sub(a, "data")["delta"] = cum, tok
			emit("agent", a)
			if i == 0 {
				emit("chat", r.chatEvent(s, "chat:delta", 2, cum, tok))
			}
		}
		end := r.event(s, "lifecycle:end", 2+n)
		sub(end, "data")["endedAt"] = nowMs()
		emit("agent", end)
		emit("chat", r.chatEvent(s, "chat:final", 2+n, r.reply, ""))
	}

	ended := nowMs()
	final := r.rewriter(s).applyObj(s.tpl.final)
	final["runId"] = r.id
	setModelPairs(final, "fake", "fake-echo", prov, model)
	result := sub(final, "result")
	result["payloads"] = []any{obj{"text": r.reply, "mediaUrl": nil}}
	meta := sub(result, "meta")
	meta["durationMs"] = ended - r.startedAt
	meta["aborted"] = false
	usage := obj{"input": 10, "output": n, "cacheRead": 0, "cacheWrite": 0, "total": 10 + n}
	if am := sub(meta, "agentMeta"); am != nil {
		am["sessionId"] = r.sessionID
		if old := sub(am, "usage"); old != nil && old["cost"] != nil {
			usage["cost"] = old["cost"]
		}
		am["usage"] = usage
	}
	s.store.finishRun(r.sessionKey, turn{runID: r.id, message: r.message, reply: r.reply, model: r.model,
		output: n, started: r.startedAt, ended: ended}, 10)
	r.finish(resFrame{Type: "res", ID: r.reqID, OK: true, Payload: mustJSON(final)}, false, ended)
}

// finish records the final frame and sends it to the requesting connection.
func (r *run) finish(f resFrame, aborted bool, ended int64) {
	r.mu.Lock()
	r.finished, r.aborted, r.endedAt, r.last = true, aborted, ended, f
	r.mu.Unlock()
	close(r.done)
	r.conn.srv.changed()
	r.conn.sendAsync(mustJSON(f))
}
