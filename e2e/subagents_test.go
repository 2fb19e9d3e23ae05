//go:build e2e

package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// Background runs (start_subagent, wait_subagent, cancel_subagent,
// list_subagents) against the real gateways: a run started by one clawgate
// process goes on on the gateway, and its handle is collected or cancelled
// by the next one; the fake model's request log shows what really happened
// to each model call.

// collectDeadline bounds the wait for a run's result across wait_subagent
// calls: generous, since the machine is shared and a gateway turn may be
// slow, but finite.
const collectDeadline = 3 * time.Minute

// startSub calls start_subagent with args and returns its handle.
func startSub(t *testing.T, c *mcpProc, args map[string]any) tools.StartSubagentOutput {
	t.Helper()
	out := wantOK[tools.StartSubagentOutput](t, callTool(t, c, 2*time.Minute, "start_subagent", args))
	gotwant.Fatal(t, fmt.Sprintf("start_subagent: %+v", out),
		gotwant.HasPrefix("run_id", out.RunID, "sa_"),
		gotwant.Eq("status", out.Status, "running"))
	return out
}

// waitSub calls wait_subagent for handle with wait_seconds secs (nil: the
// default), bounded by that wait plus a minute.
func waitSub(t *testing.T, c *mcpProc, handle string, secs *int) *mcptest.ToolResult {
	t.Helper()
	args := map[string]any{"run_id": handle}
	bound := 90 * time.Second
	if secs != nil {
		args["wait_seconds"] = *secs
		bound = time.Duration(*secs)*time.Second + time.Minute
	}
	return callTool(t, c, bound, "wait_subagent", args)
}

func seconds(n int) *int { return &n }

// collect calls wait_subagent (wait_seconds 55, the most) until the run is no
// longer running, at most until collectDeadline, and returns the result and
// how many calls it took.
func collect(t *testing.T, c *mcpProc, handle string) (tools.WaitSubagentOutput, string, int) {
	t.Helper()
	deadline := time.Now().Add(collectDeadline)
	for calls := 1; ; calls++ {
		res := waitSub(t, c, handle, seconds(55))
		out := wantOK[tools.WaitSubagentOutput](t, res)
		if out.Status != "running" {
			return out, res.Text(), calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still running after %d wait_subagent calls (%s): %s", handle, calls, collectDeadline, res.Text())
		}
	}
}

// listSub calls list_subagents.
func listSub(t *testing.T, c *mcpProc) tools.ListSubagentsOutput {
	t.Helper()
	return wantOK[tools.ListSubagentsOutput](t, callTool(t, c, 30*time.Second, "list_subagents", map[string]any{}))
}

// listed returns the row of handle in list, or nil.
func listed(list tools.ListSubagentsOutput, handle string) *tools.SubagentRun {
	for i := range list.Runs {
		if list.Runs[i].RunID == handle {
			return &list.Runs[i]
		}
	}
	return nil
}

// startGeneration starts clawgate process name against r's gateway with a
// given HOME, as an MCP client restarting its server would: the same HOME
// each time, a new process.
func startGeneration(t *testing.T, r *running, name, home string) *mcpProc {
	t.Helper()
	args, env := r.connect()
	c, _ := startClawgate(t, serverOpts{name: name, args: args, env: env, home: home})
	return c
}

// sharedHome returns a HOME directory for the clawgate processes of a test.
func sharedHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(s.testDir(t), "clawgate-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return home
}

// stopGeneration closes the process's stdin, as an MCP client does when it
// restarts its servers, and checks that it exits with 0 while its runs go
// on. It returns how long the exit took.
func stopGeneration(t *testing.T, c *mcpProc) time.Duration {
	t.Helper()
	start := time.Now()
	code, err := c.Close(15 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("%s did not exit cleanly with a run going: code %d, %v\n%s", c.name, code, err, harness.Tail(c.Stderr(), 20))
	}
	return time.Since(start)
}

