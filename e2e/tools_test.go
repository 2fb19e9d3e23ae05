//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// TestInitializeAndToolsList checks the MCP handshake and that the binary
// lists exactly the tool definitions of testdata/tools (the golden files).
func TestInitializeAndToolsList(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		args, env := r.connect()
		c, init := startClawgate(t, serverOpts{args: args, env: env})
		if init.ProtocolVersion != "2025-06-18" {
			t.Errorf("protocolVersion %q, want the requested 2025-06-18", init.ProtocolVersion)
		}
		if init.ServerInfo.Name != "clawgate" || init.ServerInfo.Version == "" {
			t.Errorf("serverInfo %+v", init.ServerInfo)
		}
		if _, ok := init.Capabilities["tools"]; !ok {
			t.Errorf("capabilities %v lack tools", init.Capabilities)
		}
		if init.Instructions == "" {
			t.Error("no instructions")
		}
		ctx := ctxFor(t, 10*time.Second)
		listed, err := c.ListTools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range listed {
			names = append(names, tool.Name)
			gotwant.Error(t, fmt.Sprintf("%s: incomplete definition: %s", tool.Name, tool.Raw),
				gotwant.Ne("description", tool.Description, ""),
				gotwant.Ne("inputSchema bytes", len(tool.InputSchema), 0),
				gotwant.Ne("outputSchema bytes", len(tool.OutputSchema), 0),
				gotwant.Ne("annotations", len(tool.Annotations), 0),
			)
			golden, err := os.ReadFile(filepath.Join("..", "testdata", "tools", tool.Name+".json"))
			if err != nil {
				t.Errorf("%s: no golden definition: %v", tool.Name, err)
				continue
			}
			if !jsonEqual(t, golden, tool.Raw) {
				t.Errorf("%s: tools/list differs from testdata/tools/%s.json:\n got %s\nwant %s", tool.Name, tool.Name, tool.Raw, golden)
			}
		}
		slices.Sort(names)
		if want := goldenTools(t, false); !slices.Equal(names, want) {
			t.Errorf("tools %v, want %v", names, want)
		}
	})
}

// TestGatewayStatus checks every field of gateway_status against the real
// gateway.
func TestGatewayStatus(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil))
		if !st.Connected || st.Error != "" {
			t.Fatalf("not connected: %+v", st)
		}
		p := r.gw.Product
		gotwant.Error(t, "gateway_status",
			gotwant.Eq("url", st.URL, r.gw.URL),
			gotwant.Eq("protocol", st.Protocol, p.Protocol),
			gotwant.Eq("server_version", st.ServerVersion, p.ServerVersion),
			gotwant.Eq("read_only", st.ReadOnly, false),
		)
		if !slices.Contains(st.Scopes, "operator.admin") {
			t.Errorf("scopes %v lack operator.admin", st.Scopes)
		}
		if st.SessionCount == nil || *st.SessionCount < 0 {
			t.Errorf("session_count %v", st.SessionCount)
		}
		if st.Defaults == nil || st.Defaults.Model != harness.ModelRef || st.Defaults.ContextWindow != 128000 {
			t.Errorf("defaults %+v, want model %s with 128000 tokens", st.Defaults, harness.ModelRef)
		}
		if st.MainSession == nil {
			t.Errorf("main_session %+v", st.MainSession)
		} else {
			gotwant.Error(t, fmt.Sprintf("main_session %+v", st.MainSession),
				gotwant.Eq("key", st.MainSession.Key, "agent:main:main"),
				gotwant.Eq("context_window", st.MainSession.ContextWindow, 128000),
				gotwant.Eq("model", st.MainSession.Model, harness.ModelRef),
			)
		}
	})
}

// jsonEqual compares two JSON documents semantically. An empty "required"
// list counts as absent: the golden files are written from mcp-go's Go
// types, which add "required": [] that the wire omits.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(dropEmptyRequired(va), dropEmptyRequired(vb))
}

func dropEmptyRequired(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if l, ok := e.([]any); ok && k == "required" && len(l) == 0 {
				delete(v, k)
				continue
			}
			v[k] = dropEmptyRequired(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropEmptyRequired(e)
		}
	}
	return v
}

