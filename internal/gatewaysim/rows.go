package gatewaysim

import "strings"

// row renders a sessions.list row from the recorded row templates.
func (st *store) row(s *session, now int64) obj {
	v4 := st.gen == OpenClaw
	var row obj
	fromTemplate := s.seedRow == nil
	switch {
	case !fromTemplate:
		row = cloneObj(s.seedRow)
	case s.runs > 0:
		row = st.rewriteFor(s, st.tpl.rowRan)
		switch {
		case s.completed > 0:
		case v4: // only aborted runs: no token accounting yet (recorded)
			for _, k := range []string{"inputTokens", "outputTokens", "totalTokens", "estimatedCostUsd",
				"contextBudgetStatus", "lastActivityAt"} {
				delete(row, k)
			}
			row["totalTokensFresh"] = false
		default: // recorded: a run aborted by sessions.delete
			delete(row, "inputTokens")
			delete(row, "outputTokens")
			row["totalTokens"] = 0
			row["abortedLastRun"] = true
		}
	default:
		row = st.rewriteFor(s, st.tpl.rowFresh)
	}
	row["key"] = s.key
	row["sessionId"] = s.sessionID
	row["updatedAt"] = s.updatedAt
	if s.label != "" {
		row["label"] = s.label
		row["displayName"] = s.label
	} else {
		delete(row, "label")
		switch {
		case !v4:
			delete(row, "displayName")
		case !fromTemplate:
		case s.createdVia == "run": // recorded: run-created sessions show their key's name
			row["displayName"] = strings.TrimPrefix(s.key, "agent:main:")
		default:
			delete(row, "displayName")
		}
	}
	if s.completed > 0 {
		row["inputTokens"] = s.input
		row["outputTokens"] = s.output
		row["totalTokens"] = s.input
		row["abortedLastRun"] = s.aborted
	}
	if v4 {
		prov, model := splitModel(s.selected())
		row["modelProvider"], row["model"] = prov, model
		if s.override != "" {
			row["modelOverrideSource"] = "user"
		} else {
			row["modelOverrideSource"] = nil
		}
		row["createdAt"] = s.createdAt
		if s.createdVia != "" {
			row["createdVia"] = s.createdVia
		}
		row["snapshotAt"] = now
		switch {
		case s.activeRun != "":
			row["status"] = "running"
		case s.runs == 0:
		case s.aborted:
			row["status"] = "killed"
		default:
			row["status"] = "done"
		}
		if strings.Contains(s.key, ":subagent:") { // recorded for agent:main:subagent:*
			row["classification"] = "subagent"
			if _, ok := row["isBackground"]; ok {
				row["isBackground"] = true
			}
		}
		if s.completed > 0 {
			// Recorded: the cost of the session's token counts (the last
			// completed run's), not a sum over its runs.
			row["estimatedCostUsd"] = s.lastCost
			if s.lastModel != s.selected() {
				// Recorded: no context budget after a run served by another
				// model (a per-run model or a fallback).
				delete(row, "contextBudgetStatus")
			}
		}
		row["hasActiveRun"] = s.activeRun != ""
		if s.activeRun != "" {
			row["activeRunIds"] = []any{s.activeRun}
		} else {
			row["activeRunIds"] = []any{}
		}
		if s.runs > 0 {
			row["lastRunId"] = s.lastRunID
			row["startedAt"] = s.startedAt
			row["endedAt"] = s.endedAt
			row["runtimeMs"] = s.endedAt - s.startedAt
			row["lastInteractionAt"] = s.updatedAt
			if s.completed > 0 {
				row["lastActivityAt"] = s.updatedAt
			}
			row["abortedLastRun"] = s.aborted
			if cb := sub(row, "contextBudgetStatus"); cb != nil {
				cb["sessionId"] = s.sessionID
			}
		}
	} else if s.completed > 0 {
		prov, model := splitModel(s.lastModel)
		row["modelProvider"], row["model"] = prov, model
	} else if s.runs > 0 {
		prov, model := splitModel(s.selected())
		row["modelProvider"], row["model"] = prov, model
	} else {
		delete(row, "modelProvider")
		delete(row, "model")
	}
	return row
}

// rewriteFor copies a template that describes another session, substituting
// that session's key and id with s's.
func (st *store) rewriteFor(s *session, tpl obj) obj {
	return newRewriter(nowMs()-st.tpl.t0,
		str(tpl, "key"), s.key, str(tpl, "sessionId"), s.sessionID,
		str(tpl, "lastRunId"), s.lastRunID).applyObj(tpl)
}

// statusSessions rebuilds the "sessions" block of a status payload.
func (st *store) statusSessions(tplSessions obj, redacted bool) obj {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := nowMs()
	res := cloneObj(tplSessions)
	all := st.sorted()
	res["count"] = len(all)
	recent := []any{}
	if !redacted {
		rowTpl := firstObj(sub(st.tpl.status, "sessions"), "recent")
		for i, s := range all {
			if i == 10 {
				break
			}
			recent = append(recent, st.statusRow(rowTpl, s, now))
		}
	}
	res["recent"] = recent
	if by, ok := res["byAgent"].([]any); ok && len(by) > 0 {
		if a, _ := by[0].(obj); a != nil {
			a["count"] = len(all)
			a["recent"] = recent
		}
	}
	return res
}

// statusRow renders one "recent" row of a status payload.
func (st *store) statusRow(tpl obj, s *session, now int64) obj {
	row := cloneObj(tpl)
	row["key"] = s.key
	row["sessionId"] = s.sessionID
	row["updatedAt"] = s.updatedAt
	row["age"] = now - s.updatedAt
	row["flags"] = []any{"id:" + s.sessionID}
	model := s.lastModel
	if model == "" {
		model = s.selected()
	}
	_, m := splitModel(model)
	row["model"] = m
	if _, ok := row["selectedModel"]; ok {
		row["selectedModel"] = s.selected()
	}
	if s.completed > 0 {
		ctx, _ := num(row["contextTokens"])
		row["inputTokens"], row["outputTokens"], row["totalTokens"] = s.input, s.output, s.input
		row["remainingTokens"] = ctx - int64(s.input)
		row["abortedLastRun"] = s.aborted
	} else {
		for _, k := range []string{"abortedLastRun", "inputTokens", "outputTokens", "cacheRead", "cacheWrite"} {
			delete(row, k)
		}
		row["totalTokens"], row["remainingTokens"], row["percentUsed"] = nil, nil, nil
		if _, ok := row["totalTokensFresh"]; ok {
			row["totalTokensFresh"] = false
		}
	}
	return row
}

// healthSessions rebuilds a health "sessions" block {path, count, recent}.
func (st *store) healthSessions(tpl obj) obj {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := nowMs()
	res := cloneObj(tpl)
	all := st.sorted()
	res["count"] = len(all)
	recent := []any{}
	for i, s := range all {
		if i == 10 {
			break
		}
		recent = append(recent, obj{"key": s.key, "updatedAt": s.updatedAt, "age": now - s.updatedAt})
	}
	res["recent"] = recent
	return res
}
