package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"
)

// ToolAskSubagent is the name of the tool that delegates a subtask to a
// gateway agent run.
const ToolAskSubagent = "ask_subagent"

var askSubagentTool = newTool(toolDef{
	name: ToolAskSubagent, title: "Ask a subagent",
	description: "Delegate a self-contained subtask to the gateway, optionally on a cheaper model, and return the answer with its model and cost. " +
		"The subagent does not see your conversation: the message must contain everything it needs. " +
		"Each call runs in a fresh private session that is removed afterwards, so calls never see each other, cost only their own subtask " +
		"and can run in parallel; pass session_key to continue a named conversation instead. " +
		`Pick the cheapest mode that can do the work: "model" for text work (drafting, summarising, translating, classifying, extracting): ` +
		`one plain model call, no tools, no files, nothing stored, the cheapest by far; "light" when the subagent needs the agent's tools ` +
		`(files, shell, web) but not the workspace's instructions; "agent" (default) for the gateway's full agent with its tools, skills and workspace. ` +
		"output_schema makes the answer JSON that matches it (returned as json). Reports progress while it runs; " +
		"aborted on the gateway when cancelled or after timeout_seconds. For long work, or when your client stops waiting for a tool " +
		"call after about 60 s, use start_subagent and wait_subagent instead. " +
		`Example: {"message": "Summarise in one sentence: ...", "mode": "model", "model": "anthropic/claude-haiku-4-5"}.`,
	openWorld: true,
}, (*tools).askSubagent)

// AskSubagentInput describes a delegated subtask.
type AskSubagentInput struct {
	Message           string         `json:"message" jsonschema:"description=The complete task for the subagent. It sees nothing of your conversation\\, so include every fact it needs.,minLength=1,example=Summarise the three main risks in this design: ..."`
	Mode              string         `json:"mode,omitempty" jsonschema:"description=agent: the gateway's full agent (tools\\, skills\\, workspace files). light: the agent's tools with a minimal prompt and no workspace files (OpenClaw 2026.9+). model: one plain model call without tools\\, files or history\\, nothing stored: the cheapest\\, for text work (OpenClaw 2026.9+).,enum=agent,enum=light,enum=model,default=agent"`
	Model             string         `json:"model,omitempty" jsonschema:"description=Run on this model (provider/model or alias) for this call only; no session's stored model changes on OpenClaw. Use a cheaper model for simple work (see list_models for prices).,example=anthropic/claude-sonnet-4-5"`
	SessionKey        string         `json:"session_key,omitempty" jsonschema:"description=Continue this named conversation (created if absent\\, never removed by clawgate) instead of a fresh private session. Never a main session (agent:<id>:main of any agent).,example=agent:main:analysis-daily"`
	KeepSession       *bool          `json:"keep_session,omitempty" jsonschema:"description=Keep the private session after the run (its key is in the result) so that it can be continued with session_key or read. Default false: it is removed."`
	OutputSchema      map[string]any `json:"output_schema,omitempty" jsonschema:"description=A JSON Schema the answer must match. The subagent is asked for JSON only; the answer is extracted\\, validated and returned as json (one repair turn if it does not match\\, then an error listing the problems)."`
	TimeoutSeconds    int            `json:"timeout_seconds,omitempty" jsonschema:"description=Wall-clock limit of this call in seconds (default: clawgate's --timeout\\, 55 unless set). When it passes the run is aborted and the call returns an error within one more second. Many MCP clients stop waiting for a tool call after 60 s: raise it only if yours waits longer.,minimum=1,maximum=86400,default=55"`
	Thinking          string         `json:"thinking,omitempty" jsonschema:"description=Thinking level for this run\\, if the model supports it.,example=low"`
	AgentID           string         `json:"agent_id,omitempty" jsonschema:"description=Agent to run (default: the gateway's default agent).,example=main"`
	ExtraSystemPrompt string         `json:"extra_system_prompt,omitempty" jsonschema:"description=Extra instructions for this run (appended to the agent's system prompt; in mode model the only system prompt)."`
}

