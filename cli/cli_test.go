package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawgate/clawgate/cli"
	"github.com/clawgate/clawgate/config"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/tools"
)

const secret = "cli-SECRET-token-42"

// run runs cli.Run in-process with a hermetic environment.
func run(t *testing.T, args []string, vars map[string]string, stdin string) (int, string, string) {
	t.Helper()
	return invoke(t, invocation{args: args, vars: vars, stdin: stdin})
}

// invocation is one in-process cli.Run with a hermetic environment.
type invocation struct {
	ctx      context.Context // nil: testwait.Ctx
	args     []string
	vars     map[string]string // the environment
	stdin    string
	terminal bool // stderr is a terminal
}

// invoke runs in and returns the exit code, stdout and stderr.
func invoke(t *testing.T, in invocation) (int, string, string) {
	t.Helper()
	if in.ctx == nil {
		in.ctx = testwait.Ctx(t)
	}
	var out, errb bytes.Buffer
	code := cli.Run(in.ctx, in.args, cli.Env{
		Stdin: strings.NewReader(in.stdin), Stdout: &out, Stderr: &errb,
		Getenv:         func(k string) string { return in.vars[k] },
		ConfigEnv:      config.MapEnv(in.vars),
		Home:           t.TempDir(),
		StderrTerminal: in.terminal,
	})
	return code, out.String(), errb.String()
}

func fake(t *testing.T, gen gatewaysim.Generation) *gatewaysim.Server {
	s := gatewaysim.New(gatewaysim.Options{Generation: gen, Token: secret})
	t.Cleanup(s.Close)
	return s
}

func TestCallCommand(t *testing.T) {
	s := fake(t, gatewaysim.OpenClaw)
	vars := map[string]string{"OPENCLAW_GATEWAY_URL": s.URL(), "OPENCLAW_GATEWAY_TOKEN": secret}
	code, out, errs := run(t, []string{"call", "list_sessions", `{"limit": 1}`}, vars, "")
	var res struct {
		Count    int
		Sessions []map[string]any
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Count != 1 {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	code, out, errs = run(t, []string{"call", "patch_session_model", `{"session_key":"agent:main:x","model":"fake/nope","create":true}`}, vars, "")
	if code != 1 || out != "" || !strings.Contains(errs, "model not allowed") {
		t.Fatalf("refused patch: %d %q %q", code, out, errs)
	}
	if code, _, errs = run(t, []string{"call", "no_such_tool"}, vars, ""); code != 2 || !strings.Contains(errs, `unknown tool "no_such_tool"`) {
		t.Fatalf("unknown tool: %d %q", code, errs)
	}
	if code, _, errs = run(t, []string{"call", "list_sessions", "{not json"}, vars, ""); code != 2 || !strings.Contains(errs, "JSON object") {
		t.Fatalf("bad JSON: %d %q", code, errs)
	}
	if strings.Contains(out+errs, secret) {
		t.Fatal("secret printed")
	}
}

func TestDoctor(t *testing.T) {
	s := fake(t, gatewaysim.Clawdbot)
	code, out, errs := run(t, []string{"doctor"}, map[string]string{"OPENCLAW_GATEWAY_URL": s.URL(), "CLAWDBOT_GATEWAY_TOKEN": secret}, "")
	gotwant.Fatal(t, fmt.Sprintf("doctor: code %d\n%s\n%s", code, out, errs),
		gotwant.Eq("exit code", code, 0),
		gotwant.Contains("stdout", out, "Healthy"),
		gotwant.Contains("stdout", out, "token: set (from env CLAWDBOT_GATEWAY_TOKEN)"),
		gotwant.Contains("stdout", out, "protocol 3"),
		gotwant.Lacks("stdout and stderr", out+errs, secret),
	)
	code, out, _ = run(t, []string{"doctor"}, map[string]string{"OPENCLAW_GATEWAY_URL": s.URL(), "OPENCLAW_GATEWAY_TOKEN": "wrong"}, "")
	if code != 1 || !strings.Contains(out, "PROBLEM: gateway refused connect: unauthorized") {
		t.Fatalf("wrong token: %d\n%s", code, out)
	}
	code, out, _ = run(t, []string{"doctor"}, map[string]string{"OPENCLAW_GATEWAY_URL": "ws://127.0.0.1:1"}, "")
	if code != 1 || !strings.Contains(out, "Is the gateway running?") {
		t.Fatalf("down: %d\n%s", code, out)
	}
}

func TestFlagAndEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"--simulate=nope"}, nil, `"nope" is not a simulator`},
		{nil, map[string]string{"CLAWGATE_TIMEOUT": "soon"}, "CLAWGATE_TIMEOUT"},
		{nil, map[string]string{"CLAWGATE_READ_ONLY": "maybe"}, "not a boolean"},
		{[]string{"--allow-model", "[bad"}, nil, "--allow-model"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"frobnicate"}, nil, "unknown command"},
		{[]string{"--timeout", "0"}, nil, "must be positive"},
	} {
		code, out, errs := run(t, tc.args, tc.vars, "")
		if code != cli.ExitUsage || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%v %v: code %d out %q err %q", tc.args, tc.vars, code, out, errs)
		}
	}
}

