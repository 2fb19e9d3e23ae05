package gatewaysim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
)

func TestMethodScopes(t *testing.T) {
	type tc struct {
		gen    Generation
		scopes []any
		method string
		params obj
		want   string // "" = ok, else "CODE: message"
	}
	cases := []tc{
		{Clawdbot, []any{scopeRead}, "sessions.list", obj{"limit": 1}, ""},
		{Clawdbot, []any{scopeRead}, "sessions.patch", obj{"key": "k", "label": "x"}, "INVALID_REQUEST: missing scope: operator.admin"},
		{Clawdbot, []any{scopeWrite}, "sessions.patch", obj{"key": "k", "model": DefaultModel}, "INVALID_REQUEST: missing scope: operator.admin"},
		{Clawdbot, []any{scopeRead}, "agent", obj{"message": "x", "sessionKey": "k", "idempotencyKey": "i"}, "INVALID_REQUEST: missing scope: operator.write"},
		{Clawdbot, []any{scopeRead}, "no.such.method", obj{}, "INVALID_REQUEST: missing scope: operator.admin"},
		{Clawdbot, []any{scopeAdmin}, "no.such.method", obj{}, "INVALID_REQUEST: unknown method: no.such.method"},
		{Clawdbot, []any{scopeAdmin}, "sessions.abort", obj{"key": "k"}, "INVALID_REQUEST: unknown method: sessions.abort"},
		{OpenClaw, []any{scopeRead}, "sessions.patch", obj{"key": "k", "model": DefaultModel}, "FORBIDDEN: missing scope: operator.write"},
		{OpenClaw, []any{scopeWrite}, "sessions.patch", obj{"key": "k", "model": DefaultModel}, ""},
		{OpenClaw, []any{scopeWrite}, "sessions.patch", obj{"key": "k", "verboseLevel": "on"}, "FORBIDDEN: missing scope: operator.admin"},
		{OpenClaw, []any{scopeWrite}, "agent", obj{"message": "/reset now", "sessionKey": "k", "idempotencyKey": "i"}, "FORBIDDEN: missing scope: operator.admin"},
		{OpenClaw, []any{scopeWrite}, "agent", obj{"message": "x", "sessionKey": "k", "idempotencyKey": "i", "model": DefaultModel},
			"INVALID_REQUEST: provider/model overrides are not authorized for this caller."},
		{OpenClaw, []any{scopeWrite}, "status", obj{}, ""},
		{OpenClaw, []any{scopeRead}, "no.such.method", obj{}, "FORBIDDEN: missing scope: operator.admin"},
		{OpenClaw, []any{scopeAdmin}, "no.such.method", obj{}, "INVALID_REQUEST: unknown method: no.such.method"},
		{OpenClaw, []any{scopeAdmin}, "cron.list", obj{}, "UNAVAILABLE: gatewaysim: cron.list is not implemented by the fake gateway"},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d %v %s", i, tc.gen, tc.method), func(t *testing.T) {
			srv := newServer(t, Options{Generation: tc.gen})
			c, _ := connected(t, srv, "test-token", obj{"scopes": tc.scopes})
			res := c.request(tc.method, tc.params)
			if got := errMsg(res); got != tc.want {
				t.Errorf("scopes %v %s: got %q, want %q", tc.scopes, tc.method, got, tc.want)
			}
			if tc.gen == OpenClaw && strings.HasPrefix(tc.want, "FORBIDDEN") {
				d := sub(sub(res, "error"), "details")
				if str(d, "code") != "MISSING_SCOPE" || str(d, "missingScope") == "" {
					t.Errorf("details %s", jsonStr(d))
				}
			}
		})
	}
}

