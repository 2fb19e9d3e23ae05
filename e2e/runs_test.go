//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// TestAskSubagentTimeout gives a run 2 s while the model takes 30 s: the
// tool must fail within timeout_seconds + 1 s saying it timed out (and on
// Clawdbot, which cannot abort runs, that the run may go on), and the model
// call must really end on the gateway (on Clawdbot by the gateway's own
// timeout, which clawgate sets a second after its own).
func TestAskSubagentTimeout(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		nonce := randomHex(8)
		start := time.Now()
		res := callTool(t, c, time.Minute, "ask_subagent", askArgs("[[delay=30]] time out "+nonce, uniqueKey("timeout"), 2))
		took := time.Since(start)
		t.Logf("after %s: isError=%v %s", took.Round(time.Millisecond), res.IsError, res.Text())
		if !res.IsError {
			var out tools.AskSubagentOutput
			_ = res.Decode(&out)
			t.Errorf("a run that outlived timeout_seconds 2 was reported as a success: %+v", out)
		} else {
			wantToolError(t, res, "timed out")
		}
		// timeout_seconds is a wall-clock promise: the answer within one
		// more second, whatever the gateway does.
		if took > 3*time.Second {
			t.Errorf("took %s, more than timeout_seconds 2 + 1 s", took.Round(time.Millisecond))
		}
		if r.gw.Product.Protocol < 4 {
			wantToolError(t, res, "cannot abort agent runs, so the run may go on")
		} else {
			wantToolError(t, res, "the run was aborted on the gateway")
		}
		req, err := r.fake.WaitRequest(ctxFor(t, 10*time.Second), func(q fakemodel.Request) bool {
			return strings.Contains(q.UserText, nonce) && q.Done()
		})
		if err != nil {
			t.Fatalf("the model call did not end on the gateway: %v", err)
		}
		if !req.Cancelled {
			t.Errorf("the gateway let the model call finish (%s) instead of cancelling it", req.Ended.Sub(req.Received))
		}
	})
}

// TestAskSubagentCancel cancels a running ask_subagent with
// notifications/cancelled. On OpenClaw the run must really end on the
// gateway: the model call is cancelled and sessions.list (read on a second,
// independent connection) shows the session without an active run and with
// an aborted last run. Clawdbot 2026.1 cannot abort agent runs; clawgate must
// stay usable and say so in its log.
func TestAskSubagentCancel(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		key, nonce := uniqueKey("cancel"), randomHex(8)
		delay := "30"
		if r.gw.Product.Protocol < 4 {
			delay = "8" // the run cannot be stopped there; keep it short
		}
		call, err := c.Go("tools/call", mcptest.CallParams("ask_subagent",
			askArgs("[[delay="+delay+"]] cancel me "+nonce, key, 120), "cancel-"+nonce))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.fake.WaitRequest(ctxFor(t, 30*time.Second), func(q fakemodel.Request) bool {
			return strings.Contains(q.UserText, nonce)
		}); err != nil {
			t.Fatalf("the run never reached the model: %v", err)
		}
		if r.gw.Product.Protocol >= 4 {
			if row := rawSessions(t, r)[key]; row["hasActiveRun"] != true {
				t.Errorf("before the cancel, sessions.list row %s: hasActiveRun=%v, want true", key, row["hasActiveRun"])
			}
		}
		if err := c.Cancel(call, "e2e: cancelled by the client"); err != nil {
			t.Fatal(err)
		}
		cancelled := time.Now()

		// MCP: the server SHOULD NOT answer a cancelled request.
		select {
		case <-call.Done():
			if resp := call.Response(); resp != nil {
				t.Logf("clawgate answered the cancelled request after %s: %s %s", time.Since(cancelled).Round(time.Millisecond), resp.Result, errText(resp))
			}
		case <-time.After(3 * time.Second):
			c.Forget(call)
		}

		if r.gw.Product.Protocol >= 4 {
			req, err := r.fake.WaitRequest(ctxFor(t, 10*time.Second), func(q fakemodel.Request) bool {
				return strings.Contains(q.UserText, nonce) && q.Done()
			})
			if err != nil || !req.Cancelled {
				t.Errorf("the model call was not cancelled on the gateway: %v %+v", err, req)
			} else {
				t.Logf("model call cancelled %s after notifications/cancelled", req.Ended.Sub(cancelled).Round(time.Millisecond))
			}
			row := rawSessions(t, r)[key]
			if row == nil || row["hasActiveRun"] != false || row["abortedLastRun"] != true {
				t.Errorf("after the cancel, sessions.list row %s: hasActiveRun=%v abortedLastRun=%v status=%v, want false, true",
					key, row["hasActiveRun"], row["abortedLastRun"], row["status"])
			}
		} else {
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(c.Stderr(), "cannot abort") && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if !strings.Contains(c.Stderr(), "cannot abort") {
				t.Errorf("clawgate's log does not say that Clawdbot cannot abort the run:\n%s", c.Stderr())
			}
		}
		// The same clawgate process keeps working.
		st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil))
		if !st.Connected {
			t.Errorf("after the cancel: %+v", st)
		}
	})
}

// errText renders a JSON-RPC error of a response, if any.
func errText(m *mcptest.Message) string {
	if m.Error == nil {
		return ""
	}
	return m.Error.Error()
}
