package gatewaysim

import "testing"

// The same transcript entry carries the same ids in every chat.history
// reply, as on the real OpenClaw (a reader can find a message again).
func TestChatHistoryStableIDs(t *testing.T) {
	eachGeneration(t, func(t *testing.T, g Generation, srv *Server, c *testClient) {
		c.requestFinal("agent", obj{"message": "first", "sessionKey": "agent:main:ids", "idempotencyKey": "i1"})
		c.requestFinal("agent", obj{"message": "second", "sessionKey": "agent:main:ids", "idempotencyKey": "i2"})
		a := jsonStr(sub(c.request("chat.history", obj{"sessionKey": "agent:main:ids"}), "payload")["messages"])
		b := jsonStr(sub(c.request("chat.history", obj{"sessionKey": "agent:main:ids"}), "payload")["messages"])
		if a != b {
			t.Errorf("two chat.history replies differ:\n%s\n%s", a, b)
		}
		if g != OpenClaw {
			return
		}
		ids := map[string]bool{}
		for _, m := range sub(c.request("chat.history", obj{"sessionKey": "agent:main:ids"}), "payload")["messages"].([]any) {
			ids[str(sub(m.(obj), "__openclaw"), "id")] = true
		}
		if len(ids) != 4 {
			t.Errorf("4 messages with %d distinct ids: %v", len(ids), ids)
		}
	})
}
