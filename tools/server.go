// Package tools is clawgate's MCP server and its tools.
//
// A tool is one file of this package: its argument and result types, its
// definition (name, title, description, annotations; see newTool) and its
// handler. The input and output schemas are reflected from the handler's
// types, and registry (tools.go) is the one list of the tools that the
// server, the catalog, the read-only filter and the tests read.
//
// Every tool has all four annotations set explicitly and returns both
// structuredContent and a short text. Gateway failures, refusals and
// timeouts are isError results whose text says what to do; JSON-RPC errors
// are left for malformed requests.
package tools

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/internal/prose"
)

// instructionsTemplate is the server's instructions for the model, with
// readToolsMark where the names of the read tools go.
//
//go:embed instructions.md
var instructionsTemplate string

// readToolsMark stands for the names of the read tools in instructions.md.
const readToolsMark = "{{read_tools}}"

// instructions are the server's instructions for the model.
func instructions() string {
	return strings.ReplaceAll(instructionsTemplate, readToolsMark, prose.And(Names(true)))
}

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
	// Janitor removes ask_subagent's private sessions after their runs;
	// the caller drains it at exit (default: one nobody drains).
	Janitor *Janitor
	Version string
	Logger  *slog.Logger
}

// tools holds the configuration the handlers share.
type tools struct {
	cfg     Config
	gw      Gateway
	log     *slog.Logger
	janitor *Janitor
	book    *runBook // start_subagent's runs
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
	if cfg.Janitor == nil {
		cfg.Janitor = NewJanitor(cfg.Gateway, cfg.Logger)
	}
	t := &tools{cfg: cfg, gw: cfg.Gateway, log: cfg.Logger, janitor: cfg.Janitor, book: newRunBook()}
	s := server.NewMCPServer("clawgate", cfg.Version,
		server.WithToolCapabilities(false),
		server.WithInstructions(instructions()),
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
	for _, d := range registry {
		if cfg.ReadOnly && d.write() {
			continue
		}
		tl, err := d.mcpTool()
		if err != nil {
			return nil, err
		}
		v, err := newArgValidator(d.name, tl.RawInputSchema)
		if err != nil {
			return nil, err
		}
		s.AddTool(tl, v.wrap(d.handler(t)))
	}
	return s, nil
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
