//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/mcptest"
	"github.com/clawgate/clawgate/schema"
	"github.com/clawgate/clawgate/tools"
)

// The remote tests run each product's gateway inside a network namespace of
// its own (harness.Netns), reached over a veth pair at an address of
// 198.51.100.0/24: the gateway sees clawgate as a peer on another host, not
// loopback, so it wants a paired device (DEVICE.md §16). The operator side
// (listing and approving pairing requests, revoking tokens) is the
// approver (cmd/approver), run inside the namespace over the gateway's
// loopback, where both products pair it silently; `clawgate pair` is
// approved once with the product's own CLI, as the README tells users to.
//
// They need root or CAP_NET_ADMIN for `ip netns`; without it they skip
// with the reason.

// remoteTimeout bounds one remote tool call, pair run or CLI run.
const remoteTimeout = 2 * time.Minute

// approverBin is the approver binary, built once.
var approverBin = lazy[string]{fn: func() (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(s.work, "bin", "approver")
	cmd := exec.CommandContext(s.ctx, "go", "build", "-o", bin, "./e2e/cmd/approver")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./e2e/cmd/approver: %w\n%s", err, out)
	}
	return bin, nil
}}

// remoteEnv is one product's namespace, fake model server (on the host end
// of the veth pair) and its two gateways in the namespace: plain ws:// and
// TLS, each started on first use.
type remoteEnv struct {
	product harness.Product
	ns      *harness.Netns
	fake    *fakemodel.Server
	node    string
	prefix  string
	plain   lazy[*remoteGW]
	tls     lazy[*remoteGW]

	mu       sync.Mutex
	started  []*remoteGW
	approver atomic.Int64 // approver runs, for file names
}

// remoteGW is a gateway in the namespace and its approver's identity.
type remoteGW struct {
	env      *remoteEnv
	gw       *harness.Gateway
	identity string // the approver's identity file
	// fingerprint is the gateway's certificate pin (TLS only).
	fingerprint string
}

// TestRemote runs clawgate against each product's gateway in a network
// namespace. Subtests (parallel within a product):
//
//   - DeviceLess: --device-identity never; OpenClaw grants no scopes and
//     clawgate says so, Clawdbot keeps them and the tools work;
//   - PairingRequired: the first call names the pending request and the
//     product's approve command; after approval over RPC the same clawgate
//     process serves every read tool and ask_subagent;
//   - PairCommand: `clawgate pair` approved with the product's own CLI;
//     the token file is 0600; a second pair says it is already paired;
//   - Revoke: with the shared token OpenClaw asks for a new approval and
//     Clawdbot issues a new token; without it clawgate says to re-pair;
//   - RotateRemove: a rotated token is replaced with the shared token
//     without a break; OpenClaw's device.pair.remove gives a new pairing
//     request, and after its approval the same clawgate works again;
//   - TLSPinning: wss:// with the gateway's own certificate pinned; a wrong
//     pin names the fingerprint seen, doctor too;
//   - ConfigFile: gateway.mode "remote" with gateway.remote.url, token and
//     tlsFingerprint in a --config file, no URL or token flags;
//   - Readme: the README's "Remote gateway" steps as written.
//
// No output captured from clawgate, the approver or the product CLI may
// hold the shared token, a device token or the device's private key.
func TestRemote(t *testing.T) {
	if err := harness.NetnsSupported(); err != nil {
		t.Skip(err)
	}
	for i, name := range s.products {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := setupRemote(t, s.targets[name].product, i)
			for _, tc := range []struct {
				name string
				fn   func(t *testing.T, e *remoteEnv)
			}{
				{"Lab", testRemoteLab},
				{"DeviceLess", testRemoteDeviceLess},
				{"PairingRequired", testRemotePairingRequired},
				{"PairCommand", testRemotePairCommand},
				{"Revoke", testRemoteRevoke},
				{"RotateRemove", testRemoteRotateRemove},
				{"TLSPinning", testRemoteTLSPinning},
				{"ConfigFile", testRemoteConfigFile},
				{"Readme", testRemoteReadme},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e)
				})
			}
		})
	}
}

// setupRemote creates product p's namespace (the i-th /30) and fake model
// server; the gateways start on first use. Everything is removed when the
// product's subtests are done: gateways first, then the fake model, then
// the namespace.
func setupRemote(t *testing.T, p harness.Product, i int) *remoteEnv {
	node, err := s.node.get()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	ctx, cancel := context.WithTimeout(s.ctx, installTimeout)
	defer cancel()
	prefix, err := s.inst.Install(ctx, p.Package())
	if err != nil {
		t.Fatalf("install %s: %v", p.Name, err)
	}
	if _, err := approverBin.get(); err != nil {
		t.Fatal(err)
	}
	ns, err := harness.NewNetns(p.Name[:1], i)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Errorf("remove %s: %v", ns, err)
		}
	})
	dir := filepath.Join(s.work, "remote", p.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	flog, err := os.Create(filepath.Join(dir, "fake-requests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	fake := fakemodel.New(fakemodel.Options{Log: flog})
	if err := fake.Start(ns.HostIP + ":0"); err != nil {
		t.Fatalf("fake model on %s: %v", ns.HostIP, err)
	}
	t.Cleanup(func() { fake.Close(); flog.Close() })
	e := &remoteEnv{product: p, ns: ns, fake: fake, node: node, prefix: prefix}
	e.plain.fn = func() (*remoteGW, error) { return e.startGateway(false) }
	e.tls.fn = func() (*remoteGW, error) { return e.startGateway(true) }
	t.Cleanup(func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, g := range e.started {
			if t.Failed() {
				t.Logf("%s gateway logs:\n%s", g.gw.URL, g.gw.LogTail(40))
			}
			took, err := g.gw.Stop(stopGrace)
			s.logf("stopped %s gateway %s in %s (err %v)", p.Name, g.gw.URL, took.Round(100*time.Millisecond), err)
		}
	})
	s.logf("remote %s: %s, fake model %s", p.Name, ns, fake.BaseURL())
	return e
}

// startGateway starts a gateway in the namespace (TLS or not) and makes
// sure the approver is paired and can call it.
func (e *remoteEnv) startGateway(tls bool) (*remoteGW, error) {
	kind := "plain"
	if tls {
		kind = "tls"
	}
	dir := filepath.Join(s.work, "remote", e.product.Name, kind)
	gw, err := harness.NewGateway(harness.GatewayOptions{Product: e.product, Node: e.node, Prefix: e.prefix, Dir: dir,
		Token: "e2e-" + randomHex(12), ModelURL: e.fake.BaseURL(), TempDir: s.inst.TempDir(e.product), Netns: e.ns, TLS: tls})
	if err != nil {
		return nil, err
	}
	g := &remoteGW{env: e, gw: gw, identity: filepath.Join(dir, "approver-identity.json")}
	e.mu.Lock()
	e.started = append(e.started, g)
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, startTimeout)
	defer cancel()
	s.logf("starting %s in %s at %s", e.product.Name, e.ns.Name, gw.URL)
	took, err := gw.Start(ctx)
	if err != nil {
		return nil, err
	}
	if tls {
		if g.fingerprint, err = gw.CertFingerprint(); err != nil {
			return nil, err
		}
	}
	// The approver's first connect pairs it (silently, on loopback), and a
	// sessions.list proves the gateway serves calls.
	out, errOut, code, err := g.runApprover(nil, "approver-setup", "sessions.list {\"limit\":1}")
	if err != nil || code != 0 {
		return nil, fmt.Errorf("approver on %s: exit %d, %v\n%s\n%s", gw.LocalURL, code, err, out, errOut)
	}
	s.logf("%s in %s ready at %s %s after start (approver: %s)", e.product.Name, e.ns.Name, gw.URL,
		took.Round(100*time.Millisecond), strings.TrimSpace(errOut))
	return g, nil
}

