//go:build unix

package config

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/clawgate/clawgate/internal/testwait"
)

// discoverResult is what one Discover call returned.
type discoverResult struct {
	s   *Settings
	err error
}

// discoverAsync runs Discover in a goroutine and waits for it at most
// Patience: a FIFO that blocks discovery fails the test instead of hanging
// it.
func discoverAsync(t *testing.T, o Overrides, env Env, home string) discoverResult {
	t.Helper()
	done := make(chan discoverResult, 1)
	go func() {
		s, err := Discover(o, env, home)
		done <- discoverResult{s, err}
	}()
	return testwait.Recv(t, "Discover to return", done)
}

// TestNonRegularFilesAreRefused: a FIFO, device, socket or directory where
// discovery expects a file is refused at once with an error (config files)
// or a warning (.env) naming the path, instead of blocking or reading
// forever (issue 10, item 5).
func TestNonRegularFilesAreRefused(t *testing.T) {
	mkfifo := func(t *testing.T, p string) {
		t.Helper()
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	symlink := func(t *testing.T, target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	socket := func(t *testing.T, p string) {
		t.Helper()
		l, err := net.Listen("unix", p)
		if err != nil {
			t.Skipf("unix socket: %v", err)
		}
		t.Cleanup(func() { _ = l.Close() })
	}
	tests := []struct {
		name  string
		files map[string]string
		setup func(t *testing.T, home string)
		o     Overrides
		env   map[string]string
		err   []string // Discover fails with all of these ("$HOME" replaced)
		warn  []string // or succeeds with these warnings
	}{
		{
			name:  ".env is a FIFO",
			files: map[string]string{".openclaw/": ""},
			setup: func(t *testing.T, home string) { mkfifo(t, filepath.Join(home, ".openclaw/.env")) },
			warn:  []string{"$HOME/.openclaw/.env is a named pipe (FIFO), not a regular file; ignoring it"},
		},
		{
			name:  ".env is a symlink to a FIFO",
			files: map[string]string{".openclaw/": ""},
			setup: func(t *testing.T, home string) {
				mkfifo(t, filepath.Join(home, "fifo"))
				symlink(t, filepath.Join(home, "fifo"), filepath.Join(home, ".openclaw/.env"))
			},
			warn: []string{"$HOME/.openclaw/.env is a named pipe (FIFO), not a regular file"},
		},
		{
			name:  ".env is /dev/zero",
			files: map[string]string{".openclaw/": ""},
			setup: func(t *testing.T, home string) { symlink(t, "/dev/zero", filepath.Join(home, ".openclaw/.env")) },
			warn:  []string{"$HOME/.openclaw/.env is a character device, not a regular file; ignoring it"},
		},
		{
			name:  ".env is a socket",
			files: map[string]string{"s/": ""},
			setup: func(t *testing.T, home string) { socket(t, filepath.Join(home, "s/.env")) },
			env:   map[string]string{"OPENCLAW_STATE_DIR": "$HOME/s"},
			warn:  []string{"$HOME/s/.env is a socket, not a regular file"},
		},
		{
			name:  ".env is a directory",
			files: map[string]string{".openclaw/.env/": ""},
			warn:  []string{"$HOME/.openclaw/.env is a directory, not a regular file"},
		},
		{
			name:  "the config file found in the state directory is a FIFO",
			files: map[string]string{".openclaw/": ""},
			setup: func(t *testing.T, home string) { mkfifo(t, filepath.Join(home, ocConfig)) },
			err:   []string{"$HOME/.openclaw/openclaw.json is a named pipe (FIFO), not a regular file", "regular file"},
		},
		{
			name: "--config /dev/zero",
			o:    Overrides{ConfigPath: "/dev/zero"},
			err:  []string{"config file /dev/zero (from flag --config) is a character device, not a regular file"},
		},
		{
			name:  "OPENCLAW_CONFIG_PATH names a FIFO",
			setup: func(t *testing.T, home string) { mkfifo(t, filepath.Join(home, "cfg")) },
			env:   map[string]string{"OPENCLAW_CONFIG_PATH": "$HOME/cfg"},
			err:   []string{"config file $HOME/cfg (from env OPENCLAW_CONFIG_PATH) is a named pipe (FIFO)"},
		},
		{
			name:  "$include of /dev/zero",
			files: map[string]string{ocConfig: `{$include: '/dev/zero'}`},
			err:   []string{"$HOME/.openclaw/openclaw.json: $include \"/dev/zero\": /dev/zero is a character device, not a regular file"},
		},
		{
			name:  "$include of a FIFO",
			files: map[string]string{ocConfig: `{gateway: {$include: './fifo'}}`},
			setup: func(t *testing.T, home string) { mkfifo(t, filepath.Join(home, ".openclaw/fifo")) },
			err:   []string{"$include \"./fifo\": $HOME/.openclaw/fifo is a named pipe (FIFO), not a regular file"},
		},
		{
			name:  "$include of a directory",
			files: map[string]string{ocConfig: `{$include: './parts'}`, ".openclaw/parts/": ""},
			err:   []string{"$include \"./parts\": $HOME/.openclaw/parts is a directory, not a regular file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := newHome(t, tt.files)
			sub := func(s string) string { return strings.ReplaceAll(s, "$HOME", home) }
			if tt.setup != nil {
				tt.setup(t, home)
			}
			env := MapEnv{}
			for k, v := range tt.env {
				env[k] = sub(v)
			}
			o := tt.o
			o.ConfigPath = sub(o.ConfigPath)
			r := discoverAsync(t, o, env, home)
			if len(tt.err) > 0 {
				if r.err == nil {
					t.Fatalf("Discover succeeded, want an error; warnings: %q", r.s.Warnings)
				}
				for _, want := range tt.err {
					if !strings.Contains(r.err.Error(), sub(want)) {
						t.Errorf("error %q does not contain %q", r.err, sub(want))
					}
				}
				return
			}
			if r.err != nil {
				t.Fatalf("Discover: %v", r.err)
			}
			for _, want := range tt.warn {
				if !hasWarning(r.s, sub(want)) {
					t.Errorf("no warning contains %q; warnings:\n  %s", sub(want), strings.Join(r.s.Warnings, "\n  "))
				}
			}
		})
	}
}
