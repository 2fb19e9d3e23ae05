package mcptest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Message is a JSON-RPC message from the server. ID, Params and Result are
// exactly as sent.
type Message struct {
	JSONRPC string
	ID      json.RawMessage // nil: absent; "null": null
	Method  string
	Params  json.RawMessage
	Result  json.RawMessage
	Error   *RPCError

	line []byte
}

// Line is the line the message came on, exactly (without the newline).
func (m *Message) Line() string { return string(m.line) }

// IsResponse reports whether m is a response (an id and no method).
func (m *Message) IsResponse() bool { return m.ID != nil && m.Method == "" }

// IsNotification reports whether m is a notification (a method and no id).
func (m *Message) IsNotification() bool { return m.ID == nil && m.Method != "" }

// ProgressToken is the progressToken of a notifications/progress, exactly
// as sent, or nil.
func (m *Message) ProgressToken() json.RawMessage {
	if m.Method != "notifications/progress" {
		return nil
	}
	var p struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	_ = json.Unmarshal(m.Params, &p)
	return p.ProgressToken
}

// RPCError is a JSON-RPC error object; it is also the error Request returns
// for an error response.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// GarbageError is what Next returns for a stdout line that is not a
// JSON-RPC 2.0 message.
type GarbageError struct{ Line string }

func (e *GarbageError) Error() string {
	return fmt.Sprintf("a line that is not JSON-RPC 2.0 on stdout: %.300q", e.Line)
}

// Notification is a server notification and when it arrived.
type Notification struct {
	Method string
	Params json.RawMessage
	At     time.Time
}

// InitializeResult is the part of the initialize result tests check.
type InitializeResult struct {
	ProtocolVersion string                     `json:"protocolVersion"`
	Capabilities    map[string]json.RawMessage `json:"capabilities"`
	ServerInfo      struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"serverInfo"`
	Instructions string `json:"instructions"`
}

// Tool is a tool definition from tools/list.
type Tool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title,omitempty"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Annotations  map[string]any  `json:"annotations,omitempty"`
	Raw          json.RawMessage `json:"-"`
}

// Content is one content item of a tool result.
type Content struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
}

// ToolResult is a tools/call result.
type ToolResult struct {
	Content           []Content       `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError,omitempty"`
}

// Text joins the text content items.
func (r *ToolResult) Text() string {
	var parts []string
	for _, c := range r.Content {
		if c.Type == "text" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Decode decodes the structured content into v.
func (r *ToolResult) Decode(v any) error {
	if len(r.StructuredContent) == 0 {
		return fmt.Errorf("no structuredContent (isError=%v, text %q)", r.IsError, r.Text())
	}
	return json.Unmarshal(r.StructuredContent, v)
}

// CallParams builds tools/call params; progressToken, if not nil, goes into
// _meta.
func CallParams(name string, args any, progressToken any) map[string]any {
	if args == nil {
		args = map[string]any{}
	}
	p := map[string]any{"name": name, "arguments": args}
	if progressToken != nil {
		p["_meta"] = map[string]any{"progressToken": progressToken}
	}
	return p
}

// DecodeToolResult decodes a tools/call result.
func DecodeToolResult(raw json.RawMessage) (*ToolResult, error) {
	var r ToolResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode tool result: %w", err)
	}
	return &r, nil
}
