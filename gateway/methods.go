package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/clawgate/clawgate/schema"
)

// Status calls status. Raw holds the whole, version-specific result.
func (c *Client) Status(ctx context.Context) (*schema.Status, json.RawMessage, error) {
	var raw json.RawMessage
	if err := c.Call(ctx, "status", nil, &raw); err != nil {
		return nil, nil, err
	}
	var st schema.Status
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, raw, fmt.Errorf("decode status result: %w", err)
	}
	return &st, raw, nil
}

// Health calls health and returns its raw, version-specific result.
func (c *Client) Health(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.Call(ctx, "health", struct{}{}, &raw)
	return raw, err
}

// SessionsList calls sessions.list with the params both generations accept.
func (c *Client) SessionsList(ctx context.Context, p schema.SessionsListParams) (*schema.SessionsList, error) {
	var out schema.SessionsList
	if err := c.Call(ctx, "sessions.list", p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SessionsPatch sets (model != nil) or clears (model == nil) a session's
// model override.
func (c *Client) SessionsPatch(ctx context.Context, key string, model *string) (*schema.SessionsPatchResult, error) {
	var out schema.SessionsPatchResult
	if err := c.Call(ctx, "sessions.patch", schema.SessionsPatchParams{Key: key, Model: model}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ModelsList calls models.list with empty params (protocol 3 accepts nothing
// else; protocol 4 then returns the allowlisted catalog).
func (c *Client) ModelsList(ctx context.Context) (*schema.ModelsList, error) {
	var out schema.ModelsList
	if err := c.Call(ctx, "models.list", struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AbortRun aborts the agent run runID: with chat.abort when the session is
// known (it requires the key), else with sessions.abort. A gateway that
// cannot abort agent runs (Capabilities.AbortRuns: Clawdbot) gets no
// request: it returns ErrAbortUnsupported.
func (c *Client) AbortRun(ctx context.Context, sessionKey, runID string) (*schema.AbortResult, error) {
	ctx, cancel := c.bound(ctx, c.opts.CallTimeout)
	defer cancel()
	cn, err := c.connection(ctx)
	if err != nil {
		return nil, err
	}
	if !cn.caps.AbortRuns {
		return nil, ErrAbortUnsupported
	}
	var out schema.AbortResult
	if sessionKey == "" {
		err = c.Call(ctx, "sessions.abort", schema.SessionsAbortParams{RunID: runID}, &out)
	} else {
		err = c.Call(ctx, "chat.abort", schema.AbortParams{SessionKey: sessionKey, RunID: runID}, &out)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SessionsDelete calls sessions.delete for key (admin on both generations;
// the gateway aborts a run of the session first and refuses the main
// session). Deleted reports whether the session existed.
func (c *Client) SessionsDelete(ctx context.Context, key string) (*schema.SessionsDeleteResult, error) {
	var out schema.SessionsDeleteResult
	if err := c.Call(ctx, "sessions.delete", schema.SessionsDeleteParams{Key: key}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UsageCost calls usage.cost with empty params: the cost and token totals
// per day over the gateway's default window (30 days), both generations.
func (c *Client) UsageCost(ctx context.Context) (*schema.UsageCost, error) {
	var out schema.UsageCost
	if err := c.Call(ctx, "usage.cost", struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ModelPrices reads the prices of the configured models from config.get:
// models.providers.<id>.models[].cost, in US dollars per million tokens,
// keyed by "provider/model". Only those fields are decoded, so nothing else
// of the config (credentials included) is kept.
func (c *Client) ModelPrices(ctx context.Context) (map[string]schema.ModelPrice, error) {
	var out schema.ConfigPrices
	if err := c.Call(ctx, "config.get", struct{}{}, &out); err != nil {
		return nil, err
	}
	return out.Prices(), nil
}

// ModelAliases reads the model aliases configured for agents
// (agents.defaults.models.<provider/model>.alias) from config.get: alias in
// lower case → "provider/model". Only those fields are decoded.
func (c *Client) ModelAliases(ctx context.Context) (map[string]string, error) {
	var out schema.ConfigAliases
	if err := c.Call(ctx, "config.get", struct{}{}, &out); err != nil {
		return nil, err
	}
	return out.Aliases(), nil
}

// ChatHistory calls chat.history: the last limit messages of a session's
// transcript (both generations; 0: the gateway's default).
func (c *Client) ChatHistory(ctx context.Context, sessionKey string, limit int) (*schema.ChatHistory, error) {
	var out schema.ChatHistory
	if err := c.Call(ctx, "chat.history", schema.ChatHistoryParams{SessionKey: sessionKey, Limit: limit}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AgentWait calls agent.wait: it waits up to wait for the run runID to end
// (0: only looks), bounded by ctx and by the wait plus the call timeout.
// Status "timeout" means the wait ended, not the run.
func (c *Client) AgentWait(ctx context.Context, runID string, wait time.Duration) (*schema.AgentWaitResult, error) {
	var out schema.AgentWaitResult
	if err := c.call(ctx, wait+c.opts.CallTimeout, "agent.wait", schema.AgentWaitParams{RunID: runID, TimeoutMs: wait.Milliseconds()}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
