package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const (
	secretToken    = "tok-SECRET-1234"
	secretPassword = "pw-SECRET-5678"
)

// discoveredWithSecrets runs Discover so that Token and Password hold the
// secret values and every other field is filled too.
func discoveredWithSecrets(t *testing.T) *Settings {
	t.Helper()
	home := newHome(t, map[string]string{ocConfig: "@remote.json5"})
	s, err := Discover(Overrides{Token: secretToken}, MapEnv{"OPENCLAW_GATEWAY_PASSWORD": secretPassword}, home)
	if err != nil {
		t.Fatal(err)
	}
	if s.Token.Value != secretToken || s.Password.Value != secretPassword || !s.Token.Secret || !s.Password.Secret {
		t.Fatalf("setup: token %q password %q", s.Token.Value, s.Password.Value)
	}
	return s
}

func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, secret := range []string{secretToken, secretPassword, "SECRET"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s reveals a secret:\n%s", what, out)
			return
		}
	}
}

func TestSettingsNeverPrintSecrets(t *testing.T) {
	s := discoveredWithSecrets(t)
	type holder struct {
		Settings Settings
		Ptr      *Settings
		Tok      Setting
	}
	values := map[string]any{
		"Settings": *s, "*Settings": s, "Setting": s.Token, "*Setting": &s.Password,
		"struct holding them": holder{*s, s, s.Token}, "slice": []Setting{s.Token, s.Password},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
			out := fmt.Sprintf(verb, v)
			assertNoSecrets(t, name+" with "+verb, out)
		}
	}

	// The redacted output is still useful.
	if got := fmt.Sprintf("%v", s.Token); got != "set (from flag --token)" {
		t.Errorf("%%v of Token = %q", got)
	}
	if got := fmt.Sprintf("%#v", s.Password); got != `config.Setting{Value:"[redacted]", Source:"env OPENCLAW_GATEWAY_PASSWORD", Secret:true}` {
		t.Errorf("%%#v of Password = %q", got)
	}
	if got := s.URL.String(); !strings.HasPrefix(got, "wss://gateway.example.com:8443 (from ") {
		t.Errorf("URL.String() = %q", got)
	}
	if got := (Setting{Secret: true}).String(); got != "not set" {
		t.Errorf("unset secret String() = %q", got)
	}
	if got := fmt.Sprintf("%v", *s); !strings.Contains(got, `token="set (from flag --token)"`) || !strings.Contains(got, "url=\"wss://gateway.example.com:8443") {
		t.Errorf("%%v of Settings = %q", got)
	}
	if got := fmt.Sprintf("%#v", s); !strings.HasPrefix(got, "config.Settings{URL:config.Setting{Value:\"wss://gateway.example.com:8443\"") {
		t.Errorf("%%#v of Settings = %q", got)
	}
}

func TestSettingsSlogAndJSON(t *testing.T) {
	s := discoveredWithSecrets(t)

	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("discovered", "settings", s, "token", s.Token, "value", *s)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("discovered", "settings", s, "password", s.Password)
	assertNoSecrets(t, "slog output", buf.String())

	var line map[string]any
	if err := json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &line); err != nil {
		t.Fatal(err)
	}
	settings, _ := line["settings"].(map[string]any)
	token, _ := settings["token"].(map[string]any)
	url, _ := settings["url"].(map[string]any)
	if token["value"] != "[redacted]" || token["source"] != "flag --token" || url["value"] != "wss://gateway.example.com:8443" {
		t.Errorf("slog JSON settings = %v", settings)
	}

	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "json.Marshal", string(out))
	if !strings.Contains(string(out), `"Token":{"value":"[redacted]","source":"flag --token","secret":true}`) {
		t.Errorf("json.Marshal = %s", out)
	}
}

func TestReport(t *testing.T) {
	s := discoveredWithSecrets(t)
	report := strings.Join(s.Report(), "\n")
	assertNoSecrets(t, "Report", report)
	for _, want := range []string{
		"generation: openclaw (",
		"config file: " + s.ConfigPath,
		"state dir: " + s.StateDir,
		"env file: none",
		"mode: remote",
		"url: wss://gateway.example.com:8443 (from " + s.ConfigPath + ": gateway.remote.url)",
		"token: set (from flag --token)",
		"password: set (from env OPENCLAW_GATEWAY_PASSWORD)",
		"tls fingerprint: sha256:AA:BB:CC (from " + s.ConfigPath + ": gateway.remote.tlsFingerprint)",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}

	empty := strings.Join((&Settings{Generation: GenerationClawdbot, Mode: ModeLocal}).Report(), "\n")
	for _, want := range []string{"config file: none (using defaults)", "token: not set", "password: not set"} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty report lacks %q:\n%s", want, empty)
		}
	}
}

// Secrets must not leak through errors either, e.g. a parse error on the
// line that holds the token.
func TestErrorsNeverRevealSecrets(t *testing.T) {
	for name, cfg := range map[string]string{
		"syntax error after the token": "{gateway: {auth: {token: 'tok-SECRET-1234' x}}}",
		"unterminated token string":    "{gateway: {auth: {token: 'tok-SECRET-1234\n}}}",
		"token as an over-long number": "{gateway: {auth: {token: 1e999}}} // tok-SECRET-1234",
	} {
		t.Run(name, func(t *testing.T) {
			home := newHome(t, map[string]string{ocConfig: cfg})
			_, err := Discover(Overrides{}, MapEnv{}, home)
			if err == nil {
				t.Fatal("Discover succeeded, want a parse error")
			}
			if !strings.Contains(err.Error(), home+"/.openclaw/openclaw.json:1:") {
				t.Errorf("error %q lacks file:line", err)
			}
			assertNoSecrets(t, "error", err.Error())
			if strings.Contains(err.Error(), "1e999") {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}
