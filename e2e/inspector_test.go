//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/tools"
)

// Protocol versions the pinned Inspector negotiates in each era: the
// legacy era's initialize asks for the newest pre-2026 version, the modern
// era pins 2026-07-28 and starts with server/discover instead.
const (
	inspectorLegacyVersion = "2025-11-25"
	inspectorModernVersion = "2026-07-28"
)

// serverInfoMeta is the _meta key under which a 2026-07-28 server names
// itself in every result.
const serverInfoMeta = "io.modelcontextprotocol/serverInfo"

// simulatedProtocol is the gateway protocol of clawgate's built-in
// simulated OpenClaw (CLAWGATE_SIMULATE=openclaw).
const simulatedProtocol = 4

// TestInspectorCLI drives the clawgate binary with the official MCP
// Inspector's CLI (@modelcontextprotocol/inspector 2.x, an independent
// client on the TypeScript SDK 2.x) in both protocol eras: legacy
// (initialize handshake, 2025-11-25) and modern (stateless 2026-07-28,
// server/discover). It runs against each real gateway and against
// clawgate's built-in simulator. Each Inspector run is one process: it
// spawns clawgate, makes one request (after its own tools/list for
// tools/call) and closes clawgate's stdin.
func TestInspectorCLI(t *testing.T) {
	prefix, node := clientPrefix(t, harness.InspectorCLI)
	launcher := filepath.Join(prefix, harness.InspectorCLIEntry)
	t.Run("simulator", func(t *testing.T) {
		t.Parallel()
		inspectEras(t, &inspectTarget{node: node, launcher: launcher,
			server:    []string{s.binary(t)},
			serverEnv: []string{"CLAWGATE_SIMULATE=openclaw"},
			protocol:  simulatedProtocol,
		})
	})
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		args, env := r.connect()
		inspectEras(t, &inspectTarget{node: node, launcher: launcher,
			server:    append([]string{s.binary(t)}, args...),
			serverEnv: env,
			protocol:  r.gw.Product.Protocol,
			gw:        r,
		})
	})
}

// inspectTarget is one clawgate configuration the Inspector is run against.
type inspectTarget struct {
	node, launcher string
	server         []string // clawgate's command line: the binary and its flags
	serverEnv      []string // KEY=VALUE entries for clawgate, passed with -e
	protocol       int      // gateway protocol gateway_status must report
	gw             *running // the real gateway; nil for the simulator
}

// inspectEras runs the whole check in each protocol era, then makes sure
// the Inspector stored nothing of clawgate's environment (the gateway
// token) on disk: 2.x keeps stdio env values of saved servers in a secrets
// file when there is no keychain.
func inspectEras(t *testing.T, tg *inspectTarget) {
	home := filepath.Join(s.testDir(t), "inspector-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, era := range []string{"legacy", "modern"} {
		t.Run(era, func(t *testing.T) {
			inspectEra(t, &inspector{inspectTarget: tg, era: era, home: home})
		})
	}
	for _, kv := range tg.serverEnv {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasSuffix(k, "_TOKEN") {
			continue
		}
		_ = filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(v)) {
				t.Errorf("the Inspector wrote the gateway token (%s) to %s", k, path)
			}
			return nil
		})
	}
}

