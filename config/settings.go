package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/clawgate/clawgate/gateway"
)

// Generation names: which CLI's rules Discover applied.
const (
	// GenerationOpenClaw is openclaw 2026.x (OPENCLAW_* variables, ~/.openclaw).
	GenerationOpenClaw = "openclaw"
	// GenerationClawdbot is clawdbot 2026.1.x (CLAWDBOT_* variables, ~/.clawdbot).
	GenerationClawdbot = "clawdbot"
)

// Gateway modes, from gateway.mode in the config file.
const (
	// ModeLocal means the gateway runs on this machine (the default).
	ModeLocal = "local"
	// ModeRemote means the CLI talks to gateway.remote.url.
	ModeRemote = "remote"
)

const redacted = "[redacted]"

// Setting is one discovered value together with where it came from.
type Setting struct {
	// Value is the value itself; "" means not set.
	Value string
	// Source is a human-readable origin, e.g. "flag --token",
	// "env OPENCLAW_GATEWAY_TOKEN",
	// "/home/u/.openclaw/openclaw.json: gateway.auth.token",
	// "/home/u/.openclaw/.env: OPENCLAW_GATEWAY_TOKEN" or "default".
	Source string
	// Secret marks values that must never be printed or logged.
	Secret bool

	// url marks the gateway URL, whose user info, query and fragment are
	// never shown: they may carry a credential (a tokenized dashboard link
	// pasted as --url).
	url bool
}

// IsSet reports whether the setting has a value.
func (s Setting) IsSet() bool { return s.Value != "" }

// String describes the setting for humans. For secrets it never contains the
// value: it is "set (from <source>)" or "not set".
func (s Setting) String() string {
	if !s.IsSet() {
		return "not set"
	}
	shown := s.safeValue()
	if s.Secret {
		shown = "set"
	}
	if s.Source == "" {
		return shown
	}
	return shown + " (from " + s.Source + ")"
}

// GoString implements fmt.GoStringer (%#v) with secret values redacted.
func (s Setting) GoString() string {
	return fmt.Sprintf("config.Setting{Value:%q, Source:%q, Secret:%t}", s.safeValue(), s.Source, s.Secret)
}

// Format implements fmt.Formatter so that every verb, not only %v and %s,
// goes through String or GoString and never prints a secret.
func (s Setting) Format(f fmt.State, verb rune) { format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer: a group of "value" (redacted for
// secrets) and "source".
func (s Setting) LogValue() slog.Value {
	return slog.GroupValue(slog.String("value", s.safeValue()), slog.String("source", s.Source))
}

// MarshalJSON implements json.Marshaler with secret values redacted.
func (s Setting) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value  string `json:"value"`
		Source string `json:"source,omitempty"`
		Secret bool   `json:"secret,omitempty"`
	}{s.safeValue(), s.Source, s.Secret})
}

// safeValue is the value if it may be shown, else a placeholder.
func (s Setting) safeValue() string {
	switch {
	case s.Secret && s.IsSet():
		return redacted
	case s.url:
		return gateway.URLShown(s.Value)
	}
	return s.Value
}

// Settings is what was discovered; each value comes with where it came from.
type Settings struct {
	// URL is the gateway WebSocket URL, e.g. ws://127.0.0.1:18789, or
	// wss://… when gateway.tls.enabled is true.
	URL Setting
	// Token is the shared gateway token (secret).
	Token Setting
	// Password is the shared gateway password (secret).
	Password Setting
	// TLSFingerprint pins the gateway's certificate
	// (gateway.remote.tlsFingerprint).
	TLSFingerprint Setting
	// ConfigPath is the config file that was read ("" if none).
	ConfigPath string
	// StateDir is the CLI's state directory (~/.openclaw, ~/.clawdbot, …).
	StateDir string
	// Generation is GenerationOpenClaw or GenerationClawdbot: which CLI's
	// rules were applied (see the package documentation).
	Generation string
	// Mode is ModeLocal or ModeRemote (gateway.mode).
	Mode string
	// Warnings are problems that did not stop discovery, e.g. an unresolved
	// ${VAR} under openclaw rules, an ignored legacy variable or a SecretRef
	// that cannot be resolved here. They never contain secret values.
	Warnings []string
	// CredentialsWithheld is set when discovery found a token or a
	// password but left Token and Password unset because the gateway URL
	// depends on a file that another local user could change (see
	// "Permissions" in the package documentation). It says which
	// credentials, why and how to fix it, without their values; the same
	// sentence is among Warnings. "" when nothing was withheld.
	CredentialsWithheld string

	generationReason string // why Generation was chosen
	envFile          string // the .env file that was read ("" if none)
	tokenWhy         string // why Token's source won, for Report
	passwordWhy      string // why Password's source won, for Report
}

