package gatewaysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
)

func TestChallengeAndHello(t *testing.T) {
	for _, g := range generations {
		t.Run(g.String(), func(t *testing.T) {
			srv := newServer(t, Options{Generation: g, TickInterval: 5 * time.Second})
			c := dialClient(t, srv.URL(), nil)
			ch, _ := c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience())
			if ch == nil {
				t.Fatal("no challenge")
			}
			if _, hasSeq := ch["seq"]; hasSeq {
				t.Error("connect.challenge must not carry seq")
			}
			wantKeys := "nonce,ts"
			if g == OpenClaw {
				wantKeys = "capabilities,nonce,ts"
			}
			if got := keysOf(sub(ch, "payload")); got != wantKeys {
				t.Errorf("challenge payload keys %s, want %s", got, wantKeys)
			}
			res := c.request("connect", connectParamsFor("test-token", nil))
			hello := sub(res, "payload")
			if res["ok"] != true || str(hello, "type") != "hello-ok" {
				t.Fatalf("connect: %s", jsonStr(res))
			}
			if p, _ := num(hello["protocol"]); p != int64(g) {
				t.Errorf("protocol %d, want %d (client offered 3..4)", p, g)
			}
			pol := sub(hello, "policy")
			wantMax := int64(512 << 10)
			if g == OpenClaw {
				wantMax = 25 << 20
			}
			if mp, _ := num(pol["maxPayload"]); mp != wantMax {
				t.Errorf("maxPayload %d, want %d", mp, wantMax)
			}
			if ti, _ := num(pol["tickIntervalMs"]); ti != 5000 {
				t.Errorf("tickIntervalMs %d, want 5000", ti)
			}
			auth, hasAuth := hello["auth"]
			if g == Clawdbot && hasAuth {
				t.Errorf("1.24 sends no auth block without a device token, got %s", jsonStr(auth))
			}
			if g == OpenClaw {
				a := sub(hello, "auth")
				if str(a, "method") != "token" || str(a, "role") != "operator" || jsonStr(a["scopes"]) != `["operator.admin"]` {
					t.Errorf("auth %s", jsonStr(a))
				}
			}
			other, hello2 := connected(t, srv, "test-token", nil)
			_ = other
			if str(sub(hello, "server"), "connId") == str(sub(hello2, "server"), "connId") {
				t.Error("connId must be fresh per connection")
			}
			if ev, _ := c.waitFor(isEvent("health"), 0, testwait.Patience()); ev == nil {
				t.Error("no health event after hello-ok")
			}
		})
	}
}

func TestMaxPayloadOption(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, MaxPayload: 4096, TickInterval: -1})
	c, hello := connected(t, srv, "test-token", nil)
	pol := sub(hello, "policy")
	if mp, _ := num(pol["maxPayload"]); mp != 4096 {
		t.Errorf("maxPayload %d", mp)
	}
	if ti, _ := num(pol["tickIntervalMs"]); ti != 30000 {
		t.Errorf("disabled ticks must still report 30000, got %d", ti)
	}
	if res := c.request("health", obj{"probe": strings.Repeat("x", 3000)}); res["ok"] != true {
		t.Fatalf("frame under the limit: %s", jsonStr(res))
	}
	c.sendJSON(obj{"type": "req", "id": "big", "method": "health", "params": obj{"pad": strings.Repeat("x", 5000)}})
	if code, reason := c.waitClose(testwait.Patience()); code != websocket.StatusMessageTooBig || reason != "" {
		t.Fatalf("close %d %q, want 1009 with empty reason", code, reason)
	}
}

