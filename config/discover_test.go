package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newHome builds a fake home directory. files maps a path relative to it to
// the file's content; "@name" copies testdata/name and a trailing "/" makes
// an empty directory.
func newHome(t *testing.T, files map[string]string) string {
	t.Helper()
	home := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(home, rel)
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if name, ok := strings.CutPrefix(content, "@"); ok {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			content = string(data)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// fields flattens Settings for table assertions.
func fields(s *Settings) map[string]string {
	return map[string]string{
		"generation": s.Generation, "mode": s.Mode, "config": s.ConfigPath, "statedir": s.StateDir,
		"url": s.URL.Value, "url.src": s.URL.Source,
		"token": s.Token.Value, "token.src": s.Token.Source,
		"password": s.Password.Value, "password.src": s.Password.Source,
		"tls": s.TLSFingerprint.Value, "tls.src": s.TLSFingerprint.Source,
	}
}

type discoverCase struct {
	name   string
	files  map[string]string // see newHome
	env    map[string]string
	o      Overrides
	want   map[string]string // subset of fields(); "$HOME" is replaced
	warn   []string          // each must be a substring of some warning
	noWarn bool              // Warnings must be empty
	err    []string          // Discover must fail with all of these
}

const (
	ocConfig = ".openclaw/openclaw.json"
	cbConfig = ".clawdbot/clawdbot.json"
	ocFile   = "$HOME/.openclaw/openclaw.json: "
	cbFile   = "$HOME/.clawdbot/clawdbot.json: "
)

// Inline configs for the precedence tables.
const (
	cfgToken    = `{gateway: {auth: {token: 'file-token', password: 'file-password'}, remote: {token: 'remote-fallback'}}}`
	cfgPortOnly = `{gateway: {port: 18789}}`
)

func runDiscoverCases(t *testing.T, tests []discoverCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := newHome(t, tt.files)
			sub := func(s string) string { return strings.ReplaceAll(s, "$HOME", home) }
			env := MapEnv{}
			for k, v := range tt.env {
				env[k] = sub(v)
			}
			o := Overrides{URL: sub(tt.o.URL), Token: tt.o.Token, Password: tt.o.Password, ConfigPath: sub(tt.o.ConfigPath)}

			s, err := Discover(o, env, home)
			if len(tt.err) > 0 {
				if err == nil {
					t.Fatalf("Discover succeeded, want error containing %q\n%s", tt.err, strings.Join(s.Report(), "\n"))
				}
				for _, want := range tt.err {
					if !strings.Contains(err.Error(), sub(want)) {
						t.Errorf("error %q does not contain %q", err, sub(want))
					}
				}
				return
			}
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
			if tt.noWarn && len(s.Warnings) > 0 {
				t.Errorf("unexpected warnings:\n  %s", strings.Join(s.Warnings, "\n  "))
			}
			assertNoSecretInWarnings(t, s, tt.o.Token, tt.o.Password)
		})
	}
}

func hasWarning(s *Settings, substr string) bool {
	for _, w := range s.Warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

// assertNoSecretInWarnings checks that no warning mentions a secret value.
func assertNoSecretInWarnings(t *testing.T, s *Settings, extra ...string) {
	t.Helper()
	secrets := append([]string{s.Token.Value, s.Password.Value}, extra...)
	secrets = append(secrets, "file-token", "file-password", "remote-token", "remote-password",
		"local-auth-token", "lab-token-123", "env-token", "dotenv-token", "ref-token")
	for _, secret := range secrets {
		if len(secret) < 4 || strings.HasPrefix(secret, "${") { // an unresolved reference is not a secret
			continue
		}
		for _, w := range s.Warnings {
			if strings.Contains(w, secret) {
				t.Errorf("warning reveals a secret: %q", w)
			}
		}
	}
}

func TestDiscoverOpenClaw(t *testing.T) {
	runDiscoverCases(t, []discoverCase{
		{
			name:   "no files: defaults",
			want:   map[string]string{"generation": "openclaw", "mode": "local", "url": "ws://127.0.0.1:18789", "url.src": "default", "token": "", "config": "", "statedir": "$HOME/.openclaw"},
			noWarn: true,
		},
		{
			name:  "JSON5 fixture, token from ${VAR} in the environment",
			files: map[string]string{ocConfig: "@openclaw/openclaw.json"},
			env:   map[string]string{"OC_TEST_TOKEN": "tok-from-env"},
			want: map[string]string{
				"generation": "openclaw", "config": "$HOME/.openclaw/openclaw.json", "statedir": "$HOME/.openclaw",
				"url": "ws://127.0.0.1:18790", "url.src": "default loopback, port from " + ocFile + "gateway.port",
				"token": "tok-from-env", "token.src": ocFile + "gateway.auth.token via env OC_TEST_TOKEN",
			},
			noWarn: true,
		},
		{
			name:  "missing ${VAR} is left unresolved with a warning, and the placeholder is never sent",
			files: map[string]string{ocConfig: "@openclaw/openclaw.json"},
			want:  map[string]string{"token": "", "token.src": ""},
			warn: []string{
				ocFile[:len(ocFile)-2] + ": gateway.auth.token references ${OC_TEST_TOKEN}, but OC_TEST_TOKEN is not set",
				ocFile + "gateway.auth.token still contains a ${VAR} reference to an unset variable, so it is not used; pass --token or set OPENCLAW_GATEWAY_TOKEN",
			},
		},
		{
			name:  "missing ${VAR}: the environment is next, gateway.remote.token is not (gateway.auth.token counts as configured)",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: '${OC_TEST_TOKEN}'}, remote: {token: 'remote-token'}}}`},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
			warn:  []string{"token: " + ocFile + "gateway.auth.token still contains a ${VAR} reference to an unset variable, so it is not used; the openclaw CLI would use it before env OPENCLAW_GATEWAY_TOKEN, which clawgate uses instead"},
		},
		{
			name:  "missing ${VAR} and nothing else: gateway.remote.token is still not used",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: '${OC_TEST_TOKEN}'}, remote: {token: 'remote-token'}}}`},
			want:  map[string]string{"token": ""},
			warn:  []string{"still contains a ${VAR} reference"},
		},
		{
			name:  "${VAR} from the state dir .env",
			files: map[string]string{ocConfig: "@openclaw/openclaw.json", ".openclaw/.env": "OC_TEST_TOKEN=from-dotenv\n"},
			want:  map[string]string{"token": "from-dotenv", "token.src": ocFile + "gateway.auth.token via $HOME/.openclaw/.env: OC_TEST_TOKEN"},
		},
		{
			name:  "tls.enabled gives wss",
			files: map[string]string{ocConfig: "@tls.json5"},
			want:  map[string]string{"url": "wss://127.0.0.1:18800", "url.src": "default loopback, port from " + ocFile + "gateway.port, wss because of " + ocFile + "gateway.tls.enabled"},
		},
		{
			name:  "JSON5 parse error names file:line:col, not the secret",
			files: map[string]string{ocConfig: "@bad.json5"},
			err:   []string{"config: $HOME/.openclaw/openclaw.json:5:37: invalid character 'o'"},
		},
	})
}

