package tools_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// Frames shaped like the real gateways' (OpenClaw 2026.9.6, Clawdbot
// 2026.1.24-3, recorded 2026-11-28), answered through Server.Handle.

// costAnswer answers every request of method with payload.
func costAnswer(e *env, method string, payload any) {
	e.fake.Handle(method, func(c *gatewaysim.Conn, req gatewaysim.Request) { _ = c.Reply(req.ID, payload) })
}

// costRefuse answers every request of method with a missing-scope error.
func costRefuse(e *env, method, scope string) {
	e.fake.Handle(method, func(c *gatewaysim.Conn, req gatewaysim.Request) {
		_ = c.ReplyError(req.ID, gatewaysim.ErrorShape{Code: "FORBIDDEN", Message: "missing scope: " + scope,
			Details: map[string]any{"code": "MISSING_SCOPE", "missingScope": scope, "requiredScopes": []string{scope}}})
	})
}

// modelRow is a models.list row; manual is manualSelectionAllowed (nil:
// absent, as on Clawdbot).
func modelRow(provider, id, name, alias string, contextWindow int, manual *bool) map[string]any {
	row := map[string]any{"id": id, "name": name, "provider": provider, "contextWindow": contextWindow,
		"reasoning": false, "input": []string{"text"}}
	if alias != "" {
		row["alias"], row["available"], row["tags"] = alias, true, []string{"configured"}
	}
	if manual != nil {
		row["manualSelectionAllowed"] = *manual
	}
	return row
}

// price is a config.get cost object in US$ per million tokens.
type price struct{ in, out, cacheRead, cacheWrite float64 }

// configGet is a config.get payload whose models.providers hold models
// (provider → id → price), with apiKey as the gateway shows it.
func configGet(apiKey string, models map[string]map[string]price) map[string]any {
	providers := map[string]any{}
	for prov, ms := range models {
		var list []any
		for id, p := range ms {
			list = append(list, map[string]any{"id": id, "name": id, "contextWindow": 128000, "maxTokens": 4096,
				"input": []string{"text"}, "reasoning": false,
				"cost": map[string]any{"input": p.in, "output": p.out, "cacheRead": p.cacheRead, "cacheWrite": p.cacheWrite}})
		}
		providers[prov] = map[string]any{"api": "openai-completions", "apiKey": apiKey, "baseUrl": "http://127.0.0.1:9/v1", "models": list}
	}
	return map[string]any{"config": map[string]any{
		"agents":  map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "fake/fake-echo"}, "models": map[string]any{"fake/fake-echo": map[string]any{"alias": "Fake"}}}},
		"gateway": map[string]any{"auth": map[string]any{"mode": "token", "token": apiKey}, "bind": "loopback", "mode": "local"},
		"models":  map[string]any{"mode": "merge", "providers": providers},
	}, "exists": true, "hash": "cf2e34ef", "issues": []any{}, "legacyIssues": []any{}}
}

var testPrices = map[string]map[string]price{
	"fake": {"fake-echo": {3, 15, 0.3, 3.75}, "fake-mini": {0.25, 1.25, 0.025, 0.3}, "fake-free": {0, 0, 0, 0}, "fake-unlisted": {1, 2, 0, 0}},
	"big":  {"expensive": {15, 75, 1.5, 18.75}},
}

// modelWant is what list_models must say about one model: selectable
// "true", "false" or "unknown"; price "in/out/cacheRead/cacheWrite" or "".
type modelWant struct {
	selectable, reason, price string
	contextWindow             int64
}

func selectableOf(m tools.ModelOut) string {
	if m.Selectable == nil {
		return "unknown"
	}
	return fmt.Sprint(*m.Selectable)
}

func priceOf(m tools.ModelOut) string {
	p := m.Price
	if p == nil {
		return ""
	}
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	return f(p.InputPerMTok) + "/" + f(p.OutputPerMTok) + "/" + f(p.CacheReadPerMTok) + "/" + f(p.CacheWritePerMTok)
}