// inspectEra checks initialize (server/discover in the modern era),
// tools/list, and tools/call of every read tool, ask_subagent and a refused
// ask_subagent through the Inspector in one era.
func inspectEra(t *testing.T, in *inspector) {
	modern := in.era == "modern"

	// initialize: in the modern era the CLI has no handshake to report and
	// prints what server/discover returned instead.
	initRes := in.ok(t, "initialize", "--method", "initialize")
	var info struct {
		ServerInfo      struct{ Name, Version string } `json:"serverInfo"`
		ProtocolVersion string                         `json:"protocolVersion"`
		Capabilities    map[string]json.RawMessage     `json:"capabilities"`
		Instructions    string                         `json:"instructions"`
	}
	decode(t, "initialize", initRes, &info)
	wantVersion := inspectorLegacyVersion
	if modern {
		wantVersion = inspectorModernVersion
	}
	if info.ProtocolVersion != wantVersion {
		t.Errorf("initialize: protocolVersion %q, want %q", info.ProtocolVersion, wantVersion)
	}
	gotwant.Error(t, fmt.Sprintf("initialize: serverInfo %+v, capabilities %v, %d bytes of instructions", info.ServerInfo, info.Capabilities, len(info.Instructions)),
		gotwant.Eq("serverInfo.name", info.ServerInfo.Name, "clawgate"),
		gotwant.Ne("serverInfo.version", info.ServerInfo.Version, ""),
		gotwant.That("capabilities.tools", info.Capabilities["tools"] != nil, info.Capabilities["tools"], "set"),
		gotwant.Ne("instructions", info.Instructions, ""),
	)
	if modern {
		// auto probes with server/discover and must settle on the modern era.
		var auto struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		decode(t, "initialize (auto)", in.ok(t, "initialize-auto", "--method", "initialize", "--protocol-era", "auto"), &auto)
		if auto.ProtocolVersion != inspectorModernVersion {
			t.Errorf("--protocol-era auto negotiated %q, want %q (server/discover)", auto.ProtocolVersion, inspectorModernVersion)
		}
	}

	// tools/list with --strict: exactly the golden tools, and no schema
	// portability findings (which --strict turns into exit 6).
	var list struct {
		Tools []json.RawMessage `json:"tools"`
	}
	decode(t, "tools/list", in.ok(t, "tools-list", "--method", "tools/list", "--strict"), &list)
	var names []string
	for _, raw := range list.Tools {
		var tool struct {
			Name string `json:"name"`
		}
		decode(t, "tools/list", raw, &tool)
		names = append(names, tool.Name)
		golden, err := os.ReadFile(filepath.Join("..", "testdata", "tools", tool.Name+".json"))
		if err != nil {
			t.Errorf("%s: no golden definition: %v", tool.Name, err)
			continue
		}
		if !jsonEqual(t, golden, raw) {
			t.Errorf("%s: the Inspector's view differs from testdata/tools/%s.json:\n got %s\nwant %s", tool.Name, tool.Name, raw, golden)
		}
	}
	slices.Sort(names)
	if want := goldenTools(t, false); !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}

	st := okResult[tools.GatewayStatusOutput](t, in, "gateway_status")
	if !st.Connected || st.Protocol != in.protocol || !strings.HasPrefix(st.URL, "ws://127.0.0.1:") {
		t.Errorf("gateway_status: %+v, want connected over loopback with protocol %d", st, in.protocol)
	}
	if in.gw != nil && (st.URL != in.gw.gw.URL || st.ServerVersion != in.gw.gw.Product.ServerVersion) {
		t.Errorf("gateway_status: url %s, server_version %q, want %s, %q", st.URL, st.ServerVersion, in.gw.gw.URL, in.gw.gw.Product.ServerVersion)
	}

	// --tool-arg provider=fake: key=value arguments.
	// The real gateways have the fake provider's two models, the simulator one.
	models := okResult[tools.ListModelsOutput](t, in, "list_models", "--tool-arg", "provider=fake")
	wantModels := 1
	if in.gw != nil {
		wantModels = 2
	}
	if gotwant.Error(t, fmt.Sprintf("list_models provider=fake: %+v", models.Models), gotwant.Eq("models", len(models.Models), wantModels)) {
		gotwant.Error(t, fmt.Sprintf("list_models provider=fake: %+v", models.Models),
			gotwant.Eq("models[0].id", models.Models[0].ID, harness.ModelRef),
			gotwant.Eq("models[0].provider", models.Models[0].Provider, "fake"),
			gotwant.Eq("models[0].context_window", models.Models[0].ContextWindow, 128000),
		)
	}

	// ask_subagent with --tool-args-json and a progressToken in _meta: the
	// Inspector must cope with the progress notifications before the
	// result (it does not print them). The CLI gives every request the
	// SDK's fixed 60 s (no flag; progress does not extend it, it registers
	// no progress handler), so timeout_seconds 55 lets clawgate report a
	// slow run as its own "timed out" error before the Inspector gives up.
	key, nonce := uniqueKey("inspector-"+in.era), randomHex(8)
	msg := "hello from the Inspector " + in.era + " " + nonce
	args, err := json.Marshal(askArgs(msg, key, 55))
	if err != nil {
		t.Fatal(err)
	}
	ask, res := okCall[tools.AskSubagentOutput](t, in, "ask_subagent", "--tool-args-json", string(args),
		"--tool-metadata", "progressToken=progress-"+nonce)
	wantAskResult(t, ask, res.Text(), msg, key)
	if in.gw != nil {
		if _, err := in.gw.fake.WaitRequest(ctxFor(t, 10*time.Second), func(q fakemodel.Request) bool { return strings.Contains(q.UserText, nonce) }); err != nil {
			t.Errorf("the fake model never saw the message: %v", err)
		}
	}

	sessions := okResult[tools.ListSessionsOutput](t, in, "list_sessions", "--tool-args-json", `{"limit":200}`)
	if sessions.Count != len(sessions.Sessions) || sessions.Defaults.Model != harness.ModelRef {
		t.Errorf("list_sessions: count %d for %d sessions, defaults %+v", sessions.Count, len(sessions.Sessions), sessions.Defaults)
	}
	if in.gw != nil { // the simulator lives and dies with one clawgate process
		i := slices.IndexFunc(sessions.Sessions, func(s tools.SessionInfo) bool { return s.Key == key })
		if i < 0 {
			t.Errorf("list_sessions: the ask_subagent session %s is not listed", key)
		} else if row := sessions.Sessions[i]; row.Model != harness.ModelRef || row.ModelProvider != "fake" {
			t.Errorf("list_sessions: row %+v", row)
		}
	}

	// A tool error: clawgate refuses the gateway's main session before
	// asking the gateway. 2.x prints the result and exits 5 with a one-line
	// error envelope on stderr (1.x exited 0).
	refusal := in.run(t, "ask_subagent-refused", "--method", "tools/call", "--tool-name", "ask_subagent",
		"--tool-args-json", `{"message":"must not run","session_key":"agent:main:main"}`)
	if refusal.code != 5 {
		t.Errorf("refused ask_subagent: exit %d, want 5 (tool error)\nstderr: %s", refusal.code, harness.Tail(refusal.stderr, 10))
	}
	if r := toolResult(t, in, "refused ask_subagent", refusal.result); !r.IsError || !strings.Contains(r.Text(), "main session") {
		t.Errorf("refused ask_subagent: isError=%v %q, want an error about the main session", r.IsError, r.Text())
	}
	lines := strings.Split(strings.TrimSpace(refusal.stderr), "\n")
	var envelope struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &envelope); err != nil || envelope.Error.Code != "tool_is_error" {
		t.Errorf("refused ask_subagent: last stderr line %q is not the tool_is_error envelope (%v)", lines[len(lines)-1], err)
	}
}

