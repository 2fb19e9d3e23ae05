package gatewaysim

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// session is one entry of the fake's in-memory session store.
type session struct {
	key        string
	sessionID  string
	revision   string // v4 lifecycleRevision
	createdAt  int64
	updatedAt  int64
	label      string
	override   string // "provider/model" selected by sessions.patch ("" = default)
	overridden bool   // sessions.patch ever touched the model (v4 modelOverrideSource "default")
	lastModel  string // "provider/model" that served the last completed run
	createdVia string // v4: "operator" (sessions.patch) or "run"
	delivery   bool   // v4: the model was patched on an existing session
	livePatch  bool   // v4: liveModelSwitchPending (model patched before any run)
	input      int
	output     int
	runs       int // finished runs, aborted ones included
	completed  int // runs that produced a reply (token counts are known)
	aborted    bool
	lastRunID  string
	startedAt  int64
	endedAt    int64
	activeRun  string
	lastCost   float64 // v4 estimatedCostUsd: the cost of the last completed run
	extra      obj     // other patched fields, as sent
	seedRow    obj     // recorded sessions.list row of a seeded session
	turns      []turn
}

// turn is one finished run in a session's transcript (for chat.history
// and usage.cost).
type turn struct {
	runID, message, reply, model string
	sessionID                    string // the session's id when the run started
	input, output                int
	cost                         *usageCost // nil: the model has no price
	started, ended               int64
	aborted                      bool
}

// selected is the model the session would use for its next run.
func (s *session) selected() string {
	if s.override != "" {
		return s.override
	}
	return DefaultModel
}

// store is the fake's session store, seeded from the recorded sessions.list.
type store struct {
	mu       sync.Mutex
	gen      Generation
	tpl      *templates
	sessions map[string]*session
	kept     []turn // turns of sessions deleted with deleteTranscript false (usage.cost still counts them)
	lastMs   int64  // last update time handed out (strictly increasing)
}

// stamp returns an update time that is strictly later than the previous
// one, so that "most recently updated first" is deterministic; st.mu held.
func (st *store) stamp() int64 {
	st.lastMs = max(st.lastMs+1, nowMs())
	return st.lastMs
}

func nowMs() int64 { return time.Now().UnixMilli() }

// newStore seeds a store with the sessions of the recorded sessions.list,
// or, when keys is not nil, with sessions of those keys shaped like the
// recorded ones.
func newStore(g Generation, tpl *templates, keys []string) *store {
	st := &store{gen: g, tpl: tpl, sessions: map[string]*session{}}
	list := newRewriter(nowMs() - tpl.t0).applyObj(tpl.list)
	rows, _ := list["sessions"].([]any)
	if keys != nil && len(rows) > 0 {
		seeded := make([]any, 0, len(keys))
		for i, key := range keys {
			row := cloneObj(rows[i%len(rows)].(obj))
			for _, k := range []string{"label", "displayName", "derivedTitle", "lastMessagePreview", "createdVia"} {
				delete(row, k)
			}
			row["key"], row["sessionId"] = key, uuid.NewString()
			// Most recently updated first, in the order given.
			if at, ok := num(row["updatedAt"]); ok {
				row["updatedAt"] = at - int64(i)
			}
			seeded = append(seeded, row)
		}
		rows = seeded
	}
	for _, x := range rows {
		row, _ := x.(obj)
		s := &session{
			key:        str(row, "key"),
			sessionID:  str(row, "sessionId"),
			revision:   uuid.NewString(),
			label:      str(row, "label"),
			createdVia: str(row, "createdVia"),
			lastRunID:  str(row, "lastRunId"),
			seedRow:    row,
			extra:      obj{},
		}
		s.updatedAt, _ = num(row["updatedAt"])
		s.createdAt, _ = num(row["createdAt"])
		if s.createdAt == 0 {
			s.createdAt = s.updatedAt
		}
		s.startedAt, _ = num(row["startedAt"])
		s.endedAt, _ = num(row["endedAt"])
		if in, ok := num(row["inputTokens"]); ok {
			out, _ := num(row["outputTokens"])
			s.input, s.output, s.runs, s.completed = int(in), int(out), 1, 1
			s.lastModel = str(row, "modelProvider") + "/" + str(row, "model")
		}
		st.sessions[s.key] = s
	}
	return st
}

// canonicalKey canonicalises short session keys ("main" -> "agent:main:main").
func canonicalKey(key string) string {
	key = strings.TrimSpace(key)
	if key == "" || strings.HasPrefix(key, "agent:") || key == "global" || key == "unknown" {
		return key
	}
	return "agent:main:" + key
}

