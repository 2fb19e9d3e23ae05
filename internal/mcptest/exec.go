package mcptest

import (
	"fmt"
	"os"
	"os/exec"
)

// Exec starts a server process: it connects cmd's stdin and stdout to a new
// client through OS pipes (cmd.Stderr and the rest are the caller's), calls
// start, which must start cmd (nil: cmd.Start; a caller that tracks its
// processes passes its own), and closes the child's ends of the pipes. The
// client closes its end of stdout once stdout has ended.
func Exec(cmd *exec.Cmd, start func() error, opts Options) (*Client, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	if start == nil {
		start = cmd.Start
	}
	err = start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return newClient(inW, outR, outR, opts), nil
}
