package tools_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// read_session against the simulator of both generations: a kept session's
// question and answer, paging with before/next, truncation at max_chars,
// tool calls summarised (messages in the real gateways' shapes, answered
// through Server.Handle), garbage keys and cursors, a missing session.
// e2e/read_session_test.go checks the same against the real gateways.

// readSession runs read_session and fails the test on a tool error.
func readSession(t *testing.T, e *env, args map[string]any) tools.ReadSessionOutput {
	t.Helper()
	var out tools.ReadSessionOutput
	if res := e.call(t, testwait.Ctx(t), tools.ToolReadSession, args, &out); res.IsError {
		t.Fatalf("read_session %v: %s", args, text(res))
	}
	return out
}

// readSessionError runs read_session and returns the text of its error
// result, failing the test on a success.
func readSessionError(t *testing.T, e *env, args map[string]any) string {
	t.Helper()
	res := e.call(t, testwait.Ctx(t), tools.ToolReadSession, args, nil)
	if !res.IsError {
		t.Fatalf("read_session %v succeeded: %s", args, text(res))
	}
	return text(res)
}

// roleTexts is the conversation as "role: text" lines joined by " | ".
func roleTexts(msgs []tools.SessionMessage) string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Role + ": " + m.Text
	}
	return strings.Join(out, " | ")
}

// A session kept after an ask_subagent run shows the question and the
// answer, with the model and times, in the structured result and the text.
func TestReadSessionKeptRun(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, gen, tools.Config{})
			asked := ask(t, e, map[string]any{"message": "what is two and two", "keep_session": true})
			out := readSession(t, e, map[string]any{"session_key": asked.SessionKey})
			gotwant.Error(t, fmt.Sprintf("%+v", out),
				gotwant.Eq("session_key", out.SessionKey, asked.SessionKey),
				gotwant.Eq("messages", roleTexts(out.Messages), "user: what is two and two | assistant: "+asked.Text),
				gotwant.Eq("truncated", out.Truncated, false),
				gotwant.Eq("next", out.Next, ""))
			if len(out.Messages) == 2 {
				gotwant.Error(t, fmt.Sprintf("%+v", out.Messages),
					gotwant.Eq("assistant model", out.Messages[1].Model, asked.Model),
					gotwant.Eq("user model", out.Messages[0].Model, ""),
					gotwant.HasSuffix("user at", out.Messages[0].At, "Z"),
					gotwant.HasSuffix("assistant at", out.Messages[1].At, "Z"),
					gotwant.That("order", out.Messages[0].At <= out.Messages[1].At, out.Messages[1].At, "not before the question"))
			}
			res := e.call(t, testwait.Ctx(t), tools.ToolReadSession, map[string]any{"session_key": asked.SessionKey}, nil)
			for _, want := range []string{"user:\nwhat is two and two\n", "assistant (" + asked.Model + "):\n" + asked.Text + "\n"} {
				gotwant.Error(t, "text content", gotwant.Contains("text", text(res), want))
			}
		})
	}
}

// Pages go from the newest messages back, each oldest first; together
// they are the whole conversation, the last one has no next, and a cursor
// still reads the same page after the session got new messages.
func TestReadSessionPaging(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, gen, tools.Config{})
			key := "agent:main:paging-test"
			var want []string
			for i := range 5 {
				msg := fmt.Sprintf("question %d", i+1)
				out := ask(t, e, map[string]any{"message": msg, "session_key": key})
				want = append(want, "user: "+msg, "assistant: "+out.Text)
			}
			all := readSession(t, e, map[string]any{"session_key": key, "limit": 200})
			gotwant.Fatal(t, "one page of 200", gotwant.Eq("messages", roleTexts(all.Messages), strings.Join(want, " | ")), gotwant.Eq("next", all.Next, ""))

			var pages []string
			var got []tools.SessionMessage
			before := ""
			for range 10 {
				args := map[string]any{"session_key": key, "limit": 3}
				if before != "" {
					args["before"] = before
				}
				p := readSession(t, e, args)
				pages = append(pages, roleTexts(p.Messages))
				got = append(p.Messages, got...)
				if p.Next == "" {
					break
				}
				if !strings.HasPrefix(p.Next, "rs1.") {
					t.Fatalf("next %q", p.Next)
				}
				if len(pages) == 1 {
					// New messages between two pages change nothing.
					ask(t, e, map[string]any{"message": "a later question", "session_key": key})
				}
				before = p.Next
			}
			gotwant.Error(t, strings.Join(pages, "\n"),
				gotwant.Eq("pages", len(pages), 4),
				gotwant.Eq("first page", pages[0], strings.Join(want[7:], " | ")),
				gotwant.Eq("second page", pages[1], strings.Join(want[4:7], " | ")),
				gotwant.Eq("all pages", roleTexts(got), strings.Join(want, " | ")))
		})
	}
}

