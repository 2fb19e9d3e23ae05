package schema

// Status is the part of the status result clawgate reads. Both generations
// send sessions.count, sessions.defaults and sessions.recent; everything else
// is version-specific and display-only.
type Status struct {
	Sessions struct {
		Count    Int             `json:"count"`
		Defaults StatusDefaults  `json:"defaults"`
		Recent   []SessionStatus `json:"recent"`
	} `json:"sessions"`
}

// StatusDefaults are the default model and context size in a status result.
type StatusDefaults struct {
	Model         string `json:"model,omitempty"`
	ContextTokens Int    `json:"contextTokens,omitempty"`
}

// SessionStatus is one recent session in a status result.
type SessionStatus struct {
	Key             string   `json:"key"`
	Kind            string   `json:"kind,omitempty"`
	SessionID       string   `json:"sessionId,omitempty"`
	UpdatedAt       Int      `json:"updatedAt,omitempty"`
	TotalTokens     *Int     `json:"totalTokens,omitempty"`
	RemainingTokens *Int     `json:"remainingTokens,omitempty"`
	PercentUsed     *float64 `json:"percentUsed,omitempty"`
	Model           string   `json:"model,omitempty"`
	ContextTokens   *Int     `json:"contextTokens,omitempty"`
}
