package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/tools"
)

// Options are the command-line options. Every flag defaults from an
// environment variable; the gateway URL and credentials also come from the
// gateway's own config discovery (package config) when no flag or variable
// sets them.
type Options struct {
	URL, Token, Password, ConfigPath string
	ReadOnly                         bool
	AllowModels                      tools.ModelPolicy
	Timeout                          time.Duration
	ConnectTimeout, CallTimeout      time.Duration
	LogLevel                         slog.Level
	AllowInsecureTransport           bool
	AllowMainSession                 bool
	Simulate                         string // "", "openclaw" or "clawdbot"
}

// flagSpec documents one flag and its environment variable (for -h and the
// README).
type flagSpec struct{ name, env, usage string }

var flagSpecs = []flagSpec{
	{"url", "OPENCLAW_GATEWAY_URL", "gateway WebSocket URL (default: from the gateway config, else ws://127.0.0.1:18789)"},
	{"token", "OPENCLAW_GATEWAY_TOKEN", "gateway token (prefer the env var: flags are visible to other users in ps)"},
	{"password", "OPENCLAW_GATEWAY_PASSWORD", "gateway password"},
	{"config", "OPENCLAW_CONFIG_PATH", "gateway config file (default: ~/.openclaw/openclaw.json or ~/.clawdbot/clawdbot.json)"},
	{"read-only", "CLAWGATE_READ_ONLY", "offer only the read tools and request only operator.read"},
	{"allow-model", "CLAWGATE_ALLOW_MODELS", "allow only models matching this glob (repeatable; env: comma-separated), e.g. 'anthropic/claude-sonnet-*'"},
	{"timeout", "CLAWGATE_TIMEOUT", "default ask_subagent timeout"},
	{"connect-timeout", "CLAWGATE_CONNECT_TIMEOUT", "gateway dial + handshake timeout"},
	{"call-timeout", "CLAWGATE_CALL_TIMEOUT", "timeout of ordinary gateway calls"},
	{"log-level", "CLAWGATE_LOG_LEVEL", "debug, info, warn or error (logs go to stderr)"},
	{"allow-insecure-transport", "CLAWGATE_ALLOW_INSECURE_TRANSPORT", "allow sending credentials over plain ws:// to a non-loopback host"},
	{"allow-main-session", "CLAWGATE_ALLOW_MAIN_SESSION", "let ask_subagent run in the gateway's main session (can deadlock)"},
	{"simulate", "CLAWGATE_SIMULATE", "use a built-in simulated gateway instead of a real one: openclaw or clawdbot"},
}

// multiFlag collects a repeatable string flag.
type multiFlag struct{ vals *tools.ModelPolicy }

func (m multiFlag) String() string {
	if m.vals == nil {
		return ""
	}
	return m.vals.String()
}

func (m multiFlag) Set(v string) error {
	*m.vals = append(*m.vals, v)
	return nil
}

// parseFlags parses args into Options, with defaults from getenv.
func parseFlags(name string, args []string, getenv func(string) string, stderr io.Writer) (*Options, []string, error) {
	o := &Options{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	envErr := []string{}
	envBool := func(k string) bool {
		v := getenv(k)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			envErr = append(envErr, fmt.Sprintf("%s=%q is not a boolean (use true or false)", k, v))
		}
		return b
	}
	envDur := func(k string, def time.Duration) time.Duration {
		v := getenv(k)
		if v == "" {
			return def
		}
		d, err := parseDuration(v)
		if err != nil {
			envErr = append(envErr, fmt.Sprintf("%s: %v", k, err))
			return def
		}
		return d
	}
	usage := map[string]string{}
	for _, f := range flagSpecs {
		usage[f.name] = f.usage + " (env " + f.env + ")"
	}
	// URL, token, password and config default to "" here: config.Discover
	// reads their env vars (and the legacy CLAWDBOT_* twins) itself, so it
	// can report where each value came from.
	fs.StringVar(&o.URL, "url", "", usage["url"])
	fs.StringVar(&o.Token, "token", "", usage["token"])
	fs.StringVar(&o.Password, "password", "", usage["password"])
	fs.StringVar(&o.ConfigPath, "config", "", usage["config"])
	fs.BoolVar(&o.ReadOnly, "read-only", envBool("CLAWGATE_READ_ONLY"), usage["read-only"])
	fs.Var(multiFlag{&o.AllowModels}, "allow-model", usage["allow-model"])
	timeout := envDur("CLAWGATE_TIMEOUT", tools.DefaultTimeout)
	fs.Func("timeout", usage["timeout"]+" (default 300s)", func(v string) (err error) { timeout, err = parseDuration(v); return err })
	connectTimeout := envDur("CLAWGATE_CONNECT_TIMEOUT", 10*time.Second)
	fs.Func("connect-timeout", usage["connect-timeout"]+" (default 10s)", func(v string) (err error) { connectTimeout, err = parseDuration(v); return err })
	callTimeout := envDur("CLAWGATE_CALL_TIMEOUT", 30*time.Second)
	fs.Func("call-timeout", usage["call-timeout"]+" (default 30s)", func(v string) (err error) { callTimeout, err = parseDuration(v); return err })
	level := getenv("CLAWGATE_LOG_LEVEL")
	fs.StringVar(&level, "log-level", orDefault(level, "info"), usage["log-level"])
	fs.BoolVar(&o.AllowInsecureTransport, "allow-insecure-transport", envBool("CLAWGATE_ALLOW_INSECURE_TRANSPORT"), usage["allow-insecure-transport"])
	fs.BoolVar(&o.AllowMainSession, "allow-main-session", envBool("CLAWGATE_ALLOW_MAIN_SESSION"), usage["allow-main-session"])
	fs.StringVar(&o.Simulate, "simulate", getenv("CLAWGATE_SIMULATE"), usage["simulate"])
	fs.Usage = func() { printUsage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if len(envErr) > 0 {
		return nil, nil, errors.New(strings.Join(envErr, "; "))
	}
	if len(o.AllowModels) == 0 {
		for _, p := range strings.Split(getenv("CLAWGATE_ALLOW_MODELS"), ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.AllowModels = append(o.AllowModels, p)
			}
		}
	}
	if err := o.AllowModels.Validate(); err != nil {
		return nil, nil, err
	}
	if err := o.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	switch o.Simulate {
	case "", "openclaw", "clawdbot":
	case "true", "1":
		o.Simulate = "openclaw"
	default:
		return nil, nil, fmt.Errorf("--simulate %q: want openclaw or clawdbot", o.Simulate)
	}
	for name, d := range map[string]time.Duration{"timeout": timeout, "connect-timeout": connectTimeout, "call-timeout": callTimeout} {
		if d <= 0 {
			return nil, nil, fmt.Errorf("--%s must be positive", name)
		}
	}
	o.Timeout, o.ConnectTimeout, o.CallTimeout = timeout, connectTimeout, callTimeout
	return o, fs.Args(), nil
}

// parseDuration accepts Go durations ("90s", "5m") and plain seconds ("300").
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 300, 90s, 5m)", v)
	}
	return d, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `clawgate: an MCP server (stdio) for OpenClaw / Clawdbot gateways.

Usage:
  clawgate [flags]                  serve MCP over stdin/stdout
  clawgate [flags] doctor           show where each setting came from, connect, report health
  clawgate [flags] call TOOL [JSON] run one tool and print its structured result
  clawgate [flags] simulate         serve MCP against a built-in simulated gateway
  clawgate version                  print the version

Flags:
`)
	fs.PrintDefaults()
}
