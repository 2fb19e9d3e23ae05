//go:build e2e

package e2e

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// Delegation (ask_subagent without session_key): a private session per
// call, modes, the model per run, cost, structured answers — checked on the
// real gateways, with the fake model's request log showing what each
// subtask really sent to the model.

// requestFor waits for the fake model's request whose last user text holds
// nonce, until it has ended.
func requestFor(t *testing.T, r *running, nonce string) fakemodel.Request {
	t.Helper()
	req, err := r.fake.WaitRequest(ctxFor(t, 30*time.Second), func(q fakemodel.Request) bool {
		return strings.Contains(q.UserText, nonce) && q.Done()
	})
	if err != nil {
		t.Fatalf("the fake model never answered a request with %s: %v", nonce, err)
	}
	return req
}

// waitSessionGone polls sessions.list (on an independent connection) until
// key is gone: clawgate removes private sessions in the background once the
// answer is out.
func waitSessionGone(t *testing.T, r *running, key string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, ok := rawSessions(t, r)[key]; !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("private session %s is still listed 30 s after its run", key)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDelegationIsolation asks three subtasks in a row without session_key:
// each runs in a private session of its own, removed afterwards, and the
// third request to the model carries nothing of the first two.
func TestDelegationIsolation(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		var nonces []string
		var reqs []fakemodel.Request
		for i := range 3 {
			nonce := randomHex(8)
			nonces = append(nonces, nonce)
			msg := fmt.Sprintf("isolated subtask %d %s", i+1, nonce)
			out := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent",
				map[string]any{"message": msg, "timeout_seconds": 120}))
			gotwant.Error(t, fmt.Sprintf("ask %d: %+v", i+1, out),
				gotwant.Eq("text", out.Text, "FAKE-REPLY: you said <<"+msg+">>"),
				gotwant.That("session_key", tools.IsPrivateSession(out.SessionKey), out.SessionKey, "a private session agent:main:subagent:clawgate-<hex>"),
				gotwant.Eq("session_kept", out.SessionKept, false),
				gotwant.Eq("mode", out.Mode, "agent"),
				gotwant.Eq("model", out.Model, harness.ModelRef))
			reqs = append(reqs, requestFor(t, r, nonce))
			waitSessionGone(t, r, out.SessionKey)
		}
		third := reqs[2]
		for _, earlier := range nonces[:2] {
			for _, u := range third.UserTexts {
				if strings.Contains(u, earlier) {
					t.Errorf("the 3rd request to the model carries the earlier subtask %s: %q", earlier, u)
				}
			}
		}
		gotwant.Error(t, "messages sent to the model", gotwant.Eq("3rd ask's messages", third.Messages, reqs[0].Messages))
		t.Logf("request bytes: 1st %d, 3rd %d; messages %d", reqs[0].BodyBytes, third.BodyBytes, third.Messages)
	})
}

// TestDelegationParallel starts four asks at once, each with a 3 s model
// delay: with a private session each, the gateway must send all four model
// requests before the first one is answered (on one shared session they
// queued one after another).
func TestDelegationParallel(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		const n = 4
		nonces := make([]string, n)
		calls := make([]*mcptest.Call, n)
		for i := range n {
			nonces[i] = randomHex(8)
			call, err := c.Go("tools/call", mcptest.CallParams("ask_subagent",
				map[string]any{"message": "[[delay=3]] parallel " + nonces[i], "timeout_seconds": 120}, ""))
			if err != nil {
				t.Fatal(err)
			}
			calls[i] = call
		}
		keys := map[string]bool{}
		for i, call := range calls {
			out := wantOK[tools.AskSubagentOutput](t, waitResult(t, c, call, 2*time.Minute))
			if !strings.Contains(out.Text, nonces[i]) {
				t.Errorf("ask %d answered %q", i, out.Text)
			}
			keys[out.SessionKey] = true
		}
		if len(keys) != n {
			t.Errorf("%d asks ran in %d sessions, want one each", n, len(keys))
		}
		var reqs []fakemodel.Request
		for _, nonce := range nonces {
			reqs = append(reqs, requestFor(t, r, nonce))
		}
		firstEnd := reqs[0].Ended
		for _, q := range reqs {
			if q.Ended.Before(firstEnd) {
				firstEnd = q.Ended
			}
		}
		for i, q := range reqs {
			if q.Received.After(firstEnd) {
				t.Errorf("ask %d reached the model only after another ask's answer (queued instead of parallel)", i)
			}
			for _, other := range nonces {
				if other != nonces[i] && strings.Contains(strings.Join(q.UserTexts, " "), other) {
					t.Errorf("ask %d's request carries another ask's text %s", i, other)
				}
			}
		}
	})
}

