package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/clawgate/clawgate/gateway"
)

// DefaultPort is the gateway port when nothing else is configured.
const DefaultPort = 18789

// devProfilePort is the port implied by OPENCLAW_PROFILE=dev.
const devProfilePort = 19001

// Overrides are explicit options (command-line flags) that win over
// everything else. Empty fields are ignored.
type Overrides struct {
	URL        string // --url
	Token      string // --token
	Password   string // --password
	ConfigPath string // --config
}

var (
	openclawSignals = []string{
		"OPENCLAW_GATEWAY_URL", "OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PORT",
		"OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOME", "OPENCLAW_PROFILE",
	}
	clawdbotSignals = []string{
		"CLAWDBOT_GATEWAY_TOKEN", "CLAWDBOT_GATEWAY_PASSWORD", "CLAWDBOT_GATEWAY_PORT",
		"CLAWDBOT_STATE_DIR", "CLAWDBOT_CONFIG_PATH",
	}
	profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
)

// Discover is DiscoverContext without a context: it cannot be stopped.
func Discover(o Overrides, env Env, home string) (*Settings, error) {
	return DiscoverContext(context.Background(), o, env, home)
}

// DiscoverContext finds the gateway URL and credentials the way the user's
// CLI does; see the package documentation for the rules. env is the
// environment (nil means empty; use OSEnv{} for the real one) and home the
// user's home directory ("" means os.UserHomeDir()).
//
// It fails only when something the user named explicitly is wrong (a
// config file that does not exist, an unparsable config, an invalid URL),
// when the config breaks a limit (see "Limits"), or when the clawdbot
// rules say the config cannot be loaded; everything else becomes a
// Warning.
//
// It returns as soon as ctx is done, with an error that wraps ctx.Err(),
// even when a file system call hangs (a stale network mount): discovery
// runs in its own goroutine, which stops at its next step. It never blocks
// on a FIFO or reads a device (see "Files").
func DiscoverContext(ctx context.Context, o Overrides, env Env, home string) (*Settings, error) {
	if err := ctx.Err(); err != nil {
		return nil, stoppedError(err)
	}
	if env == nil {
		env = MapEnv(nil)
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("config: find home directory: %w", err)
		}
		home = h
	}
	type result struct {
		s   *Settings
		err error
	}
	done := make(chan result, 1)
	go func() {
		d := &discovery{ctx: ctx, o: o, env: env, home: home, s: &Settings{}, untrusted: map[string]bool{}}
		if err := d.run(); err != nil {
			done <- result{nil, err}
			return
		}
		done <- result{d.s, nil}
	}()
	select {
	case r := <-done:
		switch {
		case r.err == nil:
			return r.s, nil
		case ctx.Err() != nil && errors.Is(r.err, ctx.Err()):
			return nil, stoppedError(r.err)
		}
		return nil, fmt.Errorf("config: %w", r.err)
	case <-ctx.Done():
		return nil, stoppedError(ctx.Err())
	}
}

// stoppedError is DiscoverContext's error when its context ended first.
func stoppedError(err error) error {
	return fmt.Errorf("config: stopped before the gateway settings were found: %w", err)
}

// discovery holds the state of one Discover call.
type discovery struct {
	ctx  context.Context
	o    Overrides
	env  Env
	home string // the real home directory
	s    *Settings

	ocHome     string              // $OPENCLAW_HOME or home: what ~ means
	profile    string              // OPENCLAW_PROFILE ("" for none/default)
	dotenv     map[string]string   // <stateDir>/.env
	cfg        map[string]any      // the resolved config tree (never nil)
	via        map[string][]string // key path -> origins of its ${VAR}s
	unresolved map[string]bool     // key paths with an unset ${VAR} left in
	urlFrom    string              // Source of an explicit URL (flag or env), else ""
	envPrefix  string              // "OPENCLAW_" or "CLAWDBOT_" for hints
	stateDirBy string              // the env var that chose the state dir, if any
	configBy   string              // the Source that named the config file explicitly, if any

	trust     *trustChecker   // permission checks, once the state dir is known
	untrusted map[string]bool // files another local user could change: the config (for it and its includes) and the .env
	urlFiles  []string        // the files that the gateway URL depends on
}

