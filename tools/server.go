// Package tools is clawgate's MCP server: the tools gateway_status,
// list_sessions, list_models, patch_session_model and ask_subagent, each
// backed by one gateway call (ask_subagent by two when it sets a model).
//
// Every tool has input and output schemas generated from the types in
// package schema, all four annotations set explicitly, and returns both
// structuredContent and a short text. Gateway failures, refusals and
// timeouts are isError results whose text says what to do; JSON-RPC errors
// are left for malformed requests.
package tools

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

//go:embed instructions.md
var instructions string

// DefaultTimeout is ask_subagent's default timeout: a wall-clock bound on
// the tool call, below the 60 s after which Claude Desktop and Codex (by
// default) stop waiting for a tool call.
const DefaultTimeout = 55 * time.Second

// toolsListTTL is the cache hint on tools/list results.
const toolsListTTL = time.Hour

// Config configures the MCP server.
type Config struct {
	Gateway Gateway
	// ReadOnly lists and accepts only the read tools.
	ReadOnly bool
	// AllowModels restricts the models patch_session_model and ask_subagent
	// may select.
	AllowModels ModelPolicy
	// DefaultTimeout is ask_subagent's timeout when the caller gives none.
	DefaultTimeout time.Duration
	// AllowMainSession lets ask_subagent run in the gateway's main session.
	AllowMainSession bool
	Version          string
	Logger           *slog.Logger
}

// Names of the tools, in the order they are listed.
const (
	ToolGatewayStatus     = "gateway_status"
	ToolListSessions      = "list_sessions"
	ToolListModels        = "list_models"
	ToolPatchSessionModel = "patch_session_model"
	ToolAskSubagent       = "ask_subagent"
)

// tools holds the configuration the handlers share.
type tools struct {
	cfg Config
	gw  Gateway
	log *slog.Logger
}

// toolDef is one tool: its metadata, schemas' source types and handler.
type toolDef struct {
	name, title, description   string
	in, out                    any
	readOnly, idempotent, open bool
	handler                    server.ToolHandlerFunc
}

// NewServer returns the MCP server with the tools cfg allows.
func NewServer(cfg Config) (*server.MCPServer, error) {
	if cfg.Gateway == nil {
		return nil, fmt.Errorf("tools: no gateway")
	}
	if err := cfg.AllowModels.Validate(); err != nil {
		return nil, err
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	t := &tools{cfg: cfg, gw: cfg.Gateway, log: cfg.Logger}
	s := server.NewMCPServer("clawgate", cfg.Version,
		server.WithToolCapabilities(false),
		server.WithInstructions(instructions),
		server.WithRecovery(),
		// No server.WithInputSchemaValidation(): its messages are Go struct
		// dumps; each tool validates its arguments itself (validate.go).
		server.WithOutputSchemaValidation(),
		server.WithToolHandlerMiddleware(t.logCalls),
		// The tool list is fixed for the life of the process (MCP
		// 2026-07-28 clients may cache it); private: it depends on this
		// process's flags.
		server.WithMethodCacheHints(mcp.MethodToolsList, toolsListTTL.Milliseconds(), mcp.CacheScopePrivate),
	)
	defs, err := t.definitions()
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if cfg.ReadOnly && !d.readOnly {
			continue
		}
		tool, err := d.tool()
		if err != nil {
			return nil, err
		}
		v, err := newArgValidator(d.name, tool.RawInputSchema)
		if err != nil {
			return nil, err
		}
		s.AddTool(tool, v.wrap(d.handler))
	}
	return s, nil
}