// gateway returns the plain or TLS gateway, starting it if needed.
func (e *remoteEnv) gateway(t *testing.T, tls bool) *remoteGW {
	t.Helper()
	l := &e.plain
	if tls {
		l = &e.tls
	}
	g, err := l.get()
	if err != nil {
		t.Fatalf("%s gateway in %s: %v", e.product.Name, e.ns.Name, err)
	}
	return g
}

// runApprover runs the approver in the namespace with the calls and
// returns its stdout, stderr and exit code. With t, the files go to the
// test's directory; without, to the gateway's.
func (g *remoteGW) runApprover(t *testing.T, name string, calls ...string) (string, string, int, error) {
	bin, err := approverBin.get()
	if err != nil {
		return "", "", -1, err
	}
	args := []string{"-url", g.gw.LocalURL, "-identity", g.identity, "-timeout", "90s"}
	if g.fingerprint != "" {
		args = append(args, "-tls-fingerprint", g.fingerprint)
	}
	for _, c := range calls {
		args = append(args, "-call", c)
	}
	cmd := g.env.ns.Command(bin, args...)
	cmd.Env = harness.CleanEnv("APPROVER_TOKEN=" + g.gw.Token)
	if t != nil {
		out, errOut, code, err := runToEnd(t, name, cmd, remoteTimeout)
		return out, errOut, code, err
	}
	dir := g.gw.LogDir
	stdout, err := os.Create(filepath.Join(dir, name+".stdout"))
	if err != nil {
		return "", "", -1, err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		return "", "", -1, err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	p, err := harness.Start(name, cmd)
	if err != nil {
		return "", "", -1, err
	}
	if err := p.Wait(remoteTimeout); err != nil && !p.Exited() {
		_, _ = p.Stop(2 * time.Second)
		return "", "", -1, err
	}
	o, _ := os.ReadFile(stdout.Name())
	eo, _ := os.ReadFile(stderr.Name())
	return string(o), string(eo), p.ExitCode(), nil
}

// approve runs the approver with calls, fails the test unless it succeeds,
// and returns one decoded payload per call.
func (g *remoteGW) approve(t *testing.T, calls ...string) []map[string]any {
	t.Helper()
	name := fmt.Sprintf("approver-%d", g.env.approver.Add(1))
	out, errOut, code, err := g.runApprover(t, name, calls...)
	if err != nil || code != 0 {
		t.Fatalf("approver %q: exit %d, %v\nstdout: %s\nstderr: %s", calls, code, err, out, errOut)
	}
	var payloads []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p map[string]any
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("approver printed %q: %v", line, err)
		}
		payloads = append(payloads, p)
	}
	if len(payloads) != len(calls) {
		t.Fatalf("approver printed %d payloads for %d calls:\n%s", len(payloads), len(calls), out)
	}
	return payloads
}

// pending returns the device of pending request id (device.pair.list), or
// "" when there is no such pending request.
func (g *remoteGW) pending(t *testing.T, requestID string) (deviceID string, req map[string]any) {
	t.Helper()
	list := g.approve(t, "device.pair.list")[0]
	reqs, _ := list["pending"].([]any)
	for _, r := range reqs {
		m, _ := r.(map[string]any)
		if m["requestId"] == requestID {
			id, _ := m["deviceId"].(string)
			return id, m
		}
	}
	t.Logf("device.pair.list: no pending request %s: %v", requestID, list)
	return "", nil
}

// remoteTest is one test's clawgate side: a HOME without any gateway
// config, state directories outside the test's log directory, and the
// check at the end that no captured output holds a secret.
type remoteTest struct {
	t    *testing.T
	g    *remoteGW
	home string
	priv string // state dirs and config files: never scanned, never printed
	mu   sync.Mutex
	dirs []string
	seen []string // device tokens read from the state dirs
	seq  atomic.Int64
}

func newRemoteTest(t *testing.T, g *remoteGW) *remoteTest {
	t.Helper()
	dir := s.testDir(t)
	rt := &remoteTest{t: t, g: g, home: filepath.Join(dir, "home"), priv: filepath.Join(s.work, "private", filepath.Base(dir))}
	for _, d := range []string{rt.home, rt.priv} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(rt.checkNoSecrets)
	return rt
}

