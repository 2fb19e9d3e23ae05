package gateway

import (
	"fmt"
	"strings"

	"github.com/clawgate/clawgate/schema"
)

// Capabilities say what the negotiated gateway can do. They are derived in
// one place, capabilitiesOf, from what the handshake settled (the protocol
// hello-ok chose), so that no caller compares protocol numbers: a tool asks
// "can this gateway abort a run?", and a third gateway generation changes
// this file, not the callers. Info.Capabilities returns them; the
// connection keeps them for the client's own decisions (AbortRun, Close).
type Capabilities struct {
	// AbortRuns: chat.abort and sessions.abort reach runs started with the
	// agent method. OpenClaw (protocol 4) registers them; Clawdbot's
	// chat.abort only reaches runs started with chat.send, so an agent run
	// goes on until it ends or hits its own timeout (docs/protocol.md §3.10).
	AbortRuns bool
	// ModelAllowlist: models.list returns the models the gateway allows
	// (OpenClaw's default view is the allowlisted catalog). Clawdbot returns
	// the full catalog, so a listed model may still be refused, and its
	// allowlist (agents.defaults.models) cannot be read (docs/protocol.md §3.3,
	// §6.12).
	ModelAllowlist bool
	// SessionModelOverrides: sessions.list rows carry the selected model
	// and modelOverrideSource (OpenClaw). Clawdbot's rows show the model
	// of the last run and no override (docs/protocol.md §3.4).
	SessionModelOverrides bool
	// RunModel: the agent method accepts a model (provider, model) for
	// one run (OpenClaw; it needs operator.admin). Clawdbot refuses the
	// keys (docs/protocol.md §3.7).
	RunModel bool
	// ModelRun: the agent method accepts modelRun, a bare model call
	// without the agent's tools and session (OpenClaw, docs/protocol.md §3.7).
	ModelRun bool
	// PromptModes: the agent method accepts promptMode and
	// bootstrapContextMode (OpenClaw, docs/protocol.md §3.7).
	PromptModes bool
	// SubagentLane: agent runs sent on the "subagent" lane run up to 8 at
	// once, instead of the main lane's agents.defaults.maxConcurrent (4):
	// measured on Clawdbot 2026.1.24 (8 runs with a 3 s model delay took
	// 3.5 s on lane subagent, 6.4 s without). Not used on OpenClaw, where
	// parallel runs were not limited that way (docs/protocol.md §3.7).
	SubagentLane bool
	// ScopeDowngrade: the gateway admits a device-less client that does
	// not connect directly over loopback but clears its scopes, so that a
	// missing scope may be that downgrade rather than the operator's
	// settings (OpenClaw, docs/protocol.md §2.7). Clawdbot keeps the scopes
	// a device-less client with a token requests (§2.5).
	ScopeDowngrade bool
}

// capabilitiesOf is the one place that maps a negotiated protocol to what
// the gateway can do: protocol 4 is OpenClaw 2026.9.x, protocol 3
// Clawdbot 2026.1.x (docs/protocol.md §5).
func capabilitiesOf(protocol int) Capabilities {
	openclaw := protocol >= 4
	return Capabilities{
		AbortRuns:             openclaw,
		ModelAllowlist:        openclaw,
		SessionModelOverrides: openclaw,
		RunModel:              openclaw,
		ModelRun:              openclaw,
		PromptModes:           openclaw,
		SubagentLane:          !openclaw,
		ScopeDowngrade:        openclaw,
	}
}

// Capabilities says what the gateway of this connection can do (see
// Capabilities). It depends only on the negotiated protocol, so an Info
// built by hand (a stub in a test) has the capabilities of its Protocol.
func (in *Info) Capabilities() Capabilities { return capabilitiesOf(in.Protocol) }

// UnsupportedError is an agent request this gateway cannot take: it names
// the request fields its protocol does not have. Nothing was sent.
type UnsupportedError struct {
	Fields []string // the agent params the gateway does not accept
}

// Kind is KindUnsupported.
func (e *UnsupportedError) Kind() Kind { return KindUnsupported }

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("this gateway's agent method does not accept %s; the run was not started", strings.Join(e.Fields, ", "))
}

// check refuses agent params that carry a key the gateway's closed agent
// schema does not have.
func (c Capabilities) check(p schema.AgentParams) error {
	var bad []string
	if !c.RunModel && (p.Provider != "" || p.Model != "") {
		bad = append(bad, "a model per run (provider, model)")
	}
	if !c.ModelRun && p.ModelRun {
		bad = append(bad, "modelRun")
	}
	if !c.PromptModes && (p.PromptMode != "" || p.BootstrapContextMode != "") {
		bad = append(bad, "promptMode/bootstrapContextMode")
	}
	if len(bad) > 0 {
		return &UnsupportedError{Fields: bad}
	}
	return nil
}

// Product names the gateway generation of this connection for messages:
// "OpenClaw" (protocol 4) or "Clawdbot" (protocol 3), with the version the
// gateway reports when it reports a real one.
func (in *Info) Product() string {
	name := "OpenClaw"
	if in.Protocol < 4 {
		name = "Clawdbot"
	}
	if v := strings.TrimSpace(in.ServerVersion); v != "" && v != "dev" {
		name += " " + v
	}
	return name
}
