package gatewaysim

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
)

// The issue-12 behaviours: model runs, the light mode, labels, fallbacks,
// prices and cost, sessions.delete, models.list selection policy,
// config.get. The values asserted come from the recordings' "usage-cost",
// "agent-modes", "agent-label", "agent-cost", "sessions-delete",
// "models-caps", "config-get" and "fallback" scenarios.

var miniPrice = &Price{Input: 0.25, Output: 1.25, CacheRead: 0.025, CacheWrite: 0.3}

// pricedModels is a catalog like the recording gateways': a priced model, a
// model without a cost entry, the default model left unlisted (cost 0).
var pricedModels = []Model{
	{Ref: "fake/fake-mini", Name: "Fake Mini", Alias: "Mini", ContextWindow: 64000, Price: miniPrice},
	{Ref: "fake/fake-free", Name: "Fake Free", ContextWindow: 32000},
}

// agentMeta returns result.meta.agentMeta of a final agent reply.
func agentMeta(final obj) obj {
	return sub(sub(sub(sub(final, "payload"), "result"), "meta"), "agentMeta")
}

// resultMeta returns result.meta of a final agent reply.
func resultMeta(final obj) obj { return sub(sub(sub(final, "payload"), "result"), "meta") }

// runFinal starts an agent run and returns its accepted and final replies.
func runFinal(t *testing.T, c *testClient, id string, params obj) (obj, obj) {
	t.Helper()
	params["idempotencyKey"] = id
	acc := c.startRun(id, params)
	if acc["ok"] != true {
		t.Fatalf("agent %s refused: %s", id, errMsg(acc))
	}
	return acc, c.final(id)
}

// listRow returns the sessions.list row of key ("" row: none).
func listRow(t *testing.T, c *testClient, key string) obj {
	t.Helper()
	res := c.request("sessions.list", obj{"search": key})
	rows, _ := sub(res, "payload")["sessions"].([]any)
	for _, x := range rows {
		if r, _ := x.(obj); str(r, "key") == key {
			return r
		}
	}
	return nil
}

func num64(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case json.Number:
		f, _ := t.Float64()
		return f
	}
	return -1
}

