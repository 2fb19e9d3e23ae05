//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/fakemodel"
	"github.com/clawgate/clawgate/e2e/internal/harness"
)

// s is the suite: the clawgate binary, the installs and the running
// gateways, shared by all tests.
var s *suite

// Timeouts of the setup steps.
const (
	installTimeout = 15 * time.Minute
	// startTimeout bounds a gateway start up to its first hello-ok. The first
	// start after a fresh install compiles and caches extensions (Clawdbot:
	// about 40 s of CPU) and, on a 2-core CI machine, competes with the other
	// gateway's start: it took over 3 minutes in a cold CI run.
	startTimeout = 8 * time.Minute
	stopGrace    = 20 * time.Second // SIGTERM → SIGKILL; OpenClaw drains in-flight runs
)

type suite struct {
	start    time.Time
	ctx      context.Context // ends on interrupt
	cancel   context.CancelFunc
	work     string // this run's temporary directory
	keep     bool
	race     bool
	clients  bool
	products []string
	inst     *harness.Installer

	bin     lazy[string] // the clawgate binary
	node    lazy[string] // the Node 24 binary
	targets map[string]*target
	pkgMu   sync.Mutex
	pkgs    map[string]*lazy[string] // client install prefixes by Package.Dir
}

// target is one gateway product under test: its fake model server and the
// gateway process.
type target struct {
	product harness.Product
	// mu is held for reading by tests that use the gateway and for writing
	// by tests that stop or kill it, so those never overlap.
	mu    sync.RWMutex
	ready lazy[*running]
}

// running is a started gateway with its fake model server.
type running struct {
	gw   *harness.Gateway
	fake *fakemodel.Server
}

// lazy is a value computed once, on first use, by fn.
type lazy[T any] struct {
	once sync.Once
	fn   func() (T, error)
	v    T
	err  error
}

func (l *lazy[T]) get() (T, error) {
	l.once.Do(func() { l.v, l.err = l.fn() })
	return l.v, l.err
}

// logf prints a setup/teardown progress line with the time since start.
func (s *suite) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[e2e %6.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) (code int) {
	var err error
	s, err = newSuite()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		s.logf("received %v: stopping every process this run started", sig)
		s.cancel()
		_ = harness.StopAll(5 * time.Second)
		s.logf("stopped; work dir kept: %s", s.work)
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	defer func() { s.teardown(code) }()
	s.warmUp()
	return m.Run()
}

func newSuite() (*suite, error) {
	st := &suite{start: time.Now(), targets: map[string]*target{}, pkgs: map[string]*lazy[string]{},
		keep: os.Getenv("CLAWGATE_E2E_KEEP") == "1", race: os.Getenv("CLAWGATE_E2E_RACE") != "0",
		clients: os.Getenv("CLAWGATE_E2E_CLIENTS") != "0"}
	st.ctx, st.cancel = context.WithCancel(context.Background())
	cache, err := harness.DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	if st.inst, err = harness.NewInstaller(cache, st.logf); err != nil {
		return nil, err
	}
	base := os.Getenv("CLAWGATE_E2E_WORK")
	if base != "" {
		if err := os.MkdirAll(base, 0o755); err != nil {
			return nil, err
		}
	}
	if st.work, err = os.MkdirTemp(base, "clawgate-e2e-"); err != nil {
		return nil, err
	}
	products := os.Getenv("CLAWGATE_E2E_PRODUCTS")
	if products == "" {
		products = "openclaw,clawdbot"
	}
	for _, name := range strings.Split(products, ",") {
		name = strings.TrimSpace(name)
		p, ok := harness.Products[name]
		if !ok {
			return nil, fmt.Errorf("CLAWGATE_E2E_PRODUCTS: unknown product %q (want openclaw, clawdbot)", name)
		}
		st.products = append(st.products, name)
		t := &target{product: p}
		t.ready.fn = func() (*running, error) { return st.startGateway(p) }
		st.targets[name] = t
	}
	st.bin.fn = st.build
	st.node.fn = func() (string, error) {
		ctx, cancel := context.WithTimeout(st.ctx, installTimeout)
		defer cancel()
		return st.inst.Node(ctx)
	}
	st.logf("work dir %s, cache %s (npm cache %s), products %s, race %v, run id %s",
		st.work, cache, st.inst.NPMCache, strings.Join(st.products, ","), st.race, harness.RunID)
	return st, nil
}

// warmUp starts building, installing and starting everything in the
// background, so that the first tests do not wait for each step in turn.
func (s *suite) warmUp() {
	go s.bin.get()
	for _, name := range s.products {
		go s.targets[name].ready.get()
	}
	if s.clients {
		for _, p := range []harness.Package{harness.InspectorCLI, harness.Supergateway, harness.Conformance} {
			go s.pkg(p).get()
		}
	}
}

// build compiles the clawgate binary from the module root (with -race
// unless CLAWGATE_E2E_RACE=0).
func (s *suite) build() (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("module root not found above the e2e directory: %w", err)
	}
	bin := filepath.Join(s.work, "bin", "clawgate")
	args := []string{"build", "-o", bin}
	if s.race {
		args = append(args, "-race")
	}
	start := time.Now()
	cmd := exec.CommandContext(s.ctx, "go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	s.logf("built %s (race %v) in %s", bin, s.race, time.Since(start).Round(100*time.Millisecond))
	return bin, nil
}

