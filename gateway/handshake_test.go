package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/schema"
)

const testToken = "tok-SECRET-1234"

func newClient(t *testing.T, o gateway.Options) *gateway.Client {
	t.Helper()
	if o.Token == "" && o.Password == "" {
		o.Token = testToken
	}
	c, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestHandshakeAgainstRecordedHello(t *testing.T) {
	for _, tc := range []struct {
		gen            string
		protocol       int
		version        string
		scopesReported bool
		maxPayload     int64
	}{
		{"openclaw", 4, "2026.9.6", true, 26214400},
		{"clawdbot", 3, "dev", false, 524288},
	} {
		t.Run(tc.gen, func(t *testing.T) {
			var connect atomic.Value
			var origin atomic.Value
			url := newScripted(t, func(ctx context.Context, s *scriptConn) {
				origin.Store(s.r.Header.Get("Origin"))
				s.challenge()
				req, ok := s.recv(ctx)
				if !ok {
					return
				}
				connect.Store(req)
				s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": recordedHello(t, tc.gen)})
				s.drain(ctx)
			})
			c := newClient(t, gateway.Options{URL: url, ClientVersion: "1.2.3"})
			info, err := c.Info(testwait.Ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if info.Protocol != tc.protocol || info.ServerVersion != tc.version || info.ScopesReported != tc.scopesReported ||
				info.MaxPayload != tc.maxPayload || info.MainSessionKey != "agent:main:main" || info.TickInterval != 30*time.Second {
				t.Fatalf("info = %+v", info)
			}
			// OpenClaw reports the granted scopes (the recording: admin);
			// Clawdbot reports none, so they are the requested ones.
			wantScopes := []string{gateway.ScopeAdmin}
			if !tc.scopesReported {
				wantScopes = []string{gateway.ScopeRead, gateway.ScopeWrite, gateway.ScopeAdmin}
			}
			if !slices.Equal(info.Scopes, wantScopes) {
				t.Fatalf("scopes = %v, want %v", info.Scopes, wantScopes)
			}
			if o := origin.Load().(string); o != "" {
				t.Fatalf("client sent Origin %q", o)
			}
			req := connect.Load().(map[string]any)
			p := req["params"].(map[string]any)
			cl := p["client"].(map[string]any)
			if p["minProtocol"] != 3.0 || p["maxProtocol"] != 4.0 || p["role"] != "operator" ||
				cl["id"] != "gateway-client" || cl["mode"] != "backend" || cl["displayName"] != "clawgate" || cl["version"] != "1.2.3" || cl["instanceId"] == "" {
				t.Fatalf("connect params = %v", p)
			}
			if p["auth"].(map[string]any)["token"] != testToken {
				t.Fatalf("auth = %v", p["auth"])
			}
			assertNoNulls(t, "params", p)
		})
	}
}

// assertNoNulls fails on any JSON null or empty string inside v: both
// gateway generations reject them in connect params.
func assertNoNulls(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		t.Errorf("%s is null", path)
	case string:
		if x == "" {
			t.Errorf("%s is an empty string", path)
		}
	case map[string]any:
		for k, e := range x {
			assertNoNulls(t, path+"."+k, e)
		}
	case []any:
		for i, e := range x {
			assertNoNulls(t, fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

func TestHandshakeRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, gen, scenario string
		closeCode           websocket.StatusCode
		kind                gateway.Kind
		// facts checks what the advice is made from (the words, "wants
		// protocol 4", "does not match", "No credentials were sent", are
		// the advice's: tools/advice_test.go).
		facts func(*gateway.Error) bool
	}{
		{"protocol mismatch v4", "openclaw", "protocol-3", websocket.StatusProtocolError, gateway.KindProtocol,
			func(ge *gateway.Error) bool { return ge.Details.ExpectedProtocol == 4 }},
		{"protocol mismatch v3", "clawdbot", "protocol-4", websocket.StatusProtocolError, gateway.KindProtocol,
			func(ge *gateway.Error) bool { return ge.Details.ExpectedProtocol == 3 }},
		{"wrong token v4", "openclaw", "wrong-token", websocket.StatusPolicyViolation, gateway.KindAuth,
			func(ge *gateway.Error) bool { return ge.AuthProblem() == gateway.AuthMismatch }},
		{"wrong token v3", "clawdbot", "wrong-token", websocket.StatusPolicyViolation, gateway.KindAuth,
			func(ge *gateway.Error) bool { return ge.AuthProblem() == gateway.AuthMismatch }},
		{"no auth v4", "openclaw", "no-auth", websocket.StatusPolicyViolation, gateway.KindNotPaired,
			func(ge *gateway.Error) bool { return ge.DeviceIdentityRequired() && !ge.Password && ge.Caps == nil }},
		{"bogus client v3", "clawdbot", "bogus-client", websocket.StatusPolicyViolation, gateway.KindInvalid,
			func(*gateway.Error) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var connects atomic.Int32
			reply := recordedResponse(t, tc.gen, tc.scenario)
			url := newScripted(t, func(ctx context.Context, s *scriptConn) {
				connects.Add(1)
				s.challenge()
				req, ok := s.recv(ctx)
				if !ok {
					return
				}
				reply["id"] = req["id"]
				s.send(reply)
				s.ws.Close(tc.closeCode, "refused")
			})
			c := newClient(t, gateway.Options{URL: url})
			_, err := c.Info(testwait.Ctx(t))
			ge, ok := gateway.AsError(err)
			if !ok {
				t.Fatalf("want *gateway.Error, got %T %v", err, err)
			}
			if ge.Kind() != tc.kind || ge.Method != "connect" || !tc.facts(ge) {
				t.Fatalf("kind %v, facts %+v, err %v", ge.Kind(), ge, err)
			}
			if !ge.Permanent() {
				t.Fatalf("%v should be permanent", err)
			}
			// A second call within the backoff gets the same error without a new connect.
			_, err2 := c.Info(testwait.Ctx(t))
			if err2 == nil || err2.Error() != err.Error() || connects.Load() != 1 {
				t.Fatalf("second call: %v (connects %d)", err2, connects.Load())
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatal("token in error")
			}
		})
	}
}

func TestEmptyGrantedScopes(t *testing.T) {
	url := newScripted(t, func(ctx context.Context, s *scriptConn) {
		s.challenge()
		s.hello(ctx, "openclaw", func(p map[string]any) {
			p["auth"].(map[string]any)["scopes"] = []any{}
		})
		s.drain(ctx)
	})
	c := newClient(t, gateway.Options{URL: url})
	_, err := c.SessionsList(testwait.Ctx(t), schema.SessionsListParams{})
	var se *gateway.ScopeError
	if !errors.As(err, &se) || gateway.KindOf(err) != gateway.KindNoScopes || !strings.Contains(err.Error(), "granted no scopes") {
		t.Fatalf("got %v", err)
	}
}

func TestHandshakeStalls(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sc     script
		expect string
	}{
		{"no challenge", func(ctx context.Context, s *scriptConn) { s.drain(ctx) }, "sent no connect.challenge"},
		{"no hello", func(ctx context.Context, s *scriptConn) { s.challenge(); s.drain(ctx) }, "did not complete the handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := newScripted(t, tc.sc)
			// The connect timeout must fire at the stalled step, after
			// the TCP connect and the upgrade: a timeout measured on this
			// machine, not a guess.
			o := gateway.Options{URL: url, DialTimeout: gatewaywait.QuickTimeout(t)}
			c := newClient(t, o)
			start := time.Now()
			_, err := c.Info(testwait.Ctx(t))
			var ce *gateway.ConnectError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.expect) {
				t.Fatalf("got %T %v", err, err)
			}
			if el := time.Since(start); el < o.DialTimeout || el > 2*o.DialTimeout {
				t.Fatalf("the %s connect timeout fired after %s", o.DialTimeout, el)
			}
		})
	}
}

