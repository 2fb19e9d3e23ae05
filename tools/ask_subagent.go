package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// ToolAskSubagent is the name of the tool that delegates a subtask to a
// gateway agent run.
const ToolAskSubagent = "ask_subagent"

var askSubagentTool = newTool(toolDef{
	name: ToolAskSubagent, title: "Ask a subagent",
	description: "Delegate a self-contained subtask to a gateway agent run and return its final answer, optionally on a cheaper model. " +
		"The subagent does not see your conversation: the message must contain everything it needs. Runs in a dedicated session " +
		"(default agent:<agent>:subagent), reports progress while it runs, and is aborted on the gateway when cancelled or after timeout_seconds. " +
		`Example: {"message": "List three risks of storing tokens in plain JSON files.", "model": "anthropic/claude-sonnet-4-5", "timeout_seconds": 120}.`,
	openWorld: true,
}, (*tools).askSubagent)

// AskSubagentInput describes a delegated subtask.
type AskSubagentInput struct {
	Message           string `json:"message" jsonschema:"description=The complete task for the subagent. It sees nothing of your conversation\\, so include every fact it needs.,minLength=1,example=Summarise the three main risks in this design: ..."`
	SessionKey        string `json:"session_key,omitempty" jsonschema:"description=Session to run in (default: a dedicated agent:<agent>:subagent session). Never a main session (agent:<id>:main of any agent).,example=agent:main:subagent"`
	Model             string `json:"model,omitempty" jsonschema:"description=Run on this model (provider/model or alias); it is set on the session before the run. Use a cheaper model for simple work.,example=anthropic/claude-sonnet-4-5"`
	TimeoutSeconds    int    `json:"timeout_seconds,omitempty" jsonschema:"description=Wall-clock limit of this call in seconds (default: clawgate's --timeout\\, 55 unless set). When it passes the run is aborted and the call returns an error within one more second. Many MCP clients stop waiting for a tool call after 60 s: raise it only if yours waits longer.,minimum=1,maximum=86400,default=55"`
	Thinking          string `json:"thinking,omitempty" jsonschema:"description=Thinking level for this run\\, if the model supports it.,example=low"`
	AgentID           string `json:"agent_id,omitempty" jsonschema:"description=Agent to run (default: the gateway's default agent).,example=main"`
	ExtraSystemPrompt string `json:"extra_system_prompt,omitempty" jsonschema:"description=Extra instructions appended to the agent's system prompt for this run."`
}

// AskSubagentOutput is the subagent's final answer.
type AskSubagentOutput struct {
	Text       string   `json:"text" jsonschema:"description=The final answer: all reply texts joined."`
	RunID      string   `json:"run_id" jsonschema:"description=Gateway run id."`
	Status     string   `json:"status" jsonschema:"description=Run status reported by the gateway (ok).,example=ok"`
	SessionKey string   `json:"session_key" jsonschema:"description=Session the run used."`
	Model      string   `json:"model,omitempty" jsonschema:"description=Model that served the run as provider/model.,example=anthropic/claude-sonnet-4-5"`
	Provider   string   `json:"provider,omitempty" jsonschema:"description=Provider that served the run.,example=anthropic"`
	Usage      UsageOut `json:"usage" jsonschema:"description=Tokens the run used."`
	DurationMs int64    `json:"duration_ms" jsonschema:"description=Wall time of the run in milliseconds."`
}

// UsageOut counts the tokens of a run.
type UsageOut struct {
	Input  int64 `json:"input"`
	Output int64 `json:"output"`
	Total  int64 `json:"total"`
}

// subagentSessionName is the session ask_subagent uses by default, under
// the agent: agent:<agent>:subagent.
const subagentSessionName = "subagent"

// abortBudget is the part of the caller's +1 s allowance that ask_subagent
// waits for the gateway to confirm an abort after timeout_seconds.
const abortBudget = 500 * time.Millisecond