// TestDelegationModes runs one subtask per mode. OpenClaw: "model" sends the
// model the message and little else (no tools, within 1 KiB of the message)
// and stores nothing; "light" keeps the tools but sends a smaller system
// prompt than "agent". Clawdbot refuses "light" and "model", saying which
// modes it supports, and sends nothing to the model.
func TestDelegationModes(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		reqs := map[string]fakemodel.Request{}
		for _, mode := range []string{"agent", "light", "model"} {
			nonce := randomHex(8)
			msg := "one-line subtask in mode " + mode + " " + nonce
			before := rawSessions(t, r)
			res := callTool(t, c, 2*time.Minute, "ask_subagent", map[string]any{"message": msg, "mode": mode, "timeout_seconds": 120})
			if r.gw.Product.Protocol < 4 && mode != "agent" {
				wantToolError(t, res, `mode "`+mode+`" is not available on this gateway`, `it supports mode "agent" only`)
				if _, err := r.fake.WaitRequest(ctxFor(t, time.Second), func(q fakemodel.Request) bool {
					return strings.Contains(q.UserText, nonce)
				}); err == nil {
					t.Errorf("a refused mode %s still reached the model", mode)
				}
				continue
			}
			out := wantOK[tools.AskSubagentOutput](t, res)
			gotwant.Error(t, fmt.Sprintf("mode %s: %+v", mode, out),
				gotwant.Eq("text", out.Text, "FAKE-REPLY: you said <<"+msg+">>"),
				gotwant.Eq("mode", out.Mode, mode),
				gotwant.Eq("session_kept", out.SessionKept, false),
				gotwant.Eq("model", out.Model, harness.ModelRef))
			reqs[mode] = requestFor(t, r, nonce)
			if mode == "model" {
				for key := range rawSessions(t, r) {
					if _, ok := before[key]; !ok && tools.IsPrivateSession(key) {
						t.Errorf("mode model stored a session: %s", key)
					}
				}
			} else {
				waitSessionGone(t, r, out.SessionKey)
			}
			t.Logf("mode %s: %d request bytes, %d messages, %d tools, %d system chars; %s",
				mode, reqs[mode].BodyBytes, reqs[mode].Messages, reqs[mode].Tools, reqs[mode].SystemChars, res.Text())
		}
		if r.gw.Product.Protocol < 4 {
			return
		}
		model, light, agent := reqs["model"], reqs["light"], reqs["agent"]
		gotwant.Error(t, "mode model request",
			gotwant.Eq("tools", model.Tools, 0),
			gotwant.That("bytes", model.BodyBytes <= len("one-line subtask in mode model 0123456789abcdef")+1024, model.BodyBytes, "within 1 KiB of the message"))
		gotwant.Error(t, "mode light request",
			gotwant.That("tools", light.Tools > 0, light.Tools, "the agent's tools"),
			gotwant.That("system chars", light.SystemChars < agent.SystemChars, light.SystemChars, fmt.Sprintf("fewer than mode agent's %d", agent.SystemChars)))
	})
}

