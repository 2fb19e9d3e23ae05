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

// Errors state facts; advice is the edge's. Every error of this package
// says what happened, with the facts it knows (the URL, the method, the
// gateway's code, message and details, the scope that is missing, the
// stage the handshake reached), and carries a Kind: what the user has to
// do about it. The sentence that tells the user what to change, naming
// clawgate's flags, environment variables and commands or the gateway's
// own commands, is not written here but at the edge, in one place
// (tools/advice.go), from the Kind and the facts. Errors are built with
// all their facts and not changed afterwards.

// Kind classifies gateway errors by what the user has to do about them.
type Kind int

// Error kinds. KindOf finds the kind of any error.
const (
	// KindOther: nothing to change on either side that the error can
	// name; its text says what went wrong (a gateway error reply of no
	// other kind, or an error that is not a gateway error).
	KindOther Kind = iota
	// KindAuth: the gateway refused the credentials (wrong, missing, not
	// configured on the gateway, or too many failed attempts:
	// Error.AuthProblem says which).
	KindAuth
	// KindMissingScope: the connection lacks a scope the method needs
	// (Error.MissingScope).
	KindMissingScope
	// KindProtocol: the gateway and clawgate have no protocol version in
	// common.
	KindProtocol
	// KindNotPaired: the gateway wants a device identity or the approval
	// of this client's pairing (Error.DeviceIdentityRequired says which).
	KindNotPaired
	// KindUnavailable: the gateway is starting or busy (Error.Temporary),
	// or a run failed.
	KindUnavailable
	// KindInvalid: the gateway refused the request itself: bad params, an
	// unknown method, a model it does not allow, …
	KindInvalid
	// KindUnreachable: no WebSocket to the gateway: nothing listens at the
	// URL, the name does not resolve, TLS failed, no upgrade in time.
	KindUnreachable
	// KindRedirected: the URL answered the WebSocket upgrade with a
	// redirect, which clawgate does not follow (RedirectError).
	KindRedirected
	// KindNotGateway: the server at the URL took the WebSocket but did not
	// start the gateway's handshake: not a gateway, or one that is still
	// starting or draining.
	KindNotGateway
	// KindHandshake: the gateway did not complete the handshake.
	KindHandshake
	// KindNoScopes: the gateway accepted the connection but granted no
	// scopes (ScopeError).
	KindNoScopes
	// KindInsecureTransport: the client refused to send credentials
	// unencrypted to a host that is not loopback (InsecureTransportError).
	KindInsecureTransport
	// KindBadURL: the gateway URL breaks the rules of url.go (URLError).
	KindBadURL
	// KindTimeout: the gateway did not answer in time (TimeoutError).
	KindTimeout
	// KindConnLost: the connection died while a call waited
	// (ConnLostError).
	KindConnLost
	// KindTooLarge: a request exceeds what the gateway accepts
	// (FrameTooLargeError).
	KindTooLarge
	// KindUnsupported: the request needs something this gateway's
	// protocol does not have (UnsupportedError); nothing was sent.
	KindUnsupported
	// KindDeviceToken: the gateway refused the stored device token and
	// no shared token was configured to fall back on
	// (DeviceTokenError).
	KindDeviceToken
)

var kindNames = [...]string{
	KindOther: "other", KindAuth: "auth", KindMissingScope: "missing scope", KindProtocol: "protocol",
	KindNotPaired: "not paired", KindUnavailable: "unavailable", KindInvalid: "invalid",
	KindUnreachable: "unreachable", KindRedirected: "redirected", KindNotGateway: "not a gateway",
	KindHandshake: "handshake", KindNoScopes: "no scopes", KindInsecureTransport: "insecure transport",
	KindBadURL: "bad URL", KindTimeout: "timeout", KindConnLost: "connection lost", KindTooLarge: "too large",
	KindUnsupported: "unsupported", KindDeviceToken: "device token",
}

// String names the kind, for test failures and logs.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// KindOf returns the kind of the first error in err's chain that has one,
// or KindOther.
func KindOf(err error) Kind {
	var k interface{ Kind() Kind }
	if errors.As(err, &k) {
		return k.Kind()
	}
	return KindOther
}

