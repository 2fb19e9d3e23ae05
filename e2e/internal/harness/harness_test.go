package harness

import (
	"encoding/json"
	"fmt"
	"math"
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
