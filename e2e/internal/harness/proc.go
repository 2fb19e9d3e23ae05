// Package harness runs the real gateways for clawgate's end-to-end tests:
// it installs Node and the gateway products from the npm registry into a
// reusable cache, starts each gateway on loopback, or in a network namespace
// of its own (netns.go), in its own state
// directory against the offline fake model server, waits for a real
// hello-ok, and stops everything it started — by process group, and by a
// per-process environment marker for anything that escaped its group.
//
// It never signals a process it did not start: every child carries
// ChildEnv=<run id>.<n> in its environment, and only processes carrying
// this run's marker are swept.
package harness

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RunEnv names the variable that carries the run id from e2e/run.sh to the
// test binary, so that run.sh can sweep this run's leftovers on exit.
const RunEnv = "CLAWGATE_E2E_RUN"

// ChildEnv names the marker variable every started process carries; its
// value is "<run id>.<process number>".
const ChildEnv = "CLAWGATE_E2E_CHILD"

// RunID identifies this test run. It comes from RunEnv when run.sh set it,
// else it is random.
var RunID = func() string {
	if id := os.Getenv(RunEnv); id != "" {
		return id
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "run" + hex.EncodeToString(b)
}()

// Proc is a process started by the harness, leading its own process group.
type Proc struct {
	Name   string
	Cmd    *exec.Cmd
	marker string // ChildEnv=<value> of this process and its descendants

	done    chan struct{} // closed when the leader has been reaped
	waitErr error
}

var (
	procMu  sync.Mutex
	procs   []*Proc
	procSeq int

	spawnOnce sync.Once
	spawnCh   chan spawnReq
)

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

// spawner starts processes from one OS thread that never exits. Children are
// started with Pdeathsig, which Linux delivers when the *thread* that forked
// them ends; a dedicated locked thread makes that "when the test process
// dies", so that even a crashed or timed-out test binary leaves no gateway
// behind.
func spawner() {
	runtime.LockOSThread()
	for r := range spawnCh {
		r.err <- r.cmd.Start()
	}
}

// Start starts cmd as a new process-group leader with the run marker in its
// environment (cmd.Env nil means the current environment), and registers it
// for StopAll. Stdin, Stdout and Stderr should be files or nil, so that
// Wait does not depend on copying goroutines.
func Start(name string, cmd *exec.Cmd) (*Proc, error) {
	procMu.Lock()
	procSeq++
	marker := fmt.Sprintf("%s=%s.%d", ChildEnv, RunID, procSeq)
	procMu.Unlock()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(withoutVar(cmd.Env, ChildEnv), marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		go spawner()
	})
	req := spawnReq{cmd: cmd, err: make(chan error, 1)}
	spawnCh <- req
	if err := <-req.err; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, marker: marker, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	procMu.Lock()
	procs = append(procs, p)
	procMu.Unlock()
	return p, nil
}

// PID is the process id of the group leader.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Done is closed when the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to exit, at most d, and returns its exit error
// (nil for exit code 0). It returns an error if the process is still running.
func (p *Proc) Wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(d):
		return fmt.Errorf("%s (pid %d) still running after %s", p.Name, p.PID(), d)
	}
}

// ExitCode is the exit code after the process exited, or -1 (running, or
// killed by a signal).
func (p *Proc) ExitCode() int {
	if !p.Exited() || p.Cmd.ProcessState == nil {
		return -1
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Signal sends sig to the whole process group while the leader is alive
// (its group id cannot be reused then), else to every remaining process that
// carries this process's marker.
func (p *Proc) Signal(sig syscall.Signal) {
	if !p.Exited() {
		_ = syscall.Kill(-p.PID(), sig)
		return
	}
	for _, pid := range p.Leftovers() {
		_ = syscall.Kill(pid, sig)
	}
}

// Kill sends SIGKILL to the process group and waits (at most 10 s) until
// the leader is reaped and no marked descendant is left.
func (p *Proc) Kill() error {
	p.Signal(syscall.SIGKILL)
	if err := p.Wait(10 * time.Second); err != nil && !p.Exited() {
		return err
	}
	return p.sweep()
}

// Stop ends the process: SIGTERM to the leader, which stops its own
// helpers, then SIGKILL to the whole group once grace has passed (OpenClaw
// drains in-flight agent runs on SIGTERM for up to ~315 s). Descendants
// that outlive the leader are killed too. It returns how long the stop
// took.
func (p *Proc) Stop(grace time.Duration) (time.Duration, error) {
	start := time.Now()
	if !p.Exited() {
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			p.Signal(syscall.SIGKILL)
			if err := p.Wait(10 * time.Second); err != nil && !p.Exited() {
				return time.Since(start), err
			}
		}
	}
	return time.Since(start), p.sweep()
}

// sweep SIGKILLs marked descendants left after the leader exited and waits
// briefly for them to go.
func (p *Proc) sweep() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := p.Leftovers()
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: processes %v survived SIGKILL", p.Name, left)
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Leftovers lists the live processes (not zombies) that carry this
// process's marker, the leader included while it runs.
func (p *Proc) Leftovers() []int {
	return findMarked(func(v string) bool { return v == p.marker })
}

// RunLeftovers lists the live processes that carry this run's marker.
func RunLeftovers() []int {
	prefix := ChildEnv + "=" + RunID + "."
	return findMarked(func(v string) bool { return strings.HasPrefix(v, prefix) })
}

// findMarked scans /proc for live processes with an environment entry
// matching match.
func findMarked(match func(string) bool) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || len(env) == 0 {
			continue // gone, a zombie, or not ours to read
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if match(string(kv)) {
				if !isZombie(pid) {
					out = append(out, pid)
				}
				break
			}
		}
	}
	return out
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// StopAll stops every process the harness started that is still running,
// in parallel, each with grace before SIGKILL, then kills any marked
// process of this run that is left.
func StopAll(grace time.Duration) error {
	procMu.Lock()
	all := append([]*Proc(nil), procs...)
	procMu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(all))
	for i, p := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Stop(grace)
		}()
	}
	wg.Wait()
	for _, pid := range RunLeftovers() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return errors.Join(errs...)
}

// withoutVar returns env without entries for name.
func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// CleanEnv returns the current environment without any variable that could
// point clawgate or a gateway at another gateway or config (OPENCLAW_*,
// CLAWDBOT_*, CLAWGATE_* except the run id), with the given entries added.
func CleanEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "OPENCLAW_"), strings.HasPrefix(k, "CLAWDBOT_"), strings.HasPrefix(k, "MOLTBOT_"):
			continue
		case strings.HasPrefix(k, "CLAWGATE_") && k != RunEnv:
			continue
		}
		out = append(out, kv)
	}
	return SetEnv(out, extra...)
}

// SetEnv returns env with each KEY=VALUE of kvs set, replacing earlier values.
func SetEnv(env []string, kvs ...string) []string {
	out := append([]string(nil), env...)
	for _, kv := range kvs {
		k, _, _ := strings.Cut(kv, "=")
		out = append(withoutVar(out, k), kv)
	}
	return out
}
