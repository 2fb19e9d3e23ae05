package tools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
)

// ToolGatewayStatus is the name of the tool that reports whether the
// gateway is reachable.
const ToolGatewayStatus = "gateway_status"

var gatewayStatusTool = newTool(toolDef{
	name: ToolGatewayStatus, title: "Gateway status",
	description: "Check whether the OpenClaw/Clawdbot gateway is reachable, which version and protocol it runs, its default model, " +
		"how full the main session's context window is, and what the gateway's model use cost today and in the last 30 days (where it reports cost). Spends no tokens. A down gateway is not an error: connected is false and error says why.",
	readOnly: true, idempotent: true,
}, (*tools).gatewayStatus)

// GatewayStatusInput takes no arguments.
type GatewayStatusInput struct{}

// GatewayStatusOutput says whether the gateway is reachable and how full the
// main session's context is.
type GatewayStatusOutput struct {
	Connected     bool               `json:"connected" jsonschema:"description=True when clawgate is connected to the gateway and the handshake succeeded."`
	URL           string             `json:"url" jsonschema:"description=The gateway WebSocket URL clawgate uses (never includes credentials).,example=ws://127.0.0.1:18789"`
	Protocol      int                `json:"protocol,omitempty" jsonschema:"description=Negotiated gateway protocol: 3 is Clawdbot 2026.1.x and 4 is OpenClaw 2026.9.x."`
	ServerVersion string             `json:"server_version,omitempty" jsonschema:"description=Gateway version as it reports itself (Clawdbot may say dev).,example=2026.9.6"`
	Scopes        []string           `json:"scopes,omitempty" jsonschema:"description=Operator scopes of the connection.,example=operator.admin"`
	ReadOnly      bool               `json:"read_only" jsonschema:"description=True when clawgate runs with --read-only: only read tools are available."`
	Error         string             `json:"error,omitempty" jsonschema:"description=Why the gateway is not usable and what to do about it; set when connected is false."`
	MainSession   *MainSessionStatus `json:"main_session,omitempty" jsonschema:"description=The gateway's main session and how full its context window is."`
	Defaults      *StatusDefaultsOut `json:"defaults,omitempty" jsonschema:"description=The gateway's default model and context size."`
	SessionCount  *int               `json:"session_count,omitempty" jsonschema:"description=Number of sessions the gateway knows."`
	Cost          *CostStatus        `json:"cost,omitempty" jsonschema:"description=What the gateway's model use cost in US dollars\\, as the gateway reports it (usage.cost\\, from the configured model prices; never estimated by clawgate). Absent when the gateway reports no cost or could not be asked (cost_note says why)."`
	CostNote      string             `json:"cost_note,omitempty" jsonschema:"description=Why cost is absent (e.g. usage.cost did not answer in time or was refused); the rest of the status is unaffected."`
}

// CostStatus is the gateway's usage cost as gateway_status reports it.
type CostStatus struct {
	Date               string   `json:"date" jsonschema:"description=Today as the gateway counts days (its local date)\\, the day today_usd is for.,example=2026-11-28"`
	TodayUSD           *float64 `json:"today_usd,omitempty" jsonschema:"description=Cost of today's model use in US dollars (0 when nothing ran today).,example=0.00001"`
	Last30DaysUSD      *float64 `json:"last_30_days_usd,omitempty" jsonschema:"description=Cost of the model use of the last 30 days (today included) in US dollars.,example=0.0042"`
	MissingCostEntries int64    `json:"missing_cost_entries,omitempty" jsonschema:"description=Model calls in the last 30 days the gateway could not price (no configured price for their model): the costs above leave them out."`
}

// MainSessionStatus is the main session's model and context use.
type MainSessionStatus struct {
	Key           string   `json:"key" jsonschema:"description=Session key.,example=agent:main:main"`
	Model         string   `json:"model,omitempty" jsonschema:"description=Model of the session as provider/model when known.,example=anthropic/claude-sonnet-4-5"`
	ContextUsed   int64    `json:"context_used" jsonschema:"description=Tokens in the session's context (as the gateway counts them)."`
	ContextWindow int64    `json:"context_window,omitempty" jsonschema:"description=Context window of the session's model in tokens."`
	PercentUsed   *float64 `json:"percent_used,omitempty" jsonschema:"description=context_used as a percentage of context_window."`
}