// list_models says per model whether a session may select it (the
// gateway's policy and --allow-model), its context window and its
// configured price; never claims selectable where the gateway does not
// say (Clawdbot), and never shows the config's credentials.
func TestListModelsSelectableAndPrices(t *testing.T) {
	yes, no := new(bool), new(bool)
	*yes = true
	const secret = "sk-live-SECRET-4242"
	for _, tc := range []struct {
		gen      gatewaysim.Generation
		apiKey   string
		rows     []any
		want     map[string]modelWant
		cheapest string
		notes    []string
	}{{
		gen:    gatewaysim.OpenClaw,
		apiKey: "__OPENCLAW_REDACTED__",
		rows: []any{
			modelRow("fake", "fake-echo", "Fake Echo", "Fake", 128000, yes),
			modelRow("fake", "fake-mini", "Fake Mini", "Mini", 64000, yes),
			modelRow("fake", "fake-free", "Fake Free", "", 32000, no),
			modelRow("fake", "fake-nofield", "No Field", "", 16000, nil), // the default view lists allowed models
			modelRow("big", "expensive", "Expensive", "", 400000, yes),
			modelRow("big", "blocked", "Blocked", "", 400000, no),
		},
		want: map[string]modelWant{
			"fake/fake-echo":    {"true", "", "3/15/0.3/3.75", 128000},
			"fake/fake-mini":    {"true", "", "0.25/1.25/0.025/0.3", 64000},
			"fake/fake-free":    {"false", "gateway", "0/0/0/0", 32000},
			"fake/fake-nofield": {"true", "", "", 16000},
			"big/expensive":     {"false", "allow_model", "15/75/1.5/18.75", 400000},
			"big/blocked":       {"false", "gateway_and_allow_model", "", 400000},
		},
		cheapest: "fake/fake-mini",
	}, {
		gen:    gatewaysim.Clawdbot,
		apiKey: secret, // Clawdbot's config.get shows it raw
		rows: []any{
			modelRow("fake", "fake-echo", "Fake Echo", "", 128000, nil),
			modelRow("fake", "fake-mini", "Fake Mini", "", 64000, nil),
			modelRow("big", "expensive", "Expensive", "", 400000, nil),
		},
		want: map[string]modelWant{
			"fake/fake-echo": {"true", "", "3/15/0.3/3.75", 128000}, // the default model is always allowed
			"fake/fake-mini": {"unknown", "", "0.25/1.25/0.025/0.3", 64000},
			"big/expensive":  {"false", "allow_model", "15/75/1.5/18.75", 400000},
		},
		cheapest: "fake/fake-echo", // fake-mini may be refused
		notes:    []string{"does not report which models its allowlist", "Its default model (fake/fake-echo) is always allowed."},
	}} {
		t.Run(tc.gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, tc.gen, tools.Config{AllowModels: tools.ModelPolicy{"fake/*"}})
			costAnswer(e, "models.list", map[string]any{"models": tc.rows})
			costAnswer(e, "config.get", configGet(tc.apiKey, testPrices))
			ctx := testwait.Ctx(t)

			var lm tools.ListModelsOutput
			res := e.call(t, ctx, "list_models", nil, &lm)
			if res.IsError {
				t.Fatal(text(res))
			}
			var ids []string
			for _, m := range lm.Models {
				ids = append(ids, m.ID)
				w, ok := tc.want[m.ID]
				if !ok {
					t.Errorf("unexpected model %s", m.ID)
					continue
				}
				gotwant.Error(t, fmt.Sprintf("%s: %+v", m.ID, m),
					gotwant.Eq("selectable", selectableOf(m), w.selectable),
					gotwant.Eq("not_selectable_reason", m.NotSelectableReason, w.reason),
					gotwant.Eq("price", priceOf(m), w.price),
					gotwant.Eq("context_window", m.ContextWindow, w.contextWindow),
				)
			}
			if len(ids) != len(tc.want) {
				t.Errorf("models %v, want %d of them (in the gateway's order)", ids, len(tc.want))
			}
			for _, n := range tc.notes {
				if !slices.ContainsFunc(lm.Notes, func(s string) bool { return strings.Contains(s, n) }) {
					t.Errorf("notes %q lack %q", lm.Notes, n)
				}
			}
			if len(tc.notes) == 0 && len(lm.Notes) != 0 {
				t.Errorf("notes %q, want none", lm.Notes)
			}
			gotwant.Error(t, "text "+text(res),
				gotwant.HasPrefix("text", text(res), fmt.Sprintf("%d models: ", len(tc.want))),
				gotwant.Contains("text", text(res), "Cheapest selectable model (by input + output price): "+tc.cheapest+"."),
				gotwant.Contains("text", text(res), "fake/fake-mini ($0.25 in / $1.25 out / $0.025 cache read / $0.3 cache write per million tokens"),
				gotwant.Contains("text", text(res), "big/expensive ($15 in / $75 out / $1.5 cache read / $18.75 cache write per million tokens; not selectable: --allow-model)"),
			)
			// Unknown is absent, not false; the credentials of the config
			// never reach the result.
			raw, _ := json.Marshal(res.StructuredContent)
			if tc.gen == gatewaysim.Clawdbot && strings.Count(string(raw), `"selectable"`) != 2 {
				t.Errorf("selectable is not absent where unknown: %s", raw)
			}
			if strings.Contains(string(raw)+text(res), secret) || strings.Contains(string(raw), "apiKey") {
				t.Errorf("the config's credentials leaked into the result: %s", raw)
			}

			// The provider filter still applies.
			res = e.call(t, ctx, "list_models", map[string]any{"provider": "big"}, &lm)
			if res.IsError || len(lm.Models) == 0 || slices.ContainsFunc(lm.Models, func(m tools.ModelOut) bool { return m.Provider != "big" }) {
				t.Errorf("provider big: %s %+v", text(res), lm.Models)
			}
			if reqs := e.fake.RequestsFor("config.get"); len(reqs) != 2 || string(reqs[0].Params) != "{}" {
				t.Errorf("config.get requests %+v, want one {} per list_models", reqs)
			}
		})
	}
}

