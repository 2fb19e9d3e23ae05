package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/mark3labs/mcp-go/server"
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
	log.Info("clawgate serving MCP on stdio", "version", version(), "read_only", opts.ReadOnly)
	err = stdio.Listen(ctx, env.Stdin, env.Stdout)
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
