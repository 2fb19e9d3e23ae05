package tools_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// start_subagent, wait_subagent, cancel_subagent and list_subagents against
// the simulator of both generations. The e2e tier (e2e/subagents_test.go)
// runs the same against the real gateways, with a real process restart.

// start starts a run and returns its handle.
func start(t *testing.T, e *env, args map[string]any) tools.StartSubagentOutput {
	t.Helper()
	var out tools.StartSubagentOutput
	if res := e.call(t, testwait.Ctx(t), "start_subagent", args, &out); res.IsError {
		t.Fatalf("start_subagent %v: %s", args, text(res))
	}
	return out
}

// waitRun calls wait_subagent.
func waitRun(t *testing.T, e *env, runID string, seconds int) (tools.WaitSubagentOutput, string, bool) {
	t.Helper()
	var out tools.WaitSubagentOutput
	res := e.call(t, testwait.Ctx(t), "wait_subagent", map[string]any{"run_id": runID, "wait_seconds": seconds}, &out)
	return out, text(res), res.IsError
}

// A started run answers at once with a handle; wait_subagent says it is
// running, then returns what ask_subagent would have, collects it (the
// private session is removed) and list_subagents no longer shows it.
func TestSubagentStartWaitCollect(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			st := start(t, e, map[string]any{"message": "[[delay=1]] long work", "model": "fake/fake-echo"})
			gotwant.Fatal(t, fmt.Sprintf("%+v", st),
				gotwant.Eq("status", st.Status, "running"),
				gotwant.HasPrefix("run_id", st.RunID, "sa_"),
				gotwant.That("session_key", tools.IsPrivateSession(st.SessionKey), st.SessionKey, "a private session"),
				gotwant.Eq("mode", st.Mode, "agent"),
				gotwant.Eq("model", st.Model, "fake/fake-echo"))
			var ls tools.ListSubagentsOutput
			e.call(t, testwait.Ctx(t), "list_subagents", nil, &ls)
			if len(ls.Runs) != 1 || ls.Runs[0].RunID != st.RunID || ls.Runs[0].Status != "running" {
				t.Fatalf("list_subagents while running: %+v", ls)
			}
			running, _, isErr := waitRun(t, e, st.RunID, 0)
			if isErr || running.Status != "running" || running.Progress == nil || running.Text != "" {
				t.Fatalf("wait 0 while running: %+v", running)
			}
			done, txt, isErr := waitRun(t, e, st.RunID, 30)
			if isErr {
				t.Fatal(txt)
			}
			gotwant.Error(t, fmt.Sprintf("%+v", done),
				gotwant.Eq("status", done.Status, "ok"),
				gotwant.Eq("text", done.Text, "FAKE-REPLY: you said <<] long work>>"),
				gotwant.Eq("text content", txt, done.Text),
				gotwant.Eq("model", done.Model, "fake/fake-echo"),
				gotwant.Eq("session_key", done.SessionKey, st.SessionKey),
				gotwant.That("session_kept", done.SessionKept != nil && !*done.SessionKept, done.SessionKept, "false"),
				gotwant.That("usage", done.Usage != nil && done.Usage.Total > 0, done.Usage, "tokens"))
			if err := e.fake.WaitSessionGone(testwait.Ctx(t), st.SessionKey); err != nil {
				t.Errorf("collected run's private session: %v", err)
			}
			e.call(t, testwait.Ctx(t), "list_subagents", nil, &ls)
			if len(ls.Runs) != 0 {
				t.Errorf("list_subagents after collection: %+v", ls)
			}
			// A second wait returns the same result (for a while).
			again, _, isErr := waitRun(t, e, st.RunID, 0)
			if isErr || again.Text != done.Text {
				t.Errorf("second wait: %+v", again)
			}
		})
	}
}

