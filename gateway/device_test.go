package gateway_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clawgate/clawgate/gateway"
)

// The test vector of the device-identity reference, checked there with
// OpenClaw's own verifyDeviceSignature: the same seed gives the same id, key
// and signatures of the v3 (OpenClaw) and v2 (Clawdbot) payloads.
func TestDeviceSignatureVector(t *testing.T) {
	seed, _ := hex.DecodeString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	d, err := gateway.NewDeviceIdentity(seed)
	if err != nil {
		t.Fatal(err)
	}
	c := gateway.SignedConnect{ClientID: "gateway-client", ClientMode: "backend", Role: "operator",
		Scopes: []string{"operator.read", "operator.write"}, SignedAt: 1795844017565, Token: "example-shared-token",
		Nonce: "ca5d3139-d404-4a00-aaa1-846ebc70fcd9", Platform: " Linux "}
	v3 := d.PayloadV3(c)
	for _, tc := range []struct{ name, got, want string }{
		{"id", d.ID(), "65b60673d6ed884bf01c2c222d82ada0740f29ac3355d6a925c81f17f47a27b8"},
		{"public key", d.PublicKey(), "ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ"},
		{"v3 payload", v3, "v3|65b60673d6ed884bf01c2c222d82ada0740f29ac3355d6a925c81f17f47a27b8|gateway-client|backend|operator|operator.read,operator.write|1795844017565|example-shared-token|ca5d3139-d404-4a00-aaa1-846ebc70fcd9|linux|"},
		{"v3 signature", d.Sign(v3), "73_cLwqSJLmK9ubEEhv9d95-mMA0SqNu50-qIBXqcx4XgsrJCRGrNDAA5ewcxjME1kgok0VLXcRGgKsX13RABg"},
		{"v2 signature", d.Sign(d.PayloadV2(c)), "5KXuE1BDXKgQXsWLjsfPl72pFINDuYTcFg9rtOkMuOzY9-dzd9oDVE_lDZL-bzikDTte0e7plBNpfuNE6ykiBA"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, tc.got, tc.want)
		}
	}
	if strings.Contains(d.String(), hex.EncodeToString(seed)) {
		t.Error("String shows the key")
	}
}

// The identity is created on first need with 0700/0600 and the same one is
// read back; concurrent creators end up with one identity; an identity
// others can read, or a damaged one, is an error and never replaced.
func TestDeviceIdentityStorage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := gateway.LoadOrCreateDeviceIdentity(dir)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = d.ID()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || len(id) != 64 {
			t.Fatalf("concurrent creators got different identities: %q", ids)
		}
	}
	path := gateway.DeviceIdentityPath(dir)
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700, dir: 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %04o", p, fi.Mode().Perm(), err, want)
		}
	}
	again, err := gateway.LoadOrCreateDeviceIdentity(dir)
	if err != nil || again.ID() != ids[0] {
		t.Fatalf("read back %v %v", again, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.LoadOrCreateDeviceIdentity(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a readable identity: %v", err)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.LoadOrCreateDeviceIdentity(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a damaged identity: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Error("a damaged identity was replaced")
	}
}
