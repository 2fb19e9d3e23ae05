package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/tools"
)

// clawgate leaves no private session behind when it exits: `call
// ask_subagent` returns only after the session of its run is removed (the
// removal runs in the background while the answer is printed, and exit
// waits for it), on both generations.
func TestExitLeavesNoPrivateSession(t *testing.T) {
	for _, gen := range []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot} {
		t.Run(gen.String(), func(t *testing.T) {
			g := fake(t, gen)
			vars := map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": secret}
			code, out, errs := run(t, []string{"call", "ask_subagent", `{"message": "hi"}`}, vars, "")
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			var res tools.AskSubagentOutput
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if !tools.IsPrivateSession(res.SessionKey) {
				t.Fatalf("session %q", res.SessionKey)
			}
			if _, ok := g.Session(res.SessionKey); ok {
				t.Errorf("the private session %s outlived clawgate", res.SessionKey)
			}
			for _, s := range g.Sessions() {
				if strings.Contains(s.Key, "clawgate-") {
					t.Errorf("left behind: %s", s.Key)
				}
			}
		})
	}
}
