// Package schema holds the wire types clawgate exchanges with OpenClaw and
// Clawdbot gateways: frames, params and results. The tools' own input and
// output types live with each tool in package tools.
//
// Gateway types decode both protocol generations leniently: unknown fields
// are ignored and every optional sub-object is a pointer or has a usable zero
// value. Where the generations differ in shape (docs/protocol.md §5), a
// method turns either shape into one answer (SessionsPatchResult.
// EffectiveModel, AgentReply.TimedOut, AbortResult.DidAbort), so callers do
// not branch on the protocol version; what a gateway can do is
// gateway.Capabilities.
package schema
