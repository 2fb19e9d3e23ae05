package schema

import (
	"encoding/json"
	"strings"
)

// SessionsListParams is the portable subset of sessions.list params that both
// generations accept.
type SessionsListParams struct {
	Limit         int    `json:"limit,omitempty"`
	ActiveMinutes int    `json:"activeMinutes,omitempty"`
	AgentID       string `json:"agentId,omitempty"`
	Search        string `json:"search,omitempty"`
	Label         string `json:"label,omitempty"`
}

// SessionsList is the sessions.list result of either generation.
type SessionsList struct {
	TS       int64         `json:"ts"`
	Path     string        `json:"path"`
	Count    Int           `json:"count"`
	Total    *int          `json:"totalCount,omitempty"`
	HasMore  bool          `json:"hasMore,omitempty"`
	Defaults ModelDefaults `json:"defaults"`
	Sessions []SessionRow  `json:"sessions"`
}

// ModelDefaults are the gateway's default model and context size.
type ModelDefaults struct {
	ModelProvider string `json:"modelProvider,omitempty"`
	Model         string `json:"model,omitempty"`
	ContextTokens Int    `json:"contextTokens,omitempty"`
}

// SessionRow is one row of sessions.list. On protocol 3 Model is the model of
// the last run; on protocol 4 it is the selected model (docs/protocol.md §3.4).
type SessionRow struct {
	Key           string `json:"key"`
	Kind          string `json:"kind,omitempty"`
	Label         string `json:"label,omitempty"`
	DisplayName   string `json:"displayName,omitempty"`
	SessionID     string `json:"sessionId,omitempty"`
	AgentID       string `json:"agentId,omitempty"`
	UpdatedAt     Int    `json:"updatedAt,omitempty"`
	InputTokens   Int    `json:"inputTokens,omitempty"`
	OutputTokens  Int    `json:"outputTokens,omitempty"`
	TotalTokens   Int    `json:"totalTokens,omitempty"`
	ContextTokens Int    `json:"contextTokens,omitempty"`
	ModelProvider string `json:"modelProvider,omitempty"`
	Model         string `json:"model,omitempty"`
	// ModelOverrideSource (protocol 4) is "user", "auto" or "inherited"
	// when the session has a model override, null when it runs on the
	// default model. Protocol 3 rows have no such field.
	ModelOverrideSource string `json:"modelOverrideSource,omitempty"`
	// EstimatedCostUSD (protocol 4) is the session's estimated cost so far
	// in US dollars, from the configured model prices; "" when the row has
	// none (protocol 3 rows never have one). A json.Number, so that an
	// absurd value (1e400) cannot make the whole list undecodable.
	EstimatedCostUSD json.Number `json:"estimatedCostUsd,omitempty"`
}

// ModelRef joins a provider and a model id as "provider/model". A model id
// that already carries a provider prefix is returned unchanged.
func ModelRef(provider, model string) string {
	switch {
	case model == "":
		return ""
	case provider == "" || strings.HasPrefix(model, provider+"/"):
		return model
	default:
		return provider + "/" + model
	}
}

// SessionsPatchResult is the sessions.patch result of either generation.
type SessionsPatchResult struct {
	OK       bool           `json:"ok"`
	Path     string         `json:"path,omitempty"`
	Key      string         `json:"key"`
	Entry    SessionEntry   `json:"entry"`
	Resolved *PatchResolved `json:"resolved,omitempty"`
}

// SessionEntry is the part of the stored session entry clawgate reads.
type SessionEntry struct {
	SessionID        string `json:"sessionId,omitempty"`
	ProviderOverride string `json:"providerOverride,omitempty"`
	ModelOverride    string `json:"modelOverride,omitempty"`
}

// PatchResolved is the protocol-4 summary of the session's effective model.
type PatchResolved struct {
	ModelProvider string `json:"modelProvider,omitempty"`
	Model         string `json:"model,omitempty"`
}

// OverrideModel is the session's model override as "provider/model", or ""
// when the session has none. It reads entry.providerOverride/modelOverride,
// which both generations store (docs/protocol.md §3.5).
func (r *SessionsPatchResult) OverrideModel() string {
	return ModelRef(r.Entry.ProviderOverride, r.Entry.ModelOverride)
}

// EffectiveModel is the model the session will run on: protocol 4's resolved
// model, else the override, else "" (the gateway default, unknown here).
func (r *SessionsPatchResult) EffectiveModel() string {
	if r.Resolved != nil && r.Resolved.Model != "" {
		return ModelRef(r.Resolved.ModelProvider, r.Resolved.Model)
	}
	return r.OverrideModel()
}

// SessionsPatchParams are sessions.patch params. Model nil means "clear the
// override" and is sent as JSON null, which both generations accept.
type SessionsPatchParams struct {
	Key   string
	Model *string
}

// MarshalJSON always writes the model key, as a string or as null.
func (p SessionsPatchParams) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key   string  `json:"key"`
		Model *string `json:"model"`
	}{p.Key, p.Model})
}

// SessionsDeleteParams are the sessions.delete params both generations
// accept; the transcript is archived (deleteTranscript defaults to true).
type SessionsDeleteParams struct {
	Key string `json:"key"`
}

// SessionsDeleteResult is the sessions.delete result.
type SessionsDeleteResult struct {
	Key     string `json:"key"`
	Deleted bool   `json:"deleted"`
}