// A long text is cut at max_chars (default 2000) with a marker that says
// how much is missing; truncated is set on the message and the result.
func TestReadSessionTruncation(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, gen, tools.Config{})
			long := strings.Repeat("ü", 2500) + " [[reply:short answer]]"
			asked := ask(t, e, map[string]any{"message": long, "keep_session": true})
			for _, tc := range []struct {
				maxChars int
				args     map[string]any
			}{
				{2000, map[string]any{"session_key": asked.SessionKey}},
				{100, map[string]any{"session_key": asked.SessionKey, "max_chars": 100}},
			} {
				out := readSession(t, e, tc.args)
				if len(out.Messages) != 2 {
					t.Fatalf("max_chars %d: %+v", tc.maxChars, out.Messages)
				}
				user, answer := out.Messages[0], out.Messages[1]
				marker := fmt.Sprintf("\n[… %d more characters cut (max_chars %d)]", utf8.RuneCountInString(long)-tc.maxChars, tc.maxChars)
				gotwant.Error(t, fmt.Sprintf("max_chars %d: %+v", tc.maxChars, out),
					gotwant.Eq("truncated", out.Truncated, true),
					gotwant.Eq("user truncated", user.Truncated, true),
					gotwant.Eq("user text", user.Text, strings.Repeat("ü", tc.maxChars)+marker),
					gotwant.Eq("answer", answer.Text, "short answer"),
					gotwant.Eq("answer truncated", answer.Truncated, false))
			}
		})
	}
}

