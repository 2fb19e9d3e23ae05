package harness

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/schema"
)

// Product is a gateway product as published on npm.
type Product struct {
	Name          string // npm package and CLI name: openclaw or clawdbot
	Version       string // exact npm version
	EnvPrefix     string // OPENCLAW or CLAWDBOT
	Entry         string // CLI entry, relative to node_modules/<Name>
	Protocol      int    // gateway protocol it speaks
	ServerVersion string // what hello-ok reports as server.version
}

// The two gateway generations clawgate supports.
var (
	OpenClaw = Product{Name: "openclaw", Version: "2026.9.6", EnvPrefix: "OPENCLAW", Entry: "openclaw.mjs",
		Protocol: 4, ServerVersion: "2026.9.6"}
	// Clawdbot is pinned to 2026.1.24-3: the 2026.1.24 tarball on npm lacks
	// dist/shared and dies at import (and is still dist-tag latest).
	Clawdbot = Product{Name: "clawdbot", Version: "2026.1.24-3", EnvPrefix: "CLAWDBOT", Entry: "dist/entry.js",
		Protocol: 3, ServerVersion: "dev"}
)

// Products by name.
var Products = map[string]Product{OpenClaw.Name: OpenClaw, Clawdbot.Name: Clawdbot}

// Package is the product's install prefix. Clawdbot pulls libsignal as a
// GitHub git dependency (via @whiskeysockets/baileys); the override points
// it at the registry's libsignal so the install needs no GitHub access.
func (p Product) Package() Package {
	entry := filepath.Join("node_modules", p.Name, p.Entry)
	pkg := Package{
		Dir:          p.Name + "-" + p.Version,
		Dependencies: map[string]string{p.Name: p.Version},
		Files:        []string{entry},
		WithNode:     true,
	}
	if p.Name == Clawdbot.Name {
		pkg.Overrides = map[string]string{"libsignal": "npm:libsignal@2.0.1"}
	}
	return pkg
}

// EntryPath is the CLI entry point inside an install prefix.
func (p Product) EntryPath(prefix string) string {
	return filepath.Join(prefix, "node_modules", p.Name, p.Entry)
}

// TempDir is the persistent TMPDIR the suite gives gateways of product p:
// <cache>/tmp/<name>-<version> (see GatewayOptions.TempDir).
func (in *Installer) TempDir(p Product) string {
	return filepath.Join(in.Dir, "tmp", p.Name+"-"+p.Version)
}

// The models of the gateways' "fake" provider (served by package
// fakemodel). ModelRef is the default model of every gateway; MiniRef is a
// second, cheaper one with a smaller context window.
const (
	ModelRef           = "fake/fake-echo"
	ModelName          = "Fake Echo"
	ModelAlias         = "Fake"
	ModelContextWindow = 128000

	MiniRef           = "fake/fake-mini"
	MiniName          = "Fake Mini"
	MiniAlias         = "Mini"
	MiniContextWindow = 64000
)

// Price is a model price in US$ per million tokens, as in the gateways'
// models.providers.<id>.models[].cost.
type Price struct {
	Input, Output, CacheRead, CacheWrite float64
}

// Cost is what n tokens of each kind cost at price p, in US$.
func (p Price) Cost(input, output, cacheRead, cacheWrite int) float64 {
	return (float64(input)*p.Input + float64(output)*p.Output +
		float64(cacheRead)*p.CacheRead + float64(cacheWrite)*p.CacheWrite) / 1e6
}

// The prices the gateways are configured with.
var (
	ModelPrice = Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75}
	MiniPrice  = Price{Input: 0.25, Output: 1.25, CacheRead: 0.025, CacheWrite: 0.3}
)

// GatewayOptions configure a Gateway.
type GatewayOptions struct {
	Product Product
	Node    string // Node binary
	Prefix  string // install prefix of the product
	Dir     string // run directory: config, home, state, logs
	Port    int    // 0: a free port
	Token   string
	// ModelURL is the OpenAI base URL of the fake model server.
	ModelURL string
	// TempDir is the gateway's TMPDIR (default <Dir>/tmp). Point it at a
	// persistent directory: both products keep start-up caches there
	// (Clawdbot's jiti transpile cache of its bundled TypeScript extensions,
	// OpenClaw's Node compile cache); without them Clawdbot spends ~40 s of
	// CPU on every start instead of ~7 s.
	TempDir string
	// Netns, when set, runs the gateway inside that network namespace
	// (`ip netns exec`), bound to all of its interfaces (bind "lan"), so
	// that clients on the host reach it at Netns.NsIP as a peer that is not
	// loopback. ModelURL must then be reachable from inside: serve the fake
	// model on Netns.HostIP.
	Netns *Netns
	// TLS makes the gateway serve wss:// only, with a self-signed
	// certificate it generates at its first start (CertFingerprint).
	TLS bool
}

