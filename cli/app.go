package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/config"
	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/tools"
)

// app is one run of clawgate, built from the command line and the
// environment: the parsed invocation, the loggers and the asynchronous
// stderr writer behind them, and, once connect has run, the gateway client
// (on the gateway that config discovery found, or on the simulator) and the
// MCP server. The commands are its methods and return an error (see
// exitCode); Close releases everything it built.
type app struct {
	inv  *invocation
	opts *Options
	env  Env

	// logOut carries the log lines to stderr without ever blocking: a
	// client that does not read stderr must not stall a tool call or the
	// gateway client's read loop.
	logOut *asyncWriter
	// log is the command's own logger; inner is the gateway client's and
	// the tools' (see newApp for who is quiet when).
	log, inner *slog.Logger

	// Built by connect, released by Close.
	settings *config.Settings // what discovery found; nil with the simulator
	stateDir string           // clawgate's state directory (resolveStateDir)
	gwURL    string           // the gateway URL the client uses (discovered, or the simulator's)
	sim      *simulator
	gw       *gateway.Client
	janitor  *tools.Janitor // removes ask_subagent's private sessions
	srv      *server.MCPServer
}

// newApp parses the command line and sets up logging. Nothing touches the
// gateway (or its config) before a command calls connect.
func newApp(args []string, env Env) (*app, error) {
	inv, err := parseArgs(args, env)
	if err != nil {
		return nil, err
	}
	a := &app{inv: inv, opts: inv.opts, env: env, logOut: newAsyncWriter(env.Stderr)}
	level := a.opts.LogLevel
	if inv.cmd.name == "call" && !a.opts.LogLevelSet {
		level = callLogLevel // call prints its own outcome
	}
	a.log = slog.New(slog.NewTextHandler(a.logOut, &slog.HandlerOptions{Level: level}))
	a.inner = a.log
	quiet := slog.New(slog.DiscardHandler)
	switch inv.cmd.name {
	case "call":
		// The gateway client's and the tools' own lines would repeat the
		// error call prints; show them only when a log level was asked for.
		if !a.opts.LogLevelSet {
			a.inner = quiet
		}
	case "doctor":
		// doctor reports everything itself, on stdout.
		a.log, a.inner = quiet, quiet
	}
	return a, nil
}

// run runs the command of the invocation.
func (a *app) run(ctx context.Context) error {
	inv := a.inv
	switch {
	case inv.version:
		fmt.Fprintln(a.env.Stdout, versionLine())
		return nil
	case inv.help && inv.overview:
		printHelp(a.env.Stdout, nil)
		return nil
	case inv.help:
		printHelp(a.env.Stdout, inv.cmd)
		return nil
	}
	switch inv.cmd.name {
	case "serve":
		return a.serve(ctx)
	case "simulate":
		return a.simulate(ctx)
	case "doctor":
		return a.doctor(ctx)
	case "pair":
		return a.pair(ctx)
	case "call":
		return a.call(ctx)
	case "tools":
		printTools(a.env.Stdout, a.opts.ReadOnly)
		return nil
	case "version":
		fmt.Fprintln(a.env.Stdout, versionLine())
		return nil
	case "help":
		return a.help()
	}
	panic("unreachable: command " + inv.cmd.name)
}