// The chat.history messages of a run that called tools, as the real
// gateways sent them (probed on 2026-11-28 against OpenClaw 2026.9.6 and
// Clawdbot 2026.1.24-3 with a throwaway model that calls one tool; usage
// left out). OpenClaw sends the assistant entry with text and a tool call
// as two messages with the same __openclaw.id.
const (
	openclawToolRun = `[
{"__openclaw":{"id":"2bb439fb-c647-411e-abd0-4d682a4e3c3b","idempotencyKey":"probe-1795865480706282491-2:user","recordTimestampMs":1795865481089,"senderIsOwner":true,"seq":1,"transcriptPosition":{"rawSeq":4,"source":"83cX8VBwL99_Ap36K8pIy1PL8BjAiDWnxVdQantebDA"}},"content":"use a tool please","idempotencyKey":"probe-1795865480706282491-2:user","role":"user","timestamp":1795865480747},
{"__openclaw":{"id":"0c35ba0b-b7d8-4526-a2cb-ed53c2f73c01","recordTimestampMs":1795865481128,"runId":"probe-1795865480706282491-2","seq":2,"transcriptPosition":{"rawSeq":5,"source":"83cX8VBwL99_Ap36K8pIy1PL8BjAiDWnxVdQantebDA"}},"content":[{"text":"Let me check.","type":"text"}],"openclawStreamFallback":{"itemId":"commentary-0-c55b9534413b43799e5d71f3","replacementText":"Let me check.","source":"segment"},"role":"assistant","timestamp":1795865481101},
{"__openclaw":{"id":"0c35ba0b-b7d8-4526-a2cb-ed53c2f73c01","recordTimestampMs":1795865481128,"runId":"probe-1795865480706282491-2","seq":2,"transcriptPosition":{"rawSeq":5,"source":"83cX8VBwL99_Ap36K8pIy1PL8BjAiDWnxVdQantebDA"}},"api":"openai-completions","content":[{"arguments":{"path":"/etc/hostname"},"id":"call_1","name":"read","type":"toolCall"}],"model":"tool-echo","provider":"tooly","responseId":"chatcmpl-x","role":"assistant","stopReason":"toolUse","timestamp":1795865481101},
{"__openclaw":{"id":"3d746957-aa1e-47b4-a207-938616a287d2","recordTimestampMs":1795865481183,"runId":"probe-1795865480706282491-2","seq":3,"transcriptPosition":{"rawSeq":6,"source":"83cX8VBwL99_Ap36K8pIy1PL8BjAiDWnxVdQantebDA"}},"content":[{"text":"vm\n","type":"text"}],"isError":false,"role":"toolResult","timestamp":1795865481181,"toolCallId":"call_1","toolName":"read"},
{"__openclaw":{"id":"741e0c58-df84-4180-8ecc-6c67a49583c7","recordTimestampMs":1795865481222,"runId":"probe-1795865480706282491-2","seq":4,"transcriptPosition":{"rawSeq":8,"source":"83cX8VBwL99_Ap36K8pIy1PL8BjAiDWnxVdQantebDA"}},"api":"openai-completions","content":[{"text":"Done after the tool.","type":"text"}],"model":"tool-echo","provider":"tooly","responseId":"chatcmpl-x","role":"assistant","stopReason":"stop","timestamp":1795865481198}
]`
	clawdbotToolRun = `[
{"content":[{"text":"use a tool please","type":"text"}],"role":"user","timestamp":1795865481696},
{"api":"openai-completions","content":[{"text":"Let me check.","type":"text"},{"arguments":{},"id":"call_1","name":"session_status","type":"toolCall"}],"model":"tool-echo","provider":"tooly","role":"assistant","stopReason":"toolUse","timestamp":1795865481696},
{"content":[{"type":"text","text":"Clawdbot 2026.1.24-3 status"}],"isError":false,"role":"toolResult","timestamp":1795865481718,"toolCallId":"call_1","toolName":"session_status"},
{"api":"openai-completions","content":[{"text":"Done after the tool.","type":"text"}],"model":"tool-echo","provider":"tooly","role":"assistant","stopReason":"stop","timestamp":1795865481719}
]`
	// A failed model call as Clawdbot records it (content empty,
	// errorMessage) and as OpenClaw does (a warning text).
	clawdbotFailedCall = `{"api":"openai-completions","content":[],"errorMessage":"400 boom from fake","model":"tool-echo","provider":"tooly","role":"assistant","stopReason":"error","timestamp":1795865534770}`
	openclawFailedCall = `{"__openclaw":{"id":"54e1f3ab-bc45-49db-b0c5-faedf98157ec","seq":2},"api":"openai-completions","content":[{"text":"⚠️ LLM request failed (request format rejected, HTTP 400).","type":"text"}],"model":"tool-echo","provider":"tooly","role":"assistant","stopReason":"error","timestamp":1795865540744}`
)

// serveHistory makes the fake answer chat.history for key with msgs (the
// newest limit of them, as both generations do) and a sessionId; other
// keys get the built-in answer. It returns a counter of the requests for
// key.
func serveHistory(e *env, key string, msgs []json.RawMessage) *atomic.Int64 {
	var n atomic.Int64
	e.fake.Handle("chat.history", func(c *gatewaysim.Conn, req gatewaysim.Request) {
		var p struct {
			SessionKey string `json:"sessionKey"`
			Limit      int    `json:"limit"`
		}
		_ = json.Unmarshal(req.Params, &p)
		if p.SessionKey != key {
			c.Default(req)
			return
		}
		n.Add(1)
		page := msgs
		if p.Limit > 0 && len(page) > p.Limit {
			page = page[len(page)-p.Limit:]
		}
		_ = c.Reply(req.ID, map[string]any{"sessionKey": key, "sessionId": "0f4c1d2e-0000-4000-8000-000000000001", "messages": page})
	})
	return &n
}

// rawMessages parses a JSON array of messages.
func rawMessages(t *testing.T, arrays ...string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, a := range arrays {
		var ms []json.RawMessage
		if err := json.Unmarshal([]byte(a), &ms); err != nil {
			t.Fatal(err)
		}
		out = append(out, ms...)
	}
	return out
}

