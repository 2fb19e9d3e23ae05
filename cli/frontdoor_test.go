package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/clawgate/clawgate/cli"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/tools"
)

// initAndList is an MCP client's first two requests, then EOF.
const initAndList = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
`

// listedTools runs a serving command on initAndList and returns the names
// of the tools it lists.
func listedTools(t *testing.T, args []string, vars map[string]string) []string {
	t.Helper()
	code, out, errs := run(t, args, vars, initAndList)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, errs)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			ID     int
			Result struct{ Tools []struct{ Name string } }
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: non-JSON line on stdout: %q", args, line)
		}
		if m.ID == 2 {
			var names []string
			for _, tool := range m.Result.Tools {
				names = append(names, tool.Name)
			}
			slices.Sort(names)
			return names
		}
	}
	t.Fatalf("%v: no tools/list answer in %q", args, out)
	return nil
}

// Flags mean the same before and after the command: --read-only after
// serve or simulate used to be dropped silently, granting write tools.
func TestFlagsBeforeAndAfterTheCommand(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	vars := map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": secret}
	readOnly := slices.Sorted(slices.Values(tools.Names(true)))
	all := slices.Sorted(slices.Values(tools.Names(false)))
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--read-only"}, readOnly},
		{[]string{"--read-only", "serve"}, readOnly},
		{[]string{"--read-only"}, readOnly},
		{[]string{"serve", "-read-only=true"}, readOnly},
		{[]string{"simulate", "--read-only"}, readOnly},
		{[]string{"--simulate", "serve", "--read-only"}, readOnly},
		{[]string{"simulate", "clawdbot", "--read-only"}, readOnly},
		{[]string{"serve"}, all},
		{[]string{"serve", "--read-only=false"}, all},
	} {
		if got := listedTools(t, tc.args, vars); !slices.Equal(got, tc.want) {
			t.Errorf("%v lists %v, want %v", tc.args, got, tc.want)
		}
	}

	// doctor --url uses that URL, not the default gateway.
	code, out, _ := run(t, []string{"doctor", "--url", "ws://127.0.0.1:1"}, nil, "")
	if code != 1 || !strings.Contains(out, "url: ws://127.0.0.1:1 (from flag --url)") || !strings.Contains(out, "Is the gateway running?") {
		t.Errorf("doctor --url: exit %d\n%s", code, out)
	}
	// call TOOL --read-only: the flag, not a JSON argument.
	code, out, errs := run(t, []string{"call", "list_models", "--read-only"}, vars, "")
	if code != 0 || !strings.Contains(out, `"fake/fake-echo"`) {
		t.Errorf("call list_models --read-only: exit %d\n%s%s", code, out, errs)
	}
	if c := g.Connects(); len(c) == 0 || !strings.Contains(string(c[len(c)-1].Params), `"scopes":["operator.read"]`) {
		t.Errorf("call ... --read-only did not request only operator.read")
	}
	code, _, errs = run(t, []string{"call", "ask_subagent", `{"message":"hi"}`, "--read-only"}, vars, "")
	if code != 2 || !strings.Contains(errs, "disabled because this clawgate runs with --read-only") {
		t.Errorf("call ask_subagent --read-only: exit %d %s", code, errs)
	}
	// "--" ends the flags.
	code, _, errs = run(t, []string{"call", "--", "--read-only"}, vars, "")
	if code != 2 || !strings.Contains(errs, `unknown tool "--read-only"`) {
		t.Errorf("call -- --read-only: exit %d %s", code, errs)
	}
}

// Anything not understood is an error (exit 2) that names it; nothing is
// silently ignored.
func TestLeftoversAreErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "extra"}, `clawgate serve takes no arguments (got "extra")`},
		{[]string{"doctor", "now"}, `clawgate doctor takes no arguments (got "now")`},
		{[]string{"call", "list_models", "{}", "more"}, `"more" is not understood`},
		{[]string{"simulate", "openclaw", "twice"}, `"twice" is not understood`},
		{[]string{"simulate", "nope"}, `simulate "nope": want openclaw or clawdbot`},
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"serve", "--read-olny"}, "unknown flag --read-olny (did you mean --read-only?)"},
		{[]string{"doctr"}, `unknown command "doctr" (did you mean "doctor"?)`},
		{[]string{"--url"}, "--url needs a value"},
		{[]string{"--timeout", "soon"}, `--timeout "soon": "soon" is not a duration`},
		{[]string{"--timeout", "0"}, "--timeout must be positive"},
		// Out-of-range durations are refused, not wrapped (18446744074 s
		// used to become 290 ms).
		{[]string{"--connect-timeout", "18446744074"}, `"18446744074" seconds is more than 24h0m0s`},
		{[]string{"--call-timeout", "25h"}, `"25h" is more than 24h0m0s`},
		{[]string{"--timeout", "99999999999999999999"}, "seconds is more than 24h0m0s"},
		{[]string{"version", "--read-only"}, "--read-only has no effect on clawgate version"},
		{[]string{"tools", "--timeout", "5"}, "--timeout has no effect on clawgate tools"},
		{[]string{"--simulate=nope"}, `"nope" is not a simulator`},
		{[]string{"help", "nope"}, `help "nope": no such command`},
	} {
		code, out, errs := run(t, tc.args, nil, "")
		if code != cli.ExitUsage || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errs, tc.want)
		}
	}
}

// -h and --help after any command print that command's help and do
// nothing else.
func TestHelpAfterEveryCommand(t *testing.T) {
	for _, cmd := range []string{"serve", "doctor", "call", "tools", "simulate", "version", "help"} {
		for _, h := range []string{"-h", "--help"} {
			code, out, errs := run(t, []string{cmd, h}, map[string]string{"OPENCLAW_GATEWAY_URL": "ws://127.0.0.1:1"}, "")
			if code != 0 || !strings.HasPrefix(out, "Usage: clawgate "+cmd) || errs != "" {
				t.Errorf("%s %s: exit %d\nstdout %q\nstderr %q", cmd, h, code, out, errs)
			}
		}
	}
	code, out, _ := run(t, []string{"call", "list_models", "-h"}, nil, "")
	if code != 0 || !strings.HasPrefix(out, "Usage: clawgate call TOOL") {
		t.Errorf("call list_models -h: %d %q", code, out)
	}
	code, out, _ = run(t, []string{"-h"}, nil, "")
	if code != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "--simulate") {
		t.Errorf("-h: %d %q", code, out)
	}
	code, out, _ = run(t, []string{"help", "doctor"}, nil, "")
	if code != 0 || !strings.HasPrefix(out, "Usage: clawgate doctor") {
		t.Errorf("help doctor: %d %q", code, out)
	}
}

// --simulate alone is the OpenClaw simulator; Clawdbot's is picked with
// --simulate=clawdbot, --simulate clawdbot, simulate clawdbot or
// CLAWGATE_SIMULATE=clawdbot.
func TestSimulateForms(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		vars     map[string]string
		protocol int
	}{
		{[]string{"--simulate", "call", "gateway_status"}, nil, 4},
		{[]string{"call", "gateway_status", "--simulate"}, nil, 4},
		{[]string{"--simulate=openclaw", "call", "gateway_status"}, nil, 4},
		{[]string{"--simulate=clawdbot", "call", "gateway_status"}, nil, 3},
		{[]string{"--simulate", "clawdbot", "call", "gateway_status"}, nil, 3},
		{[]string{"call", "gateway_status"}, map[string]string{"CLAWGATE_SIMULATE": "1"}, 4},
		{[]string{"call", "gateway_status"}, map[string]string{"CLAWGATE_SIMULATE": "clawdbot"}, 3},
	} {
		code, out, errs := run(t, tc.args, tc.vars, "")
		var st struct{ Connected bool }
		_ = json.Unmarshal([]byte(out), &st)
		if code != 0 || !st.Connected || !strings.Contains(out, `"protocol": `+string(rune('0'+tc.protocol))) {
			t.Errorf("%v %v: exit %d\n%s%s", tc.args, tc.vars, code, out, errs)
		}
	}
	// The README's first demo, and the example models of the README and the
	// tool descriptions, with their aliases.
	code, out, errs := run(t, []string{"--simulate", "call", "ask_subagent", `{"message": "hello"}`}, nil, "")
	if code != 0 || !strings.Contains(out, "FAKE-REPLY: you said <<hello>>") || !strings.Contains(out, `"model": "fake/fake-echo"`) {
		t.Fatalf("demo: %d %s %s", code, out, errs)
	}
	for _, gen := range []string{"--simulate", "--simulate=clawdbot"} {
		for model, want := range map[string]string{
			"anthropic/claude-sonnet-4-5": "anthropic/claude-sonnet-4-5", "sonnet": "anthropic/claude-sonnet-4-5",
			"anthropic/claude-opus-4-5": "anthropic/claude-opus-4-5", "opus": "anthropic/claude-opus-4-5",
			"openai/gpt-5": "openai/gpt-5", "gpt": "openai/gpt-5", "anthropic/claude-haiku-4-5": "anthropic/claude-haiku-4-5",
		} {
			code, out, errs := run(t, []string{gen, "call", "ask_subagent", `{"message": "hi", "model": "` + model + `"}`}, nil, "")
			if code != 0 || !strings.Contains(out, `"model": "`+want+`"`) {
				t.Errorf("%s ask_subagent on %s: exit %d\n%s%s", gen, model, code, out, errs)
			}
		}
	}
}

// call prints each error once, and no INFO logs by default.
func TestCallPrintsErrorsOnce(t *testing.T) {
	code, out, errs := run(t, []string{"call", "ask_subagent", `{"message":"hi"}`}, map[string]string{"OPENCLAW_GATEWAY_URL": "ws://127.0.0.1:1"}, "")
	gotwant.Fatal(t, fmt.Sprintf("exit %d, stderr:\n%s", code, errs),
		gotwant.Eq("exit code", code, 1),
		gotwant.Eq("stdout", out, ""),
		gotwant.Eq(`"cannot connect to the gateway" in stderr`, strings.Count(errs, "cannot connect to the gateway"), 1),
		gotwant.Eq("stderr lines", strings.Count(strings.TrimSpace(errs), "\n")+1, 1),
	)
	code, _, errs = run(t, []string{"--simulate", "call", "list_models"}, nil, "")
	if code != 0 || errs != "" {
		t.Fatalf("a successful call wrote to stderr: %q", errs)
	}
	// An explicit log level shows the logs again.
	code, _, errs = run(t, []string{"--simulate", "--log-level", "info", "call", "list_models"}, nil, "")
	if code != 0 || !strings.Contains(errs, "level=INFO") {
		t.Fatalf("--log-level info: %q", errs)
	}
}

// call reads its arguments from stdin with "-", and says what is wrong with
// arguments that are not one JSON object.
func TestCallArguments(t *testing.T) {
	code, out, errs := run(t, []string{"--simulate", "call", "ask_subagent", "-"}, nil, `{"message": "from stdin"}`)
	if code != 0 || !strings.Contains(out, "<<from stdin>>") {
		t.Fatalf("stdin: %d %s %s", code, out, errs)
	}
	for args, want := range map[string]string{
		`[1, 2]`:             "the arguments must be a JSON object such as '{\"limit\": 5}', not an array",
		`"x"`:                "not a string",
		`{"limit": 1} {}`:    "the arguments must be one JSON object, but more follows it",
		`{not json`:          "the arguments are not valid JSON",
		`{"limit": -1}`:      "limit must be an integer ≥ 1 (got -1)",
		`{"limt": 3}`:        `unknown argument "limt" (did you mean "limit"?)`,
		`{"limit": "three"}`: "limit must be an integer",
	} {
		code, _, errs := run(t, []string{"--simulate", "call", "list_sessions", args}, nil, "")
		if code == 0 || !strings.Contains(errs, want) || strings.Contains(errs, "&{") {
			t.Errorf("%s: exit %d %q, want %q", args, code, errs, want)
		}
	}
	code, _, errs = run(t, []string{"call"}, nil, "")
	if code != 2 || !strings.Contains(errs, "Usage: clawgate call TOOL") || !strings.Contains(errs, "ask_subagent") {
		t.Fatalf("call alone: %d %s", code, errs)
	}
}

// clawgate tools lists every tool with its arguments, one per line.
func TestToolsCommand(t *testing.T) {
	code, out, _ := run(t, []string{"tools"}, nil, "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	gotwant.Fatal(t, fmt.Sprintf("%d\n%s", code, out),
		gotwant.Eq("exit code", code, 0),
		gotwant.Eq("lines", len(lines), len(tools.Names(false))),
		gotwant.Contains("stdout", out, "ask_subagent"),
		gotwant.Contains("stdout", out, "message*"),
	)
	_, out, _ = run(t, []string{"tools", "--read-only"}, nil, "")
	if strings.Count(out, "(disabled by --read-only)") != len(tools.Names(false))-len(tools.Names(true)) || !strings.Contains(out, "(disabled by --read-only)") {
		t.Fatalf("read-only:\n%s", out)
	}
}

// When stderr is a terminal, call shows the run's progress there; the
// result still goes to stdout alone.
func TestCallShowsProgressOnATerminal(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		code, out, errs := invoke(t, invocation{args: []string{"--simulate", "call", "ask_subagent", `{"message": "show me [[delay=1]]"}`}, terminal: terminal})
		if code != 0 || !strings.Contains(out, "<<show me [[delay=1]]>>") {
			t.Fatalf("terminal %v: %d %s %s", terminal, code, out, errs)
		}
		shown := strings.Contains(errs, "run started")
		if shown != terminal {
			t.Errorf("terminal %v: progress shown %v; stderr %q", terminal, shown, errs)
		}
	}
}

// Ctrl-C during call aborts the run on the gateway and exits with 130.
func TestCallInterrupted(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	started := testwait.Ctx(t)
	go func() {
		defer wg.Done()
		// Once the run is tracked (it is before it is sent), Ctrl-C aborts
		// it; if it never starts, cli.Run's result below says so.
		_, _ = g.WaitRuns(started, 1)
		cancel()
	}()
	vars := map[string]string{"OPENCLAW_GATEWAY_URL": g.URL(), "OPENCLAW_GATEWAY_TOKEN": secret}
	code, out, errs := invoke(t, invocation{ctx: ctx, args: []string{"call", "ask_subagent", `{"message": "[[delay=30]] long"}`}, vars: vars})
	wg.Wait()
	if code != cli.ExitInterrupt || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	gatewaywait.OnlyRunAborted(t, g)
}

// clawgate version and --version print the version, the VCS revision and
// date, and the Go version and platform.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := run(t, args, nil, "")
		if code != 0 || !regexp.MustCompile(`^clawgate \S+, .*go1\.\d+\S* \w+/\w+\n$`).MatchString(out) {
			t.Fatalf("%v: %d %q", args, code, out)
		}
	}
	// A binary built from a git checkout names its revision, as go install
	// from a clone does.
	if err := exec.Command("git", "rev-parse", "HEAD").Run(); err != nil {
		t.Skip("not a git checkout: no revision to check")
	}
	bin := filepath.Join(t.TempDir(), "clawgate")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	head, _ := exec.Command("git", "rev-parse", "HEAD").Output()
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "revision "+strings.TrimSpace(string(head))+" (20") {
		t.Fatalf("version of a VCS build: %q (HEAD %s) %v", out, head, err)
	}
}

// Over MCP, an unknown tool's error names the tools and the closest one,
// and a write tool in read-only mode says --read-only disabled it (the
// JSON-RPC code stays -32602).
func TestUnknownAndDisabledToolsOverStdio(t *testing.T) {
	s := start(t, []string{"CLAWGATE_SIMULATE=openclaw"}, "--read-only")
	s.initialize()
	for i, tc := range []struct{ name, want string }{
		// unknown tool "list_sesions" (did you mean "list_sessions"?); the available tools are gateway_status,
		// list_sessions, list_models (patch_session_model and ask_subagent are disabled by --read-only)
		{"list_sesions", tools.UnknownToolMessage("list_sesions", true)},
		{"frobnicate", `unknown tool "frobnicate"; the available tools are`},
		{"ask_subagent", `the tool "ask_subagent" is disabled because this clawgate runs with --read-only (or CLAWGATE_READ_ONLY)`},
	} {
		if !strings.HasPrefix(tc.want, `unknown tool "`) && !strings.HasPrefix(tc.want, `the tool "`) {
			t.Fatalf("%s: want %q names no tool", tc.name, tc.want)
		}
		id := 10 + i
		s.send(`{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"` + tc.name + `","arguments":{}}}`)
		r := s.response()
		e, _ := r["error"].(map[string]any)
		if e == nil || e["code"] != -32602.0 || !strings.Contains(e["message"].(string), tc.want) {
			t.Errorf("%s: %v, want -32602 with %q", tc.name, r, tc.want)
		}
	}
}

// SIGINT (Ctrl-C) during clawgate call aborts the run on the gateway and
// exits with 130.
func TestCallSIGINTExits130(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	cmd := exec.Command(binary(t), "call", "ask_subagent", `{"message": "long [[delay=30]]"}`)
	cmd.Env = []string{"HOME=" + t.TempDir(), "OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secret}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if runs := gatewaywait.Runs(t, g, 1); len(runs) != 1 {
		t.Fatalf("%d runs, want 1: %+v", len(runs), runs)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != cli.ExitInterrupt || out.Len() != 0 {
		t.Fatalf("exit %v (%v), stdout %q, stderr %q", cmd.ProcessState.ExitCode(), err, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "ask_subagent was cancelled after") || !strings.Contains(errb.String(), "the run was aborted on the gateway") {
		t.Errorf("stderr %q", errb.String())
	}
	gatewaywait.OnlyRunAborted(t, g)
}

// Duration variables are checked like the flags.
func TestDurationEnvOutOfRange(t *testing.T) {
	code, _, errs := run(t, []string{"tools"}, map[string]string{"CLAWGATE_CONNECT_TIMEOUT": "18446744074"}, "")
	if code != cli.ExitUsage || !strings.Contains(errs, `CLAWGATE_CONNECT_TIMEOUT: "18446744074" seconds is more than 24h0m0s`) {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
