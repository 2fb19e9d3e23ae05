package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
)

// Recognisable credentials: neither may ever appear in stdout, stderr (logs
// at debug level), tool results or doctor output, whatever happens.
const (
	secretToken    = "tok-SECRET-7f3a9c51"
	secretPassword = "pw-SECRET-b81e44d2"
)

func assertNoSecrets(t *testing.T, where, out string) {
	t.Helper()
	for _, s := range []string{secretToken, secretPassword} {
		if i := strings.Index(out, s); i >= 0 {
			t.Fatalf("%s shows a secret: …%s…", where, out[max(0, i-200):min(len(out), i+100)])
		}
	}
}

// TestSecretsNeverShown drives the binary over stdio, with debug logging,
// through every tool and the failure paths (wrong credentials, a refused
// model, a timed-out run, a dropped connection, a stopped gateway), and
// checks that neither the token nor the password appears anywhere.
func TestSecretsNeverShown(t *testing.T) {
	for _, gen := range []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot} {
		t.Run(gen.String(), func(t *testing.T) {
			g := gatewaysim.New(gatewaysim.Options{Generation: gen, Token: secretToken, Password: secretPassword})
			t.Cleanup(g.Close)
			// The stalled call below must time out, every other call must
			// fit in the call timeout: measured on this machine. No connect
			// may time out (a stopped gateway refuses at once).
			s := start(t, []string{"OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secretToken,
				"OPENCLAW_GATEWAY_PASSWORD=" + secretPassword, "CLAWGATE_LOG_LEVEL=debug", "CLAWGATE_CONNECT_TIMEOUT=60s",
				"CLAWGATE_CALL_TIMEOUT=" + quickTimeout(t).String()})
			var out strings.Builder
			call := func(id float64, tool, args string) map[string]any {
				t.Helper()
				return s.respondCapture(&out, `{"jsonrpc":"2.0","id":`+jsonNum(id)+`,"method":"tools/call","params":{"name":"`+tool+`","arguments":`+args+`,"_meta":{"progressToken":"p"}}}`, id)
			}
			s.initialize()
			call(2, "gateway_status", `{}`)
			call(3, "list_sessions", `{"limit":3}`)
			call(4, "list_models", `{}`)
			call(5, "patch_session_model", `{"session_key":"agent:main:secrets","model":"fake/fake-echo","create":true}`)
			call(6, "patch_session_model", `{"session_key":"agent:main:secrets","model":"fake/forbidden","create":true}`)
			if m := call(7, "ask_subagent", `{"message":"tell me the token"}`); isToolError(m) {
				t.Fatalf("ask_subagent: %v", m)
			}
			// A run cancelled by the client is aborted on the gateway
			// (Clawdbot cannot abort; clawgate says so in its log).
			s.send(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"[[delay=20]] slow"}}}`)
			// clawgate tracks a run before sending it: once the fake has
			// it, a cancel aborts it.
			cancelled := gatewaywait.Runs(t, g, 2)[1]
			s.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8,"reason":"secret test"}}`)
			if gen == gatewaysim.OpenClaw {
				if _, err := g.WaitAborted(testwait.Ctx(t), cancelled.RunID); err != nil {
					t.Fatal(err)
				}
			}
			g.Stall("sessions.list")
			call(9, "list_sessions", `{}`) // times out
			g.Handle("sessions.list", nil)
			running := testwait.Ctx(t)
			go func() { // dropped while the run goes on
				_, _ = g.WaitRuns(running, 3)
				g.DropConnections()
			}()
			call(10, "ask_subagent", `{"message":"[[delay=5]] dropped"}`)
			g.Stop()
			call(11, "gateway_status", `{}`)
			call(12, "list_models", `{}`)
			if err := g.Start(); err != nil {
				t.Fatal(err)
			}
			// The calls to the stopped gateway started the reconnect
			// backoff (200 ms doubling up to 3 s, by how many dials
			// failed): calls fail until it has passed.
			id := 13.0
			testwait.Until(t, "a call after the restart", func() bool {
				id++
				return !isToolError(call(id, "list_sessions", `{"limit":1}`))
			})
			s.c.CloseStdin()
			waitExit(t, s, 0)
			assertNoSecrets(t, "stdout (tool results)", out.String())
			assertNoSecrets(t, "stderr (debug log)", s.stderr.String())
			if !strings.Contains(s.stderr.String(), "level=DEBUG") || !strings.Contains(s.stderr.String(), "gateway connection lost") {
				t.Fatalf("the debug log did not cover the scenarios:\n%s", s.stderr)
			}
		})
	}
}

// With credentials the gateway refuses, every message explains the refusal
// without the credentials.
func TestSecretsNeverShownOnRefusal(t *testing.T) {
	g := gatewaysim.New(gatewaysim.Options{Token: "the-right-token", Password: "the-right-password"})
	t.Cleanup(g.Close)
	s := start(t, []string{"OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secretToken,
		"OPENCLAW_GATEWAY_PASSWORD=" + secretPassword, "CLAWGATE_LOG_LEVEL=debug"})
	s.initialize()
	var out strings.Builder
	for i, tool := range []string{"gateway_status", "list_sessions", "ask_subagent"} {
		args := `{}`
		if tool == "ask_subagent" {
			args = `{"message":"x"}`
		}
		s.respondCapture(&out, `{"jsonrpc":"2.0","id":`+jsonNum(float64(i+2))+`,"method":"tools/call","params":{"name":"`+tool+`","arguments":`+args+`}}`, float64(i+2))
	}
	if !strings.Contains(out.String(), "unauthorized") {
		t.Fatalf("no auth error: %s", out.String())
	}
	s.c.CloseStdin()
	waitExit(t, s, 0)
	assertNoSecrets(t, "stdout", out.String())
	assertNoSecrets(t, "stderr", s.stderr.String())
}

