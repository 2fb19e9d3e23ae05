package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clawgate/clawgate/internal/mcptest"
)

// The delegation measurements (--delegation): what ask_subagent costs per
// mode (agent, light, model) against one real gateway, through the built
// clawgate over stdio, next to a raw WebSocket client that sends the gateway
// exactly the agent params clawgate sends for that mode:
//
//   - the request bytes the gateway sent the model for a one-line subtask,
//     from the fake model's request log, over --dlg-seq sequential asks in
//     private sessions (the default) and, for contrast, in one named session;
//   - one ask end to end, clawgate and raw interleaved, and the time clawgate
//     itself adds, at a WebSocket tap between it and the gateway; and that
//     time for the same ask in a named session (no private session);
//   - --dlg-par asks in parallel with a model delay of --dlg-delay: wall time
//     against one ask with the same delay, clawgate and raw interleaved, and
//     clawgate with keep_session (no removals during the round).
//
// clawgate reaches the gateway through one tap and the raw client through
// another, so that both sides pay the same loopback hop. clawgate removes
// each private session in the background after answering (its janitor);
// the command waits at the tap until those sessions.delete requests are
// answered before it measures anything else, and the raw side deletes its
// sessions too (in the modes where clawgate does), outside the timed part,
// so that both leave the gateway as they found it.

// dlgLabel is the label clawgate gives runs in its private sessions.
const dlgLabel = "clawgate subagent"

// dlgResults are the delegation measurements of one gateway.
type dlgResults struct {
	runInfo
	run   string // this run's id, in every message and session key
	modes []*dlgMode
}

// dlgMode is what was measured for one mode.
type dlgMode struct {
	name    string
	refusal string // the mode is not available on this gateway: clawgate's answer

	params     string // the agent params clawgate sent, as seen at the tap
	paramsDiff string // how the raw client's params differ ("" when they do not)
	usage      string // usage and cost the warm-up ask reported

	msgBytes      int        // the one-line subtask
	private       []askBytes // one per sequential ask in private sessions
	privateOther  int        // model requests of that phase that carried no ask's token
	shared        []askBytes // one per sequential ask in one named session
	sharedOther   int
	sharedSkipped string

	lat0MCP, lat0Raw, lat0Diff, lat0Own samples // one ask, no model delay
	lat0In, lat0Out                     samples // lat0Own's parts: stdin → agent frame, final reply → stdout
	replyBytes                          int     // the largest final reply frame of those asks
	namedOwn, namedIn, namedOut         samples // the same ask in a named session: no private session
	namedKey                            string
	lat3MCP, lat3Raw, lat3Diff, lat3Own samples // one ask with the model delay
	parMCP, parRaw                      samples // --dlg-par asks at once with the delay
	parKeep                             samples // … with keep_session: no removals during the round
	removes                             bool    // clawgate removes its private session after an ask in this mode
	delBefore                           int     // sessions.delete answered before this mode
	dels                                samples // clawgate's removals of its private sessions
}

// askOut is the part of ask_subagent's result the command reads.
type askOut struct {
	Text        string `json:"text"`
	Mode        string `json:"mode"`
	SessionKey  string `json:"session_key"`
	SessionKept bool   `json:"session_kept"`
	Model       string `json:"model"`
	Usage       struct {
		Input   int64    `json:"input"`
		Output  int64    `json:"output"`
		CostUSD *float64 `json:"cost_usd"`
	} `json:"usage"`
}

// askTiming is how long an ask took in all, and clawgate's own part of it
// as the tap saw it: from the line on stdin to the agent request frame
// (in), and from the final reply frame to the line on stdout (out).
type askTiming struct {
	in, out, total time.Duration
	replyBytes     int // the final reply frame of the run, as the tap saw it
}

func (t askTiming) own() time.Duration { return t.in + t.out }

// toolRefusal is a tool call that ended in a tool error (isError), as
// opposed to a failure of the call itself.
type toolRefusal struct{ text string }

func (e *toolRefusal) Error() string { return "tool error: " + e.text }

