package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// ToolListSessions is the name of the tool that lists the gateway's
// sessions.
const ToolListSessions = "list_sessions"

var listSessionsTool = newTool(toolDef{
	name: ToolListSessions, title: "List sessions",
	description: "List the gateway's sessions, most recently updated first, with each session's model, token use and cost (where the gateway reports it), " +
		"and which sessions clawgate created for ask_subagent. " +
		`Example: {"limit": 5, "search": "subagent"}.`,
	readOnly: true, idempotent: true,
}, (*tools).listSessions)

// ListSessionsInput filters list_sessions.
type ListSessionsInput struct {
	Limit         int    `json:"limit,omitempty" jsonschema:"description=Maximum number of sessions to return\\, most recently updated first (default 20).,minimum=1,maximum=500,default=20"`
	ActiveMinutes int    `json:"active_minutes,omitempty" jsonschema:"description=Only sessions updated within this many minutes.,minimum=1"`
	Search        string `json:"search,omitempty" jsonschema:"description=Only sessions whose key\\, label or title contains this text.,example=subagent"`
	AgentID       string `json:"agent_id,omitempty" jsonschema:"description=Only sessions of this agent.,example=main"`
}

// ListSessionsOutput is the result of list_sessions.
type ListSessionsOutput struct {
	Count    int                `json:"count" jsonschema:"description=Number of sessions returned."`
	Sessions []SessionInfo      `json:"sessions" jsonschema:"description=Sessions\\, most recently updated first."`
	Defaults SessionDefaultsOut `json:"defaults" jsonschema:"description=The gateway's default model and context size."`
}

// SessionInfo is one session in list_sessions.
type SessionInfo struct {
	Key           string   `json:"key" jsonschema:"description=Session key; pass it to patch_session_model or ask_subagent.,example=agent:main:main"`
	SessionID     string   `json:"session_id,omitempty" jsonschema:"description=Current transcript id of the session."`
	Kind          string   `json:"kind,omitempty" jsonschema:"description=direct\\, group\\, global or unknown."`
	Label         string   `json:"label,omitempty" jsonschema:"description=Human label or display name."`
	Model         string   `json:"model,omitempty" jsonschema:"description=Model as provider/model; model_source says where it comes from.,example=anthropic/claude-sonnet-4-5"`
	ModelProvider string   `json:"model_provider,omitempty" jsonschema:"description=Provider of the model.,example=anthropic"`
	ModelSource   string   `json:"model_source,omitempty" jsonschema:"description=override: the session's own model override (set by patch_session_model or the user); default: the gateway's default model; last_run: the model of the session's last run (Clawdbot lists no overrides\\, so an override set since then is not shown).,enum=override,enum=default,enum=last_run"`
	ContextUsed   int64    `json:"context_used" jsonschema:"description=Tokens in the session's context (as the gateway counts them)."`
	ContextWindow int64    `json:"context_window,omitempty" jsonschema:"description=Context window of the session's model in tokens."`
	PercentUsed   *float64 `json:"percent_used,omitempty" jsonschema:"description=context_used as a percentage of context_window."`
	UpdatedAt     string   `json:"updated_at,omitempty" jsonschema:"description=Last update (RFC 3339).,example=2026-11-25T10:00:00Z"`
	CostUSD       *float64 `json:"cost_usd,omitempty" jsonschema:"description=The session's model cost so far in US dollars as the gateway estimates it from the configured model prices (OpenClaw's estimatedCostUsd); absent where the gateway reports none (Clawdbot). Never estimated by clawgate.,example=0.00001"`
	// CreatedByClawgate is true or absent.
	CreatedByClawgate bool `json:"created_by_clawgate,omitempty" jsonschema:"description=true for a private session clawgate created for an ask_subagent run (key agent:<agent>:subagent:clawgate-<10 hex digits>\\, label 'clawgate subagent'); absent for every other session."`
}