// Prices are an extra: a refused config.get leaves list_models working,
// without prices, and saying why.
func TestListModelsWithoutPrices(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, gen, tools.Config{ReadOnly: true})
			costRefuse(e, "config.get", "operator.admin")
			var lm tools.ListModelsOutput
			res := e.call(t, testwait.Ctx(t), "list_models", map[string]any{"provider": "fake"}, &lm)
			if res.IsError || len(lm.Models) == 0 {
				t.Fatalf("%s %+v", text(res), lm)
			}
			for _, m := range lm.Models {
				if m.Price != nil {
					t.Errorf("%s has a price %+v without a configuration", m.ID, *m.Price)
				}
			}
			if !slices.ContainsFunc(lm.Notes, func(s string) bool {
				return strings.Contains(s, "Prices are missing") && strings.Contains(s, "missing scope: operator.admin")
			}) {
				t.Errorf("notes %q do not say why prices are missing", lm.Notes)
			}
			if !strings.Contains(text(res), "Prices are missing") {
				t.Errorf("text %q does not say prices are missing", text(res))
			}
		})
	}
}

// A config.get that never answers costs list_models the bounded wait, not
// its result. Not parallel: it shortens the wait for the whole package.
func TestListModelsPricesSlow(t *testing.T) {
	defer tools.SetCostWait(50 * time.Millisecond)()
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	e.fake.Stall("config.get")
	var lm tools.ListModelsOutput
	res := e.call(t, testwait.Ctx(t), "list_models", nil, &lm)
	if res.IsError || len(lm.Models) == 0 {
		t.Fatalf("%s %+v", text(res), lm)
	}
	if !slices.ContainsFunc(lm.Notes, func(s string) bool {
		return strings.Contains(s, "did not give its configuration (config.get) within 50ms")
	}) {
		t.Errorf("notes %q", lm.Notes)
	}
}

