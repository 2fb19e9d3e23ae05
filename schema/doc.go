// Package schema holds the wire types clawgate exchanges with OpenClaw and
// Clawdbot gateways, and the normalised types its tools return.
//
// Gateway types decode both protocol generations leniently: unknown fields
// are ignored and every optional sub-object is a pointer or has a usable zero
// value. Where the generations differ (PROTOCOL.md §5), a Normalise method or
// function turns either shape into one answer, so callers never branch on the
// protocol version themselves.
package schema
