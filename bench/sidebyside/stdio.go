package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clawgate/clawgate/internal/mcptest"
)

// mcpProc is a clawgate process driven over its stdin/stdout the way an MCP
// client drives it: newline-delimited JSON-RPC 2.0, with the shared raw
// stdio client (internal/mcptest). The client reads stdout on a goroutine of
// its own and checks each line only as far as its envelope (Trusted), so
// that its cost per call does not grow with the reply; a tool call's result
// is decoded once, for isError and the error text. clawgate's stderr (its
// log) goes to a file.
type mcpProc struct {
	cmd  *exec.Cmd
	c    *mcptest.Client
	logf *os.File
	done chan struct{} // closed when the process has been waited for
	err  error         // Wait's result, valid after done
}

// toolResult is the part of a tools/call result that tells success from
// failure.
type toolResult struct {
	IsError bool `json:"isError"`
	Content []struct {
		Text string `json:"text"`
	} `json:"content"`
}

// toolError is the failure a tools/call result reports, if any.
func toolError(raw json.RawMessage) error {
	var r toolResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("decode tool result: %w", err)
	}
	if !r.IsError {
		return nil
	}
	var texts []string
	for _, c := range r.Content {
		texts = append(texts, c.Text)
	}
	return fmt.Errorf("tool error: %s", strings.Join(texts, " "))
}

// startMCP starts bin with args and env (added to this process's
// environment). The child is killed if this process dies (Pdeathsig) and
// runs in its own process group.
func startMCP(bin string, args, env []string, logPath string) (*mcpProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c, err := mcptest.Exec(cmd, nil, mcptest.Options{Trusted: true, ClientName: "sidebyside",
		Ended: func() string { return "see " + logf.Name() }})
	if err != nil {
		logf.Close()
		return nil, err
	}
	p := &mcpProc{cmd: cmd, c: c, logf: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id.
func (p *mcpProc) pid() int { return p.cmd.Process.Pid }

// send writes one request and returns it, for await.
func (p *mcpProc) send(method string, params any) (*mcptest.Call, error) {
	return p.c.Go(method, params)
}

// await waits for the response to call; a JSON-RPC error or a tool error
// is an error.
func (p *mcpProc) await(call *mcptest.Call) (json.RawMessage, error) {
	res, err := p.c.Wait(context.Background(), call)
	if err != nil {
		return nil, err
	}
	if call.Method == "tools/call" {
		return res, toolError(res)
	}
	return res, nil
}

// request sends one request and waits for its response.
func (p *mcpProc) request(method string, params any) (json.RawMessage, error) {
	call, err := p.send(method, params)
	if err != nil {
		return nil, err
	}
	return p.await(call)
}

// initialize runs the MCP handshake (initialize, notifications/initialized)
// and returns the server's version.
func (p *mcpProc) initialize() (string, error) {
	res, err := p.c.Initialize(context.Background())
	if err != nil {
		return "", fmt.Errorf("initialize: %w", err)
	}
	return res.ServerInfo.Version, nil
}

// callTool calls one tool and waits for its result; a tool error is an
// error.
func (p *mcpProc) callTool(name string, args any) error {
	_, err := p.request("tools/call", map[string]any{"name": name, "arguments": args})
	return err
}

// callTools sends k tools/call requests back to back (each its own write),
// then waits until all k responses have arrived. All must succeed.
func (p *mcpProc) callTools(k int, name string, args any) error {
	calls := make([]*mcptest.Call, k)
	for i := range calls {
		var err error
		if calls[i], err = p.send("tools/call", map[string]any{"name": name, "arguments": args}); err != nil {
			return err
		}
	}
	for _, call := range calls {
		if _, err := p.await(call); err != nil {
			return err
		}
	}
	return nil
}

// status reads the given fields (e.g. VmRSS) of /proc/<pid>/status.
func (p *mcpProc) status(fields ...string) (map[string]string, error) {
	return procStatus(p.pid(), fields...)
}

// cpu is the CPU time (user + system) the process has used so far, from
// /proc/<pid>/stat, in clock ticks of 10 ms.
func (p *mcpProc) cpu() (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid()) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain blanks: count from after it.
	_, rest, ok := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", p.pid())
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// procStatus reads fields of /proc/<pid>/status, values without the unit.
func procStatus(pid int, fields ...string) (map[string]string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if k == f {
				out[k] = strings.TrimSuffix(strings.TrimSpace(v), " kB")
			}
		}
	}
	return out, nil
}

// stop closes stdin (clawgate's signal to exit), waits up to grace, then
// kills the process group. It returns how long the exit took.
func (p *mcpProc) stop(grace time.Duration) time.Duration {
	start := time.Now()
	if p.c != nil { // not released by an earlier stop
		_ = p.c.CloseStdin()
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
	took := time.Since(start)
	p.release()
	return took
}

// kill ends the process group at once and waits for the process (cleanup
// after a failure).
func (p *mcpProc) kill() {
	p.signalKill()
	<-p.done
	p.release()
}

// signalKill sends SIGKILL to the process group unless the process has
// already been waited for.
func (p *mcpProc) signalKill() {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	}
}

// release closes the log file and drops the client once it has read
// everything, so that the measuring process's heap does not grow with every
// process it started. The process must have exited and nothing may read
// from it any more.
func (p *mcpProc) release() {
	p.logf.Close()
	if p.c == nil {
		return
	}
	<-p.c.Done()
	_ = p.c.CloseStdin()
	p.c = nil
}
