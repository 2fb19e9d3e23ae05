//go:build e2e

package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// TestReadOnly runs clawgate with --read-only: only the read tools (the
// golden definitions annotated readOnlyHint), write tools refused, and (on
// OpenClaw, which reports granted scopes) only operator.read granted.
func TestReadOnly(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r, "--read-only")
		listed, err := c.ListTools(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range listed {
			names = append(names, tool.Name)
		}
		slices.Sort(names)
		if want := goldenTools(t, true); !slices.Equal(names, want) {
			t.Errorf("read-only tools %v, want %v", names, want)
		}

		res, err := c.CallTool(ctxFor(t, 30*time.Second), "patch_session_model", map[string]any{"session_key": uniqueKey("ro"), "model": "fake/fake-echo"})
		switch e, ok := errorsAs[*mcptest.RPCError](err); {
		case ok:
			if !strings.Contains(e.Message, "patch_session_model") {
				t.Errorf("refusal %q does not name the tool", e.Message)
			}
		case err != nil:
			t.Fatal(err)
		case !res.IsError:
			t.Errorf("read-only clawgate patched a session: %s", res.Text())
		}

		st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil))
		if !st.Connected || !st.ReadOnly {
			t.Errorf("gateway_status %+v", st)
		}
		if r.gw.Product.Protocol >= 4 && !slices.Equal(st.Scopes, []string{"operator.read"}) {
			t.Errorf("scopes %v, want [operator.read]", st.Scopes)
		}
		list := wantOK[tools.ListSessionsOutput](t, callTool(t, c, 30*time.Second, "list_sessions", map[string]any{"limit": 3}))
		if list.Count != len(list.Sessions) {
			t.Errorf("list_sessions %+v", list)
		}
	})
}

// TestWrongToken: gateway_status reports the refusal as a result
// (connected:false with a clear error), the other tools fail as tool
// errors, quickly, and the token is never echoed.
func TestWrongToken(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		wrong := "wrong-" + randomHex(12)
		c, _ := startClawgate(t, serverOpts{args: []string{"--url", r.gw.URL}, env: []string{"OPENCLAW_GATEWAY_TOKEN=" + wrong}})
		start := time.Now()
		st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil))
		if st.Connected || st.URL != r.gw.URL || !strings.Contains(st.Error, "token mismatch") {
			t.Errorf("gateway_status %+v, want connected:false with a token mismatch", st)
		}
		res := callTool(t, c, 30*time.Second, "list_sessions", nil)
		text := wantToolError(t, res, "token mismatch", "OPENCLAW_GATEWAY_TOKEN")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("the two calls took %s", took)
		}
		if strings.Contains(st.Error+text+c.Stderr(), wrong) {
			t.Error("the wrong token appears in a result or the log")
		}
		t.Logf("gateway_status error: %s", st.Error)
	})
}
