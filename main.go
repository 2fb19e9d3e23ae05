// Command clawgate is an MCP server (JSON-RPC 2.0 over stdio) that lets AI
// assistants and agents use an OpenClaw or Clawdbot gateway safely and fast.
// See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/clawgate/clawgate/cli"
)

func main() {
	// A client that closes stdout must not kill clawgate with SIGPIPE before
	// it has aborted its runs: writes fail with EPIPE instead, and serve
	// shuts down as on EOF. SIGHUP (the client's terminal or session went
	// away) is handled like SIGTERM.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// The environment is the process's (cli.Env with neither Getenv nor
	// ConfigEnv).
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
