package gatewaysim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/testwait"
)

// devConn describes one connect with a device identity.
type devConn struct {
	id                 *gateway.DeviceIdentity
	scopes             []string
	token, deviceToken string // auth fields; "" = absent
	clientID, mode     string // default gateway-client/backend
	platform           string // default linux
	payload            string // "v3" or "v2" (default: v3 on OpenClaw, v2 on Clawdbot)
	signToken          *string
	signedAtDelta      int64  // added to the challenge ts
	nonce              string // overrides the challenge nonce in device.nonce and the payload
	deviceID           string // overrides device.id
}

// identity returns a deterministic device identity.
func identity(t testing.TB, n byte) *gateway.DeviceIdentity {
	t.Helper()
	id, err := gateway.NewDeviceIdentity(bytes.Repeat([]byte{n}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// dial connects to srv with a signed device and returns the client and the
// connect res.
func (d devConn) dial(t testing.TB, srv *Server) (*testClient, obj) {
	t.Helper()
	c := dialClient(t, srv.URL(), nil)
	ch, _ := c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience())
	if ch == nil {
		t.Fatal("no connect.challenge")
	}
	nonce := str(sub(ch, "payload"), "nonce")
	ts, err := sub(ch, "payload")["ts"].(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	if d.nonce != "" {
		nonce = d.nonce
	}
	if d.clientID == "" {
		d.clientID, d.mode = "gateway-client", "backend"
	}
	if d.platform == "" {
		d.platform = "linux"
	}
	if d.scopes == nil {
		d.scopes = []string{}
	}
	auth := obj{}
	signTok := ""
	if d.deviceToken != "" {
		auth["deviceToken"] = d.deviceToken
		signTok = d.deviceToken
	}
	if d.token != "" {
		auth["token"] = d.token
		signTok = d.token
	}
	if d.signToken != nil {
		signTok = *d.signToken
	}
	sc := gateway.SignedConnect{ClientID: d.clientID, ClientMode: d.mode, Role: "operator", Scopes: d.scopes,
		SignedAt: ts + d.signedAtDelta, Token: signTok, Nonce: nonce, Platform: d.platform}
	payload := d.payload
	if payload == "" {
		payload = "v3"
		if srv.opts.Generation == Clawdbot {
			payload = "v2"
		}
	}
	signed := d.id.PayloadV3(sc)
	if payload == "v2" {
		signed = d.id.PayloadV2(sc)
	}
	devID := d.id.ID()
	if d.deviceID != "" {
		devID = d.deviceID
	}
	params := connectParamsFor("", obj{
		"scopes": d.scopes, "auth": auth,
		"client": obj{"id": d.clientID, "displayName": "gatewaysim-test", "version": "0.1.0", "platform": d.platform, "mode": d.mode},
		"device": obj{"id": devID, "publicKey": d.id.PublicKey(), "signature": d.id.Sign(signed),
			"signedAt": ts + d.signedAtDelta, "nonce": nonce},
	})
	return c, c.request("connect", params)
}

// mustOK fails unless res is a hello-ok and returns its auth object.
func mustOK(t testing.TB, res obj) obj {
	t.Helper()
	if res["ok"] != true {
		t.Fatalf("connect failed: %s", jsonStr(res))
	}
	return sub(sub(res, "payload"), "auth")
}

// mustFail fails unless res is an error with code and message and returns it.
func mustFail(t testing.TB, res obj, code, message string) obj {
	t.Helper()
	e := sub(res, "error")
	if res["ok"] != false || str(e, "code") != code || str(e, "message") != message {
		t.Fatalf("got %s, want error %s %q", jsonStr(res), code, message)
	}
	return e
}

// wantClose checks the close code and reason of c.
func wantClose(t testing.TB, c *testClient, code websocket.StatusCode, reason string) {
	t.Helper()
	gotCode, gotReason := c.waitClose(testwait.Patience())
	if gotCode != code || gotReason != reason {
		t.Fatalf("closed %d %q, want %d %q", gotCode, gotReason, code, reason)
	}
}

var (
	openclawTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	clawdbotTokenRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// pairRemote pairs id with scopes on a Remote fake and returns the device token.
func pairRemote(t *testing.T, srv *Server, id *gateway.DeviceIdentity, scopes []string) string {
	t.Helper()
	_, res := devConn{id: id, scopes: scopes, token: "test-token"}.dial(t, srv)
	rid := str(sub(sub(res, "error"), "details"), "requestId")
	if err := srv.ApprovePairing(rid); err != nil {
		t.Fatal(err)
	}
	_, res = devConn{id: id, scopes: scopes, token: "test-token"}.dial(t, srv)
	return str(mustOK(t, res), "deviceToken")
}

func TestDeviceVectorVerifies(t *testing.T) {
	// DEVICE.md §2 test vector, checked against the fake's own verification.
	pub, ok := decodePublicKey("ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ")
	if !ok || deviceIDOf(pub) != "65b60673d6ed884bf01c2c222d82ada0740f29ac3355d6a925c81f17f47a27b8" {
		t.Fatalf("key/id of the vector: ok %v id %s", ok, deviceIDOf(pub))
	}
	payload := "v3|65b60673d6ed884bf01c2c222d82ada0740f29ac3355d6a925c81f17f47a27b8|gateway-client|backend|operator|operator.read,operator.write|1795844017565|example-shared-token|ca5d3139-d404-4a00-aaa1-846ebc70fcd9|linux|"
	sig, ok := decodeB64("73_cLwqSJLmK9ubEEhv9d95-mMA0SqNu50-qIBXqcx4XgsrJCRGrNDAA5ewcxjME1kgok0VLXcRGgKsX13RABg")
	if !ok || !ed25519.Verify(pub, []byte(payload), sig) {
		t.Fatal("the DEVICE.md v3 vector does not verify")
	}
	id := identity(t, 0) // sanity: the gateway package's identity matches the fake's id rule
	p, _ := decodePublicKey(id.PublicKey())
	if deviceIDOf(p) != id.ID() {
		t.Fatalf("device id %s, gateway says %s", deviceIDOf(p), id.ID())
	}
}

func TestRemoteDevicelessScopes(t *testing.T) {
	t.Run("openclaw", func(t *testing.T) {
		srv := newServer(t, Options{Generation: OpenClaw, Remote: true})
		c, hello := connected(t, srv, "test-token", nil)
		if got := jsonStr(sub(hello, "auth")["scopes"]); got != "[]" {
			t.Fatalf("remote device-less scopes %s, want []", got)
		}
		res := c.request("status", obj{})
		e := mustFail(t, res, "FORBIDDEN", "missing scope: operator.read")
		if got := jsonStr(e["details"]); got != `{"code":"MISSING_SCOPE","missingScope":"operator.read","requiredScopes":["operator.read"]}` {
			t.Fatalf("details %s", got)
		}
		if res := c.request("health", obj{}); res["ok"] != true {
			t.Fatalf("health needs no scope: %s", jsonStr(res))
		}
	})
	t.Run("clawdbot", func(t *testing.T) {
		srv := newServer(t, Options{Generation: Clawdbot, Remote: true})
		c, hello := connected(t, srv, "test-token", obj{"minProtocol": 3, "maxProtocol": 3})
		if _, ok := hello["auth"]; ok {
			t.Fatalf("clawdbot hello-ok has auth: %s", jsonStr(hello["auth"]))
		}
		if res := c.request("status", obj{}); res["ok"] != true {
			t.Fatalf("status: %s", jsonStr(res))
		}
	})
}

func TestDevicePairingOpenClaw(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, Remote: true})
	id := identity(t, 1)
	rw := []string{scopeRead, scopeWrite}
	c, res := devConn{id: id, scopes: rw, token: "test-token"}.dial(t, srv)
	e := mustFail(t, res, "NOT_PAIRED", "pairing required: device is not approved yet")
	det := sub(e, "details")
	rid := str(det, "requestId")
	want := obj{"code": "PAIRING_REQUIRED", "reason": "not-paired", "requestId": rid, "deviceId": id.ID(),
		"requestedRole": "operator", "requestedScopes": []any{scopeRead, scopeWrite},
		"remediationHint": "Approve this device from the pending pairing requests."}
	if jsonStr(det) != jsonStr(want) {
		t.Fatalf("details %s, want %s", jsonStr(det), jsonStr(want))
	}
	wantClose(t, c, websocket.StatusPolicyViolation, "pairing required: device is not approved yet (requestId: "+rid+")")

	ctx, cancel := context.WithTimeout(context.Background(), testwait.Patience())
	defer cancel()
	pr, err := srv.WaitPendingPairing(ctx, id.ID())
	if err != nil || pr.RequestID != rid || pr.Reason != "not-paired" || jsonStr(pr.Scopes) != jsonStr(rw) {
		t.Fatalf("pending %+v, %v", pr, err)
	}
	_, res = devConn{id: id, scopes: rw, token: "test-token"}.dial(t, srv)
	if got := str(sub(sub(res, "error"), "details"), "requestId"); got != rid {
		t.Fatalf("reconnect got request %s, want the same %s", got, rid)
	}
	if n := len(srv.PendingPairings()); n != 1 {
		t.Fatalf("%d pending requests, want 1", n)
	}
	if err := srv.ApprovePairing("00000000-0000-0000-0000-000000000000"); err == nil {
		t.Fatal("approving an unknown request succeeded")
	}
	if err := srv.ApprovePairing(rid); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.PendingPairings()); n != 0 {
		t.Fatalf("%d pending requests after approval", n)
	}

	_, res = devConn{id: id, scopes: rw, token: "test-token"}.dial(t, srv)
	auth := mustOK(t, res)
	dt := str(auth, "deviceToken")
	if !openclawTokenRE.MatchString(dt) || str(auth, "method") != "token" || jsonStr(auth["scopes"]) != jsonStr(rw) ||
		auth["recoveryMigrationAllowed"] != true || auth["issuedAtMs"] == nil {
		t.Fatalf("hello-ok auth %s", jsonStr(auth))
	}
	if ci := srv.Connects()[len(srv.Connects())-1]; ci.DeviceID != id.ID() || ci.Method != "token" || ci.DeviceToken != dt {
		t.Fatalf("ConnectInfo %+v", ci)
	}
	if pd, ok := srv.Device(id.ID()); !ok || pd.Token != dt || jsonStr(pd.Scopes) != jsonStr(rw) {
		t.Fatalf("paired device %+v", pd)
	}
	// Subset: the requested set, capped by approval (§5).
	c, res = devConn{id: id, scopes: []string{scopeRead}, token: "test-token"}.dial(t, srv)
	if got := jsonStr(mustOK(t, res)["scopes"]); got != `["operator.read"]` {
		t.Fatalf("subset scopes %s", got)
	}
	mustFail(t, c.request("sessions.patch", obj{"key": "main", "label": "x"}), "FORBIDDEN", "missing scope: operator.write")

	// Device token only, in either field.
	for _, d := range []devConn{{id: id, scopes: rw, deviceToken: dt}, {id: id, scopes: rw, token: dt}} {
		c, res = d.dial(t, srv)
		auth = mustOK(t, res)
		if str(auth, "method") != "device-token" || str(auth, "deviceToken") != dt {
			t.Fatalf("device-token connect: %s", jsonStr(auth))
		}
		if res := c.request("status", obj{}); res["ok"] != true {
			t.Fatalf("status: %s", jsonStr(res))
		}
	}
	// Signing "" while sending the device token (§6, pitfall 3).
	empty := ""
	c, res = devConn{id: id, scopes: rw, deviceToken: dt, signToken: &empty}.dial(t, srv)
	e = mustFail(t, res, "INVALID_REQUEST", "device signature invalid")
	if jsonStr(e["details"]) != `{"code":"DEVICE_AUTH_SIGNATURE_INVALID","reason":"device-signature"}` {
		t.Fatalf("details %s", jsonStr(e["details"]))
	}
	wantClose(t, c, websocket.StatusPolicyViolation, "device signature invalid")
	// A wrong shared token is rescued by the device token; alone it says retry with it.
	_, res = devConn{id: id, scopes: rw, token: "wrong", deviceToken: dt}.dial(t, srv)
	if str(mustOK(t, res), "method") != "device-token" {
		t.Fatalf("wrong shared + device token: %s", jsonStr(res))
	}
	_, res = devConn{id: id, scopes: rw, token: "wrong"}.dial(t, srv)
	e = mustFail(t, res, "INVALID_REQUEST", msgTokenMismatch)
	if jsonStr(e["details"]) != `{"authReason":"token_mismatch","canRetryWithDeviceToken":true,"code":"AUTH_TOKEN_MISMATCH","recommendedNextStep":"retry_with_device_token"}` {
		t.Fatalf("details %s", jsonStr(e["details"]))
	}
	// No auth at all.
	_, res = devConn{id: id, scopes: rw}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", "unauthorized: gateway token missing (provide gateway auth token)")
	// v2 signatures are accepted too.
	_, res = devConn{id: id, scopes: rw, token: "test-token", payload: "v2"}.dial(t, srv)
	mustOK(t, res)
}

func TestDeviceSignatureChecksOpenClaw(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, Remote: true})
	id := identity(t, 2)
	for _, tc := range []struct {
		name, msg, code string
		d               devConn
	}{
		{"id", "device identity mismatch", "DEVICE_AUTH_DEVICE_ID_MISMATCH", devConn{deviceID: identity(t, 3).ID()}},
		{"stale", "device signature expired", "DEVICE_AUTH_SIGNATURE_EXPIRED", devConn{signedAtDelta: -130_000}},
		{"nonce", "device nonce mismatch", "DEVICE_AUTH_NONCE_MISMATCH", devConn{nonce: "not-the-challenge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.id, tc.d.token, tc.d.scopes = id, "test-token", []string{scopeRead}
			c, res := tc.d.dial(t, srv)
			e := mustFail(t, res, "INVALID_REQUEST", tc.msg)
			if str(sub(e, "details"), "code") != tc.code {
				t.Fatalf("details %s, want code %s", jsonStr(e["details"]), tc.code)
			}
			wantClose(t, c, websocket.StatusPolicyViolation, tc.msg)
		})
	}
	// +110 s is inside the window (measured).
	_, res := devConn{id: id, token: "test-token", scopes: []string{scopeRead}, signedAtDelta: 110_000}.dial(t, srv)
	mustFail(t, res, "NOT_PAIRED", msgPairNotPaired)
}

