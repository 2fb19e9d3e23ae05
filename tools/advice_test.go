package tools_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/schema"
	"github.com/clawgate/clawgate/tools"
)

// The advice (tools/advice.go) turns a gateway error's kind and facts into
// the words that name clawgate's flags, environment variables and
// commands. Package gateway's tests check the kinds and facts (from the
// recordings of real gateways and from the simulator); these check the
// words, word for word, for every kind that has advice, and that Explain
// puts them where the error's text is quoted. The assertions on hint words
// that package gateway's tests made before the advice moved here:
//
//	"--read-only" (missing scope, read-only)            TestReadOnlyRequestsReadScope
//	"Is the gateway running?" (dial)                    TestDownGatewayReportsWhyNotTheOldLoss,
//	                                                    TestGatewayNotListening, the fault matrix
//	"wants protocol 4", "wants protocol 3"              TestHandshakeRefusals
//	"does not match" (wrong token)                      TestHandshakeRefusals
//	"No credentials were sent" (no auth)                TestHandshakeRefusals
//	"127.0.0.1" (granted no scopes)                     TestEmptyGrantedScopes
//	"not in the URL", "put credentials in --token/…"    TestTransportSecurity, TestURLRules

const (
	advicePairNoID = "The gateway wants this client paired: on the gateway host run `openclaw devices list`, approve clawgate's request with " +
		"`openclaw devices approve <requestId>`, then call again (or run `clawgate pair`, which waits for the approval)"
	adviceRunning = "Is the gateway running? Start it with `openclaw gateway` (or `clawdbot gateway`), " +
		"or point clawgate at it with --url / OPENCLAW_GATEWAY_URL"
	adviceMismatch = "The token or password clawgate sent does not match the gateway's: check --token / OPENCLAW_GATEWAY_TOKEN / CLAWDBOT_GATEWAY_TOKEN " +
		"and gateway.auth.token (`clawgate doctor` shows where each came from)"
	adviceOpenClawScope = "Without --read-only clawgate asks for operator.admin; OpenClaw silently grants no scopes to device-less clients " +
		"that connect through a LAN/tailnet address, a proxy or an SSH port-forward, so let clawgate use its device identity (--device-identity auto or always) and pair it with `clawgate pair`"
	adviceNoScopes = "OpenClaw does this for device-less clients that do not connect directly over loopback: let clawgate use its device identity " +
		"(--device-identity auto or always, not never) and pair it once with `clawgate pair`"
)

// reply builds a gateway error reply as package gateway builds it, on a
// connection to a gateway of protocol (0: the connect itself was refused).
func reply(code, detailCode, msg string, protocol int, mod func(*gateway.Error)) *gateway.Error {
	e := &gateway.Error{Method: "sessions.patch", Code: code, Message: msg, Details: schema.ErrorDetails{Code: detailCode}}
	if protocol != 0 {
		caps := (&gateway.Info{Protocol: protocol}).Capabilities()
		e.Caps = &caps
	} else {
		e.Method = "connect"
	}
	if mod != nil {
		mod(e)
	}
	return e
}

