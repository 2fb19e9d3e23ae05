//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// permCase is a discovery in a fake home whose files get the given modes
// (and owners) after they are written.
type permCase struct {
	name    string
	files   map[string]string      // see newHome
	modes   map[string]os.FileMode // path relative to home -> mode (chmod)
	foreign []string               // paths relative to home owned by another user
	env     map[string]string
	o       Overrides
	want    map[string]string // subset of fields(); "$HOME" is replaced
	warn    []string          // each must be a substring of some warning
	noWarn  bool              // no warning may mention permissions
	// withheld: Token and Password must be unset and CredentialsWithheld
	// must contain each of these.
	withheld []string
}

// foreignUID is the owner of "foreign" files: a uid that is neither the
// current user's nor root's.
const foreignUID = 54321

// makeForeign makes path owned by someone else: chown when the tests run as
// root, else pretend to be another user (ownerIsTrusted then sees the
// test's own files as foreign).
func makeForeign(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() == 0 {
		if err := os.Chown(path, foreignUID, -1); err != nil {
			t.Fatal(err)
		}
		return
	}
	old := currentUID
	currentUID = func() int { return foreignUID }
	t.Cleanup(func() { currentUID = old })
}

func runPermCases(t *testing.T, tests []permCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := newHome(t, tt.files)
			sub := func(s string) string { return strings.ReplaceAll(s, "$HOME", home) }
			for rel, mode := range tt.modes {
				if err := os.Chmod(filepath.Join(home, rel), mode); err != nil {
					t.Fatal(err)
				}
			}
			for _, rel := range tt.foreign {
				makeForeign(t, filepath.Join(home, rel))
			}
			env := MapEnv{}
			for k, v := range tt.env {
				env[k] = sub(v)
			}
			o := tt.o
			o.URL, o.ConfigPath = sub(o.URL), sub(o.ConfigPath)

			s, err := Discover(o, env, home)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			got := fields(s)
			for k, want := range tt.want {
				if got[k] != sub(want) {
					t.Errorf("%s = %q, want %q", k, got[k], sub(want))
				}
			}
			for _, want := range tt.warn {
				if !hasWarning(s, sub(want)) {
					t.Errorf("no warning contains %q; warnings:\n  %s", sub(want), strings.Join(s.Warnings, "\n  "))
				}
			}
			if tt.noWarn {
				for _, w := range s.Warnings {
					if strings.Contains(w, "chmod") || strings.Contains(w, "chown") || strings.Contains(w, "not sending") {
						t.Errorf("unexpected permission warning %q", w)
					}
				}
			}
			if len(tt.withheld) > 0 {
				if s.Token.IsSet() || s.Password.IsSet() {
					t.Errorf("credentials sent to a URL from an insecure file: token %v, password %v", s.Token, s.Password)
				}
				why := s.CredentialsWithheld
				for _, want := range tt.withheld {
					if !strings.Contains(why, sub(want)) {
						t.Errorf("CredentialsWithheld %q does not contain %q", why, sub(want))
					}
				}
				if !hasWarning(s, why) {
					t.Errorf("CredentialsWithheld %q is not among the warnings:\n  %s", why, strings.Join(s.Warnings, "\n  "))
				}
				if line := strings.Join(s.Report(), "\n"); !strings.Contains(line, "withheld") {
					t.Errorf("Report does not say the credentials were withheld:\n%s", line)
				}
			} else if s.CredentialsWithheld != "" {
				t.Errorf("CredentialsWithheld = %q, want none", s.CredentialsWithheld)
			}
			assertNoSecretInWarnings(t, s, tt.o.Token, tt.o.Password)
			for _, w := range s.Warnings {
				for _, secret := range []string{"env-token", "flag-token", "env-password"} {
					if strings.Contains(w, secret) {
						t.Errorf("warning reveals a secret: %q", w)
					}
				}
			}
		})
	}
}

