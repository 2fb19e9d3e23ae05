// Package cli is clawgate's command line: flags and environment, logging,
// and the commands serve (the default), doctor, call, simulate and version.
// main only wires signals and the exit code to Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

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
	opts, rest, err := parseFlags("clawgate", args, env.Getenv, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "clawgate:", err)
		return ExitUsage
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: opts.LogLevel}))
	cmd := "serve"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return exitCode(ctx, env, serve(ctx, opts, env, log))
	case "simulate":
		if opts.Simulate == "" {
			opts.Simulate = "openclaw"
		}
		return exitCode(ctx, env, serve(ctx, opts, env, log))
	case "doctor":
		return doctor(ctx, opts, env, log)
	case "call":
		return call(ctx, opts, env, log, rest)
	case "version":
		fmt.Fprintf(env.Stdout, "clawgate %s\n", version())
		return ExitOK
	case "help":
		parseFlags("clawgate", []string{"-h"}, env.Getenv, env.Stderr)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "clawgate: unknown command %q (want serve, doctor, call, simulate or version; -h for help)\n", cmd)
	return ExitUsage
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

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// setup builds the gateway client (or the simulator) and the MCP server.
// The returned cleanup closes both.
func setup(opts *Options, env Env, log *slog.Logger) (*server.MCPServer, *gateway.Client, *config.Settings, func(), error) {
	var settings *config.Settings
	gwOpts := gateway.Options{
		ReadOnly:               opts.ReadOnly,
		AllowInsecureTransport: opts.AllowInsecureTransport,
		DialTimeout:            opts.ConnectTimeout,
		CallTimeout:            opts.CallTimeout,
		ClientVersion:          version(),
		Logger:                 log,
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
		s, err := config.Discover(config.Overrides{URL: opts.URL, Token: opts.Token, Password: opts.Password, ConfigPath: opts.ConfigPath}, env.ConfigEnv, env.Home)
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
		AllowMainSession: opts.AllowMainSession, Version: version(), Logger: log,
	})
	if err != nil {
		gw.Close()
		cleanup()
		return nil, nil, settings, nil, err
	}
	return srv, gw, settings, func() { gw.Close(); cleanup() }, nil
}
