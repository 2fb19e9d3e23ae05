package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/suggest"
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
	// LogLevelSet reports whether --log-level or CLAWGATE_LOG_LEVEL chose
	// the level (call is quieter by default than serve).
	LogLevelSet            bool
	AllowInsecureTransport bool
	AllowMainSession       bool
	Simulate               string // "", "openclaw" or "clawdbot"
	// StateDir is clawgate's own state directory (the device identity and
	// tokens); "" until resolved by stateDir.
	StateDir       string
	DeviceIdentity gateway.DeviceMode
	// TLSFingerprint pins a wss:// gateway's certificate, over
	// gateway.remote.tlsFingerprint.
	TLSFingerprint string
	PairWait       time.Duration // how long clawgate pair waits for the approval
}

// The log levels when neither --log-level nor CLAWGATE_LOG_LEVEL chooses
// one: call prints its own outcome, so it logs only warnings and errors.
const (
	defaultLogLevel = slog.LevelInfo
	callLogLevel    = slog.LevelWarn
)

// defaultOptions are the options before any flag or variable: each default
// is the constant of the package that uses the value, stated nowhere else
// (-h and the README's table agree with them: TestREADMEFlagTable).
func defaultOptions() *Options {
	return &Options{
		Timeout:        tools.DefaultTimeout,
		DeviceIdentity: gateway.DeviceAuto,
		PairWait:       defaultPairWait,
		ConnectTimeout: gateway.DefaultDialTimeout,
		CallTimeout:    gateway.DefaultCallTimeout,
		LogLevel:       defaultLogLevel,
	}
}

// levelName is a level as --log-level spells it ("info").
func levelName(l slog.Level) string { return strings.ToLower(l.String()) }

// flagDef is one flag. The parser defines its flags from flagDefs, -h lists
// them, and TestREADMEFlagTable checks the README's table against them, so
// a new flag is one row here, a field of Options and a row of the README.
type flagDef struct {
	name string
	// env is the environment variable the flag defaults from; "" for none
	// (--version). The parser reads it, except for the gateway settings
	// (discovered).
	env   string
	arg   string // what follows --name in -h: " DURATION", "[=clawdbot]"; "" for a switch
	usage string // the -h text; the default is in it, from the constants
	// discovered marks the gateway settings (URL and credentials), which
	// the parser leaves "" unless the flag is given: config discovery reads
	// their variables (and the legacy CLAWDBOT_* twins) and the gateway's
	// config file itself, so that it can report where each value came from.
	discovered bool
	// define defines the flag on p, bound to its field, defaulting from
	// env when that is set, else from defaultOptions.
	define func(p *flagParser, d flagDef)
}

