package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
)

// clawgate pair, and the device identity through the CLI, against the
// simulator of a gateway on another host (gatewaysim.Options.Remote).

// deviceSecrets are the device token and the private key material stored
// under stateDir: neither may appear in any output.
func deviceSecrets(t *testing.T, stateDir string) []string {
	t.Helper()
	var secrets []string
	b, err := os.ReadFile(gateway.DeviceIdentityPath(stateDir))
	if err != nil {
		t.Fatal(err)
	}
	var id struct{ PrivateKeyPem string }
	if err := json.Unmarshal(b, &id); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(id.PrivateKeyPem, "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	b, err = os.ReadFile(gateway.DeviceTokensPath(stateDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`"token": "([^"]+)"`).FindAllStringSubmatch(string(b), -1) {
		secrets = append(secrets, m[1])
	}
	if len(secrets) < 2 {
		t.Fatalf("found %d device secrets under %s, want the key and a token", len(secrets), stateDir)
	}
	return secrets
}

func assertNoDeviceSecrets(t *testing.T, where, out string, secrets []string) {
	t.Helper()
	assertNoSecrets(t, where, out)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Fatalf("%s shows a device secret (%d characters)", where, len(s))
		}
	}
}

func TestPairThenUseTheDeviceToken(t *testing.T) {
	for _, gen := range []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot} {
		t.Run(gen.String(), func(t *testing.T) {
			g := gatewaysim.New(gatewaysim.Options{Generation: gen, Token: secretToken, Remote: true})
			t.Cleanup(g.Close)
			dir := t.TempDir()
			vars := map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "CLAWGATE_STATE_DIR": dir, "CLAWGATE_LOG_LEVEL": "debug"}
			if gen == gatewaysim.Clawdbot {
				// The simulator listens on loopback, where auto connects
				// device-less, and Clawdbot grants a device-less client
				// its scopes. (On OpenClaw, auto finds no scopes granted
				// and connects with the device: that path is tested here.)
				vars["CLAWGATE_DEVICE_IDENTITY"] = "always"
			}
			withToken := map[string]string{"OPENCLAW_GATEWAY_TOKEN": secretToken}
			for k, v := range vars {
				withToken[k] = v
			}

			// Before pairing, a tool call names the request and the command.
			code, _, errs := run(t, []string{"call", "list_sessions"}, withToken, "")
			cli := map[gatewaysim.Generation]string{gatewaysim.OpenClaw: "openclaw", gatewaysim.Clawdbot: "clawdbot"}[gen]
			pending := g.PendingPairings()
			if code != 1 || len(pending) != 1 || !strings.Contains(errs, "`"+cli+" devices approve "+pending[0].RequestID+"`") {
				t.Fatalf("call before pairing: code %d, pending %+v\nstderr: %s", code, pending, errs)
			}

			// pair prints the command, waits, and stores the token once
			// the request is approved.
			approved := make(chan string, 1)
			before := len(g.Connects())
			go func() {
				// After the gateway refused one of pair's connects for
				// want of pairing (the earlier call's request is still
				// pending: approving it sooner would let pair succeed
				// without a prompt).
				testwait.Until(t, "pair's refused connect", func() bool {
					cs := g.Connects()
					for _, c := range cs[min(before, len(cs)):] {
						if c.Error != nil && c.Error.Code == "NOT_PAIRED" {
							return true
						}
					}
					return false
				})
				req, err := g.WaitPendingPairing(testwait.Ctx(t), "")
				if err == nil {
					err = g.ApprovePairing(req.RequestID)
				}
				if err != nil {
					t.Error(err)
				}
				approved <- req.RequestID
			}()
			code, out, errs := run(t, []string{"pair"}, withToken, "")
			id := <-approved
			if code != 0 || !strings.Contains(out, "\n  "+cli+" devices approve "+id+"\n") || !strings.Contains(out, "Paired with "+g.URL()+" as device ") {
				t.Fatalf("pair: code %d\nstdout: %s\nstderr: %s", code, out, errs)
			}
			secrets := deviceSecrets(t, dir)
			assertNoDeviceSecrets(t, "pair", out+errs, secrets)

			// Then every call works on the device token alone, and pair
			// again says it is already paired.
			code, out, errs = run(t, []string{"call", "list_sessions"}, vars, "")
			if code != 0 || !strings.Contains(out, `"count"`) {
				t.Fatalf("call with the device token: code %d\nstdout: %s\nstderr: %s", code, out, errs)
			}
			assertNoDeviceSecrets(t, "call", out+errs, secrets)
			code, out, errs = run(t, []string{"pair"}, vars, "")
			if code != 0 || !strings.HasPrefix(out, "Already paired with ") {
				t.Fatalf("pair again: code %d\nstdout: %s\nstderr: %s", code, out, errs)
			}

			// doctor shows the device id and the token's scopes, not the
			// token.
			dev, err := gateway.LoadDeviceIdentity(dir)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := gateway.GatewayKey(g.URL())
			code, out, errs = run(t, []string{"doctor"}, vars, "")
			wantMode := "  mode: auto (default)\n"
			if gen == gatewaysim.Clawdbot {
				wantMode = "  mode: always (env CLAWGATE_DEVICE_IDENTITY)\n"
			}
			if code != 0 || !strings.Contains(out, "  device: "+dev.ID()+"\n") || !strings.Contains(out, wantMode) ||
				!strings.Contains(out, "  device token for "+key+": held (scopes ") {
				t.Fatalf("doctor: code %d\nstdout: %s\nstderr: %s", code, out, errs)
			}
			assertNoDeviceSecrets(t, "doctor", out+errs, secrets)
			// Tokens held for other gateways are listed too.
			other := map[string]string{"OPENCLAW_GATEWAY_URL": "ws://127.0.0.1:1", "CLAWGATE_STATE_DIR": dir}
			_, out, _ = run(t, []string{"doctor"}, other, "")
			if !strings.Contains(out, "  device token for ws://127.0.0.1:1: none\n") || !strings.Contains(out, "  device token for "+key+": held (scopes ") {
				t.Fatalf("doctor for another gateway:\n%s", out)
			}
			if fi, err := os.Stat(filepath.Dir(gateway.DeviceIdentityPath(dir))); err != nil || fi.Mode().Perm() != 0o700 {
				t.Fatalf("identity directory: %v %v", err, fi.Mode())
			}
		})
	}
}

func TestPairStopsWaiting(t *testing.T) {
	g := gatewaysim.New(gatewaysim.Options{Generation: gatewaysim.OpenClaw, Token: secretToken, Remote: true})
	t.Cleanup(g.Close)
	vars := map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": secretToken, "CLAWGATE_STATE_DIR": t.TempDir()}

	t.Run("pair-wait ends", func(t *testing.T) {
		code, out, errs := run(t, []string{"pair", "--pair-wait", "1s"}, vars, "")
		id := g.PendingPairings()[0].RequestID
		if code != 1 || !strings.Contains(out, "devices approve "+id) ||
			!strings.Contains(errs, "clawgate pair: no approval within 1s (--pair-wait); the gateway drops request "+id) {
			t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errs)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testwait.Ctx(t))
		go func() {
			_, _ = g.WaitPendingPairing(ctx, "")
			time.Sleep(10 * time.Millisecond) // let pair print the request first
			cancel()
		}()
		code, _, errs := invoke(t, invocation{ctx: ctx, args: []string{"pair"}, vars: vars})
		if code != 130 || !strings.Contains(errs, "clawgate pair: interrupted") {
			t.Fatalf("code %d\nstderr: %s", code, errs)
		}
	})
	t.Run("a wrong token is not waited on", func(t *testing.T) {
		bad := map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": "wrong", "CLAWGATE_STATE_DIR": t.TempDir()}
		code, out, errs := run(t, []string{"pair"}, bad, "")
		if code != 1 || out != "" || !strings.Contains(errs, "does not match the gateway's") {
			t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errs)
		}
	})
}

func TestPairRefusesFlagsItIgnores(t *testing.T) {
	// pair runs no tool and always uses the device identity: a flag for
	// those would be silently ignored, so it is refused.
	for _, flag := range []string{"--timeout=5s", "--allow-model=x/*", "--allow-main-session", "--device-identity=never"} {
		code, _, errs := run(t, []string{"pair", flag}, nil, "")
		name, _, _ := strings.Cut(flag, "=")
		if code != 2 || !strings.Contains(errs, name+" has no effect on clawgate pair") {
			t.Errorf("pair %s: code %d, stderr %s", flag, code, errs)
		}
	}
}
