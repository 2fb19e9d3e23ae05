package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultURL          = "ws://127.0.0.1:18789"
	DefaultDialTimeout  = 10 * time.Second
	DefaultCallTimeout  = 30 * time.Second
	DefaultAgentGrace   = 30 * time.Second
	DefaultMinBackoff   = 200 * time.Millisecond
	DefaultMaxBackoff   = 3 * time.Second
	defaultTickInterval = 30 * time.Second
	preauthReadLimit    = 4 << 20 // read limit until hello-ok announces maxPayload
)

// The gateway's announced limits are clamped to these ranges: hello-ok is
// gateway input like any other, and an absurd value must neither exhaust
// memory nor kill healthy calls.
const (
	// minReadLimit and maxReadLimit bound the read limit, which is
	// policy.maxPayload. The floor keeps a gateway announcing a tiny limit
	// usable: Clawdbot says 512 KiB and still sends chat.history replies of
	// up to its 6 MiB history cap (DEFAULT_MAX_CHAT_HISTORY_MESSAGES_BYTES);
	// a reply over the read limit would kill the shared connection. The ceiling, 2.5 times OpenClaw's 25 MiB, bounds the memory
	// one frame may take (its bytes, and several times that once decoded):
	// a gateway announcing 1 TiB cannot make clawgate buffer a 600 MB
	// frame.
	minReadLimit = 8 << 20
	maxReadLimit = 64 << 20
	// minTickInterval and maxTickInterval bound policy.tickIntervalMs as
	// the liveness watchdog uses it (it fails a connection silent for two
	// intervals). Both real gateways announce 30 s. Below a second, a busy
	// gateway's ordinary pause before a reply (tickIntervalMs 1 allowed
	// 2 ms) would kill healthy calls; a second still finds a stalled
	// network within two. Above an hour, the arithmetic could overflow.
	minTickInterval = time.Second
	maxTickInterval = time.Hour
)

// readLimit is the read limit for an announced policy.maxPayload.
func readLimit(maxPayload int64) int64 {
	return min(max(maxPayload, minReadLimit), maxReadLimit)
}

// Scopes clawgate requests.
const (
	ScopeAdmin = "operator.admin"
	ScopeRead  = "operator.read"
	ScopeWrite = "operator.write"
)

// Options configure a Client. Token and Password are secrets: Options never
// prints them (see String).
type Options struct {
	URL      string // ws:// or wss:// (the rules: url.go); default DefaultURL
	Token    string
	Password string
	// ReadOnly requests only operator.read.
	ReadOnly bool
	// AllowInsecureTransport permits sending a token or password over plain
	// ws:// to a host that is not loopback (see Plaintext).
	AllowInsecureTransport bool
	// TLSFingerprint pins the gateway's certificate: the SHA-256 of its DER
	// encoding, hex, with or without colons and a "sha256:" prefix.
	TLSFingerprint string

	DialTimeout time.Duration // dial + handshake; default DefaultDialTimeout
	CallTimeout time.Duration // ordinary calls and agent acceptance; default DefaultCallTimeout
	AgentGrace  time.Duration // added to an agent run's own timeout; default DefaultAgentGrace
	MinBackoff  time.Duration // first reconnect delay after a failed connect
	MaxBackoff  time.Duration // cap of the reconnect delay

	// StateDir is clawgate's state directory: its device identity is
	// created there on first need, with the device tokens beside it
	// (DeviceIdentityPath, DeviceTokensPath). "" and no Device: connect
	// device-less.
	StateDir string
	// Device is a device identity to use instead of StateDir's.
	Device *DeviceIdentity
	// DeviceTokens keeps the tokens gateways issue to Device; nil: none
	// is kept (every connect then needs the shared token). With StateDir,
	// the store beside the identity.
	DeviceTokens *DeviceTokens
	// DeviceMode says when to connect with Device; default DeviceAuto.
	DeviceMode DeviceMode
	// DisplayName is sent as client.displayName, which a gateway's
	// pairing list shows the approver; default "clawgate".
	DisplayName string

	ClientVersion string // sent as client.version; default "dev"
	InstanceID    string // sent as client.instanceId; default a fresh UUID
	// Logger receives the client's log lines. The client never waits for
	// it: lines are queued and written by a goroutine of their own, and
	// dropped (and counted) while the handler does not keep up.
	Logger *slog.Logger

	// ExtraSecrets are further secrets (device tokens) that, like Token,
	// Password and the values of the URL's query, never appear in
	// anything the client takes from the gateway: every gateway-supplied
	// string is scrubbed of them before it reaches an error, a result or
	// a log line.
	ExtraSecrets []string

	// Set by withDefaults (life: by New).
	red   *redactor       // scrubs gateway-supplied text of the secrets
	logq  *logQueue       // Logger's queue
	warns *warnLimiter    // summarises repeated warnings
	life  context.Context // the client's lifetime (see Client.life); Background until New sets it
}

