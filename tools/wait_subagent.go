package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// ToolWaitSubagent is the name of the tool that waits for a started run.
const ToolWaitSubagent = "wait_subagent"

// Bounds of wait_subagent's wait_seconds: at most 55 s, so that a client
// that stops waiting for a tool call after 60 s never cuts it off.
const (
	defaultWait = 30 * time.Second
	maxWait     = 55 * time.Second
)

var waitSubagentTool = newTool(toolDef{
	name: ToolWaitSubagent, title: "Wait for a subagent",
	description: "Wait up to wait_seconds for a run started with start_subagent. If it has finished, returns what ask_subagent would have " +
		"returned (text, json, usage with cost, model, warnings) and the run is collected (its private session removed unless kept); " +
		`if not, {"status": "running", "elapsed_ms", "progress"}: call it again. Works after clawgate restarted for modes agent and light. ` +
		`Example: {"run_id": "sa_eyJ2Ijox…", "wait_seconds": 30}.`,
	readOnly: true, hideReadOnly: true,
}, (*tools).waitSubagent)

// WaitSubagentInput names the run to wait for.
type WaitSubagentInput struct {
	RunID       string `json:"run_id" jsonschema:"description=The run_id start_subagent returned.,minLength=1"`
	WaitSeconds *int   `json:"wait_seconds,omitempty" jsonschema:"description=How long to wait for the run to finish (0: just look). At most 55\\, so that a 60 s tool-call limit is never hit.,minimum=0,maximum=55,default=30"`
}

// WaitSubagentOutput is a running run's state, or a finished run's result.
type WaitSubagentOutput struct {
	RunID     string       `json:"run_id" jsonschema:"description=The run's handle."`
	Status    string       `json:"status" jsonschema:"description=running while it goes on; else the gateway's final status (ok).,example=ok"`
	ElapsedMs int64        `json:"elapsed_ms" jsonschema:"description=Time since the run started in milliseconds."`
	Progress  *RunProgress `json:"progress,omitempty" jsonschema:"description=What the running subagent is doing (this clawgate's runs only)."`
	// The finished run's result, as ask_subagent returns it.
	Text           string     `json:"text,omitempty" jsonschema:"description=The final answer."`
	JSON           AnswerJSON `json:"json,omitempty"`
	GatewayRunID   string     `json:"gateway_run_id,omitempty" jsonschema:"description=The gateway's run id."`
	Mode           string     `json:"mode,omitempty" jsonschema:"description=The mode the run ran in.,enum=agent,enum=light,enum=model"`
	SessionKey     string     `json:"session_key,omitempty" jsonschema:"description=The session the run used."`
	SessionKept    *bool      `json:"session_kept,omitempty" jsonschema:"description=Whether that session still exists after this result was collected."`
	Model          string     `json:"model,omitempty" jsonschema:"description=Model that served the run\\, provider/model.,example=anthropic/claude-sonnet-4-5"`
	Provider       string     `json:"provider,omitempty" jsonschema:"description=Provider that served the run."`
	RequestedModel string     `json:"requested_model,omitempty" jsonschema:"description=The model asked for."`
	Usage          *UsageOut  `json:"usage,omitempty" jsonschema:"description=Tokens and cost of the run."`
	DurationMs     int64      `json:"duration_ms,omitempty" jsonschema:"description=Wall time of the run(s) in milliseconds."`
	Warnings       []string   `json:"warnings,omitempty" jsonschema:"description=As in ask_subagent."`
	Note           string     `json:"note,omitempty" jsonschema:"description=How the result was found when this clawgate did not start the run (after a restart)."`
}

// JSONSchemaExtend describes json (see AskSubagentOutput.JSONSchemaExtend).
func (WaitSubagentOutput) JSONSchemaExtend(s *jsonschema.Schema) {
	if p, ok := s.Properties.Get("json"); ok {
		p.Description = "With output_schema: the answer as JSON, validated against it."
	}
}