func TestSimulateCall(t *testing.T) {
	code, out, errs := run(t, []string{"--simulate", "clawdbot", "call", "ask_subagent", `{"message":"hello sim"}`}, nil, "")
	if code != 0 || !strings.Contains(out, "FAKE-REPLY: you said <<hello sim>>") {
		t.Fatalf("%d %q %q", code, out, errs)
	}
}

// --- the built binary over real stdio pipes ---

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clawgate-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "clawgate")
		out, err := exec.Command("go", "build", "-o", binPath, "..").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// session is the binary running as an MCP server on pipes, driven with the
// shared raw stdio client.
type session struct {
	t      *testing.T
	cmd    *exec.Cmd
	c      *mcptest.Client
	stderr *bytes.Buffer
}

// start runs the binary with args as an MCP server (env added to a minimal
// environment); it is killed at the end of the test.
func start(t *testing.T, env []string, args ...string) *session {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	s := startCmd(t, cmd)
	s.stderr = stderr
	return s
}

// startOn starts the binary as an MCP server for the fake g (with env
// added) and initializes it.
func startOn(t *testing.T, g *gatewaysim.Server, env ...string) *session {
	t.Helper()
	s := start(t, append([]string{"OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secret}, env...))
	s.initialize()
	return s
}

// startCmd starts cmd, whose Stderr is set, as an MCP server on pipes to a
// new client; it is killed at the end of the test.
func startCmd(t *testing.T, cmd *exec.Cmd) *session {
	t.Helper()
	c, err := mcptest.Exec(cmd, nil, mcptest.Options{ClientName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = c.CloseStdin()
	})
	return &session{t: t, cmd: cmd, c: c, stderr: &bytes.Buffer{}}
}

func (s *session) send(line string) {
	s.t.Helper()
	if err := s.c.Send(line); err != nil {
		s.t.Fatal(err)
	}
}

// nextMsg returns the next message on the server's stdout, which must be
// JSON-RPC 2.0 and come within bound.
func nextMsg(t *testing.T, s *session, bound time.Duration) *mcptest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	m, err := s.c.Next(ctx)
	switch {
	case err == io.EOF:
		t.Fatalf("stdout closed; stderr:\n%s", s.stderr)
	case err != nil && ctx.Err() != nil:
		t.Fatalf("no output within %s; stderr:\n%s", bound, s.stderr)
	case err != nil:
		t.Fatalf("%v; stderr:\n%s", err, s.stderr)
	}
	return m
}

// next returns the next stdout line as JSON; every line must be JSON-RPC 2.0.
// The line must come: it is awaited for testwait.Patience().
func (s *session) next() map[string]any {
	s.t.Helper()
	m := nextMsg(s.t, s, testwait.Patience())
	var out map[string]any
	if err := json.Unmarshal([]byte(m.Line()), &out); err != nil {
		s.t.Fatalf("non-JSON-RPC line on stdout: %q", m.Line())
	}
	return out
}

// drained reads the server's stdout to its end, checks that what is left
// is JSON-RPC 2.0, and returns it.
func (s *session) drained(t *testing.T) (left []string) {
	t.Helper()
	for {
		m, err := s.c.Next(testwait.Ctx(t))
		if err == io.EOF {
			return left
		}
		if err != nil {
			t.Fatalf("stdout after the last response: %v", err)
		}
		left = append(left, m.Line())
	}
}

// response returns the next response (skipping notifications).
func (s *session) response() map[string]any {
	for {
		m := s.next()
		if _, ok := m["id"]; ok {
			return m
		}
	}
}

func (s *session) initialize() {
	s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	r := s.response()
	if r["result"].(map[string]any)["serverInfo"].(map[string]any)["name"] != "clawgate" {
		s.t.Fatalf("initialize: %v", r)
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func TestStdioTranscript(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)
	if n := len(g.Connects()); n != 0 {
		t.Fatalf("initialize touched the gateway (%d connects)", n)
	}
	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if tl := s.response()["result"].(map[string]any)["tools"].([]any); len(tl) != len(tools.Names(false)) {
		t.Fatalf("%d tools", len(tl))
	}
	s.send(`this is not json`)
	if r := s.response(); r["error"].(map[string]any)["code"] != -32700.0 {
		t.Fatalf("malformed line: %v", r)
	}
	s.send(`{"jsonrpc":"2.0","id":3,"method":"no/such/method"}`)
	if r := s.response(); r["error"] == nil {
		t.Fatalf("unknown method: %v", r)
	}
	s.send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_sessions","arguments":{"limit":1}}}`)
	r := s.response()
	res := r["result"].(map[string]any)
	if res["isError"] == true || res["structuredContent"].(map[string]any)["count"] != 1.0 {
		t.Fatalf("tools/call: %v", r)
	}
	s.send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"over stdio [[delay=1]]"},"_meta":{"progressToken":"p1"}}}`)
	var progress int
	for {
		m := s.next()
		if m["method"] == "notifications/progress" {
			progress++
			continue
		}
		if m["id"] == 5.0 {
			if m["result"].(map[string]any)["structuredContent"].(map[string]any)["text"] != "FAKE-REPLY: you said <<over stdio [[delay=1]]>>" {
				t.Fatalf("ask_subagent: %v", m)
			}
			break
		}
	}
	// The run streams for a second: its progress comes before its result,
	// and none after it (the transport guard drops late ones).
	if progress == 0 {
		t.Fatal("no progress notification before the result of a one-second run")
	}
	s.c.CloseStdin() // EOF: clean exit
	if left := s.drained(t); len(left) > 0 {
		t.Fatalf("output after the last result: %q", left)
	}
	waitExit(t, s, 0)
	if strings.Contains(s.stderr.String(), secret) {
		t.Fatal("token in stderr")
	}
}

func TestSIGTERMMidCallExitsCleanly(t *testing.T) {
	g, s := startWithRun(t, 2, "[[delay=30]] slow")
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s, 0) // within exitBound, and only JSON-RPC on stdout
	gatewaywait.OnlyRunAborted(t, g)
}

func TestCancelledNotificationAbortsRun(t *testing.T) {
	g, s := startWithRun(t, 7, "[[delay=30]] cancel me") // tracked before it is sent: from now on a cancel aborts it
	s.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user gave up"}}`)
	gatewaywait.OnlyRunAborted(t, g)
	// The server stays healthy: the next request is answered.
	s.send(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"list_models","arguments":{}}}`)
	for {
		m := s.response()
		if m["id"] == 8.0 {
			if m["result"].(map[string]any)["isError"] == true {
				t.Fatalf("list_models after cancel: %v", m)
			}
			break
		}
	}
}

// Long ask_subagent runs must not hold up other tool calls (mcp-go's default
// worker pool would run only five tool calls at once): the other call is
// answered well before the runs could end.
func TestSlowRunsDoNotBlockOtherTools(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	s := startOn(t, g)
	for i := range 8 {
		s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"ask_subagent","arguments":{"message":"%s slow %d","session_key":"agent:main:slow-%d"}}}`, 100+i, longRun, i, i))
	}
	gatewaywait.Runs(t, g, 8)
	sent := time.Now()
	s.send(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"gateway_status","arguments":{}}}`)
	if r := s.response(); r["id"] != 9.0 || r["result"].(map[string]any)["structuredContent"].(map[string]any)["connected"] != true {
		t.Fatalf("gateway_status behind slow runs: %v", r)
	}
	if el := time.Since(sent); el > testwait.WellBefore(testwait.LongTimeout) {
		t.Fatalf("gateway_status answered after %s, not well before the runs could end", el)
	}
}

// longRun is the directive of an agent run that does not end within a
// test: it lasts testwait.LongTimeout, so only the call's own timeout
// (tools.DefaultTimeout, 55 s) would end it. A call that must be answered
// at once, not when its run ends, is required within
// testwait.WellBefore(testwait.LongTimeout), well before either.
var longRun = fmt.Sprintf("[[delay=%.0f]]", testwait.LongTimeout.Seconds())