func TestRequestFrameRules(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		c.sendJSON(obj{"type": "req", "id": "tp", "method": "health", "params": obj{},
			"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
		res, _ := c.waitFor(isRes("tp"), 0, testwait.Patience())
		if g == Clawdbot && errMsg(res) != "INVALID_REQUEST: invalid request frame: at root: unexpected property 'traceparent'" {
			t.Errorf("traceparent on 1.24: %s", jsonStr(res))
		}
		if g == OpenClaw && res["ok"] != true {
			t.Errorf("traceparent on 2026.9.6: %s", jsonStr(res))
		}
		c.sendRaw([]byte(`{"type":"req","id":7,"method":"health"}`))
		res, _ = c.waitFor(func(f obj) bool { return jsonStr(f["id"]) == "7" }, 0, testwait.Patience())
		if errMsg(res) != "INVALID_REQUEST: invalid request frame: at /id: must be string" {
			t.Errorf("numeric id: %s", jsonStr(res))
		}
		c.sendRaw([]byte("garbage"))
		if res := c.request("health", nil); res["ok"] != true {
			t.Errorf("the connection must survive garbage after the handshake: %s", jsonStr(res))
		}
		reqs := srv.Requests()
		if len(reqs) == 0 || reqs[len(reqs)-1].Method != "health" || reqs[len(reqs)-1].Conn != 1 {
			t.Errorf("Requests() = %+v", reqs)
		}
	})
}

func TestSessionsListPaging(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	c, _ := connected(t, srv, "test-token", nil)
	seeded, _ := num(sub(c.request("sessions.list", obj{}), "payload")["totalCount"])
	if seeded != 3 {
		t.Fatalf("the store is seeded with the 3 recorded sessions, got %d", seeded)
	}
	for i := 0; i < 105; i++ {
		if res := c.request("sessions.patch", obj{"key": fmt.Sprintf("agent:main:page-%03d", i)}); res["ok"] != true {
			t.Fatal(jsonStr(res))
		}
	}
	p := sub(c.request("sessions.list", nil), "payload")
	gotwant.Error(t, "default page",
		gotwant.Eq("count", jsonStr(p["count"]), "100"),
		gotwant.Eq("limitApplied", jsonStr(p["limitApplied"]), "100"),
		gotwant.Eq[any]("hasMore", p["hasMore"], true),
		gotwant.Eq("nextOffset", jsonStr(p["nextOffset"]), "100"),
		gotwant.Eq("totalCount", jsonStr(p["totalCount"]), "108"),
	)
	if _, ok := p["offset"]; ok {
		t.Error("offset must be absent when not requested")
	}
	p = sub(c.request("sessions.list", obj{"offset": 100, "limit": 50}), "payload")
	gotwant.Error(t, "last page",
		gotwant.Eq("count", jsonStr(p["count"]), "8"),
		gotwant.Eq[any]("hasMore", p["hasMore"], false),
		gotwant.Eq("nextOffset", p["nextOffset"], nil),
		gotwant.Eq("offset", jsonStr(p["offset"]), "100"),
	)
	p = sub(c.request("sessions.list", obj{"search": "PAGE-10", "limit": 3}), "payload")
	if jsonStr(p["totalCount"]) != "5" || len(p["sessions"].([]any)) != 3 {
		t.Errorf("search: total %v", p["totalCount"])
	}
	rows := p["sessions"].([]any)
	if first := str(rows[0].(obj), "key"); first != "agent:main:page-104" {
		t.Errorf("rows must be newest first, got %s", first)
	}
	p = sub(c.request("sessions.list", obj{"agentId": "other"}), "payload")
	if jsonStr(p["totalCount"]) != "0" || str(p, "path") != "(multiple)" {
		t.Errorf("agentId filter: %s", jsonStr(p))
	}
	if got := errMsg(c.request("sessions.list", obj{"limit": 0})); got != "INVALID_REQUEST: invalid sessions.list params: at /limit: must be >= 1" {
		t.Errorf("limit 0: %s", got)
	}
}

func TestSessionsListClawdbot(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	c, _ := connected(t, srv, "test-token", nil)
	for i := 0; i < 120; i++ {
		c.request("sessions.patch", obj{"key": fmt.Sprintf("agent:main:c-%03d", i)})
	}
	p := sub(c.request("sessions.list", obj{}), "payload")
	if n, _ := num(p["count"]); n != 122 {
		t.Errorf("1.24 has no default limit: count %d, want 122", n)
	}
	if _, ok := p["totalCount"]; ok {
		t.Error("1.24 has no totalCount")
	}
	if got := errMsg(c.request("sessions.list", obj{"offset": 1})); got != "INVALID_REQUEST: invalid sessions.list params: at root: unexpected property 'offset'" {
		t.Errorf("offset on 1.24: %s", got)
	}
	p = sub(c.request("sessions.list", obj{"limit": 2}), "payload")
	if n, _ := num(p["count"]); n != 2 {
		t.Errorf("limit 2: count %d", n)
	}
}

