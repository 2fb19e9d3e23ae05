package tools

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/jsonanswer"
	"github.com/clawgate/clawgate/internal/prose"
	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// Delegation: how ask_subagent turns its arguments into gateway runs — the
// mode, the session (a private one per call, or a named one), the model of
// the run, the run itself and what it reports.

// Modes of ask_subagent.
const (
	modeAgent = "agent" // the gateway's full agent
	modeLight = "light" // the agent's tools, a minimal prompt, no workspace files
	modeModel = "model" // one plain model call: no tools, files, history; nothing stored
)

// privateSessionPrefix starts the name of every private session clawgate
// creates, under its agent: agent:<agent>:subagent:clawgate-<10 hex>.
const privateSessionPrefix = "subagent:clawgate-"

// privateSessionLabel is the label of the runs in private sessions, so that
// a person looking at the gateway's sessions sees where they come from.
const privateSessionLabel = "clawgate subagent"

// IsPrivateSession reports whether key names a private session of
// ask_subagent: agent:<agent>:subagent:clawgate-<10 lowercase hex>. The key
// decides, not the label ("clawgate subagent"), which anyone may give any
// session.
func IsPrivateSession(key string) bool {
	parts := strings.SplitN(key, ":", 3)
	if len(parts) != 3 || parts[0] != "agent" || parts[1] == "" || !strings.HasPrefix(parts[2], privateSessionPrefix) {
		return false
	}
	id := strings.TrimPrefix(parts[2], privateSessionPrefix)
	if len(id) != 10 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newPrivateSessionKey returns a fresh private session key of agent.
func newPrivateSessionKey(agent string) (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate a private session key: %w", err)
	}
	return "agent:" + agent + ":" + privateSessionPrefix + hex.EncodeToString(b[:]), nil
}

// delegation is one ask_subagent call, planned: what it runs, where and on
// which model.
type delegation struct {
	in        AskSubagentInput
	mode      string
	schema    *jsonanswer.Schema // output_schema, compiled; nil without
	key       string             // the session of the run(s)
	private   bool               // key is a private session clawgate created
	keep      bool               // keep the private session
	requested string             // the requested model, resolved to provider/model
	runModel  string             // the model sent with the run (protocol 4)
	// patchModel: the model is set on the session before the run (a
	// gateway without a model per run).
	patchModel bool
	// lane is the gateway lane of private runs (Capabilities.SubagentLane).
	lane string
	// interrupted: a run was cancelled or timed out and may still be
	// ending on the gateway; stopped: the gateway confirmed it stopped.
	interrupted, stopped bool
	warnings             []string
	// background: a start_subagent run. Its private session stays until
	// the result is collected, and the run is left going on the gateway
	// when clawgate exits (a new clawgate can collect it).
	background bool
	// onAccepted is called when the gateway accepted the (first) run.
	onAccepted func(runID, sessionKey string)
}

// tool names the tool the delegation serves, for messages.
func (d *delegation) tool() string {
	if d.background {
		return "the run"
	}
	return ToolAskSubagent
}

// kept reports whether the session of the run still exists after the call.
func (d *delegation) kept() bool { return !d.private || (d.keep && d.mode != modeModel) }

// planDelegation checks the arguments that need no gateway.
func (t *tools) planDelegation(in AskSubagentInput) (delegation, error) {
	d := delegation{in: in, mode: strings.TrimSpace(in.Mode)}
	if strings.TrimSpace(in.Message) == "" {
		return d, errMessageEmpty
	}
	if d.mode == "" {
		d.mode = modeAgent
	}
	if d.mode != modeAgent && d.mode != modeLight && d.mode != modeModel {
		return d, fmt.Errorf("mode must be \"agent\", \"light\" or \"model\" (got %q)", in.Mode)
	}
	if in.OutputSchema != nil {
		raw, err := json.Marshal(in.OutputSchema)
		if err != nil {
			return d, fmt.Errorf("output_schema could not be read: %w", err)
		}
		if d.schema, err = jsonanswer.Compile(raw); err != nil {
			return d, err
		}
	}
	named := strings.TrimSpace(in.SessionKey) != ""
	d.keep = in.KeepSession != nil && *in.KeepSession
	switch {
	case d.mode == modeModel && named:
		return d, errors.New(`mode "model" keeps no history, so it cannot continue session_key; use mode "agent" or "light" to continue a named session, or leave session_key out`)
	case d.mode == modeModel && d.keep:
		return d, errors.New(`mode "model" stores no session, so there is nothing to keep: leave keep_session out, or use mode "agent" or "light" to keep the session`)
	case named && in.KeepSession != nil && !*in.KeepSession:
		return d, errors.New("keep_session false cannot remove a named session: clawgate never removes a session_key it was given. Leave keep_session out (or leave session_key out for a private session that is removed)")
	}
	if named {
		d.key = strings.TrimSpace(in.SessionKey)
	} else {
		d.private = true
	}
	return d, nil
}

