package config

import (
	"fmt"
	"strings"
	"testing"
)

// credPlace is one place a credential can come from in TestCredentialOrders.
type credPlace string

const (
	placeFlag   credPlace = "flag"
	placeEnv    credPlace = "env"
	placeAuth   credPlace = "gateway.auth"
	placeRemote credPlace = "gateway.remote"
)

// TestCredentialOrders checks every order, written out here by hand from the
// sources rather than taken from credOrders: set every place to a different
// value, expect the first place of the order, take that place away, expect
// the next one, and so on; when the order is exhausted, places outside it
// must not be used.
//
// openclaw 2026.9.6: docs/gateway/remote.md "Credential precedence"
// (src/gateway/credentials.ts). clawdbot 2026.1.24-3: dist/gateway/call.js.
func TestCredentialOrders(t *testing.T) {
	orders := []struct {
		gen, mode, cred string
		order           []credPlace
	}{
		{"openclaw", "local", "token", []credPlace{placeFlag, placeAuth, placeEnv, placeRemote}},
		{"openclaw", "local", "password", []credPlace{placeFlag, placeAuth, placeEnv, placeRemote}},
		{"openclaw", "remote", "token", []credPlace{placeFlag, placeRemote, placeEnv, placeAuth}},
		{"openclaw", "remote", "password", []credPlace{placeFlag, placeEnv, placeRemote, placeAuth}},
		{"clawdbot", "local", "token", []credPlace{placeFlag, placeEnv, placeAuth}},
		{"clawdbot", "local", "password", []credPlace{placeFlag, placeEnv, placeAuth}},
		{"clawdbot", "remote", "token", []credPlace{placeFlag, placeRemote}},
		{"clawdbot", "remote", "password", []credPlace{placeFlag, placeEnv, placeRemote}},
	}
	for _, o := range orders {
		for _, legacy := range []bool{false, true} {
			if legacy && o.gen == "clawdbot" {
				continue // CLAWDBOT_* is clawdbot's own prefix
			}
			name := fmt.Sprintf("%s/%s/%s", o.gen, o.mode, o.cred)
			if legacy {
				name += "/legacy CLAWDBOT_ variable"
			}
			t.Run(name, func(t *testing.T) {
				present := map[credPlace]bool{placeFlag: true, placeEnv: true, placeAuth: true, placeRemote: true}
				for step := 0; ; step++ {
					want := credPlace("")
					for _, p := range o.order {
						if present[p] {
							want = p
							break
						}
					}
					s, home := discoverPlaces(t, o.gen, o.mode, o.cred, legacy, present)
					got := placeOf(s, o.cred, home)
					if got != want {
						t.Fatalf("step %d, places %v: %s from %q (%s), want %s\n%s", step, present, o.cred, got, credOf(s, o.cred).Source, want, strings.Join(s.Report(), "\n"))
					}
					if got != "" && credOf(s, o.cred).Value != "v-"+string(got) {
						t.Fatalf("step %d: value %q does not belong to %s", step, credOf(s, o.cred).Value, got)
					}
					line := reportLine(s, o.cred)
					if !strings.Contains(line, fmt.Sprintf("%s %s mode reads ", o.gen, o.mode)) && got != placeFlag {
						t.Errorf("step %d: report line does not name the order: %s", step, line)
					}
					// Every other place that holds a value and is read is listed
					// as unused with a different value.
					for p := range present {
						if present[p] && p != got && p != placeFlag && inOrder(o.order, p) && got != "" {
							if !strings.Contains(line, sourceOf(p, o.gen, o.cred, legacy, home)+" (different value)") {
								t.Errorf("step %d: report line does not list %s as unused: %s", step, p, line)
							}
						}
					}
					assertNoSecretInReport(t, s)
					if want == "" {
						return
					}
					present[want] = false
				}
			})
		}
	}
}

func inOrder(order []credPlace, p credPlace) bool {
	for _, q := range order {
		if q == p {
			return true
		}
	}
	return false
}

