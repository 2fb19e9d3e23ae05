package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// ToolGatewayStatus is the name of the tool that reports whether the
// gateway is reachable.
const ToolGatewayStatus = "gateway_status"

var gatewayStatusTool = newTool(toolDef{
	name: ToolGatewayStatus, title: "Gateway status",
	description: "Check whether the OpenClaw/Clawdbot gateway is reachable, which version and protocol it runs, its default model, " +
		"and how full the main session's context window is. Spends no tokens. A down gateway is not an error: connected is false and error says why.",
	readOnly: true, idempotent: true,
}, (*tools).gatewayStatus)

// GatewayStatusInput takes no arguments.
type GatewayStatusInput struct{}

// GatewayStatusOutput says whether the gateway is reachable and how full the
// main session's context is.
type GatewayStatusOutput struct {
	Connected     bool               `json:"connected" jsonschema:"description=True when clawgate is connected to the gateway and the handshake succeeded."`
	URL           string             `json:"url" jsonschema:"description=The gateway WebSocket URL clawgate uses (never includes credentials).,example=ws://127.0.0.1:18789"`
	Protocol      int                `json:"protocol,omitempty" jsonschema:"description=Negotiated gateway protocol: 3 is Clawdbot 2026.1.x and 4 is OpenClaw 2026.9.x."`
	ServerVersion string             `json:"server_version,omitempty" jsonschema:"description=Gateway version as it reports itself (Clawdbot may say dev).,example=2026.9.6"`
	Scopes        []string           `json:"scopes,omitempty" jsonschema:"description=Operator scopes of the connection.,example=operator.admin"`
	ReadOnly      bool               `json:"read_only" jsonschema:"description=True when clawgate runs with --read-only: only read tools are available."`
	Error         string             `json:"error,omitempty" jsonschema:"description=Why the gateway is not usable and what to do about it; set when connected is false."`
	MainSession   *MainSessionStatus `json:"main_session,omitempty" jsonschema:"description=The gateway's main session and how full its context window is."`
	Defaults      *StatusDefaultsOut `json:"defaults,omitempty" jsonschema:"description=The gateway's default model and context size."`
	SessionCount  *int               `json:"session_count,omitempty" jsonschema:"description=Number of sessions the gateway knows."`
}

// MainSessionStatus is the main session's model and context use.
type MainSessionStatus struct {
	Key           string   `json:"key" jsonschema:"description=Session key.,example=agent:main:main"`
	Model         string   `json:"model,omitempty" jsonschema:"description=Model of the session as provider/model when known.,example=anthropic/claude-sonnet-4-5"`
	ContextUsed   int64    `json:"context_used" jsonschema:"description=Tokens in the session's context (as the gateway counts them)."`
	ContextWindow int64    `json:"context_window,omitempty" jsonschema:"description=Context window of the session's model in tokens."`
	PercentUsed   *float64 `json:"percent_used,omitempty" jsonschema:"description=context_used as a percentage of context_window."`
}

// StatusDefaultsOut are the gateway's defaults as gateway_status reports them.
type StatusDefaultsOut struct {
	Model         string `json:"model,omitempty" jsonschema:"description=Default model as provider/model.,example=anthropic/claude-opus-4-5"`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window of the default model in tokens."`
}

// gatewayStatus reports reachability, version and main-session context use.
// A gateway that cannot be reached is a normal result (connected:false).
func (t *tools) gatewayStatus(ctx context.Context, _ mcp.CallToolRequest, _ GatewayStatusInput) (GatewayStatusOutput, string, error) {
	out := GatewayStatusOutput{URL: t.gw.URL(), ReadOnly: t.cfg.ReadOnly}
	info, err := t.gw.Info(ctx)
	if err != nil {
		out.Error = safetext.Text(Explain(err))
		return out, "Gateway not usable: " + out.Error, nil
	}
	out.Connected, out.Protocol, out.ServerVersion = true, info.Protocol, safetext.Line(info.ServerVersion)
	for _, s := range info.Scopes {
		out.Scopes = append(out.Scopes, safetext.Line(s))
	}
	st, _, err := t.gw.Status(ctx)
	if err != nil {
		out.Error = "connected, but the status call failed: " + safetext.Text(Explain(err))
		return out, out.Error, nil
	}
	count := int(st.Sessions.Count.Count())
	out.SessionCount = &count
	out.Defaults = &StatusDefaultsOut{Model: safetext.Line(st.Sessions.Defaults.Model), ContextWindow: st.Sessions.Defaults.ContextTokens.Count()}
	// The list's defaults carry the provider that status leaves out.
	if list, err := t.gw.SessionsList(ctx, schema.SessionsListParams{Limit: 1}); err == nil {
		out.Defaults.Model = safetext.Line(schema.ModelRef(list.Defaults.ModelProvider, list.Defaults.Model))
		if w := list.Defaults.ContextTokens.Count(); w > 0 {
			out.Defaults.ContextWindow = w
		}
	}
	main := info.MainSessionKey
	if main == "" {
		main = "agent:main:main"
	}
	out.MainSession = &MainSessionStatus{Key: safetext.Line(main), Model: out.Defaults.Model, ContextWindow: out.Defaults.ContextWindow}
	for _, s := range st.Sessions.Recent {
		if s.Key != main {
			continue
		}
		if s.Model != "" {
			out.MainSession.Model = safetext.Line(s.Model)
			if !strings.Contains(s.Model, "/") && out.Defaults.Model != "" && strings.HasSuffix(out.Defaults.Model, "/"+out.MainSession.Model) {
				out.MainSession.Model = out.Defaults.Model
			}
		}
		if s.TotalTokens != nil {
			out.MainSession.ContextUsed = s.TotalTokens.Count()
		}
		if s.ContextTokens != nil && s.ContextTokens.Count() > 0 {
			out.MainSession.ContextWindow = s.ContextTokens.Count()
		}
	}
	out.MainSession.PercentUsed = percent(out.MainSession.ContextUsed, out.MainSession.ContextWindow)
	text := fmt.Sprintf("Connected to %s (protocol %d, version %s). Main session %s: %d of %d tokens used; default model %s; %s.",
		out.URL, out.Protocol, out.ServerVersion, out.MainSession.Key, out.MainSession.ContextUsed, out.MainSession.ContextWindow, out.Defaults.Model, countOf(count, "session", "sessions"))
	return out, text, nil
}
