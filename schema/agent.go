package schema

import (
	"encoding/json"
	"strings"
	"time"
)

// AgentParams are agent request params (docs/protocol.md §3.7). Both
// generations' schemas are closed: the keys above the line are the ones both
// accept; those below it only protocol 4 (OpenClaw 2026.9) knows, and they are
// omitted when empty so that a protocol 3 request never carries them. Timeout
// is omitted when zero because protocol 3 fails a run with timeout 0.
type AgentParams struct {
	Message           string `json:"message"`
	IdempotencyKey    string `json:"idempotencyKey"`
	SessionKey        string `json:"sessionKey,omitempty"`
	AgentID           string `json:"agentId,omitempty"`
	Thinking          string `json:"thinking,omitempty"`
	Timeout           int    `json:"timeout,omitempty"`
	ExtraSystemPrompt string `json:"extraSystemPrompt,omitempty"`
	Label             string `json:"label,omitempty"`
	Lane              string `json:"lane,omitempty"`

	// Protocol 4 only.
	Provider             string `json:"provider,omitempty"`
	Model                string `json:"model,omitempty"`
	ModelRun             bool   `json:"modelRun,omitempty"`
	PromptMode           string `json:"promptMode,omitempty"`
	BootstrapContextMode string `json:"bootstrapContextMode,omitempty"`
}

// Prompt modes of protocol 4's agent method: "minimal" keeps the agent's
// tools but a short system prompt; "none" sends no system prompt and needs
// modelRun. Bootstrap context "lightweight" leaves the workspace's
// bootstrap files out of the prompt.
const (
	PromptModeMinimal    = "minimal"
	PromptModeNone       = "none"
	BootstrapLightweight = "lightweight"
)

// Agent run statuses seen in agent responses.
const (
	RunAccepted = "accepted"
	RunOK       = "ok"
	RunError    = "error"
	RunTimeout  = "timeout"
	RunInFlight = "in_flight"
)

// AgentReply is the payload of either agent response: the accepted
// acknowledgement or the final result.
type AgentReply struct {
	RunID      string `json:"runId"`
	Status     string `json:"status"`
	Summary    string `json:"summary,omitempty"`
	SessionKey string `json:"sessionKey,omitempty"`
	AgentID    string `json:"agentId,omitempty"`
	AcceptedAt int64  `json:"acceptedAt,omitempty"`
	StopReason string `json:"stopReason,omitempty"`
	// TimeoutPhase is set by protocol 4 when the run hit its own timeout.
	TimeoutPhase string       `json:"timeoutPhase,omitempty"`
	Result       *AgentResult `json:"result,omitempty"`
}

// AgentResult is the result of a finished run.
type AgentResult struct {
	Payloads []AgentPayload `json:"payloads"`
	Meta     AgentMeta      `json:"meta"`
}

// AgentPayload is one reply payload; Text may be empty.
type AgentPayload struct {
	Text      string   `json:"text"`
	MediaURL  *string  `json:"mediaUrl,omitempty"`
	MediaURLs []string `json:"mediaUrls,omitempty"`
}