// pkg is the lazily installed prefix of a client package.
func (s *suite) pkg(p harness.Package) *lazy[string] {
	s.pkgMu.Lock()
	defer s.pkgMu.Unlock()
	l, ok := s.pkgs[p.Dir]
	if !ok {
		l = &lazy[string]{fn: func() (string, error) {
			ctx, cancel := context.WithTimeout(s.ctx, installTimeout)
			defer cancel()
			return s.inst.Install(ctx, p)
		}}
		s.pkgs[p.Dir] = l
	}
	return l
}

// startGateway installs a product if needed and starts it with its own fake
// model server.
func (s *suite) startGateway(p harness.Product) (*running, error) {
	ctx, cancel := context.WithTimeout(s.ctx, installTimeout)
	defer cancel()
	node, err := s.node.get()
	if err != nil {
		return nil, err
	}
	prefix, err := s.inst.Install(ctx, p.Package())
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.work, p.Name)
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	flog, err := os.Create(filepath.Join(dir, "logs", "fake-requests.jsonl"))
	if err != nil {
		return nil, err
	}
	fake := fakemodel.New(fakemodel.Options{Log: flog})
	if err := fake.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	gw, err := harness.NewGateway(harness.GatewayOptions{Product: p, Node: node, Prefix: prefix, Dir: dir,
		Token: "e2e-" + randomHex(12), ModelURL: fake.BaseURL(),
		TempDir: s.inst.TempDir(p)})
	if err != nil {
		fake.Close()
		return nil, err
	}
	sctx, scancel := context.WithTimeout(s.ctx, startTimeout)
	defer scancel()
	s.logf("starting %s@%s on %s (fake model %s)", p.Name, p.Version, gw.URL, fake.BaseURL())
	took, err := gw.Start(sctx)
	if err != nil {
		_, _ = gw.Stop(5 * time.Second)
		fake.Close()
		return nil, err
	}
	s.logf("%s@%s ready (hello-ok + sessions.list) %s after start", p.Name, p.Version, took.Round(100*time.Millisecond))
	if took, err = gw.WarmUp(sctx); err != nil {
		_, _ = gw.Stop(5 * time.Second)
		fake.Close()
		return nil, err
	}
	s.logf("%s first agent turn (warm-up) took %s", p.Name, took.Round(100*time.Millisecond))
	return &running{gw: gw, fake: fake}, nil
}

// teardown stops the gateways (SIGTERM, SIGKILL after stopGrace) and any
// other process this run started, and removes the work dir after a passing
// run unless CLAWGATE_E2E_KEEP=1.
func (s *suite) teardown(code int) {
	var wg sync.WaitGroup
	for _, name := range s.products {
		t := s.targets[name]
		r, err := t.ready.get()
		if err != nil || r == nil {
			continue
		}
		if code != 0 {
			fmt.Fprintf(os.Stderr, "\n===== %s gateway logs =====\n%s\n", name, r.gw.LogTail(60))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			took, err := r.gw.Stop(stopGrace)
			s.logf("stopped %s gateway in %s (err %v)", name, took.Round(100*time.Millisecond), err)
			r.fake.Close()
		}()
	}
	wg.Wait()
	if err := harness.StopAll(5 * time.Second); err != nil {
		s.logf("stopping leftover processes: %v", err)
	}
	if left := harness.RunLeftovers(); len(left) > 0 {
		s.logf("WARNING: processes of this run still alive: %v", left)
	}
	if code == 0 && !s.keep {
		_ = os.RemoveAll(s.work)
		s.logf("done; removed %s", s.work)
		return
	}
	s.logf("done; logs and state kept in %s", s.work)
}

// gateway returns the running gateway of product name, starting it if
// needed. It fails the test if the gateway cannot be installed or started.
func (s *suite) gateway(t *testing.T, name string) *running {
	t.Helper()
	r, err := s.targets[name].ready.get()
	if err != nil {
		t.Fatalf("%s gateway unavailable: %v", name, err)
	}
	return r
}

// binary returns the clawgate binary, building it if needed.
func (s *suite) binary(t *testing.T) string {
	t.Helper()
	bin, err := s.bin.get()
	if err != nil {
		t.Fatalf("build clawgate: %v", err)
	}
	return bin
}

// testDir returns a fresh directory for the test's logs and files, kept in
// the work dir.
func (s *suite) testDir(t *testing.T) string {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	dir := filepath.Join(s.work, "tests", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// eachGateway runs fn against every selected gateway, in parallel subtests
// named after the product. exclusive tests (those that stop or kill the
// gateway) never overlap with other tests of the same gateway.
func eachGateway(t *testing.T, exclusive bool, fn func(t *testing.T, g *target, r *running)) {
	for _, name := range s.products {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := s.targets[name]
			r := s.gateway(t, name)
			if exclusive {
				g.mu.Lock()
				defer g.mu.Unlock()
			} else {
				g.mu.RLock()
				defer g.mu.RUnlock()
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("%s gateway logs:\n%s", name, r.gw.LogTail(25))
					t.Logf("fake model requests: %s", summarizeRequests(r.fake.Requests()))
				}
			})
			fn(t, g, r)
		})
	}
}

// summarizeRequests lists the fake model's requests in one line each.
func summarizeRequests(reqs []fakemodel.Request) string {
	var b strings.Builder
	for _, r := range reqs {
		state := "in progress"
		if r.Done() {
			state = fmt.Sprintf("ended after %s", r.Ended.Sub(r.Received).Round(time.Millisecond))
		}
		if r.Cancelled {
			state += " (cancelled)"
		}
		fmt.Fprintf(&b, "\n  #%d %s %s %q %s", r.Seq, r.Method, r.Path, r.UserText, state)
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errorsAs is errors.As as a function value, for brevity in assertions.
func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
