package tools

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/internal/suggest"
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
	if model != nil && !t.cfg.AllowModels.Allows(*model) {
		return schema.PatchSessionModelOutput{}, "", t.policyRefusal(ctx, *model)
	}
	if !in.Create {
		if err := t.mustExist(ctx, key); err != nil {
			return schema.PatchSessionModelOutput{}, "", err
		}
	}
	resolved, canonical, err := t.setModel(ctx, key, model)
	if err != nil {
		return schema.PatchSessionModelOutput{}, "", err
	}
	canonical = safetext.Line(canonical)
	if resolved != nil {
		r := safetext.Line(*resolved)
		resolved = &r
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
		return nil, "", t.policyRefusal(ctx, *model)
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

// policyRefusal is the error for a model --allow-model forbids.
func (t *tools) policyRefusal(ctx context.Context, model string) error {
	return fmt.Errorf("model %q is not allowed by this clawgate (--allow-model %s). %s", model, t.cfg.AllowModels, t.allowedHint(ctx))
}

// sessionScanLimit bounds the sessions read to check that a key exists and
// to suggest near ones.
const sessionScanLimit = 1000

// mustExist returns an error naming the closest existing keys when key is
// not an existing session (in its canonical or short form).
func (t *tools) mustExist(ctx context.Context, key string) error {
	info, err := t.gw.Info(ctx)
	if err != nil {
		return err
	}
	want := canonicalCandidates(key, info)
	search := key
	if i := strings.LastIndexByte(key, ':'); i >= 0 && i < len(key)-1 {
		search = key[i+1:]
	}
	list, err := t.gw.SessionsList(ctx, schema.SessionsListParams{Search: search, Limit: sessionScanLimit})
	if err != nil {
		return fmt.Errorf("check that session %q exists: %w", key, err)
	}
	for _, r := range list.Sessions {
		if want[strings.ToLower(r.Key)] {
			return nil
		}
	}
	all, err := t.gw.SessionsList(ctx, schema.SessionsListParams{Limit: sessionScanLimit})
	if err != nil {
		return fmt.Errorf("check that session %q exists: %w", key, err)
	}
	keys := make([]string, 0, len(all.Sessions))
	for _, r := range all.Sessions {
		if want[strings.ToLower(r.Key)] { // search missed it
			return nil
		}
		keys = append(keys, r.Key)
	}
	hint := "list_sessions shows the existing keys"
	if near := nearestKeys(key, keys, 3); len(near) > 0 {
		hint = "did you mean " + quoteJoin(near, " or ") + "?"
	} else if len(keys) == 0 {
		hint = "the gateway has no sessions yet"
	}
	return fmt.Errorf("session %q does not exist (%s). Pass an existing key, or set create to true to create the session", key, hint)
}

// canonicalCandidates are the lowercased keys key may stand for: itself,
// and for a short form such as "main" or "subagent" the key under the
// default agent (the gateway canonicalises short keys that way).
func canonicalCandidates(key string, info *gateway.Info) map[string]bool {
	k := strings.ToLower(strings.TrimSpace(key))
	out := map[string]bool{k: true}
	if !strings.HasPrefix(k, "agent:") && k != "global" && k != "unknown" {
		agent := strings.ToLower(info.DefaultAgentID)
		if agent == "" {
			agent = "main"
		}
		out["agent:"+agent+":"+k] = true
		if k == "main" && info.MainSessionKey != "" {
			out[strings.ToLower(info.MainSessionKey)] = true
		}
	}
	return out
}

// nearestKeys returns up to n of keys closest to key by edit distance,
// closest first, leaving out those too far away to be a likely typo.
func nearestKeys(key string, keys []string, n int) []string {
	type cand struct {
		k string
		d int
	}
	var cs []cand
	lk := strings.ToLower(key)
	for _, k := range keys {
		d := suggest.Distance(lk, strings.ToLower(k))
		if d <= max(2, len(key)/4) {
			cs = append(cs, cand{k, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].k)
	}
	return out
}

func quoteJoin(ss []string, sep string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, sep)
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
