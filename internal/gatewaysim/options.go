package gatewaysim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Generation selects which real gateway the fake imitates.
type Generation int

const (
	// Clawdbot imitates clawdbot 2026.1.24-3 (wire protocol 3).
	Clawdbot Generation = 3
	// OpenClaw imitates openclaw 2026.9.6 (wire protocol 4).
	OpenClaw Generation = 4
)

// String returns "clawdbot-2026.1.24-3" or "openclaw-2026.9.6".
func (g Generation) String() string {
	switch g {
	case Clawdbot:
		return "clawdbot-2026.1.24-3"
	case OpenClaw:
		return "openclaw-2026.9.6"
	}
	return fmt.Sprintf("Generation(%d)", int(g))
}

// DefaultModel is the model every session uses unless sessions.patch selects
// another one; it is always allowed, like agents.defaults.model.primary.
const DefaultModel = "fake/fake-echo"

// Options configures a fake gateway. The zero value is a usable OpenClaw
// fake with token "test-token". New panics on an unknown Generation.
type Options struct {
	// Generation is the gateway to imitate (default OpenClaw).
	Generation Generation
	// Token is the shared gateway token the fake requires (default "test-token").
	Token string
	// Password, if set, is also accepted: on OpenClaw in auth.token or
	// auth.password, on Clawdbot in auth.password, and only together with a
	// non-empty auth.token (device-less password auth fails on 1.24 with
	// "device identity required").
	Password string
	// TickInterval is reported as policy.tickIntervalMs and is the period of
	// tick events (default 30s, like both real gateways). A negative value
	// disables tick events; policy.tickIntervalMs then reports 30000.
	TickInterval time.Duration
	// MaxPayload overrides policy.maxPayload and the read limit for frames
	// after the handshake (default: 512 KiB on Clawdbot, 25 MiB on OpenClaw).
	// Larger frames close the connection with 1009.
	MaxPayload int
	// HandshakeTimeout is how long the fake waits for the connect request
	// before closing with 1000 (default 10s on Clawdbot, 15s on OpenClaw).
	HandshakeTimeout time.Duration
	// ClearScopes simulates the OpenClaw silent downgrade: hello-ok succeeds
	// but auth.scopes is [] and every call then fails with FORBIDDEN
	// "missing scope: ...". Ignored on Clawdbot and for connects with a
	// device identity (which the real downgrade spares).
	ClearScopes bool
	// StartupUnavailable makes the first N connect requests get the OpenClaw
	// startup reply (UNAVAILABLE "gateway starting; retry shortly", retryable,
	// retryAfterMs 50, details.reason "startup-sidecars") followed by close
	// 1013 "gateway starting". The real gateway says retryAfterMs 500; 50
	// keeps tests fast. Applies to both generations, though a real Clawdbot
	// never sends it.
	StartupUnavailable int
	// AllowedModels is the model allowlist (agents.defaults.models), as
	// "provider/model" (default ["fake/fake-echo"]). sessions.patch and the
	// OpenClaw agent model param reject others with "model not allowed:
	// <provider/model>". Bare names resolve under the default provider
	// "fake"; the alias "Fake" means fake/fake-echo.
	AllowedModels []string
	// Models, if set, is the model catalog of an OpenClaw fake's models.list
	// and adds each model to the allowlist, with its alias. It exists for
	// the simulator (clawgate --simulate), whose users try the README's
	// examples with real model names, and for tests of prices (Model.Price)
	// and of config.get, whose model catalog it is. The default model stays
	// fake/fake-echo; list DefaultModel here to price it. A Clawdbot fake
	// lists its recorded catalog whatever Models says, but still allows and
	// resolves these models.
	Models []Model
	// Fallbacks makes the served model differ from the requested one, like
	// a model fallback: a run whose model resolves to a key
	// ("provider/model") is served by the value's model. OpenClaw then
	// reports the served model in the final reply's agentMeta
	// provider/model, terminalReceipt.effective (rerouted true) and
	// executionTrace (a candidate_failed attempt for the requested model,
	// fallbackUsed true), plus agentMeta.fallbackAttempts, as recorded;
	// Clawdbot only shows the served model in agentMeta and in the session
	// row. The fake applies it to every run. (Measured on OpenClaw
	// 2026.9.6: the real gateway falls back only for runs without a model
	// override — no per-run model param, no sessions.patch model — since an
	// explicit model disables agents.defaults.model.fallbacks there.)
	Fallbacks map[string]string
	// Sessions, if not nil, replaces the recorded sessions the fake starts
	// with by sessions of these keys (shaped like the recorded ones), for
	// the simulator.
	Sessions []string
	// Remote makes the fake treat every client as a remote peer (not on
	// loopback), like a gateway reached over the LAN (DEVICE.md §1, §3):
	// OpenClaw then grants a device-less connect no scopes (hello-ok
	// auth.scopes [], every scoped method fails "missing scope: ...") and
	// requires pairing for every device; Clawdbot keeps device-less
	// scopes, requires pairing and a device nonce. Without Remote (the
	// default) clients are local: OpenClaw's gateway-client/backend skips
	// pairing (no device token) and other clients, like every Clawdbot
	// device, are paired silently and get a device token.
	Remote bool
	// PairingTTL is how long a pending device pairing request lives
	// without a reconnect refreshing it (default 5 minutes, like both
	// gateways; Clawdbot does not refresh).
	PairingTTL time.Duration
	// AgentDelay is how long an agent run takes when its message has no
	// [[delay=N]] marker (default 20ms). Events are streamed meanwhile.
	AgentDelay time.Duration
	// Logf, if set, receives a line per connection event, e.g. t.Logf.
	Logf func(format string, args ...any)
}

