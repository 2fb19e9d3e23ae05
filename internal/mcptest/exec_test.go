package mcptest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// TestHelperServer is the server process of TestExec: with
// MCPTEST_HELPER_SERVER set it answers every request on stdin with its
// method, until EOF.
func TestHelperServer(t *testing.T) {
	if os.Getenv("MCPTEST_HELPER_SERVER") == "" {
		t.Skip("the server process of TestExec")
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var req struct {
			ID     json.RawMessage
			Method string
		}
		if json.Unmarshal(sc.Bytes(), &req) != nil || req.ID == nil {
			continue
		}
		fmt.Printf(`{"jsonrpc":"2.0","id":%s,"result":{"method":%q}}`+"\n", req.ID, req.Method)
	}
	os.Exit(0)
}

func TestExec(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), "MCPTEST_HELPER_SERVER=1")
	c, err := Exec(cmd, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if res, err := c.Request(ctx(t), "tools/list", nil); err != nil || string(res) != `{"method":"tools/list"}` {
		t.Fatalf("Request: %s %v", res, err)
	}
	// A partial line written raw, completed by a line sent whole.
	if _, err := c.Write([]byte(`{"jsonrpc":"2.0","id":"raw",`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(`"method":"ping"}`); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Next(ctx(t)); err != nil || string(m.ID) != `"raw"` {
		t.Fatalf("Next: %+v %v", m, err)
	}
	if err := c.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(ctx(t)); err != io.EOF {
		t.Fatalf("Next after the server exited: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the server: %v", err)
	}
}
