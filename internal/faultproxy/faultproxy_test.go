package faultproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
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
	if got, err := roundTrip(t, c, "pass", time.Second); err != nil || got != "pass\n" {
		t.Fatalf("pass: %q %v", got, err)
	}

	p.SetMode(Freeze)
	if _, err := roundTrip(t, c, "frozen", 200*time.Millisecond); err == nil {
		t.Fatal("frozen connection forwarded bytes")
	}

	p.Heal()
	if _, err := roundTrip(t, c, "dropped", time.Second); err == nil {
		t.Fatal("Heal did not drop the frozen connection")
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
	if got, err := roundTrip(t, c2, "again", time.Second); err != nil || got != "again\n" {
		t.Fatalf("after Heal: %q %v", got, err)
	}
}
