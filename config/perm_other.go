//go:build !unix

package config

import "io/fs"

// openNonblock is 0: only POSIX systems have FIFOs that block an open.
const openNonblock = 0

// ownerOf reports that ownership is not checked: Windows has ACLs, which
// clawgate does not inspect.
func ownerOf(fs.FileInfo) (uid int, ok bool) { return 0, false }