// wait_seconds bounds the wait: a run that goes on is reported running,
// and its result, arriving with nobody waiting, is kept until collected.
func TestSubagentWaitBoundAndKeptResult(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	slow := start(t, e, map[string]any{"message": fmt.Sprintf("[[delay=%.0f]] slow", testwait.LongTimeout.Seconds())})
	out, _, isErr := waitRun(t, e, slow.RunID, 1)
	if isErr || out.Status != "running" {
		t.Fatalf("wait 1 on a long run: %+v", out)
	}
	fast := start(t, e, map[string]any{"message": "fast"})
	runs, err := e.fake.WaitRuns(testwait.Ctx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.WaitRunDone(testwait.Ctx(t), runs[1].RunID); err != nil {
		t.Fatal(err)
	}
	got, _, isErr := waitRun(t, e, fast.RunID, 10) // returns as soon as clawgate has the final reply
	if isErr || got.Status != "ok" || got.Text != "FAKE-REPLY: you said <<fast>>" {
		t.Fatalf("a result nobody waited for: %+v", got)
	}
	var ls tools.ListSubagentsOutput
	e.call(t, testwait.Ctx(t), "list_subagents", nil, &ls)
	if len(ls.Runs) != 1 || ls.Runs[0].RunID != slow.RunID {
		t.Errorf("list_subagents: %+v, want only the slow run", ls)
	}
}

// cancel_subagent stops the run on the gateway (OpenClaw: abort; Clawdbot:
// by removing the private session) and removes its private session.
func TestSubagentCancel(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			st := start(t, e, map[string]any{"message": fmt.Sprintf("[[delay=%.0f]] stop me", testwait.LongTimeout.Seconds())})
			var out tools.CancelSubagentOutput
			if res := e.call(t, testwait.Ctx(t), "cancel_subagent", map[string]any{"run_id": st.RunID}, &out); res.IsError {
				t.Fatal(text(res))
			}
			if out.Status != "cancelled" || !out.Stopped {
				t.Errorf("cancel: %+v", out)
			}
			runs := e.fake.Runs()
			if len(runs) != 1 {
				t.Fatalf("runs %+v", runs)
			}
			if _, err := e.fake.WaitAborted(testwait.Ctx(t), runs[0].RunID); err != nil {
				t.Errorf("the run goes on: %v", err)
			}
			if err := e.fake.WaitSessionGone(testwait.Ctx(t), st.SessionKey); err != nil {
				t.Errorf("private session: %v", err)
			}
			var ls tools.ListSubagentsOutput
			e.call(t, testwait.Ctx(t), "list_subagents", nil, &ls)
			if len(ls.Runs) != 0 {
				t.Errorf("list_subagents after cancel: %+v", ls)
			}
		})
	}
}

