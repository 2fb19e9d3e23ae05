package gatewaysim

import (
	"encoding/json"
	"sync"
	"time"
)

// abortReq asks a running run to abort. The run closes ack once its
// aborted chat/lifecycle events are out and waits for release (the abort
// response) before sending the rest, which is the order the real gateway uses.
type abortReq struct {
	ack, release chan struct{}
}

// abort ends a run aborted by chat.abort / sessions.abort (OpenClaw) or
// sessions.delete (both), with the recorded event sequence. OpenClaw: chat
// "aborted", lifecycle end (cancelled), then — after the abort response —
// lifecycle error and the final "timeout" res. Clawdbot: lifecycle end
// {aborted: true} and a chat final without a message, then — after the
// sessions.delete response — an "ok" final with no payloads, and the
// session comes back (the run's end writes it again). A model run emits no
// events and stores nothing.
func (r *run) abort(s *Server, ab abortReq) {
	v4 := s.opts.Generation == OpenClaw
	emit := func(name string, p obj) { s.broadcastReady(name, p, scopeRead) }
	if r.modelRun {
		emit = func(string, obj) {}
	}
	ended := nowMs()
	if v4 {
		emit("chat", r.event(s, "chat:aborted", 2))
		end := r.event(s, "lifecycle:end-aborted", 2)
		sub(end, "data")["startedAt"], sub(end, "data")["endedAt"] = r.startedAt, ended
		emit("agent", end)
	} else {
		end := r.event(s, "lifecycle:end-aborted", 2)
		sub(end, "data")["startedAt"], sub(end, "data")["endedAt"] = r.startedAt, ended
		emit("agent", end)
		emit("chat", r.event(s, "chat:final-aborted", 2))
	}
	close(ab.ack)
	select {
	case <-ab.release:
	case <-time.After(2 * time.Second):
	}
	var final obj
	if v4 {
		e := r.event(s, "lifecycle:error", 1)
		sub(e, "data")["startedAt"], sub(e, "data")["endedAt"] = r.startedAt, nowMs()
		emit("agent", e)
		final = r.rewriter(s).applyObj(s.tpl.abortFinal)
	} else {
		final = r.rewriter(s).applyObj(s.tpl.abortFinal)
		prov, model := splitModel(r.model)
		setModelPairs(final, "fake", "fake-echo", prov, model)
		if meta := sub(sub(final, "result"), "meta"); meta != nil {
			meta["durationMs"] = ended - r.startedAt
			if am := sub(meta, "agentMeta"); am != nil {
				am["sessionId"] = r.sessionID
			}
		}
	}
	final["runId"] = r.id
	if !r.modelRun {
		s.store.finishRun(r.sessionKey, turn{runID: r.id, message: r.message, model: r.model, sessionID: r.sessionID,
			input: 10, started: r.startedAt, ended: ended, aborted: true})
	}
	r.finish(resFrame{Type: "res", ID: r.reqID, OK: true, Payload: mustJSON(final)}, true, ended)
}

// vanish ends a run killed with the gateway (Stop/Close): no events, no final.
func (r *run) vanish(s *Server) {
	s.store.mu.Lock()
	if sess := s.store.sessions[r.sessionKey]; sess != nil && sess.activeRun == r.id {
		sess.activeRun = ""
	}
	s.store.mu.Unlock()
	r.mu.Lock()
	r.finished, r.endedAt = true, nowMs()
	r.mu.Unlock()
	close(r.done)
	s.changed()
}

// abortRuns aborts the matching runs and returns their ids; call release()
// after sending the abort response (it may be called again).
func (s *Server) abortRuns(sessionKey, runID string) (ids []string, release func()) {
	return s.abortThese(s.runs.active(sessionKey, runID))
}

