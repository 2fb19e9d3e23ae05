// Command sidebyside measures clawgate side by side with what a user would
// otherwise call, in one run against one real OpenClaw or Clawdbot gateway,
// and prints a Markdown table of medians (p50) and p90 with n:
//
//   - cold start: process spawn → initialize response; and a one-shot
//     spawn → initialize → first list_sessions (which includes connecting to
//     the gateway);
//   - warm tools/call list_sessions over stdio to one long-lived clawgate vs
//     sessions.list with the same params on a raw WebSocket whose handshake
//     this command does itself (the physical floor), interleaved;
//   - the same call through the gateway's own CLI (`<cli> gateway call
//     sessions.list --json --params '{"limit":N}'`), one process per call;
//   - K concurrent tool calls into one clawgate vs K requests pipelined on
//     one raw WebSocket: throughput;
//   - ask_subagent vs a raw agent request, end to end, and the time clawgate
//     itself adds, measured at a WebSocket tap between it and the gateway;
//   - clawgate's RSS and threads after --mem-calls calls, and goroutines
//     before and after as many calls through the same code in this process.
//
// With --delegation it measures ask_subagent instead, per mode (agent,
// light, model) against a raw agent request with the same params: the
// request bytes the gateway sends the model (from the e2e fake model's
// request log, --fake-log) over sequential asks, parallel asks with a model
// delay against one ask, and the time clawgate adds (see delegation.go).
//
// It builds clawgate from the enclosing module unless --clawgate names a
// binary, and stops every process it starts. BENCHMARKS.md gives the exact
// commands, against gateways started with `go run ./e2e/cmd/gateways`.
//
// The table says PASS or MISS against the targets in BENCHMARKS.md. The numbers
// are wall-clock times on whatever else the machine is doing; both sides of
// every comparison are interleaved so that they share the noise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config holds the command-line flags.
type config struct {
	url           string
	tokenEnv      string
	clawgate      string
	cli           string
	cliEnv        []string
	n             int
	coldN         int
	cliN          int
	conc          int
	rounds        int
	agentN        int
	memCalls      int
	limit         int
	sessionPrefix string
	label         string
	keep          bool

	// --delegation: the ask_subagent measurements instead of the above.
	delegation bool
	fakeLog    string
	dlgSeq     int
	dlgN       int
	dlgRounds  int
	dlgPar     int
	dlgDelay   time.Duration
	dlgModes   []string
}

// multi is a repeatable string flag.
type multi struct{ vals *[]string }

func (m multi) String() string {
	if m.vals == nil {
		return ""
	}
	return fmt.Sprint(*m.vals)
}

func (m multi) Set(v string) error { *m.vals = append(*m.vals, v); return nil }

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("sidebyside", flag.ContinueOnError)
	fs.StringVar(&c.url, "url", envOr("OPENCLAW_GATEWAY_URL", "ws://127.0.0.1:18789"), "gateway WebSocket URL (env OPENCLAW_GATEWAY_URL)")
	fs.StringVar(&c.tokenEnv, "token-env", "OPENCLAW_GATEWAY_TOKEN", "name of the environment variable that holds the gateway token")
	fs.StringVar(&c.clawgate, "clawgate", "", "clawgate binary to measure (default: go build the enclosing module into a temporary directory)")
	fs.StringVar(&c.cli, "cli", "", "the gateway's CLI as a command line, e.g. \"node .../openclaw.mjs\" (quotes allowed; empty: skip the CLI rows)")
	fs.Var(multi{&c.cliEnv}, "cli-env", "KEY=VALUE added to the CLI's environment (repeatable), e.g. HOME, OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH")
	fs.IntVar(&c.n, "n", 500, "warm calls per side (list_sessions vs sessions.list)")
	fs.IntVar(&c.coldN, "cold-n", 20, "cold starts (and as many one-shot runs)")
	fs.IntVar(&c.cliN, "cli-n", 5, "CLI calls (after one unmeasured warm-up call)")
	fs.IntVar(&c.conc, "conc", 64, "concurrent calls per round in the throughput test")
	fs.IntVar(&c.rounds, "rounds", 30, "rounds per side in the throughput test")
	fs.IntVar(&c.agentN, "agent-n", 10, "agent runs per side (0: skip the agent rows)")
	fs.IntVar(&c.memCalls, "mem-calls", 10000, "calls after which clawgate's RSS and the goroutines are read")
	fs.IntVar(&c.limit, "limit", 20, "sessions.list limit (list_sessions' default is 20)")
	fs.StringVar(&c.sessionPrefix, "session-prefix", "agent:main:bench-", "prefix of the session keys of the agent runs (a unique suffix is added)")
	fs.StringVar(&c.label, "label", "", "name of the gateway in the table's title (default: from hello-ok; Clawdbot reports its version as \"dev\")")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (clawgate's logs)")
	fs.BoolVar(&c.delegation, "delegation", false, "measure ask_subagent per mode (request bytes, parallel asks, latency) instead of the side-by-side rows")
	fs.StringVar(&c.fakeLog, "fake-log", os.Getenv("FAKE_LOG"), "with --delegation: the fake model's request log, FAKE_LOG from `go run ./e2e/cmd/gateways` (env FAKE_LOG)")
	fs.IntVar(&c.dlgSeq, "dlg-seq", 10, "with --delegation: sequential asks per mode for the request bytes")
	fs.IntVar(&c.dlgN, "dlg-n", 30, "with --delegation: asks per side and mode without model delay (latency, clawgate's own time)")
	fs.IntVar(&c.dlgRounds, "dlg-rounds", 5, "with --delegation: rounds per side and mode of one ask and of --dlg-par parallel asks with the model delay")
	fs.IntVar(&c.dlgPar, "dlg-par", 8, "with --delegation: parallel asks per round")
	modes := fs.String("dlg-modes", "agent,light,model", "with --delegation: the ask_subagent modes to measure, in order")
	fs.DurationVar(&c.dlgDelay, "dlg-delay", 3*time.Second, "with --delegation: the fake model's delay in the parallel rounds ([[delay=N]] in the message)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.n < 1 || c.coldN < 1 || c.cliN < 1 || c.conc < 1 || c.rounds < 1 || c.agentN < 0 || c.memCalls < 1 || c.limit < 1 {
		return nil, errors.New("counts must be positive")
	}
	if c.dlgSeq < 1 || c.dlgN < 1 || c.dlgRounds < 1 || c.dlgPar < 1 || c.dlgDelay <= 0 {
		return nil, errors.New("the --dlg-* counts and the delay must be positive")
	}
	for _, m := range strings.Split(*modes, ",") {
		switch m = strings.TrimSpace(m); m {
		case "agent", "light", "model":
			c.dlgModes = append(c.dlgModes, m)
		default:
			return nil, fmt.Errorf("--dlg-modes: unknown mode %q (want agent, light or model)", m)
		}
	}
	if c.delegation && c.fakeLog == "" {
		return nil, errors.New("--delegation reads the fake model's request log: pass --fake-log or set FAKE_LOG (printed by `go run ./e2e/cmd/gateways`)")
	}
	return c, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	r := &runner{cfg: cfg}
	err = r.run(ctx)
	r.cleanup()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}