// Error is an error reply from the gateway: the method that failed, the
// gateway's code, message and details, and the facts about the connection
// that say what to do about it (see Kind).
type Error struct {
	Method     string
	Code       string
	Message    string
	Details    schema.ErrorDetails
	RawDetails json.RawMessage
	Retryable  bool
	RetryAfter time.Duration

	// Facts about the connection the reply came on, set when the Error is
	// built.

	// ReadOnly: the client asked only for operator.read
	// (Options.ReadOnly).
	ReadOnly bool
	// Password: the client authenticated with a password and no token.
	Password bool
	// Caps is what the negotiated gateway can do; nil when the connect
	// itself was refused (there was no hello-ok).
	Caps *Capabilities
	// DeviceID is the device identity the refused connect carried ("" when
	// it was device-less or the error is not a connect refusal).
	DeviceID string
	// SignedV2 means the refused connect was signed with payload v2, which
	// only Clawdbot (protocol 3) requires.
	SignedV2 bool
}

// errorFacts are the facts about the connection that an Error carries
// besides the reply.
type errorFacts struct {
	readOnly, password bool
	caps               *Capabilities // nil before hello-ok
	deviceID           string        // connect refusals of a device connect
	signedV2           bool
}

// errorFacts returns the facts of an Error on a connection made with o;
// caps is nil for the connect reply, the negotiated capabilities after it.
func (o Options) errorFacts(caps *Capabilities) errorFacts {
	return errorFacts{readOnly: o.ReadOnly, password: o.Password != "" && o.Token == "", caps: caps}
}

// newError builds the Error of an error reply, with all its facts. Its text
// is the gateway's: red scrubs the message and every string of the details
// of secrets and URL queries (see redactor) before anything uses them.
func newError(method string, e *schema.ErrorShape, f errorFacts, red *redactor) *Error {
	if e == nil {
		e = &schema.ErrorShape{Code: "UNKNOWN", Message: "gateway reported a failure without an error object"}
	}
	var caps *Capabilities
	if f.caps != nil {
		c := *f.caps // the Error's own copy
		caps = &c
	}
	var details schema.ErrorDetails
	raw := red.JSON(e.Details)
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &details) // details are advisory
	}
	return &Error{
		Method:     method,
		Code:       red.Text(e.Code),
		Message:    red.Text(e.Message),
		Details:    details,
		RawDetails: raw,
		Retryable:  e.Retryable,
		RetryAfter: time.Duration(e.RetryAfterMs) * time.Millisecond,
		ReadOnly:   f.readOnly,
		Password:   f.password,
		Caps:       caps,
		DeviceID:   f.deviceID,
		SignedV2:   f.signedV2,
	}
}