// prepareDelegation settles what needs the gateway: the mode's support, the
// session key, and the model.
func (t *tools) prepareDelegation(ctx context.Context, d *delegation, info *gateway.Info) error {
	var err error
	caps := info.Capabilities()
	if d.private && caps.SubagentLane {
		// Independent subtasks: the subagent lane runs 8 at once, the
		// main lane 4 (Clawdbot).
		d.lane = "subagent"
	}
	if modes := supportedModes(caps); !contains(modes, d.mode) {
		return fmt.Errorf("mode %q is not available on this gateway (%s, protocol %d): it supports %s. "+
			"Use mode \"agent\", or an OpenClaw 2026.9 (or later) gateway for modes \"light\" and \"model\"",
			d.mode, info.Product(), info.Protocol, quoteList(modes))
	}
	agent := strings.TrimSpace(d.in.AgentID)
	if agent == "" {
		agent = info.DefaultAgentID
	}
	if agent == "" {
		agent = "main"
	}
	if d.private {
		if d.key, err = newPrivateSessionKey(strings.ToLower(agent)); err != nil {
			return err
		}
	} else if !t.cfg.AllowMainSession && isMainSession(d.key, info) {
		return fmt.Errorf("session %q is the gateway's main session; a run there waits behind the main session's own turn, "+
			"which deadlocks when that turn is the one calling this tool. Leave session_key empty for a fresh private session "+
			"(or start clawgate with --allow-main-session)", d.key)
	}

	model := strings.TrimSpace(d.in.Model)
	if model == "" && len(t.cfg.AllowModels) > 0 {
		def, ok := t.cfg.AllowModels.Default()
		if !ok {
			return fmt.Errorf("this clawgate only allows models matching %s: pass model (see list_models)", t.cfg.AllowModels)
		}
		model = def
	}
	if model == "" {
		return nil
	}
	if d.requested, err = t.checkPolicy(ctx, model); err != nil {
		return err
	}
	if caps.RunModel {
		d.runModel = d.requested
	} else {
		d.patchModel = true
	}
	return nil
}

// setRunModelOnSession sets the requested model on the run's session, for a
// gateway that cannot take a model per run (Clawdbot). On a private session
// nobody else sees it; a named session keeps it, and the result says so.
func (t *tools) setRunModelOnSession(ctx context.Context, d *delegation) error {
	model := d.requested
	resolved, canonical, err := t.setModel(ctx, d.key, &model)
	if err != nil {
		return err
	}
	if resolved != nil {
		d.requested = *resolved
	}
	if canonical != "" && !d.private {
		d.key = canonical
	}
	if !d.private {
		d.warnings = append(d.warnings, fmt.Sprintf("the stored model of session %s is now %s: this gateway cannot choose a model for one run, "+
			"so later runs in that session use it too until it is changed (patch_session_model)", d.key, d.requested))
	}
	return nil
}

// supportedModes lists the modes a gateway can run.
func supportedModes(c gateway.Capabilities) []string {
	modes := []string{modeAgent}
	if c.PromptModes {
		modes = append(modes, modeLight)
	}
	if c.ModelRun {
		modes = append(modes, modeModel)
	}
	return modes
}

// runResult is what one or more runs of a call produced.
type runResult struct {
	text, runID, status string
	model, provider     string
	usage               UsageOut
	elapsed             time.Duration
}