// stateDir returns a fresh clawgate state directory.
func (rt *remoteTest) stateDir(name string) string {
	d := filepath.Join(rt.priv, name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		rt.t.Fatal(err)
	}
	rt.mu.Lock()
	rt.dirs = append(rt.dirs, d)
	rt.mu.Unlock()
	return d
}

// tokenEnv is the product's shared-token variable set to the gateway's
// token.
func (rt *remoteTest) tokenEnv() string {
	return rt.g.gw.Product.EnvPrefix + "_GATEWAY_TOKEN=" + rt.g.gw.Token
}

// args are the flags that point clawgate at the gateway in the namespace:
// its URL, plain ws:// allowed (or the pin for TLS), and the state dir.
func (rt *remoteTest) args(stateDir string, extra ...string) []string {
	a := []string{"--url", rt.g.gw.URL, "--state-dir", stateDir}
	if rt.g.fingerprint != "" {
		a = append(a, "--tls-fingerprint", rt.g.fingerprint)
	} else {
		a = append(a, "--allow-insecure-transport")
	}
	return append(a, extra...)
}

// env is a clean environment with the test's HOME, debug logs and extra.
func (rt *remoteTest) env(extra ...string) []string {
	return harness.CleanEnv(append([]string{"HOME=" + rt.home, "CLAWGATE_LOG_LEVEL=debug"}, extra...)...)
}

// serve starts clawgate as an MCP server with args and extra environment.
func (rt *remoteTest) serve(name string, args []string, env ...string) *mcpProc {
	c, _ := startClawgate(rt.t, serverOpts{name: name, args: args, env: append([]string{"CLAWGATE_LOG_LEVEL=debug"}, env...), home: rt.home})
	return c
}

// run runs clawgate with args to completion.
func (rt *remoteTest) run(name string, args []string, env ...string) (string, string, int) {
	rt.t.Helper()
	cmd := exec.Command(s.binary(rt.t), args...)
	cmd.Env, cmd.Dir = rt.env(env...), rt.home
	out, errOut, code, err := runToEnd(rt.t, fmt.Sprintf("%s-%d", name, rt.seq.Add(1)), cmd, remoteTimeout)
	if err != nil {
		rt.t.Fatalf("clawgate %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out, errOut, code
}

// deviceID is the device id in stateDir's identity file.
func (rt *remoteTest) deviceID(stateDir string) string {
	rt.t.Helper()
	var f struct {
		DeviceID string `json:"deviceId"`
	}
	b, err := os.ReadFile(filepath.Join(stateDir, "identity", "device.json"))
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil || len(f.DeviceID) != 64 {
		rt.t.Fatalf("device identity in %s: %v (device id %q)", stateDir, err, f.DeviceID)
	}
	return f.DeviceID
}

// deviceToken is the token stored in stateDir for the gateway (role
// operator), or "" when none is stored. The file must be 0600.
func (rt *remoteTest) deviceToken(stateDir string) string {
	rt.t.Helper()
	path := filepath.Join(stateDir, "identity", "device-auth.json")
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		rt.t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		rt.t.Errorf("%s has mode %04o, want 0600", path, fi.Mode().Perm())
	}
	var f struct {
		Gateways map[string]map[string]struct {
			Token string `json:"token"`
		} `json:"gateways"`
	}
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		rt.t.Fatalf("%s: %v", path, err)
	}
	for key, roles := range f.Gateways {
		if strings.EqualFold(key, rt.g.gw.URL) {
			tok := roles["operator"].Token
			rt.mu.Lock()
			rt.seen = append(rt.seen, tok) // a token dropped later is a secret all the same
			rt.mu.Unlock()
			return tok
		}
	}
	return ""
}

// secrets are the shared token, every device token stored in the test's
// state dirs and the base64 lines of the device keys.
func (rt *remoteTest) secrets() []string {
	sec := []string{rt.g.gw.Token}
	rt.mu.Lock()
	dirs := append([]string(nil), rt.dirs...)
	sec = append(sec, rt.seen...)
	rt.mu.Unlock()
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "identity", "device-auth.json")); err == nil {
			for _, m := range regexp.MustCompile(`"token"\s*:\s*"([^"]+)"`).FindAllStringSubmatch(string(b), -1) {
				sec = append(sec, m[1])
			}
		}
		if b, err := os.ReadFile(filepath.Join(d, "identity", "device.json")); err == nil {
			var f struct {
				PrivateKeyPem string `json:"privateKeyPem"`
			}
			if json.Unmarshal(b, &f) == nil {
				if blk, _ := pem.Decode([]byte(f.PrivateKeyPem)); blk != nil {
					body := strings.TrimSpace(f.PrivateKeyPem[strings.Index(f.PrivateKeyPem, "\n")+1 : strings.LastIndex(f.PrivateKeyPem, "-----END")])
					sec = append(sec, strings.Fields(body)...)
				} else {
					rt.t.Errorf("%s: no private key PEM to look for in the output", d)
				}
			}
		}
	}
	return sec
}

// checkNoSecrets fails the test if any file the test captured (stdout,
// stderr, MCP transcripts) holds a secret.
func (rt *remoteTest) checkNoSecrets() {
	secrets := rt.secrets()
	files, _ := filepath.Glob(filepath.Join(s.testDir(rt.t), "*"))
	for _, f := range files {
		if !strings.HasSuffix(f, ".stdout") && !strings.HasSuffix(f, ".stderr") && !strings.HasSuffix(f, ".jsonl") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for i, sec := range secrets {
			if len(sec) >= 8 && strings.Contains(string(b), sec) {
				what := "the shared token"
				if i > 0 {
					what = "a device token or the device key"
				}
				rt.t.Errorf("%s holds %s", f, what)
			}
		}
	}
}

// approveCommand finds `<product> devices approve <requestId>` in text.
func (rt *remoteTest) approveCommand(text string) string {
	rt.t.Helper()
	m := regexp.MustCompile(`\b` + rt.g.gw.Product.Name + ` devices approve ([A-Za-z0-9][A-Za-z0-9_-]*)`).FindStringSubmatch(text)
	if m == nil {
		rt.t.Fatalf("no `%s devices approve <requestId>` in %q", rt.g.gw.Product.Name, text)
	}
	return m[1]
}