func TestDevicePairingClawdbot(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot, Remote: true})
	id := identity(t, 4)
	rw := []string{scopeRead, scopeWrite}
	// v3 is refused without details: the cue to fall back to v2 (§12).
	c, res := devConn{id: id, scopes: rw, token: "test-token", payload: "v3"}.dial(t, srv)
	e := mustFail(t, res, "INVALID_REQUEST", "device signature invalid")
	if _, ok := e["details"]; ok {
		t.Fatalf("clawdbot signature error has details: %s", jsonStr(e))
	}
	wantClose(t, c, websocket.StatusPolicyViolation, "device signature invalid")

	c, res = devConn{id: id, scopes: rw, token: "test-token"}.dial(t, srv)
	e = mustFail(t, res, "NOT_PAIRED", "pairing required")
	rid := str(sub(e, "details"), "requestId")
	if jsonStr(e["details"]) != jsonStr(obj{"requestId": rid}) {
		t.Fatalf("details %s", jsonStr(e["details"]))
	}
	wantClose(t, c, websocket.StatusPolicyViolation, "pairing required")
	// Clawdbot reuses the device's pending request even for other scopes.
	_, res = devConn{id: id, scopes: []string{scopeAdmin}, token: "test-token"}.dial(t, srv)
	if got := str(sub(sub(res, "error"), "details"), "requestId"); got != rid {
		t.Fatalf("clawdbot made a new request %s, want %s", got, rid)
	}
	if err := srv.ApprovePairing(rid); err != nil {
		t.Fatal(err)
	}
	_, res = devConn{id: id, scopes: rw, token: "test-token"}.dial(t, srv)
	auth := mustOK(t, res)
	dt := str(auth, "deviceToken")
	if !clawdbotTokenRE.MatchString(dt) || jsonStr(auth["scopes"]) != jsonStr(rw) || auth["method"] != nil {
		t.Fatalf("hello-ok auth %s", jsonStr(auth))
	}
	// The token's scopes, not the connection's (§12).
	c, res = devConn{id: id, scopes: []string{scopeRead}, token: dt}.dial(t, srv)
	if got := jsonStr(mustOK(t, res)["scopes"]); got != jsonStr(rw) {
		t.Fatalf("clawdbot reported %s, want the token's scopes", got)
	}
	mustFail(t, c.request("agent.wait", obj{"runId": "x"}), "INVALID_REQUEST", "missing scope: operator.write")
	// auth.deviceToken is not in Clawdbot's schema.
	_, res = devConn{id: id, scopes: rw, deviceToken: dt}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", "invalid connect params: at /auth: unexpected property 'deviceToken'")
	// Literal subset rule: more scopes with the device token is a token mismatch, no details.
	_, res = devConn{id: id, scopes: []string{scopeRead, scopeWrite, scopeAdmin}, token: dt}.dial(t, srv)
	e = mustFail(t, res, "INVALID_REQUEST", msgTokenMismatch)
	if _, ok := e["details"]; ok {
		t.Fatalf("details %s", jsonStr(e))
	}
	// With the shared token: a scope upgrade, approved → new token, old one mismatches.
	_, res = devConn{id: id, scopes: []string{scopeAdmin}, token: "test-token"}.dial(t, srv)
	up := str(sub(mustFail(t, res, "NOT_PAIRED", "pairing required"), "details"), "requestId")
	if up == rid {
		t.Fatal("the upgrade reused the approved request id")
	}
	if err := srv.ApprovePairing(up); err != nil {
		t.Fatal(err)
	}
	_, res = devConn{id: id, scopes: rw, token: dt}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", msgTokenMismatch)
	_, res = devConn{id: id, scopes: []string{scopeAdmin}, token: "test-token"}.dial(t, srv)
	auth = mustOK(t, res)
	if str(auth, "deviceToken") == dt || jsonStr(auth["scopes"]) != `["operator.admin"]` {
		t.Fatalf("after upgrade: %s", jsonStr(auth))
	}
	if err := srv.RemoveDevice(id.ID()); err == nil {
		t.Fatal("clawdbot removed a device")
	}
}