// String describes the options without revealing secrets.
func (o Options) String() string {
	return fmt.Sprintf("gateway.Options{URL:%s Token:%s Password:%s ReadOnly:%t}", RedactURL(o.URL), setOrNot(o.Token), setOrNot(o.Password), o.ReadOnly)
}

// GoString hides the secrets from %#v.
func (o Options) GoString() string { return o.String() }

// LogValue hides the secrets from slog.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", RedactURL(o.URL)), slog.String("token", setOrNot(o.Token)),
		slog.String("password", setOrNot(o.Password)), slog.Bool("read_only", o.ReadOnly))
}

func setOrNot(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

// withDefaults fills zero fields and applies the URL and transport rules
// (see url.go).
func (o Options) withDefaults() (Options, error) {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	u, err := CheckURL(o.URL)
	if err != nil {
		return o, err
	}
	if u.User != nil {
		return o, &URLError{URL: RedactURL(o.URL), Reason: "it carries credentials in its user info", UserInfo: true}
	}
	o.URL = u.String()
	secret := o.Token != "" || o.Password != "" || len(u.Query()) > 0
	if secret && Plaintext(u) && !o.AllowInsecureTransport {
		return o, &InsecureTransportError{Scheme: u.Scheme, Host: u.Hostname()}
	}
	if o.TLSFingerprint != "" {
		if _, err := parseFingerprint(o.TLSFingerprint); err != nil {
			return o, err
		}
		if u.Scheme != "wss" {
			return o, &URLError{URL: RedactURL(o.URL), Reason: "a TLS fingerprint is set but the URL is not wss://, so there is no certificate to pin",
				Fix: "use the gateway's wss:// URL (gateway.tls.enabled on the gateway), or remove the fingerprint"}
		}
	}
	if o.DeviceMode == "" {
		o.DeviceMode = DeviceAuto
	}
	if _, err := ParseDeviceMode(string(o.DeviceMode)); err != nil {
		return o, err
	}
	if o.DisplayName == "" {
		o.DisplayName = "clawgate"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.AgentGrace <= 0 {
		o.AgentGrace = DefaultAgentGrace
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.ClientVersion == "" {
		o.ClientVersion = "dev"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger, o.logq = newAsyncLogger(o.Logger)
	o.warns = newWarnLimiter(o.Logger)
	o.red = newRedactor(optionSecrets(o)...)
	if o.life == nil {
		o.life = context.Background()
	}
	return o, nil
}

// scopes are the scopes clawgate requests: always the same set for a
// mode, since Clawdbot checks a device token's scopes literally.
// operator.admin is for what only it allows: removing sessions (the
// private sessions of ask_subagent) and the per-run model override.
func (o Options) scopes() []string {
	if o.ReadOnly {
		return []string{ScopeRead}
	}
	return []string{ScopeRead, ScopeWrite, ScopeAdmin}
}

func parseFingerprint(s string) ([]byte, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "sha256:")
	t = strings.TrimPrefix(t, "sha-256:")
	t = strings.ReplaceAll(t, ":", "")
	b, err := hex.DecodeString(t)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("invalid TLS fingerprint %q: want the SHA-256 of the certificate as 64 hex digits (colons allowed)", s)
	}
	return b, nil
}

// httpClient returns the HTTP client for the WebSocket dial: default
// transport for ws://, and for wss:// either normal verification or
// fingerprint pinning. It never follows a redirect: the redirect target
// would get the connect request, and with it the token, bypassing the TLS
// pin, TLS itself and the refusal to send a token in plaintext to a host
// that is not loopback. A 3xx answer is returned as is and fails the dial
// (see dial). Go sends a Referer header only when it follows a redirect, so
// none is ever sent.
func (o Options) httpClient() *http.Client {
	if !strings.HasPrefix(o.URL, "wss:") {
		return &http.Client{CheckRedirect: refuseRedirect}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSFingerprint != "" {
		want, _ := parseFingerprint(o.TLSFingerprint) // validated in withDefaults
		cfg.InsecureSkipVerify = true                 // replaced by the pin check below
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("gateway presented no TLS certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if !equalBytes(got[:], want) {
				return &TLSPinError{Got: hex.EncodeToString(got[:]), Want: hex.EncodeToString(want)}
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, CheckRedirect: refuseRedirect}
}

// refuseRedirect makes an http.Client return a redirect response instead of
// following it.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func equalBytes(a, b []byte) bool {
	return len(a) == len(b) && string(a) == string(b)
}

// CertFingerprint is the pin format TLSFingerprint accepts for cert.
func CertFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// TLSPinError means the gateway's certificate is not the pinned one. Got is
// what the gateway presented: compare it with the gateway host's
// certificate file to tell a changed certificate from another server.
type TLSPinError struct {
	Got, Want string // SHA-256 of the certificate DER, lowercase hex
}

func (e *TLSPinError) Error() string {
	return fmt.Sprintf("the gateway's TLS certificate has fingerprint sha256 %s, not the pinned %s", e.Got, e.Want)
}