// untilOK calls tool until it succeeds (clawgate reconnects after its
// backoff), at most remoteTimeout, and returns the result.
func untilOK(t *testing.T, c *mcpProc, tool string, args any) *mcptest.ToolResult {
	t.Helper()
	deadline := time.Now().Add(remoteTimeout)
	for {
		res := callTool(t, c, remoteTimeout, tool, args)
		if !res.IsError {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still fails after %s: %s", tool, remoteTimeout, res.Text())
		}
		time.Sleep(500 * time.Millisecond) // between polls of the condition, not a synchronisation
	}
}

// untilError calls tool until it fails (a revoked token's socket closes
// asynchronously), at most remoteTimeout, and returns the error text.
func untilError(t *testing.T, c *mcpProc, tool string, args any) string {
	t.Helper()
	deadline := time.Now().Add(remoteTimeout)
	for {
		res := callTool(t, c, remoteTimeout, tool, args)
		if res.IsError {
			return res.Text()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still succeeds %s after the revoke: %s", tool, remoteTimeout, res.Text())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// wantPairingMessage checks an error text of a pending pairing: the
// product's approve command with the request id, to be run on the gateway
// host, and the expiry; it returns the request id.
func (rt *remoteTest) wantPairingMessage(text string) string {
	rt.t.Helper()
	id := rt.approveCommand(text)
	for _, want := range []string{"gateway host", "5 minutes"} {
		if !strings.Contains(strings.ToLower(text), want) {
			rt.t.Errorf("pairing message does not say %q: %s", want, text)
		}
	}
	return id
}

// wantReadTools checks every tool on c: the read tools, ask_subagent, a
// model patch and the long-run tools.
func (rt *remoteTest) wantReadTools(c *mcpProc) {
	t := rt.t
	t.Helper()
	st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, remoteTimeout, "gateway_status", nil))
	if !st.Connected || st.URL != rt.g.gw.URL || st.Protocol != rt.g.gw.Product.Protocol {
		t.Errorf("gateway_status %+v, want connected to %s with protocol %d", st, rt.g.gw.URL, rt.g.gw.Product.Protocol)
	}
	for _, sc := range []string{"operator.read", "operator.write", "operator.admin"} {
		if !slices.Contains(st.Scopes, sc) {
			t.Errorf("gateway_status scopes %v lack %s", st.Scopes, sc)
		}
	}
	models := wantOK[tools.ListModelsOutput](t, callTool(t, c, remoteTimeout, "list_models", nil))
	var ids []string
	for _, m := range models.Models {
		ids = append(ids, m.ID)
	}
	if !slices.Contains(ids, harness.ModelRef) || !slices.Contains(ids, harness.MiniRef) {
		t.Errorf("list_models %v lacks the fake models", ids)
	}
	want := "remote answer " + randomHex(8)
	asked := wantOK[tools.AskSubagentOutput](t, callTool(t, c, remoteTimeout, "ask_subagent",
		map[string]any{"message": "answer from across the veth pair [[reply:" + want + "]]", "keep_session": true, "timeout_seconds": 110}))
	if asked.Text != want || asked.Status != "ok" || asked.SessionKey == "" {
		t.Fatalf("ask_subagent: %+v, want the text %q", asked, want)
	}
	sessions := wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))
	found := false
	for _, ss := range sessions.Sessions {
		found = found || ss.Key == asked.SessionKey
	}
	if !found {
		t.Errorf("list_sessions lacks the kept session %s: %+v", asked.SessionKey, sessions)
	}
	read := wantOK[tools.ReadSessionOutput](t, callTool(t, c, remoteTimeout, "read_session", map[string]any{"session_key": asked.SessionKey}))
	if n := len(read.Messages); n != 2 || read.Messages[1].Text != want {
		t.Errorf("read_session %s: %+v, want the question and %q", asked.SessionKey, read, want)
	}

	// The write tools: a model patch (operator.admin on OpenClaw), and a
	// long run started, listed, collected; another started and cancelled.
	patched := wantOK[tools.PatchSessionModelOutput](t, callTool(t, c, remoteTimeout, "patch_session_model",
		map[string]any{"session_key": asked.SessionKey, "model": harness.MiniRef}))
	if patched.Model == nil || *patched.Model != harness.MiniRef {
		t.Errorf("patch_session_model: %+v, want %s", patched, harness.MiniRef)
	}
	want2 := "remote long run " + randomHex(8)
	started := wantOK[tools.StartSubagentOutput](t, callTool(t, c, remoteTimeout, "start_subagent",
		map[string]any{"message": "[[reply:" + want2 + "]] go"}))
	listed := wantOK[tools.ListSubagentsOutput](t, callTool(t, c, remoteTimeout, "list_subagents", nil))
	if !slices.ContainsFunc(listed.Runs, func(r tools.SubagentRun) bool { return r.RunID == started.RunID }) {
		t.Errorf("list_subagents %+v lacks %s", listed, started.RunID)
	}
	waited := wantOK[tools.WaitSubagentOutput](t, callTool(t, c, remoteTimeout, "wait_subagent",
		map[string]any{"run_id": started.RunID, "wait_seconds": 55}))
	if waited.Status != "ok" || waited.Text != want2 {
		t.Errorf("wait_subagent: %+v, want ok with %q", waited, want2)
	}
	slow := wantOK[tools.StartSubagentOutput](t, callTool(t, c, remoteTimeout, "start_subagent",
		map[string]any{"message": "[[delay=60]] take your time"}))
	cancelled := wantOK[tools.CancelSubagentOutput](t, callTool(t, c, remoteTimeout, "cancel_subagent", map[string]any{"run_id": slow.RunID}))
	if cancelled.Status != "cancelled" {
		t.Errorf("cancel_subagent: %+v, want cancelled", cancelled)
	}
}

// bgProc is a clawgate command running in the background whose stdout is
// read line by line as it comes.
type bgProc struct {
	p          *harness.Proc
	lines      chan string
	mu         sync.Mutex
	out        strings.Builder
	stderrPath string
}