// connect builds the gateway client (on the simulator with --simulate, else
// on the gateway config discovery finds) and the MCP server. The client
// connects lazily, on its first call. Discovery stops when ctx ends (a
// signal during a slow or hung file read). On an error, what was built
// stays for Close, and a.settings is set once discovery has succeeded.
func (a *app) connect(ctx context.Context) error {
	opts := a.opts
	stateDir, err := resolveStateDir(opts.StateDir, a.env)
	if err != nil {
		return err
	}
	a.stateDir = stateDir
	gwOpts := gateway.Options{
		ReadOnly:               opts.ReadOnly,
		AllowInsecureTransport: opts.AllowInsecureTransport,
		DialTimeout:            opts.ConnectTimeout,
		CallTimeout:            opts.CallTimeout,
		ClientVersion:          version(),
		Logger:                 a.inner,
		StateDir:               stateDir,
		DeviceMode:             opts.DeviceIdentity,
		DisplayName:            displayName(),
	}
	if a.inv.cmd.name == "pair" {
		gwOpts.DeviceMode = gateway.DeviceAlways
		gwOpts.MinBackoff, gwOpts.MaxBackoff = pairPoll/2, pairPoll/2
	}
	if opts.Simulate != "" {
		sim, err := startSimulator(opts.Simulate, a.log)
		if err != nil {
			return err
		}
		a.sim = sim
		gwOpts.URL, gwOpts.Token = sim.URL, sim.Token
		a.log.Info("using a simulated gateway", "generation", opts.Simulate, "url", sim.URL)
	} else {
		s, err := config.DiscoverContext(ctx, config.Overrides{URL: opts.URL, Token: opts.Token, Password: opts.Password, ConfigPath: opts.ConfigPath}, a.env, a.env.Home)
		if err != nil {
			return fmt.Errorf("gateway config: %w", err)
		}
		a.settings = s
		for _, w := range s.Warnings {
			a.log.Warn("config: " + w)
		}
		if opts.TLSFingerprint != "" {
			s.TLSFingerprint = config.Setting{Value: opts.TLSFingerprint, Source: a.source("tls-fingerprint")}
		}
		gwOpts.URL, gwOpts.Token, gwOpts.Password, gwOpts.TLSFingerprint = s.URL.Value, s.Token.Value, s.Password.Value, s.TLSFingerprint.Value
	}
	a.gwURL = gwOpts.URL
	gw, err := gateway.New(gwOpts)
	if err != nil {
		return err
	}
	a.gw = gw
	a.janitor = tools.NewJanitor(gw, a.inner)
	a.srv, err = tools.NewServer(tools.Config{
		Gateway: gw, ReadOnly: opts.ReadOnly, AllowModels: opts.AllowModels, DefaultTimeout: opts.Timeout,
		AllowMainSession: opts.AllowMainSession, Version: version(), Logger: a.inner, Janitor: a.janitor,
	})
	return err
}

// janitorDrainTimeout bounds how long Close waits for the removal of
// ask_subagent's private sessions.
const janitorDrainTimeout = 10 * time.Second

// Close closes the gateway client (aborting the runs still in flight), stops
// the simulator, and flushes the log lines still queued for stderr.
func (a *app) Close() {
	if a.janitor != nil {
		// Before the client closes: the private sessions of finished runs
		// are being removed, those of runs in flight are removed now.
		a.janitor.Drain(janitorDrainTimeout)
	}
	if a.gw != nil {
		_ = a.gw.Close() // best effort at exit: its aborts are logged
	}
	if a.sim != nil {
		a.sim.Close()
	}
	a.logOut.Close()
}

// source says where an option set by a flag or its variable came from, the
// way config.Setting.Source does.
func (a *app) source(flagName string) string {
	given := false
	a.inv.flags.Visit(func(f *flag.Flag) { given = given || f.Name == flagName })
	if given {
		return "flag --" + flagName
	}
	for _, d := range flagDefs {
		if d.name == flagName && d.env != "" && a.env.getenv(d.env) != "" {
			return "env " + d.env
		}
	}
	return "default"
}

// resolveStateDir is clawgate's state directory: --state-dir (or
// CLAWGATE_STATE_DIR), else $XDG_STATE_HOME/clawgate, else
// ~/.local/state/clawgate; absolute. It is created only when the device
// identity is first needed.
func resolveStateDir(dir string, env Env) (string, error) {
	if dir == "" {
		if xdg := env.getenv("XDG_STATE_HOME"); xdg != "" && filepath.IsAbs(xdg) {
			dir = filepath.Join(xdg, "clawgate")
		} else {
			home := env.Home
			if home == "" {
				h, err := os.UserHomeDir()
				if err != nil {
					return "", fmt.Errorf("clawgate's state directory: no home directory (%v); set --state-dir or CLAWGATE_STATE_DIR", err)
				}
				home = h
			}
			dir = filepath.Join(home, ".local", "state", "clawgate")
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("clawgate's state directory %q: %w", dir, err)
	}
	return abs, nil
}

// displayName is the client.displayName a gateway's pairing list shows the
// approver: clawgate@<this host>.
func displayName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return "clawgate@" + h
	}
	return "clawgate"
}