// newError builds the Error of an error reply on this connection, with the
// connection's facts.
func (c *conn) newError(method string, e *schema.ErrorShape) *Error {
	return newError(method, e, c.facts, c.red)
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

// AuthProblem says what is wrong with the credentials of a KindAuth error.
type AuthProblem int

// Auth problems.
const (
	// AuthMismatch: the token or password sent does not match the
	// gateway's (or the gateway refused them in another way).
	AuthMismatch AuthProblem = iota
	// AuthMissing: the gateway wants a credential that was not sent.
	AuthMissing
	// AuthNotConfigured: the gateway has no shared secret configured for
	// its auth mode.
	AuthNotConfigured
	// AuthRateLimited: too many failed attempts.
	AuthRateLimited
)

// AuthProblem says what is wrong with the credentials (meaningful for
// KindAuth): from the detail code, or, for protocol 3, which has none, from
// the message.
func (e *Error) AuthProblem() AuthProblem {
	d, msg := e.Details.Code, e.Message
	switch {
	case strings.Contains(d, "RATE_LIMITED"):
		return AuthRateLimited
	case strings.Contains(d, "NOT_CONFIGURED") || strings.Contains(msg, "not configured"):
		return AuthNotConfigured
	case strings.Contains(d, "MISSING") || strings.Contains(msg, "missing"):
		return AuthMissing
	}
	return AuthMismatch
}

// PairingRequest returns the id of the pending pairing request a
// KindNotPaired refusal names (both generations put it in details), and
// OpenClaw's reason: "not-paired", "scope-upgrade", "role-upgrade" or
// "metadata-upgrade" ("" on Clawdbot, which gives none).
func (e *Error) PairingRequest() (requestID, reason string) {
	if e.Kind() != KindNotPaired {
		return "", ""
	}
	return e.Details.RequestID, e.Details.Reason
}

// Clawdbot reports whether the refusal came from a Clawdbot (protocol 3)
// gateway, as far as a refused connect can tell: it was signed with v2,
// or it is a pairing refusal without OpenClaw's detail code.
func (e *Error) Clawdbot() bool {
	if e.Caps != nil {
		return !e.Caps.ScopeDowngrade
	}
	return e.SignedV2 || e.Code == "NOT_PAIRED" && e.Details.Code == ""
}

// DeviceIdentityRequired reports whether a KindNotPaired refusal asks for a
// device identity (OpenClaw without credentials, Clawdbot without a token)
// rather than the approval of a pairing request.
func (e *Error) DeviceIdentityRequired() bool {
	return strings.Contains(e.Message, "device identity required")
}

// Temporary reports whether a KindUnavailable refusal is passing: the
// gateway is starting (its sidecars) or busy, and says to retry.
func (e *Error) Temporary() bool {
	return e.Kind() == KindUnavailable && (e.Details.Reason == "startup-sidecars" || e.Retryable)
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
	return b.String()
}

// ConnectError means the gateway could not be reached or the WebSocket
// handshake failed before any gateway reply.
type ConnectError struct {
	URL   string // without credentials
	Stage string // "dial", "challenge", "hello"
	Err   error
}

// Kind is KindRedirected or KindUnreachable for a failed dial,
// KindNotGateway when no challenge came, else KindHandshake.
func (e *ConnectError) Kind() Kind {
	var re *RedirectError
	switch {
	case e.Stage == "dial" && errors.As(e.Err, &re):
		return KindRedirected
	case e.Stage == "dial":
		return KindUnreachable
	case e.Stage == "challenge":
		return KindNotGateway
	}
	return KindHandshake
}

func (e *ConnectError) Error() string {
	switch e.Stage {
	case "dial":
		return fmt.Sprintf("cannot connect to the gateway at %s: %v", e.URL, e.Err)
	case "challenge":
		return fmt.Sprintf("the server at %s accepted the WebSocket but sent no connect.challenge: %v", e.URL, e.Err)
	}
	return fmt.Sprintf("the gateway at %s did not complete the handshake: %v", e.URL, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// ScopeError means the gateway accepted the connection but granted no scopes,
// OpenClaw's silent downgrade for device-less clients it does not trust.
type ScopeError struct {
	URL       string
	Requested []string
}

// Kind is KindNoScopes.
func (e *ScopeError) Kind() Kind { return KindNoScopes }

func (e *ScopeError) Error() string {
	return fmt.Sprintf("the gateway at %s accepted the connection but granted no scopes (requested %s), so every call would fail with \"missing scope\"",
		e.URL, strings.Join(e.Requested, ","))
}

// InsecureTransportError means the client refused to send the token or
// password unencrypted (plain ws://) to a host that is not loopback (the
// plaintext rule, url.go).
type InsecureTransportError struct {
	Scheme string // "ws"
	Host   string // the URL's host, without port
	// DeviceToken: the secret is the device token a gateway issued
	// (the configured credentials passed the rule, or there are none).
	DeviceToken bool
}

// Kind is KindInsecureTransport.
func (e *InsecureTransportError) Kind() Kind { return KindInsecureTransport }

func (e *InsecureTransportError) Error() string {
	what := "the gateway token"
	if e.DeviceToken {
		what = "the device token"
	}
	return fmt.Sprintf("refusing to send %s over unencrypted %s to %s, which is not a loopback address", what, e.Scheme, e.Host)
}

// ClosedError means the gateway closed the WebSocket with a close frame.
type ClosedError struct {
	Code   int    // the close code, e.g. 1000, 1008, 4001
	Reason string // the close reason (at most 123 bytes; scrubbed of secrets)
}

// CloseDeviceRemoved is the close code with which OpenClaw ends the live
// connections of a device whose token was revoked or rotated, or that was
// removed (reason "device removed").
const CloseDeviceRemoved = 4001

func (e *ClosedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("gateway closed the connection: %d %s", e.Code, e.Reason)
	}
	return fmt.Sprintf("gateway closed the connection: %d", e.Code)
}

// ConnLostError means the connection died while a call was waiting.
type ConnLostError struct {
	Cause error
}

// Kind is KindConnLost.
func (e *ConnLostError) Kind() Kind { return KindConnLost }

func (e *ConnLostError) Error() string {
	return fmt.Sprintf("connection to the gateway was lost: %v", e.Cause)
}

func (e *ConnLostError) Unwrap() error { return e.Cause }

// DeviceRemoved reports whether the gateway closed the connection because
// clawgate's device token was revoked or rotated, or the device removed.
func (e *ConnLostError) DeviceRemoved() bool {
	var ce *ClosedError
	return errors.As(e.Cause, &ce) && ce.Code == CloseDeviceRemoved
}

// TimeoutError means the gateway did not answer within the call's deadline.
type TimeoutError struct {
	Method string
	After  time.Duration
	What   string // what was awaited, e.g. "a reply", "acceptance", "the final result"
}

// Kind is KindTimeout.
func (e *TimeoutError) Kind() Kind { return KindTimeout }

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

// Kind is KindTooLarge.
func (e *FrameTooLargeError) Kind() Kind { return KindTooLarge }

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
