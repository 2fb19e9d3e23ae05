package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// ToolStartSubagent is the name of the tool that starts a delegated
// subtask and returns a handle at once.
const ToolStartSubagent = "start_subagent"

// DefaultStartTimeout is a started run's wall-clock limit when the caller
// gives none: long work is what start_subagent is for.
const DefaultStartTimeout = time.Hour

var startSubagentTool = newTool(toolDef{
	name: ToolStartSubagent, title: "Start a subagent",
	description: "Start a delegated subtask like ask_subagent (the same arguments, modes, private session, model and cost) but return at once " +
		"with a run_id; collect the answer with wait_subagent, stop it with cancel_subagent, see your runs with list_subagents. " +
		"Use it for long work, or when your MCP client stops waiting for a tool call after about 60 s (Claude Desktop, Codex by default); " +
		"use ask_subagent for short work in a client that waits. The run_id stays valid after clawgate restarts (modes agent and light: " +
		"the run and its session are found again on the gateway; a mode model result lives only in the clawgate that started it). " +
		"A result nobody collects is kept for 24 hours, and its private session until then. " +
		`Example: {"message": "Review this design for security problems: ...", "mode": "light", "model": "anthropic/claude-sonnet-4-5"}.`,
	openWorld: true,
}, (*tools).startSubagent)

// StartSubagentInput is ask_subagent's input with a longer default timeout.
type StartSubagentInput struct {
	Message           string         `json:"message" jsonschema:"description=The complete task for the subagent. It sees nothing of your conversation\\, so include every fact it needs.,minLength=1,example=Summarise the three main risks in this design: ..."`
	Mode              string         `json:"mode,omitempty" jsonschema:"description=agent: the gateway's full agent (tools\\, skills\\, workspace files). light: the agent's tools with a minimal prompt and no workspace files (OpenClaw 2026.9+). model: one plain model call without tools\\, files or history\\, nothing stored: the cheapest\\, for text work (OpenClaw 2026.9+).,enum=agent,enum=light,enum=model,default=agent"`
	Model             string         `json:"model,omitempty" jsonschema:"description=Run on this model (provider/model or alias) for this run only. Use a cheaper model for simple work (see list_models for prices).,example=anthropic/claude-sonnet-4-5"`
	SessionKey        string         `json:"session_key,omitempty" jsonschema:"description=Continue this named conversation (created if absent\\, never removed by clawgate) instead of a fresh private session. Never a main session (agent:<id>:main of any agent).,example=agent:main:analysis-daily"`
	KeepSession       *bool          `json:"keep_session,omitempty" jsonschema:"description=Keep the private session after the result was collected (its key is in the result) so that it can be continued with session_key or read with read_session. Default false: it is removed."`
	OutputSchema      map[string]any `json:"output_schema,omitempty" jsonschema:"description=A JSON Schema the answer must match (see ask_subagent)."`
	TimeoutSeconds    int            `json:"timeout_seconds,omitempty" jsonschema:"description=Wall-clock limit of the run in seconds (default 3600); then it is aborted on the gateway.,minimum=1,maximum=86400,default=3600"`
	Thinking          string         `json:"thinking,omitempty" jsonschema:"description=Thinking level for this run\\, if the model supports it.,example=low"`
	AgentID           string         `json:"agent_id,omitempty" jsonschema:"description=Agent to run (default: the gateway's default agent).,example=main"`
	ExtraSystemPrompt string         `json:"extra_system_prompt,omitempty" jsonschema:"description=Extra instructions for this run (appended to the agent's system prompt; in mode model the only system prompt)."`
}

// StartSubagentOutput is the handle of a started run.
type StartSubagentOutput struct {
	RunID      string `json:"run_id" jsonschema:"description=The handle of the run: pass it to wait_subagent or cancel_subagent. Opaque; valid across clawgate restarts."`
	SessionKey string `json:"session_key" jsonschema:"description=The session the run uses."`
	Mode       string `json:"mode" jsonschema:"description=The mode it runs in.,enum=agent,enum=light,enum=model"`
	Model      string `json:"model,omitempty" jsonschema:"description=The requested model as provider/model\\, when one was asked for (the result names the one that served it).,example=anthropic/claude-sonnet-4-5"`
	Status     string `json:"status" jsonschema:"description=running.,enum=running"`
	StartedAt  string `json:"started_at" jsonschema:"description=When the gateway accepted the run (RFC 3339).,example=2026-11-28T10:00:00Z"`
}