// delegation runs the delegation measurements and prints their table.
func (r *runner) delegation(ctx context.Context) error {
	cfg := r.cfg
	d := &r.dlg
	d.started, d.loadStart = time.Now(), loadAvg()
	var err error
	if r.flog, err = openFakeLog(cfg.fakeLog); err != nil {
		return err
	}
	u, _ := url.Parse(cfg.url)
	if u.Scheme != "ws" {
		return errors.New("--delegation measures at a WebSocket tap, which forwards plain ws:// only")
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	upstream := u.Hostname() + ":" + port
	if r.tp, err = startTap(upstream); err != nil {
		return err
	}
	if r.rawTap, err = startTap(upstream); err != nil {
		return err
	}
	logf("connecting the raw WebSocket client to %s through a tap", cfg.url)
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	r.raw, err = dialRaw(dialCtx, r.rawTap.url(), r.token)
	cancel()
	if err != nil {
		return err
	}
	r.raw.pump()
	d.gatewayVersion, d.protocol, d.clawgateVersion = r.raw.version, r.raw.protocol, r.res.clawgateVersion
	if r.tapped, err = r.spawn(r.tp.url(), "delegation"); err != nil {
		return err
	}
	if _, err := r.tapped.initialize(); err != nil {
		return err
	}
	d.run = randomHex(3)
	for _, name := range cfg.dlgModes {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := &dlgMode{name: name}
		d.modes = append(d.modes, m)
		if err := r.dlgMeasureMode(ctx, m); err != nil {
			r.dlgReport(os.Stdout) // what was measured so far
			return fmt.Errorf("mode %s: %w", name, err)
		}
	}
	r.stopAll()
	d.finished, d.loadEnd = time.Now(), loadAvg()
	r.dlgReport(os.Stdout)
	return nil
}

// dlgMeasureMode measures one mode, phase after phase.
func (r *runner) dlgMeasureMode(ctx context.Context, m *dlgMode) error {
	cfg := r.cfg
	m.delBefore = r.delsExpected
	// Warm-up, unmeasured, on both sides; it also says whether the gateway
	// has the mode at all, and what clawgate sends for it.
	logf("%s: warm-up", m.name)
	r.removes = false
	delsSent := r.tp.deletesSent()
	out, _, err := r.ask(ctx, r.askArgs(m.name, "Warm-up subtask: answer OK.", ""))
	var refusal *toolRefusal
	if errors.As(err, &refusal) && strings.Contains(refusal.text, "not available on this gateway") {
		m.refusal = refusal.text
		logf("%s: refused: %s", m.name, m.refusal)
		return nil
	}
	if err != nil {
		return err
	}
	if out.Mode != m.name || out.SessionKept || !isPrivateKey(out.SessionKey) {
		return fmt.Errorf("unexpected result of a default ask: mode %q, session_key %q, session_kept %v", out.Mode, out.SessionKey, out.SessionKept)
	}
	// Does clawgate remove a private session in this mode? (Mode model
	// stores none.) Its janitor sends sessions.delete just after the
	// answer, if at all.
	for deadline := time.Now().Add(5 * time.Second); !r.removes && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r.removes = r.tp.deletesSent() > delsSent
	}
	m.removes = r.removes
	if r.removes {
		r.delsExpected++
	}
	r.keyPrefix = out.SessionKey[:len(out.SessionKey)-10]
	m.usage = fmt.Sprintf("%d in / %d out tokens", out.Usage.Input, out.Usage.Output)
	if out.Usage.CostUSD != nil {
		m.usage += fmt.Sprintf(", cost_usd %g", *out.Usage.CostUSD)
	}
	if err := r.checkParams(m); err != nil {
		return err
	}
	if _, err := r.rawRun(ctx, m.name, "Warm-up subtask: answer OK."); err != nil {
		return err
	}
	if err := r.settle(ctx); err != nil {
		return err
	}

	// Request bytes over sequential asks in private sessions.
	logf("%s: %d sequential asks in private sessions (request bytes)", m.name, cfg.dlgSeq)
	if m.private, m.privateOther, err = r.sequentialBytes(ctx, m, "p", ""); err != nil {
		return err
	}
	m.msgBytes = len(r.taskMessage(m.name, "p", 1))
	// … and in one named session, which keeps the conversation.
	if m.name == "model" {
		m.sharedSkipped = `mode "model" keeps no history and refuses session_key`
	} else {
		key := strings.TrimSuffix(r.keyPrefix, "subagent:clawgate-") + "dlg-" + r.dlg.run + "-" + m.name
		logf("%s: %d sequential asks in the named session %s (request bytes)", m.name, cfg.dlgSeq, key)
		if m.shared, m.sharedOther, err = r.sequentialBytes(ctx, m, "s", key); err != nil {
			return err
		}
		if err := r.rawDelete(ctx, key); err != nil {
			return err
		}
	}

	// One ask, no model delay: clawgate and raw interleaved; then the same
	// ask in a named session, where clawgate has no private session to
	// create and remove (not in mode model, which refuses session_key).
	if m.name != "model" {
		m.namedKey = strings.TrimSuffix(r.keyPrefix, "subagent:clawgate-") + "dlg-" + r.dlg.run + "-" + m.name + "-named"
	}
	if m.namedKey != "" {
		logf("%s: %d asks per side, interleaved, no model delay; and as many in the named session %s", m.name, cfg.dlgN, m.namedKey)
	} else {
		logf("%s: %d asks per side, interleaved, no model delay", m.name, cfg.dlgN)
	}
	for i := range cfg.dlgN {
		msg := fmt.Sprintf("One-line subtask %d: answer OK.", i)
		raw, t, err := r.interleavedPair(ctx, i, m.name, msg)
		if err != nil {
			return err
		}
		m.lat0Raw, m.lat0MCP, m.lat0Own = append(m.lat0Raw, raw), append(m.lat0MCP, t.total), append(m.lat0Own, t.own())
		m.lat0In, m.lat0Out = append(m.lat0In, t.in), append(m.lat0Out, t.out)
		m.lat0Diff = append(m.lat0Diff, t.total-raw)
		m.replyBytes = max(m.replyBytes, t.replyBytes)
		if m.namedKey == "" {
			continue
		}
		if _, t, err = r.ask(ctx, r.askArgs(m.name, msg, m.namedKey)); err != nil {
			return err
		}
		m.namedOwn, m.namedIn, m.namedOut = append(m.namedOwn, t.own()), append(m.namedIn, t.in), append(m.namedOut, t.out)
	}
	if m.namedKey != "" {
		if err := r.rawDelete(ctx, m.namedKey); err != nil {
			return err
		}
	}

	// Parallel asks with a model delay, against one ask with the same delay.
	delay := fmt.Sprintf("[[delay=%g]]", cfg.dlgDelay.Seconds())
	logf("%s: %d rounds of one ask and of %d parallel asks per side, model delay %s", m.name, cfg.dlgRounds, cfg.dlgPar, cfg.dlgDelay)
	for i := range cfg.dlgRounds {
		msg := fmt.Sprintf("Slow one-line subtask %d: answer OK. %s", i, delay)
		raw, t, err := r.interleavedPair(ctx, i, m.name, msg)
		if err != nil {
			return err
		}
		m.lat3Raw, m.lat3MCP, m.lat3Own = append(m.lat3Raw, raw), append(m.lat3MCP, t.total), append(m.lat3Own, t.own())
		m.lat3Diff = append(m.lat3Diff, t.total-raw)
		msgs := make([]string, cfg.dlgPar)
		for j := range msgs {
			msgs[j] = fmt.Sprintf("Parallel subtask %d.%d: answer OK. %s", i, j, delay)
		}
		// The sides take turns at going first. Where clawgate removes its
		// private sessions, a third side keeps them (keep_session) and they
		// are removed after the round, untimed: the difference is what
		// the removals during the round cost.
		type side struct {
			into *samples
			run  func() (time.Duration, error)
		}
		sides := []side{
			{&m.parRaw, func() (time.Duration, error) { return r.rawParallel(ctx, m.name, msgs) }},
			{&m.parMCP, func() (time.Duration, error) { return r.askParallel(ctx, m.name, msgs, false) }},
		}
		if r.removes {
			sides = append(sides, side{&m.parKeep, func() (time.Duration, error) { return r.askParallel(ctx, m.name, msgs, true) }})
		}
		for j := range sides {
			side := sides[(i+j)%len(sides)]
			took, err := side.run()
			if err != nil {
				return err
			}
			*side.into = append(*side.into, took)
		}
	}
	if err := r.settle(ctx); err != nil {
		return err
	}
	dels, err := r.tp.waitDeletes(ctx, r.delsExpected)
	if err != nil {
		return err
	}
	m.dels = dels[m.delBefore:]
	return nil
}