// AskSubagentOutput is the subagent's answer and what it cost.
type AskSubagentOutput struct {
	Text           string     `json:"text" jsonschema:"description=The final answer: all reply texts joined."`
	JSON           AnswerJSON `json:"json,omitempty"`
	RunID          string     `json:"run_id" jsonschema:"description=Gateway run id (of the last run when a repair turn was needed)."`
	Status         string     `json:"status" jsonschema:"description=Run status reported by the gateway (ok).,example=ok"`
	Mode           string     `json:"mode" jsonschema:"description=The mode the call ran in.,enum=agent,enum=light,enum=model"`
	SessionKey     string     `json:"session_key" jsonschema:"description=Session the run used: the named session\\, or the private session clawgate created for it."`
	SessionKept    bool       `json:"session_kept" jsonschema:"description=Whether that session still exists: true for a named session or keep_session; false when clawgate removed the private session (or\\, in mode model\\, none was stored)."`
	Model          string     `json:"model,omitempty" jsonschema:"description=Model that served the run as the gateway reports it\\, provider/model.,example=anthropic/claude-sonnet-4-5"`
	Provider       string     `json:"provider,omitempty" jsonschema:"description=Provider that served the run.,example=anthropic"`
	RequestedModel string     `json:"requested_model,omitempty" jsonschema:"description=The model asked for (resolved to provider/model)\\, when one was; if it differs from model\\, warnings says so.,example=anthropic/claude-sonnet-4-5"`
	Usage          UsageOut   `json:"usage" jsonschema:"description=Tokens and cost of the call (all its runs)."`
	DurationMs     int64      `json:"duration_ms" jsonschema:"description=Wall time of the run(s) in milliseconds."`
	Warnings       []string   `json:"warnings,omitempty" jsonschema:"description=Things the caller should know: a model other than the requested one served the run\\, a named session's stored model was changed\\, a repair turn was needed."`
}

// AnswerJSON is the structured answer of a call with output_schema: any
// JSON value the schema allows (never null: absent without output_schema).
type AnswerJSON json.RawMessage

// MarshalJSON writes the value as it is.
func (a AnswerJSON) MarshalJSON() ([]byte, error) { return json.RawMessage(a).MarshalJSON() }

// UnmarshalJSON keeps the value as it is.
func (a *AnswerJSON) UnmarshalJSON(b []byte) error {
	*a = append((*a)[:0], b...)
	return nil
}

// JSONSchema states the type of json as every JSON type but null, so that
// strict schema checkers (the MCP Inspector's) see a typed property.
func (AnswerJSON) JSONSchema() *jsonschema.Schema {
	s := &jsonschema.Schema{}
	for _, t := range []string{"object", "array", "string", "number", "boolean"} {
		s.AnyOf = append(s.AnyOf, &jsonschema.Schema{Type: t})
	}
	return s
}

// JSONSchemaExtend describes json, whose schema comes from AnswerJSON (the
// reflector keeps no struct-tag description for a type with a schema of
// its own).
func (AskSubagentOutput) JSONSchemaExtend(s *jsonschema.Schema) {
	if p, ok := s.Properties.Get("json"); ok {
		p.Description = "With output_schema: the answer as JSON, validated against it."
	}
}

// UsageOut counts the tokens of a call and what it cost.
type UsageOut struct {
	Input      int64    `json:"input" jsonschema:"description=Input tokens."`
	Output     int64    `json:"output" jsonschema:"description=Output tokens."`
	CacheRead  int64    `json:"cache_read,omitempty" jsonschema:"description=Input tokens read from the provider's prompt cache."`
	CacheWrite int64    `json:"cache_write,omitempty" jsonschema:"description=Input tokens written to the provider's prompt cache."`
	Total      int64    `json:"total" jsonschema:"description=All tokens."`
	CostUSD    *float64 `json:"cost_usd,omitempty" jsonschema:"description=Cost in US dollars as the gateway computed it from its model prices (OpenClaw 2026.9+). Absent when the gateway reports no cost; never estimated by clawgate.,example=0.0042"`
}

// abortBudget is the part of the caller's +1 s allowance that ask_subagent
// waits for the gateway to confirm an abort after timeout_seconds.
const abortBudget = 500 * time.Millisecond

func (t *tools) askSubagent(ctx context.Context, req mcp.CallToolRequest, in AskSubagentInput) (AskSubagentOutput, string, error) {
	start := time.Now()
	d, err := t.planDelegation(in)
	if err != nil {
		return AskSubagentOutput{}, "", err
	}
	timeout := t.cfg.DefaultTimeout
	if in.TimeoutSeconds > 0 {
		timeout = time.Duration(in.TimeoutSeconds) * time.Second
	}
	return t.delegate(ctx, &d, start, timeout, newProgress(ctx, req))
}