func (t *tools) waitSubagent(ctx context.Context, req mcp.CallToolRequest, in WaitSubagentInput) (WaitSubagentOutput, string, error) {
	h, err := decodeHandle(in.RunID)
	if err != nil {
		return WaitSubagentOutput{}, "", err
	}
	wait := defaultWait
	if in.WaitSeconds != nil {
		wait = time.Duration(*in.WaitSeconds) * time.Second
	}
	if wait > maxWait {
		wait = maxWait
	}
	r := t.book.get(h)
	if r == nil {
		return t.waitElsewhere(ctx, req, h, wait)
	}
	if m := req.Params.Meta; m != nil && m.ProgressToken != nil {
		defer r.listen(notifier(ctx, m.ProgressToken))()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-r.done:
	case <-timer.C:
	case <-ctx.Done():
		return WaitSubagentOutput{}, "", ctx.Err()
	}
	if !r.finished() {
		r.mu.Lock()
		p := r.progress
		r.mu.Unlock()
		out := WaitSubagentOutput{RunID: r.handle, Status: "running", ElapsedMs: sinceMs(h.Started), Progress: &p}
		return out, runningText(out), nil
	}
	return t.collect(r)
}

// collect returns a finished run's result and, the first time, releases its
// private session.
func (t *tools) collect(r *bgRun) (WaitSubagentOutput, string, error) {
	r.mu.Lock()
	first := r.collected.IsZero()
	if first {
		r.collected = time.Now()
	}
	res, text, err := r.out, r.text, r.err
	r.mu.Unlock()
	if first {
		t.releaseSession(r)
	}
	if err != nil {
		return WaitSubagentOutput{}, "", err
	}
	kept := res.SessionKept
	out := WaitSubagentOutput{
		RunID: r.handle, Status: res.Status, ElapsedMs: sinceMs(r.h.Started), Text: res.Text, JSON: res.JSON,
		GatewayRunID: res.RunID, Mode: res.Mode, SessionKey: res.SessionKey, SessionKept: &kept, Model: res.Model,
		Provider: res.Provider, RequestedModel: res.RequestedModel, Usage: &res.Usage, DurationMs: res.DurationMs, Warnings: res.Warnings,
	}
	return out, text, nil
}

// waitElsewhere waits for a run this process did not start (clawgate was
// restarted since): agent.wait on the gateway, then the answer from the
// session's transcript.
func (t *tools) waitElsewhere(ctx context.Context, req mcp.CallToolRequest, h runHandle, wait time.Duration) (WaitSubagentOutput, string, error) {
	handle := h.encode()
	if h.Mode == modeModel {
		return WaitSubagentOutput{}, "", fmt.Errorf("run %s was a mode \"model\" run started by another clawgate process (clawgate has restarted since): "+
			"a model run's only result is the reply to that process, so it is gone. Start the subtask again", handle)
	}
	var send func(string)
	if m := req.Params.Meta; m != nil && m.ProgressToken != nil {
		send = notifier(ctx, m.ProgressToken)
		send("waiting for the run on the gateway (started by an earlier clawgate process)")
	}
	res, err := t.gw.AgentWait(ctx, h.Run, wait)
	status := ""
	if err == nil {
		status = res.Status
	} else if ge, ok := gateway.AsError(err); !ok || !strings.Contains(strings.ToLower(ge.Message), "not found") {
		return WaitSubagentOutput{}, "", err
	}
	// The transcript decides when the gateway does not know the run (any
	// more): Clawdbot only remembers runs that ended after the first
	// agent.wait since it started, and for 10 minutes.
	answer, found, exists, herr := t.answerFromHistory(ctx, h)
	if !found && status != schema.RunOK && status != schema.RunError {
		// agent.wait answers "timeout" for a run it never knew, too: the
		// session tells a run that goes on from one nobody can collect.
		if herr != nil {
			return WaitSubagentOutput{}, "", herr
		}
		if !exists {
			return WaitSubagentOutput{}, "", fmt.Errorf("run %s is not known to the gateway and its session %s does not exist: "+
				"its result was already collected or it was cancelled, the gateway's state was reset, or this run_id is not from "+
				"start_subagent on this gateway. Start the subtask again", handle, h.Key)
		}
	}
	switch {
	case status == schema.RunOK || status == schema.RunError || (found && status != "pending"):
		if herr != nil {
			return WaitSubagentOutput{}, "", fmt.Errorf("run %s has finished, but its answer could not be read from session %s: %w", handle, h.Key, herr)
		}
		if !found {
			if res != nil && res.Error != "" {
				return WaitSubagentOutput{}, "", fmt.Errorf("run %s ended with an error on the gateway: %s", handle, safetext.Line(res.Error))
			}
			return WaitSubagentOutput{}, "", fmt.Errorf("run %s has finished, but session %s holds no answer from it (was the session removed?)", handle, h.Key)
		}
		if h.Private && !h.Keep {
			// Seen from another process, the run's end (agent.wait) may
			// come before the gateway's last write of the session:
			// Clawdbot writes it again after a delete then, like after an
			// aborted run, so it is deleted until it is gone.
			t.janitor.RemoveInterrupted(h.Key)
		}
		kept := !h.Private || h.Keep
		answer.RunID, answer.SessionKey, answer.SessionKept = handle, h.Key, &kept
		answer.GatewayRunID, answer.Mode, answer.RequestedModel = h.Run, h.Mode, h.Model
		answer.ElapsedMs = sinceMs(h.Started)
		answer.Status = schema.RunOK
		if status == schema.RunError {
			answer.Status = schema.RunError
		}
		answer.Note = "collected by a clawgate process that did not start the run: the answer and usage come from the session's transcript; an output_schema is not checked again"
		return answer, answer.Text, nil
	case err != nil:
		return WaitSubagentOutput{}, "", fmt.Errorf("the gateway does not know run %s (it may have restarted, or forgotten a run that ended long ago), and session %s holds no answer from it", handle, h.Key)
	}
	out := WaitSubagentOutput{RunID: handle, Status: "running", ElapsedMs: sinceMs(h.Started),
		Note: "started by an earlier clawgate process: its progress is not known here"}
	return out, runningText(out), nil
}

