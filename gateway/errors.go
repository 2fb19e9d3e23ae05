package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawgate/clawgate/schema"
)

// ErrClosed is returned by calls on a Client after Close.
var ErrClosed = errors.New("gateway client is closed")

// ErrAbortUnsupported is returned by AbortRun on protocol-3 (Clawdbot)
// gateways, which cannot abort runs started with the agent method.
var ErrAbortUnsupported = errors.New("this gateway version (Clawdbot, protocol 3) cannot abort agent runs; the run continues on the gateway until it finishes or hits its own timeout")

// Kind classifies gateway errors by what the user has to do about them.
type Kind int

// Error kinds.
const (
	KindOther        Kind = iota
	KindAuth              // wrong or missing token/password
	KindMissingScope      // the connection lacks a scope the method needs
	KindProtocol          // no common protocol version
	KindNotPaired         // device identity or pairing required
	KindUnavailable       // gateway starting, busy, or the run failed
	KindInvalid           // bad params, unknown method, model not allowed, …
)

// Error is an error reply from the gateway: the method that failed, the
// gateway's code, message and details, and a hint saying what to do.
type Error struct {
	Method     string
	Code       string
	Message    string
	Details    schema.ErrorDetails
	RawDetails json.RawMessage
	Retryable  bool
	RetryAfter time.Duration
	// Protocol is the negotiated protocol (0 before hello-ok); it shapes hints.
	Protocol int
	// Password reports that password auth was used; it shapes hints.
	Password bool
	// ReadOnly reports that the client asked only for operator.read.
	ReadOnly bool
}

// newError builds the Error of an error reply. Its text is the gateway's:
// red scrubs the message and every string of the details of secrets and URL
// queries (see redactor) before anything uses them.
func newError(method string, e *schema.ErrorShape, protocol int, red *redactor) *Error {
	if e == nil {
		e = &schema.ErrorShape{Code: "UNKNOWN", Message: "gateway reported a failure without an error object"}
	}
	ge := &Error{
		Method:     method,
		Code:       red.Text(e.Code),
		Message:    red.Text(e.Message),
		RawDetails: red.JSON(e.Details),
		Retryable:  e.Retryable,
		RetryAfter: time.Duration(e.RetryAfterMs) * time.Millisecond,
		Protocol:   protocol,
	}
	if len(ge.RawDetails) > 0 {
		_ = json.Unmarshal(ge.RawDetails, &ge.Details) // details are advisory
	}
	return ge
}

// Kind classifies the error. Protocol 3 has no detail codes, so the message
// is matched as a fallback (docs/protocol.md §1.2).
func (e *Error) Kind() Kind {
	d, msg := e.Details.Code, e.Message
	switch {
	case d == "MISSING_SCOPE" || strings.HasPrefix(msg, "missing scope:"):
		return KindMissingScope
	case d == "PROTOCOL_MISMATCH" || msg == "protocol mismatch":
		return KindProtocol
	case strings.HasPrefix(d, "AUTH_") || strings.HasPrefix(msg, "unauthorized"):
		return KindAuth
	case e.Code == "NOT_PAIRED" || strings.Contains(d, "PAIRING") || strings.Contains(d, "DEVICE_IDENTITY"):
		return KindNotPaired
	case e.Code == "UNAVAILABLE":
		return KindUnavailable
	case e.Code == "INVALID_REQUEST":
		return KindInvalid
	}
	return KindOther
}

// Permanent reports whether retrying the same connect can never succeed
// without the user changing something (credentials, versions, pairing).
func (e *Error) Permanent() bool {
	switch e.Kind() {
	case KindAuth, KindProtocol, KindNotPaired:
		return true
	}
	return e.Method == "connect" && e.Kind() == KindInvalid
}

// MissingScope returns the scope the gateway asked for, if this is a
// missing-scope error.
func (e *Error) MissingScope() string {
	if e.Details.MissingScope != "" {
		return e.Details.MissingScope
	}
	if s, ok := strings.CutPrefix(e.Message, "missing scope:"); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gateway refused %s: %s", e.Method, e.Message)
	code := e.Code
	if e.Details.Code != "" {
		code += "/" + e.Details.Code
	}
	if code != "" {
		fmt.Fprintf(&b, " [%s]", code)
	}
	if h := e.Hint(); h != "" {
		b.WriteString(". ")
		b.WriteString(h)
	}
	return b.String()
}