// ensure returns the session for key, creating it (with sessionID if given;
// createdVia says what created it).
func (st *store) ensure(key, sessionID, createdVia string) *session {
	if s := st.sessions[key]; s != nil {
		return s
	}
	if sessionID == "" {
		sessionID = uuid.NewString()
	}
	now := st.stamp()
	s := &session{key: key, sessionID: sessionID, revision: uuid.NewString(), createdAt: now, updatedAt: now,
		createdVia: createdVia, extra: obj{}}
	st.sessions[key] = s
	return s
}

// sorted returns the sessions, most recently updated first.
func (st *store) sorted() []*session {
	all := make([]*session, 0, len(st.sessions))
	for _, s := range st.sessions {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].updatedAt != all[j].updatedAt {
			return all[i].updatedAt > all[j].updatedAt
		}
		return all[i].key < all[j].key
	})
	return all
}

// listQuery holds the sessions.list params the fake honours.
type listQuery struct {
	limit, offset, activeMinutes int
	hasOffset                    bool
	search, agentID, label       string
	spawnedBy                    bool // any spawnedBy filter: the fake has no spawned sessions
}

// list answers sessions.list.
func (st *store) list(q listQuery) obj {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := nowMs()
	var match []*session
	for _, s := range st.sorted() {
		switch {
		case q.spawnedBy:
			continue
		case q.agentID != "" && !strings.HasPrefix(s.key, "agent:"+q.agentID+":"):
			continue
		case q.label != "" && s.label != q.label:
			continue
		case q.activeMinutes > 0 && s.updatedAt < now-int64(q.activeMinutes)*60_000:
			continue
		case q.search != "" && !strings.Contains(strings.ToLower(s.key+"\x00"+s.label), strings.ToLower(q.search)):
			continue
		}
		match = append(match, s)
	}
	res := cloneObj(st.tpl.list)
	res["ts"] = now
	total := len(match)
	page := match
	if st.gen == OpenClaw {
		limit := q.limit
		if limit <= 0 {
			limit = 100
		}
		start := min(q.offset, total)
		end := min(start+limit, total)
		page = match[start:end]
		res["totalCount"] = total
		res["limitApplied"] = limit
		if q.hasOffset {
			res["offset"] = q.offset
		} else {
			delete(res, "offset")
		}
		res["hasMore"] = end < total
		if end < total {
			res["nextOffset"] = end
		} else {
			res["nextOffset"] = nil
		}
		if total == 0 {
			res["path"] = "(multiple)"
		}
	} else if q.limit > 0 && q.limit < total {
		page = match[:q.limit]
	}
	rows := make([]any, len(page))
	for i, s := range page {
		rows[i] = st.row(s, now)
	}
	res["count"] = len(rows)
	res["sessions"] = rows
	return res
}

// patchReq is a validated sessions.patch request.
type patchReq struct {
	key       string
	model     *string // nil: not set; "": null (reset to default)
	modelSet  bool
	label     *string
	labelSet  bool
	spawnedBy bool
	other     obj // other fields as sent (nil value = null)
}

// patch answers sessions.patch.
func (st *store) patch(pr patchReq, allowed []string, models []Model) (obj, *ErrorShape) {
	st.mu.Lock()
	defer st.mu.Unlock()
	v4 := st.gen == OpenClaw
	if pr.spawnedBy && !strings.Contains(pr.key, ":subagent:") {
		return nil, invalid("spawnedBy is only supported for subagent:* sessions")
	}
	var ref string
	if pr.modelSet && pr.model != nil && *pr.model != "" {
		var ok bool
		ref, ok = resolveModelRef(*pr.model, models)
		if !ok {
			return nil, invalid("invalid model: empty")
		}
		if !modelAllowed(ref, allowed) {
			return nil, invalid("model not allowed: " + ref)
		}
	}
	if pr.labelSet && pr.label != nil {
		for _, o := range st.sessions {
			if o.key != pr.key && o.label == *pr.label {
				return nil, invalid("label already in use: " + *pr.label)
			}
		}
	}
	existed := st.sessions[pr.key] != nil
	s := st.ensure(pr.key, "", "operator")
	if pr.labelSet {
		s.label = ""
		if pr.label != nil {
			s.label = *pr.label
		}
	}
	if pr.modelSet {
		s.overridden = true
		s.override = ref
		if !v4 && ref == DefaultModel {
			s.override = "" // 1.24 stores no override when the choice equals the default
		}
		// Recorded on 2026.9.6: patching the model of an existing session adds
		// delivery {kind:none}, and liveModelSwitchPending until the next run.
		s.delivery = s.delivery || existed
		s.livePatch = existed && ref != "" && s.completed == 0
	}
	for k, v := range pr.other {
		if v == nil {
			delete(s.extra, k)
		} else {
			s.extra[k] = v
		}
	}
	s.updatedAt = st.stamp()

	res := obj{"ok": true, "path": st.tpl.patchRan["path"], "key": s.key, "entry": st.entry(s)}
	if v4 {
		resolved := cloneObj(sub(st.tpl.patchFresh, "resolved"))
		if pr.modelSet && ref != "" {
			resolved = cloneObj(sub(st.tpl.patchModel, "resolved"))
		}
		prov, model := splitModel(s.selected())
		resolved["modelProvider"], resolved["model"] = prov, model
		res["resolved"] = resolved
	}
	return res, nil
}

