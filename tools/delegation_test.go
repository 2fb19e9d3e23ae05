package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// ask_subagent's delegation against the simulator of both generations:
// private sessions and their removal, modes, the model per run, cost,
// warnings and structured answers. The e2e tier (e2e/delegation_test.go)
// checks the same against the real gateways and the fake model's log.

// deletedKeys lists the keys of the sessions.delete requests the fake got.
func deletedKeys(t *testing.T, e *env) []string {
	t.Helper()
	var keys []string
	for _, r := range e.fake.RequestsFor("sessions.delete") {
		var p struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(r.Params, &p); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p.Key)
	}
	return keys
}

// ask runs ask_subagent and fails the test on a tool error.
func ask(t *testing.T, e *env, args map[string]any) tools.AskSubagentOutput {
	t.Helper()
	var out tools.AskSubagentOutput
	if res := e.call(t, testwait.Ctx(t), "ask_subagent", args, &out); res.IsError {
		t.Fatalf("ask_subagent %v: %s", args, text(res))
	}
	return out
}

// Each call without session_key runs in a fresh private session, labelled,
// and removed once the answer is out; two calls never share one.
func TestDelegationPrivateSessions(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			first := ask(t, e, map[string]any{"message": "first"})
			second := ask(t, e, map[string]any{"message": "second"})
			for _, out := range []tools.AskSubagentOutput{first, second} {
				gotwant.Error(t, fmt.Sprintf("%+v", out),
					gotwant.That("session_key", tools.IsPrivateSession(out.SessionKey), out.SessionKey, "agent:main:subagent:clawgate-<10 hex>"),
					gotwant.Eq("session_kept", out.SessionKept, false),
					gotwant.Eq("mode", out.Mode, "agent"))
				if err := e.fake.WaitSessionGone(testwait.Ctx(t), out.SessionKey); err != nil {
					t.Errorf("private session %s was not removed: %v", out.SessionKey, err)
				}
			}
			if first.SessionKey == second.SessionKey {
				t.Fatalf("two calls shared the session %s", first.SessionKey)
			}
			for _, r := range e.fake.Runs() {
				if r.Label != "clawgate subagent" {
					t.Errorf("run %s in %s has label %q, want \"clawgate subagent\"", r.RunID, r.SessionKey, r.Label)
				}
			}
			if got := deletedKeys(t, e); len(got) != 2 {
				t.Errorf("sessions.delete for %q, want exactly the two private sessions", got)
			}
		})
	}
}

// A named session is continued and never removed; keep_session keeps a
// private one.
func TestDelegationKeptSessions(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			named := ask(t, e, map[string]any{"message": "continue the thread", "session_key": "agent:main:analysis-daily"})
			kept := ask(t, e, map[string]any{"message": "keep me", "keep_session": true})
			gotwant.Error(t, fmt.Sprintf("named %+v", named),
				gotwant.Eq("session_key", named.SessionKey, "agent:main:analysis-daily"),
				gotwant.Eq("session_kept", named.SessionKept, true))
			gotwant.Error(t, fmt.Sprintf("kept %+v", kept),
				gotwant.That("session_key", tools.IsPrivateSession(kept.SessionKey), kept.SessionKey, "a private session"),
				gotwant.Eq("session_kept", kept.SessionKept, true))
			// A third call ends after both: its removal is the only one.
			third := ask(t, e, map[string]any{"message": "third"})
			if err := e.fake.WaitSessionGone(testwait.Ctx(t), third.SessionKey); err != nil {
				t.Fatal(err)
			}
			if got := deletedKeys(t, e); len(got) != 1 || got[0] != third.SessionKey {
				t.Errorf("sessions.delete for %q, want only %s", got, third.SessionKey)
			}
			for _, key := range []string{named.SessionKey, kept.SessionKey} {
				if _, ok := e.fake.Session(key); !ok {
					t.Errorf("session %s is gone", key)
				}
			}
		})
	}
}