func TestDeviceScopeUpgradeOpenClaw(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, Remote: true})
	id := identity(t, 5)
	rw := []string{scopeRead, scopeWrite}
	rwa := []string{scopeRead, scopeWrite, scopeAdmin}
	dt := pairRemote(t, srv, id, rw)

	held, res := devConn{id: id, scopes: rw, deviceToken: dt}.dial(t, srv)
	mustOK(t, res)
	// Device token only: AUTH_SCOPE_MISMATCH, and no request is created.
	c, res := devConn{id: id, scopes: rwa, deviceToken: dt}.dial(t, srv)
	e := mustFail(t, res, "INVALID_REQUEST", msgScopeMismatch)
	if jsonStr(e["details"]) != `{"authReason":"scope_mismatch","canRetryWithDeviceToken":false,"code":"AUTH_SCOPE_MISMATCH","recommendedNextStep":"review_auth_configuration"}` {
		t.Fatalf("details %s", jsonStr(e["details"]))
	}
	wantClose(t, c, websocket.StatusPolicyViolation, msgScopeMismatch)
	if n := len(srv.PendingPairings()); n != 0 {
		t.Fatalf("%d pending requests after AUTH_SCOPE_MISMATCH", n)
	}
	// Shared token: a scope-upgrade request.
	c, res = devConn{id: id, scopes: rwa, token: "test-token"}.dial(t, srv)
	e = mustFail(t, res, "NOT_PAIRED", msgPairScope)
	det := sub(e, "details")
	if str(det, "reason") != "scope-upgrade" || jsonStr(det["approvedScopes"]) != jsonStr(rw) ||
		jsonStr(det["approvedRoles"]) != `["operator"]` || str(det, "remediationHint") != hintScope {
		t.Fatalf("details %s", jsonStr(det))
	}
	up := str(det, "requestId")
	wantClose(t, c, websocket.StatusPolicyViolation, truncateReason(msgPairScope+" (requestId: "+up+")"))
	if err := srv.ApprovePairing(up); err != nil {
		t.Fatal(err)
	}
	// The held socket survives the approval.
	if res := held.request("status", obj{}); res["ok"] != true {
		t.Fatalf("held socket after the upgrade approval: %s", jsonStr(res))
	}
	// The approval rotated the token.
	_, res = devConn{id: id, scopes: rw, deviceToken: dt}.dial(t, srv)
	e = mustFail(t, res, "INVALID_REQUEST", msgDeviceTokenMismatch)
	if jsonStr(e["details"]) != `{"authReason":"device_token_mismatch","canRetryWithDeviceToken":false,"code":"AUTH_DEVICE_TOKEN_MISMATCH","recommendedNextStep":"update_auth_credentials"}` {
		t.Fatalf("details %s", jsonStr(e["details"]))
	}
	_, res = devConn{id: id, scopes: rw, token: dt}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", msgTokenMismatch)
	_, res = devConn{id: id, scopes: rwa, token: "test-token", deviceToken: dt}.dial(t, srv) // stale DT ignored
	auth := mustOK(t, res)
	dt2 := str(auth, "deviceToken")
	if dt2 == dt || jsonStr(auth["scopes"]) != jsonStr(rwa) {
		t.Fatalf("after upgrade: %s", jsonStr(auth))
	}
	// operator.admin implies every operator scope.
	all := []string{scopeRead, scopeWrite, scopeAdmin, "operator.approvals", "operator.pairing", "operator.bogus"}
	_, res = devConn{id: id, scopes: all, deviceToken: dt2}.dial(t, srv)
	if got := jsonStr(mustOK(t, res)["scopes"]); got != jsonStr(all) {
		t.Fatalf("admin device asking for all scopes got %s", got)
	}
	// A request with other scopes supersedes a pending one.
	other := identity(t, 6)
	_, res = devConn{id: other, scopes: rw, token: "test-token"}.dial(t, srv)
	r1 := str(sub(sub(res, "error"), "details"), "requestId")
	_, res = devConn{id: other, scopes: []string{scopeRead}, token: "test-token"}.dial(t, srv)
	r2 := str(sub(sub(res, "error"), "details"), "requestId")
	if r1 == r2 || len(srv.PendingPairings()) != 1 || srv.PendingPairings()[0].RequestID != r2 {
		t.Fatalf("superseding: %s then %s, pending %+v", r1, r2, srv.PendingPairings())
	}
	if err := srv.RejectPairing(r2); err != nil {
		t.Fatal(err)
	}
	_, res = devConn{id: other, scopes: []string{scopeRead}, token: "test-token"}.dial(t, srv)
	if r3 := str(sub(sub(res, "error"), "details"), "requestId"); r3 == r2 || r3 == "" {
		t.Fatalf("after reject: request %q", r3)
	}
}

