package gateway_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
)

// The device handshake against the simulator of both generations seen from
// another host (gatewaysim.Options.Remote): pairing, the device token kept
// and used, a stale token, scope upgrades and the loopback fallback.

// deviceClient is a client on s with clawgate's device identity under
// stateDir; token "" sends no shared token.
func deviceClient(t *testing.T, s *gatewaysim.Server, stateDir, token string, mod ...func(*gateway.Options)) *gateway.Client {
	t.Helper()
	o := gateway.Options{URL: s.URL(), Token: token, StateDir: stateDir, DeviceMode: gateway.DeviceAlways,
		MinBackoff: 1, MaxBackoff: 1}
	for _, m := range mod {
		m(&o)
	}
	c, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// storedToken is the device token kept under stateDir for s.
func storedToken(t *testing.T, stateDir string, s *gatewaysim.Server) (gateway.DeviceToken, bool) {
	t.Helper()
	dev, err := gateway.LoadDeviceIdentity(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok, err := gateway.NewDeviceTokens(stateDir, dev).Get(s.URL(), gateway.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	return tok, ok
}

// remoteSim is a simulated gateway of generation gen that sees clawgate
// from another host, closed when the test ends.
func remoteSim(t *testing.T, gen gatewaysim.Generation) *gatewaysim.Server {
	t.Helper()
	s := gatewaysim.New(gatewaysim.Options{Generation: gen, Token: testToken, Remote: true})
	t.Cleanup(s.Close)
	return s
}

// pair connects until the gateway asks for pairing, approves the request
// and connects again; it returns the device id.
func pair(t *testing.T, s *gatewaysim.Server, stateDir string) string {
	t.Helper()
	devID, _ := pairWith(t, s, stateDir)
	return devID
}

// pairWith is pair with options of the client (mod), and also returns the
// id of the request it approved.
func pairWith(t *testing.T, s *gatewaysim.Server, stateDir string, mod ...func(*gateway.Options)) (deviceID, requestID string) {
	t.Helper()
	c := deviceClient(t, s, stateDir, testToken, mod...)
	_, err := c.Info(testwait.Ctx(t))
	ge, ok := gateway.AsError(err)
	if !ok || gateway.KindOf(err) != gateway.KindNotPaired {
		t.Fatalf("first connect: %v, want a pairing refusal", err)
	}
	id, _ := ge.PairingRequest()
	pending := s.PendingPairings()
	if len(pending) != 1 || pending[0].RequestID != id || pending[0].DeviceID != ge.DeviceID {
		t.Fatalf("refusal names request %q of device %q; pending: %+v", id, ge.DeviceID, pending)
	}
	if err := s.ApprovePairing(id); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the connect after approval", func() bool { _, err = c.Info(testwait.Ctx(t)); return err == nil })
	return ge.DeviceID, id
}

func TestDevicePairingAndToken(t *testing.T) {
	for _, gen := range []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot} {
		t.Run(gen.String(), func(t *testing.T) {
			s := remoteSim(t, gen)
			dir := t.TempDir()
			devID := pair(t, s, dir)

			d, ok := s.Device(devID)
			tok, held := storedToken(t, dir, s)
			if !ok || !held || tok.Token != d.Token || d.Token == "" {
				t.Fatalf("stored token matches the gateway's: %v (held %v, paired %v)", tok.Token == d.Token, held, ok)
			}
			wantProto := map[gatewaysim.Generation]int{gatewaysim.OpenClaw: 4, gatewaysim.Clawdbot: 3}[gen]
			if tok.Protocol != wantProto || !slices.Contains(tok.Scopes, gateway.ScopeAdmin) {
				t.Fatalf("stored %v protocol %d, want protocol %d with operator.admin", tok, tok.Protocol, wantProto)
			}
			fi, err := os.Stat(gateway.DeviceTokensPath(dir))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("token file: %v, mode %v", err, fi.Mode())
			}

			// The device token alone: no shared token. Twice, so that the
			// token read back from hello-ok (which holds a secret the
			// client already knows, and which it scrubs from frames) is
			// stored as the gateway sent it.
			for i := range 2 {
				c := deviceClient(t, s, dir, "")
				if _, err := c.Info(testwait.Ctx(t)); err != nil {
					t.Fatalf("device token only, connect %d: %v", i+1, err)
				}
				if tok, _ := storedToken(t, dir, s); tok.Token != d.Token {
					t.Fatalf("connect %d with the device token replaced the stored token by another value", i+1)
				}
				if err := c.Call(testwait.Ctx(t), "sessions.list", map[string]any{}, nil); err != nil {
					t.Fatalf("sessions.list over the device token: %v", err)
				}
			}
			// What went over the wire: a signed device on every connect;
			// OpenClaw got the token as auth.deviceToken, Clawdbot as
			// auth.token (it refuses deviceToken).
			last := s.Connects()[len(s.Connects())-1]
			if !strings.Contains(string(last.Params), `"device":{"id":"`+devID) {
				t.Fatalf("last connect carries no device: %s", redactToken(string(last.Params), d.Token))
			}
			field := map[gatewaysim.Generation]string{gatewaysim.OpenClaw: `"deviceToken":"`, gatewaysim.Clawdbot: `"token":"`}[gen]
			if !strings.Contains(string(last.Params), field+d.Token+`"`) {
				t.Fatalf("the device token was not sent as %s…: %s", field, redactToken(string(last.Params), d.Token))
			}
		})
	}
}

// redactToken keeps a test failure from printing a device token.
func redactToken(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<device token>")
}

func TestDeviceClawdbotFallsBackToV2Once(t *testing.T) {
	s := remoteSim(t, gatewaysim.Clawdbot)
	dir := t.TempDir()
	pair(t, s, dir)
	// The stored token remembers protocol 3: the next client signs v2 at
	// once, without a refused v3 connect first.
	before := len(s.Connects())
	c := deviceClient(t, s, dir, testToken)
	if _, err := c.Info(testwait.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Connects()) - before; n != 1 {
		t.Fatalf("%d connects, want 1 (v2 from the stored protocol)", n)
	}
}

func TestDeviceRevokedToken(t *testing.T) {
	for _, gen := range []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot} {
		t.Run(gen.String(), func(t *testing.T) {
			s := remoteSim(t, gen)
			dir := t.TempDir()
			devID := pair(t, s, dir)
			if err := s.RevokeDeviceToken(devID); err != nil {
				t.Fatal(err)
			}

			// Without a shared token: a clear error, the token forgotten.
			_, err := deviceClient(t, s, dir, "").Info(testwait.Ctx(t))
			var de *gateway.DeviceTokenError
			if !errors.As(err, &de) || de.ScopeUpgrade || gateway.KindOf(err) != gateway.KindDeviceToken || de.DeviceID != devID {
				t.Fatalf("device token only after revoke: %v, want a DeviceTokenError", err)
			}
			if _, held := storedToken(t, dir, s); held {
				t.Fatal("the refused token is still stored")
			}

			// With the shared token: OpenClaw asks for the role again;
			// Clawdbot issues a new token at once.
			c := deviceClient(t, s, dir, testToken)
			_, err = c.Info(testwait.Ctx(t))
			switch gen {
			case gatewaysim.OpenClaw:
				ge, ok := gateway.AsError(err)
				if !ok {
					t.Fatalf("shared token after revoke: %v, want a pairing refusal", err)
				}
				if id, reason := ge.PairingRequest(); id == "" || reason != "role-upgrade" || ge.Clawdbot() {
					t.Fatalf("pairing request %q reason %q (Clawdbot %v), want a role-upgrade request", id, reason, ge.Clawdbot())
				}
			case gatewaysim.Clawdbot:
				if err != nil {
					t.Fatalf("shared token after revoke: %v", err)
				}
				d, _ := s.Device(devID)
				if tok, held := storedToken(t, dir, s); !held || tok.Token != d.Token {
					t.Fatal("the new token was not stored")
				}
			}
		})
	}
}

