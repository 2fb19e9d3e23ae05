package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/clawgate/clawgate/internal/gatewaysim"
)

// simulate is the simulate command: serve against the simulator of the
// generation its argument names (else --simulate's, else OpenClaw's).
func (a *app) simulate(ctx context.Context) error {
	if len(a.inv.args) == 1 {
		g, err := parseSimulate(a.inv.args[0])
		if err != nil || g == "" {
			return &usageError{msg: fmt.Sprintf("simulate %q: want openclaw or clawdbot", a.inv.args[0])}
		}
		a.opts.Simulate = g
	}
	if a.opts.Simulate == "" {
		a.opts.Simulate = "openclaw"
	}
	return a.serve(ctx)
}

// simulatedModels are the simulator's models: its default fake/fake-echo
// (free, like a local model) and the ones the README and the tool
// descriptions use as examples, so every example runs against the
// simulator. Every model answers like the echo model. The prices (US$ per
// million tokens: input, output, cache read, cache write) are the
// providers' list prices when this was written, so that cost_usd and
// list_models' prices look like a real gateway's; they are examples, not a
// price list.
var simulatedModels = []gatewaysim.Model{
	{Ref: gatewaysim.DefaultModel, Name: "Fake Echo", ContextWindow: 128000, Price: &gatewaysim.Price{}},
	{Ref: "anthropic/claude-sonnet-4-5", Name: "Claude Sonnet 4.5", Alias: "sonnet", ContextWindow: 200000,
		Price: &gatewaysim.Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75}},
	{Ref: "anthropic/claude-opus-4-5", Name: "Claude Opus 4.5", Alias: "opus", ContextWindow: 200000,
		Price: &gatewaysim.Price{Input: 5, Output: 25, CacheRead: 0.5, CacheWrite: 6.25}},
	{Ref: "anthropic/claude-haiku-4-5", Name: "Claude Haiku 4.5", Alias: "haiku", ContextWindow: 200000,
		Price: &gatewaysim.Price{Input: 1, Output: 5, CacheRead: 0.1, CacheWrite: 1.25}},
	{Ref: "openai/gpt-5", Name: "GPT-5", Alias: "gpt", ContextWindow: 400000,
		Price: &gatewaysim.Price{Input: 1.25, Output: 10, CacheRead: 0.125}},
	{Ref: "openai/gpt-5-mini", Name: "GPT-5 Mini", Alias: "gpt-mini", ContextWindow: 400000,
		Price: &gatewaysim.Price{Input: 0.25, Output: 2, CacheRead: 0.025}},
}

// simulator is an in-process simulated gateway (package gatewaysim) with an
// echo model, for trying clawgate without OpenClaw.
type simulator struct {
	URL, Token string
	srv        *gatewaysim.Server
}

func (s *simulator) Close() { s.srv.Close() }

func startSimulator(generation string, log *slog.Logger) (*simulator, error) {
	gen := gatewaysim.OpenClaw
	if generation == "clawdbot" {
		gen = gatewaysim.Clawdbot
	}
	tok, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("simulator token: %w", err)
	}
	srv, err := gatewaysim.Start(gatewaysim.Options{
		Generation: gen,
		Token:      tok.String(),
		Models:     simulatedModels,
		// The gateway's main session and a named session to continue.
		Sessions: []string{"agent:main:main", "agent:main:subagent"},
		Logf:     func(format string, args ...any) { log.Debug("simulator: " + fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return nil, fmt.Errorf("start the simulated gateway: %w", err)
	}
	return &simulator{URL: srv.URL(), Token: tok.String(), srv: srv}, nil
}
