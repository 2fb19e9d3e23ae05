package gatewaysim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
)

// runEvents returns the agent/chat events of runID received by c.
func runEvents(c *testClient, runID string) []obj {
	var out []obj
	for _, f := range c.snapshot() {
		if str(f, "type") == "event" && str(sub(f, "payload"), "runId") == runID {
			out = append(out, f)
		}
	}
	return out
}

// eventKinds renders events as "agent:lifecycle:start", "chat:delta", ...
func eventKinds(evs []obj) string {
	var ks []string
	for _, f := range evs {
		p := sub(f, "payload")
		k := str(f, "event") + ":" + str(p, "stream") + str(p, "state")
		if ph := str(sub(p, "data"), "phase"); ph != "" {
			k += ":" + ph
		}
		ks = append(ks, k)
	}
	return strings.Join(ks, " ")
}

func TestAgentRunStreams(t *testing.T) {
	want := map[Generation]string{
		// one assistant event per word of "FAKE-REPLY: you said <<hello there friend>>"
		Clawdbot: "agent:lifecycle:start agent:assistant chat:delta agent:assistant agent:assistant agent:assistant " +
			"agent:assistant agent:assistant agent:lifecycle:end chat:final",
		OpenClaw: "agent:lifecycle:start agent:lifecycle:model agent:assistant chat:delta agent:assistant agent:usage " +
			"agent:lifecycle:finishing agent:lifecycle:model agent:lifecycle:end chat:delta chat:final",
	}
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		frames := c.requestFinal("agent", obj{"message": "hello  there\nfriend\n\nsecond paragraph",
			"sessionKey": "agent:main:t1", "idempotencyKey": "run-1", "timeout": 60})
		if len(frames) != 2 {
			t.Fatalf("want accepted + final, got %d frames", len(frames))
		}
		acc := sub(frames[0], "payload")
		wantAcc := "acceptedAt,runId,status"
		if g == OpenClaw {
			wantAcc = "acceptedAt,agentId,runId,sessionKey,status"
		}
		if keysOf(acc) != wantAcc || str(acc, "runId") != "run-1" {
			t.Errorf("accepted %s", jsonStr(acc))
		}
		const reply = "FAKE-REPLY: you said <<hello there friend>>"
		fin := sub(frames[1], "payload")
		result := sub(fin, "result")
		if str(fin, "status") != "ok" || str(fin, "summary") != "completed" || str(firstObj(result, "payloads"), "text") != reply {
			t.Fatalf("final %s", jsonStr(fin))
		}
		am := sub(sub(result, "meta"), "agentMeta")
		if jsonStr(sub(am, "usage")["output"]) != "6" || jsonStr(sub(am, "usage")["total"]) != "16" || str(am, "model") != "fake-echo" {
			t.Errorf("agentMeta %s", jsonStr(am))
		}

		evs := runEvents(c, "run-1")
		if got := eventKinds(evs); got != want[g] {
			t.Errorf("events\n got: %s\nwant: %s", got, want[g])
		}
		var prevSeq int64
		lastText := ""
		for _, f := range evs {
			p := sub(f, "payload")
			if str(p, "sessionKey") != "agent:main:t1" {
				t.Errorf("event without the session key: %s", jsonStr(p))
			}
			if str(f, "event") != "agent" {
				continue
			}
			seq, _ := num(p["seq"])
			if str(sub(p, "data"), "phase") != "error" && seq <= prevSeq {
				t.Errorf("agent payload.seq not increasing: %d after %d", seq, prevSeq)
			}
			prevSeq = seq
			if str(p, "stream") == "assistant" {
				text := str(sub(p, "data"), "text")
				if !strings.HasPrefix(text, lastText) || text != lastText+str(sub(p, "data"), "delta") {
					t.Errorf("assistant text must be cumulative: %q then %q", lastText, text)
				}
				lastText = text
			}
		}
		if lastText != reply {
			t.Errorf("streamed text %q", lastText)
		}
		if txt := str(firstObj(sub(evs[len(evs)-1], "payload")["message"].(obj), "content"), "text"); txt != reply {
			t.Errorf("chat final text %q", txt)
		}
		row := sub(c.request("sessions.list", obj{"search": "agent:main:t1"}), "payload")["sessions"].([]any)[0].(obj)
		if jsonStr(row["outputTokens"]) != "6" || jsonStr(row["inputTokens"]) != "10" {
			t.Errorf("the store must record the run: %s", jsonStr(row))
		}
		runs := srv.Runs()
		if gotwant.Error(t, fmt.Sprintf("Runs() = %+v", runs), gotwant.Eq("runs", len(runs), 1)) {
			gotwant.Error(t, fmt.Sprintf("Runs() = %+v", runs),
				gotwant.Eq("done", runs[0].Done, true),
				gotwant.Eq("aborted", runs[0].Aborted, false),
				gotwant.Eq("session key", runs[0].SessionKey, "agent:main:t1"),
				gotwant.Eq("model", runs[0].Model, DefaultModel),
			)
		}
	})
}

