package config

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/testwait"
)

// TestDiscoverContext: discovery stops when its context ends, before it
// starts and while a file system call hangs (SIGTERM during discovery
// used to wait for a .env FIFO for ten minutes; issue 10, item 5).
func TestDiscoverContext(t *testing.T) {
	home := newHome(t, map[string]string{ocConfig: `{gateway: {port: 4444}}`, ".openclaw/.env": "A=1\n"})

	t.Run("a context that has ended", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s, err := DiscoverContext(ctx, Overrides{}, MapEnv{}, home)
		if s != nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped before the gateway settings were found") {
			t.Fatalf("got %v, %v; want a context.Canceled error", s, err)
		}
	})

	t.Run("cancelled while a read hangs", func(t *testing.T) {
		entered, release := make(chan string, 1), make(chan struct{})
		readHook = func(path string) {
			entered <- path
			<-release
		}
		t.Cleanup(func() { close(release); readHook = nil })

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		type result struct {
			s   *Settings
			err error
		}
		done := make(chan result, 1)
		go func() {
			s, err := DiscoverContext(ctx, Overrides{}, MapEnv{}, home)
			done <- result{s, err}
		}()
		if p := testwait.Recv(t, "the first file read", entered); p != filepath.Join(home, ".openclaw/.env") {
			t.Errorf("first read %s, want the .env", p)
		}
		cancel()
		r := testwait.Recv(t, "DiscoverContext to return after the cancel", done)
		if r.s != nil || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("got %v, %v; want a context.Canceled error", r.s, r.err)
		}
	})

	t.Run("a live context changes nothing", func(t *testing.T) {
		s, err := DiscoverContext(testwait.Ctx(t), Overrides{}, MapEnv{}, home)
		if err != nil || s.URL.Value != "ws://127.0.0.1:4444" {
			t.Fatalf("got %v, %v", s, err)
		}
	})
}
