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

// ToolPatchSessionModel is the name of the tool that sets or clears a
// session's model override.
const ToolPatchSessionModel = "patch_session_model"

var patchSessionModelTool = newTool(toolDef{
	name: ToolPatchSessionModel, title: "Set a session's model",
	description: "Override the model of one gateway session, for example to switch it to a cheaper model, or clear the override with model null. " +
		"Returns the model the session now uses. A model the gateway or clawgate does not allow is refused with the list of allowed models. " +
		`Example: {"session_key": "agent:main:subagent", "model": "anthropic/claude-sonnet-4-5"}.`,
	idempotent: true,
}, (*tools).patchSessionModel)

// PatchSessionModelInput sets or clears a session's model override.
type PatchSessionModelInput struct {
	SessionKey string  `json:"session_key" jsonschema:"description=Key of an existing session (from list_sessions). A key that does not exist is refused with the closest existing keys\\, unless create is true.,minLength=1,example=agent:main:subagent"`
	Model      *string `json:"model" jsonschema:"description=The model to use: provider/model (see list_models)\\, or an alias the gateway knows. null or empty string clears the override so the session uses the gateway default.,example=anthropic/claude-sonnet-4-5,nullable"`
	Create     bool    `json:"create,omitempty" jsonschema:"description=Create the session when session_key does not exist yet (default false: an unknown key is an error).,default=false"`
}

// PatchSessionModelOutput is the session's model after the change.
type PatchSessionModelOutput struct {
	SessionKey string  `json:"session_key" jsonschema:"description=Canonical key of the changed session."`
	Model      *string `json:"model" jsonschema:"description=The resolved provider/model the session now uses\\, or null when the override was cleared.,nullable"`
}

func (t *tools) patchSessionModel(ctx context.Context, _ mcp.CallToolRequest, in PatchSessionModelInput) (PatchSessionModelOutput, string, error) {
	key := strings.TrimSpace(in.SessionKey)
	if key == "" {
		return PatchSessionModelOutput{}, "", errors.New("session_key must not be empty: pass a key from list_sessions, e.g. agent:main:subagent")
	}
	var model *string
	if in.Model != nil && strings.TrimSpace(*in.Model) != "" {
		m := strings.TrimSpace(*in.Model)
		model = &m
	}
	if model != nil && !t.cfg.AllowModels.Allows(*model) {
		return PatchSessionModelOutput{}, "", t.policyRefusal(ctx, *model)
	}
	if !in.Create {
		if err := t.mustExist(ctx, key); err != nil {
			return PatchSessionModelOutput{}, "", err
		}
	}
	resolved, canonical, err := t.setModel(ctx, key, model)
	if err != nil {
		return PatchSessionModelOutput{}, "", err
	}
	canonical = safetext.Line(canonical)
	if resolved != nil {
		r := safetext.Line(*resolved)
		resolved = &r
	}
	out := PatchSessionModelOutput{SessionKey: canonical, Model: resolved}
	if resolved == nil {
		return out, fmt.Sprintf("Cleared the model override of %s: it uses the gateway default again.", canonical), nil
	}
	return out, fmt.Sprintf("Session %s now uses %s.", canonical, *resolved), nil
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
