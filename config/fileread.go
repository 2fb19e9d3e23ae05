package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// notRegularError says that a path discovery would read is not a regular
// file: a FIFO (which blocks the reader until someone writes), a device
// such as /dev/zero (which never ends), a socket or a directory.
type notRegularError struct {
	what string // how the message names the file, e.g. "config file /x"
	kind string // e.g. "a named pipe (FIFO)"
}

func (e *notRegularError) Error() string {
	return e.what + " is " + e.kind + ", not a regular file"
}

// tooLargeError says that a file is larger than the most discovery reads
// from it.
type tooLargeError struct {
	what  string
	limit int64
}

func (e *tooLargeError) Error() string {
	return e.what + " is larger than " + sizeString(e.limit)
}

// fileKind names the kind of a file that is not regular.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}

// readHook, if set, is called before each file is read. Tests set it to
// stand for a file system call that hangs (a stale network mount).
var readHook func(path string)

// readChunk is how much readRegular reads at a time between checks of its
// context.
const readChunk = 64 << 10

// readRegular reads the regular file at path (following symbolic links),
// at most limit bytes, and returns its content and what fstat says about
// the file it opened. what names the file in errors.
//
// It never blocks on a FIFO and never reads a device: it refuses a path
// that is not a regular file before opening it (Stat), opens with
// O_NONBLOCK (so that a FIFO swapped in after the check does not block the
// open), and checks the opened file again (fstat: a regular file, the
// same one). It refuses a file larger than limit before reading it, and
// stops reading one that grows past it. It checks ctx before opening and
// between chunks.
func readRegular(ctx context.Context, path, what string, limit int64) ([]byte, fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if readHook != nil {
		readHook(path)
	}
	before, err := os.Stat(path)
	if err != nil {
		return nil, nil, statError(what, err)
	}
	if !before.Mode().IsRegular() {
		return nil, nil, &notRegularError{what, fileKind(before.Mode())}
	}
	if before.Size() > limit {
		return nil, nil, &tooLargeError{what, limit}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, nil, statError(what, err)
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("cannot read %s: %w", what, err)
	case !info.Mode().IsRegular():
		return nil, nil, &notRegularError{what, fileKind(info.Mode())}
	case !os.SameFile(before, info):
		return nil, nil, fmt.Errorf("%s was replaced while clawgate opened it; try again", what)
	case info.Size() > limit:
		return nil, nil, &tooLargeError{what, limit}
	}
	data := make([]byte, 0, min(info.Size(), limit)+1)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := f.Read(data[len(data):min(cap(data), len(data)+readChunk)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, nil, &tooLargeError{what, limit}
		}
		if errors.Is(err, io.EOF) {
			return data, info, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read %s: %w", what, err)
		}
	}
}

// statError describes a failure to stat or open a file; errors.Is still
// finds fs.ErrNotExist in it.
func statError(what string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &messageError{what + " does not exist", err}
	}
	return fmt.Errorf("cannot read %s: %w", what, err)
}

// messageError is an error with its own message that still unwraps to the
// error it replaces.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.err }
