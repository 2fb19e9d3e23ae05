package gatewaysim

import (
	"encoding/base64"
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
	requested                 string // the model param as sent
	fallbackFrom              string // the requested "provider/model" that Options.Fallbacks replaced
	modelRun                  bool   // v4 modelRun: no events, nothing stored
	promptMode, bootstrapMode string
	label                     string
	params                    json.RawMessage
	conn                      *Conn
	reqID                     string
	delay                     time.Duration
	startedAt                 int64
	abortCh                   chan abortReq
	done                      chan struct{}

	mu       sync.Mutex
	finished bool
	aborted  bool
	deleted  bool     // aborted by sessions.delete
	costUSD  *float64 // the cost the final reply reported
	failed   string   // error summary of a failed run
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
			RequestedModel: r.requested, FallbackFrom: r.fallbackFrom, ModelRun: r.modelRun,
			PromptMode: r.promptMode, BootstrapContextMode: r.bootstrapMode, Label: r.label,
			Params: append(json.RawMessage(nil), r.params...), Conn: r.conn.id, Aborted: r.aborted, Done: r.finished}
		if r.costUSD != nil {
			c := *r.costUSD
			out[i].CostUSD = &c
		}
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
	ModelRun       bool   `json:"modelRun"`
	PromptMode     string `json:"promptMode"`
	BootstrapMode  string `json:"bootstrapContextMode"`
	Label          string `json:"label"`
}

var (
	delayMarker   = regexp.MustCompile(`\[\[delay=([0-9.]+)\]\]`)
	replyMarker   = regexp.MustCompile(`(?s)\[\[reply:(.*?)\]\]`)
	reply64Marker = regexp.MustCompile(`\[\[reply64:([A-Za-z0-9+/=_-]+)\]\]`)
)