func TestDiscoverTokenPrecedence(t *testing.T) {
	runDiscoverCases(t, []discoverCase{
		{
			name:   "config file only",
			files:  map[string]string{ocConfig: cfgToken},
			want:   map[string]string{"token": "file-token", "token.src": ocFile + "gateway.auth.token", "password": "file-password", "password.src": ocFile + "gateway.auth.password"},
			noWarn: true,
		},
		{
			name:  "local mode: the config file beats the env, as the openclaw CLI does; a different env value is the token-mismatch trap",
			files: map[string]string{ocConfig: cfgToken},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token", "OPENCLAW_GATEWAY_PASSWORD": "env-password"},
			want:  map[string]string{"token": "file-token", "token.src": ocFile + "gateway.auth.token", "password": "file-password", "password.src": ocFile + "gateway.auth.password"},
			warn: []string{
				"token: env OPENCLAW_GATEWAY_TOKEN is set but not used: in local mode the openclaw CLI reads gateway.auth.token first, and it holds a different value",
				"password: env OPENCLAW_GATEWAY_PASSWORD is set but not used: in local mode the openclaw CLI reads gateway.auth.password first",
			},
		},
		{
			name:   "env equal to the config value: no warning",
			files:  map[string]string{ocConfig: cfgToken},
			env:    map[string]string{"OPENCLAW_GATEWAY_TOKEN": "file-token"},
			want:   map[string]string{"token": "file-token", "token.src": ocFile + "gateway.auth.token"},
			noWarn: true,
		},
		{
			name:   "env is used when the config file has no token",
			files:  map[string]string{ocConfig: cfgPortOnly},
			env:    map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:   map[string]string{"token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
			noWarn: true,
		},
		{
			name:   "a whitespace-only flag counts as unset",
			files:  map[string]string{ocConfig: cfgToken},
			o:      Overrides{Token: "  "},
			want:   map[string]string{"token": "file-token", "token.src": ocFile + "gateway.auth.token"},
			noWarn: true,
		},
		{
			name:   "flag beats env and config file",
			files:  map[string]string{ocConfig: cfgToken},
			env:    map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token", "OPENCLAW_GATEWAY_PASSWORD": "env-password"},
			o:      Overrides{Token: "flag-token", Password: "flag-password"},
			want:   map[string]string{"token": "flag-token", "token.src": "flag --token", "password": "flag-password", "password.src": "flag --password"},
			noWarn: true,
		},
		{
			name:  "legacy CLAWDBOT_ variable is honoured under openclaw rules, with a warning",
			files: map[string]string{".openclaw/": ""},
			env:   map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "legacy-token"},
			want:  map[string]string{"generation": "openclaw", "token": "legacy-token", "token.src": "env CLAWDBOT_GATEWAY_TOKEN"},
			warn:  []string{"using legacy env CLAWDBOT_GATEWAY_TOKEN; the openclaw CLI ignores CLAWDBOT_* variables, rename it to OPENCLAW_GATEWAY_TOKEN"},
		},
		{
			name: "OPENCLAW_ wins over CLAWDBOT_",
			env:  map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token", "CLAWDBOT_GATEWAY_TOKEN": "legacy-token"},
			want: map[string]string{"token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
			warn: []string{"env CLAWDBOT_GATEWAY_TOKEN is ignored because env OPENCLAW_GATEWAY_TOKEN is set"},
		},
		{
			name:   "legacy CLAWDBOT_ variable takes the environment's place: after gateway.auth.token, without a legacy warning when unused",
			files:  map[string]string{ocConfig: cfgToken},
			env:    map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "file-token"},
			want:   map[string]string{"generation": "openclaw", "token": "file-token", "token.src": ocFile + "gateway.auth.token"},
			noWarn: true,
		},
		{
			name:  "legacy CLAWDBOT_ variable beats gateway.remote.token in local mode",
			files: map[string]string{ocConfig: `{gateway: {remote: {token: 'remote-fallback'}}}`},
			env:   map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "legacy-token"},
			want:  map[string]string{"token": "legacy-token", "token.src": "env CLAWDBOT_GATEWAY_TOKEN"},
			warn:  []string{"using legacy env CLAWDBOT_GATEWAY_TOKEN", "token: using env CLAWDBOT_GATEWAY_TOKEN; " + ocFile + "gateway.remote.token, which the openclaw CLI reads only after it, holds a different value"},
		},
		{
			name:   "gateway.remote.token is the local-mode fallback",
			files:  map[string]string{ocConfig: `{gateway: {remote: {token: 'remote-fallback'}}}`},
			want:   map[string]string{"token": "remote-fallback", "token.src": ocFile + "gateway.remote.token"},
			noWarn: true,
		},
		{
			name:  "state dir .env provides the token",
			files: map[string]string{ocConfig: cfgPortOnly, ".openclaw/.env": "@state.env"},
			want:  map[string]string{"token": "dotenv-token", "token.src": "$HOME/.openclaw/.env: OPENCLAW_GATEWAY_TOKEN"},
		},
		{
			name:  "real env beats .env",
			files: map[string]string{ocConfig: cfgPortOnly, ".openclaw/.env": "@state.env"},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
		},
		{
			name:  "a present but empty env var hides the .env value",
			files: map[string]string{ocConfig: `{gateway: {remote: {token: 'remote-fallback'}}}`, ".openclaw/.env": "@state.env"},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "  "},
			want:  map[string]string{"token": "remote-fallback", "token.src": ocFile + "gateway.remote.token"},
		},
		{
			name:  "the state dir .env counts as the environment: after gateway.auth.token",
			files: map[string]string{ocConfig: cfgToken, ".openclaw/.env": "@state.env"},
			want:  map[string]string{"token": "file-token", "token.src": ocFile + "gateway.auth.token"},
			warn:  []string{"token: $HOME/.openclaw/.env: OPENCLAW_GATEWAY_TOKEN is set but not used"},
		},
		{
			name:   "trusted-proxy auth mode: no gateway.remote.password fallback in local mode",
			files:  map[string]string{ocConfig: `{gateway: {auth: {mode: 'trusted-proxy'}, remote: {password: 'remote-password'}}}`},
			want:   map[string]string{"password": ""},
			noWarn: true,
		},
	})
}

