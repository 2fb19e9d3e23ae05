package tools

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// gatewayStatus reports reachability, version and main-session context use.
// A gateway that cannot be reached is a normal result (connected:false).
func (t *tools) gatewayStatus(ctx context.Context, _ mcp.CallToolRequest, _ schema.GatewayStatusInput) (schema.GatewayStatusOutput, string, error) {
	out := schema.GatewayStatusOutput{URL: t.gw.URL(), ReadOnly: t.cfg.ReadOnly}
	info, err := t.gw.Info(ctx)
	if err != nil {
		out.Error = safetext.Text(err.Error())
		return out, "Gateway not usable: " + out.Error, nil
	}
	out.Connected, out.Protocol, out.ServerVersion = true, info.Protocol, safetext.Line(info.ServerVersion)
	for _, s := range info.Scopes {
		out.Scopes = append(out.Scopes, safetext.Line(s))
	}
	st, _, err := t.gw.Status(ctx)
	if err != nil {
		out.Error = "connected, but the status call failed: " + safetext.Text(err.Error())
		return out, out.Error, nil
	}
	count := int(st.Sessions.Count.Count())
	out.SessionCount = &count
	out.Defaults = &schema.StatusDefaultsOut{Model: safetext.Line(st.Sessions.Defaults.Model), ContextWindow: st.Sessions.Defaults.ContextTokens.Count()}
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
	out.MainSession = &schema.MainSessionStatus{Key: safetext.Line(main), Model: out.Defaults.Model, ContextWindow: out.Defaults.ContextWindow}
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

// percent is used/max in percent with one decimal, or nil when max is 0 or
// the numbers make no sense (more than ten times the window used).
func percent(used, max int64) *float64 {
	if max <= 0 || used < 0 || used/10 > max {
		return nil
	}
	p := math.Round(float64(used)*1000/float64(max)) / 10
	return &p
}

const defaultSessionLimit = 20

func (t *tools) listSessions(ctx context.Context, _ mcp.CallToolRequest, in schema.ListSessionsInput) (schema.ListSessionsOutput, string, error) {
	if in.Limit <= 0 {
		in.Limit = defaultSessionLimit
	}
	list, err := t.gw.SessionsList(ctx, schema.SessionsListParams{
		Limit: in.Limit, ActiveMinutes: in.ActiveMinutes, Search: in.Search, AgentID: in.AgentID,
	})
	if err != nil {
		return schema.ListSessionsOutput{}, "", err
	}
	protocol := 0
	if info, err := t.gw.Info(ctx); err == nil {
		protocol = info.Protocol
	}
	out := schema.ListSessionsOutput{
		Sessions: make([]schema.SessionInfo, 0, len(list.Sessions)),
		Defaults: schema.SessionDefaultsOut{
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
		s := schema.SessionInfo{
			Key: safetext.Line(r.Key), SessionID: safetext.Line(r.SessionID), Kind: safetext.Line(r.Kind), Label: safetext.Line(label),
			Model: safetext.Line(schema.ModelRef(r.ModelProvider, r.Model)), ModelProvider: safetext.Line(r.ModelProvider),
			ModelSource: modelSource(protocol, r),
			ContextUsed: r.TotalTokens.Count(), ContextWindow: r.ContextTokens.Count(),
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
		if s.UpdatedAt != "" {
			fmt.Fprintf(&b, "  updated %s", s.UpdatedAt)
		}
		b.WriteByte('\n')
	}
	out.Count = len(out.Sessions)
	return out, fmt.Sprintf("%s (default model %s):\n%s", countOf(out.Count, "session", "sessions"), out.Defaults.Model, b.String()), nil
}

// modelSource says where a session row's model comes from: protocol 4
// rows carry modelOverrideSource; protocol 3 rows show the model of the
// last run and no override.
func modelSource(protocol int, r schema.SessionRow) string {
	switch {
	case r.Model == "":
		return ""
	case protocol >= 4 && r.ModelOverrideSource != "":
		return "override"
	case protocol >= 4:
		return "default"
	}
	return "last_run"
}

// countOf is "1 session", "2 sessions".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (t *tools) listModels(ctx context.Context, _ mcp.CallToolRequest, in schema.ListModelsInput) (schema.ListModelsOutput, string, error) {
	models, err := t.allowedModels(ctx, in.Provider)
	if err != nil {
		return schema.ListModelsOutput{}, "", err
	}
	ids := make([]string, len(models))
	for i, m := range models {
		ids[i] = m.ID
	}
	return schema.ListModelsOutput{Models: models}, fmt.Sprintf("%s: %s", countOf(len(models), "model", "models"), strings.Join(ids, ", ")), nil
}

// allowedModels lists the gateway's models that the model policy allows,
// optionally of one provider.
func (t *tools) allowedModels(ctx context.Context, provider string) ([]schema.ModelOut, error) {
	list, err := t.gw.ModelsList(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]schema.ModelOut, 0, len(list.Models))
	for _, m := range list.Models {
		if provider != "" && !strings.EqualFold(m.Provider, provider) {
			continue
		}
		if !t.cfg.AllowModels.Allows(m.Ref()) {
			continue
		}
		out = append(out, schema.ModelOut{ID: safetext.Line(m.Ref()), Name: safetext.Line(m.Name), Provider: safetext.Line(m.Provider),
			Alias: safetext.Line(m.Alias), ContextWindow: m.ContextWindow.Count()})
	}
	return out, nil
}
