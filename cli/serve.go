package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/internal/stdioguard"
	"github.com/clawgate/clawgate/tools"
)

// serve runs the MCP server on stdin/stdout until EOF or ctx ends; both
// are a clean end (nil), as is a signal before the server started.
func (a *app) serve(ctx context.Context) error {
	if err := a.connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // a signal during discovery
		}
		return err
	}
	opts, env, log := a.opts, a.env, a.log
	// A client that closes our stdout (SIGPIPE is ignored, so writes fail
	// with EPIPE) is gone like one that closes stdin: stop, and let Close
	// abort the runs in flight.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	stdout := &failWatch{w: env.Stdout, fail: func(err error) {
		log.Warn("stdout is closed; stopping as on EOF", "err", err)
		stop()
	}}
	stdio := server.NewStdioServer(a.srv)
	stdio.SetErrorLogger(slog.NewLogLogger(log.Handler(), slog.LevelError))
	// mcp-go runs tool calls on 5 workers by default: five long ask_subagent
	// runs would then hold up every other tool call. Use its maximum.
	server.WithWorkerPoolSize(toolWorkers)(stdio)
	// When its queue is full, mcp-go runs the next tool call on its read
	// loop, where a whole agent run would hold up every ping, cancellation
	// and EOF. The guard refuses a tool call past toolWorkers in flight, so
	// every call it lets through finds a worker (or, while one is being
	// freed, a place in a queue that size) and none waits where a
	// cancellation cannot reach it.
	server.WithQueueSize(toolWorkers)(stdio)
	// The guard, between mcp-go and stdin/stdout (see its package doc):
	// bounded lines and work, "busy" errors past toolWorkers tool calls,
	// exact ids and cancellation, malformed requests answered; no progress
	// after a result and no result after a cancellation (MCP).
	guard := stdioguard.New(env.Stdin, stdout, stdioguard.Options{
		// mcp-go's "tool 'x' not found" becomes a sentence naming the tools
		// (and the closest one), or saying --read-only disabled it.
		UnknownTool:  func(name string) string { return tools.UnknownToolMessage(name, opts.ReadOnly) },
		Logger:       log,
		MaxToolCalls: toolWorkers,
	})
	log.Info("clawgate serving MCP on stdio", "version", version(), "read_only", opts.ReadOnly)
	err := stdio.Listen(ctx, guard.Stdin(), guard.Stdout())
	if ferr := guard.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("could not write the last message to stdout (was the MCP client closed?): %w", ferr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// failWatch passes writes to w and calls fail once on the first write error.
type failWatch struct {
	w    io.Writer
	once sync.Once
	fail func(error)
}

func (f *failWatch) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		f.once.Do(func() { f.fail(err) })
	}
	return n, err
}