func TestReadLimits(t *testing.T) {
	t.Run("clawdbot post-handshake 512KiB", func(t *testing.T) {
		srv := newServer(t, Options{Generation: Clawdbot})
		c, _ := connected(t, srv, "test-token", nil)
		c.sendJSON(obj{"type": "req", "id": "big", "method": "health", "params": obj{"pad": strings.Repeat("x", 600<<10)}})
		if code, _ := c.waitClose(testwait.Patience()); code != websocket.StatusMessageTooBig {
			t.Fatalf("close %d, want 1009", code)
		}
	})
	t.Run("openclaw pre-auth 64KiB", func(t *testing.T) {
		srv := newServer(t, Options{Generation: OpenClaw})
		c := dialClient(t, srv.URL(), nil)
		c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience())
		params := connectParamsFor("test-token", obj{"userAgent": strings.Repeat("x", 70<<10)})
		c.sendJSON(obj{"type": "req", "id": "c1", "method": "connect", "params": params})
		if code, _ := c.waitClose(testwait.Patience()); code != websocket.StatusMessageTooBig {
			t.Fatalf("close %d, want 1009", code)
		}
		if n := len(srv.Connects()); n != 0 {
			t.Errorf("an oversized connect must not be processed, got %d connects", n)
		}
	})
}

// TestConnectFailures checks connect errors and close codes that the
// recordings hold, plus the auth variants around them.
func TestConnectFailures(t *testing.T) {
	type tc struct {
		name      string
		gen       Generation
		over      obj
		code, msg string
		close     websocket.StatusCode
	}
	bogus := obj{"id": "bogus", "version": "1", "platform": "linux", "mode": "backend"}
	cases := []tc{
		{"wrong token v3", Clawdbot, obj{"auth": obj{"token": "nope"}}, "INVALID_REQUEST",
			"unauthorized: gateway token mismatch (provide gateway auth token)", 1008},
		{"wrong token v4", OpenClaw, obj{"auth": obj{"token": "nope"}}, "INVALID_REQUEST",
			"unauthorized: gateway token mismatch (provide gateway auth token)", 1008},
		{"wrong token cli hint v3", Clawdbot, obj{"auth": obj{"token": "nope"},
			"client": obj{"id": "cli", "version": "1", "platform": "linux", "mode": "cli"}}, "INVALID_REQUEST",
			"unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)", 1008},
		{"no auth v3", Clawdbot, obj{"auth": nil}, "NOT_PAIRED", "device identity required", 1008},
		{"no auth v4", OpenClaw, obj{"auth": nil}, "NOT_PAIRED", "device identity required", 1008},
		{"password only v3", Clawdbot, obj{"auth": obj{"password": "test-token"}}, "NOT_PAIRED", "device identity required", 1008},
		{"bogus client v3", Clawdbot, obj{"client": bogus}, "INVALID_REQUEST",
			"invalid connect params: at /client/id: must be equal to constant; at /client/id: must match a schema in anyOf", 1008},
		{"bogus client v4", OpenClaw, obj{"client": bogus}, "INVALID_REQUEST",
			"invalid connect params: at /client/id: must be equal to one of the allowed values", 1008},
		{"protocol 4 on v3", Clawdbot, obj{"minProtocol": 4, "maxProtocol": 4}, "INVALID_REQUEST", "protocol mismatch", 1002},
		{"protocol 3 on v4", OpenClaw, obj{"minProtocol": 3, "maxProtocol": 3}, "INVALID_REQUEST", "protocol mismatch", 1002},
		{"deviceToken unknown on v3", Clawdbot, obj{"auth": obj{"token": "test-token", "deviceToken": "x"}}, "INVALID_REQUEST",
			"invalid connect params: at /auth: unexpected property 'deviceToken'", 1008},
		{"null scopes", OpenClaw, obj{"scopes": json.RawMessage("null")}, "INVALID_REQUEST", "invalid connect params: at /scopes: must be array", 1008},
		{"empty caps entry v3", Clawdbot, obj{"caps": []any{""}}, "INVALID_REQUEST",
			"invalid connect params: at /caps/0: must NOT have fewer than 1 characters", 1008},
		{"invalid role", OpenClaw, obj{"role": "bogus"}, "INVALID_REQUEST", "invalid role", 1008},
		{"webchat without origin v4", OpenClaw, obj{"client": obj{"id": "webchat", "version": "1", "platform": "linux", "mode": "webchat"}},
			"INVALID_REQUEST", "origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)", 1008},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, Options{Generation: tc.gen})
			c := dialClient(t, srv.URL(), nil)
			res := c.handshake(connectParamsFor("test-token", tc.over))
			checkConnectFailure(t, c, res, tc.code, tc.msg, tc.close)
			ci := srv.Connects()
			if gotwant.Error(t, fmt.Sprintf("Connects() = %+v", ci), gotwant.Eq("connects", len(ci), 1)) {
				msg := "<no error>"
				if ci[0].Error != nil {
					msg = ci[0].Error.Message
				}
				gotwant.Error(t, fmt.Sprintf("Connects() = %+v", ci),
					gotwant.Eq("ok", ci[0].OK, false),
					gotwant.Eq("error.message", msg, tc.msg),
				)
			}
		})
	}
}