func (t *tools) askSubagent(ctx context.Context, req mcp.CallToolRequest, in AskSubagentInput) (AskSubagentOutput, string, error) {
	var out AskSubagentOutput
	start := time.Now()
	if strings.TrimSpace(in.Message) == "" {
		return out, "", errors.New("message must not be empty: write the complete task for the subagent")
	}
	timeout := t.cfg.DefaultTimeout
	if in.TimeoutSeconds > 0 {
		timeout = time.Duration(in.TimeoutSeconds) * time.Second
	}
	// timeout_seconds bounds the whole tool call by the wall clock:
	// connecting, setting the model and the run itself.
	runCtx, cancel := context.WithDeadline(ctx, start.Add(timeout))
	defer cancel()
	timedOut := func(phase string, err error) error {
		if runCtx.Err() == nil || ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("ask_subagent timed out after %s (timeout_seconds %d) %s; no run was started: %s",
			time.Since(start).Round(time.Millisecond), int(timeout/time.Second), phase, Explain(err))
	}

	info, err := t.gw.Info(runCtx)
	if err != nil {
		if te := timedOut("while connecting to the gateway", err); te != nil {
			return out, "", te
		}
		return out, "", err
	}
	agent := strings.TrimSpace(in.AgentID)
	if agent == "" {
		agent = info.DefaultAgentID
	}
	if agent == "" {
		agent = "main"
	}
	key := strings.TrimSpace(in.SessionKey)
	if key == "" {
		key = "agent:" + agent + ":" + subagentSessionName
	}
	if !t.cfg.AllowMainSession && isMainSession(key, info) {
		if parts := strings.SplitN(strings.TrimSpace(key), ":", 3); len(parts) == 3 && strings.TrimSpace(in.AgentID) == "" {
			agent = strings.ToLower(parts[1]) // suggest that agent's own subagent session
		}
		return out, "", fmt.Errorf("session %q is the gateway's main session; a run there waits behind the main session's own turn, "+
			"which deadlocks when that turn is the one calling this tool. Leave session_key empty to use agent:%s:%s "+
			"(or start clawgate with --allow-main-session)", key, agent, subagentSessionName)
	}

	model := strings.TrimSpace(in.Model)
	if model == "" && len(t.cfg.AllowModels) > 0 {
		def, ok := t.cfg.AllowModels.Default()
		if !ok {
			return out, "", fmt.Errorf("this clawgate only allows models matching %s: pass model (see list_models)", t.cfg.AllowModels)
		}
		model = def
	}
	if model != "" {
		if _, _, err := t.setModel(runCtx, key, &model); err != nil {
			if te := timedOut("while setting the model", err); te != nil {
				return out, "", te
			}
			return out, "", err
		}
	}

	prog := newProgress(ctx, req)
	run, err := t.gw.Agent(runCtx, gateway.AgentRequest{
		Message: in.Message, SessionKey: key, AgentID: in.AgentID, Thinking: in.Thinking,
		ExtraSystemPrompt: in.ExtraSystemPrompt, AbortWait: abortBudget,
		// The gateway's own timeout is a backstop for when clawgate is gone:
		// a second later than clawgate's, so clawgate's comes first.
		Timeout: time.Until(start.Add(timeout)) + time.Second,
	}, prog.onEvent)
	if err != nil {
		var re *gateway.RunError
		if errors.As(err, &re) && ctx.Err() != nil {
			return out, "", fmt.Errorf("ask_subagent was cancelled after %s; run %s: %s",
				time.Since(start).Round(time.Millisecond), re.RunID, abortNote(re))
		}
		if errors.As(err, &re) && (errors.Is(err, gateway.ErrRunTimeout) || runCtx.Err() != nil) {
			return out, "", fmt.Errorf("ask_subagent timed out after %s (timeout_seconds %d); run %s: %s",
				time.Since(start).Round(time.Millisecond), int(timeout/time.Second), re.RunID, abortNote(re))
		}
		if te := timedOut("while starting the run", err); te != nil {
			return out, "", te
		}
		return out, "", err
	}
	r := run.Reply
	out = AskSubagentOutput{
		Text: safetext.Text(r.Text()), RunID: safetext.Line(run.RunID), Status: safetext.Line(r.Status), SessionKey: safetext.Line(run.SessionKey),
		DurationMs: run.Elapsed.Milliseconds(),
	}
	if r.Result != nil {
		if am := r.Result.Meta.AgentMeta; am != nil {
			out.Model, out.Provider = safetext.Line(schema.ModelRef(am.Provider, am.Model)), safetext.Line(am.Provider)
			if am.Usage != nil {
				out.Usage = UsageOut{Input: am.Usage.Input.Count(), Output: am.Usage.Output.Count(), Total: am.Usage.Total.Count()}
			}
		}
	}
	switch {
	case r.TimedOut(timeout, run.Elapsed):
		return out, "", fmt.Errorf("ask_subagent timed out after %s (timeout_seconds %d); run %s was stopped on the gateway",
			time.Since(start).Round(time.Millisecond), int(timeout/time.Second), run.RunID)
	case r.Aborted():
		return out, "", fmt.Errorf("run %s was aborted on the gateway after %s", run.RunID, run.Elapsed.Round(time.Millisecond))
	case r.Status == schema.RunOK:
	case r.Status == schema.RunInFlight:
		return out, "", fmt.Errorf("run %s is already in flight on the gateway", run.RunID)
	default:
		return out, "", fmt.Errorf("run %s ended with status %q: %s", out.RunID, out.Status, safetext.Text(r.Summary))
	}
	return out, out.Text, nil
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