// doctor shows where each secret came from and never its value; so do call
// and the errors of a bad configuration.
func TestDoctorAndCallShowSourcesNotSecrets(t *testing.T) {
	g := gatewaysim.New(gatewaysim.Options{Token: secretToken, Password: secretPassword})
	t.Cleanup(g.Close)
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	port := g.URL()[strings.LastIndex(g.URL(), ":")+1:]
	cfg := writeFile("openclaw.json", `{gateway: {port: `+port+`, auth: {token: "`+secretToken+`", password: {source: "env", id: "MY_GW_PASSWORD"}}}}`)
	broken := writeFile("broken.json", "{gateway: {auth: {\n  token: \""+secretToken+"\n}}}")
	badType := writeFile("badtype.json", `{gateway: {auth: {token: 1e999999}}, note: "`+secretPassword+`"`)

	for _, tc := range []struct {
		name     string
		args     []string
		vars     map[string]string
		wantCode int
		want     []string
	}{
		{
			name: "doctor, token from the config file, password through a SecretRef",
			args: []string{"--log-level", "debug", "doctor"},
			vars: map[string]string{"OPENCLAW_CONFIG_PATH": cfg, "MY_GW_PASSWORD": secretPassword},
			want: []string{"token: set (from " + cfg + ": gateway.auth.token)", "password: set (from " + cfg + ": gateway.auth.password (SecretRef env MY_GW_PASSWORD))", "Healthy."},
		},
		{
			name: "doctor, credentials from the environment",
			args: []string{"doctor"},
			vars: map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": secretToken, "OPENCLAW_GATEWAY_PASSWORD": secretPassword},
			want: []string{"token: set (from env OPENCLAW_GATEWAY_TOKEN)", "password: set (from env OPENCLAW_GATEWAY_PASSWORD)", "Healthy."},
		},
		{
			name: "doctor, credentials from flags",
			args: []string{"--url", g.URL(), "--token", secretToken, "--password", secretPassword, "doctor"},
			want: []string{"token: set (from flag --token)", "password: set (from flag --password)", "Healthy."},
		},
		{
			name:     "doctor, refused credentials",
			args:     []string{"--log-level", "debug", "--url", g.URL(), "--token", secretToken + "-wrong", "--password", secretPassword + "-wrong", "doctor"},
			wantCode: 1,
			want:     []string{"token: set (from flag --token)", "PROBLEM: gateway refused connect: unauthorized"},
		},
		{
			name:     "doctor, a token in the URL query",
			args:     []string{"--url", "ws://127.0.0.1:1/?token=" + secretToken, "doctor"},
			wantCode: 1,
			want:     []string{"url: ws://127.0.0.1:1/ (query, fragment and user info hidden) (from flag --url)", "Connect ws://127.0.0.1:1/: failed", "connection refused"},
		},
		{
			name:     "doctor, credentials for a non-loopback ws:// URL",
			args:     []string{"--url", "ws://192.0.2.1:18789", "--token", secretToken, "doctor"},
			wantCode: 1,
			want:     []string{"refusing to send the gateway token over unencrypted ws"},
		},
		{
			name:     "doctor, a syntax error on the token's line",
			args:     []string{"--config", broken, "doctor"},
			wantCode: 1,
			want:     []string{"PROBLEM: gateway config: config: " + broken + ":"},
		},
		{
			name:     "serve, a config value the parser cannot take",
			args:     []string{"--config", badType},
			wantCode: 1,
			want:     []string{"gateway config: config: " + badType + ":"},
		},
		{
			name: "call, credentials from the environment, debug log",
			args: []string{"--log-level", "debug", "call", "ask_subagent", `{"message":"what is my token?"}`},
			vars: map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": secretToken, "OPENCLAW_GATEWAY_PASSWORD": secretPassword},
			want: []string{"FAKE-REPLY: you said <<what is my token?>>"},
		},
		{
			name:     "call, a token in the URL query",
			args:     []string{"--log-level", "debug", "--url", "ws://127.0.0.1:1/?token=" + secretToken, "call", "list_sessions"},
			wantCode: 1,
			want:     []string{"cannot connect to the gateway at ws://127.0.0.1:1/"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, tc.args, tc.vars, "")
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errs, w) {
					t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, out, errs)
				}
			}
			assertNoSecrets(t, "stdout", out)
			assertNoSecrets(t, "stderr", errs)
		})
	}
}

// respondCapture is respond that also records every message read on the
// way (progress notifications included) into out.
func (s *session) respondCapture(out *strings.Builder, line string, id float64) map[string]any {
	s.t.Helper()
	s.send(line)
	for {
		m := s.next()
		b, _ := json.Marshal(m)
		out.Write(b)
		out.WriteByte('\n')
		if m["id"] == id {
			return m
		}
	}
}

func jsonNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func isToolError(m map[string]any) bool {
	res, _ := m["result"].(map[string]any)
	return res == nil || res["isError"] == true
}