func TestDiscoverURLAndPort(t *testing.T) {
	runDiscoverCases(t, []discoverCase{
		{
			name:  "flag --url never reuses config credentials",
			files: map[string]string{ocConfig: cfgToken},
			o:     Overrides{URL: "wss://flag.example:443"},
			want:  map[string]string{"url": "wss://flag.example:443", "url.src": "flag --url", "token": "", "password": ""},
			warn: []string{
				"token: not using " + ocFile + "gateway.auth.token because the gateway URL comes from flag --url",
				"pass --token or set OPENCLAW_GATEWAY_TOKEN",
				"password: not using " + ocFile + "gateway.auth.password",
			},
		},
		{
			name:  "flag --url still uses env credentials",
			files: map[string]string{ocConfig: cfgToken},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			o:     Overrides{URL: "ws://127.0.0.1:20000"},
			want:  map[string]string{"url": "ws://127.0.0.1:20000", "token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
			warn:  []string{"password: not using"},
		},
		{
			name:  "OPENCLAW_GATEWAY_URL beats config and uses only env credentials",
			files: map[string]string{ocConfig: cfgToken},
			env:   map[string]string{"OPENCLAW_GATEWAY_URL": "ws://localhost:20001"},
			want:  map[string]string{"url": "ws://localhost:20001", "url.src": "env OPENCLAW_GATEWAY_URL", "token": ""},
			warn:  []string{"because the gateway URL comes from env OPENCLAW_GATEWAY_URL"},
		},
		{
			name:   "OPENCLAW_GATEWAY_URL with env credentials: the env token, not the config file's",
			files:  map[string]string{ocConfig: `{gateway: {auth: {token: 'file-token'}}}`},
			env:    map[string]string{"OPENCLAW_GATEWAY_URL": "ws://localhost:20001", "OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:   map[string]string{"token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
			noWarn: true,
		},
		{
			name:   "OPENCLAW_GATEWAY_URL: a flag still wins",
			files:  map[string]string{ocConfig: `{gateway: {auth: {token: 'file-token'}}}`},
			env:    map[string]string{"OPENCLAW_GATEWAY_URL": "ws://localhost:20001", "OPENCLAW_GATEWAY_TOKEN": "env-token"},
			o:      Overrides{Token: "flag-token"},
			want:   map[string]string{"token": "flag-token", "token.src": "flag --token"},
			noWarn: true,
		},
		{
			name:  "OPENCLAW_GATEWAY_URL in remote mode: no gateway.remote.* credentials and no pin",
			files: map[string]string{ocConfig: "@remote.json5"},
			env:   map[string]string{"OPENCLAW_GATEWAY_URL": "wss://other.example:443", "OPENCLAW_GATEWAY_PASSWORD": "env-password"},
			want:  map[string]string{"url": "wss://other.example:443", "token": "", "password": "env-password", "password.src": "env OPENCLAW_GATEWAY_PASSWORD", "tls": ""},
			warn:  []string{"token: not using " + ocFile + "gateway.remote.token because the gateway URL comes from env OPENCLAW_GATEWAY_URL"},
		},
		{
			name: "flag --url beats OPENCLAW_GATEWAY_URL",
			env:  map[string]string{"OPENCLAW_GATEWAY_URL": "ws://localhost:20001"},
			o:    Overrides{URL: "ws://localhost:20002"},
			want: map[string]string{"url": "ws://localhost:20002", "url.src": "flag --url"},
		},
		{
			name: "invalid URL is an error naming its source",
			env:  map[string]string{"OPENCLAW_GATEWAY_URL": "http://localhost:1"},
			err:  []string{"gateway URL from env OPENCLAW_GATEWAY_URL must look like ws://"},
		},
		{
			name: "plain ws:// to a remote host warns",
			o:    Overrides{URL: "ws://192.0.2.10:18789"},
			warn: []string{"plain ws:// to a non-loopback host"},
		},
		{
			name:   "OPENCLAW_GATEWAY_PORT beats gateway.port",
			files:  map[string]string{ocConfig: "@tls.json5"},
			env:    map[string]string{"OPENCLAW_GATEWAY_PORT": "19999"},
			want:   map[string]string{"url": "wss://127.0.0.1:19999", "url.src": "default loopback, port from env OPENCLAW_GATEWAY_PORT, wss because of " + ocFile + "gateway.tls.enabled"},
			noWarn: true,
		},
		{
			name: "OPENCLAW_GATEWAY_PORT accepts host:port",
			env:  map[string]string{"OPENCLAW_GATEWAY_PORT": "tcp://172.17.0.2:19998"},
			want: map[string]string{"url": "ws://127.0.0.1:19998"},
		},
		{
			name:  "legacy CLAWDBOT_GATEWAY_PORT is honoured",
			files: map[string]string{".openclaw/": ""},
			env:   map[string]string{"CLAWDBOT_GATEWAY_PORT": "19997"},
			want:  map[string]string{"generation": "openclaw", "url": "ws://127.0.0.1:19997", "url.src": "default loopback, port from env CLAWDBOT_GATEWAY_PORT"},
			warn:  []string{"using legacy env CLAWDBOT_GATEWAY_PORT"},
		},
		{
			name:  "invalid env port falls back to gateway.port",
			files: map[string]string{ocConfig: "@tls.json5"},
			env:   map[string]string{"OPENCLAW_GATEWAY_PORT": "lots"},
			want:  map[string]string{"url": "wss://127.0.0.1:18800"},
			warn:  []string{"env OPENCLAW_GATEWAY_PORT is not a valid port"},
		},
		{
			name:  "invalid gateway.port falls back to the default",
			files: map[string]string{ocConfig: `{gateway: {port: "18790"}}`},
			want:  map[string]string{"url": "ws://127.0.0.1:18789", "url.src": "default"},
			warn:  []string{"gateway.port must be a number"},
		},
	})
}

func TestDiscoverRemote(t *testing.T) {
	runDiscoverCases(t, []discoverCase{
		{
			name:  "remote mode uses gateway.remote.*",
			files: map[string]string{ocConfig: "@remote.json5"},
			want: map[string]string{
				"mode": "remote", "url": "wss://gateway.example.com:8443", "url.src": ocFile + "gateway.remote.url",
				"token": "remote-token", "token.src": ocFile + "gateway.remote.token",
				"password": "remote-password", "password.src": ocFile + "gateway.remote.password",
				"tls": "sha256:AA:BB:CC", "tls.src": ocFile + "gateway.remote.tlsFingerprint",
			},
			noWarn: true,
		},
		{
			name:  "remote mode: gateway.remote.token beats the env token",
			files: map[string]string{ocConfig: "@remote.json5"},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"token": "remote-token", "token.src": ocFile + "gateway.remote.token"},
			warn:  []string{"token: env OPENCLAW_GATEWAY_TOKEN is set but not used: in remote mode the openclaw CLI reads gateway.remote.token first, and it holds a different value"},
		},
		{
			name:  "remote mode: the env password beats gateway.remote.password",
			files: map[string]string{ocConfig: "@remote.json5"},
			env:   map[string]string{"OPENCLAW_GATEWAY_PASSWORD": "env-password"},
			want:  map[string]string{"password": "env-password", "password.src": "env OPENCLAW_GATEWAY_PASSWORD"},
			warn:  []string{"password: using env OPENCLAW_GATEWAY_PASSWORD; " + ocFile + "gateway.remote.password, which the openclaw CLI reads only after it, holds a different value"},
		},
		{
			name:   "remote mode: gateway.auth.token is the last resort",
			files:  map[string]string{ocConfig: `{gateway: {mode: 'remote', remote: {url: 'wss://gw.example'}, auth: {token: 'local-auth-token'}}}`},
			want:   map[string]string{"token": "local-auth-token", "token.src": ocFile + "gateway.auth.token"},
			noWarn: true,
		},
		{
			name:  "remote mode with --url: no config credentials, no pin",
			files: map[string]string{ocConfig: "@remote.json5"},
			o:     Overrides{URL: "wss://other.example:443"},
			want:  map[string]string{"url": "wss://other.example:443", "token": "", "password": "", "tls": ""},
			warn:  []string{"not using " + ocFile + "gateway.remote.token", "gateway.remote.tlsFingerprint is not applied because the gateway URL comes from flag --url"},
		},
		{
			name:  "remote mode without remote.url falls back to local with a warning",
			files: map[string]string{ocConfig: "@remote-no-url.json5"},
			want:  map[string]string{"mode": "remote", "url": "ws://127.0.0.1:18789", "token": "remote-token"},
			warn:  []string{"gateway.mode is \"remote\" but gateway.remote.url is not set"},
		},
	})
}

func TestDiscoverSecretRef(t *testing.T) {
	runDiscoverCases(t, []discoverCase{
		{
			name:   "env SecretRef is resolved",
			files:  map[string]string{ocConfig: "@secretref-env.json5"},
			env:    map[string]string{"MY_GW_TOKEN": "ref-token"},
			want:   map[string]string{"token": "ref-token", "token.src": ocFile + "gateway.auth.token (SecretRef env MY_GW_TOKEN)"},
			noWarn: true,
		},
		{
			name:  "env SecretRef from the .env file",
			files: map[string]string{ocConfig: "@secretref-env.json5", ".openclaw/.env": "MY_GW_TOKEN=ref-token"},
			want:  map[string]string{"token": "ref-token", "token.src": ocFile + "gateway.auth.token (SecretRef $HOME/.openclaw/.env: MY_GW_TOKEN)"},
		},
		{
			name:  "env SecretRef to an unset variable",
			files: map[string]string{ocConfig: "@secretref-env.json5"},
			want:  map[string]string{"token": ""},
			warn:  []string{ocFile + "gateway.auth.token is a SecretRef to environment variable MY_GW_TOKEN, which is not set"},
		},
		{
			name:  "file SecretRef cannot be resolved: tell the user what to do",
			files: map[string]string{ocConfig: "@secretref-file.json5"},
			want:  map[string]string{"token": ""},
			warn:  []string{"gateway.auth.token is a SecretRef with source \"file\", which clawgate cannot resolve; pass --token or set OPENCLAW_GATEWAY_TOKEN"},
		},
		{
			name:  "file SecretRef comes before the env: clawgate falls back to the env and says so",
			files: map[string]string{ocConfig: "@secretref-file.json5"},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
			warn: []string{"token: " + ocFile + "gateway.auth.token is a SecretRef with source \"file\", which clawgate cannot resolve; " +
				"the openclaw CLI would use it before env OPENCLAW_GATEWAY_TOKEN, which clawgate uses instead (if the gateway refuses the token, pass --token or set OPENCLAW_GATEWAY_TOKEN)"},
		},
		{
			name:   "file SecretRef is irrelevant when a flag gives the token",
			files:  map[string]string{ocConfig: "@secretref-file.json5"},
			o:      Overrides{Token: "flag-token"},
			want:   map[string]string{"token": "flag-token"},
			noWarn: true,
		},
		{
			name:  "an unresolvable gateway.auth.token SecretRef still counts as configured: no gateway.remote.token fallback",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: {source: 'exec', provider: 'vault', id: 'gw'}}, remote: {token: 'remote-token'}}}`},
			want:  map[string]string{"token": ""},
			warn:  []string{"gateway.auth.token is a SecretRef with source \"exec\", which clawgate cannot resolve; pass --token"},
		},
		{
			name:   "remote mode: an env SecretRef in gateway.remote.token",
			files:  map[string]string{ocConfig: `{gateway: {mode: 'remote', remote: {url: 'wss://gw.example', token: {source: 'env', provider: 'default', id: 'MY_GW_TOKEN'}}, auth: {token: 'local-auth-token'}}}`},
			env:    map[string]string{"MY_GW_TOKEN": "ref-token"},
			want:   map[string]string{"token": "ref-token", "token.src": ocFile + "gateway.remote.token (SecretRef env MY_GW_TOKEN)"},
			noWarn: true,
		},
		{
			name:  "remote mode: an unresolvable gateway.remote.token SecretRef falls through to the env",
			files: map[string]string{ocConfig: `{gateway: {mode: 'remote', remote: {url: 'wss://gw.example', token: {source: 'env', id: 'MY_GW_TOKEN'}}}}`},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"token": "env-token", "token.src": "env OPENCLAW_GATEWAY_TOKEN"},
			warn:  []string{"gateway.remote.token is a SecretRef to environment variable MY_GW_TOKEN, which is not set; the openclaw CLI would use it before env OPENCLAW_GATEWAY_TOKEN"},
		},
		{
			name:  "a SecretRef id that came from ${VAR} is not echoed",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: {source: 'env', id: '${REF_NAME}'}}}}`},
			env:   map[string]string{"REF_NAME": "NOT_SET_EITHER"},
			want:  map[string]string{"token": ""},
			warn:  []string{"is a SecretRef to environment variable named by gateway.auth.token.id, which is not set"},
		},
		{
			name:  "a SecretRef with an unknown source is ignored and does not count as configured",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: {source: 'vault', id: 'x'}}, remote: {token: 'remote-token'}}}`},
			want:  map[string]string{"token": "remote-token", "token.src": ocFile + "gateway.remote.token"},
			warn:  []string{"token: " + ocFile + "gateway.auth.token is a SecretRef with a source other than env, file, exec or store; ignored; using " + ocFile + "gateway.remote.token instead"},
		},
		{
			name:  "a number is not a credential",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: 12345}}}`},
			want:  map[string]string{"token": ""},
			warn:  []string{ocFile + "gateway.auth.token must be a string or a SecretRef object; ignored"},
		},
	})
}

