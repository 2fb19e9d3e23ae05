package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
)

// A client that never reads clawgate's stderr (the pipe fills at 64 KiB)
// must not stall it: with debug logging, 2,000 tool calls sent at once are
// all answered (those past the 100 in flight with the busy error), and the
// log says how many lines it dropped once it can.
func TestUnreadStderrNeverBlocks(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(binary(t))
	cmd.Env = []string{"HOME=" + t.TempDir(), "OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secret, "CLAWGATE_LOG_LEVEL=debug"}
	cmd.Stderr = w // never read until the end
	s := startCmd(t, cmd)
	w.Close()

	const calls = 2000
	go func() {
		_ = s.c.Send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
		for i := 1; i <= calls; i++ {
			_ = s.c.Send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_sessions","arguments":{"limit":1}}}`, i))
		}
	}()
	n := 0
	for n < calls+1 {
		m, err := s.c.Next(testwait.Ctx(t))
		if err != nil {
			t.Fatalf("after %d of %d answers: %v", n, calls+1, err)
		}
		if m.ID != nil {
			n++
		}
	}
	s.c.CloseStdin()
	// Now drain stderr: the dropped lines are counted, not lost silently.
	buf := make([]byte, 1<<20)
	var all strings.Builder
	for {
		n, err := r.Read(buf)
		all.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(all.String(), "log lines were dropped because stderr was not being read") {
		t.Errorf("no note of dropped log lines in %d bytes of stderr", all.Len())
	}
}