var flagDefs = []flagDef{
	{name: "url", env: "OPENCLAW_GATEWAY_URL", arg: " URL", discovered: true,
		usage:  "gateway WebSocket URL (default: from the gateway config, else " + gateway.DefaultURL + ")",
		define: func(p *flagParser, d flagDef) { p.stringVar(d, &p.opts.URL) }},
	{name: "token", env: "OPENCLAW_GATEWAY_TOKEN", arg: " TOKEN", discovered: true,
		usage:  "gateway token (prefer the config file or the env var: flags are visible to other users in ps)",
		define: func(p *flagParser, d flagDef) { p.stringVar(d, &p.opts.Token) }},
	{name: "password", env: "OPENCLAW_GATEWAY_PASSWORD", arg: " PASSWORD", discovered: true,
		usage:  "gateway password",
		define: func(p *flagParser, d flagDef) { p.stringVar(d, &p.opts.Password) }},
	{name: "config", env: "OPENCLAW_CONFIG_PATH", arg: " CONFIG", discovered: true,
		usage:  "gateway config file (default: ~/.openclaw/openclaw.json or ~/.clawdbot/clawdbot.json)",
		define: func(p *flagParser, d flagDef) { p.stringVar(d, &p.opts.ConfigPath) }},
	{name: "read-only", env: "CLAWGATE_READ_ONLY",
		usage:  "offer only the read tools and request only operator.read",
		define: func(p *flagParser, d flagDef) { p.boolVar(d, &p.opts.ReadOnly) }},
	{name: "allow-model", env: "CLAWGATE_ALLOW_MODELS", arg: " GLOB",
		usage:  "allow only models matching this glob (repeatable; env: comma-separated), e.g. 'anthropic/claude-sonnet-*'",
		define: func(p *flagParser, d flagDef) { p.modelsVar(d, &p.opts.AllowModels) }},
	{name: "timeout", env: "CLAWGATE_TIMEOUT", arg: " DURATION",
		usage:  fmt.Sprintf("default ask_subagent timeout: a wall-clock bound on the whole tool call (default %s, below the 60 s many MCP clients allow a tool call)", defaultOptions().Timeout),
		define: func(p *flagParser, d flagDef) { p.durationVar(d, &p.opts.Timeout) }},
	{name: "connect-timeout", env: "CLAWGATE_CONNECT_TIMEOUT", arg: " DURATION",
		usage:  fmt.Sprintf("gateway dial + handshake timeout (default %s)", defaultOptions().ConnectTimeout),
		define: func(p *flagParser, d flagDef) { p.durationVar(d, &p.opts.ConnectTimeout) }},
	{name: "call-timeout", env: "CLAWGATE_CALL_TIMEOUT", arg: " DURATION",
		usage:  fmt.Sprintf("timeout of ordinary gateway calls (default %s)", defaultOptions().CallTimeout),
		define: func(p *flagParser, d flagDef) { p.durationVar(d, &p.opts.CallTimeout) }},
	{name: "log-level", env: "CLAWGATE_LOG_LEVEL", arg: " LEVEL",
		usage: fmt.Sprintf("debug, info, warn or error; logs go to stderr (default %s; %s for call)",
			levelName(defaultOptions().LogLevel), levelName(callLogLevel)),
		define: (*flagParser).levelVar},
	{name: "allow-insecure-transport", env: "CLAWGATE_ALLOW_INSECURE_TRANSPORT",
		usage:  "allow sending credentials over plain ws:// to a non-loopback host",
		define: func(p *flagParser, d flagDef) { p.boolVar(d, &p.opts.AllowInsecureTransport) }},
	{name: "allow-main-session", env: "CLAWGATE_ALLOW_MAIN_SESSION",
		usage:  "let ask_subagent run in the gateway's main session (can deadlock)",
		define: func(p *flagParser, d flagDef) { p.boolVar(d, &p.opts.AllowMainSession) }},
	{name: "device-identity", env: "CLAWGATE_DEVICE_IDENTITY", arg: " MODE",
		usage: fmt.Sprintf("when to connect with clawgate's own device identity: always, auto (a gateway not on loopback, or one that grants a device-less client no scopes) or never (default %s)",
			defaultOptions().DeviceIdentity),
		define: (*flagParser).deviceModeVar},
	{name: "state-dir", env: "CLAWGATE_STATE_DIR", arg: " DIR",
		usage:  "clawgate's state directory: its device identity and the device tokens gateways issue (default $XDG_STATE_HOME/clawgate, else ~/.local/state/clawgate)",
		define: func(p *flagParser, d flagDef) { p.envStringVar(d, &p.opts.StateDir) }},
	{name: "tls-fingerprint", env: "CLAWGATE_TLS_FINGERPRINT", arg: " SHA256",
		usage:  "pin the wss:// gateway's certificate: its SHA-256, hex with or without colons (default: gateway.remote.tlsFingerprint)",
		define: func(p *flagParser, d flagDef) { p.envStringVar(d, &p.opts.TLSFingerprint) }},
	{name: "pair-wait", env: "CLAWGATE_PAIR_WAIT", arg: " DURATION",
		usage:  fmt.Sprintf("how long clawgate pair waits for the approval (default %s)", defaultOptions().PairWait),
		define: func(p *flagParser, d flagDef) { p.durationVar(d, &p.opts.PairWait) }},
	{name: "simulate", env: "CLAWGATE_SIMULATE", arg: "[=clawdbot]",
		usage:  "use a built-in simulated gateway instead of a real one: --simulate (OpenClaw) or --simulate=clawdbot",
		define: func(p *flagParser, d flagDef) { p.simulateVar(d, &p.opts.Simulate) }},
	{name: "version",
		usage:  "print the version and exit",
		define: func(p *flagParser, d flagDef) { p.fs.BoolVar(&p.inv.version, d.name, false, "") }},
}