func TestExplainWords(t *testing.T) {
	dial := &gateway.ConnectError{URL: "ws://127.0.0.1:1", Stage: "dial", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}
	dialText := "cannot connect to the gateway at ws://127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused"
	mismatch := reply("INVALID_REQUEST", "AUTH_TOKEN_MISMATCH", "unauthorized: gateway token mismatch", 0, nil)
	mismatchText := "gateway refused connect: unauthorized: gateway token mismatch [INVALID_REQUEST/AUTH_TOKEN_MISMATCH]"
	for _, tc := range []struct {
		name   string
		err    error
		want   string // Explain
		advice string // Advice; "" for none
	}{
		{
			name: "missing scope, read-only",
			err: reply("FORBIDDEN", "MISSING_SCOPE", "missing scope: operator.write", 4, func(e *gateway.Error) {
				e.Details.MissingScope, e.ReadOnly = "operator.write", true
			}),
			want: "gateway refused sessions.patch: missing scope: operator.write [FORBIDDEN/MISSING_SCOPE]. " +
				"clawgate runs read-only (--read-only) and asked only for operator.read; this needs operator.write: restart it without --read-only to allow it",
			advice: "clawgate runs read-only (--read-only) and asked only for operator.read; this needs operator.write: restart it without --read-only to allow it",
		},
		{
			name: "missing scope, Clawdbot",
			err:  reply("INVALID_REQUEST", "", "missing scope: operator.admin", 3, nil),
			want: "gateway refused sessions.patch: missing scope: operator.admin [INVALID_REQUEST]. " +
				"This connection lacks scope operator.admin: the gateway's operator settings do not grant it to this client",
			advice: "This connection lacks scope operator.admin: the gateway's operator settings do not grant it to this client",
		},
		{
			name:   "missing scope, OpenClaw",
			err:    reply("FORBIDDEN", "MISSING_SCOPE", "missing scope: operator.write", 4, func(e *gateway.Error) { e.Details.MissingScope = "operator.write" }),
			want:   "gateway refused sessions.patch: missing scope: operator.write [FORBIDDEN/MISSING_SCOPE]. This connection lacks scope operator.write. " + adviceOpenClawScope,
			advice: "This connection lacks scope operator.write. " + adviceOpenClawScope,
		},
		{
			name:   "missing scope before hello-ok",
			err:    reply("INVALID_REQUEST", "", "missing scope: operator.admin", 0, nil),
			want:   "gateway refused connect: missing scope: operator.admin [INVALID_REQUEST]. This connection lacks scope operator.admin. " + adviceOpenClawScope,
			advice: "This connection lacks scope operator.admin. " + adviceOpenClawScope,
		},
		{
			name: "protocol mismatch, it wants 4",
			err:  reply("INVALID_REQUEST", "PROTOCOL_MISMATCH", "protocol mismatch", 0, func(e *gateway.Error) { e.Details.ExpectedProtocol = 4 }),
			want: "gateway refused connect: protocol mismatch [INVALID_REQUEST/PROTOCOL_MISMATCH]. This gateway speaks no protocol version clawgate knows (it wants protocol 4); " +
				"clawgate supports protocol 3 (Clawdbot 2026.1.x) and 4 (OpenClaw 2026.9.x): upgrade clawgate or the gateway",
			advice: "This gateway speaks no protocol version clawgate knows (it wants protocol 4); " +
				"clawgate supports protocol 3 (Clawdbot 2026.1.x) and 4 (OpenClaw 2026.9.x): upgrade clawgate or the gateway",
		},
		{
			name: "protocol mismatch, it wants 3",
			err:  reply("INVALID_REQUEST", "", "protocol mismatch", 0, func(e *gateway.Error) { e.Details.ExpectedProtocol = 3 }),
			want: "gateway refused connect: protocol mismatch [INVALID_REQUEST]. This gateway speaks no protocol version clawgate knows (it wants protocol 3); " +
				"clawgate supports protocol 3 (Clawdbot 2026.1.x) and 4 (OpenClaw 2026.9.x): upgrade clawgate or the gateway",
			advice: "This gateway speaks no protocol version clawgate knows (it wants protocol 3); " +
				"clawgate supports protocol 3 (Clawdbot 2026.1.x) and 4 (OpenClaw 2026.9.x): upgrade clawgate or the gateway",
		},
		{
			name:   "wrong token",
			err:    mismatch,
			want:   mismatchText + ". " + adviceMismatch,
			advice: adviceMismatch,
		},
		{
			name:   "wrong token, Clawdbot (no detail code)",
			err:    reply("INVALID_REQUEST", "", "unauthorized: gateway token mismatch (provide gateway auth token)", 0, nil),
			want:   "gateway refused connect: unauthorized: gateway token mismatch (provide gateway auth token) [INVALID_REQUEST]. " + adviceMismatch,
			advice: adviceMismatch,
		},
		{
			name: "token missing",
			err:  reply("INVALID_REQUEST", "AUTH_TOKEN_MISSING", "unauthorized: gateway token missing", 0, nil),
			want: "gateway refused connect: unauthorized: gateway token missing [INVALID_REQUEST/AUTH_TOKEN_MISSING]. " +
				"The gateway requires a token: pass --token or set OPENCLAW_GATEWAY_TOKEN (Clawdbot: CLAWDBOT_GATEWAY_TOKEN), or put it in gateway.auth.token",
			advice: "The gateway requires a token: pass --token or set OPENCLAW_GATEWAY_TOKEN (Clawdbot: CLAWDBOT_GATEWAY_TOKEN), or put it in gateway.auth.token",
		},
		{
			name: "no secret configured on the gateway",
			err:  reply("INVALID_REQUEST", "", "unauthorized: gateway token not configured", 0, nil),
			want: "gateway refused connect: unauthorized: gateway token not configured [INVALID_REQUEST]. " +
				"The gateway has no shared secret configured for this auth mode: set gateway.auth.token in its config and restart it",
			advice: "The gateway has no shared secret configured for this auth mode: set gateway.auth.token in its config and restart it",
		},
		{
			name:   "rate limited",
			err:    reply("INVALID_REQUEST", "AUTH_RATE_LIMITED", "unauthorized: too many failed authentication attempts", 0, nil),
			want:   "gateway refused connect: unauthorized: too many failed authentication attempts [INVALID_REQUEST/AUTH_RATE_LIMITED]. Too many failed attempts: wait a minute, then fix the credentials",
			advice: "Too many failed attempts: wait a minute, then fix the credentials",
		},
		{
			name: "no credentials",
			err:  reply("NOT_PAIRED", "DEVICE_IDENTITY_REQUIRED", "device identity required", 0, nil),
			want: "gateway refused connect: device identity required [NOT_PAIRED/DEVICE_IDENTITY_REQUIRED]. " +
				"No credentials were sent: pass the gateway token with --token or OPENCLAW_GATEWAY_TOKEN, or make sure the config file clawgate reads has gateway.auth.token",
			advice: "No credentials were sent: pass the gateway token with --token or OPENCLAW_GATEWAY_TOKEN, or make sure the config file clawgate reads has gateway.auth.token",
		},
		{
			name: "password only, Clawdbot",
			err:  reply("NOT_PAIRED", "", "device identity required", 0, func(e *gateway.Error) { e.Password = true }),
			want: "gateway refused connect: device identity required [NOT_PAIRED]. " +
				"Clawdbot 2026.1.x refuses password-only clients without a device identity: switch the gateway to token auth (gateway.auth.mode \"token\") and pass the token",
			advice: "Clawdbot 2026.1.x refuses password-only clients without a device identity: switch the gateway to token auth (gateway.auth.mode \"token\") and pass the token",
		},
		{
			name:   "pairing required, no request id",
			err:    reply("NOT_PAIRED", "PAIRING_REQUIRED", "pairing required", 0, nil),
			want:   "gateway refused connect: pairing required [NOT_PAIRED/PAIRING_REQUIRED]. " + advicePairNoID,
			advice: advicePairNoID,
		},
		{
			name: "pairing required, OpenClaw",
			err: reply("NOT_PAIRED", "PAIRING_REQUIRED", "pairing required: device is not approved yet", 0, func(e *gateway.Error) {
				e.Details.RequestID, e.Details.Reason, e.DeviceID = "0e15d516-3ac5-4478-a74a-65d3d1c2cc46", "not-paired", "1d5aee"
			}),
			want: "gateway refused connect: pairing required: device is not approved yet [NOT_PAIRED/PAIRING_REQUIRED]. " +
				"Pairing required: clawgate's device is waiting for approval (request 0e15d516-3ac5-4478-a74a-65d3d1c2cc46). " +
				"On the gateway host run `openclaw devices approve 0e15d516-3ac5-4478-a74a-65d3d1c2cc46` (approving from another machine does not work; " +
				"the request expires after about 5 minutes, and each call renews it), then call again: clawgate connects on the next call",
		},
		{
			name: "scope upgrade, OpenClaw",
			err: reply("NOT_PAIRED", "PAIRING_REQUIRED", "pairing required: device is asking for more scopes than currently approved", 0, func(e *gateway.Error) {
				e.Details.RequestID, e.Details.Reason, e.DeviceID = "121d2cb4", "scope-upgrade", "1d5aee"
			}),
			want: "gateway refused connect: pairing required: device is asking for more scopes than currently approved [NOT_PAIRED/PAIRING_REQUIRED]. " +
				"Pairing required: clawgate's device asks for more scopes than were approved (request 121d2cb4). " +
				"On the gateway host run `openclaw devices approve 121d2cb4` (approving from another machine does not work; " +
				"the request expires after about 5 minutes, and each call renews it), then call again: clawgate connects on the next call",
		},
		{
			name: "pairing required, Clawdbot",
			err: reply("NOT_PAIRED", "", "pairing required", 0, func(e *gateway.Error) {
				e.Details.RequestID, e.DeviceID, e.SignedV2 = "9f3c", "1d5aee", true
			}),
			want: "gateway refused connect: pairing required [NOT_PAIRED]. " +
				"Pairing required: clawgate's device is waiting for approval (request 9f3c). " +
				"On the gateway host run `clawdbot devices approve 9f3c` (approving from another machine does not work; " +
				"the request expires after about 5 minutes, and each call renews it), then call again: clawgate connects on the next call",
		},
		{
			name: "token missing, device without a token",
			err:  reply("INVALID_REQUEST", "AUTH_TOKEN_MISSING", "unauthorized: gateway token missing (provide gateway auth token)", 0, func(e *gateway.Error) { e.DeviceID = "1d5aee" }),
			want: "gateway refused connect: unauthorized: gateway token missing (provide gateway auth token) [INVALID_REQUEST/AUTH_TOKEN_MISSING]. " +
				"The gateway requires a token, and clawgate's device holds none for it (never paired here, or its token was refused and forgotten): " +
				"pass the gateway token (--token or OPENCLAW_GATEWAY_TOKEN), or pair the device once with `clawgate pair --token …`",
		},
		{
			name: "connection closed for a removed device",
			err:  &gateway.ConnLostError{Cause: &gateway.ClosedError{Code: gateway.CloseDeviceRemoved, Reason: "device removed"}},
			want: "connection to the gateway was lost: gateway closed the connection: 4001 device removed. " +
				"The gateway's owner revoked or rotated clawgate's device token, or removed the device: the next call connects again and says what to do",
		},
		{
			name: "device token revoked, no shared token",
			err: &gateway.DeviceTokenError{URL: "ws://192.0.2.1:18789", DeviceID: "1d5aee",
				Err: reply("INVALID_REQUEST", "AUTH_DEVICE_TOKEN_MISMATCH", "unauthorized: device token mismatch (rotate/reissue device token)", 0, func(e *gateway.Error) { e.DeviceID = "1d5aee" })},
			want: "the gateway at ws://192.0.2.1:18789 no longer accepts this device's token (device 1d5aee): it was revoked or rotated, or the device was removed: " +
				"gateway refused connect: unauthorized: device token mismatch (rotate/reissue device token) [INVALID_REQUEST/AUTH_DEVICE_TOKEN_MISMATCH]. " +
				"This device was revoked or rotated: re-pair with `clawgate pair` (it needs the shared gateway token, --token or OPENCLAW_GATEWAY_TOKEN, " +
				"and an approval on the gateway host); configuring that token also lets clawgate recover from a rotation by itself",
		},
		{
			name: "starting",
			err: reply("UNAVAILABLE", "", "gateway starting; retry shortly", 0, func(e *gateway.Error) {
				e.Details.Reason = "startup-sidecars"
			}),
			want:   "gateway refused connect: gateway starting; retry shortly [UNAVAILABLE]. The gateway is starting or busy; try again in a few seconds",
			advice: "The gateway is starting or busy; try again in a few seconds",
		},
		{
			name: "unavailable for good: no advice",
			err:  reply("UNAVAILABLE", "", "run failed", 4, nil),
			want: "gateway refused sessions.patch: run failed [UNAVAILABLE]",
		},
		{
			name: "invalid request: no advice",
			err:  reply("INVALID_REQUEST", "", "model not allowed: fake/nope", 4, nil),
			want: "gateway refused sessions.patch: model not allowed: fake/nope [INVALID_REQUEST]",
		},
		{
			name:   "gateway not running",
			err:    dial,
			want:   dialText + ". " + adviceRunning,
			advice: adviceRunning,
		},
		{
			name: "redirected",
			err: &gateway.ConnectError{URL: "ws://127.0.0.1:1", Stage: "dial",
				Err: &gateway.RedirectError{StatusCode: 307, Status: "307 Temporary Redirect", LocationHost: "elsewhere.example:1"}},
			want: "cannot connect to the gateway at ws://127.0.0.1:1: the server answered the WebSocket upgrade with a redirect (307 Temporary Redirect) to host elsewhere.example:1; " +
				"clawgate does not follow redirects, so that the token never goes to another server. Point clawgate at the address the gateway itself listens on " +
				"(--url, OPENCLAW_GATEWAY_URL or gateway.remote.url), after checking that the redirect target is yours",
			advice: "Point clawgate at the address the gateway itself listens on (--url, OPENCLAW_GATEWAY_URL or gateway.remote.url), after checking that the redirect target is yours",
		},
		{
			name: "no challenge",
			err:  &gateway.ConnectError{URL: "ws://127.0.0.1:1", Stage: "challenge", Err: errors.New("timed out waiting for the gateway")},
			want: "the server at ws://127.0.0.1:1 accepted the WebSocket but sent no connect.challenge: timed out waiting for the gateway. " +
				"Is this an OpenClaw/Clawdbot gateway, and is it still starting or draining?",
			advice: "Is this an OpenClaw/Clawdbot gateway, and is it still starting or draining?",
		},
		{
			name: "no hello: no advice",
			err:  &gateway.ConnectError{URL: "ws://127.0.0.1:1", Stage: "hello", Err: errors.New("undecodable hello-ok")},
			want: "the gateway at ws://127.0.0.1:1 did not complete the handshake: undecodable hello-ok",
		},
		{
			name:   "granted no scopes",
			err:    &gateway.ScopeError{URL: "ws://192.0.2.1:18789", Requested: []string{gateway.ScopeAdmin}},
			want:   "the gateway at ws://192.0.2.1:18789 accepted the connection but granted no scopes (requested operator.admin), so every call would fail with \"missing scope\". " + adviceNoScopes,
			advice: adviceNoScopes,
		},
		{
			name: "wrapped, advice in place",
			err:  fmt.Errorf("check that session %q exists: %w", "agent:main:x", mismatch),
			want: `check that session "agent:main:x" exists: ` + mismatchText + ". " + adviceMismatch,
		},
		{
			name: "the abort error of a run",
			err:  &gateway.RunError{RunID: "r1", Elapsed: time.Second, Cause: context.Canceled, AbortErr: dial},
			want: "agent run r1 ended after 1s without a result: context canceled; it could not be aborted (" + dialText + ". " + adviceRunning + ")",
		},
		{
			name: "the cause and the abort error of a run",
			err:  &gateway.RunError{RunID: "r1", Elapsed: time.Second, Cause: fmt.Errorf("while waiting: %w", dial), AbortErr: mismatch},
			want: "agent run r1 ended after 1s without a result: while waiting: " + dialText + ". " + adviceRunning +
				"; it could not be aborted (" + mismatchText + ". " + adviceMismatch + ")",
		},
		{
			name: "not a gateway error",
			err:  errors.New("message must not be empty"),
			want: "message must not be empty",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tools.Explain(tc.err); got != tc.want {
				t.Errorf("Explain\n got %q\nwant %q", got, tc.want)
			}
			if tc.advice != "" {
				if got := tools.Advice(tc.err); got != tc.advice {
					t.Errorf("Advice\n got %q\nwant %q", got, tc.advice)
				}
				// The gateway's text states the facts, without the advice.
				if strings.Contains(tc.err.Error(), tc.advice) {
					t.Errorf("the gateway's own text holds the advice: %q", tc.err.Error())
				}
			}
		})
	}
	if got := tools.Explain(nil); got != "" {
		t.Errorf("Explain(nil) = %q", got)
	}
}