// inspector runs the Inspector CLI against one target in one era.
type inspector struct {
	*inspectTarget
	era  string
	home string // HOME and working directory of the Inspector and clawgate
}

// inspectorRun is the outcome of one Inspector run.
type inspectorRun struct {
	result json.RawMessage // "result" of the --format json envelope
	code   int
	stderr string // the Inspector's diagnostics and clawgate's stderr
}

// inspectorSeq numbers Inspector runs for their process markers.
var inspectorSeq atomic.Int64

// run runs the Inspector once with args (which choose the method) and
// returns its result envelope, exit code and stderr. It fails the test
// unless stdout is exactly one JSON object {"result": …}, and checks that
// the clawgate it spawned is gone after the Inspector exited.
//
// The command is
//
//	node <launcher> --cli <clawgate> [flags] -- -e KEY=VALUE… <args>
//	  --protocol-era <era> --format json --connect-timeout 120000
//
// The Inspector starts its stdio server with only HOME, LOGNAME, PATH,
// SHELL, TERM and USER of its own environment, so clawgate's settings and
// the e2e process marker go in with -e.
func (in *inspector) run(t *testing.T, name string, args ...string) inspectorRun {
	t.Helper()
	marker := fmt.Sprintf("%s=%s.inspector-%d", harness.ChildEnv, harness.RunID, inspectorSeq.Add(1))
	argv := append([]string{in.launcher, "--cli"}, in.server...)
	argv = append(argv, "--")
	for _, kv := range append([]string{"CLAWGATE_LOG_LEVEL=debug", marker}, in.serverEnv...) {
		argv = append(argv, "-e", kv)
	}
	argv = append(argv, args...)
	if !slices.Contains(args, "--protocol-era") {
		argv = append(argv, "--protocol-era", in.era)
	}
	// The connect timeout (15 s by default) counts clawgate's start; the
	// race-enabled binary on a busy 2-core machine gets more.
	argv = append(argv, "--format", "json", "--connect-timeout", "120000")
	storage := filepath.Join(in.home, ".mcp-inspector")
	env := nodeEnv(in.node, "HOME="+in.home,
		// Keep the Inspector away from any real catalog, OAuth state or
		// client config of the user running the tests.
		"MCP_STORAGE_DIR="+filepath.Join(storage, "storage"),
		"MCP_INSPECTOR_OAUTH_STATE_PATH="+filepath.Join(storage, "storage", "oauth.json"),
		"MCP_CATALOG_PATH="+filepath.Join(storage, "mcp.json"),
		"MCP_CLIENT_CONFIG_PATH="+filepath.Join(storage, "storage", "client.json"))
	start := time.Now()
	stdout, stderr, code := runNode(t, "inspector-"+in.era+"-"+name, in.home, env, 3*time.Minute, in.node, argv...)
	what := "inspector --protocol-era " + in.era + " " + strings.Join(args, " ")
	t.Logf("%s: exit %d after %s", what, code, time.Since(start).Round(10*time.Millisecond))
	if left := waitGone(marker, 15*time.Second); len(left) > 0 {
		t.Errorf("%s: clawgate processes %v still running 15 s after the Inspector exited", what, left)
	}
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &envelope); err != nil {
		t.Fatalf("%s (exit %d): stdout is not one JSON object (%v):\n%s\nstderr: %s", what, code, err, stdout, harness.Tail(stderr, 20))
	}
	for k := range envelope {
		if k != "result" {
			t.Errorf("%s: unexpected %q in the output: %s", what, k, envelope[k])
		}
	}
	if envelope["result"] == nil {
		t.Fatalf("%s (exit %d): no result in %s\nstderr: %s", what, code, stdout, harness.Tail(stderr, 20))
	}
	return inspectorRun{result: envelope["result"], code: code, stderr: stderr}
}

