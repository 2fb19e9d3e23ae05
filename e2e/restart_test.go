//go:build e2e

package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// TestGatewayKilledMidCall SIGKILLs the gateway while an ask_subagent waits
// for a 20 s model answer: the call must fail fast with a clear message,
// long before its timeout. Then the gateway is started again on the same
// port, and the same clawgate process must serve the next calls without a
// restart, within a few seconds of the gateway being ready.
func TestGatewayKilledMidCall(t *testing.T) {
	eachGateway(t, true, func(t *testing.T, g *target, r *running) {
		t.Cleanup(func() { restartIfDown(t, r) })
		c := startFor(t, r)
		if st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil)); !st.Connected {
			t.Fatalf("not connected before the kill: %+v", st)
		}
		nonce := randomHex(8)
		call, err := c.Go("tools/call", mcptest.CallParams("ask_subagent", askArgs("[[delay=20]] killed "+nonce, uniqueKey("kill"), 120), nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.fake.WaitRequest(ctxFor(t, 30*time.Second), func(q fakemodel.Request) bool { return strings.Contains(q.UserText, nonce) }); err != nil {
			t.Fatalf("the run never reached the model: %v", err)
		}

		// SIGKILL the gateway's process group. OpenClaw runs a helper in a
		// process group of its own; it must go away by itself when the
		// gateway dies (Kill would sweep it anyway).
		p := r.gw.Proc()
		killed := time.Now()
		p.Signal(syscall.SIGKILL)
		<-p.Done()
		for len(p.Leftovers()) > 0 && time.Since(killed) < 3*time.Second {
			time.Sleep(50 * time.Millisecond)
		}
		if left := p.Leftovers(); len(left) > 0 {
			t.Logf("gateway helper processes %v outlived the gateway by 3 s; killing them", left)
		}
		if err := r.gw.Kill(); err != nil {
			t.Fatalf("kill: %v", err)
		}
		t.Logf("gateway (pid %d) and its helpers gone %s after SIGKILL", p.PID(), time.Since(killed).Round(time.Millisecond))
		res := waitResult(t, c, call, 30*time.Second)
		failedAfter := call.At.Sub(killed)
		t.Logf("ask_subagent failed %s after the kill: %s", failedAfter.Round(time.Millisecond), res.Text())
		wantToolError(t, res, "connection to the gateway was lost")
		if failedAfter > 5*time.Second {
			t.Errorf("the call failed %s after the gateway died, want fast (its timeout was 120 s)", failedAfter.Round(time.Millisecond))
		}

		down := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil))
		if down.Connected || !strings.Contains(down.Error, "cannot connect") || !strings.Contains(down.Error, "Is the gateway running?") {
			t.Errorf("gateway_status while the gateway is down: %+v", down)
		}

		ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
		defer cancel()
		took, err := r.gw.Start(ctx)
		if err != nil {
			t.Fatalf("restart on the same port: %v", err)
		}
		ready := time.Now()
		t.Logf("gateway restarted on %s, ready after %s", r.gw.URL, took.Round(100*time.Millisecond))

		var first *mcptest.ToolResult
		attempts := 0
		for {
			attempts++
			res := callTool(t, c, 30*time.Second, "list_sessions", map[string]any{"limit": 1})
			if first == nil {
				first = res
			}
			if !res.IsError {
				break
			}
			if time.Since(ready) > 10*time.Second {
				t.Fatalf("clawgate still fails %s after the gateway was ready: %s", time.Since(ready).Round(time.Millisecond), res.Text())
			}
			time.Sleep(200 * time.Millisecond)
		}
		recovered := time.Since(ready)
		t.Logf("first list_sessions after the restart: isError=%v %q; success after %d call(s), %s after ready",
			first.IsError, first.Text(), attempts, recovered.Round(time.Millisecond))
		if recovered > 5*time.Second {
			t.Errorf("clawgate needed %s after the gateway was ready to serve again", recovered.Round(time.Millisecond))
		}

		// A full agent turn works again on the restarted gateway.
		msg := "back again " + nonce
		out := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent", askArgs(msg, uniqueKey("kill"), 120)))
		if !strings.Contains(out.Text, msg) {
			t.Errorf("after the restart: %+v", out)
		}
	})
}

// restartIfDown starts the gateway again (and warms it up) if a failed test
// left it stopped, so that later tests still have a gateway.
func restartIfDown(t *testing.T, r *running) {
	if p := r.gw.Proc(); p == nil || !p.Exited() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := r.gw.Start(ctx); err != nil {
		t.Errorf("could not restart the %s gateway for the remaining tests: %v", r.gw.Product.Name, err)
		return
	}
	if _, err := r.gw.WarmUp(ctx); err != nil {
		t.Errorf("warm-up after the restart: %v", err)
	}
}
