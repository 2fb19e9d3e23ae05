package gatewaysim

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sync"
)

// The fake's payloads come from frames recorded against the real gateways
// (module testdata/frames/{frames,extra}-<generation>.jsonl, one JSON object
// per line: {t, scenario, conn, dir: in|out|meta, frame}). The lines the
// templates use are extracted into testdata/<generation>.jsonl next to this
// file and embedded; TestEmbeddedExtractUpToDate keeps the extract in sync
// (go test -run TestEmbeddedExtractUpToDate -update rewrites it).

//go:embed testdata/*.jsonl
var embeddedRecordings embed.FS

// recLine is one recorded line.
type recLine struct {
	raw      []byte
	T        int64           `json:"t"`
	Scenario string          `json:"scenario"`
	Conn     int             `json:"conn"`
	Dir      string          `json:"dir"`
	Frame    json.RawMessage `json:"frame"`
	frame    obj
	used     bool
}

// recording is a parsed recording with request ids resolved to methods.
type recording struct {
	lines  []*recLine
	reqs   map[string]*recLine // request id -> "out" req line
	method map[string]string   // request id -> method
}

// parseRecording parses jsonl data (several files may be concatenated).
func parseRecording(data []byte) (*recording, error) {
	r := &recording{reqs: map[string]*recLine{}, method: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		l := &recLine{raw: append([]byte(nil), raw...)}
		if err := json.Unmarshal(raw, l); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		l.frame = decodeObj(l.Frame)
		if l.Dir == "out" && str(l.frame, "type") == "req" {
			id := idKey(l.frame["id"])
			r.reqs[id] = l
			r.method[id] = str(l.frame, "method")
		}
		r.lines = append(r.lines, l)
	}
	return r, sc.Err()
}

// idKey normalises a frame id (string or number) for map lookups.
func idKey(v any) string {
	return string(mustJSON(v))
}

// res returns the nth (0-based) response to a request of method in scenario.
func (r *recording) res(scenario, method string, nth int) *recLine {
	for _, l := range r.lines {
		if l.Scenario != scenario || l.Dir != "in" || str(l.frame, "type") != "res" {
			continue
		}
		id := idKey(l.frame["id"])
		if r.method[id] != method {
			continue
		}
		// Earlier responses are kept too: they fix this one's position.
		l.used = true
		r.reqs[id].used = true
		if nth == 0 {
			return l
		}
		nth--
	}
	return nil
}

// resWhere returns the first response to a request of method in scenario
// whose payload matches pred.
func (r *recording) resWhere(scenario, method string, pred func(payload obj) bool) *recLine {
	for _, l := range r.lines {
		if l.Scenario != scenario || l.Dir != "in" || str(l.frame, "type") != "res" {
			continue
		}
		id := idKey(l.frame["id"])
		if r.method[id] != method || !pred(sub(l.frame, "payload")) {
			continue
		}
		l.used = true
		r.reqs[id].used = true
		return l
	}
	return nil
}

// isFinal reports whether an agent reply payload is a final one.
func isFinal(p obj) bool { return sub(p, "result") != nil }