func TestAgentDelayAndConcurrency(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	c, _ := connected(t, srv, "test-token", nil)
	// A run of a minute: the same connection keeps answering while it goes
	// on. The session row says the run is active, so the answer did not wait
	// for the run, however slow the machine.
	c.sendJSON(obj{"type": "req", "id": "slow", "method": "agent", "params": obj{"message": "wait [[delay=60]]",
		"sessionKey": "agent:main:slow", "idempotencyKey": "slow-1"}})
	if acc, _ := c.waitFor(isRes("slow"), 0, testwait.Patience()); str(sub(acc, "payload"), "status") != "accepted" {
		t.Fatalf("accepted: %s", jsonStr(acc))
	}
	res := c.request("sessions.list", obj{"search": "agent:main:slow"})
	row := sub(res, "payload")["sessions"].([]any)[0].(obj)
	if row["hasActiveRun"] != true || jsonStr(row["activeRunIds"]) != `["slow-1"]` || str(row, "status") != "running" {
		t.Errorf("running session row: %s", jsonStr(row))
	}
	_, i := c.waitFor(isRes("slow"), 0, testwait.Patience())
	if f, _ := c.waitFor(isRes("slow"), i+1, 0); f != nil {
		t.Fatalf("the minute-long run already ended: %s", jsonStr(f))
	}
	// The delay is honoured: a short run ends no sooner than it says.
	start := time.Now()
	c.sendJSON(obj{"type": "req", "id": "short", "method": "agent", "params": obj{"message": "wait [[delay=0.6]]",
		"sessionKey": "agent:main:short", "idempotencyKey": "short-1"}})
	fin := c.final("short")
	if fin == nil || time.Since(start) < 600*time.Millisecond {
		t.Fatalf("[[delay=0.6]] run ended after %v", time.Since(start))
	}
	if txt := str(firstObj(sub(sub(fin, "payload"), "result"), "payloads"), "text"); txt != "FAKE-REPLY: you said <<wait [[delay=0.6]]>>" {
		t.Errorf("reply %q", txt)
	}
}

// runDelay is a [[delay=N]] long enough for the test to make a few more
// requests while the run goes on: testwait.QuickTimeout of a round trip on
// c, and at least 0.4 s.
func runDelay(t *testing.T, c *testClient) string {
	t.Helper()
	d := testwait.QuickTimeout(t, func() error {
		c.request("health", nil)
		return nil
	})
	return fmt.Sprintf("[[delay=%.3f]]", max(d, 400*time.Millisecond).Seconds())
}