// Tool calls show as name and status on the assistant message that made
// them; tool results, thinking, OpenClaw's internal context and hidden
// entries are not messages; a failed model call shows its error.
func TestReadSessionToolCalls(t *testing.T) {
	for _, tc := range []struct {
		gen    gatewaysim.Generation
		run    string
		tool   string
		failed string
		error  string
	}{
		{gatewaysim.OpenClaw, openclawToolRun, "read", openclawFailedCall, "the model call failed"},
		{gatewaysim.Clawdbot, clawdbotToolRun, "session_status", clawdbotFailedCall, "400 boom from fake"},
	} {
		t.Run(tc.gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, tc.gen, tools.Config{})
			key := "agent:main:tools-test"
			// The same run twice (some providers reuse call ids), then a
			// turn whose calls got an error and no result, hidden entries,
			// and a failed model call.
			msgs := rawMessages(t, tc.run, tc.run, `[
{"role":"user","content":"<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nConversation data\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>","timestamp":1795865490000},
{"role":"custom","customType":"openclaw.runtime-context","content":"hidden","timestamp":1795865490001},
{"role":"user","content":[{"type":"text","text":"now fail twice"},{"type":"image","data":"AAAA","mimeType":"image/png"}],"timestamp":1795865490002},
{"role":"assistant","content":[{"type":"thinking","thinking":"hmm"},{"type":"toolCall","id":"call_9","name":"exec","arguments":{"command":"false"}},{"type":"toolCall","id":"call_10","name":"web_fetch","arguments":{"url":"x"}}],"provider":"tooly","model":"tool-echo","stopReason":"toolUse","timestamp":1795865490003},
{"role":"toolResult","toolCallId":"call_9","toolName":"exec","isError":true,"content":[{"type":"text","text":"exit 1"}],"timestamp":1795865490004},
{"role":"user","content":"try again","timestamp":1795865490005}
]`, "["+tc.failed+"]")
			serveHistory(e, key, msgs)
			out := readSession(t, e, map[string]any{"session_key": key})
			turn := "user: use a tool please | assistant: Let me check. | assistant: Done after the tool."
			gotwant.Fatal(t, fmt.Sprintf("%+v", out),
				gotwant.Eq("messages", roleTexts(out.Messages), turn+" | "+turn+" | user: now fail twice\n\n[image] | assistant:  | user: try again | assistant: "+
					map[bool]string{true: "⚠️ LLM request failed (request format rejected, HTTP 400).", false: ""}[tc.gen == gatewaysim.OpenClaw]))
			call := fmt.Sprintf("%+v", out.Messages[1].ToolCalls)
			gotwant.Error(t, fmt.Sprintf("%+v", out.Messages),
				gotwant.Eq("first calls", call, fmt.Sprintf("[{Name:%s Status:ok}]", tc.tool)),
				gotwant.Eq("second run's calls", fmt.Sprintf("%+v", out.Messages[4].ToolCalls), call),
				gotwant.Eq("model", out.Messages[1].Model, "tooly/tool-echo"),
				gotwant.Eq("final has no calls", len(out.Messages[2].ToolCalls), 0),
				gotwant.Eq("failing calls", fmt.Sprintf("%+v", out.Messages[7].ToolCalls), "[{Name:exec Status:error} {Name:web_fetch Status:no_result}]"),
				gotwant.Eq("error", out.Messages[9].Error, tc.error),
				gotwant.Eq("no error elsewhere", out.Messages[7].Error, ""))
			res := e.call(t, testwait.Ctx(t), tools.ToolReadSession, map[string]any{"session_key": key}, nil)
			gotwant.Error(t, "text content",
				gotwant.Contains("text", text(res), "tool calls: exec (error), web_fetch (no_result)\n"),
				gotwant.Contains("text", text(res), "error: "+tc.error+"\n"),
				gotwant.Lacks("text", text(res), "/etc/hostname"),
				gotwant.Lacks("text", text(res), "exit 1"),
				gotwant.Lacks("text", text(res), "INTERNAL_CONTEXT"))
		})
	}
}

