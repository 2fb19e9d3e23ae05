package schema_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/clawgate/clawgate/schema"
)

func TestModelRef(t *testing.T) {
	for _, tc := range [][3]string{
		{"anthropic", "claude-sonnet-4-5", "anthropic/claude-sonnet-4-5"},
		{"fake", "fake/fake-echo", "fake/fake-echo"},
		{"", "fake-echo", "fake-echo"},
		{"fake", "", ""},
		{"vercel-ai-gateway", "openai/gpt-5", "vercel-ai-gateway/openai/gpt-5"},
	} {
		if got := schema.ModelRef(tc[0], tc[1]); got != tc[2] {
			t.Errorf("ModelRef(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// recordedPayloads returns the payloads of successful responses to method in
// the happy scenario of a recording.
func recordedPayloads(t *testing.T, file, method string) []json.RawMessage {
	t.Helper()
	f, err := os.Open("../testdata/frames/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	ids := map[string]bool{}
	var out []json.RawMessage
	for sc.Scan() {
		var l struct {
			Dir   string
			Frame struct {
				Type, ID, Method string
				OK               bool
				Payload          json.RawMessage
			}
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch {
		case l.Dir == "out" && l.Frame.Method == method:
			ids[l.Frame.ID] = true
		case l.Dir == "in" && l.Frame.Type == "res" && ids[l.Frame.ID] && l.Frame.OK:
			out = append(out, l.Frame.Payload)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s payloads in %s", method, file)
	}
	return out
}

func TestDecodeRecordedReplies(t *testing.T) {
	for _, file := range []string{"frames-openclaw-2026.9.6.jsonl", "frames-clawdbot-2026.1.24-3.jsonl"} {
		t.Run(file, func(t *testing.T) {
			for _, p := range recordedPayloads(t, file, "sessions.patch") {
				var r schema.SessionsPatchResult
				if err := json.Unmarshal(p, &r); err != nil || r.Key == "" {
					t.Fatalf("patch: %v %+v", err, r)
				}
				if got := r.EffectiveModel(); got != "" && got != "fake/fake-echo" {
					t.Fatalf("effective model %q", got)
				}
			}
			for _, p := range recordedPayloads(t, file, "sessions.list") {
				var l schema.SessionsList
				if err := json.Unmarshal(p, &l); err != nil || l.Defaults.Model != "fake-echo" || l.Defaults.ModelProvider != "fake" {
					t.Fatalf("list: %v %+v", err, l.Defaults)
				}
			}
			var finals int
			for _, p := range recordedPayloads(t, file, "agent") {
				var r schema.AgentReply
				if err := json.Unmarshal(p, &r); err != nil || r.RunID == "" {
					t.Fatalf("agent: %v", err)
				}
				if r.Status == schema.RunOK {
					finals++
					if r.Text() == "" || r.Result.Meta.AgentMeta == nil || r.Result.Meta.AgentMeta.Usage.Total == 0 {
						t.Fatalf("final %+v", r)
					}
				}
			}
			if finals == 0 {
				t.Fatal("no final agent reply decoded")
			}
		})
	}
}

func TestAbortResultShapes(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"ok":true,"aborted":true,"runIds":["r"]}`:                true,
		`{"ok":true,"aborted":false,"runIds":[]}`:                  false,
		`{"ok":true,"abortedRunId":"r","status":"aborted"}`:        true,
		`{"ok":true,"abortedRunId":null,"status":"no-active-run"}`: false,
	} {
		var r schema.AbortResult
		if err := json.Unmarshal([]byte(raw), &r); err != nil || r.DidAbort() != want {
			t.Errorf("%s: %v %v", raw, r.DidAbort(), err)
		}
	}
}

// The final replies real gateways sent for a run that hit its timeout and
// for a run aborted with chat.abort (e2e/testdata/frames-*.jsonl).
func TestTimedOutVersusAborted(t *testing.T) {
	const timeout = 2 * time.Second
	for _, tc := range []struct {
		name, raw         string
		ranFor            time.Duration
		timedOut, aborted bool
	}{
		{"openclaw timeout", `{"runId":"r","status":"timeout","summary":"aborted","timeoutPhase":"provider","providerStarted":true,"result":{"payloads":[{"text":"Request timed out","isError":true}],"meta":{}}}`, 2100 * time.Millisecond, true, true},
		{"openclaw chat.abort", `{"runId":"r","status":"timeout","summary":"aborted","stopReason":"rpc"}`, 500 * time.Millisecond, false, true},
		{"clawdbot timeout", `{"runId":"r","status":"ok","summary":"completed","result":{"payloads":[],"meta":{"durationMs":2000,"aborted":true}}}`, 2300 * time.Millisecond, true, true},
		{"completed", `{"runId":"r","status":"ok","summary":"completed","result":{"payloads":[{"text":"hi"}],"meta":{"durationMs":20}}}`, 100 * time.Millisecond, false, false},
	} {
		var r schema.AgentReply
		if err := json.Unmarshal([]byte(tc.raw), &r); err != nil {
			t.Fatal(err)
		}
		if r.TimedOut(timeout, tc.ranFor) != tc.timedOut || r.Aborted() != tc.aborted {
			t.Errorf("%s: timedOut %v aborted %v", tc.name, r.TimedOut(timeout, tc.ranFor), r.Aborted())
		}
	}
}