func TestDiscoverPaths(t *testing.T) {
	runDiscoverCases(t, []discoverCase{
		{
			name: "OPENCLAW_PROFILE selects ~/.openclaw-<name>",
			files: map[string]string{
				ocConfig:                       cfgToken,
				".openclaw-work/openclaw.json": `{gateway: {port: 19002, auth: {token: 'work-token'}}}`,
			},
			env: map[string]string{"OPENCLAW_PROFILE": "work"},
			want: map[string]string{
				"generation": "openclaw", "statedir": "$HOME/.openclaw-work", "config": "$HOME/.openclaw-work/openclaw.json",
				"url": "ws://127.0.0.1:19002", "token": "work-token",
			},
			noWarn: true,
		},
		{
			name:   "OPENCLAW_PROFILE without its own config does not fall back to ~/.openclaw",
			files:  map[string]string{ocConfig: cfgToken},
			env:    map[string]string{"OPENCLAW_PROFILE": "work"},
			want:   map[string]string{"statedir": "$HOME/.openclaw-work", "config": "", "token": ""},
			noWarn: true,
		},
		{
			name: "OPENCLAW_PROFILE=dev implies port 19001",
			env:  map[string]string{"OPENCLAW_PROFILE": "dev"},
			want: map[string]string{"statedir": "$HOME/.openclaw-dev", "url": "ws://127.0.0.1:19001", "url.src": "default loopback, port from env OPENCLAW_PROFILE=dev"},
		},
		{
			name:  "OPENCLAW_PROFILE=default is the plain state dir",
			files: map[string]string{ocConfig: cfgToken},
			env:   map[string]string{"OPENCLAW_PROFILE": "default"},
			want:  map[string]string{"statedir": "$HOME/.openclaw", "token": "file-token"},
		},
		{
			name: "invalid OPENCLAW_PROFILE",
			env:  map[string]string{"OPENCLAW_PROFILE": "../etc"},
			err:  []string{"OPENCLAW_PROFILE"},
		},
		{
			name:  "OPENCLAW_HOME replaces ~",
			files: map[string]string{ocConfig: cfgToken, "alt/.openclaw/openclaw.json": `{gateway: {auth: {token: 'alt-token'}}}`},
			env:   map[string]string{"OPENCLAW_HOME": "$HOME/alt"},
			want:  map[string]string{"statedir": "$HOME/alt/.openclaw", "config": "$HOME/alt/.openclaw/openclaw.json", "token": "alt-token"},
		},
		{
			name:  "OPENCLAW_HOME also applies to ~ in other variables",
			files: map[string]string{"alt/custom.json5": cfgToken},
			env:   map[string]string{"OPENCLAW_HOME": "$HOME/alt", "OPENCLAW_CONFIG_PATH": "~/custom.json5"},
			want:  map[string]string{"config": "$HOME/alt/custom.json5", "token": "file-token"},
		},
		{
			name:  "OPENCLAW_STATE_DIR",
			files: map[string]string{ocConfig: cfgPortOnly, "state/clawdbot.json": `{gateway: {auth: {token: 'file-token'}}}`, "state/.env": "OPENCLAW_GATEWAY_PASSWORD=from-state-env"},
			env:   map[string]string{"OPENCLAW_STATE_DIR": "$HOME/state"},
			want:  map[string]string{"statedir": "$HOME/state", "config": "$HOME/state/clawdbot.json", "password": "from-state-env", "password.src": "$HOME/state/.env: OPENCLAW_GATEWAY_PASSWORD"},
		},
		{
			name:  "OPENCLAW_STATE_DIR without a config falls back to ~/.openclaw/openclaw.json",
			files: map[string]string{ocConfig: cfgToken, "state/": ""},
			env:   map[string]string{"OPENCLAW_STATE_DIR": "$HOME/state"},
			want:  map[string]string{"statedir": "$HOME/state", "config": "$HOME/.openclaw/openclaw.json"},
		},
		{
			name:  "OPENCLAW_STATE_DIR wins over CLAWDBOT_STATE_DIR",
			files: map[string]string{"a/": "", "b/": ""},
			env:   map[string]string{"OPENCLAW_STATE_DIR": "$HOME/a", "CLAWDBOT_STATE_DIR": "$HOME/b"},
			want:  map[string]string{"statedir": "$HOME/a"},
			warn:  []string{"env CLAWDBOT_STATE_DIR is ignored because env OPENCLAW_STATE_DIR is set"},
		},
		{
			name:  "OPENCLAW_CONFIG_PATH with ~",
			files: map[string]string{"custom.json5": cfgToken},
			env:   map[string]string{"OPENCLAW_CONFIG_PATH": "~/custom.json5"},
			want:  map[string]string{"config": "$HOME/custom.json5", "token": "file-token"},
		},
		{
			name:  "flag --config beats OPENCLAW_CONFIG_PATH",
			files: map[string]string{"flag.json5": cfgToken, "env.json5": cfgPortOnly},
			env:   map[string]string{"OPENCLAW_CONFIG_PATH": "$HOME/env.json5"},
			o:     Overrides{ConfigPath: "$HOME/flag.json5"},
			want:  map[string]string{"config": "$HOME/flag.json5"},
		},
		{
			name: "missing OPENCLAW_CONFIG_PATH file is an error naming it",
			env:  map[string]string{"OPENCLAW_CONFIG_PATH": "$HOME/nope.json"},
			err:  []string{"config file $HOME/nope.json (from env OPENCLAW_CONFIG_PATH) does not exist"},
		},
		{
			name:  "missing flag --config file is an error naming it",
			files: map[string]string{ocConfig: cfgToken},
			o:     Overrides{ConfigPath: "$HOME/nope.json5"},
			err:   []string{"config file $HOME/nope.json5 (from flag --config) does not exist"},
		},
		{
			name:  "~/.clawdbot/openclaw.json: openclaw rules in the legacy state dir",
			files: map[string]string{".clawdbot/openclaw.json": cfgToken},
			want:  map[string]string{"generation": "openclaw", "statedir": "$HOME/.clawdbot", "config": "$HOME/.clawdbot/openclaw.json", "token": "file-token"},
		},
		{
			name:  "any OPENCLAW_ variable selects openclaw rules even with a clawdbot config",
			files: map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			env:   map[string]string{"OPENCLAW_GATEWAY_PASSWORD": "pw"},
			want:  map[string]string{"generation": "openclaw", "statedir": "$HOME/.clawdbot", "config": "$HOME/.clawdbot/clawdbot.json", "token": "lab-token-123"},
		},
	})
}