func TestDeviceStaleTokenFallsBackToSharedToken(t *testing.T) {
	s := remoteSim(t, gatewaysim.OpenClaw)
	dir := t.TempDir()
	devID := pair(t, s, dir)
	if _, err := s.RotateDeviceToken(devID); err != nil {
		t.Fatal(err)
	}
	// Device token only: refused; the stored one is the old token.
	if _, err := deviceClient(t, s, dir, "").Info(testwait.Ctx(t)); gateway.KindOf(err) != gateway.KindDeviceToken {
		t.Fatalf("rotated token alone: %v", err)
	}
	// Pair again with the shared token: the rotated token comes back and
	// is stored.
	c := deviceClient(t, s, dir, testToken)
	if _, err := c.Info(testwait.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Device(devID)
	if tok, _ := storedToken(t, dir, s); tok.Token != d.Token {
		t.Fatal("the rotated token was not stored")
	}
}

func TestDeviceAutoMode(t *testing.T) {
	t.Run("remote OpenClaw without a device grants nothing", func(t *testing.T) {
		s := remoteSim(t, gatewaysim.OpenClaw)
		c := deviceClient(t, s, t.TempDir(), testToken, func(o *gateway.Options) { o.DeviceMode = gateway.DeviceNever })
		if _, err := c.Info(testwait.Ctx(t)); gateway.KindOf(err) != gateway.KindNoScopes {
			t.Fatalf("device-less remote: %v, want no scopes", err)
		}
	})
	t.Run("loopback gateway that grants a device-less client nothing", func(t *testing.T) {
		// A loopback OpenClaw without the exemption (openclaw#72418):
		// auto connects device-less, gets no scopes, and connects with
		// the device, which the loopback admits without pairing.
		s := gatewaysim.New(gatewaysim.Options{Generation: gatewaysim.OpenClaw, Token: testToken, ClearScopes: true})
		t.Cleanup(s.Close)
		dir := t.TempDir()
		c := deviceClient(t, s, dir, testToken, func(o *gateway.Options) { o.DeviceMode = gateway.DeviceAuto })
		info, err := c.Info(testwait.Ctx(t))
		if err != nil {
			t.Fatalf("auto on loopback: %v", err)
		}
		if len(info.Scopes) == 0 {
			t.Fatal("no scopes")
		}
		cs := s.Connects()
		if len(cs) != 2 || strings.Contains(string(cs[0].Params), `"device"`) || !strings.Contains(string(cs[1].Params), `"device"`) {
			t.Fatalf("%d connects; want a device-less one, then one with the device", len(cs))
		}
	})
	t.Run("loopback gateway with the exemption stays device-less", func(t *testing.T) {
		s := gatewaysim.New(gatewaysim.Options{Generation: gatewaysim.OpenClaw, Token: testToken})
		t.Cleanup(s.Close)
		dir := t.TempDir()
		c := deviceClient(t, s, dir, testToken, func(o *gateway.Options) { o.DeviceMode = gateway.DeviceAuto })
		if _, err := c.Info(testwait.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(s.Connects()[0].Params), `"device"`) {
			t.Fatal("auto sent the device identity to a loopback gateway that grants scopes without it")
		}
		if _, err := os.Stat(gateway.DeviceIdentityPath(dir)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("an identity was created without need: %v", err)
		}
	})
}

func TestDeviceTokenNeverInPlaintext(t *testing.T) {
	// A token held for a gateway not on loopback is never sent over plain
	// ws://: refused before dialing (192.0.2.1 is never contacted).
	dir := t.TempDir()
	dev, err := gateway.LoadOrCreateDeviceIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	const url = "ws://192.0.2.1:18789"
	if err := gateway.NewDeviceTokens(dir, dev).Put(url, gateway.RoleOperator, gateway.DeviceToken{Token: "dt-SECRET", Scopes: []string{gateway.ScopeRead}}); err != nil {
		t.Fatal(err)
	}
	c, err := gateway.New(gateway.Options{URL: url, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var it *gateway.InsecureTransportError
	if _, err := c.Info(testwait.Ctx(t)); !errors.As(err, &it) || !it.DeviceToken {
		t.Fatalf("device token over plain ws:// to a remote host: %v", err)
	}
}

func TestDeviceSignatureCoversWhatWasSent(t *testing.T) {
	// The simulator verifies every signature (payload v3 on OpenClaw, v2
	// on Clawdbot, over exactly the token sent); a connect it admits was
	// signed right. Here the ID it reports is the key's hash.
	s := remoteSim(t, gatewaysim.OpenClaw)
	dir := t.TempDir()
	devID := pair(t, s, dir)
	dev, err := gateway.LoadDeviceIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := s.Device(devID)
	if dev.ID() != devID || d.PublicKey != dev.PublicKey() {
		t.Fatalf("device %s / key %s, want %s / %s", devID, d.PublicKey, dev.ID(), dev.PublicKey())
	}
}

func TestDeviceScopeUpgrade(t *testing.T) {
	for _, gen := range []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot} {
		t.Run(gen.String(), func(t *testing.T) {
			s := remoteSim(t, gen)
			dir := t.TempDir()
			// Paired read-only first.
			_, id := pairWith(t, s, dir, func(o *gateway.Options) { o.ReadOnly = true })

			// The full set with the device token only: the token is kept,
			// and the error says an upgrade needs the shared token.
			_, err := deviceClient(t, s, dir, "").Info(testwait.Ctx(t))
			var de *gateway.DeviceTokenError
			if !errors.As(err, &de) || !de.ScopeUpgrade {
				t.Fatalf("full scopes with a read-only device token: %v, want a scope-upgrade DeviceTokenError", err)
			}
			if _, held := storedToken(t, dir, s); !held {
				t.Fatal("a token good for fewer scopes was forgotten")
			}
			// With the shared token: a new approval request for the upgrade.
			_, err = deviceClient(t, s, dir, testToken).Info(testwait.Ctx(t))
			ge, _ := gateway.AsError(err)
			if ge == nil {
				t.Fatalf("full scopes with the shared token: %v, want a pairing refusal", err)
			}
			up, reason := ge.PairingRequest()
			if up == "" || up == id || gen == gatewaysim.OpenClaw && reason != "scope-upgrade" {
				t.Fatalf("upgrade request %q (first %q), reason %q", up, id, reason)
			}
		})
	}
}

func TestDeviceRemovedClosesLiveConnection(t *testing.T) {
	// OpenClaw closes a revoked device's connections with 4001: a call in
	// flight then fails saying so, and the next call reconnects (with the
	// shared token here: a role-upgrade request to approve).
	s := remoteSim(t, gatewaysim.OpenClaw)
	dir := t.TempDir()
	devID := pair(t, s, dir)
	c := deviceClient(t, s, dir, testToken)
	if _, err := c.Info(testwait.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	s.Stall("sessions.list")
	errc := make(chan error, 1)
	go func() { errc <- c.Call(testwait.Ctx(t), "sessions.list", map[string]any{}, nil) }()
	testwait.Until(t, "the stalled call to reach the gateway", func() bool { return len(s.RequestsFor("sessions.list")) > 0 })
	if err := s.RevokeDeviceToken(devID); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	var lost *gateway.ConnLostError
	if !errors.As(err, &lost) || !lost.DeviceRemoved() {
		t.Fatalf("call in flight during the revoke: %v, want a lost connection closed 4001", err)
	}
	_, err = c.Info(testwait.Ctx(t))
	if ge, ok := gateway.AsError(err); !ok || gateway.KindOf(err) != gateway.KindNotPaired {
		t.Fatalf("next call: %v, want a pairing refusal", err)
	} else if _, reason := ge.PairingRequest(); reason != "role-upgrade" {
		t.Fatalf("next call: reason %q, want role-upgrade", reason)
	}
}