// start starts clawgate with args in the background.
func (rt *remoteTest) start(name string, args []string, env ...string) *bgProc {
	t := rt.t
	t.Helper()
	name = fmt.Sprintf("%s-%d", name, rt.seq.Add(1))
	dir := s.testDir(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, name+".stdout"))
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd := exec.Command(s.binary(t), args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = rt.env(env...), rt.home, w, stderr
	b := &bgProc{lines: make(chan string, 1000), stderrPath: stderr.Name()}
	b.p, err = harness.Start(name, cmd)
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	go func() {
		defer close(b.lines)
		defer logf.Close()
		sc := bufio.NewScanner(io.TeeReader(r, logf))
		for sc.Scan() {
			b.mu.Lock()
			b.out.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
			b.lines <- sc.Text()
		}
		r.Close()
	}()
	t.Cleanup(func() {
		if !b.p.Exited() {
			_, _ = b.p.Stop(5 * time.Second)
		}
	})
	return b
}

// stdout is what the process printed so far.
func (b *bgProc) stdout() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

func (b *bgProc) stderr() string {
	out, _ := os.ReadFile(b.stderrPath)
	return string(out)
}

// waitLine waits (at most d) for a stdout line matching re and returns its
// submatches; it fails the test if the process ends or d passes first.
func (b *bgProc) waitLine(t *testing.T, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case line, ok := <-b.lines:
			if !ok {
				_ = b.p.Wait(10 * time.Second)
				t.Fatalf("%s ended (exit %d) without a line matching %s\nstdout:\n%s\nstderr:\n%s", b.p.Name, b.p.ExitCode(), re, b.stdout(), harness.Tail(b.stderr(), 30))
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no line matching %s from %s within %s\nstdout:\n%s\nstderr:\n%s", re, b.p.Name, d, b.stdout(), harness.Tail(b.stderr(), 30))
		}
	}
}

// wait waits (at most d) for the process to exit and returns its exit code
// and stdout.
func (b *bgProc) wait(t *testing.T, d time.Duration) (int, string) {
	t.Helper()
	if err := b.p.Wait(d); err != nil && !b.p.Exited() {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, b.stdout(), harness.Tail(b.stderr(), 30))
	}
	for range b.lines { // the rest of stdout, up to EOF
	}
	return b.p.ExitCode(), b.stdout()
}

var pendingLine = regexp.MustCompile(`^  (openclaw|clawdbot) devices approve ([A-Za-z0-9][A-Za-z0-9_-]*)\s*$`)

// pair runs `clawgate pair` with args, approves its request with the
// approver (or, with viaCLI, the product's own CLI in the namespace), and
// checks that it exits 0 saying it paired. It returns the device id.
func (rt *remoteTest) pair(stateDir string, viaCLI bool, args []string, env ...string) string {
	t := rt.t
	t.Helper()
	product := rt.g.gw.Product.Name
	p := rt.start("clawgate-pair", append([]string{"pair", "--pair-wait", "3m"}, args...), env...)
	m := p.waitLine(t, pendingLine, remoteTimeout)
	if m[1] != product {
		t.Errorf("pair printed %q, want the %s CLI", m[0], product)
	}
	requestID := rt.g.requireRequest(t, m[2], rt.deviceID(stateDir))
	if viaCLI {
		cmd := rt.g.gw.CLI("devices", "approve", requestID)
		out, errOut, code, err := runToEnd(t, fmt.Sprintf("%s-devices-approve-%d", product, rt.seq.Add(1)), cmd, remoteTimeout)
		if err != nil || code != 0 {
			t.Fatalf("`%s devices approve %s` in %s: exit %d, %v\nstdout: %s\nstderr: %s", product, requestID, rt.g.env.ns.Name, code, err, out, errOut)
		}
		t.Logf("`%s devices approve %s`: %s", product, requestID, strings.TrimSpace(out))
	} else {
		rt.g.approve(t, fmt.Sprintf(`device.pair.approve {"requestId":%q}`, requestID))
	}
	code, out := p.wait(t, remoteTimeout)
	deviceID := rt.deviceID(stateDir)
	tokenPath := filepath.Join(stateDir, "identity", "device-auth.json")
	if code != 0 || !strings.Contains(out, "Paired with "+rt.g.gw.URL+" as device "+deviceID) || !strings.Contains(out, tokenPath) {
		t.Fatalf("pair: exit %d, want 0 and \"Paired with %s as device %s … (token stored in %s)\"\nstdout:\n%s\nstderr:\n%s",
			code, rt.g.gw.URL, deviceID, tokenPath, out, harness.Tail(p.stderr(), 30))
	}
	if rt.deviceToken(stateDir) == "" {
		t.Fatalf("after pair, %s holds no operator token for %s", tokenPath, rt.g.gw.URL)
	}
	return deviceID
}

// requireRequest checks that requestID is pending on the gateway for
// deviceID and returns it.
func (g *remoteGW) requireRequest(t *testing.T, requestID, deviceID string) string {
	t.Helper()
	got, req := g.pending(t, requestID)
	if got != deviceID {
		t.Fatalf("request %s: pending for device %q, want %s", requestID, got, deviceID)
	}
	if ip, ok := req["remoteIp"].(string); ok && ip != g.env.ns.HostIP {
		t.Errorf("request %s comes from %s, want the host end of the veth pair %s", requestID, ip, g.env.ns.HostIP)
	}
	return requestID
}

// testRemoteDeviceLess: --device-identity never. OpenClaw grants a remote
// device-less client no scopes, and clawgate says so; Clawdbot keeps the
// scopes of a device-less token client: its tools work.
func testRemoteDeviceLess(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, false)
	rt := newRemoteTest(t, g)
	sd := rt.stateDir("state")
	c := rt.serve("clawgate", rt.args(sd, "--device-identity", "never"), rt.tokenEnv())
	res := callTool(t, c, remoteTimeout, "list_sessions", nil)
	st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, remoteTimeout, "gateway_status", nil))
	if e.product.Protocol >= 4 {
		wantToolError(t, res, "no scopes")
		if st.Connected || !strings.Contains(st.Error, "no scopes") {
			t.Errorf("gateway_status %+v, want not connected, saying no scopes were granted", st)
		}
	} else {
		wantOK[tools.ListSessionsOutput](t, res)
		if !st.Connected || st.URL != g.gw.URL {
			t.Errorf("gateway_status %+v, want connected to %s", st, g.gw.URL)
		}
	}
	if _, err := os.Stat(filepath.Join(sd, "identity", "device.json")); err == nil {
		t.Errorf("--device-identity never created a device identity in %s", sd)
	}
}