// waitModelRequest waits until the fake model has received the request
// whose last user text holds nonce (in progress or not).
func waitModelRequest(t *testing.T, r *running, nonce string) fakemodel.Request {
	t.Helper()
	req, err := r.fake.WaitRequest(ctxFor(t, time.Minute), func(q fakemodel.Request) bool {
		return strings.Contains(q.UserText, nonce)
	})
	if err != nil {
		t.Fatalf("the run with %s never reached the model: %v", nonce, err)
	}
	return req
}

// waitModelCancelled waits until the fake model's request with nonce has
// ended and checks that it was cancelled (the gateway stopped the call).
func waitModelCancelled(t *testing.T, r *running, nonce string) fakemodel.Request {
	t.Helper()
	req, err := r.fake.WaitRequest(ctxFor(t, 30*time.Second), func(q fakemodel.Request) bool {
		return strings.Contains(q.UserText, nonce) && q.Done()
	})
	if err != nil {
		t.Fatalf("the model call with %s did not end within 30 s of the cancel: %v", nonce, err)
	}
	if !req.Cancelled {
		t.Errorf("the model call with %s ran to its end (after %s) instead of being stopped on the gateway",
			nonce, req.Ended.Sub(req.Received).Round(time.Millisecond))
	}
	return req
}

// progressOf decodes the notifications/progress for token.
func progressOf(t *testing.T, c *mcpProc, token string) ([]string, []mcptest.Notification) {
	t.Helper()
	var msgs []string
	var notes []mcptest.Notification
	var last float64
	for _, n := range c.Notifications("notifications/progress") {
		var p struct {
			ProgressToken any     `json:"progressToken"`
			Progress      float64 `json:"progress"`
			Message       string  `json:"message"`
		}
		if err := json.Unmarshal(n.Params, &p); err != nil {
			t.Fatal(err)
		}
		if p.ProgressToken != token {
			continue
		}
		if p.Progress <= last {
			t.Errorf("progress %v after %v for %s: not increasing", p.Progress, last, token)
		}
		last = p.Progress
		msgs = append(msgs, p.Message)
		notes = append(notes, n)
	}
	return msgs, notes
}

// wantCollected checks a wait_subagent result of a finished run of msg.
func wantCollected(t *testing.T, r *running, out tools.WaitSubagentOutput, text string, st tools.StartSubagentOutput, msg string) {
	t.Helper()
	reply := fakemodel.ReplyFor(msg)
	gotwant.Error(t, fmt.Sprintf("wait_subagent result: %+v", out),
		gotwant.Eq("run_id", out.RunID, st.RunID),
		gotwant.Eq("status", out.Status, "ok"),
		gotwant.Eq("text", out.Text, reply),
		gotwant.Eq("text content", text, reply),
		gotwant.Eq("mode", out.Mode, "agent"),
		gotwant.Eq("session_key", out.SessionKey, st.SessionKey),
		gotwant.That("session_kept", out.SessionKept != nil && !*out.SessionKept, out.SessionKept, "false"),
		gotwant.Eq("model", out.Model, harness.ModelRef),
		gotwant.Eq("provider", out.Provider, "fake"),
		gotwant.Ne("gateway_run_id", out.GatewayRunID, ""),
		gotwant.That("elapsed_ms", out.ElapsedMs > 0, out.ElapsedMs, "more than 0"))
	if u := out.Usage; u == nil || u.Input <= 0 || u.Output <= 0 || u.Total < u.Input+u.Output {
		t.Errorf("usage %+v, want input and output tokens", u)
	} else if r.gw.Product.Protocol >= 4 && (u.CostUSD == nil || *u.CostUSD <= 0) {
		t.Errorf("OpenClaw reports a cost, but the result has cost_usd %v", u.CostUSD)
	}
}