func (d *discovery) run() error {
	if err := d.resolveHomeAndProfile(); err != nil {
		return err
	}
	d.chooseGeneration()
	d.checkStateDir()
	if err := d.ctx.Err(); err != nil {
		return err
	}
	d.loadDotenv()
	if err := d.ctx.Err(); err != nil {
		return err
	}
	if err := d.loadConfig(); err != nil {
		return err
	}
	d.resolveMode()
	if err := d.resolveURL(); err != nil {
		return err
	}
	d.s.Token, d.s.tokenWhy = d.resolveSecret("token", d.o.Token, "GATEWAY_TOKEN")
	d.s.Password, d.s.passwordWhy = d.resolveSecret("password", d.o.Password, "GATEWAY_PASSWORD")
	d.withholdFromUntrustedURL()
	d.resolveTLSFingerprint()
	return d.ctx.Err()
}

// --- environment -----------------------------------------------------------

// realEnv returns a trimmed, non-empty variable from the real environment.
func (d *discovery) realEnv(key string) (string, bool) {
	v, ok := d.env.Lookup(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// lookup finds key in the real environment, then in the .env file (which
// never overrides a variable that is present, even if empty). The value is
// trimmed; empty counts as unset. source describes where it was found.
func (d *discovery) lookup(key string) (value, source string, ok bool) {
	value, source, _ = d.lookupRaw(key)
	value = strings.TrimSpace(value)
	return value, source, value != ""
}

// lookupRaw is lookup without trimming, for ${VAR} substitution.
func (d *discovery) lookupRaw(key string) (value, source string, ok bool) {
	if v, present := d.env.Lookup(key); present {
		return v, "env " + key, v != ""
	}
	if v, present := d.dotenv[key]; present {
		return v, d.s.envFile + ": " + key, v != ""
	}
	return "", "", false
}

// envVar is one variable found by pickEnv.
type envVar struct {
	key, value, source string
}

// pickEnv returns the first of keys that is set (OPENCLAW_* before the legacy
// CLAWDBOT_* twin) and warns about shadowed or foreign-prefix variables.
func (d *discovery) pickEnv(keys ...string) (envVar, bool) {
	found := d.findEnv(keys...)
	if len(found) == 0 {
		return envVar{}, false
	}
	d.noteEnvChoice(found[0], found[1:])
	return found[0], true
}

// findEnv returns every one of keys that is set, in the order given,
// without warnings.
func (d *discovery) findEnv(keys ...string) []envVar {
	var found []envVar
	for _, k := range keys {
		if v, src, ok := d.lookup(k); ok {
			found = append(found, envVar{k, v, src})
		}
	}
	return found
}

// noteEnvChoice warns when a legacy twin was ignored or when the variable
// used is one the current generation's CLI would not read.
func (d *discovery) noteEnvChoice(used envVar, ignored []envVar) {
	for _, ig := range ignored {
		if ig.value != used.value {
			d.s.addWarning("%s is ignored because %s is set", ig.source, used.source)
		}
	}
	switch {
	case d.s.Generation == GenerationOpenClaw && strings.HasPrefix(used.key, "CLAWDBOT_"):
		d.s.addWarning("using legacy %s; the openclaw CLI ignores CLAWDBOT_* variables, rename it to OPENCLAW_%s",
			used.source, strings.TrimPrefix(used.key, "CLAWDBOT_"))
	case d.s.Generation == GenerationClawdbot && strings.HasPrefix(used.key, "OPENCLAW_"):
		d.s.addWarning("using %s; the clawdbot CLI does not read OPENCLAW_* variables", used.source)
	}
}

// expand resolves a leading ~ against the effective home ($OPENCLAW_HOME or
// home) and makes the path absolute.
func (d *discovery) expand(p string) string { return expandPath(p, d.ocHome) }

// expandPath resolves a leading ~ against home and makes p absolute.
func expandPath(p, home string) string {
	if p == "~" {
		p = home
	} else if rest, ok := strings.CutPrefix(p, "~/"); ok {
		p = filepath.Join(home, rest)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// --- generation, state dir, config path -----------------------------------

func (d *discovery) resolveHomeAndProfile() error {
	d.ocHome = d.home
	if h, ok := d.realEnv("OPENCLAW_HOME"); ok {
		d.ocHome = expandPath(h, d.home)
	}
	if p, ok := d.realEnv("OPENCLAW_PROFILE"); ok && !strings.EqualFold(p, "default") {
		if !profileName.MatchString(p) {
			return fmt.Errorf("env OPENCLAW_PROFILE: invalid profile name %q (letters, digits, '-' and '_' only)", p)
		}
		d.profile = p
	}
	return nil
}

// chooseGeneration picks the rules (see the package documentation) and sets
// StateDir and the generation fields. Only the real environment counts.
func (d *discovery) chooseGeneration() {
	ocState, ocStateBy := d.stateDir(GenerationOpenClaw)
	prelim, _, _ := d.configCandidate(GenerationOpenClaw, ocState, false)

	gen, reason := GenerationOpenClaw, "default: no OPENCLAW_* or CLAWDBOT_* settings found"
	if key, ok := d.firstRealEnv(openclawSignals); ok {
		reason = key + " is set"
	} else if dir := filepath.Join(d.ocHome, ".openclaw"); isDir(dir) {
		reason = dir + " exists"
	} else if filepath.Base(prelim) == "openclaw.json" {
		reason = "the config file is named openclaw.json"
	} else if key, ok := d.firstRealEnv(clawdbotSignals); ok {
		gen, reason = GenerationClawdbot, key+" is set"
	} else if f := filepath.Join(d.home, ".clawdbot", "clawdbot.json"); isFile(f) {
		gen, reason = GenerationClawdbot, f+" exists"
	} else if filepath.Base(prelim) == "clawdbot.json" {
		gen, reason = GenerationClawdbot, "the config file is named clawdbot.json"
	}

	d.s.Generation, d.s.generationReason = gen, reason
	d.envPrefix = "OPENCLAW_"
	d.s.StateDir, d.stateDirBy = ocState, ocStateBy
	if gen == GenerationClawdbot {
		d.envPrefix = "CLAWDBOT_"
		d.s.StateDir, d.stateDirBy = d.stateDir(GenerationClawdbot)
	}
	d.noteStateDirChoice()
}

// firstRealEnv returns the first of keys set in the real environment.
func (d *discovery) firstRealEnv(keys []string) (string, bool) {
	for _, k := range keys {
		if _, ok := d.realEnv(k); ok {
			return k, true
		}
	}
	return "", false
}

// stateDir computes the state directory under gen's rules from the real
// environment. by names the variable that decided it ("" for a default).
func (d *discovery) stateDir(gen string) (dir, by string) {
	if gen == GenerationClawdbot {
		if v, ok := d.realEnv("CLAWDBOT_STATE_DIR"); ok {
			return d.expand(v), "CLAWDBOT_STATE_DIR"
		}
		return filepath.Join(d.home, ".clawdbot"), ""
	}
	if v, ok := d.realEnv("OPENCLAW_STATE_DIR"); ok {
		return d.expand(v), "OPENCLAW_STATE_DIR"
	}
	if d.profile != "" {
		return filepath.Join(d.ocHome, ".openclaw-"+d.profile), "OPENCLAW_PROFILE"
	}
	if v, ok := d.realEnv("CLAWDBOT_STATE_DIR"); ok {
		return d.expand(v), "CLAWDBOT_STATE_DIR"
	}
	if dir := filepath.Join(d.ocHome, ".openclaw"); isDir(dir) {
		return dir, ""
	}
	if dir := filepath.Join(d.ocHome, ".clawdbot"); isDir(dir) {
		return dir, ""
	}
	return filepath.Join(d.ocHome, ".openclaw"), ""
}

// noteStateDirChoice emits the legacy-variable warnings for the state dir.
func (d *discovery) noteStateDirChoice() {
	var used envVar
	var ignored []envVar
	for _, k := range []string{"OPENCLAW_STATE_DIR", "CLAWDBOT_STATE_DIR"} {
		v, ok := d.realEnv(k)
		if !ok {
			continue
		}
		ev := envVar{k, d.expand(v), "env " + k}
		if k == d.stateDirBy {
			used = ev
		} else {
			ignored = append(ignored, ev)
		}
	}
	if used.key != "" {
		d.noteEnvChoice(used, ignored)
	} else if d.stateDirBy == "OPENCLAW_PROFILE" {
		for _, ig := range ignored {
			d.s.addWarning("%s is ignored because OPENCLAW_PROFILE is set", ig.source)
		}
	}
}

// configCandidate finds the config file for gen with state directory
// stateDir. explicit is the source of an explicitly named file, which must
// exist. It returns "" when there is no config file. warn enables the
// legacy-variable warnings.
func (d *discovery) configCandidate(gen, stateDir string, warn bool) (path, explicit string, err error) {
	pick := d.quietPick
	if warn {
		pick = d.pickEnv
	}
	if d.o.ConfigPath != "" {
		path, explicit = d.expand(d.o.ConfigPath), "flag --config"
	} else if ev, ok := pick("OPENCLAW_CONFIG_PATH", "CLAWDBOT_CONFIG_PATH"); ok {
		path, explicit = d.expand(ev.value), ev.source
	}
	if explicit != "" {
		info, statErr := os.Stat(path)
		switch {
		case errors.Is(statErr, fs.ErrNotExist):
			return path, explicit, fmt.Errorf("config file %s (from %s) does not exist", path, explicit)
		case statErr != nil:
			return path, explicit, fmt.Errorf("config file %s (from %s): %w", path, explicit, statErr)
		case info.IsDir():
			return path, explicit, fmt.Errorf("config file %s (from %s) is a directory", path, explicit)
		}
		return path, explicit, nil
	}

	if gen == GenerationOpenClaw && d.profile != "" {
		// The openclaw CLI pins the config to the profile's own file.
		if p := filepath.Join(stateDir, "openclaw.json"); isFile(p) {
			return p, "", nil
		}
		return "", "", nil
	}
	for _, dir := range []string{stateDir, filepath.Join(d.ocHome, ".openclaw"), filepath.Join(d.ocHome, ".clawdbot")} {
		for _, name := range []string{"openclaw.json", "clawdbot.json"} {
			if p := filepath.Join(dir, name); isFile(p) {
				return p, "", nil
			}
		}
	}
	return "", "", nil
}

// quietPick is pickEnv without warnings, for the preliminary config lookup.
func (d *discovery) quietPick(keys ...string) (envVar, bool) {
	for _, k := range keys {
		if v, src, ok := d.lookup(k); ok {
			return envVar{k, v, src}, true
		}
	}
	return envVar{}, false
}

// --- files ------------------------------------------------------------------

// checkStateDir reports a state directory that another local user could
// change (it need not hold a file yet: one could be put there).
func (d *discovery) checkStateDir() {
	d.trust = newTrustChecker(d.s.StateDir)
	if !isDir(d.s.StateDir) {
		return
	}
	for _, p := range d.trust.dir(d.s.StateDir) {
		d.s.addWarning("%s", p)
	}
}

// checkFile reports what another local user could change about a file
// discovery read, and reports whether they could.
func (d *discovery) checkFile(path string, info fs.FileInfo) (untrusted bool) {
	problems := d.trust.file(path, info)
	for _, p := range problems {
		d.s.addWarning("%s", p)
	}
	return len(problems) > 0
}

// loadDotenv reads <stateDir>/.env if it exists. Problems are warnings:
// the file is then ignored.
func (d *discovery) loadDotenv() {
	path := filepath.Join(d.s.StateDir, ".env")
	data, info, err := readRegular(d.ctx, path, path, maxDotenvBytes)
	var notRegular *notRegularError
	var tooLarge *tooLargeError
	switch {
	case errors.Is(err, fs.ErrNotExist) || d.ctx.Err() != nil:
		return
	case errors.As(err, &notRegular):
		d.s.addWarning("%v; ignoring it (clawgate reads only regular files, because a pipe or a device could block it forever or never end): replace it with a regular file", err)
		return
	case errors.As(err, &tooLarge):
		d.s.addWarning("%v, the most OpenClaw and clawgate read from a .env file; ignoring it, as OpenClaw does: move large values out of it", err)
		return
	case err != nil:
		d.s.addWarning("%v; ignoring it", err)
		return
	}
	d.untrusted[path] = d.checkFile(path, info)
	vars, bad := parseDotenv(string(data))
	for _, n := range bad {
		d.s.addWarning("%s:%d: ignoring a line that is not KEY=VALUE with a variable name of letters, digits and underscores (as OpenClaw does)", path, n)
	}
	d.dotenv, d.s.envFile = vars, path
}

// loadConfig finds and loads the config file (JSON5 + $include + ${VAR}).
func (d *discovery) loadConfig() error {
	d.cfg = map[string]any{}
	path, explicit, err := d.configCandidate(d.s.Generation, d.s.StateDir, true)
	if err != nil {
		return err
	}
	if path == "" {
		return nil
	}
	d.s.ConfigPath, d.configBy = path, explicit
	name := "config file " + path
	if explicit != "" {
		name += " (from " + explicit + ")"
	}
	l := &loader{
		ctx:    d.ctx,
		lookup: d.lookupRaw,
		strict: d.s.Generation == GenerationClawdbot,
		warn:   d.s.addWarning,
		name:   name,
		opened: func(file string, info fs.FileInfo) {
			if d.checkFile(file, info) {
				d.untrusted[path] = true
			}
		},
	}
	cfg, err := l.load(path)
	if err != nil {
		return err
	}
	d.cfg, d.via, d.unresolved = cfg, l.via, l.unresolved
	return nil
}

// --- permissions -----------------------------------------------------------

// urlDependsOnEnv records that the gateway URL depends on a variable found
// at source: the .env file when it was found there.
func (d *discovery) urlDependsOnEnv(source string) {
	if d.s.envFile != "" && strings.HasPrefix(source, d.s.envFile+": ") {
		d.urlFiles = append(d.urlFiles, d.s.envFile)
	}
}

// urlDependsOnConfig records that the gateway URL depends on the config
// key keyPath: on the config file (with its includes), on the .env file if
// a ${VAR} in the key came from it, and on what named the config file.
func (d *discovery) urlDependsOnConfig(keyPath string) {
	d.urlFiles = append(d.urlFiles, d.s.ConfigPath)
	for _, v := range d.via[keyPath] {
		d.urlDependsOnEnv(v)
	}
	d.urlDependsOnEnv(d.configBy)
}

// withholdFromUntrustedURL drops the token and the password when the
// gateway URL depends on a file that another local user could change:
// they could have pointed it at a listener of their own (see
// "Permissions" in the package documentation).
func (d *discovery) withholdFromUntrustedURL() {
	var files []string
	for _, f := range d.urlFiles {
		if d.untrusted[f] && !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return
	}
	var creds []string
	for _, c := range []struct {
		name string
		s    *Setting
		why  *string
	}{{"token", &d.s.Token, &d.s.tokenWhy}, {"password", &d.s.Password, &d.s.passwordWhy}} {
		if !c.s.IsSet() {
			continue
		}
		creds = append(creds, fmt.Sprintf("the %s (from %s)", c.name, c.s.Source))
		*c.why = fmt.Sprintf("withheld: it was from %s, but the gateway URL comes from %s, which another local user could change", c.s.Source, strings.Join(files, " and "))
		*c.s = Setting{Secret: true}
	}
	if len(creds) == 0 {
		return
	}
	d.s.CredentialsWithheld = fmt.Sprintf("not sending %s to the gateway URL (from %s): it comes from %s, which another local user could change (see the warnings about permissions), so they could have pointed it at a listener of their own to receive the credentials; fix the permissions as those warnings say, or give the URL explicitly with --url or OPENCLAW_GATEWAY_URL",
		strings.Join(creds, " or "), d.s.URL.Source, strings.Join(files, " and "))
	d.s.addWarning("%s", d.s.CredentialsWithheld)
}

// --- config tree access -----------------------------------------------------

// get returns the value at a dotted key path such as gateway.auth.token.
func (d *discovery) get(keyPath string) (any, bool) {
	var cur any = d.cfg
	for _, k := range strings.Split(keyPath, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// getString returns a trimmed non-empty string at keyPath.
func (d *discovery) getString(keyPath string) (string, bool) {
	v, _ := d.get(keyPath)
	s, ok := v.(string)
	s = strings.TrimSpace(s)
	return s, ok && s != ""
}

// cfgSource describes a config key as a Source.
func (d *discovery) cfgSource(keyPath string) string {
	src := d.s.ConfigPath + ": " + keyPath
	if via := d.via[keyPath]; len(via) > 0 {
		src += " via " + strings.Join(via, ", ")
	}
	return src
}

// --- URL --------------------------------------------------------------------

func (d *discovery) resolveMode() {
	d.s.Mode = ModeLocal
	v, ok := d.get("gateway.mode")
	if !ok {
		return
	}
	switch v {
	case ModeRemote:
		d.s.Mode = ModeRemote
	case ModeLocal:
	default:
		d.s.addWarning("%s: gateway.mode must be \"local\" or \"remote\"; using \"local\"", d.s.ConfigPath)
	}
}

func (d *discovery) resolveURL() error {
	var u Setting
	remoteURL, hasRemote := d.getString("gateway.remote.url")
	if d.o.URL != "" {
		u = Setting{Value: strings.TrimSpace(d.o.URL), Source: "flag --url"}
		d.urlFrom = u.Source
	} else if ev, ok := d.pickEnv("OPENCLAW_GATEWAY_URL"); ok {
		u = Setting{Value: ev.value, Source: ev.source}
		d.urlFrom = u.Source
		d.urlDependsOnEnv(ev.source)
	} else if d.s.Mode == ModeRemote && hasRemote {
		u = Setting{Value: remoteURL, Source: d.cfgSource("gateway.remote.url")}
		d.urlDependsOnConfig("gateway.remote.url")
	} else {
		if d.s.Mode == ModeRemote {
			d.s.addWarning("%s: gateway.mode is \"remote\" but gateway.remote.url is not set; using the local gateway (set gateway.remote.url or switch gateway.mode to \"local\")", d.s.ConfigPath)
		}
		u = d.localURL()
	}
	// The URL and transport rules are the gateway client's (gateway/url.go).
	parsed, err := gateway.CheckURL(u.Value)
	if err != nil {
		msg := fmt.Sprintf("gateway URL from %s must look like ws://host:port or wss://host:port", u.Source)
		var ue *gateway.URLError
		if errors.As(err, &ue) && ue.Fix != "" {
			msg += "; " + ue.Fix
		}
		return errors.New(msg)
	}
	if gateway.Plaintext(parsed) {
		d.s.addWarning("the gateway URL (from %s) uses plain ws:// to a non-loopback host, so credentials and device tokens travel unencrypted, "+
			"which clawgate allows only with --allow-insecure-transport; prefer wss:// or an SSH tunnel to the gateway's 127.0.0.1 "+
			"(the openclaw CLI allows plain ws:// only to loopback, private addresses, .local and .ts.net names)", u.Source)
	}
	u.url = true
	d.s.URL = u
	return nil
}

// localURL builds ws[s]://127.0.0.1:<port>.
func (d *discovery) localURL() Setting {
	port, portFrom := d.resolvePort()
	scheme := "ws"
	if tls, _ := d.get("gateway.tls.enabled"); tls == true {
		scheme = "wss"
	}
	src := "default"
	if portFrom != "" {
		src = "default loopback, port from " + portFrom
	}
	if scheme == "wss" {
		src += ", wss because of " + d.cfgSource("gateway.tls.enabled")
		d.urlDependsOnConfig("gateway.tls.enabled")
	}
	if bind, _ := d.getString("gateway.bind"); bind == "tailnet" && d.s.Generation == GenerationClawdbot {
		d.s.addWarning("%s: gateway.bind is \"tailnet\"; the clawdbot CLI would connect to this machine's tailnet IP, clawgate uses 127.0.0.1 (pass --url if the gateway does not listen there)", d.s.ConfigPath)
	}
	return Setting{Value: fmt.Sprintf("%s://127.0.0.1:%d", scheme, port), Source: src}
}

// resolvePort returns the gateway port and where it came from ("" for the
// default).
func (d *discovery) resolvePort() (int, string) {
	if ev, ok := d.pickEnv("OPENCLAW_GATEWAY_PORT", "CLAWDBOT_GATEWAY_PORT"); ok {
		if p, ok := parsePort(ev.value); ok {
			d.urlDependsOnEnv(ev.source)
			return p, ev.source
		}
		d.s.addWarning("%s is not a valid port; ignored", ev.source)
	}
	if d.s.Generation == GenerationOpenClaw && d.profile == "dev" {
		return devProfilePort, "env OPENCLAW_PROFILE=dev"
	}
	if v, ok := d.get("gateway.port"); ok {
		if f, isNum := v.(float64); isNum && f == float64(int(f)) && f >= 1 && f <= 65535 {
			d.urlDependsOnConfig("gateway.port")
			return int(f), d.cfgSource("gateway.port")
		}
		d.s.addWarning("%s: gateway.port must be a number between 1 and 65535; ignored", d.s.ConfigPath)
	}
	return DefaultPort, ""
}

// parsePort accepts "18789", "host:18789" or "tcp://host:18789".
func parsePort(v string) (int, bool) {
	if i := strings.LastIndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	p, err := strconv.Atoi(strings.TrimSpace(v))
	return p, err == nil && p >= 1 && p <= 65535
}

// resolveTLSFingerprint applies gateway.remote.tlsFingerprint unless the URL
// was given explicitly (the pin belongs to the configured gateway).
func (d *discovery) resolveTLSFingerprint() {
	v, ok := d.getString("gateway.remote.tlsFingerprint")
	if !ok {
		return
	}
	if d.urlFrom != "" {
		d.s.addWarning("%s is not applied because the gateway URL comes from %s", d.cfgSource("gateway.remote.tlsFingerprint"), d.urlFrom)
		return
	}
	d.s.TLSFingerprint = Setting{Value: v, Source: d.cfgSource("gateway.remote.tlsFingerprint")}
}

// --- filesystem helpers -------------------------------------------------------

func isDir(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}
