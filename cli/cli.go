// Package cli is clawgate's command line: flags and environment, logging,
// and the commands serve (the default), doctor, call, tools, simulate,
// version and help. main only wires signals and the exit code to Run.
//
// The layout: Run parses the command line (flags.go: the flags, their
// environment variables and defaults, and the commands) into an app
// (app.go: the options, the loggers, and on demand the gateway client or
// simulator and the MCP server, all released by its Close), runs the
// command, which returns an error, and maps that error to the exit code in
// one place (errors.go).
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/clawgate/clawgate/config"
)

// Version is set at build time with -ldflags "-X github.com/clawgate/clawgate/cli.Version=v1.2.3";
// otherwise the module version from the build info is used.
var Version = ""

// Env is what Run needs from the process: its streams and its environment.
//
// Every environment variable clawgate reads (CLAWGATE_*, OPENCLAW_*,
// CLAWDBOT_*, COLUMNS) is read through Env.Lookup, by the flag parser and
// by config discovery alike. The variables come from ConfigEnv when it is
// set, else from Getenv, else from the process environment. Set one of the
// two (tests that set both give them the same variables); when both are
// set, ConfigEnv is used and Getenv is not consulted.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv returns a variable's value; "" counts as unset. nil: see
	// ConfigEnv.
	Getenv func(string) string
	// ConfigEnv is the environment as a config.Env, which tells a variable
	// set to "" from an unset one (config discovery honours the
	// difference). nil: Getenv, else the process environment.
	ConfigEnv config.Env
	// Home overrides the home directory for config discovery ("" = real).
	Home string
	// StderrTerminal reports that Stderr is a terminal: call then shows the
	// progress of a run there. Run sets it when Stderr is an *os.File
	// terminal.
	StderrTerminal bool
}

// Lookup returns the environment variable key and whether it is set, from
// ConfigEnv, else Getenv, else the process environment (see Env). It makes
// Env a config.Env.
func (e Env) Lookup(key string) (string, bool) {
	switch {
	case e.ConfigEnv != nil:
		return e.ConfigEnv.Lookup(key)
	case e.Getenv != nil:
		v := e.Getenv(key)
		return v, v != ""
	}
	return os.LookupEnv(key)
}

// getenv returns the variable key with surrounding space trimmed ("" when
// unset).
func (e Env) getenv(key string) string {
	v, _ := e.Lookup(key)
	return strings.TrimSpace(v)
}

// toolWorkers is how many tool calls the stdio server runs at once.
const toolWorkers = 100

// Exit codes. exitCode (errors.go) maps a command's error to one of them.
const (
	ExitOK        = 0
	ExitFailure   = 1 // a command failed (doctor found a problem, call returned isError)
	ExitUsage     = 2 // bad flags or arguments
	ExitInterrupt = 130
)

// Run runs clawgate with args (without the program name) and returns the
// exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if f, ok := env.Stderr.(*os.File); ok && IsTerminal(f) {
		env.StderrTerminal = true
	}
	// The log goroutine and direct messages share stderr.
	env.Stderr = &syncWriter{w: env.Stderr}
	a, err := newApp(args, env)
	if err != nil {
		return exitCode(env.Stderr, err)
	}
	// The outcome is printed before Close, which may take a while (it
	// aborts the runs still in flight): a failed call says so at once.
	code := exitCode(env.Stderr, a.run(ctx))
	a.Close()
	return code
}

// IsTerminal reports whether f is a terminal (a character device).
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
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
