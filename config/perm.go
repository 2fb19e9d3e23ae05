package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// currentUID returns the user whose files discovery trusts (with root's);
// tests replace it.
var currentUID = os.Geteuid

// trustChecker finds the files and directories on discovery's path that
// another local user could change (see "Permissions" in the package
// documentation). It remembers what it found for each directory, so that a
// directory shared by several files is checked and reported once.
type trustChecker struct {
	stateDir string            // the state directory, for its own fix
	dirs     map[string]string // directory -> problem ("" for none)
}

func newTrustChecker(stateDir string) *trustChecker {
	return &trustChecker{stateDir: filepath.Clean(stateDir), dirs: map[string]string{}}
}

// file returns what is wrong with the file at path, whose opened file
// info (fstat) is info, and with every directory on its way: the
// directories above path as written and above the path that its symbolic
// links resolve to. None means that only the current user and root can
// change what discovery read from it.
func (c *trustChecker) file(path string, info fs.FileInfo) []string {
	var problems []string
	if p := fileProblem(path, info); p != "" {
		problems = append(problems, p)
	}
	return append(problems, c.above(path)...)
}

// dir returns what is wrong with the directory at path (which exists) and
// with every directory above it.
func (c *trustChecker) dir(path string) []string {
	var problems []string
	if p := c.dirProblem(filepath.Clean(path)); p != "" {
		problems = append(problems, p)
	}
	return append(problems, c.above(path)...)
}

// above checks the directories above path, as written and as resolved.
func (c *trustChecker) above(path string) []string {
	var problems []string
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	chains := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		chains = append(chains, real)
	}
	for _, p := range chains {
		for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
			if problem := c.dirProblem(dir); problem != "" {
				problems = append(problems, problem)
			}
			if parent := filepath.Dir(dir); parent == dir {
				break
			}
		}
	}
	return problems
}

// dirProblem checks one directory (following a symbolic link to it).
func (c *trustChecker) dirProblem(dir string) string {
	if p, ok := c.dirs[dir]; ok {
		return p
	}
	p := ""
	if info, err := os.Stat(dir); err == nil {
		name, fix := "the directory "+dir, "chmod go-w "+shellQuote(dir)
		if dir == c.stateDir {
			name, fix = "the state directory "+dir, "chmod 700 "+shellQuote(dir)
		}
		p = permProblem(name, dir, info, fix, true)
	}
	c.dirs[dir] = p
	return p
}

// fileProblem checks a file read by discovery.
func fileProblem(path string, info fs.FileInfo) string {
	return permProblem(path, path, info, "chmod 600 "+shellQuote(path), false)
}

// permProblem says why another local user could change the file or
// directory path, named name in the message, or returns "": it is
// writable by its group or by others (for a directory: without the sticky
// bit, which stops users from replacing each other's files, as in /tmp),
// or it is owned by someone other than the current user and root. chmod
// is the command that removes the write access.
func permProblem(name, path string, info fs.FileInfo, chmod string, isDir bool) string {
	uid, known := ownerOf(info)
	if !known {
		return "" // not a POSIX system: not checked
	}
	me := currentUID()
	var problems, fixes []string
	if uid != 0 && uid != me {
		problems = append(problems, fmt.Sprintf("is owned by uid %d, not by you (uid %d) or root", uid, me))
		fixes = append(fixes, fmt.Sprintf("make it yours (sudo chown %d %s) or use one of your own", me, shellQuote(path)))
	}
	mode := info.Mode()
	if w := mode.Perm() & 0o022; w != 0 && (!isDir || mode&fs.ModeSticky == 0) {
		who := map[fs.FileMode]string{0o020: "group-writable", 0o002: "world-writable", 0o022: "group- and world-writable"}[w]
		s := fmt.Sprintf("is %s (mode %04o)", who, mode.Perm())
		if isDir {
			s += " without the sticky bit"
		}
		problems = append(problems, s)
		fixes = append(fixes, chmod)
	}
	if len(problems) == 0 {
		return ""
	}
	what := "change it, e.g. point the gateway URL at a listener of their own to receive your token"
	if isDir {
		what = "replace the files that clawgate reads from it"
	}
	return fmt.Sprintf("%s %s: another local user could %s; fix: %s",
		name, strings.Join(problems, " and "), what, strings.Join(fixes, ", then "))
}

// shellQuote quotes p for a shell command line when it needs quoting.
func shellQuote(p string) string {
	safe := p != ""
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./,:=@%+-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
