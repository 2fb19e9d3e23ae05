package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/tools"
)

const token = "tools-SECRET-token"

type env struct {
	fake *gatewaysim.Server
	gw   *gateway.Client
	c    *client.Client
}

// setup starts a fake gateway of generation gen, a gateway client for it
// (with mod applied to its options) and an in-process MCP client of a
// server built from cfg.
func setup(t testing.TB, gen gatewaysim.Generation, cfg tools.Config, mod ...func(*gateway.Options)) *env {
	t.Helper()
	return setupFake(t, gatewaysim.Options{Generation: gen, Token: token}, cfg, mod...)
}

// setupFake is setup with the fake's options.
func setupFake(t testing.TB, fo gatewaysim.Options, cfg tools.Config, mod ...func(*gateway.Options)) *env {
	t.Helper()
	fake := gatewaysim.New(fo)
	t.Cleanup(fake.Close)
	o := gateway.Options{URL: fake.URL(), Token: fo.Token, ReadOnly: cfg.ReadOnly, AgentGrace: 200 * time.Millisecond}
	for _, m := range mod {
		m(&o)
	}
	gw, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return &env{fake: fake, gw: gw, c: newInProcess(t, gw, cfg)}
}

// call runs a tool and decodes its structured result into out (if not nil).
func (e *env) call(t *testing.T, ctx context.Context, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := e.c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if out != nil && !res.IsError {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// deref is *p, or "<nil>" for nil.
func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

var gens = []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot}

func TestEveryToolHappyPath(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, gen, tools.Config{})
			ctx := testwait.Ctx(t)

			var st tools.GatewayStatusOutput
			res := e.call(t, ctx, "gateway_status", nil, &st)
			what := fmt.Sprintf("gateway_status: %s %+v", text(res), st)
			gotwant.Fatal(t, what,
				gotwant.Eq("isError", res.IsError, false),
				gotwant.Eq("connected", st.Connected, true),
				gotwant.Eq("protocol", st.Protocol, int(gen)),
				gotwant.That("main_session", st.MainSession != nil, st.MainSession, "set"),
				gotwant.That("defaults", st.Defaults != nil, st.Defaults, "set"),
				gotwant.That("session_count", st.SessionCount != nil, st.SessionCount, "set"),
			)
			gotwant.Fatal(t, what,
				gotwant.Eq("main_session.key", st.MainSession.Key, "agent:main:main"),
				gotwant.Eq("main_session.context_window", st.MainSession.ContextWindow, 128000),
				gotwant.Eq("defaults.model", st.Defaults.Model, "fake/fake-echo"),
				gotwant.Eq("defaults.context_window", st.Defaults.ContextWindow, 128000),
			)

			var ls tools.ListSessionsOutput
			res = e.call(t, ctx, "list_sessions", map[string]any{"limit": 2}, &ls)
			gotwant.Fatal(t, fmt.Sprintf("list_sessions: %s %+v", text(res), ls),
				gotwant.Eq("isError", res.IsError, false),
				gotwant.Eq("count (against the rows)", ls.Count, len(ls.Sessions)),
				gotwant.That("count", ls.Count >= 1 && ls.Count <= 2, ls.Count, "1 to 2 (limit 2)"),
				gotwant.Eq("defaults.model", ls.Defaults.Model, "fake/fake-echo"),
			)
			for _, s := range ls.Sessions {
				if s.Key == "" || s.ContextWindow != 128000 || !strings.Contains(s.Model, "/") {
					t.Fatalf("row without key, context window or provider/model: %+v", s)
				}
				wantSource := "default"
				if gen == gatewaysim.Clawdbot {
					wantSource = "last_run"
				}
				if s.ModelSource != wantSource {
					t.Fatalf("model_source %q, want %q: %+v", s.ModelSource, wantSource, s)
				}
				if s.UpdatedAt != "" {
					if _, err := time.Parse(time.RFC3339, s.UpdatedAt); err != nil {
						t.Fatalf("updated_at %q: %v", s.UpdatedAt, err)
					}
				}
			}

			var lm tools.ListModelsOutput
			res = e.call(t, ctx, "list_models", map[string]any{"provider": "fake"}, &lm)
			what = fmt.Sprintf("list_models: %s %+v", text(res), lm)
			gotwant.Fatal(t, what, gotwant.Eq("isError", res.IsError, false), gotwant.Eq("models", len(lm.Models), 1))
			gotwant.Fatal(t, what,
				gotwant.Eq("models[0].id", lm.Models[0].ID, "fake/fake-echo"),
				gotwant.Eq("models[0].context_window", lm.Models[0].ContextWindow, 128000),
			)

			var pm tools.PatchSessionModelOutput
			res = e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:tools", "model": "fake/fake-echo", "create": true}, &pm)
			gotwant.Fatal(t, fmt.Sprintf("patch: %s %+v", text(res), pm),
				gotwant.Eq("isError", res.IsError, false),
				gotwant.Eq("session_key", pm.SessionKey, "agent:main:tools"),
				gotwant.Eq("model", deref(pm.Model), "fake/fake-echo"),
			)
			res = e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:tools", "model": nil}, &pm)
			if res.IsError || pm.Model != nil {
				t.Fatalf("clear: %s %+v", text(res), pm)
			}

			var as tools.AskSubagentOutput
			res = e.call(t, ctx, "ask_subagent", map[string]any{"message": "summarise this", "model": "fake/fake-echo"}, &as)
			gotwant.Fatal(t, fmt.Sprintf("ask_subagent: %s %+v", text(res), as),
				gotwant.Eq("isError", res.IsError, false),
				gotwant.Eq("text", as.Text, "FAKE-REPLY: you said <<summarise this>>"),
				gotwant.Eq("status", as.Status, "ok"),
				gotwant.That("session_key", tools.IsPrivateSession(as.SessionKey), as.SessionKey, "a private session"),
				gotwant.Eq("session_kept", as.SessionKept, false),
				gotwant.Eq("mode", as.Mode, "agent"),
				gotwant.Ne("run_id", as.RunID, ""),
				gotwant.Eq("provider", as.Provider, "fake"),
				gotwant.Eq("model", as.Model, "fake/fake-echo"),
				gotwant.Eq("requested_model", as.RequestedModel, "fake/fake-echo"),
				gotwant.Ne("usage.total", as.Usage.Total, 0),
			)
			if text(res) != as.Text {
				t.Fatalf("text content %q", text(res))
			}
			// The run used its private session: the model went with the run
			// (OpenClaw) or was patched onto that session (Clawdbot; the two
			// patches before are patch_session_model's).
			runs := e.fake.Runs()
			wantPatches := 2
			if gen == gatewaysim.Clawdbot {
				wantPatches = 3
			}
			if len(runs) != 1 || runs[0].SessionKey != as.SessionKey || len(e.fake.RequestsFor("sessions.patch")) != wantPatches {
				t.Fatalf("runs %+v, %d patches, want %d", runs, len(e.fake.RequestsFor("sessions.patch")), wantPatches)
			}
		})
	}
}