// historyText joins the text parts of a message's content.
func historyText(m schema.HistoryMessage) string {
	var out []string
	for _, p := range m.Parts() {
		if p.Type == "text" && strings.TrimSpace(p.Text) != "" {
			out = append(out, p.Text)
		}
	}
	return strings.Join(out, "\n\n")
}

// answerFromHistory reads the run's answer from its session's transcript:
// the assistant messages of the run (OpenClaw marks them with the run id;
// on Clawdbot, those after the run started).
func (t *tools) answerFromHistory(ctx context.Context, h runHandle) (out WaitSubagentOutput, found, exists bool, err error) {
	hist, err := t.gw.ChatHistory(ctx, h.Key, 50)
	if err != nil {
		return out, false, false, err
	}
	exists = hist.SessionID != "" // both gateways leave it out for a session that does not exist
	var texts []string
	var u UsageOut
	var cost float64
	for _, raw := range hist.Messages {
		m, ok := schema.DecodeHistoryMessage(raw)
		if !ok || m.Role != "assistant" {
			continue
		}
		if m.OpenClaw != nil && m.OpenClaw.RunID != "" {
			if m.OpenClaw.RunID != h.Run {
				continue
			}
		} else if int64(m.Timestamp) < h.Started-5000 { // clock skew margin
			continue
		}
		found = true
		if tx := historyText(m); tx != "" {
			texts = append(texts, tx)
		}
		if m.Model != "" {
			out.Model, out.Provider = safetext.Line(schema.ModelRef(m.Provider, m.Model)), safetext.Line(m.Provider)
		}
		if m.Usage != nil {
			u.Input += m.Usage.Input.Count()
			u.Output += m.Usage.Output.Count()
			u.CacheRead += m.Usage.CacheRead.Count()
			u.CacheWrite += m.Usage.CacheWrite.Count()
			u.Total += m.Usage.TotalTokens.Count()
			if m.Usage.CostTotal != nil {
				cost += *m.Usage.CostTotal
			}
		}
	}
	if cost > 0 {
		u.CostUSD = &cost
	}
	out.Text = safetext.Text(strings.Join(texts, "\n\n"))
	out.Usage = &u
	return out, found, exists, nil
}

// sinceMs is the time since a Unix-millisecond instant, in milliseconds.
func sinceMs(startedMs int64) int64 { return time.Now().UnixMilli() - startedMs }

// runningText is the text of a running run's state.
func runningText(out WaitSubagentOutput) string {
	s := fmt.Sprintf("run %s is still running after %s", out.RunID, (time.Duration(out.ElapsedMs) * time.Millisecond).Round(time.Second))
	if p := out.Progress; p != nil {
		if p.ToolCalls > 0 {
			s += fmt.Sprintf("; %d tool calls, last %s", p.ToolCalls, p.LastTool)
		}
		if p.LastText != "" {
			s += "; writing: " + p.LastText
		}
	}
	return s + ". Call wait_subagent again."
}