// then combines r with a later run of the same call: the later run's answer,
// the sum of the usage (the cost only if both runs report one).
func (r runResult) then(next runResult) runResult {
	u := UsageOut{
		Input: r.usage.Input + next.usage.Input, Output: r.usage.Output + next.usage.Output,
		CacheRead: r.usage.CacheRead + next.usage.CacheRead, CacheWrite: r.usage.CacheWrite + next.usage.CacheWrite,
		Total: r.usage.Total + next.usage.Total,
	}
	if r.usage.CostUSD != nil && next.usage.CostUSD != nil {
		c := *r.usage.CostUSD + *next.usage.CostUSD
		u.CostUSD = &c
	}
	next.usage, next.elapsed = u, r.elapsed+next.elapsed
	return next
}

// runOnce runs message in the delegation's session and mode and waits for
// the answer. ctx is the tool call's, runCtx bounds it by timeout_seconds.
func (t *tools) runOnce(ctx, runCtx context.Context, d *delegation, message string, start time.Time, timeout time.Duration, prog *progress) (runResult, error) {
	req := gateway.AgentRequest{
		Message: message, SessionKey: d.key, AgentID: d.in.AgentID, Thinking: d.in.Thinking,
		ExtraSystemPrompt: d.in.ExtraSystemPrompt, Model: d.runModel, AbortWait: abortBudget,
		// The gateway's own timeout is a backstop for when clawgate is gone:
		// a second later than clawgate's, so clawgate's comes first.
		Timeout: time.Until(start.Add(timeout)) + time.Second,
	}
	switch d.mode {
	case modeLight:
		req.PromptMode, req.BootstrapContextMode = schema.PromptModeMinimal, schema.BootstrapLightweight
	case modeModel:
		req.ModelRun, req.PromptMode = true, schema.PromptModeNone
	}
	if d.private && d.mode != modeModel {
		req.Label = privateSessionLabel
	}
	req.Lane = d.lane
	if d.background {
		req.Detached = true
		req.OnAccepted, d.onAccepted = d.onAccepted, nil // the first run only
	}
	if d.mode == modeModel {
		// A bare model call sends no events: say when it starts and ends.
		prog.note("model call started")
		defer prog.note("model call finished")
	}
	run, err := t.gw.Agent(runCtx, req, prog.onEvent)
	if err != nil {
		var re *gateway.RunError
		if errors.As(err, &re) && (ctx.Err() != nil || errors.Is(err, gateway.ErrRunTimeout) || runCtx.Err() != nil) {
			d.interrupted, d.stopped = true, re.Aborted
			note := abortNote(re)
			if !re.Aborted && errors.Is(re.AbortErr, gateway.ErrAbortUnsupported) && d.private && t.stopByRemoving(d.key) {
				note = "the run was stopped on the gateway by removing its private session (this gateway cannot abort a run otherwise)"
				d.stopped = true
			}
			if ctx.Err() != nil {
				return runResult{}, fmt.Errorf("%s was cancelled after %s; run %s: %s",
					d.tool(), time.Since(start).Round(time.Millisecond), re.RunID, note)
			}
			return runResult{}, fmt.Errorf("%s timed out after %s (timeout_seconds %d); run %s: %s",
				d.tool(), time.Since(start).Round(time.Millisecond), int(timeout/time.Second), re.RunID, note)
		}
		if runCtx.Err() != nil && ctx.Err() == nil {
			return runResult{}, fmt.Errorf("%s timed out after %s (timeout_seconds %d) while starting the run; no run was started: %s",
				d.tool(), time.Since(start).Round(time.Millisecond), int(timeout/time.Second), Explain(err))
		}
		return runResult{}, err
	}
	r := run.Reply
	res := runResult{text: safetext.Text(r.Text()), runID: safetext.Line(run.RunID), status: safetext.Line(r.Status), elapsed: run.Elapsed}
	if r.Result != nil {
		if am := r.Result.Meta.AgentMeta; am != nil {
			res.model, res.provider = safetext.Line(schema.ModelRef(am.Provider, am.Model)), safetext.Line(am.Provider)
			if u := am.Usage; u != nil {
				res.usage = UsageOut{Input: u.Input.Count(), Output: u.Output.Count(), CacheRead: u.CacheRead.Count(),
					CacheWrite: u.CacheWrite.Count(), Total: u.Total.Count()}
			}
			// costUsd is absent for a model without a price, whose
			// usage.cost.total is a bare 0: that is no cost reported.
			switch u := am.Usage; {
			case am.CostUSD != nil:
				res.usage.CostUSD = am.CostUSD
			case u != nil && u.Cost != nil && u.Cost.Total != nil && *u.Cost.Total > 0:
				res.usage.CostUSD = u.Cost.Total
			}
		}
	}
	switch {
	case r.TimedOut(timeout, run.Elapsed):
		return res, fmt.Errorf("%s timed out after %s (timeout_seconds %d); run %s was stopped on the gateway",
			d.tool(), time.Since(start).Round(time.Millisecond), int(timeout/time.Second), run.RunID)
	case r.Aborted():
		return res, fmt.Errorf("run %s was aborted on the gateway after %s", run.RunID, run.Elapsed.Round(time.Millisecond))
	case r.Status == schema.RunOK:
	case r.Status == schema.RunInFlight:
		return res, fmt.Errorf("run %s is already in flight on the gateway", run.RunID)
	default:
		return res, fmt.Errorf("run %s ended with status %q: %s", res.runID, res.status, safetext.Text(r.Summary))
	}
	return res, nil
}