func TestDeviceRevokeRotateRemoveOpenClaw(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, Remote: true})
	id := identity(t, 7)
	rw := []string{scopeRead, scopeWrite}
	dt := pairRemote(t, srv, id, rw)
	shared := devConn{id: id, scopes: rw, token: "test-token"}

	// Revoke: held sockets die with 4001, DT is stale, shared → role-upgrade.
	held, res := devConn{id: id, scopes: rw, deviceToken: dt}.dial(t, srv)
	mustOK(t, res)
	heldShared, res := shared.dial(t, srv)
	mustOK(t, res)
	if err := srv.RevokeDeviceToken(id.ID()); err != nil {
		t.Fatal(err)
	}
	wantClose(t, held, closeCodeDeviceRemoved, "device removed")
	wantClose(t, heldShared, closeCodeDeviceRemoved, "device removed")
	_, res = devConn{id: id, scopes: rw, deviceToken: dt}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", msgDeviceTokenMismatch)
	_, res = shared.dial(t, srv)
	det := sub(mustFail(t, res, "NOT_PAIRED", msgPairRole), "details")
	if str(det, "reason") != "role-upgrade" || jsonStr(det["approvedScopes"]) != jsonStr(rw) {
		t.Fatalf("details %s", jsonStr(det))
	}
	if err := srv.ApprovePairing(str(det, "requestId")); err != nil {
		t.Fatal(err)
	}
	_, res = shared.dial(t, srv)
	dt = str(mustOK(t, res), "deviceToken")

	// Rotate: 4001, old token stale, shared gets the new token at once.
	held, res = devConn{id: id, scopes: rw, deviceToken: dt}.dial(t, srv)
	mustOK(t, res)
	nt, err := srv.RotateDeviceToken(id.ID())
	if err != nil || nt == dt || !openclawTokenRE.MatchString(nt) {
		t.Fatalf("rotate: %q, %v", nt, err)
	}
	wantClose(t, held, closeCodeDeviceRemoved, "device removed")
	_, res = devConn{id: id, scopes: rw, deviceToken: dt}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", msgDeviceTokenMismatch)
	_, res = shared.dial(t, srv)
	if got := str(mustOK(t, res), "deviceToken"); got != nt {
		t.Fatalf("after rotate hello-ok gave %q, want the rotated token", got)
	}

	// Remove: 4001, then not-paired.
	held, res = devConn{id: id, scopes: rw, deviceToken: nt}.dial(t, srv)
	mustOK(t, res)
	if err := srv.RemoveDevice(id.ID()); err != nil {
		t.Fatal(err)
	}
	wantClose(t, held, closeCodeDeviceRemoved, "device removed")
	_, res = devConn{id: id, scopes: rw, deviceToken: nt}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", msgDeviceTokenMismatch)
	_, res = shared.dial(t, srv)
	if str(sub(mustFail(t, res, "NOT_PAIRED", msgPairNotPaired), "details"), "reason") != "not-paired" {
		t.Fatalf("after remove: %s", jsonStr(res))
	}
	if _, ok := srv.Device(id.ID()); ok {
		t.Fatal("removed device still listed")
	}
}