// fakeReply is what the lab's fake model (fake_openai.py reply_for)
// answers: "[[reply64:BASE64]]" anywhere in the message makes the reply
// exactly the decoded text (base64url or standard, padding optional),
// otherwise "[[reply:TEXT]]" (TEXT up to the first "]]") makes it TEXT,
// otherwise it echoes the first paragraph.
func fakeReply(message string) string {
	if m := reply64Marker.FindStringSubmatch(message); m != nil {
		b64 := strings.NewReplacer("+", "-", "/", "_").Replace(strings.TrimRight(m[1], "="))
		if b, err := base64.RawURLEncoding.DecodeString(b64); err == nil {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
	}
	if m := replyMarker.FindStringSubmatch(message); m != nil {
		return m[1]
	}
	return echoReply(message)
}

// echoReply is the fake model's default answer: the first paragraph
// without a "[...]" prefix, whitespace collapsed, at most 200 runes.
func echoReply(message string) string {
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
	if v4 && p.PromptMode == "none" && !p.ModelRun {
		return invalid(`promptMode="none" requires modelRun=true so the run cannot mutate a durable session.`)
	}
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
		requested: p.Model, modelRun: v4 && p.ModelRun, promptMode: p.PromptMode, bootstrapMode: p.BootstrapMode,
		label: p.Label, params: append(json.RawMessage(nil), req.Params...),
		abortCh: make(chan abortReq), done: make(chan struct{})}
	r.delay = s.opts.AgentDelay
	if m := delayMarker.FindStringSubmatch(p.Message); m != nil {
		if secs, err := strconv.ParseFloat(m[1], 64); err == nil {
			r.delay = time.Duration(secs * float64(time.Second))
		}
	}
	switch {
	case r.modelRun:
		// Recorded: a model run works in a throwaway internal session.
		r.sessionID = "internal-session-effects-" + r.id + "-" + randomHex(8)
	case r.sessionKey == "" && v4:
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
	if failure == "" {
		if served, ok := s.fallbackFor(r.model); ok {
			r.fallbackFrom, r.model = r.model, served
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
	if r.sessionKey != "" && !r.modelRun {
		r.sessionID = s.store.startRun(r.sessionKey, r.sessionID, r.id, r.label)
		s.changed()
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

// execute streams the run's events and sends the final response. A model
// run streams no events at all (recorded).
func (r *run) execute(s *Server, boot chan struct{}) {
	v4 := s.opts.Generation == OpenClaw
	emit := func(name string, p obj) { s.broadcastReady(name, p, scopeRead) }
	if r.modelRun {
		emit = func(string, obj) {}
	}
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
	out := len(strings.Fields(r.reply)) // the fake model counts whitespace-separated words
	prov, model := splitModel(r.model)
	o := 0 // events of failed fallback candidates come first and shift the seq numbers
	if r.fallbackFrom != "" {
		o = r.emitFailedAttempt(s, emit, 2)
	}
	if v4 {
		m := r.event(s, "lifecycle:model", 2+o)
		sub(m, "data")["provider"], sub(m, "data")["model"] = prov, model
		emit("agent", m)
		itemID := uuid.NewString() + ":1"
		a := r.event(s, "assistant", 3+o)
		d := sub(a, "data")
		d["text"], d["delta"], d["itemId"] = toks[0], toks[0], itemID
		delta := r.chatEvent(s, "chat:delta", 3+o, toks[0], toks[0])
		if r.fallbackFrom != "" { // recorded: after a fallback the chat delta comes first
			emit("chat", delta)
			emit("agent", a)
		} else {
			emit("agent", a)
			emit("chat", delta)
		}
		rest := strings.TrimPrefix(r.reply, toks[0])
		a = r.event(s, "assistant", 2+n+o)
		d = sub(a, "data")
		d["text"], d["delta"], d["itemId"] = r.reply, rest, itemID
		emit("agent", a)
		u := r.event(s, "usage", 3+n+o)
		sub(u, "data")["outputTokens"] = out
		emit("agent", u)
		f := r.event(s, "lifecycle:finishing", 4+n+o)
		sub(f, "data")["endedAt"] = nowMs()
		emit("agent", f)
		emit("agent", r.event(s, "lifecycle:model-null", 5+n+o))
		end := r.event(s, "lifecycle:end", 6+n+o)
		sub(end, "data")["startedAt"], sub(end, "data")["endedAt"] = r.startedAt, nowMs()
		r.setTerminal(sub(end, "data"))
		emit("agent", end)
		emit("chat", r.chatEvent(s, "chat:delta", 6+n+o, r.reply, rest))
		emit("chat", r.chatEvent(s, "chat:final", 6+n+o, r.reply, ""))
	} else {
		// Recorded: after a fallback Clawdbot sends no chat events (its chat
		// final went out with the first failed attempt's end, which also
		// ended its chat run: the later events name no session).
		cum := ""
		for i, tok := range toks {
			cum += tok
			a := r.event(s, "assistant", 2+i+o)
			sub(a, "data")["text"], sub(a, "data")["delta"] = cum, tok
			if r.fallbackFrom != "" {
				delete(a, "sessionKey")
			}
			emit("agent", a)
			if i == 0 && r.fallbackFrom == "" {
				emit("chat", r.chatEvent(s, "chat:delta", 2, cum, tok))
			}
		}
		end := r.event(s, "lifecycle:end", 2+n+o)
		sub(end, "data")["endedAt"] = nowMs()
		if r.fallbackFrom != "" {
			delete(end, "sessionKey")
		}
		emit("agent", end)
		if r.fallbackFrom == "" {
			emit("chat", r.chatEvent(s, "chat:final", 2+n, r.reply, ""))
		}
	}

	ended := nowMs()
	var cost *usageCost
	if price := s.priceFor(r.model); price != nil {
		c := price.cost(s.opts.Generation, 10, out, 0, 0)
		cost = &c
	}
	final := r.finalPayload(s, ended, out, cost)
	if !r.modelRun {
		s.store.finishRun(r.sessionKey, turn{runID: r.id, message: r.message, reply: r.reply, model: r.model,
			sessionID: r.sessionID, input: 10, output: out, cost: cost, started: r.startedAt, ended: ended})
	}
	if v4 && cost != nil {
		r.mu.Lock()
		r.costUSD = &cost.total
		r.mu.Unlock()
	}
	r.finish(resFrame{Type: "res", ID: r.reqID, OK: true, Payload: mustJSON(final)}, false, ended)
}

// emitFailedAttempt streams the recorded events of a fallback's failed
// candidates (those after the run's first lifecycle start, up to the
// fallback model's start), naming the requested model, with seq numbers
// from seq; it returns how many it sent.
func (r *run) emitFailedAttempt(s *Server, emit func(string, obj), seq int) int {
	reqProv, reqModel := splitModel(r.fallbackFrom)
	failedProv, failedModel := splitModel(s.tpl.fallbackModel)
	for i, ev := range s.tpl.fallbackPrefix {
		p := cloneObj(ev.payload)
		p["runId"] = r.id
		for k, v := range map[string]any{"sessionKey": r.sessionKey, "sessionId": r.sessionID, "seq": seq + i, "ts": nowMs()} {
			if _, ok := p[k]; ok {
				p[k] = v
			}
		}
		if d := sub(p, "data"); d != nil {
			for _, k := range []string{"startedAt", "endedAt"} {
				if _, ok := d[k]; ok {
					d[k] = nowMs()
				}
			}
			if _, ok := d["itemId"]; ok {
				d["itemId"] = uuid.NewString() + ":1"
			}
		}
		setModelPairs(p, failedProv, failedModel, reqProv, reqModel)
		emit(ev.name, p)
	}
	return len(s.tpl.fallbackPrefix)
}

// requestedModel is the "provider/model" the run asked for.
func (r *run) requestedModel() string {
	if r.fallbackFrom != "" {
		return r.fallbackFrom
	}
	return r.model
}

// setTerminal fills in the terminalReceipt (the requested and the served
// model) and terminalReply (the reply text and, after a fallback, the
// recorded route-change note) that OpenClaw puts in the final reply, the
// lifecycle end event and agent.wait.
func (r *run) setTerminal(o obj) {
	prov, model := splitModel(r.model)
	reqProv, reqModel := splitModel(r.requestedModel())
	if tr := sub(o, "terminalReceipt"); tr != nil {
		tr["runId"], tr["turnId"] = r.id, r.id
		if _, ok := tr["sessionId"]; ok {
			tr["sessionId"] = r.sessionID
		}
		tr["requested"] = obj{"provider": reqProv, "model": reqModel}
		tr["effective"] = obj{"provider": prov, "model": model, "responseModel": model}
		tr["rerouted"] = r.fallbackFrom != ""
	}
	if tr := sub(o, "terminalReply"); tr != nil {
		tr["text"] = r.reply
		delete(tr, "modelRouteChange")
		if r.fallbackFrom != "" {
			tr["modelRouteChange"] = "Model route changed: " + r.fallbackFrom + " \u2192 " + r.model + "."
		}
	}
}

// finalPayload renders the final agent reply of a completed run from the
// recorded one: the served model, the token usage and (OpenClaw) its cost,
// terminalReceipt and executionTrace, a fallback, a model run.
func (r *run) finalPayload(s *Server, ended int64, out int, cost *usageCost) obj {
	final := r.rewriter(s).applyObj(s.tpl.final)
	final["runId"] = r.id
	prov, model := splitModel(r.model)
	setModelPairs(final, "fake", "fake-echo", prov, model)
	result := sub(final, "result")
	result["payloads"] = []any{obj{"text": r.reply, "mediaUrl": nil}}
	meta := sub(result, "meta")
	meta["durationMs"] = ended - r.startedAt
	meta["aborted"] = false
	usage := obj{"input": 10, "output": out, "cacheRead": 0, "cacheWrite": 0, "total": 10 + out}
	am := sub(meta, "agentMeta")
	if am == nil {
		return final
	}
	am["sessionId"] = r.sessionID
	if s.opts.Generation != OpenClaw {
		am["usage"] = usage // Clawdbot reports no cost
		return final
	}
	total := 0.0
	if cost != nil {
		total = cost.total
	}
	usage["cost"] = obj{"total": total}
	am["usage"] = usage
	if _, ok := am["lastCallUsage"]; ok {
		am["lastCallUsage"] = cloneObj(usage)
	}
	if cost != nil {
		am["costUsd"] = total
	} else {
		delete(am, "costUsd") // recorded: a model without a cost entry
	}
	if cw := s.contextWindow(r.model); cw > 0 {
		am["contextTokens"] = cw
	}
	for _, k := range []string{"finalAssistantRawText", "finalAssistantVisibleText"} {
		if _, ok := meta[k]; ok {
			meta[k] = r.reply
		}
	}
	if _, ok := meta["finalPromptText"]; ok {
		meta["finalPromptText"] = r.message
	}
	r.setTerminal(am)
	reqProv, reqModel := splitModel(r.requestedModel())
	attempts := []any{}
	if r.fallbackFrom != "" {
		fa := s.tpl.fallbackAttempt
		attempts = append(attempts, obj{"provider": reqProv, "model": reqModel, "result": "candidate_failed",
			"reason": fa.reason, "status": fa.status})
		am["fallbackAttempts"] = []any{obj{"provider": reqProv, "model": reqModel,
			"error": strings.ReplaceAll(fa.err, fa.model, reqModel), "reason": fa.reason, "status": fa.status}}
	}
	attempts = append(attempts, obj{"provider": prov, "model": model, "result": "success", "stage": "assistant"})
	if et := sub(meta, "executionTrace"); et != nil {
		et["winnerProvider"], et["winnerModel"] = prov, model
		et["attempts"] = attempts
		et["fallbackUsed"] = r.fallbackFrom != ""
	}
	spr := sub(meta, "systemPromptReport")
	if r.modelRun {
		// Recorded: a model run has no bootstrap files, no bridge calls, and
		// names its internal session.
		delete(am, "bridgeCalls")
		internal := "agent:main:internal-session-effects:" + strings.TrimPrefix(r.sessionID, "internal-session-effects-")
		am["sessionFile"] = internal
		if spr != nil {
			spr["sessionKey"], spr["sessionId"] = internal, r.sessionID
		}
	}
	if spr != nil && (r.modelRun || r.bootstrapMode == "lightweight") {
		spr["injectedWorkspaceFiles"] = []any{}
	}
	return final
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