// testRemotePairingRequired: the first call with a device names the
// pending request and the approve command; after approval the same
// clawgate process serves every read tool and ask_subagent.
func testRemotePairingRequired(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, false)
	rt := newRemoteTest(t, g)
	sd := rt.stateDir("state")
	c := rt.serve("clawgate", rt.args(sd), rt.tokenEnv()) // --device-identity auto (the default): a device off loopback
	text := wantToolError(t, callTool(t, c, remoteTimeout, "list_sessions", nil))
	requestID := g.requireRequest(t, rt.wantPairingMessage(text), rt.deviceID(sd))
	st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, remoteTimeout, "gateway_status", nil))
	if st.Connected || !strings.Contains(st.Error, e.product.Name+" devices approve "+requestID) {
		t.Errorf("gateway_status while pairing is pending: %+v, want not connected, naming %s", st, requestID)
	}
	approved := g.approve(t, fmt.Sprintf(`device.pair.approve {"requestId":%q}`, requestID))[0]
	t.Logf("approved: %v", approved)
	untilOK(t, c, "list_sessions", nil)
	rt.wantReadTools(c)
	if rt.deviceToken(sd) == "" {
		t.Errorf("no device token stored in %s after pairing", sd)
	}
}

// testRemotePairCommand: `clawgate pair`, approved with the product's own
// CLI in the namespace exactly as printed; then the token works for a
// fresh clawgate, and a second pair says it is already paired.
func testRemotePairCommand(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, false)
	rt := newRemoteTest(t, g)
	sd := rt.stateDir("state")
	rt.pair(sd, true, rt.args(sd), rt.tokenEnv())

	out, errOut, code := rt.run("clawgate-call", append(rt.args(sd), "call", "gateway_status"), rt.tokenEnv())
	var st tools.GatewayStatusOutput
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || !st.Connected {
		t.Errorf("call gateway_status after pair: exit %d, %v: %s\n%s", code, err, out, errOut)
	}
	out, errOut, code = rt.run("clawgate-pair-again", append([]string{"pair"}, rt.args(sd)...), rt.tokenEnv())
	if code != 0 || !strings.Contains(out, "Already paired") {
		t.Errorf("second pair: exit %d, want 0 and \"Already paired\"\nstdout: %s\nstderr: %s", code, out, harness.Tail(errOut, 20))
	}
	out, errOut, code = rt.run("clawgate-doctor", append([]string{"doctor"}, rt.args(sd)...), rt.tokenEnv())
	for _, want := range []string{regexp.QuoteMeta(sd), "device: " + rt.deviceID(sd),
		`device token( for ` + regexp.QuoteMeta(g.gw.URL) + `)?: held \(scopes operator\.`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("doctor (exit %d) does not print %q:\n%s\n%s", code, want, out, harness.Tail(errOut, 20))
		}
	}
}

// testRemoteRevoke: a revoked device token. With the shared token
// configured, OpenClaw asks for a new approval (then works again) and
// Clawdbot issues a new token; with only the device token, clawgate says
// to re-pair with `clawgate pair`.
func testRemoteRevoke(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, false)
	revoke := func(t *testing.T, deviceID string) {
		g.approve(t, fmt.Sprintf(`device.token.revoke {"deviceId":%q,"role":"operator"}`, deviceID))
	}

	t.Run("SharedToken", func(t *testing.T) {
		t.Parallel()
		rt := newRemoteTest(t, g)
		sd := rt.stateDir("shared")
		deviceID := rt.pair(sd, false, rt.args(sd), rt.tokenEnv())
		before := rt.deviceToken(sd)
		c := rt.serve("clawgate-shared", rt.args(sd), rt.tokenEnv())
		wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))
		revoke(t, deviceID)
		if e.product.Protocol >= 4 {
			// OpenClaw closes the live socket (4001); the reconnect with
			// the shared token is a role upgrade to approve.
			text := untilError(t, c, "list_sessions", nil)
			requestID := g.requireRequest(t, rt.wantPairingMessage(text), deviceID)
			g.approve(t, fmt.Sprintf(`device.pair.approve {"requestId":%q}`, requestID))
			untilOK(t, c, "list_sessions", nil)
		} else {
			// Clawdbot keeps the live socket, and a new connect with the
			// shared token gets a new token without approval.
			wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))
			out, errOut, code := rt.run("clawgate-call", append(rt.args(sd), "call", "list_sessions"), rt.tokenEnv())
			if code != 0 {
				t.Fatalf("a fresh clawgate after the revoke: exit %d\n%s\n%s", code, out, harness.Tail(errOut, 30))
			}
		}
		switch after := rt.deviceToken(sd); after {
		case "":
			t.Error("after the revoke and a new connect, no token is stored")
		case before:
			t.Error("after the revoke and a new connect, the stored token is still the revoked one")
		}
	})

	t.Run("DeviceTokenOnly", func(t *testing.T) {
		t.Parallel()
		rt := newRemoteTest(t, g)
		sd := rt.stateDir("device-only")
		deviceID := rt.pair(sd, false, rt.args(sd), rt.tokenEnv())
		c := rt.serve("clawgate-device-only", rt.args(sd)) // no token anywhere: the device token only
		wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))
		revoke(t, deviceID)
		if e.product.Protocol >= 4 {
			// OpenClaw closes the live socket (4001): the reconnect with
			// the revoked token is refused.
			text := untilError(t, c, "list_sessions", nil)
			if !strings.Contains(text, "clawgate pair") {
				t.Errorf("after the revoke without a shared token: %q, want it to say to re-pair with `clawgate pair`", text)
			}
		} else {
			// Clawdbot keeps the live socket: a fresh clawgate is the first
			// to connect with the revoked token.
			out, errOut, code := rt.run("clawgate-call", append(rt.args(sd), "call", "list_sessions"))
			if code == 0 || !strings.Contains(out+errOut, "clawgate pair") {
				t.Errorf("a fresh clawgate with the revoked token: exit %d, want a failure saying to re-pair with `clawgate pair`\nstdout: %s\nstderr: %s",
					code, out, harness.Tail(errOut, 20))
			}
		}
		if tok := rt.deviceToken(sd); tok != "" {
			t.Errorf("the revoked token is still stored in %s", sd)
		}
	})
}