// command describes one subcommand for parsing and help.
type command struct {
	name    string
	usage   string // arguments after the command name
	summary string // one line for the overview
	help    string // the paragraph of `clawgate CMD -h`
	// flags lists the flags that mean something to this command; nil means
	// every flag. A flag given on the command line that is not listed is an
	// error, so no option is silently ignored.
	flags            []string
	minArgs, maxArgs int
}

// gatewayFlags are the flags of every command that talks to a gateway:
// all but those of one command.
var gatewayFlags = flagNamesExcept("pair-wait")

// flagNamesExcept lists the flags' names without those given.
func flagNamesExcept(skip ...string) []string {
	var names []string
	for _, d := range flagDefs {
		if !slices.Contains(skip, d.name) {
			names = append(names, d.name)
		}
	}
	return names
}

// defaultPairWait is how long clawgate pair waits for an approval: a
// gateway drops a pairing request after about 5 minutes unless a connect
// renews it, which pair's polling does.
const defaultPairWait = 5 * time.Minute

// commands are the subcommands, in the order of the overview; app.run runs
// them.
var commands = []*command{
	{name: "serve", summary: "serve MCP over stdin/stdout (the default command)",
		help: "Serve MCP (JSON-RPC 2.0, one message per line) on stdin/stdout until stdin closes or a\n" +
			"signal arrives. This is what MCP clients run. Logs go to stderr.",
		flags: gatewayFlags},
	{name: "doctor", summary: "show where each setting came from, connect, report health (exit 0 = healthy)",
		help: "Show where each setting came from (flag, environment, config file, default) without\n" +
			"printing secrets, connect to the gateway, call status, and say what to fix.\n" +
			"Exit code 0 means healthy, 1 a problem.",
		flags: gatewayFlags},
	{name: "call", usage: "TOOL [JSON-ARGUMENTS | -]", summary: "run one tool and print its structured result",
		help: "Run one tool in-process and print its structured result as JSON on stdout. The\n" +
			"arguments are a JSON object, or - to read it from stdin. Errors go to stderr with\n" +
			"exit code 1. When stderr is a terminal, the progress of ask_subagent is shown there.\n" +
			"Ctrl-C aborts the run on the gateway and exits with 130.\n\n" +
			"Example: clawgate call list_sessions '{\"limit\": 5}'",
		flags: gatewayFlags, minArgs: 0, maxArgs: 2},
	{name: "tools", summary: "list the tools and their arguments",
		help:  "List every tool with its arguments, one tool per line (* marks a required argument).",
		flags: []string{"read-only"}},
	{name: "simulate", usage: "[openclaw | clawdbot]", summary: "serve MCP against a built-in simulated gateway (an echo model)",
		help: "Serve MCP on stdin/stdout like serve, against a built-in simulated gateway with an echo\n" +
			"model instead of a real one: OpenClaw 2026.9 by default, or Clawdbot 2026.1.\n" +
			"The same as clawgate --simulate[=clawdbot] serve.",
		flags: gatewayFlags, maxArgs: 1},
	{name: "pair", summary: "pair clawgate's device identity with a gateway and wait for the approval",
		help: "Connect with clawgate's device identity. If the gateway wants it paired, print the command\n" +
			"that approves it (run it on the gateway host), wait until it is approved (--pair-wait,\n" +
			"polling every 2 s, which also keeps the request alive), and store the device token the\n" +
			"gateway issues in the state directory. Needed once per gateway that is not on loopback;\n" +
			"it needs the shared gateway token. Ctrl-C stops waiting (exit 130).",
		// pair always connects with the device identity and runs no tool.
		flags: []string{"url", "token", "password", "config", "read-only", "connect-timeout", "call-timeout", "log-level",
			"allow-insecure-transport", "state-dir", "tls-fingerprint", "pair-wait", "simulate"}},
	{name: "version", summary: "print the version, VCS revision and date, and Go version",
		help: "Print clawgate's version, the VCS revision and date it was built from, and the Go version.", flags: []string{}},
	{name: "help", usage: "[COMMAND]", summary: "show help for a command",
		help: "Show the overview, or the help of one command.", flags: []string{}, maxArgs: 1},
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (c *command) allows(flagName string) bool {
	if c.flags == nil {
		return true
	}
	for _, f := range c.flags {
		if f == flagName {
			return true
		}
	}
	return false
}

// invocation is a parsed command line.
type invocation struct {
	opts *Options
	cmd  *command
	args []string // the command's positional arguments
	help bool     // -h or --help: print cmd's help
	// overview is set for -h without a command: print the overview.
	overview bool
	version  bool // --version
	// flags holds the flags; each one's Value is bound to its option.
	flags *flag.FlagSet
}

// flagParser defines flagDefs on a FlagSet, each bound to its option and
// defaulting from its environment variable. The variables' mistakes are
// collected and reported after those of the command line.
type flagParser struct {
	fs        *flag.FlagSet
	inv       *invocation
	opts      *Options
	env       Env
	envErr    []string
	durations []flagDef // checked to be positive once parsed
	// levelText is --log-level (or CLAWGATE_LOG_LEVEL) as given, checked
	// once the command is known.
	levelText string
	// modelsEnv is CLAWGATE_ALLOW_MODELS, used when no --allow-model is
	// given.
	modelsEnv string
}

// stringVar defines a string flag. Its variable is config discovery's to
// read (flagDef.discovered), not the parser's.
func (p *flagParser) stringVar(d flagDef, v *string) {
	p.fs.StringVar(v, d.name, *v, "")
}

// boolVar defines a switch that defaults from its variable.
func (p *flagParser) boolVar(d flagDef, v *bool) {
	if s := p.env.getenv(d.env); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			p.envErr = append(p.envErr, fmt.Sprintf("%s=%q is not a boolean: use true or false", d.env, s))
		}
		*v = b
	}
	p.fs.BoolVar(v, d.name, *v, "")
}

