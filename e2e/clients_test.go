//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/internal/harness"
)

// clientPrefix returns the install prefix of an MCP client package and the
// Node binary, skipping the test when CLAWGATE_E2E_CLIENTS=0.
func clientPrefix(t *testing.T, p harness.Package) (string, string) {
	t.Helper()
	if !s.clients {
		t.Skip("CLAWGATE_E2E_CLIENTS=0")
	}
	prefix, err := s.pkg(p).get()
	if err != nil {
		t.Fatalf("install %s: %v", p.Dir, err)
	}
	node, err := s.node.get()
	if err != nil {
		t.Fatal(err)
	}
	return prefix, node
}

// nodeEnv is the environment of a Node MCP client: the cached Node first
// on PATH (for anything that runs "node" by name), the e2e npm cache, and
// extra entries. supergateway's stdio server inherits all of it; the
// Inspector passes only a few variables on (see inspector.run).
func nodeEnv(node string, extra ...string) []string {
	return harness.CleanEnv(append([]string{
		"PATH=" + filepath.Dir(node) + string(os.PathListSeparator) + os.Getenv("PATH"),
		s.inst.NPMCacheEnv(),
		"NO_COLOR=1",
	}, extra...)...)
}

// runNode runs a Node program to completion and returns stdout, stderr and
// the exit code.
func runNode(t *testing.T, name, dir string, env []string, timeout time.Duration, node string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(node, args...)
	cmd.Dir, cmd.Env = dir, env
	out, errOut, code, err := runToEnd(t, name, cmd, timeout)
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
	return out, errOut, code
}

// TestConformance runs the MCP conformance suite's server scenarios that
// apply to clawgate (server-initialize, tools-list, ping) through
// supergateway, which bridges clawgate's stdio to Streamable HTTP, with
// clawgate pointed at a real gateway.
func TestConformance(t *testing.T) {
	sgPrefix, node := clientPrefix(t, harness.Supergateway)
	confPrefix, _ := clientPrefix(t, harness.Conformance)
	r := s.gateway(t, s.products[0])
	g := s.targets[s.products[0]]
	g.mu.RLock()
	defer g.mu.RUnlock()
	dir := s.testDir(t)
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env := nodeEnv(node, "HOME="+dir, "OPENCLAW_GATEWAY_TOKEN="+r.gw.Token)
	logf, err := os.Create(filepath.Join(dir, "supergateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(node, filepath.Join(sgPrefix, harness.SupergatewayEntry),
		"--stdio", fmt.Sprintf("%s --url %s", s.binary(t), r.gw.URL),
		"--outputTransport", "streamableHttp", "--stateful", "--port", strconv.Itoa(port),
		"--healthEndpoint", "/healthz", "--logLevel", "info")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logf, logf
	sg, err := harness.Start("supergateway", cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		took, err := sg.Stop(5 * time.Second)
		if err != nil {
			t.Errorf("stop supergateway: %v", err)
		}
		t.Logf("supergateway and its clawgate stopped in %s", took.Round(time.Millisecond))
		if left := sg.Leftovers(); len(left) > 0 {
			t.Errorf("processes left after stopping supergateway: %v", left)
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("supergateway log:\n%s", harness.Tail(string(b), 30))
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if sg.Exited() || time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("supergateway not ready on %s (%v):\n%s", base, err, b)
		}
		time.Sleep(200 * time.Millisecond)
	}

	conformance := filepath.Join(confPrefix, harness.ConformanceEntry)
	for _, scenario := range []string{"server-initialize", "tools-list", "ping"} {
		t.Run(scenario, func(t *testing.T) {
			out := filepath.Join(dir, "results", scenario)
			stdout, stderr, code := runNode(t, "conformance-"+scenario, dir, env, 2*time.Minute, node, conformance,
				"server", "--url", base+"/mcp", "--scenario", scenario, "-o", out)
			t.Logf("conformance %s (exit %d):\n%s", scenario, code, harness.Tail(stdout, 15))
			if code != 0 {
				t.Errorf("conformance %s exited %d\n%s", scenario, code, harness.Tail(stderr, 20))
			}
			checks := readChecks(t, out)
			if len(checks) == 0 {
				t.Fatalf("no checks.json results under %s", out)
			}
			for _, c := range checks {
				if c.Status != "SUCCESS" {
					t.Errorf("check %s: %s %s", c.Name, c.Status, c.ErrorMessage)
				}
			}
		})
	}
}

// check is one result in the conformance suite's checks.json.
type check struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage"`
}

// readChecks reads every checks.json below dir.
func readChecks(t *testing.T, dir string) []check {
	t.Helper()
	var all []check
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "checks.json" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			return nil
		}
		var cs []check
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		all = append(all, cs...)
		return nil
	})
	return all
}