// TestDelegationModelAndCost runs a subtask on the cheaper model by its
// alias. OpenClaw: the run is on fake/fake-mini, the cost is the gateway's
// (tokens × the configured price), and no session's stored model changes.
// Clawdbot: the model is set on the private session (also fake-mini), and
// no cost is reported (absent, not 0).
func TestDelegationModelAndCost(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		nonce := randomHex(8)
		out := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent",
			map[string]any{"message": "cheap subtask " + nonce, "model": harness.MiniAlias, "timeout_seconds": 120}))
		gotwant.Error(t, fmt.Sprintf("ask on %s: %+v", harness.MiniAlias, out),
			gotwant.Eq("model", out.Model, harness.MiniRef),
			gotwant.Eq("requested_model", out.RequestedModel, harness.MiniRef),
			gotwant.Eq("warnings", len(out.Warnings), 0))
		req := requestFor(t, r, nonce)
		if req.Model != "fake-mini" {
			t.Errorf("the fake model was asked for %q, want fake-mini", req.Model)
		}
		if r.gw.Product.Protocol < 4 {
			if out.Usage.CostUSD != nil {
				t.Errorf("Clawdbot reports no cost, but the result has cost_usd %v", *out.Usage.CostUSD)
			}
			return
		}
		u := out.Usage
		want := harness.MiniPrice.Cost(int(u.Input), int(u.Output), int(u.CacheRead), int(u.CacheWrite))
		if out.Usage.CostUSD == nil || math.Abs(*out.Usage.CostUSD-want) > 1e-9 {
			t.Errorf("cost_usd %v, want %v (usage %+v at the configured price)", out.Usage.CostUSD, want, out.Usage)
		}
		// A named session keeps its own model: the per-run model leaves it alone.
		key := uniqueKey("named")
		named := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent",
			map[string]any{"message": "named " + nonce, "session_key": key, "model": harness.MiniRef, "timeout_seconds": 120}))
		gotwant.Error(t, fmt.Sprintf("named: %+v", named),
			gotwant.Eq("model", named.Model, harness.MiniRef),
			gotwant.Eq("session_key", named.SessionKey, key),
			gotwant.Eq("session_kept", named.SessionKept, true))
		row := rawSessions(t, r)[key]
		if row == nil || row["model"] != "fake-echo" || row["modelOverrideSource"] != nil {
			t.Errorf("named session %s after a run on %s: model=%v modelOverrideSource=%v, want its default fake-echo and no override",
				key, harness.MiniRef, row["model"], row["modelOverrideSource"])
		}
	})
}

// TestDelegationKeepSession keeps the private session and continues it by
// its key: the second run sees the first.
func TestDelegationKeepSession(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		nonce := randomHex(8)
		first := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent",
			map[string]any{"message": "remember " + nonce, "keep_session": true, "timeout_seconds": 120}))
		gotwant.Error(t, fmt.Sprintf("kept: %+v", first),
			gotwant.That("session_key", tools.IsPrivateSession(first.SessionKey), first.SessionKey, "a private session"),
			gotwant.Eq("session_kept", first.SessionKept, true))
		if _, ok := rawSessions(t, r)[first.SessionKey]; !ok {
			t.Fatalf("kept session %s is not listed", first.SessionKey)
		}
		second := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent",
			map[string]any{"message": "continue " + nonce, "session_key": first.SessionKey, "timeout_seconds": 120}))
		gotwant.Error(t, fmt.Sprintf("continued: %+v", second), gotwant.Eq("session_key", second.SessionKey, first.SessionKey))
		req := requestFor(t, r, "continue "+nonce)
		if !strings.Contains(strings.Join(req.UserTexts, "\n"), "remember "+nonce) {
			t.Errorf("the continued session's request does not carry the first message: %q", req.UserTexts)
		}
		if _, ok := rawSessions(t, r)[first.SessionKey]; !ok {
			t.Errorf("a session continued by key was removed")
		}
	})
}