// Gateway is a real gateway process, on loopback or in a network namespace.
type Gateway struct {
	GatewayOptions
	// URL is where clients on the host reach the gateway:
	// ws://127.0.0.1:<port>, or with Netns ws://<Netns.NsIP>:<port>; wss://
	// with TLS.
	URL string
	// LocalURL is the gateway's loopback URL as seen from its own network
	// namespace (the same as URL without Netns).
	LocalURL   string
	ConfigPath string
	LogDir     string

	mu     sync.Mutex
	proc   *Proc
	starts int
}

// NewGateway prepares the run directory and config of a gateway; Start
// starts it.
func NewGateway(opts GatewayOptions) (*Gateway, error) {
	if opts.Port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		opts.Port = p
	}
	if opts.TempDir == "" {
		opts.TempDir = filepath.Join(opts.Dir, "tmp")
	}
	if err := os.MkdirAll(opts.TempDir, 0o755); err != nil {
		return nil, err
	}
	scheme, host := "ws", "127.0.0.1"
	if opts.TLS {
		scheme = "wss"
	}
	if opts.Netns != nil {
		host = opts.Netns.NsIP
	}
	g := &Gateway{GatewayOptions: opts, URL: fmt.Sprintf("%s://%s:%d", scheme, host, opts.Port),
		LocalURL:   fmt.Sprintf("%s://127.0.0.1:%d", scheme, opts.Port),
		ConfigPath: filepath.Join(opts.Dir, opts.Product.Name+".json"), LogDir: filepath.Join(opts.Dir, "logs")}
	for _, d := range []string{"home", "state", "logs"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(g.ConfigPath, g.config(), 0o600); err != nil {
		return nil, err
	}
	return g, nil
}

// bind is the gateway's bind mode: loopback, or "lan" (all interfaces of
// its namespace) in a namespace.
func (g *Gateway) bind() string {
	if g.Netns != nil {
		return "lan"
	}
	return "loopback"
}

// config is the gateway's config file: loopback (or all interfaces of its
// namespace), token auth, TLS when asked for, no update checks, logs in the
// run dir, and the fake provider's two models (ModelRef the default), with
// prices and aliases.
func (g *Gateway) config() []byte {
	model := func(ref, name string, price Price, contextWindow int) map[string]any {
		return map[string]any{
			"id": strings.TrimPrefix(ref, "fake/"), "name": name, "reasoning": false, "input": []string{"text"},
			"cost": map[string]float64{"input": price.Input, "output": price.Output,
				"cacheRead": price.CacheRead, "cacheWrite": price.CacheWrite},
			"contextWindow": contextWindow, "maxTokens": 4096,
		}
	}
	models := map[string]any{
		"mode": "merge",
		"providers": map[string]any{"fake": map[string]any{
			"baseUrl": g.ModelURL, "apiKey": "fake-key", "api": "openai-completions",
			"models": []any{
				model(ModelRef, ModelName, ModelPrice, ModelContextWindow),
				model(MiniRef, MiniName, MiniPrice, MiniContextWindow),
			},
		}},
	}
	if g.Product.Name == OpenClaw.Name {
		models["catalogRefresh"] = map[string]any{"enabled": false} // no fetch of the hosted catalog
	}
	gw := map[string]any{
		"mode": "local", "port": g.Port, "bind": g.bind(),
		"auth": map[string]any{"mode": "token", "token": g.Token},
	}
	if g.TLS {
		gw["tls"] = map[string]any{"enabled": true, "autoGenerate": true}
	}
	cfg := map[string]any{
		"gateway": gw,
		"update":  map[string]any{"checkOnStart": false},
		"logging": map[string]any{"file": filepath.Join(g.LogDir, g.Product.Name+".log")},
		"models":  models,
		"agents": map[string]any{"defaults": map[string]any{
			"model": map[string]any{"primary": ModelRef},
			"models": map[string]any{
				ModelRef: map[string]any{"alias": ModelAlias},
				MiniRef:  map[string]any{"alias": MiniAlias},
			},
		}},
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return b
}

// env is the gateway's environment: its own HOME, state dir and config,
// and the switches that keep it offline and quiet (no mDNS, channels,
// respawn, Gmail watcher, browser control, canvas host, auto-update).
func (g *Gateway) env() []string {
	p := g.Product.EnvPrefix
	return CleanEnv(
		"HOME="+filepath.Join(g.Dir, "home"),
		"TMPDIR="+g.TempDir,
		p+"_STATE_DIR="+g.StateDir(),
		p+"_CONFIG_PATH="+g.ConfigPath,
		p+"_DISABLE_BONJOUR=1",
		p+"_SKIP_CHANNELS=1",
		p+"_NO_RESPAWN=1",
		p+"_SKIP_GMAIL_WATCHER=1",
		p+"_SKIP_BROWSER_CONTROL_SERVER=1",
		p+"_SKIP_CANVAS_HOST=1",
		"OPENCLAW_NO_AUTO_UPDATE=1",
		"OPENCLAW_EXEC_SHELL_SNAPSHOT=0",
		"PATH="+filepath.Dir(g.Node)+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
}

// StateDir is the gateway's state directory (<Dir>/state).
func (g *Gateway) StateDir() string { return filepath.Join(g.Dir, "state") }

// command is name with args, run inside the gateway's namespace if it has
// one.
func (g *Gateway) command(name string, args ...string) *exec.Cmd {
	if g.Netns != nil {
		return g.Netns.Command(name, args...)
	}
	return exec.Command(name, args...)
}

// CLI returns the product's own CLI (openclaw or clawdbot) with args, set
// up as an operator on the gateway host runs it: in the gateway's
// namespace, with the gateway's HOME, state dir and config (so it finds
// the gateway's port, token and TLS setting itself), without colours. Run
// it with Start (it carries the run marker then).
func (g *Gateway) CLI(args ...string) *exec.Cmd {
	cmd := g.command(g.Node, append([]string{g.Product.EntryPath(g.Prefix)}, args...)...)
	cmd.Dir, cmd.Env = g.Dir, SetEnv(g.env(), "NO_COLOR=1")
	return cmd
}

// CertPath is where a TLS gateway keeps its self-signed certificate.
func (g *Gateway) CertPath() string {
	return filepath.Join(g.StateDir(), "gateway", "tls", "gateway-cert.pem")
}

// CertFingerprint is the SHA-256 of the DER of the gateway's own leaf
// certificate (CertPath), lowercase hex: what a client pins. It fails
// before the gateway generated the certificate (at its first TLS start).
func (g *Gateway) CertFingerprint() (string, error) {
	b, err := os.ReadFile(g.CertPath())
	if err != nil {
		return "", fmt.Errorf("the %s gateway's TLS certificate: %w", g.Product.Name, err)
	}
	return PEMFingerprint(b)
}

// PEMFingerprint is the lowercase hex SHA-256 of the DER of the first
// certificate in PEM data.
func PEMFingerprint(data []byte) (string, error) {
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return "", errors.New("no CERTIFICATE block in the PEM data")
		}
		if blk.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
				return "", fmt.Errorf("the PEM CERTIFICATE block does not parse: %w", err)
			}
			sum := sha256.Sum256(blk.Bytes)
			return hex.EncodeToString(sum[:]), nil
		}
	}
}

