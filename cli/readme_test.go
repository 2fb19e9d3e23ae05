package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/titanous/json5"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// The README is the front door: every command of its Install, Try and Run
// blocks and every tool example runs here as written, and every example
// output is compared with what the command really prints. Every fenced
// block carries a marker comment on the line above it:
//
//	<!-- readme-test: run -->       a sh block: each line runs with bash
//	<!-- readme-test: output -->    a json block: the output of the last command of the run block above
//	<!-- readme-test: client -->    a sh block of MCP client commands: the clawgate arguments after "--" must work
//	<!-- readme-test: config -->    a json/json5/toml client config: its clawgate args must work
//	<!-- readme-test: skip (why) --> not run here, with the reason
//
// A block without a marker fails the test, so no example escapes it.

// readmeBlock is one fenced code block of the README.
type readmeBlock struct {
	line   int    // line number of the opening fence
	lang   string // sh, json, json5, toml, ""
	marker string // run, output, client, config, skip
	body   string
}

var markerRE = regexp.MustCompile(`^<!-- readme-test: (run|output|client|config|skip)\b.*-->$`)

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var blocks []readmeBlock
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		b := readmeBlock{line: i + 1, lang: strings.TrimPrefix(lines[i], "```")}
		if i > 0 {
			if m := markerRE.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				b.marker = m[1]
			}
		}
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		b.body = strings.Join(body, "\n")
		blocks = append(blocks, b)
	}
	return blocks
}

// readmeEnv is a user's machine: a HOME whose ~/.openclaw/openclaw.json
// points at a running (simulated) OpenClaw gateway, and a PATH where
// `go install .` puts clawgate.
type readmeEnv struct {
	home, bin string
	env       []string
}

func newReadmeEnv(t *testing.T) *readmeEnv {
	t.Helper()
	const token = "readme-token-0123456789"
	g := gatewaysim.New(gatewaysim.Options{Generation: gatewaysim.OpenClaw, Token: token})
	t.Cleanup(g.Close)
	port := g.URL()[strings.LastIndexByte(g.URL(), ':')+1:]
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".openclaw"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("{\n  // as written by openclaw onboard\n  gateway: { mode: 'local', port: %s, auth: { mode: 'token', token: '%s' } },\n}\n", port, token)
	if err := os.WriteFile(filepath.Join(home, ".openclaw", "openclaw.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	env := []string{"HOME=" + home, "GOBIN=" + bin, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	for _, k := range []string{"GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if _, ok := os.LookupEnv("GOCACHE"); !ok {
		if c, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
			env = append(env, "GOCACHE="+strings.TrimSpace(string(c)))
		}
	}
	if _, ok := os.LookupEnv("GOMODCACHE"); !ok {
		if c, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
			env = append(env, "GOMODCACHE="+strings.TrimSpace(string(c)))
		}
	}
	return &readmeEnv{home: home, bin: bin, env: env}
}

// run runs one README command line with bash from the repository root, with
// an MCP client's first requests on stdin.
func (e *readmeEnv) run(t *testing.T, line string) (stdout, stderr string, err error) {
	t.Helper()
	// The command ends by itself (serving ones at the EOF after the
	// requests below); only a hang waits this long.
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Patience())
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir = ".."
	cmd.Env = e.env
	cmd.Stdin = strings.NewReader(initAndList)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// isServing reports whether a clawgate command line serves MCP (no command,
// serve or simulate).
func isServing(line string) bool {
	if i := strings.Index(line, "#"); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "clawgate" {
		return false
	}
	for _, w := range f[1:] {
		if strings.HasPrefix(w, "-") {
			continue
		}
		return w == "serve" || w == "simulate"
	}
	return true
}

// checkServing checks the output of a serving command: only JSON-RPC on
// stdout, and the tool list.
func checkServing(t *testing.T, where, stdout string) {
	t.Helper()
	listed := false
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var m struct {
			JSONRPC string `json:"jsonrpc"`
			ID      int    `json:"id"`
			Result  struct {
				Tools []any `json:"tools"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m.JSONRPC != "2.0" {
			t.Errorf("%s: not JSON-RPC on stdout: %q", where, sc.Text())
		}
		if m.ID == 2 && len(m.Result.Tools) >= 3 {
			listed = true
		}
	}
	if !listed {
		t.Errorf("%s: served no tool list: %q", where, stdout)
	}
}

func TestReadmeCommandsRunAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and installs clawgate")
	}
	blocks := readmeBlocks(t)
	e := newReadmeEnv(t)
	var lastOut, lastCmd string
	ran := map[string]int{}
	for _, b := range blocks {
		where := fmt.Sprintf("README.md:%d", b.line)
		switch b.marker {
		case "":
			t.Errorf("%s: a ```%s block without a <!-- readme-test: ... --> marker", where, b.lang)
		case "run":
			if b.lang != "sh" {
				t.Errorf("%s: run marker on a ```%s block", where, b.lang)
			}
			for _, line := range strings.Split(b.body, "\n") {
				if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				stdout, stderr, err := e.run(t, line)
				ran["run"]++
				if err != nil {
					t.Errorf("%s: %s\nfailed: %v\nstdout: %s\nstderr: %s", where, line, err, stdout, stderr)
					continue
				}
				if isServing(line) {
					checkServing(t, where+": "+line, stdout)
				}
				lastOut, lastCmd = stdout, line
			}
		case "output":
			ran["output"]++
			compareOutput(t, where, lastCmd, b.body, lastOut)
		case "client":
			for _, line := range strings.Split(b.body, "\n") {
				line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
				_, after, ok := strings.Cut(line, " -- /path/to/clawgate")
				if !ok {
					continue
				}
				ran["client"]++
				e.checkArgs(t, where+": "+line, shellWords(t, after))
			}
		case "config":
			ran["config"]++
			e.checkArgs(t, where, configArgs(t, where, b))
		}
	}
	// Every kind of check ran (a marker typo would otherwise skip them).
	for kind, least := range map[string]int{"run": 12, "output": 5, "client": 3, "config": 3} {
		if ran[kind] < least {
			t.Errorf("only %d README %s checks ran, want at least %d", ran[kind], kind, least)
		}
	}
	if _, err := os.Stat(filepath.Join(e.bin, "clawgate")); err != nil {
		t.Errorf("go install . did not put clawgate into GOBIN: %v", err)
	}
}