// TestDelegationStructured asks for JSON matching an output schema: a reply
// that matches comes back as json; one that does not gets one repair turn
// (a second model request that names the problem), then an error listing
// the problems and the raw text.
func TestDelegationStructured(t *testing.T) {
	schema := map[string]any{"type": "object", "required": []string{"total"},
		"properties": map[string]any{"total": map[string]any{"type": "number"}}}
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		nonce := randomHex(8)
		out := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent", map[string]any{
			"message": "add up " + nonce + ` [[reply:Here you are: {"total": 42}]]`, "output_schema": schema, "timeout_seconds": 120}))
		if string(out.JSON) != `{"total":42}` {
			t.Errorf("json %s, want {\"total\":42} (text %q)", out.JSON, out.Text)
		}
		req := requestFor(t, r, nonce)
		if !strings.Contains(req.UserText, `"required":["total"]`) {
			t.Errorf("the subagent was not given the schema: %q", req.UserText)
		}

		bad := randomHex(8)
		res := callTool(t, c, 2*time.Minute, "ask_subagent", map[string]any{
			"message": "add up " + bad + ` [[reply:{"total": "many"}]]`, "output_schema": schema, "timeout_seconds": 120})
		text := wantToolError(t, res, "does not match output_schema", "after one repair turn", "/total")
		var repair []fakemodel.Request
		for _, q := range r.fake.Requests() {
			if strings.Contains(strings.Join(q.UserTexts, "\n"), bad) || strings.Contains(q.UserText, "was not accepted") {
				repair = append(repair, q)
			}
		}
		if len(repair) < 2 {
			t.Errorf("want the first request and a repair request, got %d: %s", len(repair), summarizeRequests(repair))
		}
		t.Logf("final error: %s", text)
	})
}

// TestDelegationCancelStopsRun cancels a private-session ask while the model
// is still thinking: the model call must really end on the gateway — on
// OpenClaw by the abort, on Clawdbot (which cannot abort an agent run) by
// the removal of the private session.
func TestDelegationCancelStopsRun(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		nonce := randomHex(8)
		call, err := c.Go("tools/call", mcptest.CallParams("ask_subagent",
			map[string]any{"message": "[[delay=30]] stop me " + nonce, "timeout_seconds": 120}, "stop-"+nonce))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.fake.WaitRequest(ctxFor(t, 30*time.Second), func(q fakemodel.Request) bool {
			return strings.Contains(q.UserText, nonce)
		}); err != nil {
			t.Fatalf("the run never reached the model: %v", err)
		}
		if err := c.Cancel(call, "e2e: cancelled by the client"); err != nil {
			t.Fatal(err)
		}
		cancelled := time.Now()
		req, err := r.fake.WaitRequest(ctxFor(t, 20*time.Second), func(q fakemodel.Request) bool {
			return strings.Contains(q.UserText, nonce) && q.Done()
		})
		if err != nil || !req.Cancelled {
			t.Fatalf("the model call was not stopped on the gateway: %v %+v", err, req)
		}
		t.Logf("model call stopped %s after notifications/cancelled", req.Ended.Sub(cancelled).Round(time.Millisecond))
		c.Forget(call)
	})
}

// TestDelegationParallelModels runs concurrent asks on different models
// (bare model runs on OpenClaw): each runs on its own model, none on
// another's.
func TestDelegationParallelModels(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		mode := "model"
		if r.gw.Product.Protocol < 4 {
			mode = "agent"
		}
		models := []string{harness.ModelRef, harness.MiniRef, harness.ModelRef, harness.MiniRef}
		calls := make([]*mcptest.Call, len(models))
		for i, m := range models {
			call, err := c.Go("tools/call", mcptest.CallParams("ask_subagent",
				map[string]any{"message": fmt.Sprintf("[[delay=1]] on %s %s", m, randomHex(6)), "mode": mode, "model": m, "timeout_seconds": 120}, ""))
			if err != nil {
				t.Fatal(err)
			}
			calls[i] = call
		}
		outs := make([]tools.AskSubagentOutput, len(models))
		for i, call := range calls {
			outs[i] = wantOK[tools.AskSubagentOutput](t, waitResult(t, c, call, 2*time.Minute))
		}
		for i, out := range outs {
			if out.Model != models[i] || len(out.Warnings) != 0 {
				t.Errorf("ask %d asked for %s, ran on %q with warnings %q", i, models[i], out.Model, out.Warnings)
			}
		}
	})
}