// sessionRow is a sessions.list row; cost is estimatedCostUsd (nil:
// absent, as on Clawdbot).
func sessionRow(key, label string, cost any) map[string]any {
	row := map[string]any{"key": key, "kind": "direct", "sessionId": "3a871760-60c1-49e1-8a72-d6326c363eac",
		"updatedAt": time.Now().UnixMilli(), "inputTokens": 10, "outputTokens": 6, "totalTokens": 10, "contextTokens": 128000,
		"model": "fake-echo", "modelProvider": "fake", "abortedLastRun": false}
	if label != "" {
		row["label"], row["displayName"] = label, label
	}
	if cost != nil {
		row["estimatedCostUsd"] = cost
	}
	return row
}

// list_sessions shows each session's cost where the gateway reports it
// and marks the sessions clawgate created (by key, not by label).
func TestListSessionsCostAndCreator(t *testing.T) {
	type want struct {
		cost    string // "" when absent
		created bool
	}
	for _, tc := range []struct {
		gen  gatewaysim.Generation
		rows []any
		want map[string]want
	}{{
		gen: gatewaysim.OpenClaw,
		rows: []any{
			sessionRow("agent:main:subagent:clawgate-0123456789", "clawgate subagent", 0.00012),
			sessionRow("agent:ops:subagent:clawgate-abcdef0123", "clawgate subagent", json.Number("1e-7")),
			sessionRow("agent:main:mine", "clawgate subagent", 0),                             // a user's label
			sessionRow("agent:main:subagent:clawgate-0123456789ab", "", json.Number("1e400")), // 12 digits; absurd cost
			sessionRow("agent:main:main", "", nil),
		},
		want: map[string]want{
			"agent:main:subagent:clawgate-0123456789":   {"0.00012", true},
			"agent:ops:subagent:clawgate-abcdef0123":    {"1e-07", true},
			"agent:main:mine":                           {"0", false},
			"agent:main:subagent:clawgate-0123456789ab": {"", false},
			"agent:main:main":                           {"", false},
		},
	}, {
		gen: gatewaysim.Clawdbot,
		rows: []any{
			sessionRow("agent:main:subagent:clawgate-0123456789", "clawgate subagent", nil),
			sessionRow("agent:main:main", "", nil),
		},
		want: map[string]want{
			"agent:main:subagent:clawgate-0123456789": {"", true},
			"agent:main:main":                         {"", false},
		},
	}} {
		t.Run(tc.gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, tc.gen, tools.Config{})
			costAnswer(e, "sessions.list", map[string]any{"ts": time.Now().UnixMilli(), "path": "(multiple)", "count": len(tc.rows),
				"defaults": map[string]any{"contextTokens": 128000, "model": "fake-echo", "modelProvider": "fake"}, "sessions": tc.rows})
			var ls tools.ListSessionsOutput
			res := e.call(t, testwait.Ctx(t), "list_sessions", map[string]any{"limit": 50}, &ls)
			if res.IsError || ls.Count != len(tc.want) {
				t.Fatalf("%s %+v", text(res), ls)
			}
			for _, s := range ls.Sessions {
				cost := ""
				if s.CostUSD != nil {
					cost = fmt.Sprint(*s.CostUSD)
				}
				w := tc.want[s.Key]
				gotwant.Error(t, fmt.Sprintf("%s: %+v", s.Key, s),
					gotwant.Eq("cost_usd", cost, w.cost),
					gotwant.Eq("created_by_clawgate", s.CreatedByClawgate, w.created),
				)
			}
			raw, _ := json.Marshal(res.StructuredContent)
			if n := strings.Count(string(raw), `"created_by_clawgate"`); n != strings.Count(text(res), "(created by clawgate)") || n == 0 {
				t.Errorf("created_by_clawgate is not absent where false, or the text does not mark the same rows:\n%s\n%s", raw, text(res))
			}
			if tc.gen == gatewaysim.OpenClaw {
				gotwant.Error(t, "text "+text(res),
					gotwant.Contains("text", text(res), "agent:main:subagent:clawgate-0123456789  fake/fake-echo (default)  10/128000 tokens  cost $0.00012"),
					gotwant.Contains("text", text(res), "agent:main:mine  fake/fake-echo (default)  10/128000 tokens  cost $0  updated"),
				)
			} else if strings.Contains(text(res), "cost") || strings.Contains(string(raw), "cost_usd") {
				t.Errorf("cost shown where the gateway reports none:\n%s\n%s", raw, text(res))
			}
		})
	}
}

