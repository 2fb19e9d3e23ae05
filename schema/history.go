package schema

import (
	"encoding/json"
	"strings"
)

// ChatHistoryParams are the chat.history params both generations accept.
// Clawdbot's schema is closed to these two keys; OpenClaw's also has
// offset, cursor, maxChars, maxBytes and others (not used by clawgate).
// Both refuse a limit outside 1..1000.
type ChatHistoryParams struct {
	SessionKey string `json:"sessionKey"`
	Limit      int    `json:"limit,omitempty"`
}

// ChatHistoryMaxLimit is the largest limit either generation's chat.history
// accepts (both answer with the newest limit messages; neither can reach a
// message further back without OpenClaw's offset).
const ChatHistoryMaxLimit = 1000

// ChatHistory is the chat.history result: the session's transcript
// messages, oldest first, in the gateway's own shapes (decode each with
// DecodeHistoryMessage).
//
// SessionID is the session's current transcript id; both generations leave
// it out for a key that names no stored session (recorded: a deleted key, a
// key never used, a model run's key), and send it for a session that exists
// but has no messages yet. HasMoreRaw is OpenClaw's hasMore (see More);
// Clawdbot does not send it.
type ChatHistory struct {
	SessionKey string            `json:"sessionKey,omitempty"`
	SessionID  string            `json:"sessionId,omitempty"`
	Messages   []json.RawMessage `json:"messages"`
	HasMoreRaw json.RawMessage   `json:"hasMore,omitempty"`
}

// More reports whether the transcript holds older messages than those sent
// (OpenClaw's hasMore), and known false when the gateway did not say
// (Clawdbot) or said it in a shape other than a boolean.
func (h *ChatHistory) More() (more, known bool) {
	var b bool
	if len(h.HasMoreRaw) == 0 || json.Unmarshal(h.HasMoreRaw, &b) != nil {
		return false, false
	}
	return b, true
}

// HistoryMessage is one chat.history message of either generation, as far
// as a reader of the conversation needs it. The shapes, as OpenClaw
// 2026.9.6 and Clawdbot 2026.1.24-3 send them (recorded in
// testdata/frames/extra-*.jsonl, scenarios subagent-session and
// reply-markers; tool calls and failed model calls probed on real gateways):
//
//   - user: {role:"user", content, timestamp}; content is a string on
//     OpenClaw and [{type:"text", text}] on Clawdbot. Neither carries the
//     "[timestamp] " prefix the model sees: Clawdbot stores the text as sent
//     and strips channel envelopes from chat.history, and OpenClaw's
//     injected <<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> message is a "custom"
//     transcript entry its chat.history leaves out.
//   - assistant: {role:"assistant", content:[parts], provider, model,
//     stopReason, usage, timestamp}, plus errorMessage for a failed model
//     call (Clawdbot: content [] and stopReason "error"; OpenClaw: a text
//     part "⚠️ LLM request failed …" and stopReason "error"). A part is
//     {type:"text", text}, {type:"toolCall", id, name, arguments} or
//     another kind (thinking, image, …). OpenClaw shows one transcript
//     entry with text and tool calls as two messages with the same
//     __openclaw.id and seq: the text (with openclawStreamFallback) and
//     then the tool calls.
//   - toolResult: {role:"toolResult", toolCallId, toolName, isError,
//     content}, one per tool call, after the assistant message that made it.
//
// OpenClaw adds __openclaw {id, seq, runId, truncated, …}: seq numbers the
// transcript's records from 1; truncated marks a text chat.history cut
// itself (at 8000 characters unless the caller sets maxChars), ending in
// "\n...(truncated)...".
type HistoryMessage struct {
	Role         string          `json:"role"`
	Content      json.RawMessage `json:"content"`
	Text         string          `json:"text"`
	Timestamp    Int             `json:"timestamp"`
	Provider     string          `json:"provider"`
	Model        string          `json:"model"`
	StopReason   string          `json:"stopReason"`
	ErrorMessage string          `json:"errorMessage"`
	ToolCallID   string          `json:"toolCallId"`
	ToolName     string          `json:"toolName"`
	IsError      bool            `json:"isError"`
	Usage        *HistoryUsage   `json:"usage"`
	OpenClaw     *HistoryMeta    `json:"__openclaw"`
}