// TestSubagentStartWait starts a run with a 5 s model delay: start_subagent
// returns before the model answered; wait_subagent with wait_seconds 0 says
// running, list_subagents lists it; wait_subagent with wait_seconds 30 and
// a progress token returns the answer (progress notifications before the
// result, none after it); the private session is then removed and the run
// no longer listed. A second run finishes with nobody waiting: its private
// session stays until the result is collected.
func TestSubagentStartWait(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		nonce := randomHex(8)
		msg := "[[delay=5]] background subtask " + nonce
		sent := time.Now()
		st := startSub(t, c, map[string]any{"message": msg})
		took := time.Since(sent)
		gotwant.Error(t, fmt.Sprintf("start_subagent: %+v", st),
			gotwant.That("session_key", tools.IsPrivateSession(st.SessionKey), st.SessionKey, "a private session"),
			gotwant.Eq("mode", st.Mode, "agent"))
		if at, err := time.Parse(time.RFC3339, st.StartedAt); err != nil || at.Before(sent.Add(-time.Minute)) || at.After(time.Now().Add(time.Minute)) {
			t.Errorf("started_at %q is not an RFC 3339 time of now: %v", st.StartedAt, err)
		}
		for _, q := range r.fake.Requests() {
			if strings.Contains(q.UserText, nonce) && q.Done() {
				t.Errorf("start_subagent returned only after the model had answered (%s): it must return at once", took)
			}
		}
		t.Logf("start_subagent returned after %s: %s", took.Round(time.Millisecond), st.RunID)

		running := wantOK[tools.WaitSubagentOutput](t, waitSub(t, c, st.RunID, seconds(0)))
		gotwant.Error(t, fmt.Sprintf("wait_subagent 0 s: %+v", running),
			gotwant.Eq("run_id", running.RunID, st.RunID),
			gotwant.Eq("status", running.Status, "running"),
			gotwant.That("elapsed_ms", running.ElapsedMs >= 0, running.ElapsedMs, "0 or more"),
			gotwant.That("progress", running.Progress != nil, running.Progress, "a progress summary"),
			gotwant.Eq("text", running.Text, ""))
		row := listed(listSub(t, c), st.RunID)
		if row == nil {
			t.Errorf("list_subagents does not list the running run %s", st.RunID)
		} else {
			gotwant.Error(t, fmt.Sprintf("list_subagents row: %+v", *row),
				gotwant.Eq("status", row.Status, "running"),
				gotwant.Eq("mode", row.Mode, "agent"),
				gotwant.Contains("message", row.Message, nonce))
		}

		token := "wait-" + nonce
		call, err := c.Go("tools/call", mcptest.CallParams("wait_subagent", map[string]any{"run_id": st.RunID, "wait_seconds": 30}, token))
		if err != nil {
			t.Fatal(err)
		}
		res := waitResult(t, c, call, 90*time.Second)
		out := wantOK[tools.WaitSubagentOutput](t, res)
		wantCollected(t, r, out, res.Text(), st, msg)
		if out.Note != "" {
			t.Errorf("note %q on a run of this process, want none", out.Note)
		}
		req := requestFor(t, r, nonce)
		if req.Cancelled || out.Text != req.Reply {
			t.Errorf("the model's answer %q (cancelled %v) is not the result %q", req.Reply, req.Cancelled, out.Text)
		}
		t.Logf("collected %s after the model answered; wait_subagent 30 s took %s; usage %+v",
			call.At.Sub(req.Ended).Round(time.Millisecond), call.At.Sub(call.Sent).Round(time.Millisecond), *out.Usage)

		// After one more round trip every notification the server sent
		// before its reply to it has been read.
		if listed(listSub(t, c), st.RunID) != nil {
			t.Errorf("list_subagents still lists run %s after its result was collected", st.RunID)
		}
		msgs, notes := progressOf(t, c, token)
		for i, n := range notes {
			if n.At.After(call.At) {
				t.Errorf("progress %q arrived after the result", msgs[i])
			}
		}
		if len(msgs) == 0 {
			t.Errorf("wait_subagent with a progressToken sent no progress while the run went on")
		}
		t.Logf("progress while waiting: %q", msgs)
		waitSessionGone(t, r, st.SessionKey)

		again := wantOK[tools.WaitSubagentOutput](t, waitSub(t, c, st.RunID, seconds(0)))
		if again.Status != "ok" || again.Text != out.Text {
			t.Errorf("a repeated wait_subagent: %+v, want the same result", again)
		}

		// A result that arrives with nobody waiting is kept, and so is
		// its private session, until it is collected.
		quiet := randomHex(8)
		qmsg := "unattended subtask " + quiet
		qst := startSub(t, c, map[string]any{"message": qmsg})
		requestFor(t, r, quiet)
		deadline := time.Now().Add(time.Minute)
		for {
			row := listed(listSub(t, c), qst.RunID)
			if row == nil {
				t.Fatalf("list_subagents lost the uncollected run %s", qst.RunID)
			}
			if row.Status != "running" {
				if row.Status != "ok" {
					t.Errorf("finished uncollected run listed with status %q, want ok", row.Status)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %s still listed as running a minute after the model answered", qst.RunID)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, ok := rawSessions(t, r)[qst.SessionKey]; !ok {
			t.Errorf("the private session %s of a finished, uncollected run was removed before its result was collected", qst.SessionKey)
		}
		qres := waitSub(t, c, qst.RunID, seconds(0))
		wantCollected(t, r, wantOK[tools.WaitSubagentOutput](t, qres), qres.Text(), qst, qmsg)
		waitSessionGone(t, r, qst.SessionKey)
	})
}