// secondClawgate is another clawgate process on the same gateway: a new
// gateway client and MCP server, as after a restart.
func secondClawgate(t *testing.T, e *env) *env {
	t.Helper()
	gw, err := gateway.New(gateway.Options{URL: e.fake.URL(), Token: token, AgentGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return &env{fake: e.fake, gw: gw, c: newInProcess(t, gw, tools.Config{})}
}

// A run outlives the clawgate that started it (its client closes without
// aborting it), and another clawgate collects it by its handle from
// agent.wait and the session's transcript; a mode model run's result is
// gone with its process.
func TestSubagentCollectedAfterRestart(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			st := start(t, e, map[string]any{"message": "[[delay=1]] outlive me"})
			runs, err := e.fake.WaitRuns(testwait.Ctx(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			e.gw.Close() // the first clawgate exits
			if _, err := e.fake.WaitRunDone(testwait.Ctx(t), runs[0].RunID); err != nil {
				t.Fatal(err)
			}
			if r, _ := e.fake.WaitRunDone(testwait.Ctx(t), runs[0].RunID); r.Aborted {
				t.Fatalf("closing the first clawgate aborted its started run")
			}
			b := secondClawgate(t, e)
			out, txt, isErr := waitRun(t, b, st.RunID, 10)
			if isErr {
				t.Fatal(txt)
			}
			gotwant.Error(t, fmt.Sprintf("%+v", out),
				gotwant.Eq("status", out.Status, "ok"),
				gotwant.Eq("text", out.Text, "FAKE-REPLY: you said <<] outlive me>>"),
				gotwant.Eq("model", out.Model, "fake/fake-echo"),
				gotwant.That("usage", out.Usage != nil && out.Usage.Total > 0 && out.Usage.Input > 0, out.Usage, "tokens from the transcript"),
				gotwant.Contains("note", out.Note, "did not start the run"))
			if err := e.fake.WaitSessionGone(testwait.Ctx(t), st.SessionKey); err != nil {
				t.Errorf("private session after collection: %v", err)
			}
		})
	}
	t.Run("model mode", func(t *testing.T) {
		e := setup(t, gatewaysim.OpenClaw, tools.Config{})
		st := start(t, e, map[string]any{"message": "[[delay=1]] bare", "mode": "model"})
		e.gw.Close()
		_, txt, isErr := waitRun(t, secondClawgate(t, e), st.RunID, 0)
		if !isErr || !strings.Contains(txt, `mode "model" run started by another clawgate process`) || !strings.Contains(txt, "it is gone") {
			t.Fatalf("%s", txt)
		}
	})
}

// Garbage handles are refused with a sentence, before any gateway request.
func TestSubagentGarbageHandles(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	forged := func(v string) string {
		return "sa_" + base64.RawURLEncoding.EncodeToString([]byte(v))
	}
	for _, tc := range []struct{ handle, want string }{
		{"garbage", "does not start with sa_"},
		{"sa_!!!", "it is damaged"},
		{forged(`{"v":1,"r":"not-a-uuid","k":"agent:main:x","m":"agent","t":1}`), "it names no run"},
		{forged(`{"v":1,"r":"` + uuid.NewString() + `","k":"agent:main:x","m":"sideways","t":1}`), "it names no mode"},
		{forged(`{"v":1,"r":"` + uuid.NewString() + `","k":"agent:main:main","m":"agent","p":true,"t":1}`), "not one clawgate creates"},
		{forged(`{"v":1,"r":"` + uuid.NewString() + `","k":"agent:main:x","m":"agent","t":1,"extra":1}`), "it is damaged"},
		{strings.Repeat("a", 3000), "longer than 2048"},
	} {
		for _, tool := range []string{"wait_subagent", "cancel_subagent"} {
			res := e.call(t, testwait.Ctx(t), tool, map[string]any{"run_id": tc.handle}, nil)
			if !res.IsError || !strings.Contains(text(res), tc.want) || !strings.Contains(text(res), "is not a handle from start_subagent") {
				t.Errorf("%s %.40q: %s", tool, tc.handle, text(res))
			}
		}
	}
	for _, r := range e.fake.Requests() {
		if r.Method != "connect" {
			t.Errorf("a garbage handle sent %s", r.Method)
		}
	}
}

// --read-only serves none of the run tools: no run can be started there,
// and agent.wait needs operator.write.
func TestSubagentToolsNotReadOnly(t *testing.T) {
	for _, name := range tools.Names(true) {
		if strings.Contains(name, "subagent") {
			t.Errorf("--read-only serves %s", name)
		}
	}
}

// A well-formed handle of a run the gateway never knew, whose session does
// not exist, is an error (agent.wait alone would say "timeout" forever).
func TestSubagentUnknownRun(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{})
			h := "sa_" + base64.RawURLEncoding.EncodeToString([]byte(
				`{"v":1,"r":"`+uuid.NewString()+`","k":"agent:main:subagent:clawgate-0123456789","m":"agent","p":true,"t":`+fmt.Sprint(time.Now().UnixMilli())+`}`))
			_, txt, isErr := waitRun(t, e, h, 1)
			if !isErr || !strings.Contains(txt, "is not known to the gateway and its session agent:main:subagent:clawgate-0123456789 does not exist") {
				t.Fatalf("%s", txt)
			}
		})
	}
}