func TestGatewayNotListening(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	srv.Close()
	c := newClient(t, gateway.Options{URL: url})
	_, err := c.Info(testwait.Ctx(t))
	var ce *gateway.ConnectError
	if !errors.As(err, &ce) || gateway.KindOf(err) != gateway.KindUnreachable || !strings.Contains(err.Error(), "cannot connect to the gateway at") {
		t.Fatalf("got %v", err)
	}
}

// readyScript completes a v4 handshake (with mod applied to hello-ok), then
// calls serve for the rest of the connection.
func readyScript(mod func(map[string]any), serve func(ctx context.Context, s *scriptConn)) script {
	return func(ctx context.Context, s *scriptConn) {
		s.challenge()
		if !s.hello(ctx, "openclaw", mod) {
			return
		}
		serve(ctx, s)
	}
}

func TestLivenessWatchdog(t *testing.T) {
	url := newScripted(t, readyScript(func(p map[string]any) {
		p["policy"].(map[string]any)["tickIntervalMs"] = 100
	}, func(ctx context.Context, s *scriptConn) {
		s.drain(ctx) // the call is never answered, and no ticks either
	}))
	o := gateway.Options{URL: url, DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout}
	c := newClient(t, o)
	start := time.Now()
	err := c.Call(testwait.Ctx(t), "status", nil, nil)
	var lost *gateway.ConnLostError
	if !errors.As(err, &lost) || !strings.Contains(err.Error(), "no frame from the gateway") {
		t.Fatalf("got %v", err)
	}
	// 2 × 100 ms after the handshake: well before the call timeout.
	if el := time.Since(start); el > testwait.WellBefore(o.CallTimeout) {
		t.Fatalf("watchdog took %s (call timeout %s)", el, o.CallTimeout)
	}
}

