package schema

// ModelsList is the models.list result of either generation.
type ModelsList struct {
	Models []ModelInfo `json:"models"`
}

// ModelInfo is one catalog entry. Ref gives the "provider/model" key that
// sessions.patch accepts.
type ModelInfo struct {
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	Provider      string `json:"provider,omitempty"`
	Alias         string `json:"alias,omitempty"`
	ContextWindow Int    `json:"contextWindow,omitempty"`
	Reasoning     bool   `json:"reasoning,omitempty"`
	Available     *bool  `json:"available,omitempty"`
	// ManualSelectionAllowed (OpenClaw, only for a connection whose connect
	// caps include "model-selection-policy") says whether the gateway's
	// model policy lets a session select this model. Absent elsewhere.
	ManualSelectionAllowed *bool `json:"manualSelectionAllowed,omitempty"`
}

// Ref is the model's "provider/model" key.
func (m ModelInfo) Ref() string { return ModelRef(m.Provider, m.ID) }