// Hint says what the user can do about the error, or "" when the message
// speaks for itself.
func (e *Error) Hint() string {
	d, msg := e.Details.Code, e.Message
	switch e.Kind() {
	case KindMissingScope:
		if e.ReadOnly {
			return fmt.Sprintf("clawgate runs read-only (--read-only) and asked only for %s; this needs %s: restart it without --read-only to allow it", ScopeRead, e.MissingScope())
		}
		if e.Protocol == 3 {
			return fmt.Sprintf("This connection lacks scope %s: the gateway's operator settings do not grant it to this client", e.MissingScope())
		}
		return fmt.Sprintf("This connection lacks scope %s. Without --read-only clawgate asks for operator.admin; "+
			"OpenClaw silently grants no scopes to device-less clients that connect through a LAN/tailnet address, a proxy or an SSH port-forward, "+
			"so connect to ws://127.0.0.1:<port> on the gateway's own machine", e.MissingScope())
	case KindProtocol:
		want := ""
		if e.Details.ExpectedProtocol != 0 {
			want = fmt.Sprintf(" (it wants protocol %d)", e.Details.ExpectedProtocol)
		}
		return "This gateway speaks no protocol version clawgate knows" + want +
			"; clawgate supports protocol 3 (Clawdbot 2026.1.x) and 4 (OpenClaw 2026.9.x): upgrade clawgate or the gateway"
	case KindAuth:
		switch {
		case strings.Contains(d, "RATE_LIMITED"):
			return "Too many failed attempts: wait a minute, then fix the credentials"
		case strings.Contains(d, "NOT_CONFIGURED") || strings.Contains(msg, "not configured"):
			return "The gateway has no shared secret configured for this auth mode: set gateway.auth.token in its config and restart it"
		case strings.Contains(d, "MISSING") || strings.Contains(msg, "missing"):
			return "The gateway requires a token: pass --token or set OPENCLAW_GATEWAY_TOKEN (Clawdbot: CLAWDBOT_GATEWAY_TOKEN), or put it in gateway.auth.token"
		}
		return "The token or password clawgate sent does not match the gateway's: check --token / OPENCLAW_GATEWAY_TOKEN / CLAWDBOT_GATEWAY_TOKEN and gateway.auth.token " +
			"(`clawgate doctor` shows where each came from)"
	case KindNotPaired:
		if strings.Contains(msg, "device identity required") {
			if e.Password {
				return "Clawdbot 2026.1.x refuses password-only clients without a device identity: switch the gateway to token auth (gateway.auth.mode \"token\") and pass the token"
			}
			return "No credentials were sent: pass the gateway token with --token or OPENCLAW_GATEWAY_TOKEN, or make sure the config file clawgate reads has gateway.auth.token"
		}
		return "The gateway wants this client paired: connect over 127.0.0.1 on the gateway's machine, or approve the pending device with `openclaw devices approve`"
	case KindUnavailable:
		if e.Details.Reason == "startup-sidecars" || e.Retryable {
			return "The gateway is starting or busy; try again in a few seconds"
		}
	}
	return ""
}

// ConnectError means the gateway could not be reached or the WebSocket
// handshake failed before any gateway reply.
type ConnectError struct {
	URL   string // without credentials
	Stage string // "dial", "challenge", "hello"
	Err   error
}

func (e *ConnectError) Error() string {
	var what string
	var re *RedirectError
	switch {
	case e.Stage == "dial" && errors.As(e.Err, &re):
		what = fmt.Sprintf("cannot connect to the gateway at %s: %v. Point clawgate at the address the gateway itself listens on "+
			"(--url, OPENCLAW_GATEWAY_URL or gateway.remote.url), after checking that the redirect target is yours", e.URL, e.Err)
	case e.Stage == "dial":
		what = fmt.Sprintf("cannot connect to the gateway at %s: %v. Is the gateway running? Start it with `openclaw gateway` (or `clawdbot gateway`), "+
			"or point clawgate at it with --url / OPENCLAW_GATEWAY_URL", e.URL, e.Err)
	case e.Stage == "challenge":
		what = fmt.Sprintf("the server at %s accepted the WebSocket but sent no connect.challenge: %v. Is this an OpenClaw/Clawdbot gateway, and is it still starting or draining?", e.URL, e.Err)
	default:
		what = fmt.Sprintf("the gateway at %s did not complete the handshake: %v", e.URL, e.Err)
	}
	return what
}

func (e *ConnectError) Unwrap() error { return e.Err }

// ScopeError means the gateway accepted the connection but granted no scopes,
// OpenClaw's silent downgrade for device-less clients it does not trust.
type ScopeError struct {
	URL       string
	Requested []string
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("the gateway at %s accepted the connection but granted no scopes (requested %s), so every call would fail with \"missing scope\". "+
		"OpenClaw does this for device-less clients that do not connect directly over loopback: run clawgate on the gateway's machine and use ws://127.0.0.1:<port> "+
		"(not a LAN/tailnet address, proxy or port-forward)", e.URL, strings.Join(e.Requested, ","))
}

// ConnLostError means the connection died while a call was waiting.
type ConnLostError struct {
	Cause error
}

func (e *ConnLostError) Error() string {
	return fmt.Sprintf("connection to the gateway was lost: %v", e.Cause)
}

func (e *ConnLostError) Unwrap() error { return e.Cause }

// TimeoutError means the gateway did not answer within the call's deadline.
type TimeoutError struct {
	Method string
	After  time.Duration
	What   string // what was awaited, e.g. "a reply", "acceptance", "the final result"
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the gateway did not send %s to %s within %s; it may be overloaded or hung, check its log (the connection stays open)",
		e.What, e.Method, e.After.Round(time.Millisecond))
}

// Timeout marks TimeoutError as a timeout for net.Error-style checks.
func (e *TimeoutError) Timeout() bool { return true }

// FrameTooLargeError means an outbound frame exceeds the gateway's maxPayload.
type FrameTooLargeError struct {
	Method string
	Size   int
	Limit  int64
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("the %s request is %d bytes, more than the gateway accepts (policy.maxPayload %d bytes); send less (shorter message or fewer attachments)",
		e.Method, e.Size, e.Limit)
}

// AsError returns the gateway *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var ge *Error
	ok := errors.As(err, &ge)
	return ge, ok
}