// durationVar defines a duration flag that defaults from its variable,
// else from defaultOptions.
func (p *flagParser) durationVar(d flagDef, v *time.Duration) {
	if s := p.env.getenv(d.env); s != "" {
		if dur, err := parseDuration(s); err != nil {
			p.envErr = append(p.envErr, fmt.Sprintf("%s: %v", d.env, err))
		} else {
			*v = dur
		}
	}
	p.fs.Var(durationValue{v}, d.name, "")
	p.durations = append(p.durations, d)
}

// envStringVar defines a string flag that defaults from its variable.
func (p *flagParser) envStringVar(d flagDef, v *string) {
	*v = p.env.getenv(d.env)
	p.fs.StringVar(v, d.name, *v, "")
}

// deviceModeVar defines --device-identity, defaulting from its variable.
func (p *flagParser) deviceModeVar(d flagDef) {
	if s := p.env.getenv(d.env); s != "" {
		if m, err := gateway.ParseDeviceMode(s); err != nil {
			p.envErr = append(p.envErr, d.env+": "+err.Error())
		} else {
			p.opts.DeviceIdentity = m
		}
	}
	p.fs.Var(deviceModeValue{&p.opts.DeviceIdentity}, d.name, "")
}

// deviceModeValue is --device-identity.
type deviceModeValue struct{ v *gateway.DeviceMode }

