package gatewaysim

import (
	"encoding/json"
	"time"
)

// abortReq asks a running run to abort. The run closes ack once its
// aborted chat/lifecycle events are out and waits for release (the abort
// response) before sending the rest, which is the order the real gateway uses.
type abortReq struct {
	ack, release chan struct{}
}

// abort ends an OpenClaw run aborted by chat.abort / sessions.abort, with the
// recorded event sequence: chat "aborted", lifecycle end (cancelled), then —
// after the abort response — lifecycle error and the final "timeout" res.
func (r *run) abort(s *Server, ab abortReq) {
	emit := func(name string, p obj) { s.broadcastReady(name, p, scopeRead) }
	emit("chat", r.event(s, "chat:aborted", 2))
	end := r.event(s, "lifecycle:end-aborted", 2)
	ended := nowMs()
	sub(end, "data")["startedAt"], sub(end, "data")["endedAt"] = r.startedAt, ended
	emit("agent", end)
	close(ab.ack)
	select {
	case <-ab.release:
	case <-time.After(2 * time.Second):
	}
	e := r.event(s, "lifecycle:error", 1)
	sub(e, "data")["startedAt"], sub(e, "data")["endedAt"] = r.startedAt, nowMs()
	emit("agent", e)
	final := r.rewriter(s).applyObj(s.tpl.abortFinal)
	final["runId"] = r.id
	s.store.finishRun(r.sessionKey, turn{runID: r.id, message: r.message, model: r.model,
		started: r.startedAt, ended: ended, aborted: true}, 10)
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

// abortRuns aborts the matching OpenClaw runs and returns their ids; call
// release() after sending the abort response.
func (s *Server) abortRuns(sessionKey, runID string) (ids []string, release func()) {
	var pending []abortReq
	for _, r := range s.runs.active(sessionKey, runID) {
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
	return ids, func() {
		for _, ab := range pending {
			close(ab.release)
		}
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
	case <-r.done:
	case <-t.C:
		return timeout, nil
	case <-c.ctx.Done():
		return nil, nil
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
	case r.aborted:
		res["status"] = "timeout"
		res["stopReason"] = "rpc"
	}
	if tr := sub(res, "terminalReply"); tr != nil {
		tr["text"] = r.reply
	}
	return res, nil
}