func TestAgentAbortOpenClaw(t *testing.T) {
	for _, method := range []string{"chat.abort", "sessions.abort"} {
		t.Run(method, func(t *testing.T) {
			srv := newServer(t, Options{Generation: OpenClaw})
			c, _ := connected(t, srv, "test-token", nil)
			watcher, _ := connected(t, srv, "test-token", obj{"scopes": []any{scopeRead}})
			c.startRun("a", obj{"message": "long [[delay=30]]",
				"sessionKey": "agent:main:ab", "idempotencyKey": "ab-1"})
			params := obj{"sessionKey": "agent:main:ab", "runId": "ab-1"}
			if method == "sessions.abort" {
				params = obj{"key": "agent:main:ab", "runId": "ab-1"}
			}
			res := sub(c.request(method, params), "payload")
			if method == "chat.abort" && (res["aborted"] != true || jsonStr(res["runIds"]) != `["ab-1"]`) {
				t.Errorf("chat.abort result %s", jsonStr(res))
			}
			if method == "sessions.abort" && (str(res, "abortedRunId") != "ab-1" || str(res, "status") != "aborted") {
				t.Errorf("sessions.abort result %s", jsonStr(res))
			}
			fin := c.final("a")
			p := sub(fin, "payload")
			gotwant.Fatal(t, "aborted final (recorded shape) "+jsonStr(fin),
				gotwant.Eq[any]("ok", fin["ok"], true),
				gotwant.Eq("payload.status", str(p, "status"), "timeout"),
				gotwant.Eq("payload.summary", str(p, "summary"), "aborted"),
				gotwant.Eq("payload.stopReason", str(p, "stopReason"), "rpc"),
			)
			want := "agent:lifecycle:start chat:aborted agent:lifecycle:end agent:lifecycle:error"
			if got := eventKinds(runEvents(c, "ab-1")); got != want {
				t.Errorf("events\n got: %s\nwant: %s", got, want)
			}
			watcher.waitFor(func(f obj) bool {
				return str(sub(f, "payload"), "runId") == "ab-1" && str(sub(sub(f, "payload"), "data"), "phase") == "error"
			}, 0, testwait.Patience())
			if got := eventKinds(runEvents(watcher, "ab-1")); got != want {
				t.Errorf("other read-scoped clients see the events too: %s", got)
			}
			row := sub(c.request("sessions.list", obj{"search": "agent:main:ab"}), "payload")["sessions"].([]any)[0].(obj)
			if row["abortedLastRun"] != true || str(row, "status") != "killed" {
				t.Errorf("row after abort: %s", jsonStr(row))
			}
			if r := srv.Runs(); len(r) != 1 || !r[0].Aborted || !r[0].Done {
				t.Errorf("Runs() = %+v", r)
			}
			again := sub(c.request(method, params), "payload")
			if method == "chat.abort" && (again["aborted"] != false || jsonStr(again["runIds"]) != "[]") {
				t.Errorf("second abort %s", jsonStr(again))
			}
			if method == "sessions.abort" && (again["abortedRunId"] != nil || str(again, "status") != "no-active-run") {
				t.Errorf("second abort %s", jsonStr(again))
			}
		})
	}
}

func TestAgentAbortClawdbot(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	c, _ := connected(t, srv, "test-token", nil)
	c.startRun("a", obj{"message": "x [[delay=0.3]]",
		"sessionKey": "agent:main:ab", "idempotencyKey": "ab-1"})
	res := sub(c.request("chat.abort", obj{"sessionKey": "agent:main:ab", "runId": "ab-1"}), "payload")
	if res["aborted"] != false || jsonStr(res["runIds"]) != "[]" {
		t.Errorf("1.24 cannot abort agent runs: %s", jsonStr(res))
	}
	fin := c.final("a")
	if str(sub(fin, "payload"), "status") != "ok" {
		t.Errorf("the run must complete normally: %s", jsonStr(fin))
	}
}

func TestAgentIdempotency(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		// The duplicate must come while the run goes on.
		params := obj{"message": "dup " + runDelay(t, c), "sessionKey": "agent:main:dup", "idempotencyKey": "dup-1"}
		acc := c.startRun("first", params)
		dup := c.request("agent", params)
		p := sub(dup, "payload")
		if g == OpenClaw && (str(p, "status") != "in_flight" || str(p, "sessionKey") != "agent:main:dup") {
			t.Errorf("duplicate while running: %s", jsonStr(dup))
		}
		if g == Clawdbot && jsonStr(p) != jsonStr(sub(acc, "payload")) {
			t.Errorf("1.24 replays the cached accepted payload: %s vs %s", jsonStr(p), jsonStr(sub(acc, "payload")))
		}
		fin := c.final("first")
		again := c.requestFinal("agent", params)
		if len(again) != 1 || jsonStr(sub(again[0], "payload")) != jsonStr(sub(fin, "payload")) {
			t.Errorf("a finished key returns the cached final as one frame: %d frames", len(again))
		}
		if n := len(srv.Runs()); n != 1 {
			t.Errorf("duplicates must not start runs: %d runs", n)
		}
	})
}

func TestAgentFailuresClawdbot(t *testing.T) {
	srv := newServer(t, Options{Generation: Clawdbot})
	c, _ := connected(t, srv, "test-token", nil)
	for params, msg := range map[string]obj{
		"Error: Pass --to <E.164>, --session-id, or --agent to choose a session": {"message": "x", "idempotencyKey": "f1"},
		"Error: --timeout must be a positive integer (seconds)":                  {"message": "x", "idempotencyKey": "f2", "sessionKey": "k", "timeout": 0},
	} {
		frames := c.requestFinal("agent", msg)
		if len(frames) != 2 || str(sub(frames[0], "payload"), "status") != "accepted" {
			t.Fatalf("want accepted then failure, got %s", jsonStr(frames))
		}
		f := frames[1]
		gotwant.Error(t, "failure frame "+jsonStr(f),
			gotwant.Eq[any]("ok", f["ok"], false),
			gotwant.Eq("payload.status", str(sub(f, "payload"), "status"), "error"),
			gotwant.Eq("payload.summary", str(sub(f, "payload"), "summary"), params),
			gotwant.Eq("error", errMsg(f), "UNAVAILABLE: "+params),
		)
	}
	if got := errMsg(c.request("agent", obj{"message": "x", "idempotencyKey": "f3", "sessionKey": "k", "model": "fake/fake-echo"})); got !=
		"INVALID_REQUEST: invalid agent params: at root: unexpected property 'model'" {
		t.Errorf("model param on 1.24: %s", got)
	}
}

