package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gatewaysim"
)

// The cost and safety limits as a user sets them, through flags and
// environment variables, end to end through `clawgate call`.
func TestLimitsFromFlagsAndEnv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		vars     map[string]string
		wantCode int
		want     string
		// requests the fake must (not) have received
		wantPatches, wantRuns int
		wantScopes            string
	}{
		{
			name: "CLAWGATE_ALLOW_MODELS refuses another model", args: []string{"call", "patch_session_model", `{"session_key":"agent:main:x","model":"fake/fake-echo"}`},
			vars: map[string]string{"CLAWGATE_ALLOW_MODELS": "anthropic/*, openai/gpt-5-mini"}, wantCode: 1,
			want: "not allowed by this clawgate (--allow-model anthropic/*, openai/gpt-5-mini)", wantScopes: "operator.read,operator.write,operator.admin",
		},
		{
			name: "--allow-model (repeated) allows a match", args: []string{"--allow-model", "anthropic/*", "--allow-model", "fake/*", "call", "ask_subagent", `{"message":"hi","model":"fake/fake-echo"}`},
			// OpenClaw takes the model with the run: no session is patched.
			want: "FAKE-REPLY: you said <<hi>>", wantPatches: 0, wantRuns: 1, wantScopes: "operator.read,operator.write,operator.admin",
		},
		{
			name: "--allow-model wins over CLAWGATE_ALLOW_MODELS", args: []string{"--allow-model", "anthropic/*", "call", "ask_subagent", `{"message":"hi","model":"fake/fake-echo"}`},
			vars: map[string]string{"CLAWGATE_ALLOW_MODELS": "fake/*"}, wantCode: 1, want: "not allowed by this clawgate (--allow-model anthropic/*)", wantScopes: "operator.read,operator.write,operator.admin",
		},
		{
			name: "CLAWGATE_READ_ONLY hides the write tools", args: []string{"call", "ask_subagent", `{"message":"hi"}`},
			vars: map[string]string{"CLAWGATE_READ_ONLY": "true"}, wantCode: 2, want: "disabled because this clawgate runs with --read-only",
		},
		{
			name: "--read-only asks only for operator.read", args: []string{"--read-only", "call", "list_sessions", `{"limit":1}`},
			want: `"count": 1`, wantScopes: "operator.read",
		},
		{
			name: "the main session is refused", args: []string{"call", "ask_subagent", `{"message":"hi","session_key":"agent:main:main","model":"fake/fake-echo"}`},
			wantCode: 1, want: "is the gateway's main session", wantScopes: "operator.read,operator.write,operator.admin",
		},
		{
			name: "CLAWGATE_ALLOW_MAIN_SESSION allows it", args: []string{"call", "ask_subagent", `{"message":"hi","session_key":"agent:main:main"}`},
			vars: map[string]string{"CLAWGATE_ALLOW_MAIN_SESSION": "1"}, want: "FAKE-REPLY", wantRuns: 1, wantScopes: "operator.read,operator.write,operator.admin",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := fake(t, gatewaysim.OpenClaw)
			vars := map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": secret}
			for k, v := range tc.vars {
				vars[k] = v
			}
			code, out, errs := run(t, tc.args, vars, "")
			if code != tc.wantCode || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("code %d (want %d)\nstdout: %s\nstderr: %s", code, tc.wantCode, out, errs)
			}
			if n := len(g.RequestsFor("sessions.patch")); n != tc.wantPatches {
				t.Fatalf("%d sessions.patch requests, want %d", n, tc.wantPatches)
			}
			if n := len(g.Runs()); n != tc.wantRuns {
				t.Fatalf("%d runs, want %d", n, tc.wantRuns)
			}
			var scopes []string
			for _, c := range g.Connects() {
				var p struct{ Scopes []string }
				_ = json.Unmarshal(c.Params, &p)
				scopes = append(scopes, p.Scopes...)
			}
			if strings.Join(scopes, ",") != tc.wantScopes {
				t.Fatalf("requested scopes %v, want %q", scopes, tc.wantScopes)
			}
		})
	}
}