func TestDeviceRevokeClawdbot(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot, Remote: true})
	id := identity(t, 8)
	admin := []string{scopeAdmin}
	dt := pairRemote(t, srv, id, admin)
	held, res := devConn{id: id, scopes: admin, token: dt}.dial(t, srv)
	mustOK(t, res)
	if err := srv.RevokeDeviceToken(id.ID()); err != nil {
		t.Fatal(err)
	}
	if res := held.request("status", obj{}); res["ok"] != true { // still open
		t.Fatalf("held socket after revoke: %s", jsonStr(res))
	}
	_, res = devConn{id: id, scopes: admin, token: dt}.dial(t, srv)
	mustFail(t, res, "INVALID_REQUEST", msgTokenMismatch)
	_, res = devConn{id: id, scopes: admin, token: "test-token"}.dial(t, srv)
	nt := str(mustOK(t, res), "deviceToken")
	if nt == dt || !clawdbotTokenRE.MatchString(nt) {
		t.Fatalf("after revoke: token %q", nt)
	}
	rt, err := srv.RotateDeviceToken(id.ID())
	if err != nil {
		t.Fatal(err)
	}
	if res := held.request("status", obj{}); res["ok"] != true {
		t.Fatalf("held socket after rotate: %s", jsonStr(res))
	}
	_, res = devConn{id: id, scopes: admin, token: rt}.dial(t, srv)
	if str(mustOK(t, res), "deviceToken") != rt {
		t.Fatalf("rotated token: %s", jsonStr(res))
	}
}