// delegate runs a planned delegation to its answer: it settles the session
// and model, runs the subtask (and a repair turn for output_schema) and
// builds the result. ctx is the caller's; timeout bounds the whole call by
// the wall clock from start: connecting, choosing the model, the run(s). A
// background delegation (start_subagent) leaves its private session for
// collection; any other hands it to the janitor when it returns.
func (t *tools) delegate(ctx context.Context, d *delegation, start time.Time, timeout time.Duration, prog *progress) (AskSubagentOutput, string, error) {
	var out AskSubagentOutput
	in := d.in
	runCtx, cancel := context.WithDeadline(ctx, start.Add(timeout))
	defer cancel()
	failed := func(phase string, err error) error {
		if runCtx.Err() == nil || ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%s timed out after %s (timeout_seconds %d) %s; no run was started: %s",
			d.tool(), time.Since(start).Round(time.Millisecond), int(timeout/time.Second), phase, Explain(err))
	}
	info, err := t.gw.Info(runCtx)
	if err != nil {
		return out, "", failed("while connecting to the gateway", err)
	}
	if err := t.prepareDelegation(runCtx, d, info); err != nil {
		return out, "", failed("while choosing the session and model", err)
	}
	if d.private && d.mode != modeModel && !d.background { // a model run stores no session
		t.janitor.Open(d.key)
		defer func() {
			switch {
			case d.keep:
				t.janitor.Keep(d.key)
			case d.interrupted:
				t.janitor.RemoveInterrupted(d.key)
			default:
				t.janitor.Remove(d.key)
			}
		}()
	}
	if d.patchModel {
		if err := t.setRunModelOnSession(runCtx, d); err != nil {
			return out, "", failed("while setting the model", err)
		}
	}
	message := in.Message
	if d.schema != nil {
		message += "\n\n" + d.schema.Instruction()
	}
	res, err := t.runOnce(ctx, runCtx, d, message, start, timeout, prog)
	if err != nil {
		return out, "", err
	}
	if d.schema != nil {
		value, problems := d.schema.Check(res.text)
		if len(problems) > 0 {
			repair := d.schema.RepairPrompt(problems)
			if d.mode == modeModel {
				repair = d.schema.RepairPromptFresh(in.Message, res.text, problems)
			}
			prog.note("the answer did not match output_schema; asking for a corrected answer")
			second, err := t.runOnce(ctx, runCtx, d, repair, start, timeout, prog)
			if err != nil {
				return out, "", fmt.Errorf("the answer did not match output_schema (%s), and the repair turn failed: %w",
					strings.Join(problems, "; "), err)
			}
			res = res.then(second)
			value, problems = d.schema.Check(second.text)
			if len(problems) > 0 {
				return out, "", fmt.Errorf("the answer does not match output_schema, also after one repair turn: %s. The last answer was: %s",
					strings.Join(problems, "; "), quoteAnswer(second.text))
			}
			d.warnings = append(d.warnings, "the first answer did not match output_schema; a repair turn produced this one (usage counts both)")
		}
		out.JSON = AnswerJSON(value)
	}

	out.Text, out.RunID, out.Status = res.text, res.runID, res.status
	out.Mode, out.SessionKey, out.SessionKept = d.mode, d.key, d.kept()
	out.Model, out.Provider, out.RequestedModel = res.model, res.provider, d.requested
	out.Usage, out.DurationMs = res.usage, res.elapsed.Milliseconds()
	out.Warnings = append(d.warnings, t.modelWarnings(d, res)...)
	text := out.Text
	if len(out.JSON) > 0 {
		text = string(out.JSON)
	}
	for _, w := range out.Warnings {
		text += "\n\n[clawgate] warning: " + w
	}
	return out, text, nil
}

// quoteAnswer quotes a reply for an error message, cut at 2000 characters.
func quoteAnswer(s string) string {
	const limit = 2000
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "… (cut)"
	}
	return fmt.Sprintf("%q", s)
}

// errMessageEmpty is the refusal of a blank message.
var errMessageEmpty = errors.New("message must not be empty: write the complete task for the subagent")