// discoverPlaces runs Discover with the credential cred ("token" or
// "password") set in the places marked present, each to "v-<place>".
func discoverPlaces(t *testing.T, gen, mode, cred string, legacy bool, present map[credPlace]bool) (*Settings, string) {
	t.Helper()
	var gw []string
	if mode == ModeRemote {
		gw = append(gw, "mode: 'remote'")
	}
	remote := []string{"url: 'wss://gw.example:443'"}
	if mode == ModeLocal {
		remote = remote[:0]
	}
	if present[placeRemote] {
		remote = append(remote, fmt.Sprintf("%s: 'v-%s'", cred, placeRemote))
	}
	gw = append(gw, "remote: {"+strings.Join(remote, ", ")+"}")
	if present[placeAuth] {
		gw = append(gw, fmt.Sprintf("auth: {%s: 'v-%s'}", cred, placeAuth))
	}
	file := ocConfig
	if gen == GenerationClawdbot {
		file = cbConfig
	}
	home := newHome(t, map[string]string{file: "{gateway: {" + strings.Join(gw, ", ") + "}}"})
	env := MapEnv{}
	if present[placeEnv] {
		env[envKey(gen, cred, legacy)] = "v-" + string(placeEnv)
	}
	var o Overrides
	if present[placeFlag] {
		if cred == "token" {
			o.Token = "v-" + string(placeFlag)
		} else {
			o.Password = "v-" + string(placeFlag)
		}
	}
	s, err := Discover(o, env, home)
	if err != nil {
		t.Fatal(err)
	}
	if s.Generation != gen || s.Mode != mode {
		t.Fatalf("setup: generation %s mode %s, want %s %s", s.Generation, s.Mode, gen, mode)
	}
	return s, home
}

func envKey(gen, cred string, legacy bool) string {
	prefix := "OPENCLAW_"
	if gen == GenerationClawdbot || legacy {
		prefix = "CLAWDBOT_"
	}
	return prefix + "GATEWAY_" + strings.ToUpper(cred)
}

func sourceOf(p credPlace, gen, cred string, legacy bool, home string) string {
	file := home + "/" + ocConfig
	if gen == GenerationClawdbot {
		file = home + "/" + cbConfig
	}
	switch p {
	case placeFlag:
		return "flag --" + cred
	case placeEnv:
		return "env " + envKey(gen, cred, legacy)
	default:
		return file + ": " + string(p) + "." + cred
	}
}

func credOf(s *Settings, cred string) Setting {
	if cred == "token" {
		return s.Token
	}
	return s.Password
}

func placeOf(s *Settings, cred, home string) credPlace {
	src := credOf(s, cred).Source
	switch {
	case src == "":
		return ""
	case strings.HasPrefix(src, "flag "):
		return placeFlag
	case strings.HasPrefix(src, "env "):
		return placeEnv
	case strings.HasSuffix(src, ": gateway.auth."+cred):
		return placeAuth
	case strings.HasSuffix(src, ": gateway.remote."+cred):
		return placeRemote
	}
	return credPlace("unknown source " + src)
}

func reportLine(s *Settings, cred string) string {
	for _, l := range s.Report() {
		if strings.HasPrefix(l, cred+": ") {
			return l
		}
	}
	return ""
}

// assertNoSecretInReport checks that no report line shows a credential value.
func assertNoSecretInReport(t *testing.T, s *Settings) {
	t.Helper()
	report := strings.Join(s.Report(), "\n")
	for _, v := range []string{s.Token.Value, s.Password.Value, "v-flag", "v-env", "v-gateway.auth", "v-gateway.remote"} {
		if v != "" && strings.Contains(report, v) {
			t.Errorf("report shows %q:\n%s", v, report)
		}
	}
	assertNoSecretInWarnings(t, s, "v-flag", "v-env", "v-gateway.auth", "v-gateway.remote")
}

