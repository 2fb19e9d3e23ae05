package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/testwait"
)

// echoServer echoes lines until the connection closes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn, msg string, within time.Duration) (string, error) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(within))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return line, err
}

func TestModes(t *testing.T) {
	p := New(echoServer(t))
	defer p.Close()

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(t, c, "pass", testwait.Patience()); err != nil || got != "pass\n" {
		t.Fatalf("pass: %q %v", got, err)
	}

	// Nothing comes back through a frozen or blackholed connection: a
	// window to catch bytes that should not come, which cannot fail a
	// correct proxy, however slow the machine.
	p.SetMode(Freeze)
	if _, err := roundTrip(t, c, "frozen", 200*time.Millisecond); err == nil {
		t.Fatal("frozen connection forwarded bytes")
	}

	p.Heal()
	var ne net.Error
	if _, err := roundTrip(t, c, "dropped", testwait.Patience()); err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("Heal did not drop the frozen connection: %v", err)
	}

	p.SetMode(Blackhole)
	b, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := roundTrip(t, b, "void", 200*time.Millisecond); err == nil {
		t.Fatal("blackholed connection answered")
	}

	p.Heal()
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got, err := roundTrip(t, c2, "again", testwait.Patience()); err != nil || got != "again\n" {
		t.Fatalf("after Heal: %q %v", got, err)
	}
}