// abortThese aborts runs; see abortRuns.
func (s *Server) abortThese(runs []*run) (ids []string, release func()) {
	var pending []abortReq
	for _, r := range runs {
		ab := abortReq{ack: make(chan struct{}), release: make(chan struct{})}
		select {
		case r.abortCh <- ab:
			<-ab.ack
			ids = append(ids, r.id)
			pending = append(pending, ab)
		case <-r.done:
		case <-time.After(2 * time.Second):
		}
	}
	var once sync.Once
	return ids, func() {
		once.Do(func() {
			for _, ab := range pending {
				close(ab.release)
			}
		})
	}
}

// chatAbort answers chat.abort. On Clawdbot agent runs cannot be aborted
// this way (they are not registered): the answer is always aborted:false.
func (s *Server) chatAbort(req Request) (any, *ErrorShape) {
	if e := s.checkParams("chat.abort", s.prof.chatAbort, req.Params); e != nil {
		return nil, e
	}
	if s.opts.Generation == Clawdbot {
		return cloneObj(s.tpl.chatAbortMiss), nil
	}
	var p struct{ SessionKey, RunID string }
	_ = json.Unmarshal(req.Params, &p)
	ids, release := s.abortRuns(canonicalKey(p.SessionKey), p.RunID)
	defer release()
	res := cloneObj(s.tpl.chatAbortHit)
	res["aborted"] = len(ids) > 0
	runIDs := []any{}
	for _, id := range ids {
		runIDs = append(runIDs, id)
	}
	res["runIds"] = runIDs
	return res, nil
}

// sessionsAbort answers the OpenClaw sessions.abort.
func (s *Server) sessionsAbort(req Request) (any, *ErrorShape) {
	if e := s.checkParams("sessions.abort", s.prof.sessionsAbort, req.Params); e != nil {
		return nil, e
	}
	var p struct{ Key, RunID string }
	_ = json.Unmarshal(req.Params, &p)
	if p.Key == "" && p.RunID == "" {
		return nil, invalid("key required") // recorded for {}
	}
	ids, release := s.abortRuns(canonicalKey(p.Key), p.RunID)
	defer release()
	if len(ids) == 0 {
		return cloneObj(s.tpl.sessionsAbortMiss), nil
	}
	res := cloneObj(s.tpl.sessionsAbortHit)
	res["abortedRunId"] = ids[0]
	return res, nil
}

// agentWait answers agent.wait: it waits up to timeoutMs (default 30s) for
// the run to end.
func (s *Server) agentWait(c *Conn, req Request) (any, *ErrorShape) {
	if e := s.checkParams("agent.wait", s.prof.agentWait, req.Params); e != nil {
		return nil, e
	}
	var p struct {
		RunID     string `json:"runId"`
		TimeoutMs *int64 `json:"timeoutMs"`
	}
	_ = json.Unmarshal(req.Params, &p)
	wait := 30 * time.Second
	if p.TimeoutMs != nil {
		wait = time.Duration(*p.TimeoutMs) * time.Millisecond
	}
	timeout := cloneObj(s.tpl.waitTimeout)
	timeout["runId"] = p.RunID
	r := s.runs.get(p.RunID)
	if r == nil {
		return timeout, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-r.done: // an ended run is reported even with timeoutMs 0
	default:
		select {
		case <-r.done:
		case <-t.C:
			return timeout, nil
		case <-c.ctx.Done():
			return nil, nil
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.rewriter(s).applyObj(s.tpl.waitOK)
	res["runId"] = r.id
	res["endedAt"] = r.endedAt
	if _, ok := res["startedAt"]; ok {
		res["startedAt"] = r.startedAt
	}
	switch {
	case r.failed != "":
		res["status"] = "error"
		res["error"] = r.failed
	case r.deleted && s.opts.Generation == OpenClaw:
		res = cloneObj(s.tpl.waitDeleted) // recorded: aborted by sessions.delete
		res["runId"], res["endedAt"] = r.id, r.endedAt
		return res, nil
	case r.aborted && s.opts.Generation == OpenClaw:
		res["status"] = "timeout"
		res["stopReason"] = "rpc"
	}
	r.setTerminal(res)
	return res, nil
}