func (t *tools) startSubagent(ctx context.Context, _ mcp.CallToolRequest, in StartSubagentInput) (StartSubagentOutput, string, error) {
	start := time.Now()
	d, err := t.planDelegation(AskSubagentInput(in))
	if err != nil {
		return StartSubagentOutput{}, "", err
	}
	timeout := DefaultStartTimeout
	if in.TimeoutSeconds > 0 {
		timeout = time.Duration(in.TimeoutSeconds) * time.Second
	}
	d.background = true
	type accepted struct{ runID, key string }
	acc := make(chan accepted, 1)
	d.onAccepted = func(runID, key string) { acc <- accepted{runID, key} }

	// The run outlives this call: its context is its own, ended by
	// cancel_subagent (or by its timeout).
	runCtx, cancel := context.WithCancel(context.Background())
	r := &bgRun{message: in.Message, cancel: cancel, done: make(chan struct{})}
	prog := &progress{send: r.publish, observe: r.observe}
	go func() {
		defer cancel()
		out, text, err := t.delegate(runCtx, &d, start, timeout, prog)
		r.mu.Lock()
		r.out, r.text, r.err, r.ended, r.interrupted, r.stopped = out, text, err, time.Now(), d.interrupted, d.stopped
		r.mu.Unlock()
		close(r.done)
	}()

	select {
	case a := <-acc:
		key := a.key
		if key == "" {
			key = d.key
		}
		r.h = runHandle{V: 1, Run: a.runID, Key: key, Mode: d.mode, Private: d.private, Keep: d.keep, Model: d.requested, Started: time.Now().UnixMilli()}
		r.handle = r.h.encode()
		if err := t.book.add(r, time.Now(), t.dropRun); err != nil {
			cancel() // aborts the run; its session is removed below
			<-r.done
			t.releaseSession(r)
			return StartSubagentOutput{}, "", err
		}
		out := StartSubagentOutput{RunID: r.handle, SessionKey: key, Mode: d.mode, Model: d.requested, Status: "running",
			StartedAt: time.UnixMilli(r.h.Started).UTC().Format(time.RFC3339)}
		return out, fmt.Sprintf("started run %s in %s (mode %s); collect it with wait_subagent", r.handle, key, d.mode), nil
	case <-r.done:
		// Refused before the gateway accepted a run.
		if r.err == nil {
			r.err = errors.New("the run ended before the gateway accepted it")
		}
		if d.private && d.mode != modeModel && d.key != "" {
			t.janitor.Remove(d.key)
		}
		return StartSubagentOutput{}, "", r.err
	case <-ctx.Done():
		cancel() // the caller gave up before the run was accepted: stop it
		go func() {
			<-r.done
			if d.private && d.mode != modeModel && d.key != "" {
				t.janitor.RemoveInterrupted(d.key)
			}
		}()
		return StartSubagentOutput{}, "", ctx.Err()
	}
}

// releaseSession removes the private session of a run that is over and
// whose result is collected, cancelled or dropped, unless it is kept.
func (t *tools) releaseSession(r *bgRun) {
	if !r.h.Private || r.h.Keep || r.h.Mode == modeModel {
		return
	}
	r.mu.Lock()
	interrupted := r.interrupted || r.cancelled
	r.mu.Unlock()
	if interrupted {
		t.janitor.RemoveInterrupted(r.h.Key)
	} else {
		t.janitor.Remove(r.h.Key)
	}
}

// dropRun is called for a result nobody collected in resultTTL.
func (t *tools) dropRun(r *bgRun) {
	t.log.Warn("dropping a subagent result nobody collected", "run", r.h.Run, "session", r.h.Key, "after", resultTTL)
	t.releaseSession(r)
}

// preview is the start of a task for list_subagents.
func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}