// StatusDefaultsOut are the gateway's defaults as gateway_status reports them.
type StatusDefaultsOut struct {
	Model         string `json:"model,omitempty" jsonschema:"description=Default model as provider/model.,example=anthropic/claude-opus-4-5"`
	ContextWindow int64  `json:"context_window,omitempty" jsonschema:"description=Context window of the default model in tokens."`
}

// gatewayStatus reports reachability, version and main-session context use.
// A gateway that cannot be reached is a normal result (connected:false).
func (t *tools) gatewayStatus(ctx context.Context, _ mcp.CallToolRequest, _ GatewayStatusInput) (GatewayStatusOutput, string, error) {
	out := GatewayStatusOutput{URL: t.gw.URL(), ReadOnly: t.cfg.ReadOnly}
	info, err := t.gw.Info(ctx)
	if err != nil {
		out.Error = safetext.Text(Explain(err))
		return out, "Gateway not usable: " + out.Error, nil
	}
	out.Connected, out.Protocol, out.ServerVersion = true, info.Protocol, safetext.Line(info.ServerVersion)
	for _, s := range info.Scopes {
		out.Scopes = append(out.Scopes, safetext.Line(s))
	}
	// usage.cost runs beside the other calls, bounded: its first call on
	// OpenClaw takes seconds while the gateway fills its cache.
	costs := make(chan costResult, 1)
	costCtx, cancelCost := context.WithTimeout(ctx, costWait())
	defer cancelCost()
	go func() {
		uc, err := t.gw.UsageCost(costCtx)
		costs <- costResult{uc, err}
	}()
	st, _, err := t.gw.Status(ctx)
	if err != nil {
		cancelCost()
		<-costs
		out.Error = "connected, but the status call failed: " + safetext.Text(Explain(err))
		return out, out.Error, nil
	}
	count := int(st.Sessions.Count.Count())
	out.SessionCount = &count
	out.Defaults = &StatusDefaultsOut{Model: safetext.Line(st.Sessions.Defaults.Model), ContextWindow: st.Sessions.Defaults.ContextTokens.Count()}
	// The list's defaults carry the provider that status leaves out.
	if list, err := t.gw.SessionsList(ctx, schema.SessionsListParams{Limit: 1}); err == nil {
		out.Defaults.Model = safetext.Line(schema.ModelRef(list.Defaults.ModelProvider, list.Defaults.Model))
		if w := list.Defaults.ContextTokens.Count(); w > 0 {
			out.Defaults.ContextWindow = w
		}
	}
	main := info.MainSessionKey
	if main == "" {
		main = "agent:main:main"
	}
	out.MainSession = &MainSessionStatus{Key: safetext.Line(main), Model: out.Defaults.Model, ContextWindow: out.Defaults.ContextWindow}
	for _, s := range st.Sessions.Recent {
		if s.Key != main {
			continue
		}
		if s.Model != "" {
			out.MainSession.Model = safetext.Line(s.Model)
			if !strings.Contains(s.Model, "/") && out.Defaults.Model != "" && strings.HasSuffix(out.Defaults.Model, "/"+out.MainSession.Model) {
				out.MainSession.Model = out.Defaults.Model
			}
		}
		if s.TotalTokens != nil {
			out.MainSession.ContextUsed = s.TotalTokens.Count()
		}
		if s.ContextTokens != nil && s.ContextTokens.Count() > 0 {
			out.MainSession.ContextWindow = s.ContextTokens.Count()
		}
	}
	out.MainSession.PercentUsed = percent(out.MainSession.ContextUsed, out.MainSession.ContextWindow)
	cr := <-costs
	out.Cost, out.CostNote = costStatus(ctx, costCtx, cr, time.Now())
	text := fmt.Sprintf("Connected to %s (protocol %d, version %s). Main session %s: %d of %d tokens used; default model %s; %s.",
		out.URL, out.Protocol, out.ServerVersion, out.MainSession.Key, out.MainSession.ContextUsed, out.MainSession.ContextWindow, out.Defaults.Model, countOf(count, "session", "sessions"))
	if c := out.Cost; c != nil && c.text() != "" {
		text += " " + c.text()
	}
	if out.CostNote != "" {
		text += " " + out.CostNote
	}
	return out, text, nil
}