// TestCredentialReport checks the doctor lines for the token and the
// password word for word: where the value came from, why that source won,
// and what else holds a value.
func TestCredentialReport(t *testing.T) {
	const localOrder = "openclaw local mode reads --token, then gateway.auth.token, then OPENCLAW_GATEWAY_TOKEN, then gateway.remote.token (only when gateway.auth.token is not configured)"
	tests := []struct {
		name  string
		files map[string]string
		env   map[string]string
		o     Overrides
		token string // the whole token line; $HOME is replaced
		pass  string // the whole password line, if not ""
	}{
		{
			name:  "openclaw local: config file wins, a pasted env token is unused (the token-mismatch trap)",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: 'file-token'}}}`},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			token: "token: set (from " + ocFile + "gateway.auth.token); " + localOrder + "; also set but not used: env OPENCLAW_GATEWAY_TOKEN (different value)",
			pass:  "password: not set; openclaw local mode reads --password, then gateway.auth.password (not set), then OPENCLAW_GATEWAY_PASSWORD (not set), then gateway.remote.password (only when gateway.auth.password is not configured, not with gateway.auth.mode trusted-proxy; not set)",
		},
		{
			name:  "openclaw local: same value in the env",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: 'file-token'}}}`},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "file-token"},
			token: "token: set (from " + ocFile + "gateway.auth.token); " + localOrder + "; also set but not used: env OPENCLAW_GATEWAY_TOKEN (same value)",
		},
		{
			name:  "openclaw local: env wins when the config file has no token",
			files: map[string]string{ocConfig: `{gateway: {remote: {token: 'remote-token'}}}`},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			token: "token: set (from env OPENCLAW_GATEWAY_TOKEN); openclaw local mode reads --token, then gateway.auth.token (not set), then OPENCLAW_GATEWAY_TOKEN, then gateway.remote.token (only when gateway.auth.token is not configured); also set but not used: " + ocFile + "gateway.remote.token (different value)",
		},
		{
			name:  "openclaw local: an unresolvable SecretRef blocks the remote fallback",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: {source: 'file', provider: 'f', id: '/t'}}, remote: {token: 'remote-token'}}}`},
			token: "token: not set; openclaw local mode reads --token, then gateway.auth.token (a file SecretRef clawgate cannot resolve), then OPENCLAW_GATEWAY_TOKEN (not set), then gateway.remote.token (only when gateway.auth.token is not configured; skipped); also set but not used: " + ocFile + "gateway.remote.token",
		},
		{
			name:  "openclaw remote",
			files: map[string]string{ocConfig: "@remote.json5"},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token", "OPENCLAW_GATEWAY_PASSWORD": "env-password"},
			token: "token: set (from " + ocFile + "gateway.remote.token); openclaw remote mode reads --token, then gateway.remote.token, then OPENCLAW_GATEWAY_TOKEN, then gateway.auth.token; also set but not used: env OPENCLAW_GATEWAY_TOKEN (different value), " + ocFile + "gateway.auth.token (different value)",
			pass:  "password: set (from env OPENCLAW_GATEWAY_PASSWORD); openclaw remote mode reads --password, then OPENCLAW_GATEWAY_PASSWORD, then gateway.remote.password, then gateway.auth.password; also set but not used: " + ocFile + "gateway.remote.password (different value), " + ocFile + "gateway.auth.password (different value)",
		},
		{
			name:  "flag",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: 'file-token'}}}`},
			o:     Overrides{Token: "flag-token"},
			token: "token: set (from flag --token); flags win over the environment and the config file; also set but not used: " + ocFile + "gateway.auth.token (different value)",
		},
		{
			name:  "flag --url: env only, config file not read",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: 'file-token'}}}`},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token"},
			o:     Overrides{URL: "ws://127.0.0.1:20000"},
			token: "token: set (from env OPENCLAW_GATEWAY_TOKEN); the gateway URL comes from flag --url, so clawgate reads --token, then OPENCLAW_GATEWAY_TOKEN and never the config file " +
				"(the openclaw CLI reads only --token with --url; clawgate also reads the environment so that the secret need not be on a command line); also set but not used: " + ocFile + "gateway.auth.token (different value)",
		},
		{
			name:  "OPENCLAW_GATEWAY_URL: env credentials only",
			files: map[string]string{ocConfig: `{gateway: {auth: {token: 'file-token'}}}`},
			env:   map[string]string{"OPENCLAW_GATEWAY_URL": "ws://127.0.0.1:20000"},
			token: "token: not set; the gateway URL comes from env OPENCLAW_GATEWAY_URL, so clawgate reads --token, then OPENCLAW_GATEWAY_TOKEN (not set) and never the config file, as the openclaw CLI does; also set but not used: " + ocFile + "gateway.auth.token",
		},
		{
			name:  "clawdbot local: env first",
			files: map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			env:   map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "env-token"},
			token: "token: set (from env CLAWDBOT_GATEWAY_TOKEN); clawdbot local mode reads --token, then CLAWDBOT_GATEWAY_TOKEN, then gateway.auth.token; also set but not used: " + cbFile + "gateway.auth.token (different value)",
		},
		{
			name:  "clawdbot remote: the env token is not read",
			files: map[string]string{cbConfig: "@remote.json5"},
			env:   map[string]string{"CLAWDBOT_GATEWAY_TOKEN": "remote-token"},
			token: "token: set (from " + cbFile + "gateway.remote.token); clawdbot remote mode reads --token, then gateway.remote.token; also set but not used: env CLAWDBOT_GATEWAY_TOKEN (same value)",
		},
		{
			name:  "clawdbot flag --url",
			files: map[string]string{cbConfig: "@clawdbot/clawdbot.json"},
			o:     Overrides{URL: "ws://127.0.0.1:20000"},
			token: "token: not set; the gateway URL comes from flag --url, so clawgate reads --token, then CLAWDBOT_GATEWAY_TOKEN (not set) and never the config file " +
				"(the clawdbot CLI would still read it; clawgate never sends config-file credentials to an explicitly named gateway); also set but not used: " + cbFile + "gateway.auth.token",
		},
		{
			name:  "legacy twin ignored",
			files: map[string]string{".openclaw/": ""},
			env:   map[string]string{"OPENCLAW_GATEWAY_TOKEN": "env-token", "CLAWDBOT_GATEWAY_TOKEN": "legacy-token"},
			token: "token: set (from env OPENCLAW_GATEWAY_TOKEN); openclaw local mode reads --token, then gateway.auth.token (not set), then OPENCLAW_GATEWAY_TOKEN, then gateway.remote.token (only when gateway.auth.token is not configured); also set but not used: env CLAWDBOT_GATEWAY_TOKEN (different value)",
		},
		{
			name:  "SecretRef source in the report",
			files: map[string]string{ocConfig: "@secretref-env.json5"},
			env:   map[string]string{"MY_GW_TOKEN": "ref-token"},
			token: "token: set (from " + ocFile + "gateway.auth.token (SecretRef env MY_GW_TOKEN)); " + localOrder,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := newHome(t, tt.files)
			sub := func(s string) string { return strings.ReplaceAll(s, "$HOME", home) }
			s, err := Discover(tt.o, MapEnv(tt.env), home)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := reportLine(s, "token"), sub(tt.token); got != want {
				t.Errorf("token line\n got: %s\nwant: %s", got, want)
			}
			if tt.pass != "" {
				if got, want := reportLine(s, "password"), sub(tt.pass); got != want {
					t.Errorf("password line\n got: %s\nwant: %s", got, want)
				}
			}
			report := strings.Join(s.Report(), "\n")
			for _, secret := range []string{"file-token", "env-token", "remote-token", "legacy-token", "ref-token", "flag-token", "env-password", "remote-password", "local-auth-token", "lab-token-123"} {
				if strings.Contains(report, secret) {
					t.Errorf("report shows %q:\n%s", secret, report)
				}
			}
			assertNoSecretInWarnings(t, s, "flag-token", "legacy-token")
		})
	}
}
