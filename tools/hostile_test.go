package tools_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// hostileText holds what must never reach a model unescaped: NUL, an ANSI
// escape sequence, a right-to-left override, DEL and a C1 control.
const hostileText = "a\x00b\x1b[31mred\u202eevil\x7f\u0085z"

// wantClean fails when s still holds a raw control or bidi character.
func wantClean(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if isRawControl(r) {
			t.Errorf("%s holds raw %U: %q", what, r, s)
			return
		}
	}
}

// isRawControl reports whether r is a control character other than a
// newline or tab (C0, DEL, C1) or a bidi override or isolate.
func isRawControl(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\n' && r != '\t'
	case r >= 0x7f && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Gateway numbers out of range (negative tokens, a time in year 292278994,
// counts beyond what a JSON number carries exactly) and control characters
// in gateway strings never reach a result as they are.
func TestHostileGatewayValues(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	e.fake.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
		_ = c.Reply(req.ID, map[string]any{
			"ts": 1, "count": 2,
			"defaults": map[string]any{"modelProvider": "fake" + hostileText, "model": "m" + hostileText, "contextTokens": -1},
			"sessions": []any{
				map[string]any{"key": "agent:main:" + hostileText, "label": hostileText, "kind": "direct\x1b[0m",
					"totalTokens": -5, "contextTokens": json.Number("9007199254740993"), "updatedAt": json.Number("9223372036854775807"),
					"modelProvider": "fake", "model": "fake-echo" + hostileText},
				map[string]any{"key": "agent:main:ok", "totalTokens": json.Number("1e30"), "contextTokens": 128000, "updatedAt": -1},
			},
		})
	})
	e.fake.Handle("models.list", func(c *gatewaysim.Conn, req gatewaysim.Request) {
		_ = c.Reply(req.ID, map[string]any{"models": []any{
			map[string]any{"id": "x" + hostileText, "name": hostileText, "provider": "p\u202e", "alias": "\x1b]0;title\x07", "contextWindow": -3},
		}})
	})
	ctx := testwait.Ctx(t)

	var ls tools.ListSessionsOutput
	res := e.call(t, ctx, "list_sessions", nil, &ls)
	if res.IsError || ls.Count != 2 {
		t.Fatalf("list_sessions: %s %+v", text(res), ls)
	}
	wantClean(t, "list_sessions text", text(res))
	raw, _ := json.Marshal(ls)
	wantClean(t, "list_sessions result", string(raw))
	for _, s := range ls.Sessions {
		gotwant.Error(t, fmt.Sprintf("%s: counts out of range: %+v", s.Key, s),
			gotwant.That("context_used", s.ContextUsed >= 0 && s.ContextUsed <= 1<<53-1, s.ContextUsed, "0 to 2^53-1"),
			gotwant.That("context_window", s.ContextWindow >= 0 && s.ContextWindow <= 1<<53-1, s.ContextWindow, "0 to 2^53-1"),
		)
		if s.UpdatedAt != "" {
			ts, err := time.Parse(time.RFC3339, s.UpdatedAt)
			if err != nil || ts.Year() < 2000 || ts.Year() > 2200 {
				t.Errorf("%s: updated_at %q (%v)", s.Key, s.UpdatedAt, err)
			}
		}
		if s.PercentUsed != nil && (*s.PercentUsed < 0 || *s.PercentUsed > 1e6) {
			t.Errorf("%s: percent_used %v", s.Key, *s.PercentUsed)
		}
	}
	if ls.Defaults.ContextWindow < 0 {
		t.Errorf("defaults %+v", ls.Defaults)
	}

	var lm tools.ListModelsOutput
	res = e.call(t, ctx, "list_models", nil, &lm)
	if res.IsError || len(lm.Models) != 1 || lm.Models[0].ContextWindow < 0 {
		t.Fatalf("list_models: %s %+v", text(res), lm)
	}
	wantClean(t, "list_models text", text(res))
	raw, _ = json.Marshal(lm)
	wantClean(t, "list_models result", string(raw))

	// A gateway error message with control characters reaches the model
	// escaped.
	e.fake.Handle("status", func(c *gatewaysim.Conn, req gatewaysim.Request) {
		_ = c.ReplyError(req.ID, gatewaysim.ErrorShape{Code: "INVALID_REQUEST", Message: "bad " + hostileText})
	})
	var st tools.GatewayStatusOutput
	res = e.call(t, ctx, "gateway_status", nil, &st)
	wantClean(t, "gateway_status text", text(res))
	wantClean(t, "gateway_status error", st.Error)
	if !strings.Contains(st.Error, `\u202e`) {
		t.Errorf("the override character is not shown escaped: %q", st.Error)
	}
}

// The subagent's reply loses raw control and bidi characters (TestClean
// shows that lines and tabs are kept).
func TestAskSubagentReplyIsCleaned(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	var out tools.AskSubagentOutput
	res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "line one and " + hostileText}, &out)
	if res.IsError {
		t.Fatal(text(res))
	}
	wantClean(t, "reply text", out.Text)
	wantClean(t, "text content", text(res))
}