// stopByRemoving deletes a private session to stop its run on a gateway
// that cannot abort runs (Clawdbot: sessions.delete aborts the session's
// run), within the abort budget, and reports whether it was deleted.
func (t *tools) stopByRemoving(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), abortBudget)
	defer cancel()
	res, err := t.gw.SessionsDelete(ctx, key)
	return err == nil && res.Deleted
}

// modelWarnings compares the model that served the run with the one asked
// for and with --allow-model.
func (t *tools) modelWarnings(d *delegation, res runResult) []string {
	var w []string
	if res.model == "" {
		return nil
	}
	if d.requested != "" && !strings.EqualFold(res.model, d.requested) {
		w = append(w, fmt.Sprintf("%s served this run, not the requested %s (a fallback, or a model override on the gateway)", res.model, d.requested))
	}
	if len(t.cfg.AllowModels) > 0 && !t.cfg.AllowModels.Allows(res.model) {
		w = append(w, fmt.Sprintf("%s served this run, and this clawgate does not allow it (--allow-model %s)", res.model, t.cfg.AllowModels))
	}
	return w
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// quoteList joins quoted names: "a", "b" and "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return "mode " + q[0] + " only"
	}
	return "modes " + prose.And(q)
}

func abortNote(re *gateway.RunError) string {
	var te *gateway.TimeoutError
	switch {
	case re.Aborted:
		return "the run was aborted on the gateway"
	case errors.Is(re.AbortErr, gateway.ErrAbortUnsupported):
		return "Clawdbot (protocol 3) cannot abort agent runs, so the run may go on on the gateway until it finishes or hits its own timeout"
	case errors.Is(re.AbortErr, context.DeadlineExceeded) || errors.As(re.AbortErr, &te):
		return "an abort was sent, but the gateway did not confirm it in time; the run may still be going on there"
	case re.AbortErr != nil:
		return "it could not be aborted: " + Explain(re.AbortErr)
	}
	return "it was not aborted"
}

// isMainSession reports whether key names a main session: the gateway's
// (canonical or short form) or any other agent's (agent:<id>:<main key>),
// since a run there waits behind that agent's own turn just the same.
func isMainSession(key string, info *gateway.Info) bool {
	k := strings.ToLower(strings.TrimSpace(key))
	mainSession, mainKey := "agent:main:main", "main"
	if info.MainSessionKey != "" {
		mainSession = strings.ToLower(info.MainSessionKey)
		if parts := strings.SplitN(mainSession, ":", 3); len(parts) == 3 && parts[0] == "agent" {
			mainKey = parts[2]
		}
	}
	if k == mainSession || k == mainKey {
		return true
	}
	parts := strings.SplitN(k, ":", 3)
	return len(parts) == 3 && parts[0] == "agent" && parts[2] == mainKey
}
