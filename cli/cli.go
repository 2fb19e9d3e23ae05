// Package cli is clawgate's command line: flags and environment, logging,
// and the commands serve (the default), doctor, call, tools, simulate,
// version and help. main only wires signals and the exit code to Run.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/config"
	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/tools"
)

// Version is set at build time with -ldflags "-X github.com/clawgate/clawgate/cli.Version=v1.2.3";
// otherwise the module version from the build info is used.
var Version = ""

// Env is what Run needs from the process environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// ConfigEnv is the environment config discovery reads (OPENCLAW_*,
	// CLAWDBOT_*); nil means the real one.
	ConfigEnv config.Env
	// Home overrides the home directory for config discovery ("" = real).
	Home string
	// StderrTerminal reports that Stderr is a terminal: call then shows the
	// progress of a run there. Run sets it when Stderr is an *os.File
	// terminal.
	StderrTerminal bool
}

// toolWorkers is how many tool calls the stdio server runs at once.
const toolWorkers = 100

// Exit codes.
const (
	ExitOK        = 0
	ExitFailure   = 1 // a command failed (doctor found a problem, call returned isError)
	ExitUsage     = 2 // bad flags or arguments
	ExitInterrupt = 130
)

// Run runs clawgate with args (without the program name) and returns the
// exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.ConfigEnv == nil {
		env.ConfigEnv = config.OSEnv{}
	}
	if f, ok := env.Stderr.(*os.File); ok && IsTerminal(f) {
		env.StderrTerminal = true
	}
	// The log goroutine and direct messages share stderr.
	env.Stderr = &syncWriter{w: env.Stderr}
	inv, err := parseArgs(args, env.Getenv)
	if err != nil {
		fmt.Fprintln(env.Stderr, "clawgate:", err)
		var ue *usageError
		if errors.As(err, &ue) && ue.cmd != nil {
			fmt.Fprintf(env.Stderr, "Run 'clawgate %s -h' for its usage.\n", ue.cmd.name)
		} else {
			fmt.Fprintln(env.Stderr, "Run 'clawgate -h' for usage.")
		}
		return ExitUsage
	}
	switch {
	case inv.version:
		fmt.Fprintln(env.Stdout, versionLine())
		return ExitOK
	case inv.help && inv.overview:
		printHelp(env.Stdout, nil)
		return ExitOK
	case inv.help:
		printHelp(env.Stdout, inv.cmd)
		return ExitOK
	}
	opts := inv.opts
	level := opts.LogLevel
	if inv.cmd.name == "call" && !opts.LogLevelSet {
		level = slog.LevelWarn // call prints its own outcome
	}
	// Logs never block: a client that does not read stderr must not stall
	// a tool call or the gateway client's read loop.
	logOut := newAsyncWriter(env.Stderr)
	defer logOut.Close()
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	switch inv.cmd.name {
	case "serve":
		return exitCode(ctx, env, serve(ctx, opts, env, log))
	case "simulate":
		if len(inv.args) == 1 {
			g, err := parseSimulate(inv.args[0])
			if err != nil || g == "" {
				fmt.Fprintf(env.Stderr, "clawgate: simulate %q: want openclaw or clawdbot\n", inv.args[0])
				return ExitUsage
			}
			opts.Simulate = g
		}
		if opts.Simulate == "" {
			opts.Simulate = "openclaw"
		}
		return exitCode(ctx, env, serve(ctx, opts, env, log))
	case "doctor":
		return doctor(ctx, opts, env, log)
	case "call":
		return call(ctx, opts, env, log, inv.args)
	case "tools":
		printTools(env.Stdout, opts.ReadOnly)
		return ExitOK
	case "version":
		fmt.Fprintln(env.Stdout, versionLine())
		return ExitOK
	case "help":
		var cmd *command
		if len(inv.args) == 1 {
			if cmd = lookupCommand(inv.args[0]); cmd == nil {
				fmt.Fprintf(env.Stderr, "clawgate: help %q: no such command; the commands are %s\n", inv.args[0], strings.Join(commandNames(), ", "))
				return ExitUsage
			}
		}
		printHelp(env.Stdout, cmd)
		return ExitOK
	}
	panic("unreachable: command " + inv.cmd.name)
}

// IsTerminal reports whether f is a terminal (a character device).
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func exitCode(ctx context.Context, env Env, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return ExitOK
	}
	fmt.Fprintln(env.Stderr, "clawgate:", err)
	return ExitFailure
}

// version is clawgate's version: the -ldflags value, else the module
// version (set by go install module@version), else "dev".
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// versionLine is what clawgate version prints: the version, the VCS
// revision and commit date it was built from (when the build recorded
// them), and the Go version and platform.
func versionLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clawgate %s", version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		vcs := map[string]string{}
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if rev := vcs["vcs.revision"]; rev != "" {
			fmt.Fprintf(&b, ", revision %s", rev)
			if t := vcs["vcs.time"]; t != "" {
				fmt.Fprintf(&b, " (%s)", t)
			}
			if vcs["vcs.modified"] == "true" {
				b.WriteString(" with local changes")
			}
		} else {
			b.WriteString(", no VCS revision recorded")
		}
	}
	fmt.Fprintf(&b, ", %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// setup builds the gateway client (or the simulator) and the MCP server;
// the returned cleanup closes both. inner is the logger of the gateway
// client and of the tools' per-call lines (call, which prints the outcome
// itself, keeps them quiet unless asked). Discovery stops when ctx ends (a
// signal during a slow or hung file read).
func setup(ctx context.Context, opts *Options, env Env, log, inner *slog.Logger) (*server.MCPServer, *gateway.Client, *config.Settings, func(), error) {
	var settings *config.Settings
	gwOpts := gateway.Options{
		ReadOnly:               opts.ReadOnly,
		AllowInsecureTransport: opts.AllowInsecureTransport,
		DialTimeout:            opts.ConnectTimeout,
		CallTimeout:            opts.CallTimeout,
		ClientVersion:          version(),
		Logger:                 inner,
	}
	cleanup := func() {}
	if opts.Simulate != "" {
		sim, err := startSimulator(opts.Simulate, log)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		gwOpts.URL, gwOpts.Token = sim.URL, sim.Token
		cleanup = sim.Close
		log.Info("using a simulated gateway", "generation", opts.Simulate, "url", sim.URL)
	} else {
		s, err := config.DiscoverContext(ctx, config.Overrides{URL: opts.URL, Token: opts.Token, Password: opts.Password, ConfigPath: opts.ConfigPath}, env.ConfigEnv, env.Home)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("gateway config: %w", err)
		}
		settings = s
		for _, w := range s.Warnings {
			log.Warn("config: " + w)
		}
		gwOpts.URL, gwOpts.Token, gwOpts.Password, gwOpts.TLSFingerprint = s.URL.Value, s.Token.Value, s.Password.Value, s.TLSFingerprint.Value
	}
	gw, err := gateway.New(gwOpts)
	if err != nil {
		cleanup()
		return nil, nil, settings, nil, err
	}
	srv, err := tools.NewServer(tools.Config{
		Gateway: gw, ReadOnly: opts.ReadOnly, AllowModels: opts.AllowModels, DefaultTimeout: opts.Timeout,
		AllowMainSession: opts.AllowMainSession, Version: version(), Logger: inner,
	})
	if err != nil {
		gw.Close()
		cleanup()
		return nil, nil, settings, nil, err
	}
	return srv, gw, settings, func() { gw.Close(); cleanup() }, nil
}