// Start starts the gateway process (again, after Stop or Kill, on the same
// port and state) and waits until it answers a handshake with hello-ok and
// a sessions.list call. It returns how long that took.
func (g *Gateway) Start(ctx context.Context) (time.Duration, error) {
	g.mu.Lock()
	if g.proc != nil && !g.proc.Exited() {
		g.mu.Unlock()
		return 0, fmt.Errorf("%s gateway is already running (pid %d)", g.Product.Name, g.proc.PID())
	}
	g.starts++
	out, err := os.OpenFile(filepath.Join(g.LogDir, "gateway.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		g.mu.Unlock()
		return 0, err
	}
	fmt.Fprintf(out, "\n===== clawgate-e2e: start #%d at %s =====\n", g.starts, time.Now().Format(time.RFC3339Nano))
	cmd := g.command(g.Node, g.Product.EntryPath(g.Prefix), "gateway", "run",
		"--port", strconv.Itoa(g.Port), "--bind", g.bind(), "--auth", "token", "--token", g.Token)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = g.Dir, g.env(), out, out
	start := time.Now()
	p, err := Start(g.Product.Name+" gateway", cmd)
	out.Close()
	if err != nil {
		g.mu.Unlock()
		return 0, err
	}
	g.proc = p
	g.mu.Unlock()
	if err := g.WaitReady(ctx); err != nil {
		return time.Since(start), err
	}
	return time.Since(start), nil
}

// Proc is the current gateway process (nil before Start).
func (g *Gateway) Proc() *Proc {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.proc
}

// WaitReady waits until a fresh client completes the handshake and a
// sessions.list call succeeds. An open port is not enough: OpenClaw accepts
// connections about 2 s before it can serve them.
func (g *Gateway) WaitReady(ctx context.Context) error {
	p := g.Proc()
	var last error
	for {
		if p == nil || p.Exited() {
			return fmt.Errorf("%s gateway exited before it was ready (last check: %v)\n%s", g.Product.Name, last, g.LogTail(30))
		}
		if last = g.probe(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s gateway not ready: %w (last check: %v)\n%s", g.Product.Name, ctx.Err(), last, g.LogTail(30))
		case <-p.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// probe connects like WaitReady describes. A gateway in a namespace sees
// the probe as a remote device-less client, which OpenClaw grants no scopes
// (a hello-ok with scopes []): that hello-ok is the sign of readiness
// there.
func (g *Gateway) probe(ctx context.Context) error {
	if g.TLS {
		if _, err := os.Stat(g.CertPath()); err != nil {
			return fmt.Errorf("no TLS certificate yet: %w", err)
		}
	}
	c, err := g.Client(func(o *gateway.Options) { o.DialTimeout, o.CallTimeout = 3*time.Second, 3*time.Second })
	if err != nil {
		return err
	}
	defer c.Close()
	info, err := c.Info(ctx)
	if _, noScopes := errorsAs[*gateway.ScopeError](err); noScopes && g.Netns != nil {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Protocol != g.Product.Protocol {
		return fmt.Errorf("protocol %d, want %d", info.Protocol, g.Product.Protocol)
	}
	_, err = c.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
	return err
}

// WarmUpSession is the session WarmUp runs in.
const WarmUpSession = "agent:main:e2e-warmup"

// WarmUp runs one agent turn, so that later turns have their normal
// latency: the first OpenClaw turn after a start takes 4–6 s (tool catalog,
// session store), and run timeouts count that time too.
func (g *Gateway) WarmUp(ctx context.Context) (time.Duration, error) {
	c, err := g.Client(nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	run, err := c.Agent(ctx, gateway.AgentRequest{Message: "warm up", SessionKey: WarmUpSession, Timeout: 2 * time.Minute}, nil)
	if err != nil {
		return time.Since(start), fmt.Errorf("warm-up agent turn: %w", err)
	}
	if !strings.Contains(run.Reply.Text(), "warm up") {
		return time.Since(start), fmt.Errorf("warm-up agent turn: status %q, reply %q", run.Reply.Status, run.Reply.Text())
	}
	return time.Since(start), nil
}

// Client returns a gateway client (the project's own) connected to this
// gateway with its token, for gateway-side checks. mod may adjust options.
// For a gateway in a namespace it allows plain ws:// to the namespace's
// address; for a TLS gateway it pins the gateway's certificate.
func (g *Gateway) Client(mod func(*gateway.Options)) (*gateway.Client, error) {
	o := gateway.Options{URL: g.URL, Token: g.Token, ClientVersion: "clawgate-e2e", AllowInsecureTransport: g.Netns != nil}
	if g.TLS {
		fp, err := g.CertFingerprint()
		if err != nil {
			return nil, err
		}
		o.TLSFingerprint = fp
	}
	if mod != nil {
		mod(&o)
	}
	return gateway.New(o)
}

// Stop stops the gateway with SIGTERM and SIGKILL after grace. OpenClaw
// drains in-flight runs on SIGTERM; Clawdbot exits at once.
func (g *Gateway) Stop(grace time.Duration) (time.Duration, error) {
	p := g.Proc()
	if p == nil {
		return 0, nil
	}
	return p.Stop(grace)
}

// Kill SIGKILLs the gateway's process group (its helper processes too) and
// waits until they are gone.
func (g *Gateway) Kill() error {
	p := g.Proc()
	if p == nil {
		return errors.New("gateway not started")
	}
	return p.Kill()
}

// LogTail returns the last n lines of the gateway's stdout/stderr and of
// its own log file.
func (g *Gateway) LogTail(n int) string {
	var b strings.Builder
	for _, f := range []string{"gateway.out", g.Product.Name + ".log"} {
		path := filepath.Join(g.LogDir, f)
		fmt.Fprintf(&b, "--- %s (last %d lines) ---\n%s\n", path, n, tailFile(path, n))
	}
	return b.String()
}

// reservedPorts are used by the shared lab gateways on this kind of machine.
var reservedPorts = map[int]bool{18789: true, 18790: true, 18899: true, 18900: true}

var (
	portMu    sync.Mutex
	portsUsed = map[int]bool{}
)

// FreePort picks a port below the ephemeral range that is free on
// 127.0.0.1 and [::1] (gateways listen on both) and not handed out before
// by this process. Staying below the ephemeral range keeps the port free
// for a restart on the same port.
func FreePort() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range 200 {
		p := 20000 + rand.IntN(12000)
		if reservedPorts[p] || portsUsed[p] || !portFree(p) {
			continue
		}
		portsUsed[p] = true
		return p, nil
	}
	return 0, errors.New("no free loopback port found")
}

func portFree(p int) bool {
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	ln.Close()
	ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(p)))
	if err != nil {
		// No IPv6 loopback at all is fine; a taken port is not.
		return !strings.Contains(err.Error(), "address already in use")
	}
	ln6.Close()
	return true
}

// errorsAs is errors.As as a function.
func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