// taskMessage is the one-line subtask of ask i of a sequence, with the token
// that finds its model requests in the fake model's log.
func (r *runner) taskMessage(mode, phase string, i int) string {
	return "One-line subtask: answer OK. " + r.askToken(mode, phase, i)
}

// askToken is the token of ask i of a sequence: bracketed, so that no token
// contains another.
func (r *runner) askToken(mode, phase string, i int) string {
	return fmt.Sprintf("[dlg-%s-%s-%s%02d]", r.dlg.run, mode, phase, i)
}

// sequentialBytes makes --dlg-seq asks one after the other (in private
// sessions, or in the named session key) and returns what the model was
// sent for each, from the fake model's log.
func (r *runner) sequentialBytes(ctx context.Context, m *dlgMode, phase, key string) ([]askBytes, int, error) {
	if err := r.flog.read(); err != nil {
		return nil, 0, err
	}
	mark := r.flog.mark()
	tokens := make([]string, r.cfg.dlgSeq)
	for i := range tokens {
		tokens[i] = r.askToken(m.name, phase, i+1)
		if _, _, err := r.ask(ctx, r.askArgs(m.name, r.taskMessage(m.name, phase, i+1), key)); err != nil {
			return nil, 0, err
		}
	}
	if err := r.settle(ctx); err != nil {
		return nil, 0, err
	}
	// Every request arrived before its run could answer; the log line is
	// written on arrival. Allow the other process a moment to flush it.
	var got []askBytes
	var other int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := r.flog.read(); err != nil {
			return nil, 0, err
		}
		got, other = byToken(r.flog.since(mark), tokens)
		missing := slices.IndexFunc(got, func(a askBytes) bool { return a.requests == 0 })
		if missing < 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("no model request in %s carries the token %s of ask %d", r.flog.path, tokens[missing], missing+1)
		}
	}
	return got, other, nil
}