// TestZeroConfigDiscovery starts clawgate with no --url/--token and no
// token variable: only HOME with the gateway's own JSON5 config file
// (~/.openclaw/openclaw.json or ~/.clawdbot/clawdbot.json) that has a
// comment, trailing commas, unquoted keys, single quotes and the token as
// ${VAR}. clawgate must find and reach the gateway from that alone.
func TestZeroConfigDiscovery(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		home := filepath.Join(s.testDir(t), "home")
		dir, file := ".openclaw", "openclaw.json"
		if r.gw.Product.Name == harness.Clawdbot.Name {
			dir, file = ".clawdbot", "clawdbot.json"
		}
		path := filepath.Join(home, dir, file)
		config := fmt.Sprintf(`// %s gateway config, as a user writes it (JSON5)
{
  gateway: {
    mode: 'local',
    port: %d,
    bind: "loopback", /* 127.0.0.1 and [::1] */
    auth: {
      mode: "token",
      token: "${E2E_GATEWAY_TOKEN}",
    },
  },
}
`, r.gw.Product.Name, r.gw.Port)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"HOME=" + home, "E2E_GATEWAY_TOKEN=" + r.gw.Token}

		c, _ := startClawgate(t, serverOpts{home: home, env: env[1:]})
		st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil))
		if !st.Connected || st.URL != r.gw.URL || st.Protocol != r.gw.Product.Protocol {
			t.Fatalf("gateway_status %+v, want connected to %s with protocol %d", st, r.gw.URL, r.gw.Product.Protocol)
		}

		// doctor explains where each setting came from, without the secret.
		out, errOut, code := runClawgate(t, env, "doctor")
		if code != 0 {
			t.Fatalf("doctor exited %d:\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{path, r.gw.URL, "Healthy"} {
			if !strings.Contains(out, want) {
				t.Errorf("doctor output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out+errOut, r.gw.Token) {
			t.Errorf("doctor printed the token:\n%s", out)
		}

		// A stale token in the MCP client's environment (a pasted snippet)
		// next to the right one in the config file: clawgate takes the one
		// the product's own CLI would. OpenClaw reads the config file first
		// and works; Clawdbot reads the environment first and is refused,
		// as its CLI would be. doctor says which source won and that the
		// other one holds a different value.
		envVar, wantConnected := "OPENCLAW_GATEWAY_TOKEN", true
		if r.gw.Product.Protocol < 4 {
			envVar, wantConnected = "CLAWDBOT_GATEWAY_TOKEN", false
		}
		stale := append(append([]string(nil), env...), envVar+"=stale-"+randomHex(8))
		c2, _ := startClawgate(t, serverOpts{name: "clawgate-stale-env", home: home, env: stale[1:]})
		st2 := wantOK[tools.GatewayStatusOutput](t, callTool(t, c2, 30*time.Second, "gateway_status", nil))
		if st2.Connected != wantConnected || (!wantConnected && !strings.Contains(st2.Error, "token mismatch")) {
			t.Errorf("with a stale %s: gateway_status %+v, want connected=%v", envVar, st2, wantConnected)
		}
		out, errOut, _ = runClawgate(t, stale, "doctor")
		wantFrom := "token: set (from " + path + ": gateway.auth.token"
		if !wantConnected {
			wantFrom = "token: set (from env " + envVar + ")"
		}
		if !strings.Contains(out, wantFrom) || !strings.Contains(out, "(different value)") {
			t.Errorf("doctor with a stale %s does not say which token won and that the other differs:\n%s", envVar, out)
		}
		if strings.Contains(out+errOut, r.gw.Token) {
			t.Errorf("doctor printed the token:\n%s", out)
		}
	})
}