// TestSubagentRestart starts a run with a 20 s model delay in one clawgate
// process and stops that process while the model is still thinking; a new
// process (same HOME, as after an MCP client restarted its servers)
// collects the answer with wait_subagent. The model call must have run to
// its end: the run was left going on the gateway.
func TestSubagentRestart(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		home := sharedHome(t)
		first := startGeneration(t, r, "clawgate-1", home)
		nonce := randomHex(8)
		msg := "[[delay=20]] survive a restart " + nonce
		st := startSub(t, first, map[string]any{"message": msg})
		waitModelRequest(t, r, nonce)
		exit := stopGeneration(t, first)
		stopped := time.Now()
		for _, q := range r.fake.Requests() {
			if strings.Contains(q.UserText, nonce) && q.Done() {
				t.Fatalf("the model call ended before the first clawgate was stopped (cancelled %v): the test proves nothing", q.Cancelled)
			}
		}

		second := startGeneration(t, r, "clawgate-2", home)
		began := time.Now()
		if row := listed(listSub(t, second), st.RunID); row != nil {
			t.Errorf("a new process lists a run it did not start: %+v", *row)
		}
		out, text, calls := collect(t, second, st.RunID)
		collected := time.Now()
		req := requestFor(t, r, nonce)
		if req.Cancelled {
			t.Fatalf("the model call was cancelled %s after the first clawgate exited: the run was not left going on the gateway",
				req.Ended.Sub(stopped).Round(time.Millisecond))
		}
		wantCollected(t, r, out, text, st, msg)
		if !strings.Contains(out.Note, "did not start the run") {
			t.Errorf("note %q, want that another process collected the run", out.Note)
		}
		if out.Text != req.Reply {
			t.Errorf("result %q, the model answered %q", out.Text, req.Reply)
		}
		t.Logf("first clawgate exited in %s; the model answered %s after that; the second clawgate collected it %s after it started, "+
			"%s after the answer, in %d wait_subagent call(s); usage %+v; note %q",
			exit.Round(time.Millisecond), req.Ended.Sub(stopped).Round(time.Millisecond), collected.Sub(began).Round(time.Millisecond),
			collected.Sub(req.Ended).Round(time.Millisecond), calls, *out.Usage, out.Note)
		waitSessionGone(t, r, st.SessionKey)
	})
}