// The private session is removed whatever the run's outcome: a run that
// fails, and a run that times out (on Clawdbot, which cannot abort a run,
// the removal is what stops it).
func TestDelegationRemovedAfterFailureAndTimeout(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			ctx := testwait.Ctx(t)
			// A failing run: the gateway answers the run with an error.
			e.fake.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				_ = c.ReplyError(req.ID, gatewaysim.ErrorShape{Code: "UNAVAILABLE", Message: "model provider down"})
			})
			res := e.call(t, ctx, "ask_subagent", map[string]any{"message": "fail"}, nil)
			if !res.IsError || !strings.Contains(text(res), "model provider down") {
				t.Fatalf("failing run: %s", text(res))
			}
			e.fake.Handle("agent", nil)
			res = e.call(t, ctx, "ask_subagent", map[string]any{"message": "[[delay=30]] slow", "timeout_seconds": 1}, nil)
			if !res.IsError || !strings.Contains(text(res), "timed out") {
				t.Fatalf("slow run: %s", text(res))
			}
			runs := e.fake.Runs()
			if len(runs) != 1 {
				t.Fatalf("runs %+v", runs)
			}
			if _, err := e.fake.WaitAborted(ctx, runs[0].RunID); err != nil {
				t.Errorf("the timed-out run goes on on the gateway: %v", err)
			}
			if err := e.fake.WaitFor(ctx, "two private sessions removed", func() bool { return len(e.fake.RequestsFor("sessions.delete")) >= 2 }); err != nil {
				t.Fatal(err)
			}
			for _, key := range deletedKeys(t, e) {
				if !tools.IsPrivateSession(key) {
					t.Errorf("removed %s, which clawgate did not create", key)
				}
			}
			if err := e.fake.WaitSessionGone(ctx, runs[0].SessionKey); err != nil {
				t.Error(err)
			}
		})
	}
}

// The modes map to OpenClaw's agent params; mode model stores nothing, so
// there is nothing to remove.
func TestDelegationModeParams(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	for _, tc := range []struct {
		mode, promptMode, bootstrap string
		modelRun                    bool
	}{
		{"agent", "", "", false},
		{"light", "minimal", "lightweight", false},
		{"model", "none", "", true},
	} {
		out := ask(t, e, map[string]any{"message": "mode " + tc.mode, "mode": tc.mode})
		run, err := e.fake.WaitRunOf(testwait.Ctx(t), out.SessionKey)
		if err != nil {
			t.Fatal(err)
		}
		gotwant.Error(t, fmt.Sprintf("mode %s: %+v", tc.mode, run),
			gotwant.Eq("mode", out.Mode, tc.mode),
			gotwant.Eq("text", out.Text, "FAKE-REPLY: you said <<mode "+tc.mode+">>"),
			gotwant.Eq("promptMode", run.PromptMode, tc.promptMode),
			gotwant.Eq("bootstrapContextMode", run.BootstrapContextMode, tc.bootstrap),
			gotwant.Eq("modelRun", run.ModelRun, tc.modelRun),
			gotwant.Eq("session_kept", out.SessionKept, false))
		if tc.modelRun {
			if _, ok := e.fake.Session(out.SessionKey); ok {
				t.Errorf("mode model stored the session %s", out.SessionKey)
			}
			// The removals of the two earlier calls' sessions are all there
			// are (waited for, so a late removal of this one would show).
			if err := e.fake.WaitFor(testwait.Ctx(t), "two removals", func() bool { return len(e.fake.RequestsFor("sessions.delete")) >= 2 }); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(deletedKeys(t, e), " "), out.SessionKey) {
				t.Errorf("mode model removed a session it never stored")
			}
		}
	}
}

// Clawdbot has mode agent only: the others are refused with the modes it
// has, before anything reaches the gateway; and no request to it ever
// carries a protocol 4 field (its agent schema is closed).
func TestDelegationOnClawdbot(t *testing.T) {
	e := setup(t, gatewaysim.Clawdbot, tools.Config{})
	for _, mode := range []string{"light", "model"} {
		res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "mode": mode}, nil)
		want := `mode "` + mode + `" is not available on this gateway (Clawdbot`
		if !res.IsError || !strings.Contains(text(res), want) || !strings.Contains(text(res), `it supports mode "agent" only`) {
			t.Errorf("mode %s: %s", mode, text(res))
		}
	}
	if n := len(e.fake.RequestsFor("agent")) + len(e.fake.RequestsFor("sessions.patch")); n != 0 {
		t.Fatalf("%d requests for refused modes reached the gateway", n)
	}
	out := ask(t, e, map[string]any{"message": "on a model", "model": "fake/fake-echo", "extra_system_prompt": "be brief"})
	if out.Model != "fake/fake-echo" || len(out.Warnings) != 0 {
		t.Errorf("%+v", out)
	}
	for _, r := range e.fake.RequestsFor("agent") {
		var p map[string]any
		if err := json.Unmarshal(r.Params, &p); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"model", "provider", "modelRun", "promptMode", "bootstrapContextMode"} {
			if _, ok := p[k]; ok {
				t.Errorf("a Clawdbot agent request carries %q: %s", k, r.Params)
			}
		}
	}
}

