package gateway_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/leakcheck"
	"github.com/clawgate/clawgate/internal/testwait"
)

// Close stops a dial that is in flight, whatever stage the connect hangs
// at: the call waiting for it gets ErrClosed and every goroutine of the
// client ends, well before the connect timeout (a minute here) would have
// ended them. The gateway's side of the connection ends too, once the
// client has hung up. (Before the client had a lifetime context, three
// goroutines outlived Close until that timeout.)
func TestCloseStopsDialInFlight(t *testing.T) {
	for _, tc := range []struct {
		name string
		// start returns the URL of a gateway that hangs the dial, and a
		// condition that holds once the dial has reached the hang.
		start func(t *testing.T) (url string, inFlight func() bool)
	}{
		{
			name: "TCP accepted, no WebSocket upgrade",
			start: func(t *testing.T) (string, func() bool) {
				addr, accepted := acceptAndHold(t)
				return "ws://" + addr, func() bool { return accepted() > 0 }
			},
		},
		{
			name: "upgraded, no challenge",
			start: func(t *testing.T) (string, func() bool) {
				s := newFake(t, gatewaysim.Options{})
				s.SilentHandshake()
				return s.URL(), func() bool { return s.ConnCount() > 0 }
			},
		},
		{
			name: "challenge, connect never answered",
			start: func(t *testing.T) (string, func() bool) {
				s := newFake(t, gatewaysim.Options{})
				s.NoHelloReply()
				return s.URL(), func() bool { return len(s.Connects()) > 0 }
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, inFlight := tc.start(t)
			before := leakcheck.Take()
			o := gateway.Options{URL: url, Token: testToken, DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout}
			c, err := gateway.New(o)
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 1)
			go func() {
				_, err := c.Info(context.Background())
				errs <- err
			}()
			testwait.Until(t, "the dial reached the hang", inFlight)
			// What is left after Close ends at once (the gateway's side of
			// the connection too, once the client has hung up) unless the
			// dial outlives Close: only that makes this wait long.
			ctx, cancel := context.WithTimeout(context.Background(), testwait.WellBefore(o.DialTimeout))
			defer cancel()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := testwait.Recv(t, "Info's return after Close", errs); !errors.Is(err, gateway.ErrClosed) {
				t.Fatalf("Info after Close: %v, want ErrClosed", err)
			}
			if _, err := leakcheck.SettleGoroutines(ctx, before); err != nil {
				t.Fatalf("after Close: %v", err)
			}
		})
	}
}

// acceptAndHold listens on loopback, accepts connections and never reads
// from them or answers (a wedged listener, like faultproxy.Blackhole, but
// counting what it accepts); the connections are closed when the test
// ends. It returns the address and the number of connections accepted.
func acceptAndHold(t *testing.T) (string, func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}