// listModel returns the model shown in sessions.list for key.
func listModel(t *testing.T, c *testClient, key string) string {
	t.Helper()
	p := sub(c.request("sessions.list", obj{"search": key}), "payload")
	for _, x := range p["sessions"].([]any) {
		if row := x.(obj); str(row, "key") == key {
			if str(row, "model") == "" {
				return ""
			}
			return str(row, "modelProvider") + "/" + str(row, "model")
		}
	}
	t.Fatalf("%s not listed", key)
	return ""
}

func TestSessionsPatchModel(t *testing.T) {
	allowed := []string{DefaultModel, "fake/other"}
	t.Run("openclaw shows the selection right away", func(t *testing.T) {
		srv := newServer(t, Options{Generation: OpenClaw, AllowedModels: allowed})
		c, _ := connected(t, srv, "test-token", nil)
		res := c.request("sessions.patch", obj{"key": "agent:main:probe", "model": "other"})
		p := sub(res, "payload")
		e, r := sub(p, "entry"), sub(p, "resolved")
		gotwant.Fatal(t, "patch: "+jsonStr(p),
			gotwant.Eq("entry.providerOverride", str(e, "providerOverride"), "fake"),
			gotwant.Eq("entry.modelOverride", str(e, "modelOverride"), "other"),
			gotwant.Eq("resolved.model", str(r, "model"), "other"),
			gotwant.Eq("resolved.modelProvider", str(r, "modelProvider"), "fake"),
		)
		if m := listModel(t, c, "agent:main:probe"); m != "fake/other" {
			t.Errorf("list model %s, want fake/other at once", m)
		}
		final := c.requestFinal("agent", obj{"message": "hi", "sessionKey": "agent:main:probe", "idempotencyKey": "r1"})
		if am := sub(sub(sub(sub(final[len(final)-1], "payload"), "result"), "meta"), "agentMeta"); str(am, "model") != "other" {
			t.Errorf("run model %s", str(am, "model"))
		}
		res = c.request("sessions.patch", obj{"key": "agent:main:probe", "model": nil})
		if e := sub(sub(res, "payload"), "entry"); e["modelOverride"] != nil || str(e, "modelOverrideSource") != "default" {
			t.Errorf("null must clear the override: %s", jsonStr(e))
		}
		if m := listModel(t, c, "agent:main:probe"); m != DefaultModel {
			t.Errorf("after reset: %s", m)
		}
	})
	t.Run("clawdbot shows it only after the next run", func(t *testing.T) {
		srv := newServer(t, Options{Generation: Clawdbot, AllowedModels: allowed})
		c, _ := connected(t, srv, "test-token", nil)
		res := c.request("sessions.patch", obj{"key": "agent:main:probe", "model": "fake/other"})
		e := sub(sub(res, "payload"), "entry")
		if str(e, "providerOverride") != "fake" || str(e, "modelOverride") != "other" {
			t.Fatalf("patch entry: %s", jsonStr(e))
		}
		if _, ok := sub(res, "payload")["resolved"]; ok {
			t.Error("1.24 has no resolved block")
		}
		if m := listModel(t, c, "agent:main:probe"); m != DefaultModel {
			t.Errorf("list model before the run %s, want the last run's %s", m, DefaultModel)
		}
		c.requestFinal("agent", obj{"message": "hi", "sessionKey": "agent:main:probe", "idempotencyKey": "r1"})
		if m := listModel(t, c, "agent:main:probe"); m != "fake/other" {
			t.Errorf("list model after the run %s", m)
		}
		res = c.request("sessions.patch", obj{"key": "agent:main:probe", "model": "Fake"})
		if e := sub(sub(res, "payload"), "entry"); e["modelOverride"] != nil {
			t.Errorf("choosing the default removes the override on 1.24: %s", jsonStr(e))
		}
	})
	for _, g := range generations {
		t.Run(g.String()+" errors", func(t *testing.T) {
			srv := newServer(t, Options{Generation: g})
			c, _ := connected(t, srv, "test-token", nil)
			for model, want := range map[string]string{
				"fake/no-such-model": "model not allowed: fake/no-such-model",
				"nosuchprovider/foo": "model not allowed: nosuchprovider/foo",
				"no-slash-model":     "model not allowed: fake/no-slash-model",
				"  ":                 "invalid model: empty",
			} {
				if got := errMsg(c.request("sessions.patch", obj{"key": "agent:main:x", "model": model})); got != "INVALID_REQUEST: "+want {
					t.Errorf("model %q: %s", model, got)
				}
			}
			if p := sub(c.request("sessions.list", obj{"search": "agent:main:x"}), "payload"); len(p["sessions"].([]any)) != 0 {
				t.Error("a rejected patch must not create the session")
			}
			res := c.request("sessions.patch", obj{"key": "agent:main:new", "label": "L"})
			if res["ok"] != true || str(sub(sub(res, "payload"), "entry"), "label") != "L" {
				t.Fatalf("patching an unknown key creates it: %s", jsonStr(res))
			}
			if got := errMsg(c.request("sessions.patch", obj{"key": "agent:main:other", "label": "L"})); got != "INVALID_REQUEST: label already in use: L" {
				t.Errorf("duplicate label: %s", got)
			}
			want := "INVALID_REQUEST: invalid sessions.patch params: at root: unexpected property 'spawnedBy'"
			if g == Clawdbot {
				want = "INVALID_REQUEST: spawnedBy is only supported for subagent:* sessions"
			}
			if got := errMsg(c.request("sessions.patch", obj{"key": "agent:main:new", "spawnedBy": "agent:main:main"})); got != want {
				t.Errorf("spawnedBy: %s", got)
			}
		})
	}
}