// Arguments that contradict each other are refused before anything is sent.
func TestDelegationArgumentRefusals(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"message": "x", "mode": "model", "session_key": "agent:main:t"}, `mode "model" keeps no history, so it cannot continue session_key`},
		{map[string]any{"message": "x", "mode": "model", "keep_session": true}, `mode "model" stores no session, so there is nothing to keep`},
		{map[string]any{"message": "x", "session_key": "agent:main:t", "keep_session": false}, "clawgate never removes a session_key it was given"},
		{map[string]any{"message": "x", "output_schema": map[string]any{"type": "integr"}}, "output_schema is not a valid JSON Schema"},
		{map[string]any{"message": "x", "output_schema": map[string]any{"$ref": "https://example.com/s.json"}}, "output_schema"},
	} {
		res := e.call(t, testwait.Ctx(t), "ask_subagent", tc.args, nil)
		if !res.IsError || !strings.Contains(text(res), tc.want) {
			t.Errorf("%v: %s", tc.args, text(res))
		}
	}
	if n := len(e.fake.Requests()); n > 0 {
		for _, r := range e.fake.Requests() {
			if r.Method != "connect" {
				t.Errorf("a refused call sent %s", r.Method)
			}
		}
	}
}

// The model goes with the run on OpenClaw: a named session's stored model
// stays as it was.
func TestDelegationModelPerRun(t *testing.T) {
	e := setupFake(t, gatewaysim.Options{Token: token, Models: []gatewaysim.Model{
		{Ref: "anthropic/claude-haiku-4-5", Name: "Claude Haiku 4.5", Alias: "haiku"}}}, tools.Config{})
	key := "agent:main:thread"
	ask(t, e, map[string]any{"message": "default model", "session_key": key})
	out := ask(t, e, map[string]any{"message": "cheap", "session_key": key, "model": "haiku"})
	gotwant.Error(t, fmt.Sprintf("%+v", out),
		gotwant.Eq("model", out.Model, "anthropic/claude-haiku-4-5"),
		gotwant.Eq("requested_model", out.RequestedModel, "anthropic/claude-haiku-4-5"),
		gotwant.Eq("warnings", len(out.Warnings), 0))
	if n := len(e.fake.RequestsFor("sessions.patch")); n != 0 {
		t.Errorf("%d sessions.patch requests: the model must go with the run", n)
	}
	after := ask(t, e, map[string]any{"message": "no model", "session_key": key})
	if after.Model != "fake/fake-echo" {
		t.Errorf("a later run without model ran on %s: the per-run model stuck to the session", after.Model)
	}
}

// A run served by another model than the requested one (a fallback) is
// reported with a warning, in the result and in its text.
func TestDelegationModelMismatchWarning(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setupFake(t, gatewaysim.Options{Generation: gen, Token: token,
				Models:    []gatewaysim.Model{{Ref: "anthropic/claude-haiku-4-5", Name: "Claude Haiku 4.5", Alias: "haiku"}},
				Fallbacks: map[string]string{"anthropic/claude-haiku-4-5": "fake/fake-echo"}}, tools.Config{})
			var out tools.AskSubagentOutput
			res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "model": "haiku"}, &out)
			if res.IsError {
				t.Fatal(text(res))
			}
			want := "fake/fake-echo served this run, not the requested anthropic/claude-haiku-4-5"
			gotwant.Error(t, fmt.Sprintf("%+v", out),
				gotwant.Eq("model", out.Model, "fake/fake-echo"),
				gotwant.Eq("requested_model", out.RequestedModel, "anthropic/claude-haiku-4-5"),
				gotwant.That("warnings", len(out.Warnings) == 1 && strings.Contains(out.Warnings[0], want), out.Warnings, want),
				gotwant.Contains("text content", text(res), "[clawgate] warning: "+want))
		})
	}
}

