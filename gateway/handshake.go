package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"runtime"
	"slices"
	"strings"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/schema"
)

// Protocol versions clawgate speaks: 3 is Clawdbot 2026.1.x, 4 is OpenClaw
// 2026.9.x. Both accept the range 3..4 (docs/protocol.md §2.3).
const (
	MinProtocol = 3
	MaxProtocol = 4
)

// clientCaps asks OpenClaw for live tool events of the runs this connection
// starts and for models.list's manualSelectionAllowed per model (whether a
// session may select it); Clawdbot ignores caps for operators.
var clientCaps = []string{"tool-events", "model-selection-policy"}

// dial connects to the gateway and completes the connect handshake within
// ctx, authenticating as st says (deviceauth.go): a refusal that another
// attempt can overcome (a v2 signature, a stale device token, a device
// identity on loopback) is followed by at most maxAuthAttempts connects in
// all. o comes from withDefaults; st may be nil (a fresh state).
func dial(ctx context.Context, o Options, st *deviceState) (*conn, error) {
	if st == nil {
		st = &deviceState{}
	}
	p, err := st.plan(o)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		o.red = st.redactor(o)
		c, err := dialPlan(ctx, o, p, st)
		if err == nil || attempt == maxAuthAttempts || ctx.Err() != nil {
			return c, err
		}
		var retry bool
		if p, err, retry = st.next(o, p, err); !retry {
			return nil, err
		}
	}
}

// dialPlan opens a WebSocket to the gateway and completes the connect
// handshake with plan p. It never sends an Origin header (docs/protocol.md
// §6.9), and never follows a redirect (see Options.httpClient).
func dialPlan(ctx context.Context, o Options, p authPlan, st *deviceState) (*conn, error) {
	url := RedactURL(o.URL)
	ws, resp, err := websocket.Dial(ctx, o.URL, &websocket.DialOptions{
		HTTPClient:      o.httpClient(),
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if re := redirectOf(resp, o.red); re != nil {
			err = re
		} else {
			err = unwrapDialErr(ctx, err)
		}
		return nil, &ConnectError{URL: url, Stage: "dial", Err: err}
	}
	ws.SetReadLimit(preauthReadLimit)
	c, err := handshake(ctx, ws, o, p, st)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	return c, nil
}

func unwrapDialErr(ctx context.Context, err error) error {
	// The HTTP client's error quotes the full URL: keep its query (which
	// may carry a token) out of messages and logs, like everywhere else.
	var ue *neturl.Error
	if errors.As(err, &ue) {
		if safe := RedactURL(ue.URL); safe != ue.URL {
			err = redactedError{msg: strings.ReplaceAll(err.Error(), ue.URL, safe), err: err}
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("no WebSocket upgrade within the connect timeout: %w", err)
	}
	return err
}

// RedirectError means the gateway URL answered the WebSocket upgrade with
// a redirect, which clawgate does not follow: the connect request, and the
// token in it, would go to a server the user did not name, around the TLS
// pin and the plaintext rule.
type RedirectError struct {
	StatusCode int    // 301, 302, 303, 307, 308, …
	Status     string // e.g. "307 Temporary Redirect"
	// LocationHost is the host (and port) the redirect points to, or ""
	// when the answer has no usable Location; the rest of the Location,
	// which may hold a query, is not kept.
	LocationHost string
}

func (e *RedirectError) Error() string {
	to := "without a usable Location"
	if e.LocationHost != "" {
		to = "to host " + e.LocationHost
	}
	return fmt.Sprintf("the server answered the WebSocket upgrade with a redirect (%s) %s; clawgate does not follow redirects, "+
		"so that the token never goes to another server", e.Status, to)
}

// redirectOf returns the RedirectError for a 3xx upgrade response, or nil.
// The Location host is the server's text: red scrubs it.
func redirectOf(resp *http.Response, red *redactor) *RedirectError {
	if resp == nil || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil
	}
	host := ""
	if loc, err := resp.Location(); err == nil {
		host = red.secretsOut(loc.Host)
	}
	return &RedirectError{StatusCode: resp.StatusCode, Status: fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)), LocationHost: host}
}

// redactedError replaces the message of err, keeping it in the chain.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