// usageCost30 is OpenClaw's usage.cost: every day of the 30-day window
// ending on last, with cost[date] on the days that cost something.
func usageCost30(last time.Time, cost map[string]float64, totalCost float64, missing int) map[string]any {
	var daily []any
	for i := 29; i >= 0; i-- {
		d := last.AddDate(0, 0, -i).Format(time.DateOnly)
		daily = append(daily, map[string]any{"date": d, "input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0,
			"inputCost": 0, "outputCost": 0, "cacheReadCost": 0, "cacheWriteCost": 0, "totalCost": cost[d], "missingCostEntries": 0})
	}
	return map[string]any{"cacheStatus": map[string]any{"cachedFiles": 0, "pendingFiles": 0, "staleFiles": 0, "status": "fresh"},
		"daily": daily, "days": 30, "updatedAt": time.Now().UnixMilli(),
		"totals": map[string]any{"input": 10, "output": 6, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 16,
			"inputCost": 0, "outputCost": 0, "cacheReadCost": 0, "cacheWriteCost": 0, "totalCost": totalCost, "missingCostEntries": missing}}
}

// usageCostClawdbot is Clawdbot's usage.cost: only the days with use.
func usageCostClawdbot(cost map[string]float64, totalCost any) map[string]any {
	daily := []any{}
	for d, c := range cost {
		daily = append(daily, map[string]any{"date": d, "input": 10, "output": 6, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 16,
			"totalCost": c, "missingCostEntries": 0})
	}
	totals := map[string]any{"input": 10, "output": 6, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 16, "missingCostEntries": 0}
	if totalCost != nil {
		totals["totalCost"] = totalCost
	}
	return map[string]any{"daily": daily, "days": 30, "totals": totals, "updatedAt": time.Now().UnixMilli()}
}