func TestFakeReplyMarkers(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString([]byte("line one\nline \"two\" ]] <ok>"))
	std := base64.StdEncoding.EncodeToString([]byte("{\"a\":1}??>"))
	for _, tc := range []struct{ msg, want string }{
		{`Answer: [[reply:{"answer": 42, "note": "a]b"}]] and more`, `{"answer": 42, "note": "a]b"}`}, // recorded
		{"please [[reply64:" + b64 + "]]", "line one\nline \"two\" ]] <ok>"},                          // recorded
		{"std [[reply64:" + std + "]]", "{\"a\":1}??>"},
		{"both [[reply:first]] [[reply64:" + b64 + "]]", "line one\nline \"two\" ]] <ok>"}, // reply64 wins, like reply_for
		{"multi [[reply:a\nb]] c", "a\nb"},
		{"plain [[delay=0]] text", "FAKE-REPLY: you said <<plain [[delay=0]] text>>"},
		{"hello  there\nfriend\n\nsecond", "FAKE-REPLY: you said <<hello there friend>>"},
		{"[[reply:]]", ""},
	} {
		if got := fakeReply(tc.msg); got != tc.want {
			t.Errorf("fakeReply(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestPriceCostLikeTheGateways(t *testing.T) {
	// Recorded costUsd / usage.cost values for fake-mini (input 10 tokens).
	for _, tc := range []struct {
		g      Generation
		output int
		want   float64
	}{
		{OpenClaw, 5, 8.750000000000001e-06},
		{OpenClaw, 4, 7.500000000000001e-06},
		{OpenClaw, 6, 1e-05},
		{OpenClaw, 7, 1.1249999999999999e-05},
		{OpenClaw, 13, 1.875e-05},
		{Clawdbot, 5, 8.75e-06},
	} {
		if got := miniPrice.cost(tc.g, 10, tc.output, 0, 0).total; got != tc.want {
			t.Errorf("%v: 10 in / %d out costs %v, want %v (recorded)", tc.g, tc.output, got, tc.want)
		}
	}
}

func TestModelRun(t *testing.T) {
	srv := newServer(t, Options{Models: pricedModels})
	c, _ := connected(t, srv, "test-token", nil)
	const key = "agent:main:subagent:clawgate-0123456789"
	acc, fin := runFinal(t, c, "mr-1", obj{"message": `go [[reply:{"ok":true}]]`, "sessionKey": key,
		"modelRun": true, "promptMode": "none", "model": "Mini"})
	am, meta := agentMeta(fin), resultMeta(fin)
	tr, et := sub(am, "terminalReceipt"), sub(meta, "executionTrace")
	want := miniPrice.cost(OpenClaw, 10, 1, 0, 0).total
	gotwant.Error(t, "model run final: "+jsonStr(fin),
		gotwant.Eq("accepted sessionKey", str(sub(acc, "payload"), "sessionKey"), key),
		gotwant.Eq("status", str(sub(fin, "payload"), "status"), "ok"),
		gotwant.Eq("reply", str(firstObj(sub(sub(fin, "payload"), "result"), "payloads"), "text"), `{"ok":true}`),
		gotwant.HasPrefix("sessionId", str(am, "sessionId"), "internal-session-effects-mr-1-"),
		gotwant.HasPrefix("sessionFile", str(am, "sessionFile"), "agent:main:internal-session-effects:mr-1-"),
		gotwant.Eq("model", str(am, "provider")+"/"+str(am, "model"), "fake/fake-mini"),
		gotwant.Eq("costUsd", num64(am["costUsd"]), want),
		gotwant.Eq("usage.cost.total", num64(sub(sub(am, "usage"), "cost")["total"]), want),
		gotwant.Eq("requested", jsonStr(tr["requested"]), `{"model":"fake-mini","provider":"fake"}`),
		gotwant.Eq("fallbackUsed", et["fallbackUsed"], any(false)),
		gotwant.Eq("bridgeCalls", am["bridgeCalls"], nil),
		gotwant.Eq("injectedWorkspaceFiles", jsonStr(sub(meta, "systemPromptReport")["injectedWorkspaceFiles"]), "[]"),
	)
	if evs := runEvents(c, "mr-1"); len(evs) != 0 {
		t.Errorf("a model run streams no events (recorded), got %s", eventKinds(evs))
	}
	if row := listRow(t, c, key); row != nil {
		t.Errorf("a model run stores nothing, sessions.list shows %s", jsonStr(row))
	}
	if _, ok := srv.Session(key); ok {
		t.Error("Session: the model run's key is stored")
	}
	hist := sub(c.request("chat.history", obj{"sessionKey": key}), "payload")
	gotwant.Error(t, "chat.history of the model run's key: "+jsonStr(hist),
		gotwant.Eq("messages", jsonStr(hist["messages"]), "[]"),
		gotwant.Eq("sessionInfo.key", str(sub(hist, "sessionInfo"), "key"), key),
		gotwant.Eq("deltaCursor", hist["deltaCursor"], nil),
	)
	run, err := srv.WaitRunDone(testwait.Ctx(t), "mr-1")
	if err != nil {
		t.Fatal(err)
	}
	var params map[string]any
	_ = json.Unmarshal(run.Params, &params)
	gotwant.Error(t, "RunInfo", gotwant.Eq("ModelRun", run.ModelRun, true), gotwant.Eq("PromptMode", run.PromptMode, "none"),
		gotwant.Eq("RequestedModel", run.RequestedModel, "Mini"), gotwant.Eq("Model", run.Model, "fake/fake-mini"),
		gotwant.Eq("SessionKey", run.SessionKey, key), gotwant.Eq("Params.modelRun", params["modelRun"], any(true)),
		gotwant.That("CostUSD", run.CostUSD != nil && *run.CostUSD == want, run.CostUSD, "the reported cost"))

	// Without a session key the accepted reply names none (recorded).
	acc, _ = runFinal(t, c, "mr-2", obj{"message": "x", "modelRun": true, "promptMode": "none"})
	if _, ok := sub(acc, "payload")["sessionKey"]; ok {
		t.Errorf("accepted without a key: %s", jsonStr(acc))
	}
}

func TestAgentModeParams(t *testing.T) {
	srv := newServer(t, Options{})
	c, _ := connected(t, srv, "test-token", nil)
	for _, tc := range []struct {
		params obj
		want   string
	}{
		{obj{"promptMode": "none"}, `INVALID_REQUEST: promptMode="none" requires modelRun=true so the run cannot mutate a durable session.`},
		{obj{"promptMode": "bogus"}, "INVALID_REQUEST: invalid agent params: at /promptMode: must be equal to constant; at /promptMode: must match a schema in anyOf"},
		{obj{"bootstrapContextMode": "bogus"}, "INVALID_REQUEST: invalid agent params: at /bootstrapContextMode: must be equal to constant; at /bootstrapContextMode: must match a schema in anyOf"},
		{obj{"modelRun": "yes"}, "INVALID_REQUEST: invalid agent params: at /modelRun: must be boolean"},
		{obj{"label": ""}, "INVALID_REQUEST: invalid agent params: at /label: must not have fewer than 1 characters"},
		{obj{"label": strings.Repeat("l", 513)}, "INVALID_REQUEST: invalid agent params: at /label: must not have more than 512 characters"},
	} {
		tc.params["message"], tc.params["sessionKey"], tc.params["idempotencyKey"] = "x", "agent:main:bad", "bad"
		if got := errMsg(c.request("agent", tc.params)); got != tc.want {
			t.Errorf("agent %s:\n got %s\nwant %s", jsonStr(tc.params), got, tc.want)
		}
	}
	if runs := srv.Runs(); len(runs) != 0 {
		t.Errorf("refused requests started runs: %+v", runs)
	}

	// Clawdbot's closed schema rejects the new keys (recorded).
	srv3 := newServer(t, Options{Generation: Clawdbot})
	c3, _ := connected(t, srv3, "test-token", nil)
	for _, tc := range []struct {
		params obj
		want   string
	}{
		{obj{"modelRun": true, "promptMode": "none"}, "INVALID_REQUEST: invalid agent params: at root: unexpected property 'modelRun'; at root: unexpected property 'promptMode'"},
		// (in the order of the request's keys: these params are sent sorted)
		{obj{"promptMode": "minimal", "bootstrapContextMode": "lightweight"}, "INVALID_REQUEST: invalid agent params: at root: unexpected property 'bootstrapContextMode'; at root: unexpected property 'promptMode'"},
		{obj{"label": strings.Repeat("l", 65)}, "INVALID_REQUEST: invalid agent params: at /label: must NOT have more than 64 characters"},
	} {
		tc.params["message"], tc.params["sessionKey"], tc.params["idempotencyKey"] = "x", "agent:main:bad", "bad"
		if got := errMsg(c3.request("agent", tc.params)); got != tc.want {
			t.Errorf("clawdbot agent %s:\n got %s\nwant %s", jsonStr(tc.params), got, tc.want)
		}
	}
}

func TestLightModeAndLabel(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		const key, label = "agent:main:subagent:clawgate-00000000aa", "clawgate subagent"
		params := obj{"message": "light", "sessionKey": key, "label": label}
		if g == OpenClaw {
			params["promptMode"], params["bootstrapContextMode"] = "minimal", "lightweight"
		}
		_, fin := runFinal(t, c, "light-1", params)
		// Labels are not unique for agent runs (recorded).
		runFinal(t, c, "light-2", obj{"message": "again", "sessionKey": "agent:main:other", "label": label})
		row := listRow(t, c, key)
		checks := []gotwant.Check{
			gotwant.Eq("status", str(sub(fin, "payload"), "status"), "ok"),
			gotwant.Eq("row label", str(row, "label"), label),
			gotwant.Eq("row displayName", str(row, "displayName"), label),
		}
		if g == OpenClaw {
			spr := sub(resultMeta(fin), "systemPromptReport")
			checks = append(checks,
				gotwant.Eq("injectedWorkspaceFiles", jsonStr(spr["injectedWorkspaceFiles"]), "[]"),
				gotwant.Eq("row classification", str(row, "classification"), "subagent"))
		}
		gotwant.Error(t, "light run "+jsonStr(row), checks...)
		info, ok := srv.Session(key)
		run, _ := srv.WaitRunDone(testwait.Ctx(t), "light-1")
		gotwant.Error(t, "Session and RunInfo",
			gotwant.Eq("stored", ok, true), gotwant.Eq("Session.Label", info.Label, label),
			gotwant.Eq("RunInfo.Label", run.Label, label),
			gotwant.Eq("RunInfo.BootstrapContextMode", run.BootstrapContextMode, str(params, "bootstrapContextMode")))
		labelled := c.request("sessions.list", obj{"label": label})
		if n := len(sub(labelled, "payload")["sessions"].([]any)); n != 2 {
			t.Errorf("sessions.list {label} lists %d sessions, want 2", n)
		}
	})
}

func TestFallbacks(t *testing.T) {
	for _, g := range generations {
		t.Run(g.String(), func(t *testing.T) {
			srv := newServer(t, Options{Generation: g, Models: pricedModels,
				Fallbacks: map[string]string{"Fake": "Mini"}})
			c, _ := connected(t, srv, "test-token", nil)
			const key = "agent:main:fb"
			_, fin := runFinal(t, c, "fb-1", obj{"message": "fall back", "sessionKey": key})
			am := agentMeta(fin)
			checks := []gotwant.Check{
				gotwant.Eq("agentMeta model", str(am, "provider")+"/"+str(am, "model"), "fake/fake-mini"),
				gotwant.Eq("reply", str(firstObj(sub(sub(fin, "payload"), "result"), "payloads"), "text"),
					"FAKE-REPLY: you said <<fall back>>"),
			}
			if g == OpenClaw {
				meta := resultMeta(fin)
				tr, et := sub(am, "terminalReceipt"), sub(meta, "executionTrace")
				attempts, _ := et["attempts"].([]any)
				checks = append(checks,
					gotwant.Eq("requested", jsonStr(tr["requested"]), `{"model":"fake-echo","provider":"fake"}`),
					gotwant.Eq("effective", jsonStr(tr["effective"]), `{"model":"fake-mini","provider":"fake","responseModel":"fake-mini"}`),
					gotwant.Eq("rerouted", tr["rerouted"], any(true)),
					gotwant.Eq("fallbackUsed", et["fallbackUsed"], any(true)),
					gotwant.Eq("winner", str(et, "winnerProvider")+"/"+str(et, "winnerModel"), "fake/fake-mini"),
					gotwant.Eq("attempts", len(attempts), 2),
					gotwant.Eq("failed attempt", str(firstObj(et, "attempts"), "result")+" "+str(firstObj(et, "attempts"), "model"),
						"candidate_failed fake-echo"),
					gotwant.Eq("fallbackAttempts model", str(firstObj(am, "fallbackAttempts"), "model"), "fake-echo"),
					gotwant.Eq("costUsd", num64(am["costUsd"]), miniPrice.cost(OpenClaw, 10, 5, 0, 0).total),
				)
				var end obj
				for _, f := range runEvents(c, "fb-1") {
					if p := sub(f, "payload"); str(sub(p, "data"), "phase") == "end" {
						end = sub(p, "data")
					}
				}
				checks = append(checks, gotwant.Eq("route change", str(sub(end, "terminalReply"), "modelRouteChange"),
					"Model route changed: fake/fake-echo \u2192 fake/fake-mini."))
			} else {
				checks = append(checks, gotwant.Eq("costUsd", am["costUsd"], nil),
					gotwant.Eq("row model", str(listRow(t, c, key), "model"), "fake-mini"))
			}
			gotwant.Error(t, "fallback final: "+jsonStr(fin), checks...)
			run, _ := srv.WaitRunDone(testwait.Ctx(t), "fb-1")
			gotwant.Error(t, "RunInfo", gotwant.Eq("Model", run.Model, "fake/fake-mini"),
				gotwant.Eq("FallbackFrom", run.FallbackFrom, DefaultModel))
		})
	}
}

func TestCostAndUsage(t *testing.T) {
	t.Run("openclaw", func(t *testing.T) {
		srv := newServer(t, Options{Models: pricedModels})
		c, _ := connected(t, srv, "test-token", nil)
		_, def := runFinal(t, c, "c-def", obj{"message": "one", "sessionKey": "agent:main:c-def"})
		_, m1 := runFinal(t, c, "c-m1", obj{"message": "one", "sessionKey": "agent:main:c-mini", "model": "Mini"})
		_, m2 := runFinal(t, c, "c-m2", obj{"message": "two two two two", "sessionKey": "agent:main:c-mini", "model": "Mini"})
		_, free := runFinal(t, c, "c-free", obj{"message": "free", "sessionKey": "agent:main:c-free", "model": "fake/fake-free"})
		_, hasFreeCost := agentMeta(free)["costUsd"]
		gotwant.Error(t, "costs",
			gotwant.Eq("default model costUsd", jsonStr(agentMeta(def)["costUsd"]), "0"),
			gotwant.Eq("mini costUsd", num64(agentMeta(m1)["costUsd"]), 7.500000000000001e-06),
			gotwant.Eq("mini costUsd 2", num64(agentMeta(m2)["costUsd"]), 1.1249999999999999e-05),
			gotwant.Eq("unpriced costUsd present", hasFreeCost, false),
			gotwant.Eq("unpriced usage.cost", jsonStr(sub(agentMeta(free), "usage")["cost"]), `{"total":0}`),
			gotwant.Eq("lastCallUsage", jsonStr(agentMeta(m2)["lastCallUsage"]), jsonStr(agentMeta(m2)["usage"])),
			// Recorded: the row's cost is that of its token counts (the last run), not a sum.
			gotwant.Eq("row estimatedCostUsd", num64(listRow(t, c, "agent:main:c-mini")["estimatedCostUsd"]), 1.1249999999999999e-05),
			gotwant.Eq("unpriced row estimatedCostUsd", num64(listRow(t, c, "agent:main:c-free")["estimatedCostUsd"]), 0),
		)
		uc := sub(c.request("usage.cost", obj{}), "payload")
		totals, daily := sub(uc, "totals"), uc["daily"].([]any)
		today := daily[len(daily)-1].(obj)
		first, second := 7.500000000000001e-06, 1.1249999999999999e-05
		wantTotal := first + second // summed in run order, as float64
		gotwant.Error(t, "usage.cost "+jsonStr(totals),
			gotwant.Eq("days", len(daily), 30),
			gotwant.Eq("input", num64(totals["input"]), 40),
			gotwant.Eq("output", num64(totals["output"]), 4+4+7+4), // words of the replies
			gotwant.Eq("totalCost", num64(totals["totalCost"]), wantTotal),
			gotwant.Eq("today totalCost", num64(today["totalCost"]), wantTotal),
			gotwant.Eq("missingCostEntries", num64(totals["missingCostEntries"]), 1),
			gotwant.Eq("missingCostByModel", jsonStr(totals["missingCostByModel"]), `{"fake/fake-free":1}`),
			gotwant.Eq("cache", str(sub(uc, "cacheStatus"), "status"), "fresh"),
		)
		week := sub(c.request("usage.cost", obj{"days": 7}), "payload")
		if n := len(week["daily"].([]any)); n != 7 {
			t.Errorf("usage.cost {days: 7} lists %d days", n)
		}
	})
	t.Run("clawdbot", func(t *testing.T) {
		srv := newServer(t, Options{Generation: Clawdbot, Models: pricedModels})
		c, _ := connected(t, srv, "test-token", nil)
		c.request("sessions.patch", obj{"key": "agent:main:c-mini", "model": "Mini"})
		_, fin := runFinal(t, c, "c-m", obj{"message": "priced run", "sessionKey": "agent:main:c-mini"})
		am := agentMeta(fin)
		_, hasCost := am["costUsd"]
		uc := sub(c.request("usage.cost", obj{}), "payload")
		gotwant.Error(t, "clawdbot cost "+jsonStr(uc),
			gotwant.Eq("costUsd present", hasCost, false),
			gotwant.Eq("usage.cost present", sub(am, "usage")["cost"], nil),
			gotwant.Eq("model", str(am, "model"), "fake-mini"),
			gotwant.Eq("days", len(uc["daily"].([]any)), 1), // only days with runs (recorded)
			gotwant.Eq("totalCost", num64(sub(uc, "totals")["totalCost"]), 8.75e-06),
		)
	})
}

func TestSessionsDelete(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		const key = "agent:main:subagent:clawgate-00000000dd"
		runFinal(t, c, "d-1", obj{"message": "to be deleted", "sessionKey": key})
		info, _ := srv.Session(key)
		del := sub(c.request("sessions.delete", obj{"key": key}), "payload")
		archived, _ := del["archived"].([]any)
		gotwant.Error(t, "sessions.delete "+jsonStr(del),
			gotwant.Eq("ok", del["ok"], any(true)), gotwant.Eq("key", str(del, "key"), key),
			gotwant.Eq("deleted", del["deleted"], any(true)), gotwant.Eq("archived", len(archived), 1))
		if len(archived) == 1 {
			gotwant.Error(t, "archived path", gotwant.Contains("path", archived[0].(string), "/sessions/"+info.SessionID+".jsonl.deleted."))
		}
		if err := srv.WaitSessionGone(testwait.Ctx(t), key); err != nil {
			t.Fatal(err)
		}
		hist := sub(c.request("chat.history", obj{"sessionKey": key}), "payload")
		gotwant.Error(t, "after delete",
			gotwant.Eq("row", listRow(t, c, key) == nil, true),
			gotwant.Eq("history", jsonStr(hist["messages"]), "[]"))

		again := sub(c.request("sessions.delete", obj{"key": key}), "payload")
		gotwant.Error(t, "delete again "+jsonStr(again), gotwant.Eq("deleted", again["deleted"], any(false)),
			gotwant.Eq("archived", jsonStr(again["archived"]), "[]"))
		for _, k := range []string{"agent:main:main", "main"} {
			gotwant.Error(t, "delete "+k, gotwant.Eq("error", errMsg(c.request("sessions.delete", obj{"key": k})),
				"INVALID_REQUEST: Cannot delete the main session (agent:main:main)."))
		}
		runFinal(t, c, "d-2", obj{"message": "keep", "sessionKey": "agent:main:keep"})
		keep := sub(c.request("sessions.delete", obj{"key": "agent:main:keep", "deleteTranscript": false}), "payload")
		gotwant.Error(t, "deleteTranscript false "+jsonStr(keep), gotwant.Eq("deleted", keep["deleted"], any(true)),
			gotwant.Eq("archived", jsonStr(keep["archived"]), "[]"))

		w, _ := connected(t, srv, "test-token", obj{"scopes": []any{scopeWrite}})
		want := "INVALID_REQUEST: missing scope: operator.admin"
		if g == OpenClaw {
			want = "FORBIDDEN: missing scope: operator.admin"
			gotwant.Error(t, "archivedOnly by a writer", gotwant.Eq("error",
				errMsg(w.request("sessions.delete", obj{"key": "agent:main:x", "archivedOnly": true})),
				"INVALID_REQUEST: Session agent:main:x is not archived. Archive it first, then delete it."))
		}
		gotwant.Error(t, "writer", gotwant.Eq("error", errMsg(w.request("sessions.delete", obj{"key": "agent:main:x"})), want))
	})
}