func TestAgentOpenClawSessionAndModel(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, AllowedModels: []string{DefaultModel, "fake/other"}})
	c, _ := connected(t, srv, "test-token", nil)
	frames := c.requestFinal("agent", obj{"message": "no key", "idempotencyKey": "nk"})
	if _, ok := sub(frames[0], "payload")["sessionKey"]; ok {
		t.Errorf("accepted without sessionKey must not invent one (recorded): %s", jsonStr(frames[0]))
	}
	if m := listModel(t, c, "agent:main:explicit:nk"); m != DefaultModel {
		t.Errorf("explicit session model %s", m)
	}
	frames = c.requestFinal("agent", obj{"message": "m", "idempotencyKey": "m1", "sessionKey": "agent:main:m", "model": "other"})
	if am := sub(sub(sub(sub(frames[1], "payload"), "result"), "meta"), "agentMeta"); str(am, "model") != "other" {
		t.Errorf("model param: %s", jsonStr(am))
	}
	frames = c.requestFinal("agent", obj{"message": "m", "idempotencyKey": "m2", "sessionKey": "agent:main:m", "model": "fake/nope"})
	want := `UNAVAILABLE: Model override "fake/nope" is not allowed for agent "main" by agents.defaults.models. Add "fake/nope" or "fake/*" to agents.defaults.modelPolicy.allow, or remove/empty the list to allow any model.`
	if len(frames) != 2 || errMsg(frames[1]) != want {
		t.Errorf("disallowed model: %s", jsonStr(frames))
	}
}

func TestAgentWait(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		c.startRun("w", obj{"message": "w [[delay=0.2]]",
			"sessionKey": "agent:main:w", "idempotencyKey": "w-1"})
		// The run ends after 0.2 s: agent.wait may wait as long as that
		// takes on this machine.
		p := sub(c.request("agent.wait", obj{"runId": "w-1", "timeoutMs": testwait.Patience().Milliseconds()}), "payload")
		if str(p, "status") != "ok" || str(p, "runId") != "w-1" || p["endedAt"] == nil {
			t.Errorf("agent.wait %s", jsonStr(p))
		}
		p = sub(c.request("agent.wait", obj{"runId": "unknown", "timeoutMs": 0}), "payload")
		if keysOf(p) != "runId,status" || str(p, "status") != "timeout" {
			t.Errorf("unknown run %s", jsonStr(p))
		}
	})
}

func TestEventSeq(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, a *testClient) {
		a.requestFinal("agent", obj{"message": "one", "sessionKey": "agent:main:s", "idempotencyKey": "s1"})
		b, _ := connected(t, srv, "test-token", nil)
		a.requestFinal("agent", obj{"message": "two", "sessionKey": "agent:main:s", "idempotencyKey": "s2"})
		isFinal := func(f obj) bool {
			return isEvent("chat")(f) && str(sub(f, "payload"), "runId") == "s2" && str(sub(f, "payload"), "state") == "final"
		}
		if f, _ := b.waitFor(isFinal, 0, testwait.Patience()); f == nil {
			t.Fatal("the second client did not see the run")
		}
		seqs := func(c *testClient, runID string) []int64 {
			var out []int64
			for _, f := range c.snapshot() {
				if str(f, "type") != "event" || str(f, "event") == "connect.challenge" {
					continue
				}
				if runID == "" || str(sub(f, "payload"), "runId") == runID {
					n, _ := num(f["seq"])
					out = append(out, n)
				}
			}
			return out
		}
		for _, c := range []*testClient{a, b} {
			all := seqs(c, "")
			for i := 1; i < len(all); i++ {
				if all[i] <= all[i-1] {
					t.Fatalf("event seq not increasing: %v", all)
				}
			}
		}
		sa, sb := seqs(a, "s2"), seqs(b, "s2")
		if len(sa) == 0 || len(sa) != len(sb) {
			t.Fatalf("both clients see the run: %v %v", sa, sb)
		}
		if g == Clawdbot && sa[0] != sb[0] {
			t.Errorf("1.24 numbers broadcasts globally: %v vs %v", sa, sb)
		}
		if g == OpenClaw {
			if first := seqs(b, ""); first[0] != 1 {
				t.Errorf("2026.9.6 numbers per connection from 1: %v", first)
			}
			if sa[0] == sb[0] {
				t.Errorf("per-connection numbering should differ here: %v vs %v", sa, sb)
			}
		}
	})
}

