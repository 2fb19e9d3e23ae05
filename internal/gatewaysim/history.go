package gatewaysim

import (
	"encoding/base64"
	"encoding/json"

	"github.com/google/uuid"
)

// chatHistory answers chat.history from the session's transcript (the runs
// made on the fake), newest messages last, like the real gateways.
// OpenClaw pages from the newest end: offset skips the newest messages.
func (s *Server) chatHistory(req Request) (any, *ErrorShape) {
	v4 := s.opts.Generation == OpenClaw
	var p struct {
		SessionKey string `json:"sessionKey"`
		Limit      int    `json:"limit"`
		Offset     int    `json:"offset"`
	}
	_ = json.Unmarshal(req.Params, &p)
	if p.SessionKey == "" {
		return nil, invalid("invalid chat.history params: must have required property 'sessionKey'")
	}
	key := canonicalKey(p.SessionKey)
	st := s.store
	st.mu.Lock()
	sess := st.sessions[key]
	var msgs []any
	var sessionID string
	var row obj
	if sess != nil {
		sessionID = sess.sessionID
		for i, t := range sess.turns {
			msgs = append(msgs, s.historyMessages(t, i)...)
		}
	}
	st.mu.Unlock()
	if sess == nil && v4 {
		// Recorded (a deleted or never stored key): no transcript fields,
		// and a placeholder sessionInfo.
		tpl := s.tpl.historyUnknown
		res := newRewriter(0, str(tpl, "sessionKey"), key).applyObj(tpl)
		res["sessionKey"] = key
		if info := sub(res, "sessionInfo"); info != nil {
			info["key"] = key
			if _, ok := info["snapshotAt"]; ok {
				info["snapshotAt"] = nowMs()
			}
		}
		return res, nil
	}
	if sess != nil && v4 {
		st.mu.Lock()
		row = st.row(sess, nowMs())
		st.mu.Unlock()
	}
	total := len(msgs)
	limit := p.Limit
	if limit <= 0 {
		limit = 200
	}
	end := max(total-p.Offset, 0)
	start := max(end-limit, 0)
	page := append([]any{}, msgs[start:end]...)

	res := newRewriter(nowMs()-s.tpl.t0, s.tpl.sessionKey, key).applyObj(s.tpl.history)
	res["sessionKey"] = key
	res["messages"] = page
	if sessionID != "" {
		res["sessionId"] = sessionID
	} else {
		delete(res, "sessionId")
	}
	if v4 {
		res["totalMessages"] = total
		res["hasMore"] = start > 0
		if start > 0 {
			res["nextOffset"] = p.Offset + len(page)
		} else {
			delete(res, "nextOffset") // recorded: absent on the last page
		}
		res["deltaCursor"] = base64.RawURLEncoding.EncodeToString(mustJSON(obj{"agentId": "main",
			"lastSeq": total, "sessionId": sessionID, "version": 1}))
		if row != nil {
			// sessionInfo is the list row without the thinking options, plus
			// the transcript fields (recorded).
			for _, k := range []string{"thinkingDefault", "thinkingLevels", "thinkingOptions"} {
				delete(row, k)
			}
			tplInfo := sub(s.tpl.history, "sessionInfo")
			row["activitySummary"] = clone(tplInfo["activitySummary"])
			row["activeLeafEntryId"] = uuid.NewString()
			res["sessionInfo"] = row
		} else {
			delete(res, "sessionInfo")
		}
	}
	return res, nil
}

// historyMessages renders one transcript turn as recorded user and
// assistant messages (an aborted turn has no assistant message). The ids
// are the same in every reply, as OpenClaw's are (each names a transcript
// entry; probed: the same message carries the same __openclaw.id in every
// chat.history reply).
func (s *Server) historyMessages(t turn, i int) []any {
	rw := newRewriter(0)
	user := rw.applyObj(s.tpl.historyUser)
	if _, isString := user["content"].(string); isString {
		user["content"] = t.message // OpenClaw stores the user text as a string
	} else {
		user["content"] = []any{obj{"type": "text", "text": t.message}}
	}
	user["timestamp"] = t.started
	if _, ok := user["idempotencyKey"]; ok {
		user["idempotencyKey"] = t.runID + ":user"
	}
	if meta := sub(user, "__openclaw"); meta != nil {
		meta["id"], meta["idempotencyKey"], meta["recordTimestampMs"] = entryID(t, "user"), t.runID+":user", t.started
		meta["seq"] = 2*i + 1
		if pos := sub(meta, "transcriptPosition"); pos != nil {
			pos["rawSeq"] = 2*i + 1
		}
	}
	if t.aborted {
		return []any{user}
	}
	asst := rw.applyObj(s.tpl.historyAssistant)
	asst["content"] = []any{obj{"type": "text", "text": t.reply}}
	asst["timestamp"] = t.ended
	prov, model := splitModel(t.model)
	asst["provider"], asst["model"] = prov, model
	if u := sub(asst, "usage"); u != nil {
		u["input"], u["output"], u["totalTokens"] = 10, t.output, 10+t.output
	}
	if _, ok := asst["responseId"]; ok {
		asst["responseId"] = "chatcmpl-" + entryID(t, "response")[:12]
	}
	if meta := sub(asst, "__openclaw"); meta != nil {
		meta["runId"], meta["id"], meta["recordTimestampMs"] = t.runID, entryID(t, "assistant"), t.ended
		meta["seq"] = 2*i + 2
		if pos := sub(meta, "transcriptPosition"); pos != nil {
			pos["rawSeq"] = 2*i + 2
		}
	}
	return []any{user, asst}
}

// entryID is the id of one transcript entry of turn t: a UUID derived from
// the session, the run and what the entry is.
func entryID(t turn, what string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(t.sessionID+"\x00"+t.runID+"\x00"+what)).String()
}