// TestPermissionsWithholdCredentials: a config file, included file, .env or
// state directory that another local user can change is reported, and no
// credential is sent to a gateway URL that depends on it (issue 10, item 3).
func TestPermissionsWithholdCredentials(t *testing.T) {
	const remote = `{gateway: {mode: 'remote', remote: {url: 'wss://listener.example:443'}}}`
	const port = `{gateway: {port: 4444}}`
	runPermCases(t, []permCase{
		{
			name:  "a group-writable config: the URL stays, the token and password from the environment are not sent to it",
			files: map[string]string{ocConfig: remote},
			modes: map[string]os.FileMode{ocConfig: 0o664},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token", "OPENCLAW_GATEWAY_PASSWORD": "env-password"},
			want:  map[string]string{"url": "wss://listener.example:443", "token": "", "password": ""},
			warn: []string{
				"$HOME/.openclaw/openclaw.json is group-writable (mode 0664)",
				"chmod 600 $HOME/.openclaw/openclaw.json",
			},
			withheld: []string{"not sending the token (from env OPENCLAW_GATEWAY_TOKEN) or the password (from env OPENCLAW_GATEWAY_PASSWORD)", "to the gateway URL (from $HOME/.openclaw/openclaw.json: gateway.remote.url)", "--url"},
		},
		{
			name:     "a world-writable config sets the local port: the --token flag is not sent to it",
			files:    map[string]string{ocConfig: port},
			modes:    map[string]os.FileMode{ocConfig: 0o646},
			o:        Overrides{Token: "flag-token"},
			want:     map[string]string{"url": "ws://127.0.0.1:4444", "token": ""},
			warn:     []string{"is world-writable (mode 0646)", "chmod 600 $HOME/.openclaw/openclaw.json"},
			withheld: []string{"the token (from flag --token) to the gateway URL (from default loopback, port from $HOME/.openclaw/openclaw.json: gateway.port)"},
		},
		{
			name:     "a foreign-owned config",
			files:    map[string]string{ocConfig: port},
			foreign:  []string{ocConfig},
			env:      map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:     map[string]string{"url": "ws://127.0.0.1:4444", "token": ""},
			warn:     []string{"$HOME/.openclaw/openclaw.json is owned by uid 54321, not by you", "chown"},
			withheld: []string{"$HOME/.openclaw/openclaw.json"},
		},
		{
			name:     "a world-writable .env sets OPENCLAW_GATEWAY_URL: the token from the real environment is not sent to it",
			files:    map[string]string{".openclaw/.env": "OPENCLAW_GATEWAY_URL=ws://127.0.0.1:4444\n"},
			modes:    map[string]os.FileMode{".openclaw/.env": 0o666},
			env:      map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:     map[string]string{"url": "ws://127.0.0.1:4444", "token": ""},
			warn:     []string{"$HOME/.openclaw/.env is group- and world-writable (mode 0666)", "chmod 600 $HOME/.openclaw/.env"},
			withheld: []string{"the token (from env OPENCLAW_GATEWAY_TOKEN) to the gateway URL (from $HOME/.openclaw/.env: OPENCLAW_GATEWAY_URL)", "it comes from $HOME/.openclaw/.env,"},
		},
		{
			name: "a private config whose URL is a VAR from a group-writable .env",
			files: map[string]string{
				ocConfig:         `{gateway: {mode: 'remote', remote: {url: '${REMOTE_URL}'}}}`,
				".openclaw/.env": "REMOTE_URL=wss://listener.example\n",
			},
			modes:    map[string]os.FileMode{".openclaw/.env": 0o620},
			env:      map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:     map[string]string{"url": "wss://listener.example", "token": ""},
			warn:     []string{"$HOME/.openclaw/.env is group-writable (mode 0620)"},
			withheld: []string{"gateway.remote.url via $HOME/.openclaw/.env: REMOTE_URL", "it comes from $HOME/.openclaw/.env,"},
		},
		{
			name: "a world-writable included file: the whole config is untrusted",
			files: map[string]string{
				ocConfig:                   `{$include: './parts/gw.json5', gateway: {remote: {token: 'file-token'}}}`,
				".openclaw/parts/gw.json5": remote,
			},
			modes:    map[string]os.FileMode{".openclaw/parts/gw.json5": 0o666},
			want:     map[string]string{"url": "wss://listener.example:443", "token": ""},
			warn:     []string{"$HOME/.openclaw/parts/gw.json5 is group- and world-writable (mode 0666)", "chmod 600 $HOME/.openclaw/parts/gw.json5"},
			withheld: []string{"the token (from $HOME/.openclaw/openclaw.json: gateway.remote.token)", "$HOME/.openclaw/openclaw.json"},
		},
		{
			name:     "a group-writable directory on the way: the state directory",
			files:    map[string]string{ocConfig: port},
			modes:    map[string]os.FileMode{".openclaw": 0o770},
			env:      map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:     map[string]string{"url": "ws://127.0.0.1:4444", "token": ""},
			warn:     []string{"the state directory $HOME/.openclaw is group-writable (mode 0770) without the sticky bit", "chmod 700 $HOME/.openclaw"},
			withheld: []string{"$HOME/.openclaw/openclaw.json"},
		},
		{
			name:     "a world-writable directory higher up",
			files:    map[string]string{"conf/sub/openclaw.json": port},
			modes:    map[string]os.FileMode{"conf": 0o777},
			env:      map[string]string{"OPENCLAW_CONFIG_PATH": "$HOME/conf/sub/openclaw.json", "OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:     map[string]string{"url": "ws://127.0.0.1:4444", "token": ""},
			warn:     []string{"the directory $HOME/conf is group- and world-writable (mode 0777) without the sticky bit", "chmod go-w $HOME/conf"},
			withheld: []string{"$HOME/conf/sub/openclaw.json"},
		},
		{
			name:   "a world-writable directory with the sticky bit, as /tmp, is fine",
			files:  map[string]string{"conf/sub/openclaw.json": port},
			modes:  map[string]os.FileMode{"conf": 0o777 | os.ModeSticky},
			env:    map[string]string{"OPENCLAW_CONFIG_PATH": "$HOME/conf/sub/openclaw.json", "OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:   map[string]string{"url": "ws://127.0.0.1:4444", "token": "env-token"},
			noWarn: true,
		},
		{
			name:   "private files: nothing is withheld",
			files:  map[string]string{ocConfig: remote, ".openclaw/.env": "OPENCLAW_GATEWAY_PASSWORD=env-password\n"},
			env:    map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:   map[string]string{"url": "wss://listener.example:443", "token": "env-token", "password": "env-password"},
			noWarn: true,
		},
		{
			name:   "group-readable files are not reported, only writability and ownership are",
			files:  map[string]string{ocConfig: remote},
			modes:  map[string]os.FileMode{ocConfig: 0o644, ".openclaw": 0o755},
			env:    map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:   map[string]string{"token": "env-token"},
			noWarn: true,
		},
		{
			name:  "an insecure config does not matter to an explicit --url, but is still reported",
			files: map[string]string{ocConfig: remote},
			modes: map[string]os.FileMode{ocConfig: 0o666},
			o:     Overrides{URL: "wss://gw.example"},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"url": "wss://gw.example", "token": "env-token"},
			warn:  []string{"chmod 600 $HOME/.openclaw/openclaw.json"},
		},
		{
			name:  "an insecure config that does not decide the URL",
			files: map[string]string{ocConfig: `{gateway: {bind: 'loopback'}}`},
			modes: map[string]os.FileMode{ocConfig: 0o666},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"url": "ws://127.0.0.1:18789", "token": "env-token"},
			warn:  []string{"chmod 600 $HOME/.openclaw/openclaw.json"},
		},
		{
			name:  "an insecure, empty state directory is reported",
			files: map[string]string{".openclaw/": ""},
			modes: map[string]os.FileMode{".openclaw": 0o777},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"url": "ws://127.0.0.1:18789", "token": "env-token"},
			warn:  []string{"the state directory $HOME/.openclaw is group- and world-writable (mode 0777) without the sticky bit", "chmod 700 $HOME/.openclaw"},
		},
	})
}