func (m deviceModeValue) String() string {
	if m.v == nil {
		return ""
	}
	return string(*m.v)
}

func (m deviceModeValue) Set(s string) (err error) {
	*m.v, err = gateway.ParseDeviceMode(s)
	return err
}

// levelVar defines --log-level; its text is checked in parseArgs.
func (p *flagParser) levelVar(d flagDef) {
	p.levelText = p.env.getenv(d.env)
	p.opts.LogLevelSet = p.levelText != ""
	p.fs.StringVar(&p.levelText, d.name, orDefault(p.levelText, levelName(p.opts.LogLevel)), "")
}

// modelsVar defines the repeatable --allow-model; its variable, a
// comma-separated list, applies when no flag is given.
func (p *flagParser) modelsVar(d flagDef, v *tools.ModelPolicy) {
	p.modelsEnv = p.env.getenv(d.env)
	p.fs.Var(multiFlag{v}, d.name, "")
}

// simulateVar defines --simulate, defaulting from its variable.
func (p *flagParser) simulateVar(d flagDef, v *string) {
	if sim, err := parseSimulate(p.env.getenv(d.env)); err != nil {
		p.envErr = append(p.envErr, d.env+": "+err.Error())
	} else {
		*v = sim
	}
	p.fs.Var(simulateFlag{v}, d.name, "")
}

// durationValue is a duration flag: seconds or a Go duration (parseDuration).
type durationValue struct{ v *time.Duration }

func (d durationValue) String() string {
	if d.v == nil {
		return ""
	}
	return d.v.String()
}

func (d durationValue) Set(s string) (err error) {
	*d.v, err = parseDuration(s)
	return err
}

// simulateFlag is --simulate: a boolean flag (--simulate means OpenClaw)
// that also takes a value (--simulate=clawdbot).
type simulateFlag struct{ v *string }

func (s simulateFlag) IsBoolFlag() bool { return true }
func (s simulateFlag) String() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}
func (s simulateFlag) Set(v string) error {
	g, err := parseSimulate(v)
	if err != nil {
		return err
	}
	*s.v = g
	return nil
}

// parseSimulate maps a --simulate or CLAWGATE_SIMULATE value to a
// generation ("" = off).
func parseSimulate(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "off", "no":
		return "", nil
	case "true", "1", "on", "yes", "openclaw":
		return "openclaw", nil
	case "clawdbot":
		return "clawdbot", nil
	}
	return "", fmt.Errorf("%q is not a simulator: use --simulate (OpenClaw) or --simulate=clawdbot", v)
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