func TestSessionsDeleteRunning(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		const key = "agent:main:busy"
		c.startRun("busy", obj{"message": "long [[delay=60]]", "sessionKey": key, "idempotencyKey": "busy"})
		if _, err := srv.WaitRunOf(testwait.Ctx(t), key); err != nil {
			t.Fatal(err)
		}
		// the run is executing once its lifecycle start is out
		if f, _ := c.waitFor(func(f obj) bool {
			return str(sub(f, "payload"), "runId") == "busy" && str(sub(sub(f, "payload"), "data"), "phase") == "start"
		}, 0, testwait.Patience()); f == nil {
			t.Fatal("no lifecycle start")
		}
		delID := "del-busy"
		c.sendJSON(obj{"type": "req", "id": delID, "method": "sessions.delete", "params": obj{"key": key}})
		fin := c.final("busy")
		del, delAt := c.waitFor(isRes(delID), 0, testwait.Patience())
		_, finAt := c.waitFor(func(f obj) bool { return isRes("busy")(f) && str(sub(f, "payload"), "status") != "accepted" }, 0, testwait.Patience())
		run, err := srv.WaitAborted(testwait.Ctx(t), "busy")
		if err != nil {
			t.Fatal(err)
		}
		p := sub(del, "payload")
		if g == OpenClaw {
			// Recorded: the aborted run's final, then the answer; the session stays gone.
			wait := sub(c.request("agent.wait", obj{"runId": "busy", "timeoutMs": 0}), "payload")
			gotwant.Error(t, "openclaw: "+jsonStr(fin),
				gotwant.Eq("final status", str(sub(fin, "payload"), "status"), "timeout"),
				gotwant.Eq("final summary", str(sub(fin, "payload"), "summary"), "aborted"),
				gotwant.Eq("final before answer", finAt < delAt, true),
				gotwant.Eq("archived", len(p["archived"].([]any)), 1),
				gotwant.Eq("agent.wait", str(wait, "status")+" "+str(wait, "error"), "error aborted"),
				gotwant.Eq("Aborted", run.Aborted, true))
			if err := srv.WaitSessionGone(testwait.Ctx(t), key); err != nil {
				t.Fatal(err)
			}
		} else {
			// Recorded: the answer, then an "ok" final without payloads;
			// the run's end writes the session again.
			meta := resultMeta(fin)
			gotwant.Error(t, "clawdbot: "+jsonStr(fin),
				gotwant.Eq("final status", str(sub(fin, "payload"), "status"), "ok"),
				gotwant.Eq("payloads", jsonStr(sub(sub(fin, "payload"), "result")["payloads"]), "[]"),
				gotwant.Eq("aborted", meta["aborted"], any(true)),
				gotwant.Eq("answer before final", delAt < finAt, true),
				gotwant.Eq("deleted", p["deleted"], any(true)),
				gotwant.Eq("archived", jsonStr(p["archived"]), "[]"))
			if _, err := srv.WaitSession(testwait.Ctx(t), key); err != nil {
				t.Fatal(err)
			}
			row := listRow(t, c, key)
			gotwant.Error(t, "row "+jsonStr(row), gotwant.Eq("abortedLastRun", row["abortedLastRun"], any(true)),
				gotwant.Eq("totalTokens", jsonStr(row["totalTokens"]), "0"))
		}
	})
}