// cost_usd is the gateway's: OpenClaw's for a priced model, absent for an
// unpriced one and on Clawdbot (never 0 for "unknown").
func TestDelegationCost(t *testing.T) {
	price := &gatewaysim.Price{Input: 3, Output: 15}
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setupFake(t, gatewaysim.Options{Generation: gen, Token: token, Models: []gatewaysim.Model{
				{Ref: "fake/fake-echo", Name: "Fake Echo", Price: price},
				{Ref: "anthropic/claude-haiku-4-5", Name: "Claude Haiku 4.5"}}}, tools.Config{})
			priced := ask(t, e, map[string]any{"message": "priced"})
			unpriced := ask(t, e, map[string]any{"message": "unpriced", "model": "anthropic/claude-haiku-4-5"})
			runs := e.fake.Runs()
			if gen == gatewaysim.Clawdbot {
				if priced.Usage.CostUSD != nil || unpriced.Usage.CostUSD != nil {
					t.Errorf("Clawdbot reports no cost, got %v / %v", priced.Usage.CostUSD, unpriced.Usage.CostUSD)
				}
				return
			}
			if priced.Usage.CostUSD == nil || runs[0].CostUSD == nil || *priced.Usage.CostUSD != *runs[0].CostUSD || *priced.Usage.CostUSD <= 0 {
				t.Errorf("cost_usd %v, the gateway reported %v", priced.Usage.CostUSD, runs[0].CostUSD)
			}
			if unpriced.Usage.CostUSD != nil {
				t.Errorf("an unpriced model's run has cost_usd %v, want none", *unpriced.Usage.CostUSD)
			}
		})
	}
}

// output_schema: the JSON is found in the reply (bare, fenced, in prose),
// validated and returned; the subagent was told the schema.
func TestDelegationStructuredAnswer(t *testing.T) {
	schema := map[string]any{"type": "object", "required": []string{"total"},
		"properties": map[string]any{"total": map[string]any{"type": "number"}}}
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			for _, reply := range []string{`{"total": 42}`, "```json\n{\"total\": 42}\n```", `Sure! The result is {"total": 42}. Anything else?`} {
				out := ask(t, e, map[string]any{"message": "sum [[reply:" + reply + "]]", "output_schema": schema})
				if string(out.JSON) != `{"total":42}` || out.Text != reply || len(out.Warnings) != 0 {
					t.Errorf("reply %q: json %s text %q warnings %q", reply, out.JSON, out.Text, out.Warnings)
				}
			}
			for _, r := range e.fake.Runs() {
				if !strings.Contains(r.Message, `{"type":"object","required":["total"],"properties":{"total":{"type":"number"}}}`) &&
					!strings.Contains(r.Message, `"required":["total"]`) {
					t.Errorf("the subagent was not given the schema: %q", r.Message)
				}
			}
		})
	}
}