func TestDeviceLoopback(t *testing.T) {
	t.Run("openclaw", func(t *testing.T) {
		srv := newServer(t, Options{Generation: OpenClaw})
		rwa := []string{scopeRead, scopeWrite, scopeAdmin}
		// gateway-client/backend: the bypass, no pairing and no token.
		_, res := devConn{id: identity(t, 9), scopes: rwa, token: "test-token"}.dial(t, srv)
		auth := mustOK(t, res)
		if _, ok := auth["deviceToken"]; ok || jsonStr(auth["scopes"]) != jsonStr(rwa) {
			t.Fatalf("bypass: %s", jsonStr(auth))
		}
		if len(srv.PairedDevices()) != 0 {
			t.Fatal("the bypass paired the device")
		}
		// Other clients are paired silently and get a token.
		d := devConn{id: identity(t, 10), scopes: rwa, token: "test-token", clientID: "test", mode: "backend"}
		_, res = d.dial(t, srv)
		auth = mustOK(t, res)
		dt := str(auth, "deviceToken")
		if !openclawTokenRE.MatchString(dt) || jsonStr(auth["scopes"]) != jsonStr(rwa) {
			t.Fatalf("silent pairing: %s", jsonStr(auth))
		}
		d.token, d.deviceToken = "", dt
		_, res = d.dial(t, srv)
		if str(mustOK(t, res), "method") != "device-token" {
			t.Fatalf("device token on loopback: %s", jsonStr(res))
		}
		// The device-less path is unchanged.
		connected(t, srv, "test-token", nil)
	})
	t.Run("clawdbot", func(t *testing.T) {
		srv := newServer(t, Options{Generation: Clawdbot})
		_, res := devConn{id: identity(t, 11), scopes: []string{scopeAdmin}, token: "test-token"}.dial(t, srv)
		auth := mustOK(t, res)
		if !clawdbotTokenRE.MatchString(str(auth, "deviceToken")) || jsonStr(auth["scopes"]) != `["operator.admin"]` {
			t.Fatalf("silent pairing: %s", jsonStr(auth))
		}
	})
}

func TestPairingTTL(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, Remote: true, PairingTTL: 1}) // expires at once
	id := identity(t, 12)
	d := devConn{id: id, scopes: []string{scopeRead}, token: "test-token"}
	_, res := d.dial(t, srv)
	r1 := str(sub(sub(res, "error"), "details"), "requestId")
	_, res = d.dial(t, srv)
	r2 := str(sub(sub(res, "error"), "details"), "requestId")
	if r1 == "" || r1 == r2 {
		t.Fatalf("expired request reused: %q %q", r1, r2)
	}
	if err := srv.ApprovePairing(r2); err == nil || !strings.Contains(err.Error(), r2) {
		t.Fatalf("approving an expired request: %v", err)
	}
}
