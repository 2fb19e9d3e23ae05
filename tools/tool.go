package tools

import (
	"context"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/internal/safetext"
)

// toolDef is what a tool states about itself besides its argument and
// result types: the metadata and the annotations MCP clients see. Every
// annotation is served explicitly, false included.
type toolDef struct {
	name, title, description string
	// readOnly: the tool changes nothing on the gateway and runs no agent.
	// A tool that is not readOnly is a write tool (see write).
	readOnly bool
	// destructive: the tool may destroy data (only meaningful for a write
	// tool; no tool of clawgate does).
	destructive bool
	// idempotent: calling the tool again with the same arguments has no
	// further effect.
	idempotent bool
	// openWorld: the tool reaches beyond the gateway's own state (an agent
	// run talks to a model provider and may use tools).
	openWorld bool
	// hideReadOnly: a read tool --read-only leaves out all the same,
	// because it has nothing to do there (wait_subagent and list_subagents
	// serve runs that only a clawgate with the write tools starts, and
	// agent.wait needs operator.write).
	hideReadOnly bool
}

// write reports whether --read-only leaves d out: a write tool (such a
// clawgate connects with operator.read only, with which a write tool could
// not work anyway), or a read tool with nothing to do there.
func (d toolDef) write() bool { return !d.readOnly || d.hideReadOnly }

// handlerFunc is a tool's typed handler. It gets the arguments decoded
// into In (already checked against the input schema reflected from In) and
// returns the structured result, which must match the output schema
// reflected from Out, and the short text of the result. An error becomes an
// isError result whose text is the error's message with its advice
// (Explain).
type handlerFunc[In, Out any] func(t *tools, ctx context.Context, req mcp.CallToolRequest, in In) (Out, string, error)

// tool is one tool of the registry: its definition, the types its input and
// output schemas are reflected from, and its handler.
type tool struct {
	toolDef
	// in and out are pointers to zero values of the handler's argument
	// and result types, for reflection only.
	in, out any
	// handler binds the typed handler to the server's shared state.
	handler func(t *tools) server.ToolHandlerFunc
}

// newTool defines a tool from its definition and its typed handler. The
// input and output schemas are reflected from the handler's In and Out
// types (see toolSchema), so the types are stated once, in the handler's
// signature.
func newTool[In, Out any](def toolDef, fn handlerFunc[In, Out]) tool {
	return tool{
		toolDef: def,
		in:      new(In),
		out:     new(Out),
		handler: func(t *tools) server.ToolHandlerFunc { return handle(t, fn) },
	}
}

// mcpTool builds the MCP tool definition: generated schemas and explicit
// annotations.
func (d tool) mcpTool() (mcp.Tool, error) {
	in, err := toolSchema(d.in)
	if err != nil {
		return mcp.Tool{}, err
	}
	out, err := toolSchema(d.out)
	if err != nil {
		return mcp.Tool{}, err
	}
	tl := mcp.NewToolWithRawSchema(d.name, d.description, in)
	for _, opt := range []mcp.ToolOption{
		mcp.WithRawOutputSchema(out),
		mcp.WithTitleAnnotation(d.title),
		mcp.WithReadOnlyHintAnnotation(d.readOnly),
		mcp.WithDestructiveHintAnnotation(d.destructive),
		mcp.WithIdempotentHintAnnotation(d.idempotent),
		mcp.WithOpenWorldHintAnnotation(d.openWorld),
	} {
		opt(&tl)
	}
	return tl, nil
}

// handle adapts a typed handler: it binds the arguments (already checked
// against the input schema by argValidator.wrap), and turns its result into
// structuredContent plus text, or its error into an isError result.
func handle[In, Out any](t *tools, fn handlerFunc[In, Out]) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in In
		if err := req.BindArguments(&in); err != nil {
			return mcp.NewToolResultError(bindError(req.Params.Name, err)), nil
		}
		out, text, err := fn(t, ctx, req, in)
		if err != nil {
			// Errors quote gateway text: no raw control characters.
			return mcp.NewToolResultError(safetext.Text(Explain(err))), nil
		}
		return mcp.NewToolResultStructured(out, text), nil
	}
}
