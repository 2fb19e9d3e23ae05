package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/clawgate/clawgate/tools"
)

// Every command returns an error, and exitCode alone turns it into what the
// user sees on stderr and the exit code:
//
//	nil                 a clean end (serve ending at EOF or on a signal)  0
//	*usageError         a mistake on the command line                     2
//	*interruptedError   a signal (Ctrl-C) cut the command short           130
//	any other error     the command failed                                1
//
// The message is printed as "clawgate: <error>", a gateway error with its
// advice (tools.Explain), unless the command has already shown it
// (shownError: doctor reports on stdout).

// usageError is a mistake on the command line: exit code 2.
type usageError struct {
	msg string // what is wrong, printed as "clawgate: msg"; "" for none
	// more is printed on the line after msg: where to read how to do it
	// right ("Run 'clawgate -h' for usage."), or the usage itself; "" for
	// nothing.
	more string
}

func (e *usageError) Error() string {
	if e.msg == "" {
		return e.more
	}
	return e.msg
}

// usagef is a usage error about cmd (nil: the command line as a whole),
// pointing at cmd's help or the overview.
func usagef(cmd *command, format string, args ...any) error {
	more := "Run 'clawgate -h' for usage."
	if cmd != nil {
		more = fmt.Sprintf("Run 'clawgate %s -h' for its usage.", cmd.name)
	}
	return &usageError{msg: fmt.Sprintf(format, args...), more: more}
}

// interruptedError is a command cut short by a signal: exit code 130. Its
// message says what was cut short ("ask_subagent: interrupted").
type interruptedError struct{ msg string }

func (e *interruptedError) Error() string { return e.msg }

func interrupted(format string, args ...any) error {
	return &interruptedError{msg: fmt.Sprintf(format, args...)}
}

// shownError is an error the command has already reported to the user:
// exitCode gives it its exit code but prints nothing.
type shownError struct{ err error }

func (e shownError) Error() string { return e.err.Error() }
func (e shownError) Unwrap() error { return e.err }

// exitCode prints err on stderr (unless it is a shownError) and returns its
// exit code; see the table above.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	var (
		usage *usageError
		intr  *interruptedError
		shown shownError
	)
	isUsage := errors.As(err, &usage)
	if !errors.As(err, &shown) {
		if isUsage {
			if usage.msg != "" {
				fmt.Fprintln(stderr, "clawgate:", err)
			}
			if usage.more != "" {
				fmt.Fprintln(stderr, usage.more)
			}
		} else {
			fmt.Fprintln(stderr, "clawgate:", tools.Explain(err))
		}
	}
	switch {
	case isUsage:
		return ExitUsage
	case errors.As(err, &intr):
		return ExitInterrupt
	}
	return ExitFailure
}