// entry renders the stored session entry returned by sessions.patch.
func (st *store) entry(s *session) obj {
	v4 := st.gen == OpenClaw
	var e obj
	if s.completed > 0 {
		tpl := sub(st.tpl.patchRan, "entry")
		e = newRewriter(nowMs()-st.tpl.t0, st.tpl.sessionKey, s.key, str(tpl, "sessionId"), s.sessionID).applyObj(tpl)
		e["inputTokens"], e["outputTokens"], e["totalTokens"] = s.input, s.output, s.input
		e["abortedLastRun"] = s.aborted
		prov, model := splitModel(s.lastModel)
		e["modelProvider"], e["model"] = prov, model
	} else {
		e = obj{}
		if v4 {
			e["createdVia"] = "operator"
			e["createdAt"] = s.createdAt
		}
	}
	e["sessionId"] = s.sessionID
	e["updatedAt"] = s.updatedAt
	if v4 {
		e["lifecycleRevision"] = s.revision
	}
	delete(e, "label")
	if s.label != "" {
		e["label"] = s.label
	}
	for k, v := range s.extra {
		e[k] = v
	}
	for _, k := range []string{"providerOverride", "modelOverride", "modelOverrideSource",
		"modelOverrideRouteResolution", "liveModelSwitchPending", "delivery"} {
		delete(e, k)
	}
	if s.override != "" {
		prov, model := splitModel(s.override)
		e["providerOverride"], e["modelOverride"] = prov, model
		if v4 {
			e["modelOverrideSource"] = "user"
			e["modelOverrideRouteResolution"] = "resolved"
			if s.livePatch {
				e["liveModelSwitchPending"] = true
			}
		}
	} else if v4 && s.overridden {
		e["modelOverrideSource"] = "default"
	}
	if v4 && s.delivery {
		e["delivery"] = obj{"kind": "none"}
	}
	return e
}

// modelAllowed reports whether ref may be selected.
func modelAllowed(ref string, allowed []string) bool {
	if ref == DefaultModel {
		return true
	}
	for _, a := range allowed {
		if r, ok := resolveModelRef(a, nil); ok && r == ref {
			return true
		}
	}
	return false
}

// startRun marks a run active on a session (creating the session) and
// stores the run's label on it, if any (not checked for uniqueness, as
// recorded). It returns the session id.
func (st *store) startRun(key, sessionID, runID, label string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.ensure(key, sessionID, "run")
	s.activeRun = runID
	if label != "" {
		s.label = label
	}
	return s.sessionID
}

// remove deletes a session and returns it (nil if unknown). With
// keepTranscript its turns still count in usage.cost.
func (st *store) remove(key string, keepTranscript bool) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.sessions[key]
	if s == nil {
		return nil
	}
	delete(st.sessions, key)
	if keepTranscript {
		st.kept = append(st.kept, s.turns...)
	}
	return s
}

// sessionModel returns the model a new run on key uses.
func (st *store) sessionModel(key string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.sessions[key]; s != nil {
		return s.selected()
	}
	return DefaultModel
}

// finishRun records a finished run on its session.
func (st *store) finishRun(key string, t turn) {
	st.mu.Lock()
	defer st.mu.Unlock()
	runID, model, in, out, aborted, started, ended := t.runID, t.model, t.input, t.output, t.aborted, t.started, t.ended
	s := st.ensure(key, t.sessionID, "run") // a session deleted meanwhile comes back (Clawdbot, recorded)
	s.turns = append(s.turns, t)
	if s.activeRun == runID {
		s.activeRun = ""
	}
	s.runs++
	s.lastRunID = runID
	s.aborted = aborted
	if !aborted {
		s.completed++
		s.lastModel = model
		s.input, s.output = in, out
		s.livePatch = false
		s.lastCost = 0
		if t.cost != nil {
			s.lastCost = t.cost.total
		}
	}
	s.startedAt, s.endedAt = started, ended
	s.updatedAt = st.stamp()
}

// invalid is an INVALID_REQUEST error.
func invalid(msg string) *ErrorShape { return &ErrorShape{Code: "INVALID_REQUEST", Message: msg} }