// Text OpenClaw's chat.history cut itself is marked as cut, and gateway
// text is made safe (no raw control or bidi characters).
func TestReadSessionGatewayCutAndHostileText(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	key := "agent:main:cut-test"
	serveHistory(e, key, rawMessages(t, `[
{"__openclaw":{"id":"a","seq":1,"truncated":true,"reason":"display-cap"},"content":"hello\n...(truncated)...","role":"user","timestamp":1795865436058},
{"__openclaw":{"id":"b","seq":2},"content":[{"type":"text","text":"evil \u001b[31mred\u202e\u0007 text"},{"type":"toolCall","id":"c1","name":"bad\u001bname"}],"role":"assistant","provider":"p\u0000","model":"m","timestamp":1795865436059}
]`))
	out := readSession(t, e, map[string]any{"session_key": key})
	if len(out.Messages) != 2 {
		t.Fatalf("%+v", out)
	}
	gotwant.Error(t, fmt.Sprintf("%+v", out),
		gotwant.Eq("truncated", out.Truncated, true),
		gotwant.Eq("cut text", out.Messages[0].Text, "hello\n[… cut by the gateway]"),
		gotwant.Eq("escaped text", out.Messages[1].Text, `evil \u001b[31mred\u202e\u0007 text`),
		gotwant.Eq("escaped tool", out.Messages[1].ToolCalls[0].Name, `bad\u001bname`),
		gotwant.Eq("escaped model", out.Messages[1].Model, `p\u0000/m`))
}

// A transcript longer than the gateways' chat.history limit (1000) is paged
// as far back as the gateway serves, then a note says why it stops.
func TestReadSessionBeyondGatewayLimit(t *testing.T) {
	e := setup(t, gatewaysim.Clawdbot, tools.Config{})
	key := "agent:main:long-test"
	var msgs []json.RawMessage
	for i := range 1100 {
		role := map[int]string{0: "user", 1: "assistant"}[i%2]
		msgs = append(msgs, json.RawMessage(fmt.Sprintf(`{"role":%q,"content":[{"type":"text","text":"m%d"}],"timestamp":%d}`, role, i, 1795865400000+i)))
	}
	calls := serveHistory(e, key, msgs)
	before := ""
	var first []string
	var last tools.ReadSessionOutput
	for range 10 {
		args := map[string]any{"session_key": key, "limit": 200}
		if before != "" {
			args["before"] = before
		}
		last = readSession(t, e, args)
		first = append(first, last.Messages[0].Text)
		if before = last.Next; before == "" {
			break
		}
	}
	gotwant.Error(t, fmt.Sprintf("first messages of the pages %q, last %+v", first, last.Note),
		gotwant.Eq("pages", strings.Join(first, " "), "m900 m700 m500 m300 m100"),
		gotwant.Eq("last page", len(last.Messages), 200),
		gotwant.Contains("note", last.Note, "only the newest 1000"),
		gotwant.That("requests", calls.Load() <= 6, calls.Load(), "one per page, and one more at most"))
}