func TestMalformedFramesAreSkipped(t *testing.T) {
	url := newScripted(t, readyScript(nil, func(ctx context.Context, s *scriptConn) {
		req, ok := s.recv(ctx)
		if !ok {
			return
		}
		s.sendRaw([]byte("not json at all"))
		s.sendRaw([]byte(`{"type":"mystery","id":"x"}`))
		s.sendRaw([]byte(`{"type":"res","id":12,"ok":"yes"}`))
		s.sendRaw([]byte(`{"type":"event","event":"agent","payload":"wrong type"}`))
		_ = s.ws.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2})
		s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": map[string]any{"value": 42}})
		s.drain(ctx)
	}))
	c := newClient(t, gateway.Options{URL: url})
	var out struct{ Value int }
	if err := c.Call(testwait.Ctx(t), "status", nil, &out); err != nil || out.Value != 42 {
		t.Fatalf("got %v %+v", err, out)
	}
}

func TestOversizedFrames(t *testing.T) {
	t.Run("outbound over maxPayload is refused before sending", func(t *testing.T) {
		var got atomic.Int32
		url := newScripted(t, readyScript(func(p map[string]any) {
			p["policy"].(map[string]any)["maxPayload"] = 1024
		}, func(ctx context.Context, s *scriptConn) {
			for {
				req, ok := s.recv(ctx)
				if !ok {
					return
				}
				got.Add(1)
				s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": map[string]any{}})
			}
		}))
		c := newClient(t, gateway.Options{URL: url})
		err := c.Call(testwait.Ctx(t), "agent", map[string]string{"message": strings.Repeat("x", 2000)}, nil)
		var tl *gateway.FrameTooLargeError
		if !errors.As(err, &tl) || tl.Limit != 1024 || !strings.Contains(err.Error(), "policy.maxPayload") {
			t.Fatalf("got %v", err)
		}
		// Frames arrive in order: once a small call is answered, the
		// server has seen everything sent before it.
		if err := c.Call(testwait.Ctx(t), "status", nil, nil); err != nil {
			t.Fatalf("small call after the refused one: %v", err)
		}
		if got.Load() != 1 {
			t.Fatalf("the server got %d frames, want only the small call's: the oversized frame was sent", got.Load())
		}
	})
	t.Run("inbound over the read limit fails the call at once", func(t *testing.T) {
		url := newScripted(t, readyScript(func(p map[string]any) {
			p["policy"].(map[string]any)["maxPayload"] = 1024 // read limit floor is 8 MiB
		}, func(ctx context.Context, s *scriptConn) {
			req, ok := s.recv(ctx)
			if !ok {
				return
			}
			s.send(map[string]any{"type": "res", "id": req["id"], "ok": true, "payload": strings.Repeat("y", 9<<20)})
			s.drain(ctx)
		}))
		c := newClient(t, gateway.Options{URL: url})
		err := c.Call(testwait.Ctx(t), "status", nil, nil)
		var lost *gateway.ConnLostError
		if !errors.As(err, &lost) || !strings.Contains(err.Error(), "larger than the read limit") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestTransportSecurity(t *testing.T) {
	for _, tc := range []struct {
		url      string
		token    string
		insecure bool
		wantErr  string
		kind     gateway.Kind
	}{
		{"ws://192.0.2.7:18789", "t", false, "refusing to send the gateway token over unencrypted ws", gateway.KindInsecureTransport},
		{"ws://gateway.example:18789", "t", false, "not a loopback address", gateway.KindInsecureTransport},
		{"ws://192.0.2.7:18789", "t", true, "", 0},
		{"ws://192.0.2.7:18789", "", false, "", 0},
		{"ws://127.0.0.1:18789", "t", false, "", 0},
		{"ws://localhost:18789", "t", false, "", 0},
		{"ws://[::1]:18789", "t", false, "", 0},
		{"wss://gateway.example", "t", false, "", 0},
		{"ftp://x", "", false, "must be ws:// or wss://", gateway.KindBadURL},
		{"ws://user:pw@127.0.0.1", "", false, "carries credentials in its user info", gateway.KindBadURL},
	} {
		_, err := gateway.New(gateway.Options{URL: tc.url, Token: tc.token, AllowInsecureTransport: tc.insecure})
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s token=%q insecure=%v: got %v, want %q", tc.url, tc.token, tc.insecure, err, tc.wantErr)
		}
		if err != nil && gateway.KindOf(err) != tc.kind {
			t.Errorf("%s token=%q insecure=%v: kind %v, want %v", tc.url, tc.token, tc.insecure, gateway.KindOf(err), tc.kind)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("URL password in error: %v", err)
		}
	}
}

func TestTLSFingerprintPinning(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		s := &scriptConn{t: t, ws: ws, r: r}
		s.challenge()
		s.hello(r.Context(), "openclaw", nil)
		s.drain(r.Context())
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	url := "wss" + strings.TrimPrefix(srv.URL, "https")
	pin := gateway.CertFingerprint(srv.Certificate())
	colons := strings.ToUpper(pin[:2] + ":" + pin[2:4] + ":" + pin[4:])

	for _, fp := range []string{pin, "sha256:" + colons} {
		c := newClient(t, gateway.Options{URL: url, TLSFingerprint: fp})
		if _, err := c.Info(testwait.Ctx(t)); err != nil {
			t.Fatalf("pinned %s: %v", fp, err)
		}
	}
	wrong := strings.Repeat("ab", 32)
	c := newClient(t, gateway.Options{URL: url, TLSFingerprint: wrong})
	_, err := c.Info(testwait.Ctx(t))
	var pe *gateway.TLSPinError
	if !errors.As(err, &pe) {
		t.Fatalf("wrong pin: %v, want a TLSPinError", err)
	}
	if pe.Got != pin || pe.Want != wrong || !strings.Contains(err.Error(), pin) {
		t.Fatalf("wrong pin: %+v / %v: want the fingerprint seen (%s) and the pinned one", pe, err, pin)
	}
	// A fingerprint without TLS pins nothing: refused, not ignored.
	if _, err := gateway.New(gateway.Options{URL: "ws://127.0.0.1:1", TLSFingerprint: pin}); gateway.KindOf(err) != gateway.KindBadURL {
		t.Fatalf("ws:// with a fingerprint: %v, want a bad URL error", err)
	}
	// Without a pin, the self-signed certificate is not trusted.
	c = newClient(t, gateway.Options{URL: url})
	if _, err := c.Info(testwait.Ctx(t)); err == nil {
		t.Fatal("self-signed certificate accepted without a pin")
	}
	if _, err := gateway.New(gateway.Options{URL: url, TLSFingerprint: "xyz"}); err == nil {
		t.Fatal("bad fingerprint accepted")
	}
}

func TestOptionsNeverPrintSecrets(t *testing.T) {
	o := gateway.Options{URL: "ws://127.0.0.1:1", Token: testToken, Password: "pw-SECRET-99"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("opts", "o", o)
	out := fmt.Sprintf("%v %+v %#v %s", o, o, o, o) + buf.String() +
		fmt.Sprintf("%v %+v %#v", schema.ConnectAuth{Token: testToken}, schema.ConnectAuth{Password: "pw-SECRET-99"}, &schema.ConnectAuth{Token: testToken})
	for _, secret := range []string{testToken, "pw-SECRET-99"} {
		if strings.Contains(out, secret) {
			t.Fatalf("secret printed: %s", out)
		}
	}
}
