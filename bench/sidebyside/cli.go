package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// runCLI runs one `<cli> gateway call sessions.list --json --params
// '{"limit":N}'`, the command an agent would otherwise shell out to, and
// checks that it printed a sessions list. It returns the wall time and the
// peak RSS of the process (kB, from rusage; for a node CLI that is the node
// process).
func runCLI(ctx context.Context, argv, env []string, limit int) (time.Duration, int64, error) {
	args := append(append([]string{}, argv[1:]...), "gateway", "call", "sessions.list", "--json",
		"--params", fmt.Sprintf(`{"limit":%d}`, limit))
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	// A CLI may leave children behind; its process group goes with it.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		return took, 0, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, tailOf(stderr.String(), 300))
	}
	var out struct {
		Sessions []json.RawMessage `json:"sessions"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Sessions == nil {
		return took, 0, fmt.Errorf("the CLI did not print a sessions list: %s", tailOf(stdout.String()+stderr.String(), 300))
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return took, rss, nil
}

func tailOf(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// splitCommand splits a command line into words like a POSIX shell would for
// the simple cases: blanks separate words, single quotes keep everything
// literal, double quotes keep blanks, backslash escapes the next character
// outside single quotes. Nothing is expanded.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped, inWord = true, true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, errors.New("unterminated quote or escape")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
