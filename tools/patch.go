package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/schema"
)

func (t *tools) patchSessionModel(ctx context.Context, _ mcp.CallToolRequest, in schema.PatchSessionModelInput) (schema.PatchSessionModelOutput, string, error) {
	key := strings.TrimSpace(in.SessionKey)
	if key == "" {
		return schema.PatchSessionModelOutput{}, "", errors.New("session_key must not be empty: pass a key from list_sessions, e.g. agent:main:subagent")
	}
	var model *string
	if in.Model != nil && strings.TrimSpace(*in.Model) != "" {
		m := strings.TrimSpace(*in.Model)
		model = &m
	}
	resolved, canonical, err := t.setModel(ctx, key, model)
	if err != nil {
		return schema.PatchSessionModelOutput{}, "", err
	}
	out := schema.PatchSessionModelOutput{SessionKey: canonical, Model: resolved}
	if resolved == nil {
		return out, fmt.Sprintf("Cleared the model override of %s: it uses the gateway default again.", canonical), nil
	}
	return out, fmt.Sprintf("Session %s now uses %s.", canonical, *resolved), nil
}

// setModel patches key's model (nil clears it) after checking the model
// policy, and returns the resolved model (nil when cleared) and the
// canonical key. A refusal names the models that are allowed.
func (t *tools) setModel(ctx context.Context, key string, model *string) (*string, string, error) {
	if model != nil && !t.cfg.AllowModels.Allows(*model) {
		return nil, "", fmt.Errorf("model %q is not allowed by this clawgate (--allow-model %s). %s", *model, t.cfg.AllowModels, t.allowedHint(ctx))
	}
	res, err := t.gw.SessionsPatch(ctx, key, model)
	if err != nil {
		if ge, ok := gateway.AsError(err); ok && strings.Contains(ge.Message, "model not allowed") {
			return nil, "", fmt.Errorf("the gateway refused model %q: %s. %s", deref(model), ge.Message, t.allowedHint(ctx))
		}
		return nil, "", err
	}
	canonical := res.Key
	if canonical == "" {
		canonical = key
	}
	if model == nil {
		return nil, canonical, nil
	}
	resolved := res.EffectiveModel()
	if resolved == "" {
		// Clawdbot stores no override when the choice equals the default
		// model (PROTOCOL.md §3.5), so the session runs on the default.
		resolved = t.defaultModel(ctx)
	}
	if resolved == "" {
		resolved = *model
	}
	if resolved != *model && !t.cfg.AllowModels.Allows(resolved) {
		// An alias resolved to a model the policy forbids: undo.
		_, _ = t.gw.SessionsPatch(ctx, key, nil)
		return nil, "", fmt.Errorf("model %q resolves to %s, which this clawgate does not allow (--allow-model %s); the override was cleared", *model, resolved, t.cfg.AllowModels)
	}
	return &resolved, canonical, nil
}

// defaultModel is the gateway's default model as provider/model, or "".
func (t *tools) defaultModel(ctx context.Context) string {
	list, err := t.gw.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
	if err != nil {
		return ""
	}
	return schema.ModelRef(list.Defaults.ModelProvider, list.Defaults.Model)
}

// allowedHint names the models a caller may choose, for refusal messages.
func (t *tools) allowedHint(ctx context.Context) string {
	info, err := t.gw.Info(ctx)
	if err == nil && info.Protocol < 4 && len(t.cfg.AllowModels) == 0 {
		if def := t.defaultModel(ctx); def != "" {
			return fmt.Sprintf("Clawdbot does not report its allowlist (agents.defaults.models in its config); its default model %s is always allowed", def)
		}
		return "Clawdbot does not report its allowlist (agents.defaults.models in its config)"
	}
	models, err := t.allowedModels(ctx, "")
	if err != nil {
		return "(the allowed models could not be listed: " + err.Error() + ")"
	}
	if len(models) == 0 {
		return "No model of the gateway's catalog is allowed."
	}
	ids := make([]string, 0, len(models))
	for i, m := range models {
		if i == 30 {
			ids = append(ids, fmt.Sprintf("… and %d more (see list_models)", len(models)-30))
			break
		}
		ids = append(ids, m.ID)
	}
	return "Allowed models: " + strings.Join(ids, ", ")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
