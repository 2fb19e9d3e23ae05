package harness

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/internal/gotwant"
)

// TestInstallMarker checks that only a verified, matching install counts as
// complete: a half-finished prefix (no marker), an outdated pin or a
// missing file make Install start over.
func TestInstallMarker(t *testing.T) {
	in := &Installer{Dir: t.TempDir()}
	pkg := Package{Dir: "x-1.0.0", Dependencies: map[string]string{"x": "1.0.0"}, Files: []string{"node_modules/x/index.js"}}
	prefix := filepath.Join(in.Dir, pkg.Dir)
	want, err := pkg.manifest()
	if err != nil {
		t.Fatal(err)
	}
	if in.complete(prefix, pkg, want) {
		t.Fatal("an empty cache counts as complete")
	}
	if err := os.MkdirAll(filepath.Join(prefix, "node_modules", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prefix, "node_modules", "x", "index.js"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if in.complete(prefix, pkg, want) {
		t.Fatal("a prefix without marker (half-finished install) counts as complete")
	}
	if err := os.WriteFile(filepath.Join(prefix, markerFile), want, 0o644); err != nil {
		t.Fatal(err)
	}
	if !in.complete(prefix, pkg, want) {
		t.Fatal("a verified install does not count as complete")
	}
	newer := pkg
	newer.Dependencies = map[string]string{"x": "1.0.1"}
	if m, _ := newer.manifest(); in.complete(prefix, newer, m) {
		t.Fatal("an install of another version counts as complete")
	}
	os.Remove(filepath.Join(prefix, "node_modules", "x", "index.js"))
	if in.complete(prefix, pkg, want) {
		t.Fatal("an install with a missing file counts as complete")
	}
}

func TestClawdbotPackage(t *testing.T) {
	pkg := Clawdbot.Package()
	if pkg.Dependencies["clawdbot"] != "2026.1.24-3" || pkg.Overrides["libsignal"] != "npm:libsignal@2.0.1" || !pkg.WithNode {
		t.Fatalf("clawdbot package %+v", pkg)
	}
	if _, ok := OpenClaw.Package().Overrides["libsignal"]; ok {
		t.Fatal("openclaw needs no libsignal override")
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("OPENCLAW_GATEWAY_TOKEN", "secret")
	t.Setenv("CLAWDBOT_STATE_DIR", "/x")
	t.Setenv("CLAWGATE_READ_ONLY", "1")
	env := CleanEnv("HOME=/h", "A=1")
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OPENCLAW_") || strings.HasPrefix(k, "CLAWDBOT_") || k == "CLAWGATE_READ_ONLY" {
			t.Errorf("CleanEnv kept %s", kv)
		}
	}
	if !slices.Contains(env, "HOME=/h") || !slices.Contains(env, "A=1") {
		t.Errorf("CleanEnv lost extras: %v", env)
	}
	if got := SetEnv([]string{"A=1", "B=2"}, "A=3"); !slices.Equal(got, []string{"B=2", "A=3"}) {
		t.Errorf("SetEnv: %v", got)
	}
}

// TestStopKillsEscapedDescendants starts a process whose child leaves the
// process group (setsid), as OpenClaw's helper does, and checks that Stop
// leaves nothing behind, and that only marked processes are touched.
func TestStopKillsEscapedDescendants(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	outsider := exec.Command("sleep", "30")
	if err := outsider.Start(); err != nil {
		t.Fatal(err)
	}
	defer outsider.Process.Kill()

	p, err := Start("escaper", exec.Command("sh", "-c", "setsid sleep 30 & sleep 30 & wait"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Leftovers()) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(p.Leftovers()); n != 3 {
		t.Fatalf("%d marked processes, want 3 (sh and two sleeps)", n)
	}
	if _, err := p.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	if left := p.Leftovers(); len(left) > 0 {
		t.Fatalf("left after Stop: %v", left)
	}
	if err := syscall.Kill(outsider.Process.Pid, 0); err != nil {
		t.Fatalf("an unmarked process was killed: %v", err)
	}
}

func TestTail(t *testing.T) {
	if got := Tail("a\nb\nc\n", 2); got != "[… 1 earlier lines]\nb\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail("a", 5); got != "a" {
		t.Errorf("Tail = %q", got)
	}
}

// TestGatewayConfig checks the fake provider in the gateways' config: both
// models with their prices, context windows and aliases, ModelRef the
// default, and the fake model server listing the same ids.
func TestGatewayConfig(t *testing.T) {
	for _, p := range []Product{OpenClaw, Clawdbot} {
		g, err := NewGateway(GatewayOptions{Product: p, Dir: t.TempDir(), Port: 1, Token: "tok", ModelURL: "http://127.0.0.1:2/v1"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(g.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Models struct {
				Providers map[string]struct {
					BaseURL string `json:"baseUrl"`
					API     string `json:"api"`
					Models  []struct {
						ID            string             `json:"id"`
						Name          string             `json:"name"`
						ContextWindow int                `json:"contextWindow"`
						Cost          map[string]float64 `json:"cost"`
					} `json:"models"`
				} `json:"providers"`
			} `json:"models"`
			Agents struct {
				Defaults struct {
					Model struct {
						Primary string `json:"primary"`
					} `json:"model"`
					Models map[string]struct {
						Alias string `json:"alias"`
					} `json:"models"`
				} `json:"defaults"`
			} `json:"agents"`
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		fake := cfg.Models.Providers["fake"]
		what := fmt.Sprintf("%s config: %s", p.Name, b)
		if !gotwant.Error(t, what, gotwant.Eq("fake models", len(fake.Models), 2)) {
			continue
		}
		var ids []string
		for i, want := range []struct {
			ref, name, alias string
			price            Price
			contextWindow    int
		}{
			{ModelRef, ModelName, ModelAlias, ModelPrice, ModelContextWindow},
			{MiniRef, MiniName, MiniAlias, MiniPrice, MiniContextWindow},
		} {
			m := fake.Models[i]
			ids = append(ids, m.ID)
			gotwant.Error(t, what,
				gotwant.Eq("ref", "fake/"+m.ID, want.ref),
				gotwant.Eq("name", m.Name, want.name),
				gotwant.Eq("contextWindow", m.ContextWindow, want.contextWindow),
				gotwant.Eq("cost", fmt.Sprint(m.Cost), fmt.Sprint(map[string]float64{"input": want.price.Input,
					"output": want.price.Output, "cacheRead": want.price.CacheRead, "cacheWrite": want.price.CacheWrite})),
				gotwant.Eq("alias", cfg.Agents.Defaults.Models[want.ref].Alias, want.alias),
			)
		}
		gotwant.Error(t, what,
			gotwant.Eq("primary", cfg.Agents.Defaults.Model.Primary, ModelRef),
			gotwant.Eq("agents.defaults.models", len(cfg.Agents.Defaults.Models), 2),
			gotwant.Eq("api", fake.API, "openai-completions"),
			gotwant.Eq("baseUrl", fake.BaseURL, "http://127.0.0.1:2/v1"),
			gotwant.Eq("fake model server ids", strings.Join(fakemodel.DefaultModels(), ","), strings.Join(ids, ",")),
		)
	}
	// 10 input and 6 output tokens of fake-mini: what OpenClaw reported.
	if got := MiniPrice.Cost(10, 6, 0, 0); math.Abs(got-0.00001) > 1e-12 {
		t.Errorf("MiniPrice.Cost(10, 6, 0, 0) = %v, want 0.00001", got)
	}
	if got := ModelPrice.Cost(1e6, 1e6, 1e6, 1e6); math.Abs(got-(3+15+0.3+3.75)) > 1e-9 {
		t.Errorf("ModelPrice.Cost of a million of each = %v", got)
	}
}

// TestGatewayRemoteConfig checks a gateway set up for a network namespace
// with TLS: bind "lan" in the config and on the command line, TLS with an
// auto-generated certificate, the URLs clients use outside and inside, and
// the product CLI run inside the namespace with the gateway's own state
// and config. A loopback gateway keeps bind "loopback" and no tls.
func TestGatewayRemoteConfig(t *testing.T) {
	ns := &Netns{Name: "cgtestx", HostIP: "198.51.100.1", NsIP: "198.51.100.2"}
	for _, p := range []Product{OpenClaw, Clawdbot} {
		dir := t.TempDir()
		g, err := NewGateway(GatewayOptions{Product: p, Node: "/n/node", Prefix: "/pfx", Dir: dir, Port: 4242, Token: "tok",
			ModelURL: "http://198.51.100.1:2/v1", Netns: ns, TLS: true})
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Gateway struct {
				Bind string `json:"bind"`
				TLS  *struct {
					Enabled      bool `json:"enabled"`
					AutoGenerate bool `json:"autoGenerate"`
				} `json:"tls"`
			} `json:"gateway"`
		}
		b, err := os.ReadFile(g.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		cli := g.CLI("devices", "approve", "req-1")
		what := fmt.Sprintf("%s: config %s", p.Name, b)
		gotwant.Error(t, what,
			gotwant.Eq("bind", cfg.Gateway.Bind, "lan"),
			gotwant.That("tls", cfg.Gateway.TLS != nil && cfg.Gateway.TLS.Enabled && cfg.Gateway.TLS.AutoGenerate, cfg.Gateway.TLS, "enabled and autoGenerate"),
			gotwant.Eq("URL", g.URL, "wss://198.51.100.2:4242"),
			gotwant.Eq("LocalURL", g.LocalURL, "wss://127.0.0.1:4242"),
			gotwant.Eq("CertPath", g.CertPath(), filepath.Join(dir, "state", "gateway", "tls", "gateway-cert.pem")),
			gotwant.Eq("CLI args", strings.Join(cli.Args, " "),
				"ip netns exec cgtestx /n/node "+p.EntryPath("/pfx")+" devices approve req-1"),
			gotwant.That("CLI env", slices.Contains(cli.Env, p.EnvPrefix+"_STATE_DIR="+filepath.Join(dir, "state")) &&
				slices.Contains(cli.Env, p.EnvPrefix+"_CONFIG_PATH="+g.ConfigPath) &&
				slices.Contains(cli.Env, "HOME="+filepath.Join(dir, "home")), cli.Env, "the gateway's HOME, state dir and config"),
		)
		if _, err := g.CertFingerprint(); err == nil {
			t.Errorf("%s: CertFingerprint before the gateway generated a certificate: no error", p.Name)
		}

		lo, err := NewGateway(GatewayOptions{Product: p, Node: "/n/node", Prefix: "/pfx", Dir: t.TempDir(), Port: 4243, Token: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		b, _ = os.ReadFile(lo.ConfigPath)
		cfg.Gateway.TLS = nil
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		gotwant.Error(t, fmt.Sprintf("%s loopback: config %s", p.Name, b),
			gotwant.Eq("bind", cfg.Gateway.Bind, "loopback"),
			gotwant.That("tls", cfg.Gateway.TLS == nil, cfg.Gateway.TLS, "absent"),
			gotwant.Eq("URL", lo.URL, "ws://127.0.0.1:4243"),
			gotwant.Eq("LocalURL", lo.LocalURL, lo.URL),
			gotwant.Eq("CLI args", strings.Join(lo.CLI("devices", "list").Args, " "), "/n/node "+p.EntryPath("/pfx")+" devices list"),
		)
	}
}

// TestPEMFingerprint checks the pin of a certificate file against the
// SHA-256 of its DER computed independently.
func TestPEMFingerprint(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "openclaw-gateway"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	data := append([]byte("junk before\n"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}})...)
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	got, err := PEMFingerprint(data)
	if err != nil || got != hex.EncodeToString(sum[:]) {
		t.Errorf("PEMFingerprint = %q, %v; want %x", got, err, sum)
	}
	if _, err := PEMFingerprint([]byte("no pem here")); err == nil {
		t.Error("PEMFingerprint without a certificate: no error")
	}
}

// TestNetnsAddrs checks the address plan: a /30 of 198.51.100.0/24 per
// block, host end .4b+1, namespace end .4b+2, and names that fit an
// interface name with the veth suffix.
func TestNetnsAddrs(t *testing.T) {
	_, netw, _ := net.ParseCIDR(NetnsNet)
	seen := map[string]bool{}
	for b := range 64 {
		h, n := NetnsAddrs(b)
		for _, a := range []string{h, n} {
			if ip := net.ParseIP(a); ip == nil || !netw.Contains(ip) || seen[a] {
				t.Fatalf("block %d: address %s outside %s or used twice", b, a, NetnsNet)
			}
			seen[a] = true
		}
	}
	if h, n := NetnsAddrs(1); h != "198.51.100.5" || n != "198.51.100.6" {
		t.Errorf("NetnsAddrs(1) = %s, %s", h, n)
	}
	if name := NetnsName("o"); len(name)+1 > 15 || !strings.HasPrefix(name, "cg") {
		t.Errorf("NetnsName(o) = %q", name)
	}
}

// TestNetns creates a namespace (when this process may: root or
// CAP_NET_ADMIN), checks that the host reaches the namespace's address and
// a process inside reaches the host's, with nothing but lo and the veth
// end inside, and that Close removes the namespace and both veth ends.
func TestNetns(t *testing.T) {
	if err := NetnsSupported(); err != nil {
		t.Skip(err)
	}
	n, err := NewNetns("t", 40)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	_, netw, _ := net.ParseCIDR(NetnsNet)
	if !netw.Contains(net.ParseIP(n.HostIP)) || !netw.Contains(net.ParseIP(n.NsIP)) {
		t.Fatalf("%s: addresses outside %s", n, NetnsNet)
	}
	// The host reaches a listener inside the namespace over the veth pair.
	ln, err := net.Listen("tcp4", n.HostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- err.Error()
			return
		}
		defer c.Close()
		accepted <- c.RemoteAddr().(*net.TCPAddr).IP.String()
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	out, err := n.Command("ip", "-o", "addr", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("inside %s: %v\n%s", n, err, out)
	}
	if !strings.Contains(string(out), n.NsIP+"/30") || strings.Contains(string(out), "eth0") {
		t.Errorf("interfaces inside %s:\n%s", n, out)
	}
	if bash, err := exec.LookPath("bash"); err != nil {
		t.Log("no bash: the connection from inside the namespace is not checked")
	} else {
		out, err := n.Command(bash, "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", n.HostIP, port)).CombinedOutput()
		if err != nil {
			t.Fatalf("connect from inside %s to %s:%d: %v\n%s", n, n.HostIP, port, err, out)
		}
		select {
		case from := <-accepted:
			if from != n.NsIP {
				t.Errorf("connection from inside came from %s, want %s", from, n.NsIP)
			}
		case <-time.After(30 * time.Second):
			t.Error("no connection from inside the namespace arrived")
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if linkExists(n.HostIf) {
		t.Errorf("veth %s left after Close", n.HostIf)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", n.Name)); err == nil {
		t.Errorf("namespace %s left after Close", n.Name)
	}
}