// TestExplainOptionsRefusals: the refusals of gateway.New, whose facts
// package gateway states and whose advice names clawgate's flags.
func TestExplainOptionsRefusals(t *testing.T) {
	for _, tc := range []struct {
		opts gateway.Options
		want string
		kind gateway.Kind
	}{
		{gateway.Options{URL: "ws://192.0.2.7:18789", Token: "t"},
			"refusing to send the gateway token over unencrypted ws to 192.0.2.7, which is not a loopback address: " +
				"use wss:// (gateway.tls.enabled), or an SSH tunnel to 127.0.0.1, or allow it explicitly with --allow-insecure-transport",
			gateway.KindInsecureTransport},
		{gateway.Options{URL: "ws://user:pw-SECRET@127.0.0.1:1"},
			`invalid gateway URL "ws://127.0.0.1:1": put credentials in --token/--password, not in the URL`,
			gateway.KindBadURL},
		{gateway.Options{URL: "http://127.0.0.1:18789"},
			`invalid gateway URL "http://127.0.0.1:18789": the scheme must be ws:// or wss://; a gateway at http://host:port takes WebSocket connections at ws://host:port: write that`,
			gateway.KindBadURL},
	} {
		c, err := gateway.New(tc.opts)
		if err == nil {
			_ = c.Close()
			t.Errorf("New(%v) succeeded", tc.opts)
			continue
		}
		if got := tools.Explain(err); got != tc.want || gateway.KindOf(err) != tc.kind {
			t.Errorf("New(%v): kind %v, Explain\n got %q\nwant %q", tc.opts, gateway.KindOf(err), got, tc.want)
		}
		if got := tools.Explain(fmt.Errorf("gateway config: %w", err)); got != "gateway config: "+tc.want {
			t.Errorf("wrapped: %q", got)
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("the gateway's own text names a flag: %q", err.Error())
		}
	}
}

