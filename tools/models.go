package tools

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// Choosing models, for list_models, patch_session_model and ask_subagent:
// the --allow-model policy, setting a session's model under it, and the
// refusals that name the models that are allowed.

// ModelPolicy decides which models patch_session_model and ask_subagent may
// select. Patterns use shell globs (path.Match): "anthropic/claude-sonnet-*",
// "*/claude-haiku-*", or an exact "provider/model". An empty policy allows
// every model the gateway allows.
type ModelPolicy []string

// Validate checks that every pattern is a well-formed glob.
func (p ModelPolicy) Validate() error {
	for _, pat := range p {
		if strings.TrimSpace(pat) == "" {
			return fmt.Errorf("--allow-model: empty pattern")
		}
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("--allow-model %q: %w", pat, err)
		}
	}
	return nil
}

// Allows reports whether model matches a pattern. Matching is
// case-insensitive and a pattern without "/" also matches the model part of
// a "provider/model" reference.
func (p ModelPolicy) Allows(model string) bool {
	if len(p) == 0 {
		return true
	}
	m := strings.ToLower(strings.TrimSpace(model))
	_, bare, hasProvider := strings.Cut(m, "/")
	for _, pat := range p {
		pat = strings.ToLower(strings.TrimSpace(pat))
		if ok, _ := path.Match(pat, m); ok {
			return true
		}
		if hasProvider && !strings.Contains(pat, "/") {
			if ok, _ := path.Match(pat, bare); ok {
				return true
			}
		}
	}
	return false
}

// Default is the model ask_subagent uses when the caller names none and the
// policy restricts models: the first pattern, if it names exactly one model.
func (p ModelPolicy) Default() (string, bool) {
	if len(p) == 0 || strings.ContainsAny(p[0], "*?[") {
		return "", false
	}
	return p[0], true
}

func (p ModelPolicy) String() string { return strings.Join(p, ", ") }

// allowedModels lists the gateway's models that the model policy allows,
// optionally of one provider.
func (t *tools) allowedModels(ctx context.Context, provider string) ([]ModelOut, error) {
	list, err := t.gw.ModelsList(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ModelOut, 0, len(list.Models))
	for _, m := range list.Models {
		if provider != "" && !strings.EqualFold(m.Provider, provider) {
			continue
		}
		if !t.cfg.AllowModels.Allows(m.Ref()) {
			continue
		}
		out = append(out, ModelOut{ID: safetext.Line(m.Ref()), Name: safetext.Line(m.Name), Provider: safetext.Line(m.Provider),
			Alias: safetext.Line(m.Alias), ContextWindow: m.ContextWindow.Count()})
	}
	return out, nil
}

// setModel patches key's model (nil clears it) after checking the model
// policy, and returns the resolved model (nil when cleared) and the
// canonical key. A refusal names the models that are allowed.
func (t *tools) setModel(ctx context.Context, key string, model *string) (*string, string, error) {
	if model != nil && len(t.cfg.AllowModels) > 0 {
		if _, err := t.checkPolicy(ctx, *model); err != nil {
			return nil, "", err
		}
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
		// model (docs/protocol.md §3.5), so the session runs on the default.
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

// resolveModel resolves a model name the way the gateway does
// (docs/protocol.md §3.5), so that --allow-model and the check of what ran
// compare provider/model references: "provider/model" as it is (provider in
// lower case); else an alias (models.list's, then the configured ones of
// config.get); else a model id of the default model's provider. When the
// gateway cannot be asked, the name comes back as it is.
func (t *tools) resolveModel(ctx context.Context, name string) string {
	name = strings.TrimSpace(name)
	if prov, model, ok := strings.Cut(name, "/"); ok {
		return strings.ToLower(strings.TrimSpace(prov)) + "/" + model
	}
	if list, err := t.gw.ModelsList(ctx); err == nil {
		for _, m := range list.Models {
			if m.Alias != "" && strings.EqualFold(m.Alias, name) {
				return m.Ref()
			}
		}
	}
	if aliases, err := t.gw.ModelAliases(ctx); err == nil {
		if ref, ok := aliases[strings.ToLower(name)]; ok {
			return ref
		}
	}
	if prov, _, ok := strings.Cut(t.defaultModel(ctx), "/"); ok {
		return prov + "/" + name
	}
	return name
}

// checkPolicy resolves model (resolveModel) and checks the result against
// --allow-model, whose globs are about provider/model references: an alias
// is allowed when the model it names is. It returns the resolved model.
func (t *tools) checkPolicy(ctx context.Context, model string) (string, error) {
	resolved := t.resolveModel(ctx, model)
	if t.cfg.AllowModels.Allows(resolved) {
		return resolved, nil
	}
	if !strings.EqualFold(resolved, strings.TrimSpace(model)) {
		return "", fmt.Errorf("model %q resolves to %s, which this clawgate does not allow (--allow-model %s). %s",
			model, resolved, t.cfg.AllowModels, t.allowedHint(ctx))
	}
	return "", t.policyRefusal(ctx, model)
}

// policyRefusal is the error for a model --allow-model forbids.
func (t *tools) policyRefusal(ctx context.Context, model string) error {
	return fmt.Errorf("model %q is not allowed by this clawgate (--allow-model %s). %s", model, t.cfg.AllowModels, t.allowedHint(ctx))
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
	if err == nil && !info.Capabilities().ModelAllowlist && len(t.cfg.AllowModels) == 0 {
		if def := t.defaultModel(ctx); def != "" {
			return fmt.Sprintf("Clawdbot does not report its allowlist (agents.defaults.models in its config); its default model %s is always allowed", def)
		}
		return "Clawdbot does not report its allowlist (agents.defaults.models in its config)"
	}
	models, err := t.allowedModels(ctx, "")
	if err != nil {
		return "(the allowed models could not be listed: " + Explain(err) + ")"
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