func handshake(ctx context.Context, ws *websocket.Conn, o Options, p authPlan, st *deviceState) (*conn, error) {
	url := RedactURL(o.URL)
	// 1. connect.challenge
	var ch schema.Challenge
	for {
		f, _, err := readFrame(ctx, ws, o.red)
		if err != nil {
			return nil, &ConnectError{URL: url, Stage: "challenge", Err: err}
		}
		if f.Type == schema.FrameEvent && f.Event == "connect.challenge" {
			if p.device {
				if err := json.Unmarshal(f.Payload, &ch); err != nil || ch.Nonce == "" {
					return nil, &ConnectError{URL: url, Stage: "hello", Err: errors.New("the connect.challenge has no nonce to sign")}
				}
			}
			break
		}
	}
	// 2. connect request
	params := schema.ConnectParams{
		MinProtocol: MinProtocol,
		MaxProtocol: MaxProtocol,
		Client: schema.ClientInfo{
			ID:          "gateway-client",
			DisplayName: o.DisplayName,
			Version:     o.ClientVersion,
			Platform:    runtime.GOOS,
			Mode:        "backend",
			InstanceID:  o.InstanceID,
		},
		Caps:   clientCaps,
		Role:   "operator",
		Scopes: o.scopes(),
	}
	params.Auth = connectAuth(o, p)
	facts := o.errorFacts(nil)
	if p.device {
		params.Device = signDevice(p.dev, params, ch, p.v2)
		facts.deviceID, facts.signedV2 = p.dev.ID(), p.v2
	}
	data, err := json.Marshal(schema.RequestFrame{Type: schema.FrameRequest, ID: "connect", Method: "connect", Params: params})
	if err != nil {
		return nil, fmt.Errorf("encode connect request: %w", err)
	}
	if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
		return nil, &ConnectError{URL: url, Stage: "hello", Err: fmt.Errorf("send connect: %w", err)}
	}
	// 3. hello-ok (events before it are skipped)
	var f *schema.InboundFrame
	var raw []byte
	for {
		f, raw, err = readFrame(ctx, ws, o.red)
		if err != nil {
			return nil, &ConnectError{URL: url, Stage: "hello", Err: err}
		}
		if f.Type == schema.FrameResponse && f.ID == "connect" {
			break
		}
	}
	if !f.OK {
		return nil, newError("connect", f.Error, facts, o.red)
	}
	var hello schema.HelloOK
	if err := json.Unmarshal(f.Payload, &hello); err != nil {
		return nil, &ConnectError{URL: url, Stage: "hello", Err: fmt.Errorf("undecodable hello-ok: %w", err)}
	}
	if hello.Protocol < MinProtocol || hello.Protocol > MaxProtocol {
		return nil, &ConnectError{URL: url, Stage: "hello", Err: fmt.Errorf("gateway chose protocol %d, outside %d..%d", hello.Protocol, MinProtocol, MaxProtocol)}
	}
	scopes := o.scopes()
	// Clawdbot's hello-ok.auth.scopes are the device token's, not the
	// connection's (docs/protocol.md §2.7): it grants what was requested.
	if hello.Auth != nil && hello.Auth.Scopes != nil && hello.Protocol >= 4 {
		if len(*hello.Auth.Scopes) == 0 {
			return nil, &ScopeError{URL: url, Requested: o.scopes()}
		}
		scopes = *hello.Auth.Scopes
	}
	if hello.Auth != nil && hello.Auth.DeviceToken != "" {
		// The frame was scrubbed of the secrets known so far, the device
		// token sent among them: the token issued is read from the
		// frame as it came.
		token := rawDeviceToken(raw)
		o.red = st.learnSecret(o, token)
		storeDeviceToken(o, p, hello, token, scopes)
		hello.Auth.DeviceToken = "" // kept in the store only
	}
	ws.SetReadLimit(readLimit(hello.Policy.MaxPayload))
	c := newConn(ws, hello, scopes, o)
	c.start()
	return c, nil
}

// storeDeviceToken keeps the device token of hello-ok for the next
// connects: with the scopes it grants (OpenClaw reports the connection's,
// capped by approval; Clawdbot's report is the token's own, see
// docs/protocol.md §2.7) and the protocol, which says how to sign.
func storeDeviceToken(o Options, p authPlan, hello schema.HelloOK, token string, scopes []string) {
	if p.tokens == nil || !p.device || token == "" {
		return
	}
	t := DeviceToken{Token: token, Scopes: scopes, Protocol: hello.Protocol}
	if hello.Protocol < 4 && hello.Auth.Scopes != nil {
		t.Scopes = *hello.Auth.Scopes
	}
	if held, ok, err := p.tokens.Get(o.URL, RoleOperator); err == nil && ok && held.Token == t.Token &&
		slices.Equal(held.Scopes, t.Scopes) && held.Protocol == t.Protocol {
		return // unchanged
	}
	if err := p.tokens.Put(o.URL, RoleOperator, t); err != nil {
		o.Logger.Warn("could not store the device token the gateway issued; the next connect needs the shared token again", "err", err)
		return
	}
	o.Logger.Info("stored the gateway's device token", "scopes", t.Scopes)
}

// rawDeviceToken is hello-ok's auth.deviceToken as the unscrubbed frame
// carries it ("" if it does not decode).
func rawDeviceToken(frame []byte) string {
	var f struct {
		Payload struct {
			Auth struct {
				DeviceToken string `json:"deviceToken"`
			} `json:"auth"`
		} `json:"payload"`
	}
	if json.Unmarshal(frame, &f) != nil {
		return ""
	}
	return f.Payload.Auth.DeviceToken
}

// readFrame reads, scrubs (see redactor) and decodes one frame during the
// handshake. It also returns the frame as it came, which only the device
// token's storage reads.
func readFrame(ctx context.Context, ws *websocket.Conn, red *redactor) (*schema.InboundFrame, []byte, error) {
	_, data, err := ws.Read(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, errors.New("timed out waiting for the gateway")
		}
		return nil, nil, readError(err, red)
	}
	raw := data
	data = red.Frame(data)
	var f schema.InboundFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, nil, fmt.Errorf("gateway sent a malformed frame: %w", redactedError{msg: red.Text(err.Error()), err: err})
	}
	return &f, raw, nil
}