// testRemoteRotateRemove: with the shared token configured, a rotated
// device token is replaced by clawgate itself (OpenClaw closes the live
// socket, the reconnect gets the new token); a removed device (OpenClaw
// only: Clawdbot has no device.pair.remove) must be approved again, and the
// message names the new request.
func testRemoteRotateRemove(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, false)
	rt := newRemoteTest(t, g)
	sd := rt.stateDir("state")
	deviceID := rt.pair(sd, false, rt.args(sd), rt.tokenEnv())
	before := rt.deviceToken(sd)
	c := rt.serve("clawgate", rt.args(sd), rt.tokenEnv())
	wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))
	rotated := g.approve(t, fmt.Sprintf(`device.token.rotate {"deviceId":%q,"role":"operator"}`, deviceID))[0]
	t.Logf("device.token.rotate: %v", rotated)
	if e.product.Protocol >= 4 {
		// The socket closes (4001) at some point after the rotate; poll
		// until clawgate has reconnected and stored the new token.
		deadline := time.Now().Add(remoteTimeout)
		for rt.deviceToken(sd) == before {
			if time.Now().After(deadline) {
				t.Fatalf("%s after the rotate, clawgate still holds the old token", remoteTimeout)
			}
			res := callTool(t, c, remoteTimeout, "list_sessions", nil)
			if res.IsError {
				t.Logf("list_sessions during the reconnect: %s", res.Text())
			}
			time.Sleep(500 * time.Millisecond) // between polls of the condition
		}
		untilOK(t, c, "list_sessions", nil)
	} else {
		out, errOut, code := rt.run("clawgate-call", append(rt.args(sd), "call", "list_sessions"), rt.tokenEnv())
		if code != 0 {
			t.Fatalf("a fresh clawgate after the rotate: exit %d\n%s\n%s", code, out, harness.Tail(errOut, 30))
		}
		wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))
		return
	}

	g.approve(t, fmt.Sprintf(`device.pair.remove {"deviceId":%q}`, deviceID))
	text := untilError(t, c, "list_sessions", nil)
	requestID := g.requireRequest(t, rt.wantPairingMessage(text), deviceID)
	g.approve(t, fmt.Sprintf(`device.pair.approve {"requestId":%q}`, requestID))
	untilOK(t, c, "list_sessions", nil)
}

// testRemoteTLSPinning: a TLS gateway pinned with its own certificate's
// fingerprint works (pair and the tools); a wrong pin fails naming the
// fingerprint seen, and doctor prints it too.
func testRemoteTLSPinning(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, true)
	rt := newRemoteTest(t, g)
	if !strings.HasPrefix(g.gw.URL, "wss://") {
		t.Fatalf("TLS gateway URL %s", g.gw.URL)
	}
	sd := rt.stateDir("state")
	rt.pair(sd, false, rt.args(sd), rt.tokenEnv())
	c := rt.serve("clawgate", rt.args(sd), rt.tokenEnv())
	st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, remoteTimeout, "gateway_status", nil))
	if !st.Connected || st.URL != g.gw.URL {
		t.Errorf("gateway_status %+v, want connected to %s", st, g.gw.URL)
	}
	wantOK[tools.ListModelsOutput](t, callTool(t, c, remoteTimeout, "list_models", nil))

	wrong := []byte(g.fingerprint) // differs in the first digit
	if wrong[0] == '0' {
		wrong[0] = '1'
	} else {
		wrong[0] = '0'
	}
	args := []string{"--url", g.gw.URL, "--state-dir", sd, "--tls-fingerprint", string(wrong)}
	bad := rt.serve("clawgate-wrong-pin", args, rt.tokenEnv())
	text := wantToolError(t, callTool(t, bad, remoteTimeout, "list_sessions", nil), g.fingerprint)
	if !strings.Contains(text, string(wrong)) {
		t.Logf("the mismatch message does not repeat the pinned fingerprint: %s", text)
	}
	out, errOut, code := rt.run("clawgate-doctor", append([]string{"doctor"}, args...), rt.tokenEnv())
	if code == 0 || !strings.Contains(out, g.fingerprint) {
		t.Errorf("doctor with a wrong pin: exit %d, want a failure printing the fingerprint seen %s\nstdout: %s\nstderr: %s",
			code, g.fingerprint, out, harness.Tail(errOut, 20))
	}
}

// testRemoteConfigFile: the gateway named only by a config file in remote
// mode (gateway.remote.url, token and tlsFingerprint), passed with
// --config: pair and the tools work without URL or token flags.
func testRemoteConfigFile(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, true)
	rt := newRemoteTest(t, g)
	sd := rt.stateDir("state")
	cfg := filepath.Join(rt.priv, e.product.Name+".json")
	body, _ := json.MarshalIndent(map[string]any{"gateway": map[string]any{
		"mode":   "remote",
		"remote": map[string]any{"url": g.gw.URL, "token": g.gw.Token, "tlsFingerprint": g.fingerprint},
	}}, "", "  ")
	if err := os.WriteFile(cfg, body, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", cfg, "--state-dir", sd}
	rt.pair(sd, false, args)
	c := rt.serve("clawgate", args)
	st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, remoteTimeout, "gateway_status", nil))
	if !st.Connected || st.URL != g.gw.URL {
		t.Errorf("gateway_status %+v, want connected to %s (from %s)", st, g.gw.URL, cfg)
	}
	wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))
}