func checkConnectFailure(t *testing.T, c *testClient, res obj, code, msg string, closeCode websocket.StatusCode) {
	t.Helper()
	e := sub(res, "error")
	if res["ok"] != false || str(e, "code") != code || str(e, "message") != msg {
		t.Fatalf("got %s, want %s %q", jsonStr(res), code, msg)
	}
	gotCode, reason := c.waitClose(testwait.Patience())
	if gotCode != closeCode || reason != truncateReason(msg) {
		t.Fatalf("close %d %q, want %d %q", gotCode, reason, closeCode, truncateReason(msg))
	}
}

func TestConnectDetails(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	c := dialClient(t, srv.URL(), nil)
	res := c.handshake(connectParamsFor("wrong", nil))
	d := sub(sub(res, "error"), "details")
	if str(d, "code") != "AUTH_TOKEN_MISMATCH" || str(d, "recommendedNextStep") != "update_auth_credentials" {
		t.Errorf("details %s", jsonStr(d))
	}
	c = dialClient(t, srv.URL(), nil)
	res = c.handshake(connectParamsFor("test-token", obj{"minProtocol": 3, "maxProtocol": 3}))
	d = sub(sub(res, "error"), "details")
	if str(d, "code") != "PROTOCOL_MISMATCH" || jsonStr(d["expectedProtocol"]) != "4" || jsonStr(d["clientMaxProtocol"]) != "3" {
		t.Errorf("details %s", jsonStr(d))
	}
}

func TestPasswordAuth(t *testing.T) {
	t.Run("v4 secret in either field", func(t *testing.T) {
		srv := newServer(t, Options{Generation: OpenClaw, Password: "pw"})
		for _, auth := range []obj{{"password": "test-token"}, {"password": "pw"}, {"token": "pw"}} {
			_, hello := connected(t, srv, "", obj{"auth": auth})
			want := "token"
			if auth["password"] == "pw" || auth["token"] == "pw" {
				want = "password"
			}
			if m := str(sub(hello, "auth"), "method"); m != want {
				t.Errorf("auth %v: method %q, want %q", auth, m, want)
			}
		}
	})
	t.Run("v3 password needs a token too", func(t *testing.T) {
		srv := newServer(t, Options{Generation: Clawdbot, Password: "pw"})
		connected(t, srv, "", obj{"auth": obj{"token": "anything", "password": "pw"}})
		c := dialClient(t, srv.URL(), nil)
		res := c.handshake(connectParamsFor("", obj{"auth": obj{"password": "pw"}}))
		checkConnectFailure(t, c, res, "NOT_PAIRED", "device identity required", 1008)
	})
}

