//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/tools"
)

// TestReadSession reads a kept ask_subagent session on the real gateways:
// the question and the answer exactly as sent and given (no "[timestamp] "
// prefix, no injected context), with the model; pages with before/next
// after the session was continued; a key that names no session is an
// error, a garbage key too.
func TestReadSession(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		c := startFor(t, r)
		nonce := randomHex(8)
		question := "please read me back " + nonce + " and everything said in this session"
		asked := wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent",
			map[string]any{"message": question, "keep_session": true, "timeout_seconds": 120}))
		gotwant.Fatal(t, fmt.Sprintf("ask: %+v", asked), gotwant.Eq("session_kept", asked.SessionKept, true))

		res := callTool(t, c, time.Minute, "read_session", map[string]any{"session_key": asked.SessionKey})
		out := wantOK[tools.ReadSessionOutput](t, res)
		if len(out.Messages) != 2 {
			t.Fatalf("read_session of a session with one run: %+v", out)
		}
		user, answer := out.Messages[0], out.Messages[1]
		gotwant.Error(t, fmt.Sprintf("%+v", out),
			gotwant.Eq("session_key", out.SessionKey, asked.SessionKey),
			gotwant.Eq("question", user.Role+": "+user.Text, "user: "+question),
			gotwant.Eq("answer", answer.Role+": "+answer.Text, "assistant: FAKE-REPLY: you said <<"+question+">>"),
			gotwant.Eq("answer model", answer.Model, harness.ModelRef),
			gotwant.Eq("answer tool calls", len(answer.ToolCalls), 0),
			gotwant.Eq("truncated", out.Truncated, false),
			gotwant.Eq("next", out.Next, ""),
			gotwant.HasSuffix("question at", user.At, "Z"),
			gotwant.That("answer at", answer.At >= user.At, answer.At, "not before the question"))
		gotwant.Error(t, "text content",
			gotwant.Contains("text", res.Text(), "user:\n"+question+"\n"),
			gotwant.Contains("text", res.Text(), "assistant ("+harness.ModelRef+"):\nFAKE-REPLY: you said <<"+question+">>\n"))

		// Two more turns, then pages of two: newest first, each oldest
		// first, the last without next.
		for i := range 2 {
			wantOK[tools.AskSubagentOutput](t, callTool(t, c, 2*time.Minute, "ask_subagent",
				map[string]any{"message": fmt.Sprintf("turn %d %s [[reply:answer %d]]", i+2, nonce, i+2), "session_key": asked.SessionKey, "timeout_seconds": 120}))
		}
		var pages []string
		before := ""
		for range 5 {
			args := map[string]any{"session_key": asked.SessionKey, "limit": 2}
			if before != "" {
				args["before"] = before
			}
			p := wantOK[tools.ReadSessionOutput](t, callTool(t, c, time.Minute, "read_session", args))
			var texts []string
			for _, m := range p.Messages {
				texts = append(texts, m.Role+": "+m.Text)
			}
			pages = append(pages, strings.Join(texts, " | "))
			if before = p.Next; before == "" {
				break
			}
		}
		gotwant.Error(t, strings.Join(pages, "\n"),
			gotwant.Eq("pages", len(pages), 3),
			gotwant.Eq("newest page", pages[0], fmt.Sprintf("user: turn 3 %s [[reply:answer 3]] | assistant: answer 3", nonce)),
			gotwant.Eq("middle page", pages[1], fmt.Sprintf("user: turn 2 %s [[reply:answer 2]] | assistant: answer 2", nonce)),
			gotwant.Eq("oldest page", pages[min(2, len(pages)-1)], "user: "+question+" | assistant: FAKE-REPLY: you said <<"+question+">>"))

		// max_chars cuts with a marker (the reply is 89 characters).
		cut := wantOK[tools.ReadSessionOutput](t, callTool(t, c, time.Minute, "read_session",
			map[string]any{"session_key": asked.SessionKey, "limit": 200, "max_chars": 50}))
		if len(cut.Messages) != 6 {
			t.Fatalf("whole session: %+v", cut)
		}
		reply := "FAKE-REPLY: you said <<" + question + ">>"
		gotwant.Error(t, fmt.Sprintf("%+v", cut.Messages[1]),
			gotwant.Eq("truncated", cut.Truncated, true),
			gotwant.Eq("cut answer", cut.Messages[1].Text, fmt.Sprintf("%s\n[… %d more characters cut (max_chars 50)]", reply[:50], len(reply)-50)))

		// A key that names no session, and garbage.
		wantToolError(t, callTool(t, c, time.Minute, "read_session", map[string]any{"session_key": uniqueKey("no-such-session")}),
			"does not exist on the gateway")
		wantToolError(t, callTool(t, c, time.Minute, "read_session", map[string]any{"session_key": "not a key"}),
			"is not a session key")
		wantToolError(t, callTool(t, c, time.Minute, "read_session", map[string]any{"session_key": asked.SessionKey, "before": "rs1.garbage"}),
			"before is not a cursor read_session returned")
	})
}
