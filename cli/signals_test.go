package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/clawgate/clawgate/cli"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
)

// A FIFO where the .env file should be used to hang doctor for minutes: it
// is refused with a warning and doctor goes on.
func TestDoctorWithAFIFOForDotenv(t *testing.T) {
	g := fake(t, gatewaysim.OpenClaw)
	home := t.TempDir()
	state := filepath.Join(home, ".openclaw")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(state, ".env"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	cmd := exec.Command(binary(t), "doctor")
	cmd.Env = []string{"HOME=" + home, "OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secret}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	err := testwait.Recv(t, "doctor to finish", done)
	if err != nil || !strings.Contains(out.String(), "named pipe") || !strings.Contains(out.String(), "Healthy") {
		t.Fatalf("doctor: %v\n%s", err, out.String())
	}
}

// SIGTERM while doctor or call waits for a wedged gateway ends the command
// promptly with 130, not after the connect timeout.
func TestSIGTERMWhileConnecting(t *testing.T) {
	for _, args := range [][]string{{"doctor"}, {"call", "list_sessions"}} {
		g := fake(t, gatewaysim.OpenClaw)
		g.NoHelloReply()
		cmd := exec.Command(binary(t), args...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "OPENCLAW_GATEWAY_URL=" + g.URL(), "OPENCLAW_GATEWAY_TOKEN=" + secret, "CLAWGATE_CONNECT_TIMEOUT=1h"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := g.WaitConnects(testwait.Ctx(t), 1); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		_ = testwait.Recv(t, "exit after SIGTERM", done)
		if code := cmd.ProcessState.ExitCode(); code != cli.ExitInterrupt {
			t.Errorf("%v: exit %d after SIGTERM, want %d\n%s", args, code, cli.ExitInterrupt, out.String())
		}
	}
}

// A client that closes clawgate's stdout while a run is in flight: the next
// write fails (SIGPIPE is ignored), and clawgate stops as on EOF, aborting
// the run, instead of being killed by SIGPIPE with the run left going.
func TestClosedStdoutStopsLikeEOF(t *testing.T) {
	g, s := startWithRun(t, 2, "[[delay=60]] closed")
	if err := s.c.CloseStdout(); err != nil {
		t.Fatal(err)
	}
	s.send(`{"jsonrpc":"2.0","id":3,"method":"ping"}`) // its answer hits the closed pipe
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	err := testwait.Recv(t, "exit after stdout closed", done)
	if err != nil {
		t.Fatalf("exit: %v (a SIGPIPE death is 'signal: broken pipe')\n%s", err, s.stderr)
	}
	gatewaywait.OnlyRunAborted(t, g)
}
