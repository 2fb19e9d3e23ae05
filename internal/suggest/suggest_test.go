package suggest

import (
	"strings"
	"testing"
)

// Names are matched across case and word separators, by edit distance, and
// by containment.
func TestClosest(t *testing.T) {
	names := []string{"gateway_status", "list_sessions", "list_models", "patch_session_model", "ask_subagent"}
	for _, tc := range []struct{ in, want string }{
		{"list_sesions", "list_sessions"},
		{"List_Sessions", "list_sessions"},
		{"listSessions", "list_sessions"},
		{"list-models", "list_models"},
		{"list_model", "list_models"},
		{"gateway-stats", "gateway_status"},
		{"status", "gateway_status"},
		{"sessions", "list_sessions"},
		{"subagent", "ask_subagent"},
		{"mcp__clawgate__ask_subagent", "ask_subagent"},
		{"clawgate.list_models", "list_models"},
		{"patch_model", ""},
		{"foo", ""},
		{"", ""},
		{"delete_session", ""},
		{strings.Repeat("x", 1000), ""},
	} {
		if got := Closest(tc.in, names); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	args := []string{"message", "session_key", "model", "timeout_seconds", "thinking", "agent_id", "extra_system_prompt"}
	for _, tc := range []struct{ in, want string }{
		{"mesage", "message"}, {"msg", ""}, {"modle", "model"}, {"timeout", "timeout_seconds"}, {"timeoutSeconds", "timeout_seconds"},
		{"prompt", ""}, {"system_prompt", "extra_system_prompt"}, {"agent", "agent_id"}, {"sessionKey", "session_key"}, {"think", "thinking"},
	} {
		if got := Closest(tc.in, args); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Distance counts insertions, deletions, substitutions and transpositions.
func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"limt", "limit", 1}, {"subagnet", "subagent", 1}, {"kitten", "sitting", 3}, {"é", "e", 1}} {
		if d := Distance(tc.a, tc.b); d != tc.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, d, tc.d)
		}
	}
}