func TestModelsListSelectionPolicy(t *testing.T) {
	srv := newServer(t, Options{Models: pricedModels})
	for _, caps := range [][]any{{}, {"tool-events", "model-selection-policy"}} {
		c, _ := connected(t, srv, "test-token", obj{"caps": caps})
		models, _ := sub(c.request("models.list", obj{}), "payload")["models"].([]any)
		if len(models) != 3 {
			t.Errorf("caps %v: %d models, want 3", caps, len(models))
		}
		for _, x := range models {
			m := x.(obj)
			v, has := m["manualSelectionAllowed"]
			if wantHas := len(caps) > 0; has != wantHas || (has && v != true) {
				t.Errorf("caps %v: model %s manualSelectionAllowed=%v (present %v)", caps, str(m, "id"), v, has)
			}
		}
	}
}

func TestConfigGet(t *testing.T) {
	models := append([]Model{{Ref: "anthropic/claude-x", Name: "Claude X", Alias: "x", Price: &Price{Input: 3, Output: 15}}}, pricedModels...)
	eachGen := func(g Generation) (*Server, obj) {
		srv := newServer(t, Options{Generation: g, Models: models, Fallbacks: map[string]string{"fake/fake-echo": "Mini"}})
		c, _ := connected(t, srv, "test-token", nil)
		res := c.request("config.get", obj{})
		if res["ok"] != true {
			t.Fatalf("%v config.get: %s", g, errMsg(res))
		}
		return srv, sub(res, "payload")
	}
	for _, g := range generations {
		srv, p := eachGen(g)
		cfg := sub(p, "config")
		providers := sub(sub(cfg, "models"), "providers")
		fake, _ := sub(providers, "fake")["models"].([]any)
		var mini obj
		for _, x := range fake {
			if str(x.(obj), "id") == "fake-mini" {
				mini = x.(obj)
			}
		}
		defaults := sub(sub(cfg, "agents"), "defaults")
		wantKey, wantToken := redacted, redacted
		if g == Clawdbot {
			wantKey, wantToken = fakeAPIKey, "test-token"
		}
		var parsed obj
		_ = json.Unmarshal([]byte(str(p, "raw")), &parsed)
		gotwant.Error(t, g.String()+" config.get",
			gotwant.Eq("fake models", len(fake), 3),
			gotwant.Eq("mini cost", jsonStr(mini["cost"]), `{"cacheRead":0.025,"cacheWrite":0.3,"input":0.25,"output":1.25}`),
			gotwant.Eq("mini contextWindow", num64(mini["contextWindow"]), 64000),
			gotwant.Eq("anthropic apiKey", str(sub(providers, "anthropic"), "apiKey"), wantKey),
			gotwant.Eq("gateway token", str(sub(sub(cfg, "gateway"), "auth"), "token"), wantToken),
			gotwant.Eq("aliases", jsonStr(defaults["models"]),
				`{"anthropic/claude-x":{"alias":"x"},"fake/fake-echo":{"alias":"Fake"},"fake/fake-free":{},"fake/fake-mini":{"alias":"Mini"}}`),
			gotwant.Eq("fallbacks", jsonStr(sub(defaults, "model")["fallbacks"]), `["fake/fake-mini"]`),
			gotwant.Eq("raw is parsed", parsed != nil && jsonStr(sub(parsed, "models")) == jsonStr(sub(sub(p, "parsed"), "models")), true),
		)
		r, _ := connected(t, srv, "test-token", obj{"scopes": []any{scopeRead}})
		got := errMsg(r.request("config.get", obj{}))
		want := "" // OpenClaw: operator.read (recorded)
		if g == Clawdbot {
			want = "INVALID_REQUEST: missing scope: operator.admin"
		}
		gotwant.Error(t, g.String()+" config.get by a reader", gotwant.Eq("error", got, want))
	}
}