// An answer that does not match gets one repair turn — in the same session
// (agent, light) or as a new self-contained model call (model) — and the
// repaired answer is returned with a warning and the usage of both runs.
func TestDelegationStructuredRepair(t *testing.T) {
	schema := map[string]any{"type": "object", "required": []string{"total"},
		"properties": map[string]any{"total": map[string]any{"type": "number"}}}
	for _, mode := range []string{"agent", "model"} {
		t.Run(mode, func(t *testing.T) {
			e := setup(t, gatewaysim.OpenClaw, tools.Config{})
			// The repair prompt has no reply directive: answer it with valid JSON.
			e.fake.Handle("agent", func(c *gatewaysim.Conn, req gatewaysim.Request) {
				var p map[string]any
				_ = json.Unmarshal(req.Params, &p)
				if msg, _ := p["message"].(string); strings.Contains(msg, "was not accepted") {
					p["message"] = `[[reply:{"total": 7}]]`
					req.Params, _ = json.Marshal(p)
				}
				c.Default(req)
			})
			var out tools.AskSubagentOutput
			res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{
				"message": `sum [[reply:{"total": "seven"}]]`, "mode": mode, "output_schema": schema}, &out)
			if res.IsError {
				t.Fatal(text(res))
			}
			runs := e.fake.Runs()
			gotwant.Error(t, fmt.Sprintf("%+v", out),
				gotwant.Eq("json", string(out.JSON), `{"total":7}`),
				gotwant.Eq("runs", len(runs), 2),
				gotwant.That("warnings", len(out.Warnings) == 1 && strings.Contains(out.Warnings[0], "repair turn"), out.Warnings, "one about the repair turn"))
			if len(runs) != 2 {
				return
			}
			if mode == "agent" && runs[1].SessionKey != runs[0].SessionKey {
				t.Errorf("the repair ran in %s, not in the run's session %s", runs[1].SessionKey, runs[0].SessionKey)
			}
			if mode == "model" && !runs[1].ModelRun {
				t.Errorf("the repair of a model-mode call was not a model run")
			}
			first := e.fake.RequestsFor("agent")[1]
			if !strings.Contains(string(first.Params), "/total") {
				t.Errorf("the repair request does not name the problem: %s", first.Params)
			}
		})
	}
}

// An answer that still does not match after the repair turn is an error
// listing the problems and the raw text.
func TestDelegationStructuredFailure(t *testing.T) {
	schema := map[string]any{"type": "object", "required": []string{"total"},
		"properties": map[string]any{"total": map[string]any{"type": "number"}}}
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": `sum [[reply:{"total": "many"}]]`, "output_schema": schema}, nil)
			got := text(res)
			if !res.IsError || !strings.Contains(got, "does not match output_schema, also after one repair turn") || !strings.Contains(got, "The last answer was:") {
				t.Fatalf("%s", got)
			}
			if n := len(e.fake.Runs()); n != 2 {
				t.Errorf("%d runs, want the run and one repair", n)
			}
		})
	}
}

// Cancelling a call removes its private session too, and on Clawdbot,
// which cannot abort an agent run, that removal is what stops the run.
func TestDelegationCancelRemovesAndStops(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			ctx, cancel := context.WithCancel(testwait.Ctx(t))
			var once sync.Once
			e.c.OnNotification(func(n mcp.JSONRPCNotification) {
				if n.Method == "notifications/progress" {
					once.Do(cancel)
				}
			})
			req := mcp.CallToolRequest{}
			req.Params.Name = "ask_subagent"
			req.Params.Arguments = map[string]any{"message": fmt.Sprintf("[[delay=%.0f]] never finishes", testwait.LongTimeout.Seconds())}
			req.Params.Meta = &mcp.Meta{ProgressToken: "cancel-me"}
			_, _ = e.c.CallTool(ctx, req)
			runs := e.fake.Runs()
			if len(runs) != 1 {
				t.Fatalf("runs %+v", runs)
			}
			if _, err := e.fake.WaitAborted(testwait.Ctx(t), runs[0].RunID); err != nil {
				t.Errorf("the cancelled run goes on on the gateway: %v", err)
			}
			if err := e.fake.WaitSessionGone(testwait.Ctx(t), runs[0].SessionKey); err != nil {
				t.Errorf("the cancelled call's private session is still there: %v", err)
			}
		})
	}
}

// Private runs go on Clawdbot's subagent lane (8 at once instead of the
// main lane's 4); named sessions and OpenClaw runs get no lane.
func TestDelegationLane(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			ask(t, e, map[string]any{"message": "private"})
			ask(t, e, map[string]any{"message": "named", "session_key": "agent:main:thread"})
			for _, r := range e.fake.Runs() {
				var p map[string]any
				if err := json.Unmarshal(r.Params, &p); err != nil {
					t.Fatal(err)
				}
				want := ""
				if gen == gatewaysim.Clawdbot && tools.IsPrivateSession(r.SessionKey) {
					want = "subagent"
				}
				if got, _ := p["lane"].(string); got != want {
					t.Errorf("run in %s: lane %q, want %q", r.SessionKey, got, want)
				}
			}
		})
	}
}