// TestExplainAgainstSimulator: the real client's errors against the
// simulator get the advice their facts call for.
func TestExplainAgainstSimulator(t *testing.T) {
	sim := func(t *testing.T, o gatewaysim.Options) *gatewaysim.Server {
		s := gatewaysim.New(o)
		t.Cleanup(s.Close)
		return s
	}
	client := func(t *testing.T, o gateway.Options) *gateway.Client {
		o.CallTimeout, o.DialTimeout = testwait.LongTimeout, testwait.LongTimeout
		c, err := gateway.New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	for _, gen := range []gatewaysim.Generation{gatewaysim.Clawdbot, gatewaysim.OpenClaw} {
		t.Run(fmt.Sprint(gen), func(t *testing.T) {
			t.Run("wrong token", func(t *testing.T) {
				s := sim(t, gatewaysim.Options{Generation: gen})
				_, err := client(t, gateway.Options{URL: s.URL(), Token: "wrong-SECRET"}).Info(testwait.Ctx(t))
				if got := tools.Explain(err); gateway.KindOf(err) != gateway.KindAuth || !strings.HasSuffix(got, ". "+adviceMismatch) || strings.Contains(got, "wrong-SECRET") {
					t.Errorf("%v: %s", gateway.KindOf(err), got)
				}
			})
			t.Run("read-only", func(t *testing.T) {
				s := sim(t, gatewaysim.Options{Generation: gen})
				c := client(t, gateway.Options{URL: s.URL(), Token: "test-token", ReadOnly: true})
				m := "fake/fake-echo"
				_, err := c.SessionsPatch(testwait.Ctx(t), "agent:main:x", &m)
				want := "clawgate runs read-only (--read-only) and asked only for operator.read; this needs operator."
				if got := tools.Explain(err); gateway.KindOf(err) != gateway.KindMissingScope || !strings.Contains(got, want) || !strings.HasSuffix(got, ": restart it without --read-only to allow it") {
					t.Errorf("%v: %s", gateway.KindOf(err), got)
				}
			})
			t.Run("no credentials", func(t *testing.T) {
				s := sim(t, gatewaysim.Options{Generation: gen})
				_, err := client(t, gateway.Options{URL: s.URL()}).Info(testwait.Ctx(t))
				if got := tools.Explain(err); gateway.KindOf(err) != gateway.KindNotPaired || !strings.Contains(got, ". No credentials were sent: pass the gateway token with --token or OPENCLAW_GATEWAY_TOKEN") {
					t.Errorf("%v: %s", gateway.KindOf(err), got)
				}
			})
			t.Run("not running", func(t *testing.T) {
				s := sim(t, gatewaysim.Options{Generation: gen})
				s.Stop()
				_, err := client(t, gateway.Options{URL: s.URL(), Token: "test-token"}).Info(testwait.Ctx(t))
				if got := tools.Explain(err); gateway.KindOf(err) != gateway.KindUnreachable || !strings.HasSuffix(got, ". "+adviceRunning) {
					t.Errorf("%v: %s", gateway.KindOf(err), got)
				}
			})
		})
	}
	t.Run("password only on Clawdbot", func(t *testing.T) {
		s := sim(t, gatewaysim.Options{Generation: gatewaysim.Clawdbot, Password: "pw-SECRET"})
		_, err := client(t, gateway.Options{URL: s.URL(), Password: "pw-SECRET"}).Info(testwait.Ctx(t))
		if got := tools.Explain(err); gateway.KindOf(err) != gateway.KindNotPaired || !strings.Contains(got, ". Clawdbot 2026.1.x refuses password-only clients without a device identity") {
			t.Errorf("%v: %s", gateway.KindOf(err), got)
		}
	})
	t.Run("OpenClaw grants no scopes", func(t *testing.T) {
		s := sim(t, gatewaysim.Options{Generation: gatewaysim.OpenClaw, ClearScopes: true})
		_, err := client(t, gateway.Options{URL: s.URL(), Token: "test-token"}).Info(testwait.Ctx(t))
		if got := tools.Explain(err); gateway.KindOf(err) != gateway.KindNoScopes || !strings.HasSuffix(got, adviceNoScopes) {
			t.Errorf("%v: %s", gateway.KindOf(err), got)
		}
	})
}