// ok runs the Inspector and fails the test unless it exits 0.
func (in *inspector) ok(t *testing.T, name string, args ...string) json.RawMessage {
	t.Helper()
	r := in.run(t, name, args...)
	if r.code != 0 {
		t.Fatalf("inspector %s exited %d, want 0:\nresult: %s\nstderr: %s", strings.Join(args, " "), r.code, r.result, harness.Tail(r.stderr, 20))
	}
	return r.result
}

// okCall runs tools/call of tool with extra Inspector args, and decodes a
// successful result's structured content. In the modern era the result
// must name clawgate in _meta; in the legacy era it must carry no such
// 2026-07-28 metadata.
func okCall[T any](t *testing.T, in *inspector, tool string, args ...string) (T, *mcptest.ToolResult) {
	t.Helper()
	raw := in.ok(t, tool, append([]string{"--method", "tools/call", "--tool-name", tool}, args...)...)
	res := toolResult(t, in, tool, raw)
	var out T
	if res.IsError {
		t.Fatalf("%s: isError: %s", tool, res.Text())
	}
	if err := res.Decode(&out); err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return out, res
}

// okResult is okCall without the raw result.
func okResult[T any](t *testing.T, in *inspector, tool string, args ...string) T {
	t.Helper()
	out, _ := okCall[T](t, in, tool, args...)
	return out
}

// toolResult decodes a tools/call result and checks its era's _meta.
func toolResult(t *testing.T, in *inspector, what string, raw json.RawMessage) *mcptest.ToolResult {
	t.Helper()
	res, err := mcptest.DecodeToolResult(raw)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var meta struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	decode(t, what, raw, &meta)
	var server struct{ Name string }
	if b, ok := meta.Meta[serverInfoMeta]; ok {
		decode(t, what+" _meta", b, &server)
	}
	switch {
	case in.era == "modern" && server.Name != "clawgate":
		t.Errorf("%s: modern-era result without _meta[%q] naming clawgate: %s", what, serverInfoMeta, meta.Meta)
	case in.era == "legacy" && meta.Meta[serverInfoMeta] != nil:
		t.Errorf("%s: legacy-era result carries 2026-07-28 _meta[%q]", what, serverInfoMeta)
	}
	return res
}

// decode unmarshals raw into v or fails the test.
func decode(t *testing.T, what string, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, raw)
	}
}

// waitGone polls until no live process carries the environment entry
// marker, at most d, and returns those still left.
func waitGone(marker string, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		left := marked(marker)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// marked lists the live processes whose environment holds kv. A zombie's
// environment reads empty, so exited processes do not count.
func marked(kv string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		if slices.ContainsFunc(bytes.Split(env, []byte{0}), func(e []byte) bool { return string(e) == kv }) {
			out = append(out, pid)
		}
	}
	return out
}