// TestSubagentModelRestart: a mode "model" run's only result is the reply
// to the clawgate process that started it, so after a restart
// wait_subagent says clearly that it is gone (OpenClaw). Clawdbot has no
// mode model: start_subagent refuses it and nothing reaches the model.
func TestSubagentModelRestart(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		home := sharedHome(t)
		first := startGeneration(t, r, "clawgate-1", home)
		nonce := randomHex(8)
		args := map[string]any{"message": "[[delay=10]] bare model call " + nonce, "mode": "model"}
		if r.gw.Product.Protocol < 4 {
			wantToolError(t, callTool(t, first, time.Minute, "start_subagent", args), `mode "model" is not available on this gateway`)
			if _, err := r.fake.WaitRequest(ctxFor(t, time.Second), func(q fakemodel.Request) bool {
				return strings.Contains(q.UserText, nonce)
			}); err == nil {
				t.Errorf("a refused mode model run still reached the model")
			}
			return
		}
		st := startSub(t, first, args)
		if st.Mode != "model" {
			t.Errorf("mode %q, want model", st.Mode)
		}
		waitModelRequest(t, r, nonce)
		stopGeneration(t, first)

		second := startGeneration(t, r, "clawgate-2", home)
		text := wantToolError(t, waitSub(t, second, st.RunID, seconds(5)), `mode "model"`, "gone", "start the subtask again")
		t.Logf("wait_subagent after the restart: %s", text)
	})
}

// TestSubagentCancel cancels running runs with a 30 s model delay: one in
// the process that started it, one after a restart. OpenClaw aborts the
// run; Clawdbot, which cannot abort runs, stops it by removing its private
// session. Either way the model call is cancelled on the gateway, the
// private session is removed, and the run is no longer listed.
func TestSubagentCancel(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		home := sharedHome(t)
		first := startGeneration(t, r, "clawgate-1", home)
		nonce := randomHex(8)
		st := startSub(t, first, map[string]any{"message": "[[delay=30]] cancel me " + nonce})
		waitModelRequest(t, r, nonce)
		sent := time.Now()
		out := wantOK[tools.CancelSubagentOutput](t, callTool(t, first, time.Minute, "cancel_subagent", map[string]any{"run_id": st.RunID}))
		took := time.Since(sent)
		gotwant.Error(t, fmt.Sprintf("cancel_subagent: %+v", out),
			gotwant.Eq("run_id", out.RunID, st.RunID),
			gotwant.Eq("status", out.Status, "cancelled"),
			gotwant.Eq("stopped", out.Stopped, true))
		if r.gw.Product.Protocol < 4 && !strings.Contains(out.Note, "removing its private session") {
			t.Errorf("note %q, want that the run was stopped by removing its private session", out.Note)
		}
		req := waitModelCancelled(t, r, nonce)
		t.Logf("cancel_subagent took %s; the model call ended %s after it was sent; note %q",
			took.Round(time.Millisecond), req.Ended.Sub(sent).Round(time.Millisecond), out.Note)
		if listed(listSub(t, first), st.RunID) != nil {
			t.Errorf("list_subagents still lists the cancelled run %s", st.RunID)
		}
		waitSessionGone(t, r, st.SessionKey)
		res := waitSub(t, first, st.RunID, seconds(0))
		if !res.IsError {
			var w tools.WaitSubagentOutput
			_ = res.Decode(&w)
			if w.Status == "ok" || w.Status == "running" {
				t.Errorf("wait_subagent after cancel_subagent: %s (status %q), want it to say the run was cancelled or is gone", res.Text(), w.Status)
			}
		}
		t.Logf("wait_subagent after cancel_subagent: isError=%v %s", res.IsError, res.Text())

		// A run of an earlier process: the new one cancels it by its handle.
		later := randomHex(8)
		st2 := startSub(t, first, map[string]any{"message": "[[delay=30]] cancel me after a restart " + later})
		waitModelRequest(t, r, later)
		stopGeneration(t, first)
		second := startGeneration(t, r, "clawgate-2", home)
		if q, err := r.fake.WaitRequest(ctxFor(t, time.Second), func(q fakemodel.Request) bool {
			return strings.Contains(q.UserText, later) && q.Done()
		}); err == nil {
			t.Fatalf("the model call ended (cancelled %v) when the first clawgate exited: the run was not left going", q.Cancelled)
		}
		sent = time.Now()
		out2 := wantOK[tools.CancelSubagentOutput](t, callTool(t, second, time.Minute, "cancel_subagent", map[string]any{"run_id": st2.RunID}))
		gotwant.Error(t, fmt.Sprintf("cancel_subagent after a restart: %+v", out2),
			gotwant.Eq("run_id", out2.RunID, st2.RunID),
			gotwant.Eq("status", out2.Status, "cancelled"),
			gotwant.Eq("stopped", out2.Stopped, true))
		req2 := waitModelCancelled(t, r, later)
		t.Logf("after a restart: cancel_subagent took %s, the model call ended %s after it was sent; note %q",
			time.Since(sent).Round(time.Millisecond), req2.Ended.Sub(sent).Round(time.Millisecond), out2.Note)
		waitSessionGone(t, r, st2.SessionKey)
	})
}

