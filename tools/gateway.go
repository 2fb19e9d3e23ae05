package tools

import (
	"context"
	"encoding/json"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/schema"
)

// Gateway is what the tools need from the gateway client; *gateway.Client
// implements it.
type Gateway interface {
	URL() string
	Info(ctx context.Context) (*gateway.Info, error)
	Status(ctx context.Context) (*schema.Status, json.RawMessage, error)
	SessionsList(ctx context.Context, p schema.SessionsListParams) (*schema.SessionsList, error)
	SessionsPatch(ctx context.Context, key string, model *string) (*schema.SessionsPatchResult, error)
	ModelsList(ctx context.Context) (*schema.ModelsList, error)
	Agent(ctx context.Context, req gateway.AgentRequest, onEvent func(schema.AgentEvent)) (*gateway.AgentRun, error)
	SessionsDelete(ctx context.Context, key string) (*schema.SessionsDeleteResult, error)
	UsageCost(ctx context.Context) (*schema.UsageCost, error)
	ModelPrices(ctx context.Context) (map[string]schema.ModelPrice, error)
	ModelAliases(ctx context.Context) (map[string]string, error)
	ChatHistory(ctx context.Context, sessionKey string, limit int) (*schema.ChatHistory, error)
	AgentWait(ctx context.Context, runID string, wait time.Duration) (*schema.AgentWaitResult, error)
	AbortRun(ctx context.Context, sessionKey, runID string) (*schema.AbortResult, error)
}

var _ Gateway = (*gateway.Client)(nil)
