package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// mcpProc is a clawgate process driven over its stdin/stdout the way an MCP
// client drives it: newline-delimited JSON-RPC 2.0. Like rawClient it has no
// background goroutine: requests are written and their responses read on the
// caller's goroutine, skipping notifications; each response line is decoded
// once with encoding/json. clawgate's stderr (its log) goes to a file.
type mcpProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	nextID int
	logf   *os.File
	done   chan struct{} // closed when the process has been waited for
	err    error         // Wait's result, valid after done
}

// rpcResponse is a JSON-RPC message from clawgate, decoded far enough to
// match it to its request and tell success from failure.
type rpcResponse struct {
	ID     *int64 `json:"id"`
	Method string `json:"method"`
	Result *struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		ServerInfo *struct {
			Version string `json:"version"`
		} `json:"serverInfo"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// err is the failure the response reports: a JSON-RPC error or a tool error.
func (r *rpcResponse) err() error {
	switch {
	case r.Error != nil:
		return fmt.Errorf("JSON-RPC error %d: %s", r.Error.Code, r.Error.Message)
	case r.Result == nil:
		return errors.New("response without result")
	case r.Result.IsError:
		var texts []string
		for _, c := range r.Result.Content {
			texts = append(texts, c.Text)
		}
		return fmt.Errorf("tool error: %s", strings.Join(texts, " "))
	}
	return nil
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
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &mcpProc{cmd: cmd, stdin: stdin, out: bufio.NewReaderSize(stdout, 64<<10), logf: logf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process id.
func (p *mcpProc) pid() int { return p.cmd.Process.Pid }

// send writes one request and returns its id.
func (p *mcpProc) send(method string, params any) (int64, error) {
	p.nextID++
	id := int64(p.nextID)
	line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return 0, err
	}
	_, err = p.stdin.Write(append(line, '\n'))
	return id, err
}

// notify writes one notification.
func (p *mcpProc) notify(method string, params any) error {
	line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
	if err != nil {
		return err
	}
	_, err = p.stdin.Write(append(line, '\n'))
	return err
}

// next reads the next response, skipping notifications (lines with a
// method and no id).
func (p *mcpProc) next() (*rpcResponse, error) {
	for {
		line, err := p.out.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("reading clawgate's stdout: %w (see %s)", err, p.logf.Name())
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var r rpcResponse
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("clawgate wrote a line that is not JSON-RPC: %.200q", line)
		}
		if r.ID == nil {
			continue
		}
		return &r, nil
	}
}

// await reads responses until the one with id.
func (p *mcpProc) await(id int64) (*rpcResponse, error) {
	for {
		r, err := p.next()
		if err != nil {
			return nil, err
		}
		if *r.ID == id {
			return r, r.err()
		}
	}
}

// request sends one request and waits for its response.
func (p *mcpProc) request(method string, params any) (*rpcResponse, error) {
	id, err := p.send(method, params)
	if err != nil {
		return nil, err
	}
	return p.await(id)
}

// initialize runs the MCP handshake (initialize, notifications/initialized)
// and returns the server's version.
func (p *mcpProc) initialize() (string, error) {
	r, err := p.request("initialize", initializeParams)
	if err != nil {
		return "", fmt.Errorf("initialize: %w", err)
	}
	if err := p.notify("notifications/initialized", map[string]any{}); err != nil {
		return "", err
	}
	if r.Result.ServerInfo == nil {
		return "", nil
	}
	return r.Result.ServerInfo.Version, nil
}

// initializeParams are the params of the initialize request.
var initializeParams = map[string]any{
	"protocolVersion": "2025-06-18",
	"capabilities":    map[string]any{},
	"clientInfo":      map[string]any{"name": "sidebyside", "version": "dev"},
}

// callTool calls one tool and waits for its result; a tool error is an
// error.
func (p *mcpProc) callTool(name string, args any) error {
	_, err := p.request("tools/call", map[string]any{"name": name, "arguments": args})
	return err
}

// callTools writes k tools/call requests back to back (each its own write),
// then reads until all k responses have arrived. All must succeed.
func (p *mcpProc) callTools(k int, name string, args any) error {
	want := make(map[int64]bool, k)
	for range k {
		id, err := p.send("tools/call", map[string]any{"name": name, "arguments": args})
		if err != nil {
			return err
		}
		want[id] = true
	}
	for len(want) > 0 {
		r, err := p.next()
		if err != nil {
			return err
		}
		if !want[*r.ID] {
			continue
		}
		if err := r.err(); err != nil {
			return err
		}
		delete(want, *r.ID)
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
	_ = p.stdin.Close()
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

// release closes the log file and drops the read buffer, so that the
// measuring process's heap does not grow with every process it started.
// The process must have exited and nothing may read from it any more.
func (p *mcpProc) release() {
	p.logf.Close()
	p.out = nil
}