// HistoryUsage is an assistant message's usage: its tokens and, where the
// gateway prices the model, its cost.
type HistoryUsage struct {
	Input       Int `json:"input"`
	Output      Int `json:"output"`
	CacheRead   Int `json:"cacheRead"`
	CacheWrite  Int `json:"cacheWrite"`
	TotalTokens Int `json:"totalTokens"`
	// CostTotal is usage.cost.total (US$); nil when absent.
	CostTotal *float64 `json:"-"`
}

// HistoryMeta is OpenClaw's __openclaw block of a chat.history message.
type HistoryMeta struct {
	ID        string `json:"id"`
	RunID     string `json:"runId"`
	Seq       Int    `json:"seq"`
	Truncated bool   `json:"truncated"`
}

// HistoryPart is one part of a message's content array.
type HistoryPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DecodeHistoryMessage decodes one chat.history message leniently: fields
// of an unexpected type are left at their zero value rather than making the
// whole message undecodable. ok is false only when raw is not a JSON
// object.
func DecodeHistoryMessage(raw json.RawMessage) (m HistoryMessage, ok bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return m, false
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(fields[k], &s)
		return s
	}
	m.Role = str("role")
	m.Content = fields["content"]
	m.Text = str("text")
	_ = json.Unmarshal(fields["timestamp"], &m.Timestamp)
	m.Provider, m.Model = str("provider"), str("model")
	m.StopReason, m.ErrorMessage = str("stopReason"), str("errorMessage")
	m.ToolCallID, m.ToolName = str("toolCallId"), str("toolName")
	_ = json.Unmarshal(fields["isError"], &m.IsError)
	if b, ok := fields["usage"]; ok {
		var u map[string]json.RawMessage
		if json.Unmarshal(b, &u) == nil && u != nil {
			var hu HistoryUsage
			_ = json.Unmarshal(u["input"], &hu.Input)
			_ = json.Unmarshal(u["output"], &hu.Output)
			_ = json.Unmarshal(u["cacheRead"], &hu.CacheRead)
			_ = json.Unmarshal(u["cacheWrite"], &hu.CacheWrite)
			_ = json.Unmarshal(u["totalTokens"], &hu.TotalTokens)
			var cost struct {
				Total *float64 `json:"total"`
			}
			if json.Unmarshal(u["cost"], &cost) == nil {
				hu.CostTotal = cost.Total
			}
			m.Usage = &hu
		}
	}
	if b, ok := fields["__openclaw"]; ok {
		var meta map[string]json.RawMessage
		if json.Unmarshal(b, &meta) == nil && meta != nil {
			var h HistoryMeta
			_ = json.Unmarshal(meta["id"], &h.ID)
			_ = json.Unmarshal(meta["runId"], &h.RunID)
			_ = json.Unmarshal(meta["seq"], &h.Seq)
			_ = json.Unmarshal(meta["truncated"], &h.Truncated)
			m.OpenClaw = &h
		}
	}
	return m, true
}

// Parts returns the message's content as parts: a string content (or a
// text field) is one text part; array elements that are not objects are
// left out.
func (m HistoryMessage) Parts() []HistoryPart {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []HistoryPart{{Type: "text", Text: s}}
	}
	var raws []json.RawMessage
	if json.Unmarshal(m.Content, &raws) != nil {
		if m.Text != "" {
			return []HistoryPart{{Type: "text", Text: m.Text}}
		}
		return nil
	}
	parts := make([]HistoryPart, 0, len(raws))
	for _, r := range raws {
		var f map[string]json.RawMessage
		if json.Unmarshal(r, &f) != nil || f == nil {
			continue
		}
		var p HistoryPart
		_ = json.Unmarshal(f["type"], &p.Type)
		_ = json.Unmarshal(f["text"], &p.Text)
		_ = json.Unmarshal(f["id"], &p.ID)
		_ = json.Unmarshal(f["name"], &p.Name)
		parts = append(parts, p)
	}
	return parts
}

// IsToolCall reports whether p is a tool call: "toolCall" in both
// generations' transcripts ("tool_use" and "toolUse" are the names other
// providers' shapes use).
func (p HistoryPart) IsToolCall() bool {
	switch strings.ToLower(p.Type) {
	case "toolcall", "tool_use", "tooluse", "tool_call":
		return true
	}
	return false
}

// IsToolResult reports whether m is the result of a tool call rather than
// a message of the conversation.
func (m HistoryMessage) IsToolResult() bool {
	switch strings.ToLower(m.Role) {
	case "toolresult", "tool", "tool_result":
		return true
	}
	return false
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