func TestGatewayStatusWhenDown(t *testing.T) {
	c := newInProcess(t, unreachableGateway(t), tools.Config{})
	req := mcp.CallToolRequest{}
	req.Params.Name = "gateway_status"
	res, err := c.CallTool(testwait.Ctx(t), req)
	if err != nil || res.IsError {
		t.Fatalf("%v %v", res, err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var st tools.GatewayStatusOutput
	_ = json.Unmarshal(b, &st)
	if st.Connected || !strings.Contains(st.Error, "Is the gateway running?") || st.URL != "ws://127.0.0.1:1" {
		t.Fatalf("%+v", st)
	}
}

func TestRefusedModelListsAllowedOnes(t *testing.T) {
	for _, tc := range []struct {
		gen  gatewaysim.Generation
		want string
	}{
		{gatewaysim.OpenClaw, "Allowed models: fake/fake-echo"},
		{gatewaysim.Clawdbot, "default model fake/fake-echo is always allowed"},
	} {
		e := setup(t, tc.gen, tools.Config{})
		res := e.call(t, testwait.Ctx(t), "patch_session_model", map[string]any{"session_key": "agent:main:x", "model": "fake/nope", "create": true}, nil)
		if !res.IsError || !strings.Contains(text(res), "model not allowed: fake/nope") || !strings.Contains(text(res), tc.want) {
			t.Fatalf("%s: %s", tc.gen, text(res))
		}
	}
}

func TestAllowModelPolicy(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{AllowModels: tools.ModelPolicy{"anthropic/claude-sonnet-*"}})
	ctx := testwait.Ctx(t)
	res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:x", "model": "fake/fake-echo"}, nil)
	if !res.IsError || !strings.Contains(text(res), "not allowed by this clawgate") {
		t.Fatalf("patch: %s", text(res))
	}
	res = e.call(t, ctx, "ask_subagent", map[string]any{"message": "hi", "model": "fake/fake-echo"}, nil)
	if !res.IsError || !strings.Contains(text(res), "not allowed by this clawgate") {
		t.Fatalf("ask with model: %s", text(res))
	}
	res = e.call(t, ctx, "ask_subagent", map[string]any{"message": "hi"}, nil)
	if !res.IsError || !strings.Contains(text(res), "pass model") {
		t.Fatalf("ask without model: %s", text(res))
	}
	var lm tools.ListModelsOutput
	if res = e.call(t, ctx, "list_models", nil, &lm); res.IsError || len(lm.Models) == 0 {
		t.Fatalf("list_models: %s %+v", text(res), lm)
	}
	for _, m := range lm.Models {
		if m.Selectable == nil || *m.Selectable || m.NotSelectableReason != "allow_model" {
			t.Errorf("%s not marked refused by --allow-model: %+v", m.ID, m)
		}
	}
	if n := len(e.fake.RequestsFor("sessions.patch")) + len(e.fake.RequestsFor("agent")); n != 0 {
		t.Fatalf("%d refused calls reached the gateway", n)
	}
}

func TestReadOnlyMode(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{ReadOnly: true})
	ctx := testwait.Ctx(t)
	list, err := e.c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range list.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	if want := slices.Sorted(slices.Values(tools.Names(true))); !slices.Equal(names, want) || slices.Contains(names, "patch_session_model") || slices.Contains(names, "ask_subagent") {
		t.Fatalf("tools %v, want %v", names, want)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "patch_session_model"
	req.Params.Arguments = map[string]any{"session_key": "agent:main:x", "model": "fake/fake-echo"}
	if _, err := e.c.CallTool(ctx, req); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("write tool in read-only mode: %v", err)
	}
	var st tools.GatewayStatusOutput
	if res := e.call(t, ctx, "gateway_status", nil, &st); res.IsError || !st.ReadOnly || !slices.Equal(st.Scopes, []string{"operator.read"}) {
		t.Fatalf("%s %+v", text(res), st)
	}
}

