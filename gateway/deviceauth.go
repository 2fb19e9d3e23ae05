package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/clawgate/clawgate/schema"
)

// How a connect authenticates with the device identity (docs/protocol.md
// §2.7): which credentials it sends, whether it signs, and what the client
// learns from a refusal. The handshake itself is in handshake.go.

// DeviceMode says when the client connects with its device identity.
type DeviceMode string

// Device modes.
const (
	// DeviceAuto: with the device identity whenever the gateway is not on
	// loopback; on loopback device-less first, and with the device
	// identity as soon as the gateway grants a device-less client no
	// scopes (a gateway that closed the loopback exemption).
	DeviceAuto DeviceMode = "auto"
	// DeviceAlways: every connect carries the device identity.
	DeviceAlways DeviceMode = "always"
	// DeviceNever: never send the device identity (device-less, as
	// before device identities existed).
	DeviceNever DeviceMode = "never"
)

// DeviceModes lists the modes, in the order help texts name them.
var DeviceModes = []DeviceMode{DeviceAlways, DeviceAuto, DeviceNever}

// ParseDeviceMode parses always, auto or never.
func ParseDeviceMode(s string) (DeviceMode, error) {
	m := DeviceMode(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(DeviceModes, m) {
		return m, nil
	}
	return "", fmt.Errorf("%q is not a device identity mode: use always, auto or never", s)
}

// RoleOperator is the role clawgate connects with; device tokens are kept
// per gateway and role.
const RoleOperator = "operator"

// maxAuthAttempts bounds the connects of one dial: a v2 fallback, a stale
// device token dropped, a device identity added on loopback, and the last.
const maxAuthAttempts = 4

// authPlan is how one connect attempt authenticates.
type authPlan struct {
	device bool // sign the connect with the device identity
	// v2 signs payload v2 and sends the device token as auth.token: what
	// Clawdbot (protocol 3) takes; OpenClaw gets v3 and auth.deviceToken.
	v2 bool
	// deviceToken is the stored device token sent with the connect;
	// heldScopes are the scopes it was issued for.
	deviceToken string
	heldScopes  []string
	// dev and tokens are the identity and its token store (device only).
	dev    *DeviceIdentity
	tokens *DeviceTokens
}

// deviceState is what a Client learns about authenticating to its gateway
// across dials. It is safe for concurrent use.
type deviceState struct {
	mu sync.Mutex
	// v2: the gateway took a v2 signature after refusing v3 (Clawdbot).
	v2 bool
	// loopbackDevice: on loopback in DeviceAuto, the gateway granted a
	// device-less connect no scopes, so every later connect signs.
	loopbackDevice bool
	// learned are device tokens issued during this client's life: the
	// redactor scrubs them like the configured secrets.
	learned []string
	red     *redactor
	// device and tokens are Options.Device and Options.DeviceTokens, or
	// loaded from Options.StateDir on first need.
	device *DeviceIdentity
	tokens *DeviceTokens
}

// identity returns the device identity and its token store: o's, or those
// under o.StateDir, created there on first need. nil: none configured.
func (st *deviceState) identity(o Options) (*DeviceIdentity, *DeviceTokens, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.device != nil {
		return st.device, st.tokens, nil
	}
	switch {
	case o.Device != nil:
		st.device, st.tokens = o.Device, o.DeviceTokens
	case o.StateDir != "":
		d, err := LoadOrCreateDeviceIdentity(o.StateDir)
		if err != nil {
			return nil, nil, err
		}
		st.device, st.tokens = d, NewDeviceTokens(o.StateDir, d)
	}
	return st.device, st.tokens, nil
}

// identityExists reports whether there is a device identity to load,
// without creating one.
func (st *deviceState) identityExists(o Options) bool {
	st.mu.Lock()
	loaded := st.device != nil
	st.mu.Unlock()
	if loaded || o.Device != nil {
		return true
	}
	_, err := os.Stat(DeviceIdentityPath(o.StateDir))
	return err == nil
}

// deviceConfigured reports whether o can connect with a device identity.
func (o Options) deviceConfigured() bool {
	return (o.Device != nil || o.StateDir != "") && o.DeviceMode != DeviceNever
}

// redactor returns the redactor for a dial: base, plus the device tokens
// learned so far.
func (st *deviceState) redactor(o Options) *redactor { return st.learnSecret(o, "") }

// learnSecret makes the redactor scrub s ("": nothing new) from now on and
// returns it.
func (st *deviceState) learnSecret(o Options, s string) *redactor {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s == "" || slices.Contains(st.learned, s) {
		if st.red == nil {
			st.red = o.red
		}
		return st.red
	}
	st.learned = append(st.learned, s)
	st.red = newRedactor(append(optionSecrets(o), st.learned...)...)
	return st.red
}

// plan is the first attempt's plan for a dial with o.
func (st *deviceState) plan(o Options) (authPlan, error) {
	var p authPlan
	if !o.deviceConfigured() {
		return p, nil
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return p, err // validated in withDefaults
	}
	st.mu.Lock()
	p.v2 = st.v2
	wanted := o.DeviceMode == DeviceAlways || !IsLoopback(u.Hostname()) || st.loopbackDevice
	st.mu.Unlock()
	// Otherwise (auto, on loopback) the device goes along only when the
	// user paired it with this gateway all the same: a token is held. No
	// identity is created to find that out.
	if !wanted && !st.identityExists(o) {
		return p, nil
	}
	dev, tokens, err := st.identity(o)
	if err != nil {
		if !wanted {
			return p, nil
		}
		return p, err
	}
	var t DeviceToken
	ok := false
	if tokens != nil {
		if t, ok, err = tokens.Get(o.URL, RoleOperator); err != nil {
			if wanted {
				// A damaged token file must not lock the user out while
				// the shared token still works: the gateway issues the
				// token again.
				o.Logger.Warn("ignoring the stored device tokens", "err", err)
			}
		}
	}
	if !wanted && !ok {
		return p, nil
	}
	p.device, p.dev, p.tokens = true, dev, tokens
	if !ok {
		return p, nil
	}
	if Plaintext(u) && !o.AllowInsecureTransport {
		return p, &InsecureTransportError{Scheme: u.Scheme, Host: u.Hostname(), DeviceToken: true}
	}
	p.deviceToken, p.heldScopes = t.Token, t.Scopes
	st.learnSecret(o, t.Token)
	if t.Protocol == 3 {
		p.v2 = true
	}
	return p, nil
}

// next decides, after attempt p failed with err, whether another attempt
// can succeed, and with which plan; it may replace err with a clearer one.
func (st *deviceState) next(o Options, p authPlan, err error) (authPlan, error, bool) {
	var se *ScopeError
	ge, _ := AsError(err)
	noScopes := errors.As(err, &se)
	if (noScopes || ge != nil && ge.DeviceIdentityRequired()) && !p.device && o.deviceConfigured() && o.DeviceMode == DeviceAuto {
		st.mu.Lock()
		st.loopbackDevice = true
		st.mu.Unlock()
		if noScopes {
			o.Logger.Info("the gateway granted a device-less connection no scopes; connecting with the device identity")
		} else {
			o.Logger.Info("the gateway wants a device identity; connecting with it")
		}
		np, perr := st.plan(o)
		if perr != nil {
			return p, perr, false
		}
		return np, err, true
	}
	if ge == nil || !p.device {
		return p, err, false
	}
	if !p.v2 && wantsV2(ge) {
		st.mu.Lock()
		st.v2 = true
		st.mu.Unlock()
		p.v2 = true
		return p, err, true
	}
	if p.deviceToken == "" || !deviceTokenRefused(ge, p, o) {
		return p, err, false
	}
	shared := o.Token != "" || o.Password != ""
	scopeShort := ge.Details.Code == "AUTH_SCOPE_MISMATCH" || p.v2 && !shared && !covers(p.heldScopes, o.scopes())
	if scopeShort && !shared {
		// The token is good for fewer scopes; an upgrade needs a connect
		// with the shared token. Keep the token.
		return p, &DeviceTokenError{URL: RedactURL(o.URL), DeviceID: p.dev.ID(), ScopeUpgrade: true,
			Held: p.heldScopes, Requested: o.scopes(), Err: ge}, false
	}
	if perr := p.tokens.Put(o.URL, RoleOperator, DeviceToken{}); perr != nil {
		o.Logger.Warn("could not forget the refused device token", "err", perr)
	}
	if shared {
		o.Logger.Info("the gateway refused the stored device token; connecting again with the shared token")
		p.deviceToken, p.heldScopes = "", nil
		return p, err, true
	}
	return p, &DeviceTokenError{URL: RedactURL(o.URL), DeviceID: p.dev.ID(), Err: ge}, false
}

// wantsV2 reports whether a refusal of a v3-signed connect means the
// gateway takes v2 only: Clawdbot says "device signature invalid" without
// details, or refuses auth.deviceToken in its closed schema.
func wantsV2(ge *Error) bool {
	return ge.Details.Code == "" && strings.Contains(ge.Message, "device signature invalid") ||
		strings.Contains(ge.Message, "unexpected property 'deviceToken'")
}

// deviceTokenRefused reports whether the gateway refused the device token
// sent with p (stale: rotated, revoked, removed; or too narrow).
func deviceTokenRefused(ge *Error, p authPlan, o Options) bool {
	switch ge.Details.Code {
	case "AUTH_DEVICE_TOKEN_MISMATCH", "AUTH_SCOPE_MISMATCH":
		return true
	}
	// Clawdbot sends the device token as auth.token: a token mismatch
	// while no shared token was sent is the device token's.
	return p.v2 && o.Token == "" && ge.Kind() == KindAuth && ge.AuthProblem() == AuthMismatch
}

// covers reports whether held includes every scope of want, literally
// (Clawdbot's rule for device tokens).
func covers(held, want []string) bool {
	for _, s := range want {
		if !slices.Contains(held, s) {
			return false
		}
	}
	return true
}

// signDevice returns the connect.device of a connect with the given
// params, signed over the challenge.
func signDevice(d *DeviceIdentity, p schema.ConnectParams, ch schema.Challenge, v2 bool) *schema.ConnectDevice {
	token := ""
	if p.Auth != nil {
		token = p.Auth.Token
		if token == "" {
			token = p.Auth.DeviceToken
		}
	}
	sc := SignedConnect{ClientID: p.Client.ID, ClientMode: p.Client.Mode, Role: p.Role, Scopes: p.Scopes,
		SignedAt: ch.TS, Token: token, Nonce: ch.Nonce, Platform: p.Client.Platform}
	payload := d.PayloadV3(sc)
	if v2 {
		payload = d.PayloadV2(sc)
	}
	return &schema.ConnectDevice{ID: d.ID(), PublicKey: d.PublicKey(), Signature: d.Sign(payload), SignedAt: ch.TS, Nonce: ch.Nonce}
}

// connectAuth is the auth of a connect with plan p.
func connectAuth(o Options, p authPlan) *schema.ConnectAuth {
	a := schema.ConnectAuth{Token: o.Token, Password: o.Password}
	if p.deviceToken != "" {
		if p.v2 {
			if a.Token == "" {
				a.Token = p.deviceToken
			}
		} else {
			a.DeviceToken = p.deviceToken
		}
	}
	if a == (schema.ConnectAuth{}) {
		return nil
	}
	return &a
}

// DeviceTokenError means the gateway refused the device token clawgate
// held for it: rotated, revoked or the device removed (the token is
// forgotten), or, with ScopeUpgrade, valid but for fewer scopes than
// requested (kept). No shared token was configured to fall back on.
type DeviceTokenError struct {
	URL          string
	DeviceID     string
	ScopeUpgrade bool
	Held         []string // the token's scopes (ScopeUpgrade)
	Requested    []string
	Err          *Error // the gateway's refusal
}

// Kind is KindDeviceToken.
func (e *DeviceTokenError) Kind() Kind { return KindDeviceToken }

func (e *DeviceTokenError) Error() string {
	if e.ScopeUpgrade {
		return fmt.Sprintf("the gateway at %s accepts this device's token only for %s, fewer scopes than clawgate requests (%s): %v",
			e.URL, strings.Join(e.Held, ", "), strings.Join(e.Requested, ", "), e.Err)
	}
	return fmt.Sprintf("the gateway at %s no longer accepts this device's token (device %s): it was revoked or rotated, or the device was removed: %v",
		e.URL, e.DeviceID, e.Err)
}

func (e *DeviceTokenError) Unwrap() error { return e.Err }