// askArgs are ask_subagent's arguments: the message, the mode unless it is
// the default, and a named session if key is set.
func (r *runner) askArgs(mode, msg, key string) map[string]any {
	args := map[string]any{"message": msg}
	if mode != "agent" {
		args["mode"] = mode
	}
	if key != "" {
		args["session_key"] = key
	}
	return args
}

// rawParams are the agent params clawgate sends for mode in a private
// session.
func (r *runner) rawParams(mode, msg, key string) (agentParams, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return agentParams{}, err
	}
	p := agentParams{Message: msg, IdempotencyKey: id.String(), SessionKey: key, Timeout: 56}
	switch mode {
	case "agent":
		p.Label = dlgLabel
	case "light":
		p.Label, p.PromptMode, p.BootstrapContextMode = dlgLabel, "minimal", "lightweight"
	case "model":
		p.ModelRun, p.PromptMode = true, "none"
	}
	return p, nil
}

// ask makes one ask_subagent call through the tapped clawgate and returns
// its result and timing. A private session's removal is counted, to be
// waited for.
func (r *runner) ask(ctx context.Context, args map[string]any) (out askOut, t askTiming, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	start := time.Now()
	call, err := r.tapped.send("tools/call", map[string]any{"name": "ask_subagent", "arguments": args})
	if err != nil {
		return out, t, err
	}
	raw, err := r.tapped.c.Wait(ctx, call)
	end := time.Now()
	if err != nil {
		return out, t, err
	}
	res, err := mcptest.DecodeToolResult(raw)
	if err != nil {
		return out, t, err
	}
	if res.IsError {
		_, _, _ = r.tp.exchange("agent") // forget what passed the tap
		return out, t, &toolRefusal{text: res.Text()}
	}
	if err := json.Unmarshal(res.StructuredContent, &out); err != nil {
		return out, t, fmt.Errorf("ask_subagent result: %w", err)
	}
	if args["session_key"] == nil && r.removes {
		r.delsExpected++
	}
	sent, replied, err := r.tp.exchange("agent")
	if err != nil {
		return out, t, err
	}
	return out, askTiming{in: sent.Sub(start), out: end.Sub(replied), total: end.Sub(start), replyBytes: r.tp.agentReplyBytes()}, nil
}