func TestAskSubagentRefusesMainSession(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	// Every agent's main session, not only the default agent's: another
	// agent calling the tool from its main session deadlocks the same way.
	for _, key := range []string{"agent:main:main", "main", "AGENT:MAIN:MAIN", "agent:work:main", " Agent:Ops:Main ", "agent:a:b:main"} {
		res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "session_key": key}, nil)
		if strings.Contains(key, "a:b") {
			continue // not a main session key: agent "a", session "b:main"
		}
		if !res.IsError || !strings.Contains(text(res), "main session") {
			t.Fatalf("%s: %s", key, text(res))
		}
	}
	if runs := e.fake.Runs(); len(runs) != 1 || runs[0].SessionKey != "agent:a:b:main" {
		t.Fatalf("runs %+v, want only the one in agent:a:b:main", runs)
	}
	if res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "session_key": "agent:work:main"}, nil); !res.IsError ||
		!strings.Contains(text(res), `Leave session_key empty for a fresh private session`) {
		t.Fatalf("another agent's main session: %s", text(res))
	}
	e2 := setup(t, gatewaysim.OpenClaw, tools.Config{AllowMainSession: true})
	if res := e2.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "session_key": "agent:main:main"}, nil); res.IsError {
		t.Fatalf("allowed main session: %s", text(res))
	}
}

func TestAskSubagentProgress(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	var mu sync.Mutex
	var msgs []string
	e.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method != "notifications/progress" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if n.Params.AdditionalFields["progressToken"] != "tok-1" {
			t.Errorf("progress token %v", n.Params.AdditionalFields["progressToken"])
		}
		msgs = append(msgs, n.Params.AdditionalFields["message"].(string))
	})
	req := mcp.CallToolRequest{}
	req.Params.Name = "ask_subagent"
	req.Params.Arguments = map[string]any{"message": "[[delay=0.6]] stream please"}
	req.Params.Meta = &mcp.Meta{ProgressToken: "tok-1"}
	res, err := e.c.CallTool(testwait.Ctx(t), req)
	if err != nil || res.IsError {
		t.Fatalf("%v %s", err, text(res))
	}
	testwait.Until(t, `progress "run started" and "writing: …"`, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(msgs, "run started") && slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "writing: ") })
	})
}

