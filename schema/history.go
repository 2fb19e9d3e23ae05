package schema

import "encoding/json"

// ChatHistoryParams are the chat.history params both generations accept.
type ChatHistoryParams struct {
	SessionKey string `json:"sessionKey"`
	Limit      int    `json:"limit,omitempty"`
}

// ChatHistory is the chat.history result: the session's transcript
// messages, oldest first, in the gateway's own shapes (decoded by the
// caller).
type ChatHistory struct {
	SessionKey string            `json:"sessionKey,omitempty"`
	Messages   []json.RawMessage `json:"messages"`
}

// AgentWaitParams are the agent.wait params: wait up to TimeoutMs (0: only
// look) for the run RunID to end.
type AgentWaitParams struct {
	RunID     string `json:"runId"`
	TimeoutMs int64  `json:"timeoutMs"`
}

// AgentWaitResult is the agent.wait result of either generation. Status is
// "ok" or "error" for an ended run, "timeout" when the wait (not the run)
// timed out, and on protocol 4 "pending" while the run is still queued.
type AgentWaitResult struct {
	RunID     string `json:"runId"`
	Status    string `json:"status"`
	StartedAt Int    `json:"startedAt,omitempty"`
	EndedAt   Int    `json:"endedAt,omitempty"`
	Error     string `json:"error,omitempty"`
}