// TestListModels checks list_models and its provider filter.
func TestListModels(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		// The listing fields only; selectable and price are TestCostListModels'.
		listing := func(ms []tools.ModelOut) []tools.ModelOut {
			out := make([]tools.ModelOut, len(ms))
			for i, m := range ms {
				out[i] = tools.ModelOut{ID: m.ID, Name: m.Name, Provider: m.Provider, Alias: m.Alias, ContextWindow: m.ContextWindow}
			}
			return out
		}
		all := wantOK[tools.ListModelsOutput](t, callTool(t, c, 30*time.Second, "list_models", nil))
		all.Models = listing(all.Models)
		want := tools.ModelOut{ID: harness.ModelRef, Name: harness.ModelName, Provider: "fake", ContextWindow: harness.ModelContextWindow}
		mini := tools.ModelOut{ID: harness.MiniRef, Name: harness.MiniName, Provider: "fake", ContextWindow: harness.MiniContextWindow}
		if r.gw.Product.Protocol >= 4 {
			// OpenClaw lists the alias of agents.defaults.models
			want.Alias, mini.Alias = harness.ModelAlias, harness.MiniAlias
		}
		for _, m := range []tools.ModelOut{want, mini} {
			if !slices.Contains(all.Models, m) {
				t.Fatalf("list_models lacks %+v: %+v", m, all.Models)
			}
		}
		fake := wantOK[tools.ListModelsOutput](t, callTool(t, c, 30*time.Second, "list_models", map[string]any{"provider": "fake"}))
		fake.Models = listing(fake.Models)
		if !slices.Equal(fake.Models, []tools.ModelOut{want, mini}) {
			t.Errorf("provider fake: %+v, want only %+v", fake.Models, []tools.ModelOut{want, mini})
		}
		none := wantOK[tools.ListModelsOutput](t, callTool(t, c, 30*time.Second, "list_models", map[string]any{"provider": "no-such-provider"}))
		if none.Models == nil || len(none.Models) != 0 {
			t.Errorf("unknown provider: %+v, want an empty list", none.Models)
		}
	})
}

// TestPatchSessionModel sets, resolves (alias), clears and refuses models.
func TestPatchSessionModel(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		key := uniqueKey("patch")
		// A key that does not exist is refused unless create is true.
		missing := callTool(t, c, 30*time.Second, "patch_session_model", map[string]any{"session_key": key, "model": harness.ModelRef})
		wantToolError(t, missing, "does not exist", "set create to true")
		if _, ok := rawSessions(t, r)[key]; ok {
			t.Errorf("the refused patch created session %s", key)
		}
		set := wantOK[tools.PatchSessionModelOutput](t, callTool(t, c, 30*time.Second, "patch_session_model",
			map[string]any{"session_key": key, "model": harness.ModelRef, "create": true}))
		if set.SessionKey != key || set.Model == nil || *set.Model != harness.ModelRef {
			t.Errorf("set: %+v", set)
		}
		if _, ok := rawSessions(t, r)[key]; !ok {
			t.Errorf("the gateway has no session %s after the patch", key)
		}

		alias := wantOK[tools.PatchSessionModelOutput](t, callTool(t, c, 30*time.Second, "patch_session_model",
			map[string]any{"session_key": key, "model": "Fake"}))
		if alias.Model == nil || *alias.Model != harness.ModelRef {
			t.Errorf("alias Fake resolved to %v, want %s", alias.Model, harness.ModelRef)
		}

		cleared := callTool(t, c, 30*time.Second, "patch_session_model", map[string]any{"session_key": key, "model": nil})
		if out := wantOK[map[string]any](t, cleared); out["model"] != nil || out["session_key"] != key {
			t.Errorf("clear: %v, want model null", out)
		}

		refused := callTool(t, c, 30*time.Second, "patch_session_model", map[string]any{"session_key": key, "model": "fake/no-such-model"})
		text := wantToolError(t, refused, "model not allowed", "fake/no-such-model")
		if r.gw.Product.Protocol >= 4 && !strings.Contains(text, "Allowed models: "+harness.ModelRef) {
			t.Errorf("refusal does not list the allowed models: %s", text)
		}

		// clawgate's own allowlist refuses before asking the gateway.
		strict := startFor(t, r, "--allow-model", "fake/other-*")
		res := callTool(t, strict, 30*time.Second, "patch_session_model", map[string]any{"session_key": key, "model": harness.ModelRef})
		wantToolError(t, res, "not allowed by this clawgate")
	})
}

// askArgs are ask_subagent arguments for a run in its own session.
func askArgs(message, key string, timeout int) map[string]any {
	return map[string]any{"message": message, "session_key": key, "timeout_seconds": timeout}
}