// Cancelling the call once the run is under way (its first progress) aborts
// the run on the gateway, and the call returns at once: well before the
// run (testwait.LongTimeout) or the call's timeout (tools.DefaultTimeout,
// 55 s) could have ended it.
func TestAskSubagentCancelAbortsTheRun(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	ctx, cancel := context.WithCancel(testwait.Ctx(t))
	var cancelled atomic.Int64 // when cancel was called, in Unix nanoseconds
	e.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" && cancelled.CompareAndSwap(0, time.Now().UnixNano()) {
			cancel()
		}
	})
	req := mcp.CallToolRequest{}
	req.Params.Name = "ask_subagent"
	req.Params.Arguments = map[string]any{"message": fmt.Sprintf("[[delay=%.0f]] never finishes", testwait.LongTimeout.Seconds())}
	req.Params.Meta = &mcp.Meta{ProgressToken: "cancel-me"}
	_, _ = e.c.CallTool(ctx, req)
	if cancelled.Load() == 0 {
		t.Fatal("the call returned before its first progress")
	}
	if el := time.Since(time.Unix(0, cancelled.Load())); el > testwait.WellBefore(testwait.LongTimeout) {
		t.Fatalf("the call returned %s after the cancel, not at once", el)
	}
	gatewaywait.OnlyRunAborted(t, e.fake)
}

// timeout_seconds is a wall-clock bound on the tool call: the answer comes
// within timeout_seconds + 1 s, the run is aborted on OpenClaw, and on
// Clawdbot (which cannot abort runs) the error says the run may go on.
func TestAskSubagentTimeout(t *testing.T) {
	for _, tc := range []struct {
		gen  gatewaysim.Generation
		want string
	}{
		{gatewaysim.OpenClaw, "the run was aborted on the gateway"},
		{gatewaysim.Clawdbot, "the run was stopped on the gateway by removing its private session"},
	} {
		e := setup(t, tc.gen, tools.Config{})
		start := time.Now()
		res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "[[delay=20]] slow", "timeout_seconds": 1}, nil)
		el := time.Since(start)
		runs := e.fake.Runs()
		what := fmt.Sprintf("%s: %s after %s", tc.gen, text(res), el)
		gotwant.Fatal(t, what,
			gotwant.Eq("isError", res.IsError, true),
			gotwant.Contains("text", text(res), "timed out after"),
			gotwant.Contains("text", text(res), tc.want),
			gotwant.Eq("runs on the fake", len(runs), 1),
		)
		gotwant.Fatal(t, what, gotwant.Contains("text", text(res), runs[0].RunID))
		if el > 2*time.Second {
			t.Errorf("%s: answered after %s, more than timeout_seconds (1) + 1 s", tc.gen, el)
		}
		if tc.gen == gatewaysim.OpenClaw {
			// The fake marks the run aborted when its goroutine sees the abort.
			gatewaywait.OnlyRunAborted(t, e.fake)
		}
	}
}

// The timeout holds even when the gateway never confirms the abort: the
// call still answers within timeout_seconds + 1 s and says the abort is
// unconfirmed.
func TestAskSubagentTimeoutWithSilentAbort(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	for _, m := range []string{"chat.abort", "sessions.abort"} {
		e.fake.Handle(m, func(*gatewaysim.Conn, gatewaysim.Request) {}) // never answers
	}
	start := time.Now()
	res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "[[delay=20]] slow", "timeout_seconds": 1}, nil)
	el := time.Since(start)
	if !res.IsError || !strings.Contains(text(res), "did not confirm it in time") {
		t.Fatalf("%s after %s", text(res), el)
	}
	if el > 2*time.Second {
		t.Errorf("answered after %s, more than timeout_seconds (1) + 1 s", el)
	}
}