// fallbackPrefix returns the events of the first run of the "fallback"
// scenario that lie between its first lifecycle start (exclusive) and its
// last one (inclusive): what the failed candidates added before the
// fallback model answered, and the model that failed.
func (r *recording) fallbackPrefix() ([]tplEvent, string) {
	var runID string
	for _, l := range r.lines {
		if l.Scenario == "fallback" && l.Dir == "out" && str(l.frame, "method") == "agent" {
			runID = str(sub(l.frame, "params"), "idempotencyKey")
			l.used = true
			break
		}
	}
	if runID == "" {
		return nil, ""
	}
	var evs []*recLine
	for _, l := range r.lines {
		if l.Scenario == "fallback" && l.Dir == "in" && str(l.frame, "type") == "event" &&
			str(sub(l.frame, "payload"), "runId") == runID {
			evs = append(evs, l)
		}
	}
	isStart := func(l *recLine) bool {
		p := sub(l.frame, "payload")
		return str(p, "stream") == "lifecycle" && str(sub(p, "data"), "phase") == "start"
	}
	first, last := -1, -1
	for i, l := range evs {
		if isStart(l) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || last <= first {
		return nil, ""
	}
	evs[first].used = true // the extract must find the same first start
	var out []tplEvent
	failed := ""
	for _, l := range evs[first+1 : last+1] {
		l.used = true
		p := sub(l.frame, "payload")
		if d := sub(p, "data"); failed == "" && str(d, "phase") == "model" && str(d, "provider") != "" {
			failed = str(d, "provider") + "/" + str(d, "model")
		}
		out = append(out, tplEvent{name: str(l.frame, "event"), payload: p})
	}
	if failed == "" { // Clawdbot's events do not name the model: take it from the session row
		failed = "down/down-echo"
		if l := r.res("fallback", "sessions.list", 0); l != nil {
			d := sub(sub(l.frame, "payload"), "defaults")
			failed = str(d, "modelProvider") + "/" + str(d, "model")
		}
	}
	return out, failed
}

// event returns the first event of name in scenario matching pred.
func (r *recording) event(scenario, name string, pred func(payload obj) bool) *recLine {
	for _, l := range r.lines {
		if l.Scenario != scenario || l.Dir != "in" || str(l.frame, "type") != "event" || str(l.frame, "event") != name {
			continue
		}
		if pred == nil || pred(sub(l.frame, "payload")) {
			l.used = true
			return l
		}
	}
	return nil
}

// templates are the recorded payloads the fake builds its answers from.
type templates struct {
	t0 int64 // recording time of the happy hello-ok (for timestamp shifting)

	challenge, hello, healthRes, healthEvent obj
	status, statusRead                       obj
	list, rowRan, rowFresh                   obj
	patchRan, patchFresh, patchModel         obj
	modelsList                               obj
	accepted, final                          obj
	events                                   map[string]obj // "lifecycle:start", "assistant", "chat:delta", ...
	runID, sessionID, sessionKey             string
	message, reply                           string
	shutdown, tick                           obj
	history, historyUser, historyAssistant   obj // chat.history payload and message templates
	errWrongToken, errNoAuth, errControlUI   obj

	// issue 12: usage.cost, config.get, sessions.delete, fallbacks
	usageCost, config, deleteHit obj
	archivedPath                 string     // a recorded archived transcript path
	fallbackPrefix               []tplEvent // a fallback run's events between its first and last lifecycle start
	fallbackModel                string     // the "provider/model" that failed in the recorded fallback

	// v3 only
	chatAbortMiss obj
	// v4 only
	chatAbortHit, sessionsAbortHit, sessionsAbortMiss obj
	inFlight, waitOK, waitTimeout                     obj
	abortFinal                                        obj // both: the final reply of an aborted run
	historyUnknown, waitDeleted                       obj
	fallbackAttempt                                   fallbackAttempt
}

// tplEvent is one recorded event frame.
type tplEvent struct {
	name    string
	payload obj
}

// fallbackAttempt is the recorded failed candidate of a fallback (OpenClaw).
type fallbackAttempt struct {
	model, err, reason string // model is the failed model's id, as named in err
	status             any
}

// buildTemplates selects the template frames from a recording.
func buildTemplates(g Generation, r *recording) (*templates, error) {
	t := &templates{events: map[string]obj{}}
	var missing []string
	payload := func(name string, l *recLine) obj {
		if l == nil {
			missing = append(missing, name)
			return nil
		}
		return sub(l.frame, "payload")
	}
	errOf := func(name string, l *recLine) obj {
		if l == nil {
			missing = append(missing, name)
			return nil
		}
		return sub(l.frame, "error")
	}
	v4 := g == OpenClaw

	hello := r.res("happy", "connect", 0)
	t.hello = payload("hello-ok", hello)
	if hello != nil {
		t.t0 = hello.T
	}
	t.challenge = payload("challenge", r.event("happy", "connect.challenge", nil))
	t.healthRes = payload("health", r.res("happy", "health", 0))
	t.healthEvent = payload("health event", r.event("happy", "health", nil))
	t.status = payload("status", r.res("happy", "status", 0))
	t.statusRead = payload("status (read scope)", r.res("status-after", "status", 1))
	t.list = payload("sessions.list", r.res("happy", "sessions.list", 0))
	t.rowFresh = firstObj(payload("sessions.list fresh row", r.res("patch-variants", "sessions.list", 0)), "sessions")
	after := payload("sessions.list after run", r.res("happy", "sessions.list", 1))
	ranKey := "agent:main:probe"
	if v4 {
		ranKey = "agent:main:bench" // a session created by a run, without a model override
	}
	if rows, ok := after["sessions"].([]any); ok {
		for _, x := range rows {
			if row, _ := x.(obj); str(row, "key") == ranKey {
				t.rowRan = row
			}
		}
	}
	t.patchRan = payload("sessions.patch", r.res("happy", "sessions.patch", 0))
	t.patchFresh = payload("sessions.patch fresh", r.res("patch-variants", "sessions.patch", 0))
	t.patchModel = payload("sessions.patch model", r.res("patch-variants", "sessions.patch", 1))
	t.modelsList = payload("models.list", r.res("models-list", "models.list", 0))
	acceptedLine := r.res("happy", "agent", 0)
	t.accepted = payload("agent accepted", acceptedLine)
	t.final = payload("agent final", r.res("happy", "agent", 1))
	t.shutdown = payload("shutdown", r.event("stop-mid-call", "shutdown", nil))
	t.history = payload("chat.history", r.res("happy", "chat.history", 0))
	if msgs, ok := t.history["messages"].([]any); ok {
		for _, x := range msgs {
			m, _ := x.(obj)
			switch {
			case str(m, "role") == "user" && t.historyUser == nil:
				t.historyUser = m
			case str(m, "role") == "assistant" && t.historyAssistant == nil:
				t.historyAssistant = m
			}
		}
	}
	t.tick = payload("tick", r.event("tick", "tick", nil))
	t.errWrongToken = errOf("wrong-token error", r.res("wrong-token", "connect", 0))
	t.errNoAuth = errOf("no-auth error", r.res("no-auth", "connect", 0))

	t.runID = str(t.accepted, "runId")
	t.sessionID = str(sub(sub(sub(t.final, "result"), "meta"), "agentMeta"), "sessionId")
	if acceptedLine != nil {
		req := r.reqs[idKey(acceptedLine.frame["id"])]
		params := sub(req.frame, "params")
		t.sessionKey = str(params, "sessionKey")
		t.message = str(params, "message")
	}
	t.reply = str(firstObj(sub(t.final, "result"), "payloads"), "text")

	forRun := func(p obj) bool { return str(p, "runId") == t.runID }
	phase := func(stream, ph string) func(obj) bool {
		return func(p obj) bool {
			return forRun(p) && str(p, "stream") == stream && (ph == "" || str(sub(p, "data"), "phase") == ph)
		}
	}
	evt := func(key, scenario, name string, pred func(obj) bool) {
		t.events[key] = payload("event "+key, r.event(scenario, name, pred))
	}
	evt("lifecycle:start", "happy", "agent", phase("lifecycle", "start"))
	evt("assistant", "happy", "agent", phase("assistant", ""))
	evt("lifecycle:end", "happy", "agent", phase("lifecycle", "end"))
	evt("chat:delta", "happy", "chat", func(p obj) bool { return forRun(p) && str(p, "state") == "delta" })
	evt("chat:final", "happy", "chat", func(p obj) bool { return forRun(p) && str(p, "state") == "final" })

	t.usageCost = payload("usage.cost", r.res("usage-cost", "usage.cost", 0))
	t.config = payload("config.get", r.res("config-get", "config.get", 0))
	t.deleteHit = payload("sessions.delete", r.res("sessions-delete", "sessions.delete", 0))
	if a, ok := t.deleteHit["archived"].([]any); ok && len(a) > 0 {
		t.archivedPath, _ = a[0].(string)
	}
	if t.archivedPath == "" {
		missing = append(missing, "archived transcript path")
	}
	t.fallbackPrefix, t.fallbackModel = r.fallbackPrefix()
	if len(t.fallbackPrefix) == 0 {
		missing = append(missing, "fallback events")
	}
	if v4 {
		t.errControlUI = errOf("control-ui error", r.res("other-clients-no-device", "connect", 3))
		evt("lifecycle:model", "happy", "agent", func(p obj) bool {
			return phase("lifecycle", "model")(p) && sub(p, "data")["provider"] != nil
		})
		evt("lifecycle:model-null", "happy", "agent", func(p obj) bool {
			return phase("lifecycle", "model")(p) && sub(p, "data")["provider"] == nil
		})
		evt("usage", "happy", "agent", phase("usage", ""))
		evt("lifecycle:finishing", "happy", "agent", phase("lifecycle", "finishing"))
		evt("chat:aborted", "chat-abort", "chat", func(p obj) bool { return str(p, "state") == "aborted" })
		evt("lifecycle:end-aborted", "chat-abort", "agent", func(p obj) bool {
			return str(p, "stream") == "lifecycle" && str(sub(p, "data"), "phase") == "end"
		})
		evt("lifecycle:error", "chat-abort", "agent", func(p obj) bool {
			return str(p, "stream") == "lifecycle" && str(sub(p, "data"), "phase") == "error"
		})
		t.abortFinal = payload("aborted final", r.res("chat-abort", "agent", 1))
		t.chatAbortHit = payload("chat.abort hit", r.res("chat-abort", "chat.abort", 0))
		t.sessionsAbortHit = payload("sessions.abort hit", r.res("sessions-abort", "sessions.abort", 0))
		t.sessionsAbortMiss = payload("sessions.abort miss", r.res("abort-idle", "sessions.abort", 0))
		t.inFlight = payload("agent in_flight", r.res("agent-replay", "agent", 1))
		t.waitOK = payload("agent.wait ok", r.res("agent-replay", "agent.wait", 0))
		t.waitTimeout = payload("agent.wait timeout", r.res("agent-replay", "agent.wait", 1))
		t.historyUnknown = payload("chat.history of a deleted session", r.res("sessions-delete", "chat.history", 0))
		t.waitDeleted = payload("agent.wait of a run aborted by sessions.delete", r.res("sessions-delete", "agent.wait", 0))
		fa := firstObj(sub(sub(sub(payload("fallback final", r.resWhere("fallback", "agent", isFinal)), "result"), "meta"), "agentMeta"), "fallbackAttempts")
		t.fallbackAttempt = fallbackAttempt{model: str(fa, "model"), err: str(fa, "error"), reason: str(fa, "reason"), status: fa["status"]}
		if fa == nil {
			missing = append(missing, "fallback attempt")
		}
	} else {
		evt("lifecycle:end-aborted", "sessions-delete", "agent", func(p obj) bool {
			return str(p, "stream") == "lifecycle" && sub(p, "data")["aborted"] == true
		})
		evt("chat:final-aborted", "sessions-delete", "chat", func(p obj) bool {
			return str(p, "state") == "final" && p["message"] == nil
		})
		t.abortFinal = payload("aborted final", r.resWhere("sessions-delete", "agent", func(p obj) bool {
			return sub(sub(p, "result"), "meta")["aborted"] == true
		}))
		t.chatAbortMiss = payload("chat.abort miss", r.res("chat-abort", "chat.abort", 0))
		t.waitOK = payload("agent.wait ok", r.res("agent-replay", "agent.wait", 0))
		t.waitTimeout = payload("agent.wait timeout", r.res("agent-replay", "agent.wait", 1))
	}
	for k, v := range t.events {
		if v == nil {
			missing = append(missing, "event "+k)
		}
	}
	for name, v := range map[string]obj{"row after run": t.rowRan, "fresh row": t.rowFresh,
		"chat.history user message": t.historyUser, "chat.history assistant message": t.historyAssistant} {
		if v == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("gatewaysim: %v recording lacks %v", g, missing)
	}
	return t, nil
}

var (
	templatesOnce [2]sync.Once
	templatesFor  [2]*templates
	templatesErr  [2]error
)

// loadTemplates returns the templates of a generation, built once from the
// embedded extract. An error means the embedded data is broken.
func loadTemplates(g Generation) (*templates, error) {
	i := 0
	if g == OpenClaw {
		i = 1
	}
	templatesOnce[i].Do(func() {
		name := "testdata/" + profileFor(g).recording + ".jsonl"
		data, err := embeddedRecordings.ReadFile(name)
		if err != nil {
			templatesErr[i] = fmt.Errorf("gatewaysim: %w", err)
			return
		}
		rec, err := parseRecording(data)
		if err != nil {
			templatesErr[i] = fmt.Errorf("gatewaysim: %s: %w", name, err)
			return
		}
		templatesFor[i], templatesErr[i] = buildTemplates(g, rec)
	})
	return templatesFor[i], templatesErr[i]
}