// askParallel sends one ask_subagent call per message back to back into the
// tapped clawgate and waits until all have answered; it returns the wall
// time and then waits for the removal of their private sessions. With keep,
// the asks keep their sessions (keep_session), and they are removed after
// the wall time was taken, on the raw client.
func (r *runner) askParallel(ctx context.Context, mode string, msgs []string, keep bool) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	start := time.Now()
	calls := make([]*mcptest.Call, len(msgs))
	for i, msg := range msgs {
		args := r.askArgs(mode, msg, "")
		if keep {
			args["keep_session"] = true
		}
		var err error
		if calls[i], err = r.tapped.send("tools/call", map[string]any{"name": "ask_subagent", "arguments": args}); err != nil {
			return 0, err
		}
	}
	results := make([]json.RawMessage, len(calls))
	var errs []error
	for i, call := range calls {
		raw, err := r.tapped.c.Wait(ctx, call)
		if err == nil {
			err = toolError(raw)
		}
		results[i] = raw
		errs = append(errs, err)
	}
	took := time.Since(start)
	_, _, _ = r.tp.exchange("agent") // forget what passed the tap
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	if !keep {
		if r.removes {
			r.delsExpected += len(msgs)
		}
		return took, r.settle(ctx)
	}
	for _, raw := range results {
		res, err := mcptest.DecodeToolResult(raw)
		if err != nil {
			return 0, err
		}
		var out askOut
		if err := json.Unmarshal(res.StructuredContent, &out); err != nil {
			return 0, fmt.Errorf("ask_subagent result: %w", err)
		}
		if !out.SessionKept || !isPrivateKey(out.SessionKey) {
			return 0, fmt.Errorf("ask_subagent with keep_session: session_key %q, session_kept %v", out.SessionKey, out.SessionKept)
		}
		if err := r.rawDelete(ctx, out.SessionKey); err != nil {
			return 0, err
		}
	}
	return took, nil
}

// rawRun makes one agent run with clawgate's params for mode in a fresh
// private session on the raw client, and returns its time; then, untimed,
// it removes the session as clawgate does.
func (r *runner) rawRun(ctx context.Context, mode, msg string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	key := r.keyPrefix + randomHex(5)
	p, err := r.rawParams(mode, msg, key)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	_, err = r.raw.agent(ctx, p)
	took := time.Since(start)
	if err != nil || !r.removes {
		return took, err
	}
	return took, r.rawDelete(ctx, key)
}