// A garbage session_key or before is refused without asking the gateway;
// a cursor of another session too.
func TestReadSessionGarbage(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, gen, tools.Config{})
			asked := ask(t, e, map[string]any{"message": "one", "keep_session": true})
			other := ask(t, e, map[string]any{"message": "two", "keep_session": true})
			for range 3 {
				ask(t, e, map[string]any{"message": "more", "session_key": other.SessionKey})
			}
			foreign := readSession(t, e, map[string]any{"session_key": other.SessionKey, "limit": 1}).Next
			if foreign == "" {
				t.Fatal("no next for a session with 8 messages read 1 at a time")
			}
			served := len(e.fake.RequestsFor("chat.history"))
			enc := func(s string) string { return "rs1." + base64.RawURLEncoding.EncodeToString([]byte(s)) }
			for _, tc := range []struct {
				args map[string]any
				want string
			}{
				{map[string]any{"session_key": "   "}, "session_key must not be empty"},
				{map[string]any{"session_key": "garbage key with spaces"}, `session_key "garbage key with spaces" is not a session key`},
				{map[string]any{"session_key": "agent:main:x\u0000y"}, `session_key "agent:main:x\x00y" is not a session key`},
				{map[string]any{"session_key": "agent:main:\u202eevil"}, `session_key "agent:main:\u202eevil" is not a session key`},
				{map[string]any{"session_key": "agent:main:line\nbreak"}, "is not a session key"},
				{map[string]any{"session_key": asked.SessionKey, "before": "xyz"}, "before is not a cursor read_session returned"},
				{map[string]any{"session_key": asked.SessionKey, "before": "rs1.!!!"}, "before is not a cursor read_session returned"},
				{map[string]any{"session_key": asked.SessionKey, "before": enc(`{}`)}, "before is not a cursor read_session returned"},
				{map[string]any{"session_key": asked.SessionKey, "before": enc(`{"v":1,"k":"000000000000","n":5000,"f":"0000000000000000"}`)}, "before is not a cursor read_session returned"},
				{map[string]any{"session_key": asked.SessionKey, "before": enc(`{"v":1,"k":"000000000000","n":1,"f":"0000000000000000","x":1}`)}, "before is not a cursor read_session returned"},
				{map[string]any{"session_key": asked.SessionKey, "before": enc(`{"v":2,"k":"000000000000","n":1,"f":"0000000000000000"}`)}, "before is not a cursor read_session returned"},
				{map[string]any{"session_key": asked.SessionKey, "before": foreign}, "before belongs to another session"},
			} {
				msg := readSessionError(t, e, tc.args)
				gotwant.Error(t, fmt.Sprintf("%q", tc.args), gotwant.Contains("error", msg, tc.want))
				if strings.ContainsAny(msg, "\x00\u202e\n") {
					t.Errorf("error %q carries a raw control or bidi character", msg)
				}
			}
			// The schema refuses what is out of bounds, with sentences.
			for _, tc := range []struct {
				args map[string]any
				want string
			}{
				{map[string]any{}, "session_key"},
				{map[string]any{"session_key": strings.Repeat("k", 1025)}, "session_key"},
				{map[string]any{"session_key": asked.SessionKey, "limit": 201}, "limit"},
				{map[string]any{"session_key": asked.SessionKey, "max_chars": 20001}, "max_chars"},
				{map[string]any{"session_key": asked.SessionKey, "before": strings.Repeat("x", 300)}, "before"},
			} {
				gotwant.Error(t, fmt.Sprintf("%.80q", tc.args), gotwant.Contains("error", readSessionError(t, e, tc.args), tc.want))
			}
			if n := len(e.fake.RequestsFor("chat.history")); n != served {
				t.Errorf("garbage arguments made %d chat.history requests", n-served)
			}
		})
	}
}

// A key that names no session is an error naming the near keys (both
// gateways answer an unknown key with an empty transcript); a session
// that exists without messages is an empty list; a cursor whose message is
// gone says so.
func TestReadSessionMissing(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			t.Parallel()
			e := setup(t, gen, tools.Config{})
			ask(t, e, map[string]any{"message": "hi", "session_key": "agent:main:research-notes"})
			msg := readSessionError(t, e, map[string]any{"session_key": "agent:main:research-note"})
			gotwant.Error(t, msg,
				gotwant.Contains("error", msg, `session "agent:main:research-note" does not exist on the gateway`),
				gotwant.Contains("error", msg, `did you mean "agent:main:research-notes"?`))
			msg = readSessionError(t, e, map[string]any{"session_key": "agent:main:zzzzzzzzzzzzzzzzzzzzzzzzzzzzz"})
			gotwant.Error(t, msg, gotwant.Contains("error", msg, "list_sessions shows the existing keys"))

			var patched tools.PatchSessionModelOutput
			if res := e.call(t, testwait.Ctx(t), tools.ToolPatchSessionModel, map[string]any{"session_key": "agent:main:empty-one", "model": nil, "create": true}, &patched); res.IsError {
				t.Fatal(text(res))
			}
			empty := readSession(t, e, map[string]any{"session_key": "agent:main:empty-one"})
			gotwant.Error(t, fmt.Sprintf("%+v", empty), gotwant.Eq("messages", len(empty.Messages), 0), gotwant.Eq("next", empty.Next, ""))

			// A private session removed after its run is gone too.
			gone := ask(t, e, map[string]any{"message": "bye"})
			if err := e.fake.WaitSessionGone(testwait.Ctx(t), gone.SessionKey); err != nil {
				t.Fatal(err)
			}
			gotwant.Error(t, "removed session", gotwant.Contains("error", readSessionError(t, e, map[string]any{"session_key": gone.SessionKey}), "does not exist"))
		})
	}
}

