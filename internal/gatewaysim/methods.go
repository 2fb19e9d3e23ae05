package gatewaysim

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Method scopes (docs/protocol.md §2.5; clawdbot server-methods.ts, openclaw
// method-scopes.ts). Anything not listed needs operator.admin.
var (
	readMethods = map[string]bool{"health": true, "status": true, "models.list": true, "agents.list": true,
		"sessions.list": true, "sessions.preview": true, "system-presence": true, "last-heartbeat": true,
		"chat.history": true, "agent.identity.get": true, "usage.status": true, "usage.cost": true,
		"logs.tail": true, "channels.status": true}
	readMethodsV4 = map[string]bool{"sessions.resolve": true, "sessions.describe": true, "sessions.get": true,
		"sessions.subscribe": true, "config.get": true}
	writeMethods   = map[string]bool{"agent": true, "agent.wait": true, "chat.send": true, "chat.abort": true, "send": true, "wake": true}
	writeMethodsV4 = map[string]bool{"sessions.abort": true}
	// sessions.patch keys a write-scoped OpenClaw caller may set.
	patchWriteKeys = map[string]bool{"key": true, "agentId": true, "expectedSessionId": true,
		"expectedLifecycleRevision": true, "expectedPermissionMode": true, "expectedMarkedUnreadAt": true,
		"label": true, "autoLabel": true, "icon": true, "color": true, "category": true, "boardFace": true,
		"boardPresentation": true, "pinned": true, "archived": true, "unread": true, "model": true,
		"agentRuntime": true, "thinkingLevel": true, "fastMode": true, "permissionMode": true}
	resetCommand = regexp.MustCompile(`(?i)^/(new|reset)(\s|$)`)
	// sessions.delete keys a write-scoped OpenClaw caller may send, with
	// archivedOnly: true (method-scopes SESSIONS_DELETE_WRITE_SCOPE_FIELDS).
	deleteWriteKeys = map[string]bool{"key": true, "agentId": true, "deleteTranscript": true,
		"expectedSessionId": true, "archivedOnly": true}
)

// scopesSatisfy reports whether granted scopes satisfy need.
func scopesSatisfy(g Generation, granted []string, need string) bool {
	for _, s := range granted {
		switch {
		case s == scopeAdmin, s == need:
			return true
		case s == scopeWrite && need == scopeRead:
			return true
		case s == scopeWrite && need == scopeTalk && g == OpenClaw:
			return true
		}
	}
	return false
}

// requiredScope is the scope a request needs ("" = none).
func (s *Server) requiredScope(req Request) string {
	v4 := s.opts.Generation == OpenClaw
	m := req.Method
	switch {
	case m == "health" && v4:
		return "" // 2026.9.6 answers health without any scope (DEVICE.md §1, frames s1-remote-nodevice-cli)
	case readMethods[m], v4 && readMethodsV4[m]:
		return scopeRead
	case m == "agent":
		if v4 {
			var p struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(req.Params, &p)
			if resetCommand.MatchString(strings.TrimSpace(p.Message)) {
				return scopeAdmin
			}
		}
		return scopeWrite
	case writeMethods[m], v4 && writeMethodsV4[m]:
		return scopeWrite
	case m == "sessions.delete" && v4:
		var p map[string]any
		_ = json.Unmarshal(req.Params, &p)
		if p["archivedOnly"] != true {
			return scopeAdmin
		}
		for k := range p {
			if !deleteWriteKeys[k] {
				return scopeAdmin
			}
		}
		return scopeWrite
	case m == "sessions.patch" && v4:
		var p map[string]any
		_ = json.Unmarshal(req.Params, &p)
		for k, v := range p {
			if !patchWriteKeys[k] || (k == "permissionMode" && v == "full") {
				return scopeAdmin
			}
		}
		return scopeWrite
	}
	return scopeAdmin
}

// missingScope is the per-generation missing-scope error.
func (s *Server) missingScope(need string) *ErrorShape {
	e := &ErrorShape{Code: "INVALID_REQUEST", Message: "missing scope: " + need}
	if s.opts.Generation == OpenClaw {
		e.Code = "FORBIDDEN"
		e.Details = obj{"code": "MISSING_SCOPE", "missingScope": need, "requiredScopes": []string{need}}
	}
	return e
}

// dispatch answers a request after the handshake: an override if one is
// registered, else the built-in behaviour.
func (s *Server) dispatch(c *Conn, req Request) {
	if h := s.handler(req.Method); h != nil {
		h(c, req)
		return
	}
	c.Default(req)
}

// Default answers req with the fake's built-in behaviour (scope check, then
// the method). Overrides registered with Server.Handle can call it to fall
// back, e.g. to fail only the first call. For "connect" before hello-ok it
// runs the built-in handshake.
func (c *Conn) Default(req Request) {
	s := c.srv
	if req.Method == "connect" && !c.isReady() {
		c.connectDefault(req)
		return
	}
	if need := s.requiredScope(req); need != "" && !c.hasScope(need) {
		c.replyErrAsync(req.ID, s.missingScope(need))
		return
	}
	payload, e := s.call(c, req)
	switch {
	case e != nil:
		c.replyErrAsync(req.ID, e)
	case payload != nil:
		c.replyAsync(req.ID, payload)
	}
}

// call runs a built-in method. A nil payload and nil error means the method
// answered by itself (agent).
func (s *Server) call(c *Conn, req Request) (any, *ErrorShape) {
	v4 := s.opts.Generation == OpenClaw
	switch req.Method {
	case "health":
		return s.healthPayload(), nil
	case "status":
		return s.statusPayload(c), nil
	case "models.list":
		return s.modelsList(c, req)
	case "sessions.list":
		return s.sessionsList(req)
	case "sessions.patch":
		return s.sessionsPatch(req)
	case "agent":
		return nil, s.agent(c, req)
	case "agent.wait":
		return s.agentWait(c, req)
	case "chat.abort":
		return s.chatAbort(req)
	case "chat.history":
		return s.chatHistory(req)
	case "sessions.abort":
		if v4 {
			return s.sessionsAbort(req)
		}
	case "sessions.delete":
		return s.sessionsDelete(c, req)
	case "usage.cost":
		return s.usageCostPayload(req)
	case "config.get":
		return s.configGet(), nil
	}
	if s.methods[req.Method] {
		return nil, &ErrorShape{Code: "UNAVAILABLE", Message: "gatewaysim: " + req.Method + " is not implemented by the fake gateway"}
	}
	return nil, invalid("unknown method: " + req.Method)
}

// checkParams validates params against a method schema.
func (s *Server) checkParams(method string, sc *schema, params json.RawMessage) *ErrorShape {
	if msg := s.prof.val.check(sc, params); msg != "" {
		return invalid("invalid " + method + " params: " + msg)
	}
	return nil
}

// healthPayload is the recorded health result with the live session store.
func (s *Server) healthPayload() obj {
	h := newRewriter(nowMs() - s.tpl.t0).applyObj(s.tpl.healthRes)
	h["ts"] = nowMs()
	if ss := sub(h, "sessions"); ss != nil {
		h["sessions"] = s.store.healthSessions(ss)
	}
	if a := firstObj(h, "agents"); a != nil && sub(a, "sessions") != nil {
		a["sessions"] = s.store.healthSessions(sub(a, "sessions"))
	}
	return h
}

// statusPayload is the recorded status result (OpenClaw: the redacted
// variant for non-admin callers) with the live session store.
func (s *Server) statusPayload(c *Conn) obj {
	tpl, redacted := s.tpl.status, false
	if s.opts.Generation == OpenClaw && !c.hasScope(scopeAdmin) {
		tpl, redacted = s.tpl.statusRead, true
	}
	st := newRewriter(nowMs() - s.tpl.t0).applyObj(tpl)
	st["sessions"] = s.store.statusSessions(sub(tpl, "sessions"), redacted)
	return st
}

// modelsList answers models.list: Clawdbot returns its full recorded catalog
// (not filtered by the allowlist); OpenClaw the allowlisted models.
func (s *Server) modelsList(c *Conn, req Request) (any, *ErrorShape) {
	if e := s.checkParams("models.list", s.prof.modelsList, req.Params); e != nil {
		return nil, e
	}
	res := cloneObj(s.tpl.modelsList)
	if s.opts.Generation == Clawdbot {
		return res, nil
	}
	// Recorded: with the "model-selection-policy" connect cap every model
	// carries manualSelectionAllowed; all listed models are allowlisted.
	defer func() {
		if !c.hasCap("model-selection-policy") {
			return
		}
		list, _ := res["models"].([]any)
		for _, x := range list {
			if m, ok := x.(obj); ok {
				m["manualSelectionAllowed"] = true
			}
		}
	}()
	models, _ := res["models"].([]any)
	var base obj
	if len(models) > 0 {
		base, _ = models[0].(obj)
	}
	seen := map[string]bool{DefaultModel: true}
	for _, a := range s.opts.AllowedModels {
		ref, ok := resolveModelRef(a, nil)
		if !ok || seen[ref] || base == nil {
			continue
		}
		seen[ref] = true
		m := cloneObj(base)
		prov, id := splitModel(ref)
		m["id"], m["name"], m["provider"] = id, id, prov
		m["tags"] = []any{"configured"}
		delete(m, "alias")
		for _, mi := range s.opts.Models {
			if r, _ := resolveModelRef(mi.Ref, nil); r != ref {
				continue
			}
			if mi.Name != "" {
				m["name"] = mi.Name
			}
			if mi.Alias != "" {
				m["alias"] = mi.Alias
			}
			m["contextWindow"] = 200000
			if mi.ContextWindow > 0 {
				m["contextWindow"] = mi.ContextWindow
			}
		}
		models = append(models, m)
	}
	res["models"] = models
	return res, nil
}

// sessionsList answers sessions.list.
func (s *Server) sessionsList(req Request) (any, *ErrorShape) {
	if e := s.checkParams("sessions.list", s.prof.sessionsList, req.Params); e != nil {
		return nil, e
	}
	var p struct {
		Limit         *int    `json:"limit"`
		Offset        *int    `json:"offset"`
		ActiveMinutes int     `json:"activeMinutes"`
		Search        string  `json:"search"`
		AgentID       string  `json:"agentId"`
		Label         string  `json:"label"`
		SpawnedBy     *string `json:"spawnedBy"`
	}
	_ = json.Unmarshal(req.Params, &p)
	q := listQuery{activeMinutes: p.ActiveMinutes, search: p.Search, agentID: p.AgentID, label: p.Label, spawnedBy: p.SpawnedBy != nil}
	if p.Limit != nil {
		q.limit = *p.Limit
	}
	if p.Offset != nil {
		q.offset, q.hasOffset = *p.Offset, true
	}
	return s.store.list(q), nil
}

// sessionsPatch answers sessions.patch.
func (s *Server) sessionsPatch(req Request) (any, *ErrorShape) {
	if e := s.checkParams("sessions.patch", s.prof.sessionsPatch, req.Params); e != nil {
		return nil, e
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(req.Params, &fields)
	pr := patchReq{other: obj{}}
	for k, raw := range fields {
		var sv *string
		isNull := string(raw) == "null"
		if !isNull {
			var x string
			if json.Unmarshal(raw, &x) == nil {
				sv = &x
			}
		}
		switch k {
		case "key":
			pr.key = canonicalKey(*sv)
		case "model":
			pr.modelSet = true
			empty := ""
			pr.model = &empty
			if sv != nil {
				if strings.TrimSpace(*sv) == "" {
					return nil, invalid("invalid model: empty")
				}
				pr.model = sv
			}
		case "label":
			pr.labelSet, pr.label = true, sv
		case "spawnedBy":
			pr.spawnedBy = !isNull
		default:
			v, _ := decodeJSON(raw)
			pr.other[k] = v
		}
	}
	res, e := s.store.patch(pr, s.opts.AllowedModels, s.opts.Models)
	if e == nil {
		s.changed()
	}
	return res, e
}