// parseArgs parses the command line: flags may come before or after the
// command and between its arguments; "--" ends the flags. Values default
// from the environment, else from defaultOptions.
func parseArgs(args []string, env Env) (*invocation, error) {
	o := defaultOptions()
	inv := &invocation{opts: o}
	fs := flag.NewFlagSet("clawgate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	inv.flags = fs
	p := &flagParser{fs: fs, inv: inv, opts: o, env: env}
	for _, d := range flagDefs {
		d.define(p, d)
	}
	fs.BoolVar(&inv.help, "h", false, "")
	fs.BoolVar(&inv.help, "help", false, "")

	// "--simulate clawdbot" means --simulate=clawdbot: neither generation
	// is a command, so the space form is not ambiguous.
	var joined []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			joined = append(joined, args[i:]...)
			break
		}
		if (a == "--simulate" || a == "-simulate") && i+1 < len(args) && (args[i+1] == "openclaw" || args[i+1] == "clawdbot") {
			a, i = a+"="+args[i+1], i+1
		}
		joined = append(joined, a)
	}

	// Parse flags interspersed with positional arguments.
	var positional []string
	rest := joined
	for {
		if err := fs.Parse(rest); err != nil {
			var cmd *command
			if len(positional) > 0 {
				cmd = lookupCommand(positional[0])
			}
			return nil, usagef(cmd, "%s", flagError(err, fs))
		}
		remaining := fs.Args()
		consumed := len(rest) - len(remaining)
		if consumed > 0 && rest[consumed-1] == "--" {
			positional = append(positional, remaining...)
			break
		}
		if len(remaining) == 0 {
			break
		}
		positional = append(positional, remaining[0])
		rest = remaining[1:]
	}

	name := "serve"
	if len(positional) > 0 {
		name, positional = positional[0], positional[1:]
	} else if inv.help {
		inv.overview = true // plain "clawgate -h"
	}
	inv.cmd = lookupCommand(name)
	if inv.cmd == nil {
		hint := ""
		if s := suggest.Closest(name, commandNames()); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, usagef(nil, "unknown command %q%s; the commands are %s", name, hint, strings.Join(commandNames(), ", "))
	}
	inv.args = positional
	if inv.help || inv.version {
		return inv, nil
	}

	// Every flag given on the command line must mean something here.
	var unused []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "h" && f.Name != "help" && f.Name != "version" && !inv.cmd.allows(f.Name) {
			unused = append(unused, "--"+f.Name)
		}
	})
	if len(unused) > 0 {
		return nil, usagef(inv.cmd, "%s %s no effect on clawgate %s; remove %s",
			strings.Join(unused, ", "), plural(len(unused), "has", "have"), inv.cmd.name, plural(len(unused), "it", "them"))
	}
	if n := len(inv.args); n < inv.cmd.minArgs || n > inv.cmd.maxArgs {
		return nil, argCountError(inv.cmd, inv.args)
	}
	if len(p.envErr) > 0 {
		return nil, usagef(nil, "%s", strings.Join(p.envErr, "; "))
	}

	if len(o.AllowModels) == 0 {
		for _, pat := range strings.Split(p.modelsEnv, ",") {
			if pat = strings.TrimSpace(pat); pat != "" {
				o.AllowModels = append(o.AllowModels, pat)
			}
		}
	}
	if err := o.AllowModels.Validate(); err != nil {
		return nil, usagef(inv.cmd, "%v", err)
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "log-level" {
			o.LogLevelSet = true
		}
	})
	if err := o.LogLevel.UnmarshalText([]byte(p.levelText)); err != nil {
		return nil, usagef(inv.cmd, "--log-level %q is not a level: use debug, info, warn or error", p.levelText)
	}
	for _, d := range p.durations {
		if v := fs.Lookup(d.name).Value.(durationValue); *v.v <= 0 {
			return nil, usagef(inv.cmd, "--%s must be positive (got %s)", d.name, *v.v)
		}
	}
	return inv, nil
}

// argCountError explains what a command takes.
func argCountError(c *command, args []string) error {
	switch {
	case c.maxArgs == 0:
		return usagef(c, "clawgate %s takes no arguments (got %s)", c.name, quoteList(args))
	case len(args) > c.maxArgs:
		return usagef(c, "too many arguments for clawgate %s: %s is not understood (usage: clawgate %s %s)",
			c.name, quoteList(args[c.maxArgs:]), c.name, c.usage)
	}
	return usagef(c, "missing arguments (usage: clawgate %s %s)", c.name, c.usage)
}