func TestScopeRules(t *testing.T) {
	type tc struct {
		name   string
		gen    Generation
		opts   Options
		over   obj
		origin bool
		want   string // granted scopes
	}
	cases := []tc{
		{name: "v3 empty scopes default to admin", gen: Clawdbot, over: obj{"scopes": []any{}}, want: `["operator.admin"]`},
		{name: "v4 empty scopes stay empty", gen: OpenClaw, over: obj{"scopes": []any{}}, want: `[]`},
		{name: "v4 origin header clears scopes", gen: OpenClaw, origin: true, want: `[]`},
		{name: "v3 origin header is harmless", gen: Clawdbot, origin: true, want: `["operator.admin"]`},
		{name: "v4 ClearScopes", gen: OpenClaw, opts: Options{ClearScopes: true}, want: `[]`},
		{name: "v4 test/backend is not trusted", gen: OpenClaw,
			over: obj{"client": obj{"id": "test", "version": "1", "platform": "linux", "mode": "backend"}}, want: `[]`},
		{name: "v4 cli/cli is trusted", gen: OpenClaw,
			over: obj{"client": obj{"id": "cli", "version": "1", "platform": "linux", "mode": "cli"}}, want: `["operator.admin"]`},
		{name: "v3 keeps read scope", gen: Clawdbot, over: obj{"scopes": []any{scopeRead}}, want: `["operator.read"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Generation = tc.gen
			srv := newServer(t, tc.opts)
			var header http.Header
			if tc.origin {
				header = http.Header{"Origin": {"http://127.0.0.1"}}
			}
			c := dialClient(t, srv.URL(), header)
			res := c.handshake(connectParamsFor("test-token", tc.over))
			if res["ok"] != true {
				t.Fatalf("connect: %s", jsonStr(res))
			}
			if tc.gen == OpenClaw {
				if got := jsonStr(sub(sub(res, "payload"), "auth")["scopes"]); got != tc.want {
					t.Errorf("hello-ok auth.scopes %s, want %s", got, tc.want)
				}
			}
			ci := srv.Connects()
			if got := jsonStr(ci[0].Scopes); got != tc.want || ci[0].Origin != tc.origin {
				t.Errorf("Connects() scopes %s origin %v, want %s %v", got, ci[0].Origin, tc.want, tc.origin)
			}
			list := c.request("sessions.list", obj{"limit": 1})
			if (tc.want == `[]`) != (list["ok"] == false) {
				t.Errorf("sessions.list with scopes %s: %s", tc.want, jsonStr(list))
			}
			if tc.want == `[]` && errMsg(list) != "FORBIDDEN: missing scope: operator.read" {
				t.Errorf("downgraded socket: %s", errMsg(list))
			}
		})
	}
}

func TestStartupUnavailable(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, StartupUnavailable: 2})
	for i := 0; i < 2; i++ {
		c := dialClient(t, srv.URL(), nil)
		res := c.handshake(connectParamsFor("test-token", nil))
		e := sub(res, "error")
		gotwant.Fatal(t, fmt.Sprintf("attempt %d: %s", i, jsonStr(res)),
			gotwant.Eq("error.code", str(e, "code"), "UNAVAILABLE"),
			gotwant.Eq[any]("error.retryable", e["retryable"], true),
			gotwant.Eq("error.retryAfterMs", jsonStr(e["retryAfterMs"]), "50"),
			gotwant.Eq("error.details.reason", str(sub(e, "details"), "reason"), "startup-sidecars"),
		)
		if code, reason := c.waitClose(testwait.Patience()); code != websocket.StatusTryAgainLater || reason != "gateway starting" {
			t.Fatalf("close %d %q", code, reason)
		}
	}
	connected(t, srv, "test-token", nil)
}

func TestHandshakeTimeout(t *testing.T) {
	const hs = 200 * time.Millisecond
	srv := newServer(t, Options{Generation: Clawdbot, HandshakeTimeout: hs})
	start := time.Now() // the server's timer starts after this
	c := dialClient(t, srv.URL(), nil)
	if code, reason := c.waitClose(testwait.Patience()); code != websocket.StatusNormalClosure || reason != "" {
		t.Fatalf("close %d %q, want 1000 with empty reason (recorded)", code, reason)
	}
	if el := time.Since(start); el < hs {
		t.Errorf("closed after %v, before the %v timeout", el, hs)
	}
	// A connection that sent connect is not timed out, even without an
	// answer: it is still open (and unanswered) twice the timeout after it
	// was opened. (A window: it cannot fail a correct fake, however slow.)
	srv.NoHelloReply()
	start = time.Now()
	c = dialClient(t, srv.URL(), nil)
	c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience())
	c.sendJSON(obj{"type": "req", "id": "c1", "method": "connect", "params": connectParamsFor("test-token", nil)})
	if f, _ := c.waitFor(isRes("c1"), 0, time.Until(start.Add(2*hs))); f != nil {
		t.Fatalf("NoHelloReply answered: %s", jsonStr(f))
	}
	if srv.ConnCount() != 1 {
		t.Errorf("ConnCount %d, want 1", srv.ConnCount())
	}
}

func TestHandshakeFrames(t *testing.T) {
	for _, g := range generations {
		t.Run(g.String(), func(t *testing.T) {
			srv := newServer(t, Options{Generation: g})
			c := dialClient(t, srv.URL(), nil)
			c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience())
			c.sendJSON(obj{"type": "req", "id": "h1", "method": "health", "params": obj{}})
			r, _ := c.waitFor(isRes("h1"), 0, testwait.Patience())
			if msg := str(sub(r, "error"), "message"); msg != "invalid handshake: first request must be connect" {
				t.Errorf("got %s", jsonStr(r))
			}
			if code, reason := c.waitClose(testwait.Patience()); code != 1008 || reason != "invalid handshake: first request must be connect" {
				t.Errorf("close %d %q", code, reason)
			}
			c = dialClient(t, srv.URL(), nil)
			c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience())
			c.sendRaw([]byte("not json"))
			if code, reason := c.waitClose(testwait.Patience()); code != 1000 || reason != "" {
				t.Errorf("non-JSON first frame: close %d %q, want 1000 (recorded)", code, reason)
			}
			c = dialClient(t, srv.URL(), nil)
			c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience())
			c.sendRaw([]byte(`{"type":"req","id":1,"method":"connect","params":{}}`))
			if code, reason := c.waitClose(testwait.Patience()); code != 1008 || reason != "invalid request frame" {
				t.Errorf("numeric id: close %d %q", code, reason)
			}
		})
	}
}

func TestCloseReasonTruncated(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	c := dialClient(t, srv.URL(), nil)
	res := c.handshake(obj{"pad": 1})
	msg := str(sub(res, "error"), "message")
	if !strings.HasPrefix(msg, "invalid connect params: must have required property 'minProtocol'; must have required property 'maxProtocol'") {
		t.Fatalf("message %q", msg)
	}
	_, reason := c.waitClose(testwait.Patience())
	if len(reason) != 120 || !strings.HasPrefix(msg, reason) {
		t.Errorf("close reason %q (%d bytes), want the first 120 bytes of the message", reason, len(reason))
	}
}

func TestSilentHandshake(t *testing.T) {
	const hs = 100 * time.Millisecond
	srv := newServer(t, Options{HandshakeTimeout: hs})
	srv.SilentHandshake()
	c := dialClient(t, srv.URL(), nil)
	c.sendJSON(obj{"type": "req", "id": "c1", "method": "connect", "params": connectParamsFor("test-token", nil)})
	// Nothing comes, not even the handshake timeout's close, for four
	// times that timeout. (A window: it cannot fail a correct fake.)
	if f, _ := c.waitFor(func(obj) bool { return true }, 0, 4*hs); f != nil {
		t.Fatalf("silent gateway sent %s", jsonStr(f))
	}
	if srv.ConnCount() != 1 {
		t.Fatalf("ConnCount %d, want 1 (the socket stays open)", srv.ConnCount())
	}
	srv.SetSilentHandshake(false)
	connected(t, srv, "test-token", nil)
}