// checkArgs runs the installed clawgate with args (from a client config) as
// that client would: serving MCP, here against the simulator.
func (e *readmeEnv) checkArgs(t *testing.T, where string, args []string) {
	t.Helper()
	line := "CLAWGATE_SIMULATE=openclaw clawgate"
	for _, a := range args {
		line += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	stdout, stderr, err := e.run(t, line)
	if err != nil {
		t.Errorf("%s: clawgate %q does not serve: %v\n%s", where, args, err, stderr)
		return
	}
	checkServing(t, where, stdout)
}

// shellWords splits the arguments of a README command line like sh would
// (single and double quotes, no expansions).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	out, err := exec.Command("bash", "-c", `for a in `+s+`; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatalf("split %q: %v", s, err)
	}
	words := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(words) == 1 && words[0] == "" {
		return nil
	}
	return words
}

// configArgs extracts clawgate's args from an MCP client config snippet.
func configArgs(t *testing.T, where string, b readmeBlock) []string {
	t.Helper()
	var args []string
	switch b.lang {
	case "json":
		var c struct {
			MCPServers map[string]struct {
				Command string   `json:"command"`
				Args    []string `json:"args"`
			} `json:"mcpServers"`
		}
		if err := json.Unmarshal([]byte(b.body), &c); err != nil || c.MCPServers["clawgate"].Command == "" {
			t.Fatalf("%s: not a JSON mcpServers config with clawgate: %v", where, err)
		}
		args = c.MCPServers["clawgate"].Args
	case "json5":
		var c struct {
			MCP struct {
				Servers map[string]struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				} `json:"servers"`
			} `json:"mcp"`
		}
		if err := json5.Unmarshal([]byte(b.body), &c); err != nil || c.MCP.Servers["clawgate"].Command == "" {
			t.Fatalf("%s: not a JSON5 mcp.servers config with clawgate: %v", where, err)
		}
		args = c.MCP.Servers["clawgate"].Args
	case "toml":
		// The few TOML forms the README uses: key = "string", key = [...],
		// key = number, comments.
		inTable := false
		for _, line := range strings.Split(b.body, "\n") {
			line = strings.TrimSpace(line)
			if i := strings.Index(line, " #"); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "["):
				inTable = line == "[mcp_servers.clawgate]"
			case inTable:
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("%s: unexpected TOML line %q", where, line)
				}
				var val any
				if err := json.Unmarshal([]byte(strings.TrimSpace(v)), &val); err != nil {
					t.Fatalf("%s: TOML value %q is not of the simple forms this test reads: %v", where, v, err)
				}
				if strings.TrimSpace(k) == "args" {
					for _, a := range val.([]any) {
						args = append(args, a.(string))
					}
				}
			}
		}
	default:
		t.Fatalf("%s: config marker on a ```%s block", where, b.lang)
	}
	return args
}

// volatile are result fields whose values differ between runs (ids, times,
// the simulator's port); only their presence and type are compared.
var volatile = map[string]bool{"run_id": true, "duration_ms": true, "updated_at": true, "session_id": true, "url": true, "date": true}

// compareOutput checks that the README's example output is what the command
// prints: the same fields everywhere, the same values except volatile ones.
func compareOutput(t *testing.T, where, cmd, want, got string) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Errorf("%s: the example output is not JSON: %v", where, err)
		return
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("%s: %s printed no JSON: %v\n%s", where, cmd, err, got)
		return
	}
	var diffs []string
	diffJSON("", w, g, &diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: the example output of %s differs from the real one:\n  %s\nreal output:\n%s", where, cmd, strings.Join(diffs, "\n  "), got)
	}
}

func diffJSON(path string, want, got any, diffs *[]string) {
	key := path[strings.LastIndexByte(path, '.')+1:]
	// A private session's key is fresh on every run: any private key will do.
	if ws, ok := want.(string); ok && key == "session_key" && tools.IsPrivateSession(ws) {
		if gs, ok := got.(string); !ok || !tools.IsPrivateSession(gs) {
			*diffs = append(*diffs, fmt.Sprintf("%s: a private session key in the README, %v for real", path, got))
		}
		return
	}
	if volatile[key] {
		if reflect.TypeOf(want) != reflect.TypeOf(got) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %T in the README, %T for real", path, want, got))
		}
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: an object in the README, %T for real", path, got))
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inW:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing in the README (real: %v)", path, k, gv))
			case !inG:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: not in the real output (README: %v)", path, k, wv))
			default:
				diffJSON(path+"."+k, wv, gv, diffs)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d items in the README, real: %v", path, len(w), got))
			return
		}
		for i := range w {
			diffJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v in the README, %v for real", path, want, got))
		}
	}
}
