package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/internal/stdioguard"
	"github.com/clawgate/clawgate/tools"
)

// serve runs the MCP server on stdin/stdout until EOF or ctx ends.
func serve(ctx context.Context, opts *Options, env Env, log *slog.Logger) error {
	srv, _, _, cleanup, err := setup(opts, env, log)
	if err != nil {
		return err
	}
	defer cleanup()
	stdio := server.NewStdioServer(srv)
	stdio.SetErrorLogger(slog.NewLogLogger(log.Handler(), slog.LevelError))
	// mcp-go runs tool calls on 5 workers by default: five long ask_subagent
	// runs would then hold up every other tool call. Use its maximum.
	server.WithWorkerPoolSize(toolWorkers)(stdio)
	// mcp-go's stdio transport can write a progress notification after the
	// result of its request, and writes results of cancelled requests; the
	// guard drops both (MCP: progress only while a request is in flight, no
	// result after notifications/cancelled).
	guard := stdioguard.New(env.Stdin, env.Stdout, stdioguard.Options{
		// mcp-go's "tool 'x' not found" becomes a sentence naming the tools
		// (and the closest one), or saying --read-only disabled it.
		UnknownTool: func(name string) string { return tools.UnknownToolMessage(name, opts.ReadOnly) },
		Logger:      log,
	})
	log.Info("clawgate serving MCP on stdio", "version", version(), "read_only", opts.ReadOnly)
	err = stdio.Listen(ctx, guard.Stdin(), guard.Stdout())
	if ferr := guard.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("could not write the last message to stdout (was the MCP client closed?): %w", ferr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