// Model is one model of Options.Models.
type Model struct {
	// Ref is "provider/model", e.g. "anthropic/claude-sonnet-4-5".
	Ref string
	// Name is the display name, e.g. "Claude Sonnet 4.5".
	Name string
	// Alias, if set, is a short name sessions.patch and the agent model
	// param resolve to Ref, case-insensitively, e.g. "sonnet".
	Alias string
	// ContextWindow is the context window in tokens (default 200000).
	ContextWindow int
	// Price is the model's price (models.providers.<id>.models[].cost); nil
	// means the model has no cost entry. Include DefaultModel in
	// Options.Models to price it; unlisted, it costs 0 (the recordings'
	// config). OpenClaw reports a priced run's cost in the final reply
	// (agentMeta.costUsd and usage.cost.total = tokens × price / 1e6 per
	// kind, summed like the gateway); a run on a model without a price
	// gets usage.cost.total 0 and no costUsd, and counts as a missing cost
	// entry in usage.cost. Clawdbot never reports cost in agent replies.
	Price *Price
}

// Price is a model price in US dollars per million tokens, like the cost
// entry of a model in the gateway config.
type Price struct {
	Input      float64
	Output     float64
	CacheRead  float64
	CacheWrite float64
}

// cost is what a run with these token counts costs, computed like the
// gateway of generation g: OpenClaw's calculateUsageCost takes tokens ×
// rate / 1e6 per kind, Clawdbot's (pi-ai calculateCost) rate / 1e6 ×
// tokens; both sum the kinds in the order input, output, cacheRead,
// cacheWrite. The same float64 operations in the same order give the same
// doubles as the gateways' JavaScript; the explicit float64 conversions
// round each product, so that no architecture fuses a multiply and an add.
func (p Price) cost(g Generation, input, output, cacheRead, cacheWrite int) usageCost {
	kind := func(tokens int, rate float64) float64 {
		if g == Clawdbot {
			return float64(rate / 1e6 * float64(tokens))
		}
		return float64(float64(tokens) * rate / 1e6)
	}
	c := usageCost{input: kind(input, p.Input), output: kind(output, p.Output),
		cacheRead: kind(cacheRead, p.CacheRead), cacheWrite: kind(cacheWrite, p.CacheWrite)}
	c.total = c.input + c.output + c.cacheRead + c.cacheWrite
	return c
}

// usageCost is the cost of one run, per token kind.
type usageCost struct {
	input, output, cacheRead, cacheWrite, total float64
}

// withDefaults fills in the zero fields; an unknown Generation is an error.
func (o Options) withDefaults() (Options, error) {
	if o.Generation == 0 {
		o.Generation = OpenClaw
	}
	if o.Generation != Clawdbot && o.Generation != OpenClaw {
		return o, fmt.Errorf("gatewaysim: unknown generation %d", int(o.Generation))
	}
	if o.Token == "" {
		o.Token = "test-token"
	}
	if o.TickInterval == 0 {
		o.TickInterval = 30 * time.Second
	}
	if len(o.AllowedModels) == 0 {
		o.AllowedModels = []string{DefaultModel}
	}
	for _, m := range o.Models {
		o.AllowedModels = append(o.AllowedModels, m.Ref)
	}
	if o.AgentDelay == 0 {
		o.AgentDelay = 20 * time.Millisecond
	}
	return o, nil
}

// tickIntervalMs is the value reported in hello-ok policy.
func (o Options) tickIntervalMs() int64 {
	if o.TickInterval < 0 {
		return 30000
	}
	return o.TickInterval.Milliseconds()
}