// costWaitNanos bounds how long gateway_status waits for usage.cost and
// list_models for config.get (see costWait).
var costWaitNanos atomic.Int64

func init() { costWaitNanos.Store(int64(3 * time.Second)) }

// costWait is how long the tools wait for cost and prices, which are extras
// of their results: OpenClaw answers usage.cost in 1.7 s and config.get in
// 1 s on the first call (later in milliseconds).
func costWait() time.Duration { return time.Duration(costWaitNanos.Load()) }

// costResult is the answer to usage.cost.
type costResult struct {
	uc  *schema.UsageCost
	err error
}

// costStatus turns usage.cost's answer into gateway_status' cost, or the
// note that says why there is none. ctx is the tool call's context, cctx
// the bounded one of the call; now gives clawgate's local date.
func costStatus(ctx, cctx context.Context, r costResult, now time.Time) (*CostStatus, string) {
	switch {
	case r.err == nil:
	case ctx.Err() != nil:
		return nil, ""
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Sprintf("Cost unknown: the gateway did not report it (usage.cost) within %s; the first call after a gateway start can take longer, so call gateway_status again.", costWait())
	default:
		return nil, "Cost unknown: " + safetext.Text(Explain(r.err))
	}
	uc := r.uc
	today := gatewayToday(uc.Daily, now)
	c := &CostStatus{Date: safetext.Line(today)}
	if uc.Totals != nil {
		c.Last30DaysUSD = uc.Totals.TotalCost
		c.MissingCostEntries = uc.Totals.MissingCostEntries.Count()
	}
	reported := c.Last30DaysUSD != nil
	for _, d := range uc.Daily {
		reported = reported || d.TotalCost != nil
		if d.Date == today {
			c.TodayUSD = d.TotalCost
		}
	}
	if !reported {
		return nil, "The gateway reports no cost."
	}
	if c.TodayUSD == nil && !slices.ContainsFunc(uc.Daily, func(d schema.UsageDay) bool { return d.Date == today }) {
		// Days without model use are not listed (Clawdbot).
		c.TodayUSD = new(float64)
	}
	return c, ""
}

// gatewayToday is the date usage.cost counts as today: clawgate's local
// date, unless the gateway's list shows that its own date differs. The
// window is 30 days ending today; OpenClaw lists every day of it, so a full
// list ends on the gateway's today; a day later than clawgate's date means
// the gateway's clock runs in a time zone ahead.
func gatewayToday(daily []schema.UsageDay, now time.Time) string {
	today := now.Format(time.DateOnly)
	last := ""
	for _, d := range daily {
		if _, err := time.Parse(time.DateOnly, d.Date); err == nil {
			last = max(last, d.Date)
		}
	}
	if last > today || (len(daily) >= 30 && last != "") {
		return last
	}
	return today
}

// text is the cost sentence of gateway_status' text.
func (c *CostStatus) text() string {
	var parts []string
	if c.TodayUSD != nil {
		parts = append(parts, fmt.Sprintf("today (%s) %s", c.Date, usd(*c.TodayUSD)))
	}
	if c.Last30DaysUSD != nil {
		parts = append(parts, "last 30 days "+usd(*c.Last30DaysUSD))
	}
	if len(parts) == 0 {
		return ""
	}
	s := "Model cost " + strings.Join(parts, ", ") + "."
	if c.MissingCostEntries > 0 {
		s += fmt.Sprintf(" %s had no price and are not counted.", countOf(int(c.MissingCostEntries), "model call", "model calls"))
	}
	return s
}