func TestDiscoverClawdbot(t *testing.T) {
	runDiscoverCases(t, []discoverCase{
		{
			name:  "LAB config in ~/.clawdbot/clawdbot.json",
			files: map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			want: map[string]string{
				"generation": "clawdbot", "mode": "local", "statedir": "$HOME/.clawdbot", "config": "$HOME/.clawdbot/clawdbot.json",
				"url": "ws://127.0.0.1:18789", "url.src": "default loopback, port from " + cbFile + "gateway.port",
				"token": "lab-token-123", "token.src": cbFile + "gateway.auth.token",
			},
			noWarn: true,
		},
		{
			name:  "missing ${VAR} is an error naming the variable, file and key",
			files: map[string]string{cbConfig: "@clawdbot/missing-var.json"},
			err:   []string{"config: $HOME/.clawdbot/clawdbot.json: gateway.auth.token: environment variable CLAWDBOT_TEST_TOKEN is not set"},
		},
		{
			name:   "${VAR} resolved",
			files:  map[string]string{cbConfig: "@clawdbot/missing-var.json"},
			env:    map[string]string{"CLAWDBOT_TEST_TOKEN": "cb-env"},
			want:   map[string]string{"token": "cb-env", "token.src": cbFile + "gateway.auth.token via env CLAWDBOT_TEST_TOKEN"},
			noWarn: true,
		},
		{
			name:  "local mode: env beats config, as the clawdbot CLI does; a different config value is warned about",
			files: map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			env:   map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"generation": "clawdbot", "token": "env-token", "token.src": "env CLAWDBOT_GATEWAY_TOKEN"},
			warn:  []string{"token: using env CLAWDBOT_GATEWAY_TOKEN; " + cbFile + "gateway.auth.token, which the clawdbot CLI reads only after it, holds a different value"},
		},
		{
			name:   "local mode: env equal to the config value, no warning",
			files:  map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			env:    map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "lab-token-123"},
			want:   map[string]string{"token": "lab-token-123", "token.src": "env CLAWDBOT_GATEWAY_TOKEN"},
			noWarn: true,
		},
		{
			name:   "local mode: gateway.remote.token is no fallback for clawdbot",
			files:  map[string]string{cbConfig: `{gateway: {remote: {token: 'remote-token', password: 'remote-password'}}}`},
			want:   map[string]string{"generation": "clawdbot", "token": "", "password": ""},
			noWarn: true,
		},
		{
			name:   "flag beats env",
			files:  map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			env:    map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "env-token"},
			o:      Overrides{Token: "flag-token"},
			want:   map[string]string{"token": "flag-token", "token.src": "flag --token"},
			noWarn: true,
		},
		{
			name:  ".env in ~/.clawdbot",
			files: map[string]string{cbConfig: cfgPortOnly, ".clawdbot/.env": "CLAWDBOT_GATEWAY_TOKEN=\"cb-dotenv\"\n"},
			want:  map[string]string{"generation": "clawdbot", "token": "cb-dotenv", "token.src": "$HOME/.clawdbot/.env: CLAWDBOT_GATEWAY_TOKEN"},
		},
		{
			name:  "CLAWDBOT_STATE_DIR",
			files: map[string]string{cbConfig: cfgPortOnly, "cb/clawdbot.json": cfgToken},
			env:   map[string]string{"CLAWDBOT_STATE_DIR": "$HOME/cb"},
			want:  map[string]string{"generation": "clawdbot", "statedir": "$HOME/cb", "config": "$HOME/cb/clawdbot.json", "token": "file-token"},
		},
		{
			name: "a CLAWDBOT_ variable alone selects clawdbot rules",
			env:  map[string]string{"CLAWDBOT_GATEWAY_PORT": "18888"},
			want: map[string]string{"generation": "clawdbot", "statedir": "$HOME/.clawdbot", "url": "ws://127.0.0.1:18888"},
		},
		{
			name:  "a config named clawdbot.json selects clawdbot rules",
			files: map[string]string{"x/clawdbot.json": cfgToken},
			o:     Overrides{ConfigPath: "$HOME/x/clawdbot.json"},
			want:  map[string]string{"generation": "clawdbot", "config": "$HOME/x/clawdbot.json", "token": "file-token"},
		},
		{
			name:  "remote mode: the clawdbot CLI ignores the env token",
			files: map[string]string{cbConfig: "@remote.json5"},
			env:   map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"mode": "remote", "token": "remote-token", "token.src": cbFile + "gateway.remote.token", "password": "remote-password"},
			warn:  []string{"token: env CLAWDBOT_GATEWAY_TOKEN is set but not used: in remote mode the clawdbot CLI reads the token only from gateway.remote.token; put it there or pass --token"},
		},
		{
			name:  "remote mode without gateway.remote.token: no token, even with the env and gateway.auth.token set",
			files: map[string]string{cbConfig: `{gateway: {mode: 'remote', remote: {url: 'wss://gw.example'}, auth: {token: 'local-auth-token'}}}`},
			env:   map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "env-token"},
			want:  map[string]string{"generation": "clawdbot", "token": ""},
			warn:  []string{"token: env CLAWDBOT_GATEWAY_TOKEN is set but not used"},
		},
		{
			name:   "remote mode: the env password beats gateway.remote.password",
			files:  map[string]string{cbConfig: "@remote.json5"},
			env:    map[string]string{"CLAWDBOT_GATEWAY_PASSWORD": "remote-password"},
			want:   map[string]string{"password": "remote-password", "password.src": "env CLAWDBOT_GATEWAY_PASSWORD"},
			noWarn: true,
		},
		{
			name:  "flag --url: no config credentials under clawdbot rules either",
			files: map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			o:     Overrides{URL: "ws://127.0.0.1:20000"},
			want:  map[string]string{"generation": "clawdbot", "token": ""},
			warn:  []string{"token: not using " + cbFile + "gateway.auth.token because the gateway URL comes from flag --url", "pass --token or set CLAWDBOT_GATEWAY_TOKEN"},
		},
		{
			name:   "flag --url with the env token under clawdbot rules",
			files:  map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			env:    map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "env-token"},
			o:      Overrides{URL: "ws://127.0.0.1:20000"},
			want:   map[string]string{"generation": "clawdbot", "token": "env-token", "token.src": "env CLAWDBOT_GATEWAY_TOKEN"},
			noWarn: true,
		},
		{
			name:  "bind tailnet warns under clawdbot rules",
			files: map[string]string{cbConfig: `{gateway: {bind: 'tailnet'}}`},
			want:  map[string]string{"url": "ws://127.0.0.1:18789"},
			warn:  []string{"gateway.bind is \"tailnet\""},
		},
	})
}

func TestDiscoverNilEnv(t *testing.T) {
	s, err := Discover(Overrides{}, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s.Generation != GenerationOpenClaw || s.URL.Value != "ws://127.0.0.1:18789" {
		t.Errorf("got %v", s)
	}
}