// SessionDefaultsOut are the gateway's defaults as list_sessions reports them.
type SessionDefaultsOut struct {
	Model         string `json:"model,omitempty" jsonschema:"description=Default model as provider/model."`
	ModelProvider string `json:"model_provider,omitempty" jsonschema:"description=Provider of the default model."`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window of the default model in tokens."`
}

const defaultSessionLimit = 20

func (t *tools) listSessions(ctx context.Context, _ mcp.CallToolRequest, in ListSessionsInput) (ListSessionsOutput, string, error) {
	if in.Limit <= 0 {
		in.Limit = defaultSessionLimit
	}
	list, err := t.gw.SessionsList(ctx, schema.SessionsListParams{
		Limit: in.Limit, ActiveMinutes: in.ActiveMinutes, Search: in.Search, AgentID: in.AgentID,
	})
	if err != nil {
		return ListSessionsOutput{}, "", err
	}
	overrides := false
	if info, err := t.gw.Info(ctx); err == nil {
		overrides = info.Capabilities().SessionModelOverrides
	}
	out := ListSessionsOutput{
		Sessions: make([]SessionInfo, 0, len(list.Sessions)),
		Defaults: SessionDefaultsOut{
			Model:         safetext.Line(schema.ModelRef(list.Defaults.ModelProvider, list.Defaults.Model)),
			ModelProvider: safetext.Line(list.Defaults.ModelProvider),
			ContextWindow: list.Defaults.ContextTokens.Count(),
		},
	}
	var b strings.Builder
	for _, r := range list.Sessions {
		if len(out.Sessions) >= in.Limit {
			break
		}
		label := r.Label
		if label == "" {
			label = r.DisplayName
		}
		s := SessionInfo{
			Key: safetext.Line(r.Key), SessionID: safetext.Line(r.SessionID), Kind: safetext.Line(r.Kind), Label: safetext.Line(label),
			Model: safetext.Line(schema.ModelRef(r.ModelProvider, r.Model)), ModelProvider: safetext.Line(r.ModelProvider),
			ModelSource: modelSource(overrides, r),
			ContextUsed: r.TotalTokens.Count(), ContextWindow: r.ContextTokens.Count(),
			CostUSD: usdOf(r.EstimatedCostUSD), CreatedByClawgate: IsPrivateSession(r.Key),
		}
		s.PercentUsed = percent(s.ContextUsed, s.ContextWindow)
		if ms, ok := r.UpdatedAt.Millis(); ok {
			s.UpdatedAt = time.UnixMilli(ms).UTC().Format(time.RFC3339)
		}
		out.Sessions = append(out.Sessions, s)
		model := "no model yet"
		if s.Model != "" {
			model = s.Model + " (" + s.ModelSource + ")"
		}
		fmt.Fprintf(&b, "%s  %s  %d/%d tokens", s.Key, model, s.ContextUsed, s.ContextWindow)
		if s.CostUSD != nil {
			fmt.Fprintf(&b, "  cost %s", usd(*s.CostUSD))
		}
		if s.UpdatedAt != "" {
			fmt.Fprintf(&b, "  updated %s", s.UpdatedAt)
		}
		if s.CreatedByClawgate {
			b.WriteString("  (created by clawgate)")
		}
		b.WriteByte('\n')
	}
	out.Count = len(out.Sessions)
	return out, fmt.Sprintf("%s (default model %s):\n%s", countOf(out.Count, "session", "sessions"), out.Defaults.Model, b.String()), nil
}

// usdOf is a cost the gateway sent, or nil when it sent none or one that
// is not a finite amount of at least 0.
func usdOf(n json.Number) *float64 {
	if n == "" {
		return nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return nil
	}
	return &f
}

// modelSource says where a session row's model comes from: where the
// gateway lists model overrides (Capabilities.SessionModelOverrides), rows
// carry modelOverrideSource; elsewhere (Clawdbot) rows show the model of the
// last run and no override.
func modelSource(overrides bool, r schema.SessionRow) string {
	switch {
	case r.Model == "":
		return ""
	case overrides && r.ModelOverrideSource != "":
		return "override"
	case overrides:
		return "default"
	}
	return "last_run"
}