// testRemoteLab checks the set-up without clawgate: the project's gateway
// client device-less from the host (OpenClaw: no scopes; Clawdbot: works),
// a device of the test's own (gateway.DeviceIdentity) that gets a pending
// request, which the approver lists and approves, and then a token; and
// the TLS gateway's certificate file is the certificate it serves.
func testRemoteLab(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, false)
	ctx := ctxFor(t, remoteTimeout)
	c, err := g.gw.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
	c.Close()
	if _, noScopes := errorsAs[*gateway.ScopeError](err); e.product.Protocol >= 4 != noScopes {
		t.Errorf("device-less sessions.list from %s: %v; want a ScopeError on OpenClaw only", e.ns.HostIP, err)
	}

	seed := make([]byte, 32)
	_, _ = rand.Read(seed)
	dev, err := gateway.NewDeviceIdentity(seed)
	if err != nil {
		t.Fatal(err)
	}
	first, err := labConnect(ctx, g.gw.URL, "", g.gw.Token, dev, e.product.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	requestID, _ := first.details["requestId"].(string)
	if first.ok || first.code != "NOT_PAIRED" || requestID == "" {
		t.Fatalf("a new device's first connect: %+v, want NOT_PAIRED with a requestId", first)
	}
	g.requireRequest(t, requestID, dev.ID())
	approved := g.approve(t, fmt.Sprintf(`device.pair.approve {"requestId":%q}`, requestID))[0]
	if d, _ := approved["device"].(map[string]any); d == nil || d["deviceId"] != dev.ID() {
		t.Errorf("device.pair.approve: %v, want device %s", approved, dev.ID())
	}
	again, err := labConnect(ctx, g.gw.URL, "", g.gw.Token, dev, e.product.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	if !again.ok || !again.deviceToken {
		t.Errorf("connect after approval: %+v, want hello-ok with a device token", again)
	}

	tg := e.gateway(t, true)
	res, err := labConnect(ctx, tg.gw.URL, tg.fingerprint, tg.gw.Token, dev, e.product.Protocol)
	if err != nil {
		t.Fatalf("wss:// pinned to %s: %v", tg.fingerprint, err)
	}
	if res.ok || res.code != "NOT_PAIRED" {
		t.Errorf("the device on the TLS gateway (another gateway, not paired there): %+v", res)
	}
	if _, err := labConnect(ctx, tg.gw.URL, strings.Repeat("0", 64), tg.gw.Token, dev, e.product.Protocol); err == nil || !strings.Contains(err.Error(), tg.fingerprint) {
		t.Errorf("wss:// with a wrong pin: %v, want a mismatch naming %s", err, tg.fingerprint)
	}
}

// labResult is the outcome of a connect request.
type labResult struct {
	ok          bool
	code, msg   string
	details     map[string]any
	scopes      []string
	deviceToken bool // hello-ok carried auth.deviceToken
}

// labConnect connects once as gateway-client/backend with device dev and
// the shared token, requesting operator.read, signing v3 (protocol 4) or
// v2 (protocol 3), over TLS pinned to fingerprint if given, and returns the
// gateway's answer to connect (an error only when there is none).
func labConnect(ctx context.Context, url, fingerprint, token string, dev *gateway.DeviceIdentity, protocol int) (*labResult, error) {
	opts := &websocket.DialOptions{}
	if fingerprint != "" {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // replaced by the pin
			VerifyConnection: func(cs tls.ConnectionState) error {
				sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
				if got := hex.EncodeToString(sum[:]); got != fingerprint {
					return fmt.Errorf("certificate %s, pinned %s", got, fingerprint)
				}
				return nil
			},
		}}}
	}
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	defer ws.CloseNow()
	var challenge struct {
		Event   string `json:"event"`
		Payload struct {
			Nonce string `json:"nonce"`
			TS    int64  `json:"ts"`
		} `json:"payload"`
	}
	for challenge.Event != "connect.challenge" {
		if err := wsjson.Read(ctx, ws, &challenge); err != nil {
			return nil, fmt.Errorf("connect.challenge: %w", err)
		}
	}
	scopes := []string{"operator.read"}
	sc := gateway.SignedConnect{ClientID: "gateway-client", ClientMode: "backend", Role: "operator", Scopes: scopes,
		SignedAt: challenge.Payload.TS, Token: token, Nonce: challenge.Payload.Nonce, Platform: "linux"}
	payload := dev.PayloadV3(sc)
	if protocol < 4 {
		payload = dev.PayloadV2(sc)
	}
	req := map[string]any{"type": "req", "id": "c1", "method": "connect", "params": map[string]any{
		"minProtocol": gateway.MinProtocol, "maxProtocol": gateway.MaxProtocol,
		"client": map[string]any{"id": "gateway-client", "displayName": "clawgate-e2e-lab", "version": "e2e",
			"platform": "linux", "mode": "backend", "instanceId": "lab-" + randomHex(8)},
		"caps": []string{}, "role": "operator", "scopes": scopes, "auth": map[string]any{"token": token},
		"device": map[string]any{"id": dev.ID(), "publicKey": dev.PublicKey(), "signature": dev.Sign(payload),
			"signedAt": challenge.Payload.TS, "nonce": challenge.Payload.Nonce},
	}}
	if err := wsjson.Write(ctx, ws, req); err != nil {
		return nil, err
	}
	for {
		var res struct {
			Type    string `json:"type"`
			ID      string `json:"id"`
			OK      bool   `json:"ok"`
			Payload struct {
				Auth *struct {
					Scopes      []string `json:"scopes"`
					DeviceToken string   `json:"deviceToken"`
				} `json:"auth"`
			} `json:"payload"`
			Error *struct {
				Code    string         `json:"code"`
				Message string         `json:"message"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		if err := wsjson.Read(ctx, ws, &res); err != nil {
			return nil, fmt.Errorf("answer to connect: %w", err)
		}
		if res.Type != "res" || res.ID != "c1" {
			continue
		}
		r := &labResult{ok: res.OK}
		if res.Error != nil {
			r.code, r.msg, r.details = res.Error.Code, res.Error.Message, res.Error.Details
		}
		if a := res.Payload.Auth; a != nil {
			r.scopes, r.deviceToken = a.Scopes, a.DeviceToken != ""
		}
		return r, nil
	}
}