// ErrorShape is the error object of a res frame.
type ErrorShape struct {
	// Code is INVALID_REQUEST, NOT_PAIRED, UNAVAILABLE, FORBIDDEN, ...
	Code string `json:"code"`
	// Message is the human-readable error.
	Message string `json:"message"`
	// Details is the optional details object (omitted when nil).
	Details any `json:"details,omitempty"`
	// Retryable marks errors worth retrying (omitted when false).
	Retryable bool `json:"retryable,omitempty"`
	// RetryAfterMs is the suggested retry delay (omitted when 0).
	RetryAfterMs int `json:"retryAfterMs,omitempty"`
}

// Error implements error.
func (e *ErrorShape) Error() string { return e.Code + ": " + e.Message }

// Request is one request frame received by the fake.
type Request struct {
	// ID is the request id.
	ID string
	// Method is the method name.
	Method string
	// Params is the raw params value (nil if absent).
	Params json.RawMessage
	// Conn is the number of the connection it arrived on (see Conn.ID).
	Conn int
}

// HandlerFunc answers a request on behalf of the fake; see Server.Handle.
type HandlerFunc func(c *Conn, req Request)

// ConnectInfo describes one connect request the fake received.
type ConnectInfo struct {
	// Conn is the connection number.
	Conn int
	// Params is the raw connect params.
	Params json.RawMessage
	// Origin reports whether the WebSocket upgrade carried an Origin header.
	Origin bool
	// OK reports whether hello-ok was sent.
	OK bool
	// Error is the connect error that was sent, if any.
	Error *ErrorShape
	// Protocol is the negotiated protocol (when OK).
	Protocol int
	// Scopes are the effective scopes granted (when OK).
	Scopes []string
	// DeviceID is the verified device of a connect that carried one and
	// passed the signature checks ("" otherwise).
	DeviceID string
	// Method is how the connect authenticated (when OK): "token",
	// "password" or "device-token".
	Method string
	// DeviceToken is the device token handed out in hello-ok ("" if none).
	DeviceToken string
}

// RunInfo describes an agent run started by the fake.
type RunInfo struct {
	// RunID is the run id (= the idempotencyKey).
	RunID string
	// SessionKey is the session the run belongs to (for a model run: the
	// key it was given, which is not stored).
	SessionKey string
	// Message is the user message.
	Message string
	// Model is the "provider/model" that served the run (after a fallback,
	// the fallback's).
	Model string
	// RequestedModel is the agent request's model param exactly as sent
	// ("" when absent).
	RequestedModel string
	// FallbackFrom is the "provider/model" that was requested and replaced
	// through Options.Fallbacks ("" when no fallback happened).
	FallbackFrom string
	// ModelRun reports an OpenClaw model run (modelRun: true): no events,
	// nothing stored.
	ModelRun bool
	// PromptMode and BootstrapContextMode are those agent params as sent.
	PromptMode           string
	BootstrapContextMode string
	// Label is the label agent param as sent.
	Label string
	// Params is the raw params of the agent request.
	Params json.RawMessage
	// CostUSD is the cost the final reply reported (OpenClaw
	// agentMeta.costUsd); nil when it reported none (Clawdbot, a model
	// without a price, or a run that did not complete).
	CostUSD *float64
	// Conn is the connection that started the run.
	Conn int
	// Aborted reports whether the run was aborted.
	Aborted bool
	// Done reports whether the run has finished.
	Done bool
}

// Scopes used by the gateways.
const (
	scopeRead  = "operator.read"
	scopeWrite = "operator.write"
	scopeAdmin = "operator.admin"
	scopeTalk  = "operator.talk"
	// scopePairing is needed to see device.pair.* events.
	scopePairing = "operator.pairing"
)

// resolveModelRef resolves a model reference the way sessions.patch does:
// trimmed, the alias "Fake" (any case) is fake/fake-echo, so are the
// aliases of models, a bare name is taken under the default provider
// "fake".
func resolveModelRef(ref string, models []Model) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", false
	}
	if strings.EqualFold(ref, "fake") {
		return DefaultModel, true
	}
	for _, m := range models {
		if m.Alias != "" && strings.EqualFold(ref, m.Alias) {
			return m.Ref, true
		}
	}
	if !strings.Contains(ref, "/") {
		return "fake/" + ref, true
	}
	prov, model, _ := strings.Cut(ref, "/")
	return strings.ToLower(strings.TrimSpace(prov)) + "/" + model, true
}

// splitModel splits "provider/model".
func splitModel(ref string) (string, string) {
	prov, model, _ := strings.Cut(ref, "/")
	return prov, model
}