// gateway_status shows today's cost and the 30-day total from usage.cost,
// and a failing usage.cost leaves the rest of the status intact.
func TestGatewayStatusCost(t *testing.T) {
	now := time.Now()
	today, ago3 := now.Format(time.DateOnly), now.AddDate(0, 0, -3).Format(time.DateOnly)
	tomorrow, yesterday := now.AddDate(0, 0, 1).Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly)
	for _, tc := range []struct {
		name    string
		gen     gatewaysim.Generation
		answer  func(e *env)
		want    string // the cost as date/today/30 days/missing, or ""
		note    string // a substring of cost_note, or ""
		inText  []string
		notText []string
	}{{
		name: "OpenClaw",
		gen:  gatewaysim.OpenClaw,
		answer: func(e *env) {
			costAnswer(e, "usage.cost", usageCost30(now, map[string]float64{today: 0.00012, ago3: 0.004}, 0.00412, 2))
		},
		want:   today + "/0.00012/0.00412/2",
		inText: []string{"Model cost today (" + today + ") $0.00012, last 30 days $0.00412.", "2 model calls had no price and are not counted."},
	}, {
		name: "OpenClaw a day behind",
		gen:  gatewaysim.OpenClaw,
		answer: func(e *env) {
			costAnswer(e, "usage.cost", usageCost30(now.AddDate(0, 0, -1), map[string]float64{yesterday: 0.5}, 0.5, 0))
		},
		want: yesterday + "/0.5/0.5/0",
	}, {
		name:   "Clawdbot, nothing today",
		gen:    gatewaysim.Clawdbot,
		answer: func(e *env) { costAnswer(e, "usage.cost", usageCostClawdbot(map[string]float64{ago3: 0.5}, 0.5)) },
		want:   today + "/0/0.5/0",
		inText: []string{"Model cost today (" + today + ") $0, last 30 days $0.5."},
	}, {
		name:   "Clawdbot, no use at all",
		gen:    gatewaysim.Clawdbot,
		answer: func(e *env) { costAnswer(e, "usage.cost", usageCostClawdbot(nil, 0)) },
		want:   today + "/0/0/0",
	}, {
		name:   "Clawdbot a day ahead",
		gen:    gatewaysim.Clawdbot,
		answer: func(e *env) { costAnswer(e, "usage.cost", usageCostClawdbot(map[string]float64{tomorrow: 0.25}, 0.25)) },
		want:   tomorrow + "/0.25/0.25/0",
	}, {
		name:    "no cost reported",
		gen:     gatewaysim.Clawdbot,
		answer:  func(e *env) { costAnswer(e, "usage.cost", usageCostClawdbot(nil, nil)) },
		note:    "The gateway reports no cost.",
		notText: []string{"Model cost"},
	}, {
		name:   "usage.cost refused",
		gen:    gatewaysim.OpenClaw,
		answer: func(e *env) { costRefuse(e, "usage.cost", "operator.read") },
		note:   "Cost unknown: gateway refused usage.cost: missing scope: operator.read",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, tc.gen, tools.Config{})
			tc.answer(e)
			var st tools.GatewayStatusOutput
			res := e.call(t, testwait.Ctx(t), "gateway_status", nil, &st)
			if time.Now().Format(time.DateOnly) != today {
				t.Skip("the date changed during the test")
			}
			checkStatusIntact(t, res, st)
			got := ""
			if c := st.Cost; c != nil {
				f := func(v *float64) string {
					if v == nil {
						return "-"
					}
					return fmt.Sprint(*v)
				}
				got = fmt.Sprintf("%s/%s/%s/%d", c.Date, f(c.TodayUSD), f(c.Last30DaysUSD), c.MissingCostEntries)
			}
			gotwant.Error(t, fmt.Sprintf("%s %+v", text(res), st),
				gotwant.Eq("cost", got, tc.want),
				gotwant.That("cost_note", (tc.note == "") == (st.CostNote == "") && strings.Contains(st.CostNote, tc.note), st.CostNote, fmt.Sprintf("containing %q", tc.note)),
			)
			for _, s := range append(tc.inText, tc.note) {
				if !strings.Contains(text(res), s) {
					t.Errorf("text %q lacks %q", text(res), s)
				}
			}
			for _, s := range tc.notText {
				if strings.Contains(text(res), s) {
					t.Errorf("text %q has %q", text(res), s)
				}
			}
			if reqs := e.fake.RequestsFor("usage.cost"); len(reqs) != 1 || string(reqs[0].Params) != "{}" {
				t.Errorf("usage.cost requests %+v", reqs)
			}
		})
	}
}

// checkStatusIntact checks that gateway_status reported everything but
// cost as usual.
func checkStatusIntact(t *testing.T, res *mcp.CallToolResult, st tools.GatewayStatusOutput) {
	t.Helper()
	gotwant.Error(t, fmt.Sprintf("%s %+v", text(res), st),
		gotwant.Eq("isError", res.IsError, false),
		gotwant.Eq("connected", st.Connected, true),
		gotwant.Eq("error", st.Error, ""),
		gotwant.That("main_session", st.MainSession != nil, st.MainSession, "set"),
		gotwant.That("session_count", st.SessionCount != nil, st.SessionCount, "set"),
		gotwant.HasPrefix("text", text(res), "Connected to "),
	)
}

// A usage.cost that never answers costs gateway_status the bounded wait,
// not its result. Not parallel: it shortens the wait for the whole package.
func TestGatewayStatusCostSlow(t *testing.T) {
	defer tools.SetCostWait(50 * time.Millisecond)()
	for _, gen := range gens {
		e := setup(t, gen, tools.Config{})
		e.fake.Stall("usage.cost")
		var st tools.GatewayStatusOutput
		res := e.call(t, testwait.Ctx(t), "gateway_status", nil, &st)
		checkStatusIntact(t, res, st)
		if st.Cost != nil || !strings.Contains(st.CostNote, "did not report it (usage.cost) within 50ms") || !strings.Contains(text(res), st.CostNote) {
			t.Errorf("%s: cost %+v, cost_note %q", gen, st.Cost, st.CostNote)
		}
	}
}
