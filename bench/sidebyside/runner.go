package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// runner runs the measurements in order and keeps their results.
type runner struct {
	cfg   *config
	token string
	tmp   string
	bin   string

	raw    *rawClient
	direct *mcpProc // the long-lived clawgate: warm, concurrency, agent, memory
	tapped *mcpProc // a second long-lived clawgate that reaches the gateway through tp
	tp     *tap
	calls  int // tool calls made on direct

	mu    sync.Mutex
	procs []*mcpProc // every clawgate started, for interrupt and cleanup

	res results

	// --delegation
	dlg          dlgResults
	rawTap       *tap     // the raw client's tap
	flog         *fakeLog // the fake model's request log
	keyPrefix    string   // agent:<agent>:subagent:clawgate-, from clawgate's first private session
	delsExpected int      // private sessions clawgate has been asked to remove
	removes      bool     // clawgate removes its private sessions in the mode being measured
}

// runInfo is what both reports state about a run before their tables: the
// gateway, the clawgate build, the machine and its load, and the time.
type runInfo struct {
	started, finished time.Time
	loadStart         string
	loadEnd           string
	gatewayVersion    string
	protocol          int
	clawgateVersion   string
}

// results are the measurements, as they are shown in the table.
type results struct {
	runInfo

	cold, coldExit samples
	version        samples // spawn → exit of `clawgate version`: process start and package init
	coldRSS        int64   // highest peak RSS of the cold-start processes, kB
	oneShot        samples

	warmRaw, warmMCP, warmDiff samples
	warmCPU                    time.Duration // clawgate's CPU time per call
	smallRaw, smallMCP         samples       // the same with limit 1: the per-call overhead without the payload
	smallDiff                  samples
	tapList                    samples

	cli        samples
	cliRSS     int64
	cliName    string
	cliSkipped string

	concRaw, concMCP samples
	concCPU          time.Duration // clawgate's CPU time per call

	agentRaw, agentMCP, agentDiff, agentTap samples
	agentCPU                                time.Duration // clawgate's CPU time per run
	agentText                               string

	rssInit, rssAfter, hwmAfter, threadsAfter int64
	rssAnonAfter, rssFileAfter                int64
	memCalls                                  int

	goroutines *goroutineResult
}

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sidebyside: "+format+"\n", args...)
}

func (r *runner) run(ctx context.Context) error {
	cfg := r.cfg
	r.token = os.Getenv(cfg.tokenEnv)
	if r.token == "" {
		return fmt.Errorf("no gateway token: set %s (or name another variable with --token-env)", cfg.tokenEnv)
	}
	u, err := url.Parse(cfg.url)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return fmt.Errorf("--url %q: want ws://host:port or wss://host:port", cfg.url)
	}
	// On Ctrl-C, kill the clawgate processes: a read waiting on one of them
	// then returns at once.
	defer context.AfterFunc(ctx, r.interrupt)()
	r.res.started = time.Now()
	r.res.loadStart = loadAvg()
	if r.tmp, err = os.MkdirTemp("", "clawgate-sidebyside-"); err != nil {
		return err
	}
	if err := r.build(ctx); err != nil {
		return err
	}
	if cfg.delegation {
		return r.delegation(ctx)
	}

	logf("connecting the raw WebSocket client to %s", cfg.url)
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	r.raw, err = dialRaw(dialCtx, cfg.url, r.token)
	cancel()
	if err != nil {
		return err
	}
	r.res.gatewayVersion, r.res.protocol = r.raw.version, r.raw.protocol

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"cold start", r.coldStart},
		{"one-shot", r.oneShot},
		{"long-lived clawgate", r.startLongLived},
		{"warm calls", r.warm},
		{"tap: list_sessions", r.tapList},
		{"concurrency", r.concurrency},
		{"agent runs", r.agents},
		{"CLI", r.cliCalls},
		{"memory", r.memory},
		{"goroutines", r.goroutines},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.fn(ctx); err != nil {
			r.report(os.Stdout) // what was measured so far
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	r.stopAll()
	r.res.finished = time.Now()
	r.res.loadEnd = loadAvg()
	r.report(os.Stdout)
	return nil
}

