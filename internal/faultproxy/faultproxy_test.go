package faultproxy

import (
	"bufio"
	"errors"
	"flag"
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
	if got, err := roundTrip(t, c, "pass", patience()); err != nil || got != "pass\n" {
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
	if _, err := roundTrip(t, c, "dropped", patience()); err == nil || (errors.As(err, &ne) && ne.Timeout()) {
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
	if got, err := roundTrip(t, c2, "again", patience()); err != nil || got != "again\n" {
		t.Fatalf("after Heal: %q %v", got, err)
	}
}

// binaryStart is about when this test binary started; with go test's
// -timeout it gives the binary's deadline.
var binaryStart = time.Now()

// patience bounds a wait for bytes that come unless the proxy is broken.
// Such a bound only matters when something is broken, so it is not a guess
// at how fast the machine is: it is most of what is left of the test
// binary's deadline (go test -timeout), leaving a tenth to report the
// failure.
func patience() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return time.Hour
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return time.Hour
	}
	d, _ := g.Get().(time.Duration)
	if d <= 0 {
		return 24 * time.Hour // -timeout 0: no deadline asked for
	}
	return max(time.Until(binaryStart.Add(d))*9/10, time.Second)
}