func TestModelsList(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	c, _ := connected(t, srv, "test-token", nil)
	models := sub(c.request("models.list", obj{}), "payload")["models"].([]any)
	if len(models) != 633 {
		t.Errorf("1.24 returns its full catalog (633 recorded models), got %d", len(models))
	}
	found := false
	for _, m := range models {
		found = found || (str(m.(obj), "provider") == "fake" && str(m.(obj), "id") == "fake-echo")
	}
	if !found {
		t.Error("fake/fake-echo missing from the catalog")
	}
	if got := errMsg(c.request("models.list", obj{"view": "all"})); got != "INVALID_REQUEST: invalid models.list params: at root: unexpected property 'view'" {
		t.Errorf("params must be {} on 1.24: %s", got)
	}

	srv = newServer(t, Options{Generation: OpenClaw, AllowedModels: []string{DefaultModel, "fake/other"}})
	c, _ = connected(t, srv, "test-token", nil)
	models = sub(c.request("models.list", obj{"view": "default"}), "payload")["models"].([]any)
	var ids []string
	for _, m := range models {
		ids = append(ids, str(m.(obj), "provider")+"/"+str(m.(obj), "id"))
	}
	if strings.Join(ids, " ") != "fake/fake-echo fake/other" {
		t.Errorf("2026.9.6 lists the allowlist: %v", ids)
	}
	if str(models[0].(obj), "alias") != "Fake" {
		t.Errorf("recorded alias missing: %s", jsonStr(models[0]))
	}
}

func TestStatusAndHealth(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	admin, _ := connected(t, srv, "test-token", nil)
	admin.requestFinal("agent", obj{"message": "hi", "sessionKey": "agent:main:fresh", "idempotencyKey": "s1"})
	st := sub(admin.request("status", nil), "payload")
	ss := sub(st, "sessions")
	recent := ss["recent"].([]any)
	if jsonStr(ss["count"]) != "4" || str(recent[0].(obj), "key") != "agent:main:fresh" {
		t.Errorf("status sessions: count %v first %s", ss["count"], jsonStr(recent[0]))
	}
	reader, _ := connected(t, srv, "test-token", obj{"scopes": []any{scopeRead}})
	ss = sub(sub(reader.request("status", nil), "payload"), "sessions")
	if jsonStr(ss["recent"]) != "[]" || jsonStr(ss["paths"]) != "[]" || jsonStr(ss["count"]) != "4" {
		t.Errorf("read-scoped status must be redacted (recorded): %s", jsonStr(ss))
	}
	h := sub(admin.request("health", nil), "payload")
	if jsonStr(sub(h, "sessions")["count"]) != "4" || h["ok"] != true {
		t.Errorf("health sessions: %s", jsonStr(sub(h, "sessions")))
	}
}
