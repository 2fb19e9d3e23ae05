package cli

import (
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/clawgate/clawgate/gateway/gatewaytest"
)

// simulator is an in-process simulated gateway (the tested fake of package
// gatewaytest) with an echo model, for trying clawgate without OpenClaw.
type simulator struct {
	URL, Token string
	srv        *gatewaytest.Server
}

func (s *simulator) Close() { s.srv.Close() }

func startSimulator(generation string, log *slog.Logger) (*simulator, error) {
	gen := gatewaytest.OpenClaw
	if generation == "clawdbot" {
		gen = gatewaytest.Clawdbot
	}
	tok, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("simulator token: %w", err)
	}
	srv := gatewaytest.New(gatewaytest.Options{
		Generation: gen,
		Token:      tok.String(),
		Logf:       func(format string, args ...any) { log.Debug("simulator: " + fmt.Sprintf(format, args...)) },
	})
	return &simulator{URL: srv.URL(), Token: tok.String(), srv: srv}, nil
}