// rawParallel starts one agent run per message, each in a fresh private
// session, back to back on the raw client, waits for all of them, and
// returns the wall time; then, untimed, it removes the sessions.
func (r *runner) rawParallel(ctx context.Context, mode string, msgs []string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	params := make([]agentParams, len(msgs))
	for i, msg := range msgs {
		var err error
		if params[i], err = r.rawParams(mode, msg, r.keyPrefix+randomHex(5)); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	err := r.raw.agents(ctx, params)
	took := time.Since(start)
	if err != nil || !r.removes {
		return took, err
	}
	for _, p := range params {
		if err := r.rawDelete(ctx, p.SessionKey); err != nil {
			return 0, err
		}
	}
	return took, nil
}

// rawDelete removes a session on the raw client.
func (r *runner) rawDelete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := r.raw.call(ctx, "sessions.delete", map[string]any{"key": key}); err != nil {
		return fmt.Errorf("sessions.delete %s: %w", key, err)
	}
	return nil
}

// interleavedPair makes one raw run and one ask of msg, the raw one first in
// even iterations, and returns the raw run's time and the ask's timing; it
// waits for clawgate's removal of its session before it returns.
func (r *runner) interleavedPair(ctx context.Context, i int, mode, msg string) (raw time.Duration, t askTiming, err error) {
	rawSide := func() error {
		var err error
		raw, err = r.rawRun(ctx, mode, msg)
		return err
	}
	mcpSide := func() error {
		var err error
		if _, t, err = r.ask(ctx, r.askArgs(mode, msg, "")); err != nil {
			return err
		}
		return r.settle(ctx)
	}
	if i%2 == 0 {
		err = errors.Join(rawSide(), mcpSide())
	} else {
		err = errors.Join(mcpSide(), rawSide())
	}
	return raw, t, err
}

// settle waits until clawgate has removed every private session it was
// asked to (its janitor works in the background), so that the removals do
// not fall into the next measurement.
func (r *runner) settle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := r.tp.waitDeletes(ctx, r.delsExpected)
	if err != nil {
		return fmt.Errorf("waiting for clawgate to remove its private sessions (see its log, %s): %w", r.tapped.logf.Name(), err)
	}
	return nil
}

// checkParams compares the agent params clawgate sent in the last ask (at
// the tap) with those the raw client sends for the mode.
func (r *runner) checkParams(m *dlgMode) error {
	var frame struct {
		Params map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(r.tp.agentRequest(), &frame); err != nil || frame.Params == nil {
		return fmt.Errorf("the tap saw no agent request from clawgate (%v)", err)
	}
	p, err := r.rawParams(m.name, "x", r.keyPrefix+"0000000000")
	if err != nil {
		return err
	}
	data, _ := json.Marshal(p)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	variable := map[string]bool{"message": true, "idempotencyKey": true, "sessionKey": true}
	var shown, diffs []string
	for _, k := range sortedKeys(frame.Params, raw) {
		ours, inOurs := frame.Params[k]
		theirs, inRaw := raw[k]
		switch {
		case !inOurs:
			diffs = append(diffs, "raw sends "+k+", clawgate does not")
		case !inRaw:
			diffs = append(diffs, "clawgate sends "+k+"="+string(ours)+", raw does not")
		case !variable[k] && string(ours) != string(theirs):
			diffs = append(diffs, fmt.Sprintf("%s: clawgate %s, raw %s", k, ours, theirs))
		}
		if inOurs {
			if variable[k] {
				shown = append(shown, "`"+k+"`")
			} else {
				shown = append(shown, fmt.Sprintf("`%s:%s`", k, ours))
			}
		}
	}
	m.params, m.paramsDiff = strings.Join(shown, ", "), strings.Join(diffs, "; ")
	return nil
}

// sortedKeys are the keys of both maps, sorted.
func sortedKeys(a, b map[string]json.RawMessage) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// isPrivateKey reports whether key has the shape of clawgate's private
// session keys: agent:<agent>:subagent:clawgate-<10 lowercase hex>.
func isPrivateKey(key string) bool {
	i := strings.LastIndex(key, ":subagent:clawgate-")
	if !strings.HasPrefix(key, "agent:") || i < 0 || len(key)-i-len(":subagent:clawgate-") != 10 {
		return false
	}
	_, err := hex.DecodeString(key[len(key)-10:])
	return err == nil && strings.ToLower(key) == key
}

// randomHex is n random bytes in lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