// forgeHandle builds a handle the way clawgate encodes one, for a run id
// and private session that do not exist.
func forgeHandle(runID string) string {
	b, _ := json.Marshal(map[string]any{"v": 1, "r": runID, "k": "agent:main:subagent:clawgate-0123456789",
		"m": "agent", "p": true, "t": time.Now().UnixMilli()})
	return "sa_" + base64.RawURLEncoding.EncodeToString(b)
}

// TestSubagentGarbageHandles passes wait_subagent and cancel_subagent
// handles that are not from start_subagent: malformed ones are refused
// before anything is asked of the gateway, and a well-formed one naming a
// run the gateway never had is a clear error too, not a run that is
// "running" forever or a cancel that claims to have stopped something.
func TestSubagentGarbageHandles(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		random := make([]byte, 48)
		_, _ = rand.Read(random)
		wrongKey, _ := json.Marshal(map[string]any{"v": 1, "r": uuid.NewString(), "k": "agent:main:main", "m": "agent", "p": true, "t": 1})
		malformed := []struct{ name, handle, want string }{
			{"garbage", "garbage", "does not start with sa_"},
			{"random base64", "sa_" + base64.RawURLEncoding.EncodeToString(random), "it is damaged"},
			{"not base64", "sa_!!!!", "it is damaged"},
			{"too long", "sa_" + strings.Repeat("A", 3000), "longer than"},
			{"foreign session", "sa_" + base64.RawURLEncoding.EncodeToString(wrongKey), "not one clawgate creates"},
		}
		before := len(r.fake.Requests())
		for _, m := range malformed {
			for _, tool := range []string{"wait_subagent", "cancel_subagent"} {
				args := map[string]any{"run_id": m.handle}
				if tool == "wait_subagent" {
					args["wait_seconds"] = 1
				}
				text := wantToolError(t, callTool(t, c, 30*time.Second, tool, args), m.want, "start_subagent")
				if len(text) > 600 {
					t.Errorf("%s %s: a %d-character error, want a short sentence: %.200q…", tool, m.name, len(text), text)
				}
			}
		}
		if reqs := r.fake.Requests(); len(reqs) != before {
			t.Errorf("malformed handles reached the model: %s", summarizeRequests(reqs[before:]))
		}

		forged := forgeHandle(uuid.NewString())
		wres := waitSub(t, c, forged, seconds(1))
		t.Logf("wait_subagent, a well-formed handle of an unknown run: isError=%v %s", wres.IsError, wres.Text())
		if !wres.IsError {
			t.Errorf("wait_subagent for a run the gateway never had succeeded: %s", wres.Text())
		}
		cres := callTool(t, c, 30*time.Second, "cancel_subagent", map[string]any{"run_id": forged})
		t.Logf("cancel_subagent, a well-formed handle of an unknown run: isError=%v %s", cres.IsError, cres.Text())
		if !cres.IsError {
			var out tools.CancelSubagentOutput
			_ = cres.Decode(&out)
			if out.Stopped || out.Status == "cancelled" || out.Status == "running" {
				t.Errorf("cancel_subagent for a run the gateway never had: %+v", out)
			}
		}
		if reqs := r.fake.Requests(); len(reqs) != before {
			t.Errorf("unknown handles reached the model: %s", summarizeRequests(reqs[before:]))
		}
		// clawgate is still fine.
		if st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil)); !st.Connected {
			t.Errorf("gateway_status after the garbage handles: %+v", st)
		}
	})
}
