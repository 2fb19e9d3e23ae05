package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// call runs one tool in-process and prints its structured result.
func call(ctx context.Context, opts *Options, env Env, log *slog.Logger, args []string) int {
	if len(args) < 1 || len(args) > 2 {
		fmt.Fprintln(env.Stderr, "clawgate: usage: clawgate call TOOL [JSON-ARGUMENTS]")
		return ExitUsage
	}
	var arguments map[string]any
	if len(args) == 2 && strings.TrimSpace(args[1]) != "" {
		if err := json.Unmarshal([]byte(args[1]), &arguments); err != nil {
			fmt.Fprintf(env.Stderr, "clawgate: the arguments must be a JSON object, e.g. '{\"limit\": 5}': %v\n", err)
			return ExitUsage
		}
	}
	srv, _, _, cleanup, err := setup(opts, env, log)
	if err != nil {
		fmt.Fprintln(env.Stderr, "clawgate:", err)
		return ExitFailure
	}
	defer cleanup()
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		fmt.Fprintln(env.Stderr, "clawgate:", err)
		return ExitFailure
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		fmt.Fprintln(env.Stderr, "clawgate:", err)
		return ExitFailure
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "clawgate-call", Version: version()}
	if _, err := c.Initialize(ctx, init); err != nil {
		fmt.Fprintln(env.Stderr, "clawgate:", err)
		return ExitFailure
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = args[0]
	req.Params.Arguments = arguments
	res, err := c.CallTool(ctx, req)
	if err != nil {
		fmt.Fprintf(env.Stderr, "clawgate: %s: %v\n", args[0], err)
		return ExitFailure
	}
	if res.IsError {
		for _, ct := range res.Content {
			if tc, ok := ct.(mcp.TextContent); ok {
				fmt.Fprintln(env.Stderr, "clawgate:", args[0]+":", tc.Text)
			}
		}
		return ExitFailure
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res.StructuredContent); err != nil {
		fmt.Fprintln(env.Stderr, "clawgate:", err)
		return ExitFailure
	}
	return ExitOK
}
