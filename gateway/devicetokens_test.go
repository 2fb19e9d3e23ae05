package gateway_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/gateway"
)

func TestGatewayKey(t *testing.T) {
	for in, want := range map[string]string{
		"ws://10.200.0.2:19200":             "ws://10.200.0.2:19200",
		"WS://GW.Example:19200/":            "ws://gw.example:19200",
		"wss://gw.example/openclaw/":        "wss://gw.example:443/openclaw",
		"ws://gw.example?token=secret-xyz":  "ws://gw.example:80",
		"wss://user:pw@gw.example:8443/a/b": "wss://gw.example:8443/a/b",
	} {
		got, err := gateway.GatewayKey(in)
		if err != nil || got != want {
			t.Errorf("GatewayKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := gateway.GatewayKey("http://x?token=secret-xyz"); err == nil || strings.Contains(err.Error(), "secret-xyz") {
		t.Errorf("http URL: %v", err)
	}
}

// Tokens are kept per gateway and role, in a 0600 file; a file written for
// another device identity is not used; the token never shows in String.
func TestDeviceTokens(t *testing.T) {
	dir := t.TempDir()
	seed, _ := hex.DecodeString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	d, _ := gateway.NewDeviceIdentity(seed)
	s := gateway.NewDeviceTokens(dir, d)
	if _, ok, err := s.Get("ws://10.0.0.2:18789", "operator"); ok || err != nil {
		t.Fatalf("empty store: %v %v", ok, err)
	}
	tok := gateway.DeviceToken{Token: "dt-SECRET", Scopes: []string{"operator.read", "operator.write"}, Protocol: 4}
	if err := s.Put("ws://10.0.0.2:18789/", "operator", tok); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Get("WS://10.0.0.2:18789", "operator")
	if err != nil || !ok || got.Token != "dt-SECRET" || got.UpdatedAtMs == 0 {
		t.Fatalf("get: %+v %v %v", got, ok, err)
	}
	if _, ok, _ := s.Get("ws://10.0.0.3:18789", "operator"); ok {
		t.Error("a token of another gateway")
	}
	if s := fmt.Sprintf("%v %+v %s", got, got, got); strings.Contains(s, "SECRET") {
		t.Errorf("the token shows when printed: %s", s)
	}
	if fi, err := os.Stat(gateway.DeviceTokensPath(dir)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v %v", fi.Mode().Perm(), err)
	}
	other, _ := gateway.NewDeviceIdentity(make([]byte, 32))
	if _, ok, err := gateway.NewDeviceTokens(dir, other).Get("ws://10.0.0.2:18789", "operator"); ok || err != nil {
		t.Errorf("another device used this device's token: %v %v", ok, err)
	}
	if err := s.Put("ws://10.0.0.2:18789", "operator", gateway.DeviceToken{}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get("ws://10.0.0.2:18789", "operator"); ok {
		t.Error("a removed token is still there")
	}
	if err := os.Chmod(gateway.DeviceTokensPath(dir), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get("ws://10.0.0.2:18789", "operator"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a readable token file: %v", err)
	}
}