// build builds clawgate into the temporary directory unless --clawgate
// names a binary.
func (r *runner) build(ctx context.Context) error {
	if r.cfg.clawgate != "" {
		r.bin = r.cfg.clawgate
	} else {
		gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		mod := strings.TrimSpace(string(gomod))
		if err != nil || mod == "" || mod == os.DevNull {
			return errors.New("not inside the clawgate module: run from the repository or pass --clawgate")
		}
		r.bin = filepath.Join(r.tmp, "clawgate")
		logf("building clawgate (go build -o %s .)", r.bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", r.bin, ".")
		cmd.Dir = filepath.Dir(mod)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	out, err := exec.CommandContext(ctx, r.bin, "version").Output()
	if err != nil {
		return fmt.Errorf("%s version: %w", r.bin, err)
	}
	r.res.clawgateVersion = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "clawgate"))
	return nil
}

// spawn starts a clawgate serving MCP on stdio for gatewayURL. The token
// goes in the environment, never in the arguments.
func (r *runner) spawn(gatewayURL, name string) (*mcpProc, error) {
	p, err := startMCP(r.bin, []string{"--url", gatewayURL}, []string{"OPENCLAW_GATEWAY_TOKEN=" + r.token},
		filepath.Join(r.tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	return p, nil
}

// interrupt kills every clawgate this run started that is still running.
func (r *runner) interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.procs {
		p.signalKill()
	}
}

// coldStart measures process spawn → initialize response.
func (r *runner) coldStart(ctx context.Context) error {
	logf("cold start: %d × spawn → initialize", r.cfg.coldN)
	for i := range r.cfg.coldN {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		start := time.Now()
		p, err := r.spawn(r.cfg.url, "cold-"+strconv.Itoa(i))
		if err != nil {
			return err
		}
		if _, err := p.initialize(); err != nil {
			p.kill()
			return err
		}
		r.res.cold = append(r.res.cold, time.Since(start))
		r.res.coldExit = append(r.res.coldExit, p.stop(5*time.Second))
		r.res.coldRSS = max(r.res.coldRSS, maxRSS(p))

		start = time.Now()
		if err := exec.CommandContext(ctx, r.bin, "version").Run(); err != nil {
			return fmt.Errorf("clawgate version: %w", err)
		}
		r.res.version = append(r.res.version, time.Since(start))
	}
	return nil
}

// oneShot measures spawn → initialize → first list_sessions result, which
// includes clawgate's WebSocket dial and handshake: what a script pays when
// it starts clawgate for a single call.
func (r *runner) oneShot(ctx context.Context) error {
	logf("one-shot: %d × spawn → initialize → list_sessions", r.cfg.coldN)
	for i := range r.cfg.coldN {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		start := time.Now()
		p, err := r.spawn(r.cfg.url, "oneshot-"+strconv.Itoa(i))
		if err != nil {
			return err
		}
		if _, err = p.initialize(); err == nil {
			err = p.callTool("list_sessions", map[string]any{"limit": r.cfg.limit})
		}
		if err != nil {
			p.kill()
			return err
		}
		r.res.oneShot = append(r.res.oneShot, time.Since(start))
		p.stop(5 * time.Second)
	}
	return nil
}

// startLongLived starts the two long-lived clawgate processes: one dialing
// the gateway directly, one through the tap.
func (r *runner) startLongLived(ctx context.Context) error {
	var err error
	if r.direct, err = r.spawn(r.cfg.url, "direct"); err != nil {
		return err
	}
	if _, err := r.direct.initialize(); err != nil {
		return err
	}
	st, err := r.direct.status("VmRSS")
	if err != nil {
		return err
	}
	r.res.rssInit, _ = strconv.ParseInt(st["VmRSS"], 10, 64)

	u, _ := url.Parse(r.cfg.url)
	if u.Scheme != "ws" {
		logf("tap: skipped (the tap forwards plain ws:// only)")
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if r.tp, err = startTap(u.Hostname() + ":" + port); err != nil {
		return err
	}
	if r.tapped, err = r.spawn(r.tp.url(), "tapped"); err != nil {
		return err
	}
	_, err = r.tapped.initialize()
	return err
}

// listArgs are the list_sessions arguments; listParams the sessions.list
// params clawgate sends for them.
func (r *runner) listArgs() map[string]any   { return map[string]any{"limit": r.cfg.limit} }
func (r *runner) listParams() map[string]any { return map[string]any{"limit": r.cfg.limit} }

// warm measures warm tools/call list_sessions against raw sessions.list
// with the same limit, alternating which goes first; then the same with
// limit 1, whose small reply leaves clawgate's per-call overhead.
func (r *runner) warm(ctx context.Context) error {
	if err := r.warmLimit(ctx, r.cfg.limit, r.cfg.n, &r.res.warmRaw, &r.res.warmMCP, &r.res.warmDiff, &r.res.warmCPU); err != nil {
		return err
	}
	var cpu time.Duration
	return r.warmLimit(ctx, 1, max(r.cfg.n/2, 1), &r.res.smallRaw, &r.res.smallMCP, &r.res.smallDiff, &cpu)
}

func (r *runner) warmLimit(ctx context.Context, limit, n int, raw, mcp, diff *samples, cpuPerCall *time.Duration) error {
	logf("warm: %d × list_sessions {\"limit\":%d} over stdio vs %d × raw sessions.list, interleaved (after %d warm-up calls each)", n, limit, n, 50)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	params := map[string]any{"limit": limit} // the same for both: list_sessions passes its limit on
	rawCall := func() (time.Duration, error) {
		start := time.Now()
		_, err := r.raw.call(ctx, "sessions.list", params)
		return time.Since(start), err
	}
	mcpCall := func() (time.Duration, error) {
		start := time.Now()
		err := r.direct.callTool("list_sessions", params)
		r.calls++
		return time.Since(start), err
	}
	for range 50 {
		if _, err := rawCall(); err != nil {
			return err
		}
		if _, err := mcpCall(); err != nil {
			return err
		}
	}
	cpu0, err := r.direct.cpu()
	if err != nil {
		return err
	}
	for i := range n {
		var a, b time.Duration
		var err1, err2 error
		if i%2 == 0 {
			a, err1 = rawCall()
			b, err2 = mcpCall()
		} else {
			b, err2 = mcpCall()
			a, err1 = rawCall()
		}
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		*raw = append(*raw, a)
		*mcp = append(*mcp, b)
		*diff = append(*diff, b-a)
	}
	cpu1, err := r.direct.cpu()
	*cpuPerCall = (cpu1 - cpu0) / time.Duration(n)
	return err
}

// tapList measures, on the tapped clawgate, how much of a list_sessions
// call is clawgate's own time.
func (r *runner) tapList(ctx context.Context) error {
	if r.tp == nil {
		return nil
	}
	n := max(r.cfg.n/2, 1)
	logf("tap: %d × list_sessions through the tap", n)
	for i := range n + 20 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		added, _, err := r.tappedCall("list_sessions", r.listArgs(), "sessions.list")
		if err != nil {
			return err
		}
		if i >= 20 {
			r.res.tapList = append(r.res.tapList, added)
		}
	}
	return nil
}

// tappedCall makes one tool call on the tapped clawgate and returns the time
// clawgate added (see tap) and the whole call's time.
func (r *runner) tappedCall(tool string, args any, method string) (added, total time.Duration, err error) {
	id, err := r.tapped.send("tools/call", map[string]any{"name": tool, "arguments": args})
	start := time.Now()
	if err != nil {
		return 0, 0, err
	}
	if _, err := r.tapped.await(id); err != nil {
		return 0, 0, err
	}
	end := time.Now()
	sent, replied, err := r.tp.exchange(method)
	if err != nil {
		return 0, 0, err
	}
	return sent.Sub(start) + end.Sub(replied), end.Sub(start), nil
}

// concurrency measures rounds of K concurrent tool calls into one clawgate
// against rounds of K requests pipelined on the raw WebSocket.
func (r *runner) concurrency(ctx context.Context) error {
	k, rounds := r.cfg.conc, r.cfg.rounds
	logf("concurrency: %d rounds × %d concurrent calls per side, interleaved", rounds, k)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	rawRound := func() (time.Duration, error) {
		start := time.Now()
		err := r.raw.pipeline(ctx, k, "sessions.list", r.listParams())
		return time.Since(start), err
	}
	mcpRound := func() (time.Duration, error) {
		start := time.Now()
		err := r.direct.callTools(k, "list_sessions", r.listArgs())
		r.calls += k
		return time.Since(start), err
	}
	if _, err := rawRound(); err != nil {
		return err
	}
	if _, err := mcpRound(); err != nil {
		return err
	}
	cpu0, err := r.direct.cpu()
	if err != nil {
		return err
	}
	for i := range rounds {
		var a, b time.Duration
		var err1, err2 error
		if i%2 == 0 {
			a, err1 = rawRound()
			b, err2 = mcpRound()
		} else {
			b, err2 = mcpRound()
			a, err1 = rawRound()
		}
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		r.res.concRaw = append(r.res.concRaw, a)
		r.res.concMCP = append(r.res.concMCP, b)
	}
	cpu1, err := r.direct.cpu()
	r.res.concCPU = (cpu1 - cpu0) / time.Duration(rounds*k)
	return err
}

// agents measures ask_subagent against a raw agent request (each in its own
// session), and clawgate's own share of ask_subagent at the tap.
func (r *runner) agents(ctx context.Context) error {
	n := r.cfg.agentN
	if n == 0 {
		return nil
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	keyRaw := r.cfg.sessionPrefix + suffix + "-raw"
	keyMCP := r.cfg.sessionPrefix + suffix + "-clawgate"
	keyTap := r.cfg.sessionPrefix + suffix + "-tapped"
	logf("agent: %d runs per side in %s, %s, %s (after one warm-up run each: a gateway's first turn is slow)", n, keyRaw, keyMCP, keyTap)
	rawRun := func(i int) (time.Duration, error) {
		id, err := uuid.NewRandom()
		if err != nil {
			return 0, err
		}
		ctx, cancel := context.WithTimeout(ctx, 330*time.Second)
		defer cancel()
		start := time.Now()
		text, err := r.raw.agent(ctx, agentParams{
			Message: fmt.Sprintf("bench raw %d", i), IdempotencyKey: id.String(), SessionKey: keyRaw, Timeout: 56,
		})
		if r.res.agentText == "" {
			r.res.agentText = text
		}
		return time.Since(start), err
	}
	mcpRun := func(i int) (time.Duration, error) {
		start := time.Now()
		err := r.direct.callTool("ask_subagent", map[string]any{"message": fmt.Sprintf("bench clawgate %d", i), "session_key": keyMCP})
		r.calls++
		return time.Since(start), err
	}
	tapRun := func(i int) (time.Duration, error) {
		if r.tp == nil {
			return 0, nil
		}
		added, _, err := r.tappedCall("ask_subagent", map[string]any{"message": fmt.Sprintf("bench tapped %d", i), "session_key": keyTap}, "agent")
		return added, err
	}
	for _, run := range []func(int) (time.Duration, error){rawRun, mcpRun, tapRun} {
		if _, err := run(-1); err != nil {
			return err
		}
	}
	cpu0, err := r.direct.cpu()
	if err != nil {
		return err
	}
	for i := range n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var a, b, c time.Duration
		var err1, err2, err3 error
		if i%2 == 0 {
			a, err1 = rawRun(i)
			b, err2 = mcpRun(i)
		} else {
			b, err2 = mcpRun(i)
			a, err1 = rawRun(i)
		}
		c, err3 = tapRun(i)
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		r.res.agentRaw = append(r.res.agentRaw, a)
		r.res.agentMCP = append(r.res.agentMCP, b)
		r.res.agentDiff = append(r.res.agentDiff, b-a)
		if r.tp != nil {
			r.res.agentTap = append(r.res.agentTap, c)
		}
	}
	cpu1, err := r.direct.cpu()
	r.res.agentCPU = (cpu1 - cpu0) / time.Duration(n)
	return err
}

// cliCalls runs the gateway's CLI for the same sessions.list call.
func (r *runner) cliCalls(ctx context.Context) error {
	if r.cfg.cli == "" {
		r.res.cliSkipped = "no --cli given"
		return nil
	}
	argv, err := splitCommand(r.cfg.cli)
	if err != nil || len(argv) == 0 {
		return fmt.Errorf("--cli %q: %v", r.cfg.cli, err)
	}
	r.res.cliName = cliName(argv)
	logf("CLI: 1 warm-up + %d × %s gateway call sessions.list --json", r.cfg.cliN, r.res.cliName)
	if _, _, err := runCLI(ctx, argv, r.cfg.cliEnv, r.cfg.limit); err != nil {
		return err
	}
	for range r.cfg.cliN {
		took, rss, err := runCLI(ctx, argv, r.cfg.cliEnv, r.cfg.limit)
		if err != nil {
			return err
		}
		r.res.cli = append(r.res.cli, took)
		r.res.cliRSS = max(r.res.cliRSS, rss)
	}
	return nil
}

// cliName guesses the product name from the CLI's command line.
func cliName(argv []string) string {
	line := strings.Join(argv, " ")
	for _, name := range []string{"clawdbot", "moltbot", "openclaw"} {
		if strings.Contains(line, name) {
			return name
		}
	}
	return filepath.Base(argv[0])
}

// memory tops the long-lived clawgate up to --mem-calls tool calls (in
// rounds of --conc) and reads its RSS and threads.
func (r *runner) memory(ctx context.Context) error {
	logf("memory: topping clawgate up from %d to %d calls", r.calls, r.cfg.memCalls)
	for r.calls < r.cfg.memCalls {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		k := min(r.cfg.conc, r.cfg.memCalls-r.calls)
		if err := r.direct.callTools(k, "list_sessions", r.listArgs()); err != nil {
			return err
		}
		r.calls += k
	}
	st, err := r.direct.status("VmRSS", "VmHWM", "Threads", "RssAnon", "RssFile")
	if err != nil {
		return err
	}
	r.res.rssAfter, _ = strconv.ParseInt(st["VmRSS"], 10, 64)
	r.res.rssAnonAfter, _ = strconv.ParseInt(st["RssAnon"], 10, 64)
	r.res.rssFileAfter, _ = strconv.ParseInt(st["RssFile"], 10, 64)
	r.res.hwmAfter, _ = strconv.ParseInt(st["VmHWM"], 10, 64)
	r.res.threadsAfter, _ = strconv.ParseInt(st["Threads"], 10, 64)
	r.res.memCalls = r.calls
	return nil
}

// goroutines runs the in-process goroutine count with the other clients
// idle.
func (r *runner) goroutines(ctx context.Context) error {
	logf("goroutines: %d list_sessions calls in process (8 concurrent callers)", r.cfg.memCalls)
	g, err := countGoroutines(ctx, r.cfg.url, r.token, r.cfg.memCalls, 8, r.cfg.limit)
	if err != nil {
		return err
	}
	r.res.goroutines = g
	return nil
}

// stopAll stops the long-lived processes, the tap and the raw client.
func (r *runner) stopAll() {
	for _, p := range []*mcpProc{r.direct, r.tapped} {
		if p != nil {
			p.stop(10 * time.Second)
		}
	}
	for _, t := range []**tap{&r.tp, &r.rawTap} {
		if *t != nil {
			(*t).close()
			*t = nil
		}
	}
	if r.raw != nil {
		r.raw.close()
		r.raw = nil
	}
}

// cleanup kills whatever is still running and removes the temporary
// directory (unless --keep).
func (r *runner) cleanup() {
	r.stopAll()
	r.mu.Lock()
	for _, p := range r.procs {
		p.kill()
	}
	r.mu.Unlock()
	if r.tmp == "" {
		return
	}
	if r.cfg.keep {
		logf("kept %s", r.tmp)
		return
	}
	os.RemoveAll(r.tmp)
}

// maxRSS is the peak RSS (kB) of an exited process.
func maxRSS(p *mcpProc) int64 {
	if p.cmd.ProcessState == nil {
		return 0
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// loadAvg is the 1/5/15-minute load average.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