// AgentMeta describes how a run went.
type AgentMeta struct {
	DurationMs Int `json:"durationMs"`
	AgentMeta  *struct {
		SessionID string `json:"sessionId,omitempty"`
		Provider  string `json:"provider,omitempty"`
		Model     string `json:"model,omitempty"`
		Usage     *Usage `json:"usage,omitempty"`
		// CostUSD is the run's cost in US dollars (protocol 4; the same
		// as Usage.Cost.Total).
		CostUSD *float64 `json:"costUsd,omitempty"`
	} `json:"agentMeta,omitempty"`
	Aborted    bool   `json:"aborted,omitempty"`
	StopReason string `json:"stopReason,omitempty"`
	Error      *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Usage counts the tokens of a run.
type Usage struct {
	Input      Int `json:"input"`
	Output     Int `json:"output"`
	CacheRead  Int `json:"cacheRead,omitempty"`
	CacheWrite Int `json:"cacheWrite,omitempty"`
	Total      Int `json:"total"`
	// Cost is what the gateway reports the run cost (protocol 4); nil when
	// it reports none.
	Cost *Cost `json:"cost,omitempty"`
}

// Cost is a run's cost in US dollars as the gateway computed it from its
// model catalog's prices.
type Cost struct {
	Input      *float64 `json:"input,omitempty"`
	Output     *float64 `json:"output,omitempty"`
	CacheRead  *float64 `json:"cacheRead,omitempty"`
	CacheWrite *float64 `json:"cacheWrite,omitempty"`
	Total      *float64 `json:"total,omitempty"`
}

// Text joins the texts of all payloads with blank lines, skipping empty ones.
func (r *AgentReply) Text() string {
	if r.Result == nil {
		return ""
	}
	var parts []string
	for _, p := range r.Result.Payloads {
		if t := strings.TrimSpace(p.Text); t != "" {
			parts = append(parts, p.Text)
		}
	}
	return strings.Join(parts, "\n\n")
}

// Aborted reports whether the run ended early: aborted by a client or
// stopped by its timeout (see TimedOut).
func (r *AgentReply) Aborted() bool {
	return r.Summary == "aborted" || (r.Result != nil && r.Result.Meta.Aborted)
}

// TimedOut reports whether the run was stopped by its own timeout. Protocol
// 4 says so with timeoutPhase (a client abort has stopReason "rpc");
// protocol 3 reports a timed-out run as status ok with meta.aborted, which is
// told apart from a completed run only by ranFor reaching the timeout.
func (r *AgentReply) TimedOut(timeout, ranFor time.Duration) bool {
	switch {
	case r.TimeoutPhase != "":
		return true
	case r.Status == RunTimeout && r.StopReason != "rpc" && r.Summary != "aborted":
		return true
	}
	return r.Aborted() && r.StopReason != "rpc" && timeout > 0 && ranFor >= timeout
}

// AgentEvent is an agent event payload: one step of one run's stream.
type AgentEvent struct {
	RunID      string          `json:"runId"`
	Seq        int64           `json:"seq"`
	Stream     string          `json:"stream"`
	TS         int64           `json:"ts,omitempty"`
	SessionKey string          `json:"sessionKey,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// AgentEventData is the union of the data fields of the lifecycle, assistant,
// tool and item streams that progress reporting reads.
type AgentEventData struct {
	Phase      string `json:"phase,omitempty"`
	Text       string `json:"text,omitempty"`
	Delta      string `json:"delta,omitempty"`
	Name       string `json:"name,omitempty"`
	Title      string `json:"title,omitempty"`
	Status     string `json:"status,omitempty"`
	ToolCallID string `json:"toolCallId,omitempty"`
	IsError    bool   `json:"isError,omitempty"`
	Error      string `json:"error,omitempty"`
	Aborted    bool   `json:"aborted,omitempty"`
}

// DecodeData decodes the event's data; a malformed data object yields zero
// values rather than an error, since events are advisory.
func (e *AgentEvent) DecodeData() AgentEventData {
	var d AgentEventData
	if len(e.Data) > 0 {
		_ = json.Unmarshal(e.Data, &d)
	}
	return d
}

// AbortParams are chat.abort params on protocol 4.
type AbortParams struct {
	SessionKey string `json:"sessionKey,omitempty"`
	RunID      string `json:"runId"`
}

// AbortResult is the result of chat.abort ({ok, aborted, runIds}) or of
// sessions.abort ({ok, abortedRunId, status}).
type AbortResult struct {
	OK           bool     `json:"ok"`
	Aborted      bool     `json:"aborted"`
	RunIDs       []string `json:"runIds,omitempty"`
	AbortedRunID string   `json:"abortedRunId,omitempty"`
	Status       string   `json:"status,omitempty"`
}

// DidAbort reports whether the gateway says it aborted a run.
func (r *AbortResult) DidAbort() bool { return r.Aborted || r.AbortedRunID != "" }

// SessionsAbortParams are sessions.abort params (protocol 4).
type SessionsAbortParams struct {
	RunID string `json:"runId"`
}