// TestAskSubagent runs a real agent turn through the gateway to the fake
// model, with a model override and a progressToken, and checks the result
// and the progress notifications.
func TestAskSubagent(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		key, nonce := uniqueKey("ask"), randomHex(8)
		msg := "hello from clawgate e2e " + nonce
		args := askArgs(msg, key, 120)
		args["model"] = harness.ModelRef
		token := "progress-" + nonce
		call, err := c.Go("tools/call", mcptest.CallParams("ask_subagent", args, token))
		if err != nil {
			t.Fatal(err)
		}
		res := waitResult(t, c, call, 2*time.Minute)
		out := wantOK[tools.AskSubagentOutput](t, res)
		wantAskResult(t, out, res.Text(), msg, key,
			gotwant.That("duration_ms", out.DurationMs > 0, out.DurationMs, "more than 0"),
			gotwant.Eq("session_kept", out.SessionKept, true),
			gotwant.Eq("requested_model", out.RequestedModel, harness.ModelRef))
		// Clawdbot has no model per run: it is set on the named session,
		// and the result says that session's stored model changed.
		wantWarnings := 0
		if r.gw.Product.Protocol < 4 {
			wantWarnings = 1
		}
		if len(out.Warnings) != wantWarnings || (wantWarnings == 1 && !strings.Contains(out.Warnings[0], "stored model of session "+key)) {
			t.Errorf("warnings %q, want %d (Clawdbot: the named session's stored model changed)", out.Warnings, wantWarnings)
		}
		if out.Usage.Total <= 0 || out.Usage.Total != out.Usage.Input+out.Usage.Output {
			t.Errorf("usage %+v", out.Usage)
		}
		if _, err := r.fake.WaitRequest(ctxFor(t, time.Second), func(q fakemodel.Request) bool { return strings.Contains(q.UserText, nonce) }); err != nil {
			t.Errorf("the fake model never saw the message: %v", err)
		}

		messages, notes := progressOf(t, c, token) // increasing, checked there
		if all := c.Notifications("notifications/progress"); len(all) != len(notes) {
			t.Errorf("%d progress notifications, %d of them for token %s: want all", len(all), len(notes), token)
		}
		for i, n := range notes {
			if n.At.After(call.At) {
				t.Errorf("progress %q arrived after the result", messages[i])
			}
		}
		t.Logf("progress: %q", messages)
		if !slices.Contains(messages, "run started") {
			t.Errorf("no \"run started\" progress among %q", messages)
		}
	})
}

// TestListSessions lists the session an ask_subagent run used.
func TestListSessions(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		key := uniqueKey("list")
		wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent", askArgs("list me", key, 120)))

		list := wantOK[tools.ListSessionsOutput](t, callTool(t, c, 30*time.Second, "list_sessions", map[string]any{"limit": 100}))
		if list.Count != len(list.Sessions) || list.Count == 0 {
			t.Fatalf("count %d for %d sessions", list.Count, len(list.Sessions))
		}
		if list.Defaults.Model != harness.ModelRef || list.Defaults.ModelProvider != "fake" || list.Defaults.ContextWindow != 128000 {
			t.Errorf("defaults %+v", list.Defaults)
		}
		i := slices.IndexFunc(list.Sessions, func(s tools.SessionInfo) bool { return s.Key == key })
		if i < 0 {
			t.Fatalf("session %s not listed: %+v", key, list.Sessions)
		}
		row := list.Sessions[i]
		wantSource := "default"
		if r.gw.Product.Protocol < 4 {
			wantSource = "last_run"
		}
		gotwant.Error(t, fmt.Sprintf("row %+v", row),
			gotwant.Eq("model", row.Model, harness.ModelRef),
			gotwant.Eq("model_provider", row.ModelProvider, "fake"),
			gotwant.Eq("model_source", row.ModelSource, wantSource),
			gotwant.Eq("context_window", row.ContextWindow, 128000),
			gotwant.Ne("session_id", row.SessionID, ""),
		)
		if ts, err := time.Parse(time.RFC3339, row.UpdatedAt); err != nil || time.Since(ts) > 10*time.Minute {
			t.Errorf("updated_at %q (%v)", row.UpdatedAt, err)
		}

		one := wantOK[tools.ListSessionsOutput](t, callTool(t, c, 30*time.Second, "list_sessions", map[string]any{"limit": 1}))
		if one.Count != 1 || len(one.Sessions) != 1 {
			t.Errorf("limit 1: count %d, %d sessions", one.Count, len(one.Sessions))
		}
		found := wantOK[tools.ListSessionsOutput](t, callTool(t, c, 30*time.Second, "list_sessions",
			map[string]any{"search": strings.TrimPrefix(key, "agent:main:"), "agent_id": "main", "active_minutes": 10}))
		if found.Count != 1 || found.Sessions[0].Key != key {
			t.Errorf("search for %s: %+v", key, found.Sessions)
		}
	})
}
