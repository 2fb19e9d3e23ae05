package cli_test

import (
	"encoding/json"
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
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	const calls = 2000
	go func() {
		fmt.Fprintln(stdin, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
		for i := 1; i <= calls; i++ {
			fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_sessions","arguments":{"limit":1}}}`+"\n", i)
		}
	}()
	dec := json.NewDecoder(stdout)
	answered := make(chan int)
	go func() {
		n := 0
		for {
			var m map[string]any
			if dec.Decode(&m) != nil {
				break
			}
			if _, ok := m["id"]; ok {
				n++
				if n == calls+1 {
					break
				}
			}
		}
		answered <- n
	}()
	if n := testwait.Recv(t, "the answers", answered); n != calls+1 {
		t.Fatalf("%d of %d requests answered", n, calls+1)
	}
	stdin.Close()
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
