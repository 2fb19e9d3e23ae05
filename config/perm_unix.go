//go:build unix

package config

import (
	"io/fs"
	"syscall"
)

// openNonblock makes opening a FIFO return at once instead of waiting for
// a writer.
const openNonblock = syscall.O_NONBLOCK

// ownerOf returns the uid that owns the file described by info.
func ownerOf(info fs.FileInfo) (uid int, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