// definitions lists every tool, read and write; NewServer leaves out the
// write tools (readOnly false) in read-only mode. It needs no gateway: the
// handlers only use t when they are called, so Catalog can list the tools
// from a zero tools.
func (t *tools) definitions() ([]toolDef, error) {
	defs := []toolDef{
		{
			name: ToolGatewayStatus, title: "Gateway status",
			description: "Check whether the OpenClaw/Clawdbot gateway is reachable, which version and protocol it runs, its default model, " +
				"and how full the main session's context window is. Spends no tokens. A down gateway is not an error: connected is false and error says why.",
			in: &schema.GatewayStatusInput{}, out: &schema.GatewayStatusOutput{},
			readOnly: true, idempotent: true, handler: handle(t.gatewayStatus),
		},
		{
			name: ToolListSessions, title: "List sessions",
			description: "List the gateway's sessions, most recently updated first, with each session's model and token use. " +
				`Example: {"limit": 5, "search": "subagent"}.`,
			in: &schema.ListSessionsInput{}, out: &schema.ListSessionsOutput{},
			readOnly: true, idempotent: true, handler: handle(t.listSessions),
		},
		{
			name: ToolListModels, title: "List models",
			description: "List the models the gateway offers (only those clawgate may select when it runs with --allow-model). " +
				`Use an id from here for patch_session_model or ask_subagent. Example: {"provider": "anthropic"}.`,
			in: &schema.ListModelsInput{}, out: &schema.ListModelsOutput{},
			readOnly: true, idempotent: true, handler: handle(t.listModels),
		},
	}
	return append(defs,
		toolDef{
			name: ToolPatchSessionModel, title: "Set a session's model",
			description: "Override the model of one gateway session, for example to switch it to a cheaper model, or clear the override with model null. " +
				"Returns the model the session now uses. A model the gateway or clawgate does not allow is refused with the list of allowed models. " +
				`Example: {"session_key": "agent:main:subagent", "model": "anthropic/claude-sonnet-4-5"}.`,
			in: &schema.PatchSessionModelInput{}, out: &schema.PatchSessionModelOutput{},
			idempotent: true, handler: handle(t.patchSessionModel),
		},
		toolDef{
			name: ToolAskSubagent, title: "Ask a subagent",
			description: "Delegate a self-contained subtask to a gateway agent run and return its final answer, optionally on a cheaper model. " +
				"The subagent does not see your conversation: the message must contain everything it needs. Runs in a dedicated session " +
				"(default agent:<agent>:subagent), reports progress while it runs, and is aborted on the gateway when cancelled or after timeout_seconds. " +
				`Example: {"message": "List three risks of storing tokens in plain JSON files.", "model": "anthropic/claude-sonnet-4-5", "timeout_seconds": 120}.`,
			in: &schema.AskSubagentInput{}, out: &schema.AskSubagentOutput{},
			open: true, handler: handle(t.askSubagent),
		},
	), nil
}

// tool builds the mcp.Tool with generated schemas and explicit annotations.
func (d toolDef) tool() (mcp.Tool, error) {
	in, err := schema.ToolSchema(d.in)
	if err != nil {
		return mcp.Tool{}, err
	}
	out, err := schema.ToolSchema(d.out)
	if err != nil {
		return mcp.Tool{}, err
	}
	tool := mcp.NewToolWithRawSchema(d.name, d.description, in)
	for _, opt := range []mcp.ToolOption{
		mcp.WithRawOutputSchema(out),
		mcp.WithTitleAnnotation(d.title),
		mcp.WithReadOnlyHintAnnotation(d.readOnly),
		mcp.WithDestructiveHintAnnotation(false),
		mcp.WithIdempotentHintAnnotation(d.idempotent),
		mcp.WithOpenWorldHintAnnotation(d.open),
	} {
		opt(&tool)
	}
	return tool, nil
}

// handle adapts a typed handler: it binds the arguments (already checked
// against the input schema by argValidator.wrap), and turns its result into
// structuredContent plus text, or its error into an isError result.
func handle[In, Out any](fn func(ctx context.Context, req mcp.CallToolRequest, in In) (Out, string, error)) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in In
		if err := req.BindArguments(&in); err != nil {
			return mcp.NewToolResultError(bindError(req.Params.Name, err)), nil
		}
		out, text, err := fn(ctx, req, in)
		if err != nil {
			// Errors quote gateway text: no raw control characters.
			return mcp.NewToolResultError(safetext.Text(err.Error())), nil
		}
		return mcp.NewToolResultStructured(out, text), nil
	}
}

// logCalls logs one line per tool call to the server's logger (stderr).
func (t *tools) logCalls(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		start := time.Now()
		res, err := next(ctx, req)
		isErr := err != nil || (res != nil && res.IsError)
		level := slog.LevelInfo
		if isErr {
			level = slog.LevelWarn
		}
		attrs := []any{"tool", req.Params.Name, "took", time.Since(start).Round(time.Microsecond), "is_error", isErr}
		if isErr && res != nil && len(res.Content) > 0 {
			if tc, ok := res.Content[0].(mcp.TextContent); ok {
				attrs = append(attrs, "error", tc.Text)
			}
		}
		t.log.Log(ctx, level, "tool call", attrs...)
		return res, err
	}
}