var flagErrPatterns = []struct {
	re     *regexp.Regexp
	format func(m []string, fs *flag.FlagSet) string
}{
	{regexp.MustCompile(`^flag provided but not defined: -+(.*)$`), func(m []string, fs *flag.FlagSet) string {
		hint := ""
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if len(f.Name) > 1 {
				names = append(names, f.Name)
			}
		})
		if s := suggest.Closest(m[1], names); s != "" {
			hint = fmt.Sprintf(" (did you mean --%s?)", s)
		}
		return fmt.Sprintf("unknown flag --%s%s", m[1], hint)
	}},
	{regexp.MustCompile(`^flag needs an argument: -+(.*)$`), func(m []string, _ *flag.FlagSet) string {
		return fmt.Sprintf("--%s needs a value, e.g. --%s=VALUE", m[1], m[1])
	}},
	{regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]*): (?:parse error: )?(.*)$`), func(m []string, _ *flag.FlagSet) string {
		return fmt.Sprintf("--%s %q: %s", m[2], m[1], m[3])
	}},
}

// flagError rewrites the flag package's errors as sentences about --flags.
func flagError(err error, fs *flag.FlagSet) string {
	msg := err.Error()
	for _, p := range flagErrPatterns {
		if m := p.re.FindStringSubmatch(msg); m != nil {
			return p.format(m, fs)
		}
	}
	return msg
}

func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

func quoteList(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxDuration bounds every duration flag: a day, like timeout_seconds.
const maxDuration = 24 * time.Hour

// parseDuration accepts Go durations ("90s", "5m") and plain seconds
// ("300"), up to maxDuration; a larger value is refused rather than left to
// overflow (18446744074 seconds wrapped to 290 ms).
func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	var d time.Duration
	if isInteger(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxDuration/time.Second) || n < -int64(maxDuration/time.Second) {
			return 0, fmt.Errorf("%q seconds is more than %s", v, maxDuration)
		}
		d = time.Duration(n) * time.Second
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%q is not a duration: use seconds or a Go duration such as 300, 90s or 5m", v)
		}
	}
	if d > maxDuration {
		return 0, fmt.Errorf("%q is more than %s", v, maxDuration)
	}
	return d, nil
}

// isInteger reports whether v is an optionally signed run of digits.
func isInteger(v string) bool {
	v = strings.TrimLeft(v, "+-")
	return v != "" && strings.Trim(v, "0123456789") == ""
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// printHelp writes the overview (cmd nil) or one command's help.
func printHelp(w io.Writer, cmd *command) {
	if cmd == nil {
		fmt.Fprint(w, "clawgate: an MCP server (stdio) for OpenClaw / Clawdbot gateways.\n\nUsage:\n  clawgate [COMMAND] [ARGUMENTS] [FLAGS]   (flags may come before or after the command)\n\nCommands:\n")
		for _, c := range commands {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
		fmt.Fprint(w, "\nRun 'clawgate COMMAND -h' for a command's help and flags.\n\nFlags:\n")
		printFlags(w, nil)
		return
	}
	usage := "clawgate " + cmd.name
	if cmd.usage != "" {
		usage += " " + cmd.usage
	}
	if len(cmd.flags) != 0 || cmd.flags == nil {
		usage += " [FLAGS]"
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", usage, cmd.help)
	if cmd.flags == nil || len(cmd.flags) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, cmd)
	}
}

// printFlags lists the flags cmd understands (nil: all), with their
// environment variables.
func printFlags(w io.Writer, cmd *command) {
	for _, f := range flagDefs {
		if cmd != nil && (!cmd.allows(f.name) || f.name == "version") {
			continue
		}
		fmt.Fprintf(w, "  --%s%s\n      %s", f.name, f.arg, f.usage)
		if f.env != "" {
			fmt.Fprintf(w, " (env %s)", f.env)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "  -h, --help\n      show this help\n")
}

// help is the help command: the overview, or the help of the command named.
func (a *app) help() error {
	var cmd *command
	if args := a.inv.args; len(args) == 1 {
		if cmd = lookupCommand(args[0]); cmd == nil {
			return &usageError{msg: fmt.Sprintf("help %q: no such command; the commands are %s", args[0], strings.Join(commandNames(), ", "))}
		}
	}
	printHelp(a.env.Stdout, cmd)
	return nil
}
