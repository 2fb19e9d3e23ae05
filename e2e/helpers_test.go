//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// serverOpts say how to start a clawgate MCP server.
type serverOpts struct {
	name string   // log name; default "clawgate"
	args []string // flags (and command)
	env  []string // extra KEY=VALUE entries
	home string   // HOME; "" gives a fresh empty directory, so no real config is found
}

// mcpProc is a clawgate binary running as an MCP server under the harness
// (in its process group, with the run's marker), driven with the shared raw
// stdio client; its stderr and the MCP transcript go to files.
type mcpProc struct {
	*mcptest.Client
	name           string
	proc           *harness.Proc
	transcript     *os.File
	stderrPath     string
	transcriptPath string
}

// startMCP starts bin with args, env and working directory dir as an MCP
// server named name; its stderr and transcript go to logDir (created).
func startMCP(name, bin string, args, env []string, dir, logDir string) (*mcpProc, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	p := &mcpProc{name: name, stderrPath: filepath.Join(logDir, name+".stderr"), transcriptPath: filepath.Join(logDir, name+".transcript.jsonl")}
	var err error
	if p.transcript, err = os.Create(p.transcriptPath); err != nil {
		return nil, err
	}
	stderr, err := os.Create(p.stderrPath)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Dir, cmd.Stderr = env, dir, stderr
	p.Client, err = mcptest.Exec(cmd, func() (err error) {
		p.proc, err = harness.Start(name, cmd)
		return err
	}, mcptest.Options{Transcript: p.transcript, ClientName: "clawgate-e2e",
		Ended: func() string { return fmt.Sprintf("exit code %d", p.proc.ExitCode()) }})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Stderr returns what the server wrote to stderr so far.
func (p *mcpProc) Stderr() string {
	b, _ := os.ReadFile(p.stderrPath)
	return string(b)
}

// TranscriptTail returns the last n lines of the transcript.
func (p *mcpProc) TranscriptTail(n int) string {
	b, _ := os.ReadFile(p.transcriptPath)
	return harness.Tail(string(b), n)
}

// Close closes the server's stdin, which must make it exit, and waits up to
// wait for that; a server that does not exit is killed and an error
// returned. It returns the exit code otherwise.
func (p *mcpProc) Close(wait time.Duration) (int, error) {
	_ = p.CloseStdin()
	err := p.proc.Wait(wait)
	if !p.proc.Exited() {
		_ = p.proc.Kill()
		return -1, fmt.Errorf("%s did not exit within %s after stdin was closed: %w", p.name, wait, err)
	}
	<-p.Done()
	p.transcript.Close()
	return p.proc.ExitCode(), nil
}

// connect returns the flags and environment that point clawgate at r's
// gateway explicitly: --url, and the token in the product's own variable
// (OPENCLAW_GATEWAY_TOKEN or CLAWDBOT_GATEWAY_TOKEN).
func (r *running) connect() ([]string, []string) {
	return []string{"--url", r.gw.URL}, []string{r.gw.Product.EnvPrefix + "_GATEWAY_TOKEN=" + r.gw.Token}
}

// startClawgate spawns the clawgate binary as an MCP server and performs the
// MCP handshake. At cleanup it closes stdin and checks that clawgate exits
// with 0 and wrote nothing but JSON-RPC to stdout; on failure it logs
// clawgate's stderr and the transcript.
func startClawgate(t *testing.T, o serverOpts) (*mcpProc, *mcptest.InitializeResult) {
	t.Helper()
	dir := s.testDir(t)
	if o.name == "" {
		o.name = "clawgate"
	}
	if o.home == "" {
		o.home = filepath.Join(dir, o.name+"-home")
		if err := os.MkdirAll(o.home, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := harness.CleanEnv(append([]string{"HOME=" + o.home, "CLAWGATE_LOG_LEVEL=debug"}, o.env...)...)
	c, err := startMCP(o.name, s.binary(t), o.args, env, o.home, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		code, err := c.Close(15 * time.Second)
		switch {
		case err != nil:
			t.Error(err)
		case code != 0:
			t.Errorf("%s exited with code %d after its stdin was closed, want 0", o.name, code)
		}
		if g := c.Garbage(); len(g) > 0 {
			t.Errorf("%s: unexpected output on stdout: %q", o.name, g)
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", o.name, harness.Tail(c.Stderr(), 40))
			t.Logf("%s MCP transcript (tail):\n%s", o.name, c.TranscriptTail(20))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Initialize(ctx)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c, res
}

// startFor starts clawgate pointed at r's gateway with --url and the token
// env var, plus extra flags.
func startFor(t *testing.T, r *running, extra ...string) *mcpProc {
	t.Helper()
	args, env := r.connect()
	c, _ := startClawgate(t, serverOpts{args: append(args, extra...), env: env})
	return c
}

// callTool calls a tool and fails the test on a JSON-RPC error or when no
// result arrives within d.
func callTool(t *testing.T, c *mcpProc, d time.Duration, name string, args any) *mcptest.ToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	res, err := c.CallTool(ctx, name, args)
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

// wantOK asserts a successful tool result and decodes its structured content.
func wantOK[T any](t *testing.T, res *mcptest.ToolResult) T {
	t.Helper()
	var out T
	if res.IsError {
		t.Fatalf("tool error: %s", res.Text())
	}
	if err := res.Decode(&out); err != nil {
		t.Fatalf("structuredContent: %v", err)
	}
	if res.Text() == "" {
		t.Errorf("result has no text content next to structuredContent")
	}
	return out
}

// wantToolError asserts an isError result whose text contains every
// substring (case-insensitive) and returns the text.
func wantToolError(t *testing.T, res *mcptest.ToolResult, substrings ...string) string {
	t.Helper()
	text := res.Text()
	if !res.IsError {
		t.Fatalf("want isError, got success: %s", text)
	}
	for _, sub := range substrings {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(sub)) {
			t.Errorf("error text %q does not mention %q", text, sub)
		}
	}
	return text
}

// wantAskResult checks an ask_subagent result of a run of msg in the
// session key with the fake model: its text and text content (content)
// are the fake model's reply, the status is ok, and it names a run, the
// session and the fake model; more are further checks of the same result.
func wantAskResult(t *testing.T, out tools.AskSubagentOutput, content, msg, key string, more ...gotwant.Check) {
	t.Helper()
	reply := "FAKE-REPLY: you said <<" + msg + ">>"
	gotwant.Error(t, fmt.Sprintf("ask_subagent: %+v", out), append([]gotwant.Check{
		gotwant.Eq("text", out.Text, reply),
		gotwant.Eq("text content", content, withWarnings(reply, out.Warnings)),
		gotwant.Eq("status", out.Status, "ok"),
		gotwant.Ne("run_id", out.RunID, ""),
		gotwant.Eq("session_key", out.SessionKey, key),
		gotwant.Eq("provider", out.Provider, "fake"),
		gotwant.Eq("model", out.Model, harness.ModelRef),
	}, more...)...)
}

// withWarnings is the text content of an ask_subagent result: the answer,
// then each warning on a paragraph of its own.
func withWarnings(text string, warnings []string) string {
	for _, w := range warnings {
		text += "\n\n[clawgate] warning: " + w
	}
	return text
}

// uniqueKey returns a session key no other test uses.
func uniqueKey(tag string) string {
	return "agent:main:e2e-" + tag + "-" + randomHex(8)
}

// ctxFor returns a context that ends after d or with the test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// runClawgate runs the clawgate binary to completion (a command such as
// doctor or call) with env added to a clean environment, and returns its
// stdout, stderr and exit code.
func runClawgate(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(s.binary(t), args...)
	cmd.Env = harness.CleanEnv(env...)
	out, errOut, code, err := runToEnd(t, "clawgate-"+args[len(args)-1], cmd, 60*time.Second)
	if err != nil {
		t.Fatalf("clawgate %s: %v", strings.Join(args, " "), err)
	}
	return out, errOut, code
}

// runToEnd runs cmd (its environment and directory set) under the harness
// as name, with stdout and stderr in files of the test's directory, for at
// most timeout, and returns what it wrote to them and its exit code. A
// process still running after timeout is stopped, and the error says so.
func runToEnd(t *testing.T, name string, cmd *exec.Cmd, timeout time.Duration) (string, string, int, error) {
	t.Helper()
	dir := s.testDir(t)
	stdout, err := os.Create(filepath.Join(dir, name+".stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	p, err := harness.Start(name, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err = p.Wait(timeout); err != nil && !p.Exited() {
		_, _ = p.Stop(2 * time.Second)
	} else {
		err = nil
	}
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	return string(out), string(errOut), p.ExitCode(), err
}

// waitResult waits for a tools/call sent with Go and decodes its result.
func waitResult(t *testing.T, c *mcpProc, call *mcptest.Call, d time.Duration) *mcptest.ToolResult {
	t.Helper()
	raw, err := c.Wait(ctxFor(t, d), call)
	if err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	res, err := mcptest.DecodeToolResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rawSessions reads sessions.list straight from the gateway with the
// project's gateway client (a second, independent connection) and returns
// the raw rows by key.
func rawSessions(t *testing.T, r *running) map[string]map[string]any {
	t.Helper()
	c, err := r.gw.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out struct {
		Sessions []map[string]any `json:"sessions"`
	}
	if err := c.Call(ctxFor(t, 15*time.Second), "sessions.list", map[string]any{"limit": 200}, &out); err != nil {
		t.Fatalf("raw sessions.list: %v", err)
	}
	rows := map[string]map[string]any{}
	for _, row := range out.Sessions {
		if k, ok := row["key"].(string); ok {
			rows[k] = row
		}
	}
	return rows
}

// goldenTools lists the tools of the golden definitions in testdata/tools
// (written by go test ./tools -run Golden -update), sorted by name, the
// order of tools/list: all of them, or with readOnly those annotated
// readOnlyHint, the ones a --read-only clawgate serves. The binary under
// test must serve exactly these.
func goldenTools(t *testing.T, readOnly bool) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "tools", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden tool definitions in testdata/tools: %v", err)
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var def struct {
			Name        string `json:"name"`
			Annotations struct {
				ReadOnlyHint *bool `json:"readOnlyHint"`
			} `json:"annotations"`
		}
		if err := json.Unmarshal(b, &def); err != nil || def.Name == "" || def.Annotations.ReadOnlyHint == nil {
			t.Fatalf("%s: not a tool definition with a name and readOnlyHint: %v", f, err)
		}
		// wait_subagent and list_subagents are read tools that --read-only
		// leaves out all the same (tools.Names says which it serves).
		if readOnly && (!*def.Annotations.ReadOnlyHint || !slices.Contains(tools.Names(true), def.Name)) {
			continue
		}
		names = append(names, def.Name)
	}
	slices.Sort(names)
	return names
}