// A timeout that passes while clawgate is still connecting is reported as
// such, within the same bound.
func TestAskSubagentTimeoutWhileConnecting(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{}, func(o *gateway.Options) { o.DialTimeout = time.Minute })
	e.fake.SilentHandshake()
	start := time.Now()
	res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "timeout_seconds": 1}, nil)
	el := time.Since(start)
	if !res.IsError || !strings.Contains(text(res), "timed out after") || !strings.Contains(text(res), "while connecting") {
		t.Fatalf("%s after %s", text(res), el)
	}
	if el > 2*time.Second {
		t.Errorf("answered after %s, more than timeout_seconds (1) + 1 s", el)
	}
}

// Invalid arguments are refused with a sentence naming the tool and the
// argument, before any gateway request (validate_test.go has every case).
func TestInvalidArguments(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"ask_subagent", map[string]any{"message": ""}, "message must be a non-empty string (got an empty string)"},
		{"list_sessions", map[string]any{"limit": "ten"}, `limit must be an integer from 1 to 500 (got the string "ten")`},
		{"patch_session_model", map[string]any{"model": "fake/fake-echo"}, `missing required argument "session_key"`},
		{"list_sessions", map[string]any{"bogus": 1}, `unknown argument "bogus" (list_sessions takes limit, active_minutes, search and agent_id)`},
	} {
		res := e.call(t, testwait.Ctx(t), tc.name, tc.args, nil)
		if want := "Invalid arguments for " + tc.name + ": " + tc.want + "."; !res.IsError || text(res) != want {
			t.Fatalf("%s %v: %q (isError %v), want %q", tc.name, tc.args, text(res), res.IsError, want)
		}
	}
	if len(e.fake.Requests()) != 0 {
		t.Fatalf("invalid calls reached the gateway: %+v", e.fake.Requests())
	}
}

func TestTokenNeverInResults(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{}, func(o *gateway.Options) { o.Token = "wrong-" + token })
	ctx := testwait.Ctx(t)
	for _, name := range []string{"gateway_status", "list_sessions", "list_models"} {
		res := e.call(t, ctx, name, nil, nil)
		b, _ := json.Marshal(res)
		if strings.Contains(string(b), token) {
			t.Fatalf("%s leaked the token: %s", name, b)
		}
		if name != "gateway_status" && !res.IsError {
			t.Fatalf("%s succeeded with a wrong token", name)
		}
	}
}

// A run stopped by its own timeout is reported as a timeout on both
// generations (shapes recorded from the real gateways), a run aborted by a
// client as an abort. The gateway's own timeout is set a second after
// clawgate's, so on Clawdbot, whose timed-out shape is told apart only by
// its duration, clawgate's own deadline comes first: the fake replies 2 s
// after it (and should it still come first, the reply's duration says
// timeout too). On OpenClaw the reply's shape alone tells a timeout from an
// abort, and clawgate's own deadline (testwait.LongTimeout) is far away, so
// the reply comes first however slow the machine.
func TestAskSubagentGatewayTimeoutShapes(t *testing.T) {
	long := int(testwait.LongTimeout / time.Second)
	for _, tc := range []struct {
		gen     gatewaysim.Generation
		timeout int           // timeout_seconds
		after   time.Duration // when the fake sends the final reply
		final   map[string]any
		want    string
	}{
		{gatewaysim.OpenClaw, long, 100 * time.Millisecond, map[string]any{"status": "timeout", "summary": "aborted", "timeoutPhase": "provider",
			"result": map[string]any{"payloads": []any{map[string]any{"text": "Request timed out", "isError": true}}, "meta": map[string]any{}}}, "was stopped on the gateway"},
		{gatewaysim.Clawdbot, 1, 3 * time.Second, map[string]any{"status": "ok", "summary": "completed",
			"result": map[string]any{"payloads": []any{}, "meta": map[string]any{"durationMs": 1000, "aborted": true}}}, "timed out after"},
		{gatewaysim.OpenClaw, long, 100 * time.Millisecond, map[string]any{"status": "timeout", "summary": "aborted", "stopReason": "rpc"}, "was aborted on the gateway"},
	} {
		e := setup(t, tc.gen, tools.Config{})
		sentTimeout := make(chan int, 1)
		e.fake.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
			var p struct {
				IdempotencyKey string
				Timeout        int
			}
			_ = json.Unmarshal(req.Params, &p)
			sentTimeout <- p.Timeout
			go func() {
				_ = c.Reply(req.ID, map[string]any{"runId": p.IdempotencyKey, "status": "accepted", "acceptedAt": 1})
				time.Sleep(tc.after)
				tc.final["runId"] = p.IdempotencyKey
				_ = c.Reply(req.ID, tc.final)
			}()
		})
		res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "slow", "timeout_seconds": tc.timeout}, nil)
		if !res.IsError || !strings.Contains(text(res), tc.want) {
			t.Errorf("%s %v: %s", tc.gen, tc.final["stopReason"], text(res))
		}
		if got := <-sentTimeout; got != tc.timeout+1 {
			t.Errorf("%s: the gateway's own timeout was %d s, want %d (timeout_seconds + 1)", tc.gen, got, tc.timeout+1)
		}
	}
}