// A cursor whose message is no longer in the transcript (the session was
// reset) is a clear error, not a wrong page.
func TestReadSessionStaleCursor(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	key := "agent:main:stale-test"
	msgs := rawMessages(t, openclawToolRun, openclawToolRun)
	serveHistory(e, key, msgs)
	next := readSession(t, e, map[string]any{"session_key": key, "limit": 1}).Next
	if next == "" {
		t.Fatal("no next")
	}
	serveHistory(e, key, rawMessages(t, `[{"role":"user","content":"after a reset","timestamp":1795865499999}]`))
	msg := readSessionError(t, e, map[string]any{"session_key": key, "before": next})
	gotwant.Error(t, msg,
		gotwant.Contains("error", msg, "before no longer matches the conversation"),
		gotwant.Contains("error", msg, "without before"))
}

// read_session is a read tool: --read-only serves it, and it works there.
func TestReadSessionReadOnly(t *testing.T) {
	if !containsName(tools.Names(true), tools.ToolReadSession) {
		t.Fatalf("--read-only tools %q lack read_session", tools.Names(true))
	}
	e := setup(t, gatewaysim.OpenClaw, tools.Config{ReadOnly: true})
	key := "agent:main:ro-test"
	serveHistory(e, key, rawMessages(t, openclawToolRun))
	out := readSession(t, e, map[string]any{"session_key": key})
	gotwant.Error(t, fmt.Sprintf("%+v", out), gotwant.Eq("messages", len(out.Messages), 3))
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// A page of a session heavy with tool calls (10 raw messages for 6 shown
// per turn, more than the first request allows for) asks the gateway again
// for more, and still shows the newest limit messages with each call's
// outcome.
func TestReadSessionToolHeavyPage(t *testing.T) {
	e := setup(t, gatewaysim.Clawdbot, tools.Config{})
	key := "agent:main:heavy-test"
	var msgs []json.RawMessage
	ts := 1795865400000
	add := func(s string, args ...any) {
		ts++
		msgs = append(msgs, json.RawMessage(fmt.Sprintf(s, append(args, ts)...)))
	}
	for turn := range 30 {
		add(`{"role":"user","content":[{"type":"text","text":"q%d"}],"timestamp":%d}`, turn)
		for c := range 4 {
			add(`{"role":"assistant","content":[{"type":"toolCall","id":"call_%d","name":"read","arguments":{}}],"timestamp":%d}`, c)
			add(`{"role":"toolResult","toolCallId":"call_%d","toolName":"read","isError":%t,"content":[{"type":"text","text":"out"}],"timestamp":%d}`, c, c == 3)
		}
		add(`{"role":"assistant","content":[{"type":"text","text":"a%d"}],"timestamp":%d}`, turn)
	}
	calls := serveHistory(e, key, msgs)
	out := readSession(t, e, map[string]any{"session_key": key})
	if len(out.Messages) != 20 {
		t.Fatalf("%d messages, want 20: %s", len(out.Messages), roleTexts(out.Messages))
	}
	var statuses []string
	for _, m := range out.Messages[len(out.Messages)-6:] {
		for _, c := range m.ToolCalls {
			statuses = append(statuses, c.Status)
		}
	}
	gotwant.Error(t, roleTexts(out.Messages),
		gotwant.Eq("newest", out.Messages[19].Text, "a29"),
		gotwant.Eq("oldest", fmt.Sprintf("%+v", out.Messages[0].ToolCalls), "[{Name:read Status:error}]"),
		gotwant.Eq("second oldest", out.Messages[1].Text, "a26"),
		gotwant.Eq("statuses of the last turn", strings.Join(statuses, " "), "ok ok ok error"),
		gotwant.Ne("next", out.Next, ""),
		gotwant.Eq("requests", calls.Load(), int64(2)))
}