// Report renders, one line per item, where every setting came from, for a
// doctor command. For the token and the password it also says why that
// source won (the order the gateway's CLI uses) and which other sources hold
// a value that was not used, and whether it is the same or a different one.
// Secret values are never shown.
func (s *Settings) Report() []string {
	orNone := func(v, none string) string {
		if v == "" {
			return none
		}
		return v
	}
	gen := s.Generation
	if s.generationReason != "" {
		gen += " (" + s.generationReason + ")"
	}
	lines := []string{
		"generation: " + gen,
		"state dir: " + orNone(s.StateDir, "none"),
		"config file: " + orNone(s.ConfigPath, "none (using defaults)"),
		"env file: " + orNone(s.envFile, "none"),
		"mode: " + s.Mode,
		"url: " + s.URL.String(),
		"token: " + s.Token.String() + because(s.tokenWhy),
		"password: " + s.Password.String() + because(s.passwordWhy),
		"tls fingerprint: " + s.TLSFingerprint.String(),
	}
	for _, w := range s.Warnings {
		lines = append(lines, "warning: "+w)
	}
	return lines
}

// because renders a reason after a setting in Report.
func because(why string) string {
	if why == "" {
		return ""
	}
	return "; " + why
}

// String summarises the settings on one line without secret values.
func (s Settings) String() string {
	return fmt.Sprintf("generation=%s mode=%s url=%q token=%q password=%q tlsFingerprint=%q config=%q stateDir=%q warnings=%d",
		s.Generation, s.Mode, s.URL.String(), s.Token.String(), s.Password.String(),
		s.TLSFingerprint.String(), s.ConfigPath, s.StateDir, len(s.Warnings))
}

// GoString implements fmt.GoStringer (%#v) with secret values redacted.
func (s Settings) GoString() string {
	return fmt.Sprintf("config.Settings{URL:%s, Token:%s, Password:%s, TLSFingerprint:%s, ConfigPath:%q, StateDir:%q, Generation:%q, Mode:%q, Warnings:%#v}",
		s.URL.GoString(), s.Token.GoString(), s.Password.GoString(), s.TLSFingerprint.GoString(),
		s.ConfigPath, s.StateDir, s.Generation, s.Mode, s.Warnings)
}

// Format implements fmt.Formatter so that every verb goes through String or
// GoString and never prints a secret.
func (s Settings) Format(f fmt.State, verb rune) { format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer without secret values.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("generation", s.Generation),
		slog.String("mode", s.Mode),
		slog.Attr{Key: "url", Value: s.URL.LogValue()},
		slog.Attr{Key: "token", Value: s.Token.LogValue()},
		slog.Attr{Key: "password", Value: s.Password.LogValue()},
		slog.Attr{Key: "tls_fingerprint", Value: s.TLSFingerprint.LogValue()},
		slog.String("config_path", s.ConfigPath),
		slog.String("state_dir", s.StateDir),
		slog.Any("warnings", s.Warnings),
	)
}

// format writes plain for every verb except %#v, which gets goSyntax.
func format(f fmt.State, verb rune, plain, goSyntax string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, goSyntax)
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", plain)
	default:
		_, _ = io.WriteString(f, plain)
	}
}

// addWarning records a warning once.
func (s *Settings) addWarning(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	for _, old := range s.Warnings {
		if old == w {
			return
		}
	}
	s.Warnings = append(s.Warnings, w)
}