// patch_session_model refuses a key that does not exist (a typo would
// silently create a session), naming the closest existing keys, unless
// create is true; existing keys work in their canonical and short forms.
func TestPatchSessionModelUnknownKey(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			ctx := testwait.Ctx(t)
			// A run in a named session creates agent:main:subagent.
			if res := e.call(t, ctx, "ask_subagent", map[string]any{"message": "make the session", "session_key": "agent:main:subagent"}, nil); res.IsError {
				t.Fatal(text(res))
			}
			patches := len(e.fake.RequestsFor("sessions.patch"))
			res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:subagnet", "model": "fake/fake-echo"}, nil)
			if !res.IsError || !strings.Contains(text(res), `session "agent:main:subagnet" does not exist (did you mean "agent:main:subagent"?)`) ||
				!strings.Contains(text(res), "set create to true") {
				t.Fatalf("typo: %s", text(res))
			}
			res = e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "zzzzzzzzzzzzzzzzzz", "model": nil}, nil)
			if !res.IsError || !strings.Contains(text(res), "does not exist (list_sessions shows the existing keys)") {
				t.Fatalf("far off: %s", text(res))
			}
			if n := len(e.fake.RequestsFor("sessions.patch")); n != patches {
				t.Fatalf("a refused key reached sessions.patch (%d patches, want %d)", n, patches)
			}
			for _, key := range []string{"agent:main:subagent", "AGENT:main:SubAgent", "subagent"} {
				var pm tools.PatchSessionModelOutput
				if res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": key, "model": nil}, &pm); res.IsError {
					t.Fatalf("existing %q: %s", key, text(res))
				}
			}
			var pm tools.PatchSessionModelOutput
			res = e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:brand-new", "model": "fake/fake-echo", "create": true}, &pm)
			if res.IsError || pm.SessionKey != "agent:main:brand-new" {
				t.Fatalf("create: %s %+v", text(res), pm)
			}
			// Now it exists.
			if res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:brand-new", "model": nil}, nil); res.IsError {
				t.Fatalf("after create: %s", text(res))
			}
		})
	}
}

// Text results count right: "1 session", "1 model".
func TestTextPlurals(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	ctx := testwait.Ctx(t)
	if res := e.call(t, ctx, "list_sessions", map[string]any{"limit": 1}, nil); !strings.HasPrefix(text(res), "1 session (") {
		t.Errorf("list_sessions: %q", text(res))
	}
	if res := e.call(t, ctx, "list_models", nil, nil); !strings.HasPrefix(text(res), "1 model: ") {
		t.Errorf("list_models: %q", text(res))
	}
}

// list_sessions says whether a session's model is its own override or the
// gateway default (OpenClaw); Clawdbot rows only show the last run's model.
func TestListSessionsModelSource(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	ctx := testwait.Ctx(t)
	if res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:src", "model": "fake/fake-echo", "create": true}, nil); res.IsError {
		t.Fatal(text(res))
	}
	var ls tools.ListSessionsOutput
	if res := e.call(t, ctx, "list_sessions", map[string]any{"search": "src"}, &ls); res.IsError || ls.Count != 1 {
		t.Fatalf("%s %+v", text(res), ls)
	}
	if s := ls.Sessions[0]; s.ModelSource != "override" || s.Model != "fake/fake-echo" {
		t.Fatalf("after a patch: %+v", s)
	}
	if res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:src", "model": nil}, nil); res.IsError {
		t.Fatal(text(res))
	}
	if res := e.call(t, ctx, "list_sessions", map[string]any{"search": "src"}, &ls); res.IsError || ls.Sessions[0].ModelSource != "default" {
		t.Fatalf("after clearing: %s %+v", text(res), ls)
	}
}