func TestTicks(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw, TickInterval: 50 * time.Millisecond})
	c, _ := connected(t, srv, "test-token", obj{"scopes": []any{}})
	tick, _ := c.waitFor(isEvent("tick"), 0, testwait.Patience())
	if tick == nil || keysOf(sub(tick, "payload")) != "ts" || tick["seq"] == nil {
		t.Fatalf("tick %s (ticks need no scope)", jsonStr(tick))
	}
	srv2 := newServer(t, Options{Generation: OpenClaw, TickInterval: -1})
	c2, _ := connected(t, srv2, "test-token", nil)
	// A window to catch a tick (six intervals of the first server): it
	// cannot fail a correct fake, however slow.
	if f, _ := c2.waitFor(isEvent("tick"), 0, 6*50*time.Millisecond); f != nil {
		t.Error("negative TickInterval must disable ticks")
	}
}

func TestEmitAgentEvent(t *testing.T) {
	srv := newServer(t, Options{Generation: OpenClaw})
	admin, _ := connected(t, srv, "test-token", nil)
	none, noneHello := connected(t, srv, "test-token", obj{"scopes": []any{}})
	srv.EmitAgentEvent("foreign-run", "tool", obj{"phase": "start", "name": "exec"})
	srv.EmitAgentEvent("foreign-run", "tool", obj{"phase": "result", "name": "exec"})
	ev, i := admin.waitFor(isEvent("agent"), 0, testwait.Patience())
	ev2, _ := admin.waitFor(isEvent("agent"), i+1, testwait.Patience())
	p := sub(ev, "payload")
	gotwant.Error(t, fmt.Sprintf("injected events %s %s", jsonStr(ev), jsonStr(ev2)),
		gotwant.Eq("runId", str(p, "runId"), "foreign-run"),
		gotwant.Eq("stream", str(p, "stream"), "tool"),
		gotwant.Eq("seq", jsonStr(p["seq"]), "1"),
		gotwant.Eq("second seq", jsonStr(sub(ev2, "payload")["seq"]), "2"),
	)
	// Events are queued per connection in order, the agent events before
	// returning from EmitAgentEvent: once a later event reaches none, an
	// agent event for none would have arrived before it.
	sentinel := false
	for _, sc := range srv.Conns() {
		if sc.connID == str(sub(noneHello, "server"), "connId") {
			_ = sc.Event("test.sentinel", obj{})
			sentinel = true
		}
	}
	if !sentinel {
		t.Fatal("no server connection for the read-less client")
	}
	if f, _ := none.waitFor(isEvent("test.sentinel"), 0, testwait.Patience()); f == nil {
		t.Fatal("no sentinel event")
	}
	if f, _ := none.waitFor(isEvent("agent"), 0, 0); f != nil {
		t.Error("2026.9.6 withholds agent events from sockets without operator.read")
	}
}

func TestChatHistory(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		c.requestFinal("agent", obj{"message": "first", "sessionKey": "agent:main:h", "idempotencyKey": "h1"})
		c.requestFinal("agent", obj{"message": "second", "sessionKey": "agent:main:h", "idempotencyKey": "h2"})
		p := sub(c.request("chat.history", obj{"sessionKey": "agent:main:h", "limit": 3}), "payload")
		msgs := p["messages"].([]any)
		if len(msgs) != 3 {
			t.Fatalf("want the newest 3 messages, got %d", len(msgs))
		}
		last := msgs[2].(obj)
		if str(last, "role") != "assistant" || str(firstObj(last, "content"), "text") != "FAKE-REPLY: you said <<second>>" {
			t.Errorf("last message %s", jsonStr(last))
		}
		if g == OpenClaw && (jsonStr(p["totalMessages"]) != "4" || p["hasMore"] != true) {
			t.Errorf("paging %v %v", p["totalMessages"], p["hasMore"])
		}
	})
}
