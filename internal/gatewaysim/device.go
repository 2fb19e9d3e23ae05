package gatewaysim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// Device identities and pairing, as measured on openclaw 2026.9.6 and
// clawdbot 2026.1.24-3 and written down in the lab's DEVICE.md (device-lab
// frames/*.jsonl hold the raw frames; Clawdbot's rules are also read from
// its dist/infra/device-pairing.js and ws-connection/message-handler.js).
// Section numbers below refer to DEVICE.md. The texts are copied verbatim
// from the recorded frames.

// Pairing-required messages, remediation hints and details.reason values of
// OpenClaw (§3, §7, §9).
const (
	reasonNotPaired       = "not-paired"
	reasonScopeUpgrade    = "scope-upgrade"
	reasonRoleUpgrade     = "role-upgrade"
	reasonMetadataUpgrade = "metadata-upgrade"

	msgPairNotPaired = "pairing required: device is not approved yet"
	msgPairScope     = "pairing required: device is asking for more scopes than currently approved"
	msgPairRole      = "pairing required: device is asking for a higher role than currently approved"
	msgPairMetadata  = "pairing required: device identity changed and must be re-approved"

	hintNotPaired = "Approve this device from the pending pairing requests."
	hintScope     = "Review the requested scopes, then approve the pending upgrade."
	hintRole      = "Review the requested role upgrade, then approve the pending request."
	hintMetadata  = "Review the refreshed device details, then approve the pending request."

	// msgPairClawdbot is Clawdbot's pairing error and close reason (§12).
	msgPairClawdbot = "pairing required"
)

// Auth failures with a device (§6, §7, §9, §10).
const (
	msgDeviceTokenMismatch = "unauthorized: device token mismatch (rotate/reissue device token)"
	msgScopeMismatch       = "unauthorized: device token scope mismatch (re-pair or approve scope upgrade)"
	msgTokenMismatch       = "unauthorized: gateway token mismatch (provide gateway auth token)"
	msgTokenMissing        = "unauthorized: gateway token missing (provide gateway auth token)"
)

// Device signature failures (§2, §10; the same messages on both
// generations, OpenClaw adds details {code, reason}).
const (
	msgDeviceIDMismatch = "device identity mismatch"
	msgSignatureExpired = "device signature expired"
	msgNonceRequired    = "device nonce required"
	msgNonceMismatch    = "device nonce mismatch"
	msgSignatureInvalid = "device signature invalid"
)

// closeDeviceRemoved is the close reason (code 4001) of an OpenClaw socket
// whose device token was rotated or revoked, or whose device was removed
// (§9, frames/held/s5-*.json).
const closeDeviceRemoved = "device removed"

// closeCodeDeviceRemoved is the close code of closeDeviceRemoved.
const closeCodeDeviceRemoved = 4001

// deviceAuthCodes maps OpenClaw's device-auth reasons to details.code.
var deviceAuthCodes = map[string]string{
	"device-id-mismatch":     "DEVICE_AUTH_DEVICE_ID_MISMATCH",
	"device-signature-stale": "DEVICE_AUTH_SIGNATURE_EXPIRED",
	"device-nonce-missing":   "DEVICE_AUTH_NONCE_REQUIRED",
	"device-nonce-mismatch":  "DEVICE_AUTH_NONCE_MISMATCH",
	"device-signature":       "DEVICE_AUTH_SIGNATURE_INVALID",
}

// Accepted |now - device.signedAt| (§2): OpenClaw 2 minutes, Clawdbot 10.
const (
	openclawSignatureSkew = 2 * time.Minute
	clawdbotSignatureSkew = 10 * time.Minute
)

// defaultPairingTTL is how long an unrefreshed pending request lives (§3).
const defaultPairingTTL = 5 * time.Minute

// PairingRequest is a pending device pairing request of the fake, what
// `openclaw devices list` shows under Pending.
type PairingRequest struct {
	// RequestID is the id the client got in error.details.requestId and
	// the operator approves (`openclaw devices approve <requestId>`).
	RequestID string
	// DeviceID is the requesting device's id (hex sha256 of its key).
	DeviceID string
	// PublicKey is the device's public key, base64url without padding.
	PublicKey string
	// Role is the requested role.
	Role string
	// Scopes are the requested scopes (Clawdbot: [operator.admin] when the
	// connect asked for none).
	Scopes []string
	// Reason is why pairing is required: not-paired, scope-upgrade,
	// role-upgrade or metadata-upgrade (OpenClaw's details.reason; Clawdbot
	// does not send it).
	Reason string
	// ClientID, ClientMode, Platform and DisplayName are the connect's client fields.
	ClientID, ClientMode, Platform, DisplayName string
	// IsRepair reports a request of a device that is already paired.
	IsRepair bool
}

// PairedDevice is a device the fake has paired, with its operator token.
type PairedDevice struct {
	// DeviceID is the device id.
	DeviceID string
	// PublicKey is the device's public key, base64url without padding.
	PublicKey string
	// Platform is the platform pinned at approval (OpenClaw asks for
	// re-approval, metadata-upgrade, when it changes).
	Platform string
	// Roles are the approved roles.
	Roles []string
	// Scopes are the approved scopes.
	Scopes []string
	// Token is the current device token ("" if none was issued yet).
	Token string
	// TokenScopes are the scopes the token carries.
	TokenScopes []string
	// TokenRevoked reports a revoked token (RevokeDeviceToken).
	TokenRevoked bool
	// IssuedAtMs is when the token was issued or last rotated.
	IssuedAtMs int64
}

// pendingPairing is a pending request plus the fake's bookkeeping.
type pendingPairing struct {
	PairingRequest
	silent    bool
	refreshed time.Time // OpenClaw: creation or last reconnect; Clawdbot: creation
}

// pairedDevice is one paired device.
type pairedDevice struct {
	deviceID, publicKey, platform string
	clientID, clientMode          string
	roles, scopes                 []string
	token                         *deviceToken // nil: none issued
}

// deviceToken is a device's token for one role.
type deviceToken struct {
	token    string
	role     string
	scopes   []string
	issuedAt int64
	revoked  bool
}

// devices is the fake's pairing store (pending.json / paired.json).
type devices struct {
	mu      sync.Mutex
	pending []*pendingPairing // creation order
	paired  map[string]*pairedDevice
}

// deviceParams is connect.params.device.
type deviceParams struct {
	ID        string  `json:"id"`
	PublicKey string  `json:"publicKey"`
	Signature string  `json:"signature"`
	SignedAt  int64   `json:"signedAt"`
	Nonce     *string `json:"nonce"`
}

// deviceConnect is what connect handling with a device looks at.
type deviceConnect struct {
	Client struct {
		ID           string `json:"id"`
		Mode         string `json:"mode"`
		Platform     string `json:"platform"`
		DeviceFamily string `json:"deviceFamily"`
		DisplayName  string `json:"displayName"`
	} `json:"client"`
	Scopes []string     `json:"scopes"`
	Device deviceParams `json:"device"`
	Auth   *struct {
		Token       *string `json:"token"`
		Password    *string `json:"password"`
		DeviceToken *string `json:"deviceToken"`
	} `json:"auth"`
}

// deviceOutcome is the result of the auth and pairing decision.
type deviceOutcome struct {
	err         *ErrorShape
	closeReason string
	method      string
	scopes      []string     // the connection's scopes
	token       *deviceToken // a copy of the token to hand out in hello-ok (nil: none)
	resolved    *pendingPairing
}

// connectWithDevice handles a connect request that carries a device: the
// signature checks, then auth (shared token, password or device token),
// then pairing, then hello-ok.
func (c *Conn) connectWithDevice(req Request, protocol int, role string, caps []string, idx int) {
	s := c.srv
	v4 := s.opts.Generation == OpenClaw
	fail := func(e *ErrorShape, reason string) {
		s.logf("conn %d: connect rejected: %s", c.id, e.Message)
		s.recordConnect(idx, false, e, 0, nil)
		c.replyErrAsync(req.ID, e)
		c.Close(int(websocket.StatusPolicyViolation), reason)
	}
	var p deviceConnect
	_ = json.Unmarshal(req.Params, &p)
	d := p.Device
	if v4 && (p.Client.ID == "webchat" || p.Client.ID == "webchat-ui" || p.Client.ID == "openclaw-control-ui") && !c.origin {
		e := errorFrom(s.tpl.errControlUI)
		fail(e, e.Message)
		return
	}
	local := !s.opts.Remote

	devErr := func(reason, msg string) {
		e := invalid(msg)
		if v4 {
			e.Details = obj{"code": deviceAuthCodes[reason], "reason": reason}
		}
		fail(e, msg)
	}
	pub, ok := decodePublicKey(d.PublicKey)
	if !ok || deviceIDOf(pub) != d.ID {
		devErr("device-id-mismatch", msgDeviceIDMismatch)
		return
	}
	skew := clawdbotSignatureSkew
	if v4 {
		skew = openclawSignatureSkew
	}
	if diff := time.Duration(nowMs()-d.SignedAt) * time.Millisecond; diff > skew || diff < -skew {
		devErr("device-signature-stale", msgSignatureExpired)
		return
	}
	nonce := ""
	if d.Nonce != nil {
		nonce = strings.TrimSpace(*d.Nonce)
	}
	c.smu.Lock()
	challenge := c.nonce
	c.smu.Unlock()
	if nonce == "" && (v4 || !local) {
		devErr("device-nonce-missing", msgNonceRequired)
		return
	}
	if nonce != "" && nonce != challenge {
		devErr("device-nonce-mismatch", msgNonceMismatch)
		return
	}
	var token, password, devToken string
	var tokenSet, devTokenSet bool
	if p.Auth != nil {
		if p.Auth.Token != nil {
			token, tokenSet = *p.Auth.Token, true
		}
		if p.Auth.Password != nil {
			password = *p.Auth.Password
		}
		if p.Auth.DeviceToken != nil {
			devToken, devTokenSet = *p.Auth.DeviceToken, true
		}
	}
	signed := ""
	switch {
	case tokenSet:
		signed = token
	case devTokenSet && v4:
		signed = devToken
	}
	fields := []string{d.ID, p.Client.ID, p.Client.Mode, role, strings.Join(p.Scopes, ","),
		strconv.FormatInt(d.SignedAt, 10), signed}
	var payloads []string
	switch {
	case v4: // §2: v3 first, then v2
		payloads = []string{
			strings.Join(append(append([]string{"v3"}, fields...), nonce, asciiLower(p.Client.Platform), asciiLower(p.Client.DeviceFamily)), "|"),
			strings.Join(append(append([]string{"v2"}, fields...), nonce), "|"),
		}
	case nonce != "":
		payloads = []string{strings.Join(append(append([]string{"v2"}, fields...), nonce), "|")}
	default: // Clawdbot on loopback without a nonce: the legacy v1 payload
		payloads = []string{strings.Join(append([]string{"v1"}, fields...), "|")}
	}
	sig, ok := decodeB64(d.Signature)
	verified := false
	for _, pl := range payloads {
		if ok && ed25519.Verify(pub, []byte(pl), sig) {
			verified = true
			break
		}
	}
	if !verified {
		devErr("device-signature", msgSignatureInvalid)
		return
	}

	requested := p.Scopes
	if requested == nil {
		requested = []string{}
	}
	in := deviceRequest{
		deviceID: d.ID, publicKey: base64.RawURLEncoding.EncodeToString(pub), role: role, scopes: requested,
		clientID: p.Client.ID, clientMode: p.Client.Mode, platform: asciiLower(p.Client.Platform),
		displayName: p.Client.DisplayName, local: local,
		token: token, password: password, deviceToken: devToken, deviceTokenSet: devTokenSet,
	}
	var out deviceOutcome
	if v4 {
		out = s.openclawDeviceConnect(in)
	} else {
		out = s.clawdbotDeviceConnect(in)
	}
	if out.resolved != nil {
		s.pairingResolved(out.resolved, "approved")
	}
	s.changed()
	if out.err != nil {
		fail(out.err, out.closeReason)
		return
	}

	c.smu.Lock()
	c.ready = true
	c.scopes = out.scopes
	c.deviceID = d.ID
	c.caps = append([]string(nil), caps...)
	c.smu.Unlock()
	issued := ""
	if out.token != nil {
		issued = out.token.token
	}
	s.recordConnectAuth(idx, d.ID, out.method, issued)
	s.recordConnect(idx, true, nil, protocol, out.scopes)
	s.logf("conn %d: hello-ok protocol %d device %.12s method %s scopes %v token issued %v", c.id, protocol, d.ID,
		out.method, out.scopes, out.token != nil)
	c.replyAsync(req.ID, s.helloOK(c, protocol, role, out.scopes, out.method, out.token))
	health := s.healthPayload()
	_ = s.sendEvent(c, "health", rawPayload(health), nil)
}

// deviceRequest is a verified device connect.
type deviceRequest struct {
	deviceID, publicKey, role      string
	scopes                         []string // as requested (Clawdbot: [operator.admin] when empty)
	clientID, clientMode, platform string
	displayName                    string
	local                          bool
	token, password, deviceToken   string
	deviceTokenSet                 bool
}

// sharedAuth checks the shared token or password like the device-less
// path; it returns the auth method ("" when neither matches).
func (s *Server) sharedAuth(token, password string) string {
	v4 := s.opts.Generation == OpenClaw
	switch {
	case token != "" && token == s.opts.Token, v4 && password != "" && password == s.opts.Token:
		return "token"
	case s.opts.Password != "" && (password == s.opts.Password || (v4 && token == s.opts.Password)):
		return "password"
	}
	return ""
}

// authFailure is an OpenClaw auth error (§6, §9, §10).
func authFailure(msg, code, authReason, next string, canRetry bool) *ErrorShape {
	return &ErrorShape{Code: "INVALID_REQUEST", Message: msg, Details: obj{"code": code, "authReason": authReason,
		"canRetryWithDeviceToken": canRetry, "recommendedNextStep": next}}
}

// liveToken returns the device's usable token for role (nil if none,
// revoked, or the device is not paired with this key); d.mu held.
func (d *devices) liveToken(deviceID, publicKey, role string) *deviceToken {
	pd := d.paired[deviceID]
	if pd == nil || pd.publicKey != publicKey || pd.token == nil || pd.token.revoked || pd.token.role != role {
		return nil
	}
	return pd.token
}

// openclawDeviceConnect decides an OpenClaw connect with a verified device.
func (s *Server) openclawDeviceConnect(in deviceRequest) deviceOutcome {
	d := &s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prune(s.pairingTTL())

	method := s.sharedAuth(in.token, in.password)
	if method == "" {
		if in.token == "" && in.password == "" && in.deviceToken == "" {
			e := authFailure(msgTokenMissing, "AUTH_TOKEN_MISSING", "token_missing", "update_auth_configuration", false)
			return deviceOutcome{err: e, closeReason: e.Message}
		}
		live := d.liveToken(in.deviceID, in.publicKey, in.role)
		matched := live != nil && ((in.deviceToken != "" && in.deviceToken == live.token) ||
			(in.deviceToken == "" && in.token != "" && in.token == live.token))
		switch {
		case matched && !scopesAllowV4(in.scopes, live.scopes):
			e := authFailure(msgScopeMismatch, "AUTH_SCOPE_MISMATCH", "scope_mismatch", "review_auth_configuration", false)
			return deviceOutcome{err: e, closeReason: e.Message}
		case matched:
			method = "device-token"
		case in.token == "" && in.deviceToken != "":
			e := authFailure(msgDeviceTokenMismatch, "AUTH_DEVICE_TOKEN_MISMATCH", "device_token_mismatch", "update_auth_credentials", false)
			return deviceOutcome{err: e, closeReason: e.Message}
		default:
			e := errorFrom(s.tpl.errWrongToken)
			if !in.deviceTokenSet && in.token != "" {
				e = authFailure(e.Message, "AUTH_TOKEN_MISMATCH", "token_mismatch", "retry_with_device_token", true)
			}
			return deviceOutcome{err: e, closeReason: e.Message}
		}
	}

	out := deviceOutcome{method: method, scopes: append([]string{}, in.scopes...)}
	pd := d.paired[in.deviceID]
	isPaired := pd != nil && pd.publicKey == in.publicKey
	// §8: on loopback gateway-client/backend skips pairing (the #72418 bypass).
	if in.local && in.clientID == "gateway-client" && in.clientMode == "backend" {
		if t := d.liveToken(in.deviceID, in.publicKey, in.role); t != nil {
			out.token = t.copy()
		}
		return out
	}
	reason := ""
	switch {
	case !isPaired:
		reason = reasonNotPaired
	case pd.platform != "" && pd.platform != in.platform:
		reason = reasonMetadataUpgrade
	case !contains(pd.roles, in.role) || d.liveToken(in.deviceID, in.publicKey, in.role) == nil:
		reason = reasonRoleUpgrade
	case !scopesAllowV4(in.scopes, pd.scopes):
		reason = reasonScopeUpgrade
	}
	if reason != "" {
		// On loopback the request is approved silently, unless an older
		// non-silent one of the device is still pending (§15 pitfall 9).
		pp, _ := d.request(OpenClaw, in, reason, in.local)
		if !pp.silent {
			return pairingFailure(OpenClaw, pp, pd, isPaired)
		}
		d.approve(OpenClaw, pp)
		out.resolved = pp
	}
	if t := d.liveToken(in.deviceID, in.publicKey, in.role); t != nil {
		out.token = t.copy()
	}
	return out
}

// pairingFailure is the NOT_PAIRED error for a pending request (§3, §12).
func pairingFailure(g Generation, pp *pendingPairing, pd *pairedDevice, isPaired bool) deviceOutcome {
	if g == Clawdbot {
		return deviceOutcome{err: &ErrorShape{Code: "NOT_PAIRED", Message: msgPairClawdbot,
			Details: obj{"requestId": pp.RequestID}}, closeReason: msgPairClawdbot}
	}
	msg, hint := msgPairNotPaired, hintNotPaired
	switch pp.Reason {
	case reasonScopeUpgrade:
		msg, hint = msgPairScope, hintScope
	case reasonRoleUpgrade:
		msg, hint = msgPairRole, hintRole
	case reasonMetadataUpgrade:
		msg, hint = msgPairMetadata, hintMetadata
	}
	details := obj{"code": "PAIRING_REQUIRED", "reason": pp.Reason, "requestId": pp.RequestID,
		"deviceId": pp.DeviceID, "requestedRole": pp.Role, "requestedScopes": append([]string{}, pp.Scopes...),
		"remediationHint": hint}
	if isPaired && pd != nil {
		if len(pd.roles) > 0 {
			details["approvedRoles"] = append([]string{}, pd.roles...)
		}
		if len(pd.scopes) > 0 {
			details["approvedScopes"] = append([]string{}, pd.scopes...)
		}
	}
	return deviceOutcome{err: &ErrorShape{Code: "NOT_PAIRED", Message: msg, Details: details},
		closeReason: msg + " (requestId: " + pp.RequestID + ")"}
}

// clawdbotDeviceConnect decides a Clawdbot connect with a verified device
// (message-handler.js: shared auth, else verifyDeviceToken; then pairing;
// then ensureDeviceToken).
func (s *Server) clawdbotDeviceConnect(in deviceRequest) deviceOutcome {
	if len(in.scopes) == 0 && in.role == "operator" {
		in.scopes = []string{scopeAdmin}
	}
	d := &s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prune(s.pairingTTL())

	method := s.sharedAuth(in.token, in.password)
	if method == "" && in.token != "" {
		if t := d.liveToken(in.deviceID, in.publicKey, in.role); t != nil && t.token == in.token &&
			scopesAllowLiteral(normalizeScopes(in.scopes), t.scopes) {
			method = "device-token"
		}
	}
	if method == "" {
		msg := v3AuthMessage(in.clientID, s.opts.Password != "" && in.token != "" && in.password != "")
		if in.token == "" && in.password == "" { // formatGatewayAuthFailureMessage, token_missing
			msg = strings.Replace(msg, "gateway token mismatch (", "gateway token missing (", 1)
		}
		return deviceOutcome{err: invalid(msg), closeReason: msg}
	}

	out := deviceOutcome{method: method, scopes: append([]string{}, in.scopes...)}
	pd := d.paired[in.deviceID]
	isPaired := pd != nil && pd.publicKey == in.publicKey
	reason := ""
	switch {
	case !isPaired:
		reason = reasonNotPaired
	case !contains(pd.roles, in.role):
		reason = reasonRoleUpgrade
	case !scopesAllowLiteral(in.scopes, pd.scopes):
		reason = reasonScopeUpgrade
	}
	if reason != "" {
		pp, _ := d.request(Clawdbot, in, reason, in.local)
		if !pp.silent {
			return pairingFailure(Clawdbot, pp, pd, isPaired)
		}
		d.approve(Clawdbot, pp)
		out.resolved = pp
	} else {
		pd.scopes = mergeScopes(pd.scopes, in.scopes)
	}
	// ensureDeviceToken: the current token if it covers the scopes, else a new one.
	pd = d.paired[in.deviceID]
	want := normalizeScopes(in.scopes)
	if pd.token == nil || pd.token.revoked || pd.token.role != in.role || !scopesAllowLiteral(want, pd.token.scopes) {
		pd.token = &deviceToken{token: newDeviceToken(Clawdbot), role: in.role, scopes: want, issuedAt: nowMs()}
	}
	out.token = pd.token.copy()
	return out
}

// copy returns a copy of t.
func (t *deviceToken) copy() *deviceToken {
	c := *t
	c.scopes = append([]string{}, t.scopes...)
	return &c
}

// request finds or creates the pending request of a device; d.mu held.
// OpenClaw reuses a request with the same key, role and scopes (and
// refreshes it) and supersedes the device's other requests; Clawdbot reuses
// any pending request of the device unchanged (requestDevicePairing).
func (d *devices) request(g Generation, in deviceRequest, reason string, silent bool) (*pendingPairing, bool) {
	var keep []*pendingPairing
	for _, pp := range d.pending {
		if pp.DeviceID != in.deviceID {
			keep = append(keep, pp)
			continue
		}
		if g == Clawdbot || (pp.PublicKey == in.publicKey && pp.Role == in.role && sameScopeSet(pp.Scopes, in.scopes)) {
			if g == OpenClaw {
				pp.refreshed = time.Now()
			}
			return pp, true
		}
	}
	d.pending = keep
	_, repair := d.paired[in.deviceID]
	pp := &pendingPairing{PairingRequest: PairingRequest{
		RequestID: uuid.NewString(), DeviceID: in.deviceID, PublicKey: in.publicKey, Role: in.role,
		Scopes: append([]string{}, in.scopes...), Reason: reason, ClientID: in.clientID, ClientMode: in.clientMode,
		Platform: in.platform, DisplayName: in.displayName, IsRepair: repair,
	}, silent: silent, refreshed: time.Now()}
	d.pending = append(d.pending, pp)
	return pp, false
}

// approve turns a pending request into a paired device with a new token; d.mu held.
func (d *devices) approve(g Generation, pp *pendingPairing) *pairedDevice {
	d.removePending(pp.RequestID)
	if d.paired == nil {
		d.paired = map[string]*pairedDevice{}
	}
	pd := d.paired[pp.DeviceID]
	if pd == nil || pd.publicKey != pp.PublicKey {
		pd = &pairedDevice{deviceID: pp.DeviceID, publicKey: pp.PublicKey}
		d.paired[pp.DeviceID] = pd
	}
	pd.platform, pd.clientID, pd.clientMode = pp.Platform, pp.ClientID, pp.ClientMode
	if !contains(pd.roles, pp.Role) {
		pd.roles = append(pd.roles, pp.Role)
	}
	tokenScopes := normalizeScopes(pp.Scopes)
	if g == OpenClaw {
		pd.scopes = normalizeScopes(append(append([]string{}, pd.scopes...), pp.Scopes...))
		tokenScopes = append([]string{}, pd.scopes...)
	} else {
		pd.scopes = mergeScopes(pd.scopes, pp.Scopes)
	}
	pd.token = &deviceToken{token: newDeviceToken(g), role: pp.Role, scopes: tokenScopes, issuedAt: nowMs()}
	return pd
}

// removePending drops a pending request; d.mu held.
func (d *devices) removePending(requestID string) *pendingPairing {
	for i, pp := range d.pending {
		if pp.RequestID == requestID {
			d.pending = append(d.pending[:i:i], d.pending[i+1:]...)
			return pp
		}
	}
	return nil
}

// prune drops requests older than ttl; d.mu held.
func (d *devices) prune(ttl time.Duration) {
	var keep []*pendingPairing
	for _, pp := range d.pending {
		if time.Since(pp.refreshed) <= ttl {
			keep = append(keep, pp)
		}
	}
	d.pending = keep
}

// pairingTTL is Options.PairingTTL or its default.
func (s *Server) pairingTTL() time.Duration {
	if s.opts.PairingTTL > 0 {
		return s.opts.PairingTTL
	}
	return defaultPairingTTL
}

// PendingPairings returns the pending device pairing requests, oldest first
// (expired ones, after Options.PairingTTL, are gone).
func (s *Server) PendingPairings() []PairingRequest {
	d := &s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prune(s.pairingTTL())
	out := make([]PairingRequest, 0, len(d.pending))
	for _, pp := range d.pending {
		r := pp.PairingRequest
		r.Scopes = append([]string{}, r.Scopes...)
		out = append(out, r)
	}
	return out
}

// WaitPendingPairing waits until a pairing request of the device deviceID
// ("" = any device) is pending and returns it (the newest such request).
// Like the other Wait methods it wakes on every change of the fake.
func (s *Server) WaitPendingPairing(ctx context.Context, deviceID string) (PairingRequest, error) {
	var got PairingRequest
	what := "a pending device pairing request"
	if deviceID != "" {
		what += " of device " + deviceID
	}
	err := s.WaitFor(ctx, what, func() bool {
		list := s.PendingPairings()
		for i := len(list) - 1; i >= 0; i-- {
			if deviceID == "" || list[i].DeviceID == deviceID {
				got = list[i]
				return true
			}
		}
		return false
	})
	return got, err
}

// ApprovePairing approves a pending request, like `openclaw devices approve
// <requestId>`: the device is paired with the requested role and scopes
// (OpenClaw: added to those approved before) and gets a new device token,
// which it receives in its next hello-ok. Approving an upgrade rotates the
// token; live connections stay open. Connections allowed to see pairing
// events get device.pair.resolved.
func (s *Server) ApprovePairing(requestID string) error {
	d := &s.dev
	d.mu.Lock()
	d.prune(s.pairingTTL())
	var pp *pendingPairing
	for _, x := range d.pending {
		if x.RequestID == requestID {
			pp = x
		}
	}
	if pp == nil {
		d.mu.Unlock()
		return fmt.Errorf("gatewaysim: no pending device request matches %s; call PendingPairings for the current request ids", requestID)
	}
	d.approve(s.opts.Generation, pp)
	d.mu.Unlock()
	s.logf("device %.12s: pairing request %s approved", pp.DeviceID, requestID)
	s.pairingResolved(pp, "approved")
	s.changed()
	return nil
}

// RejectPairing rejects a pending request (`openclaw devices reject
// <requestId>`); the device's next connect creates a new one.
func (s *Server) RejectPairing(requestID string) error {
	d := &s.dev
	d.mu.Lock()
	pp := d.removePending(requestID)
	d.mu.Unlock()
	if pp == nil {
		return fmt.Errorf("gatewaysim: no pending device request matches %s; call PendingPairings for the current request ids", requestID)
	}
	s.logf("device %.12s: pairing request %s rejected", pp.DeviceID, requestID)
	s.pairingResolved(pp, "rejected")
	s.changed()
	return nil
}

// RevokeDeviceToken revokes the device's operator token (`openclaw devices
// revoke --device ID --role operator`). OpenClaw closes the device's live
// connections with 4001 "device removed" and asks for a role-upgrade
// approval at its next shared-token connect; Clawdbot keeps them open and
// issues a new token at the next shared-token connect.
func (s *Server) RevokeDeviceToken(deviceID string) error {
	d := &s.dev
	d.mu.Lock()
	pd := d.paired[deviceID]
	if pd == nil || pd.token == nil {
		d.mu.Unlock()
		return fmt.Errorf("gatewaysim: device %s has no device token to revoke; pair it first", deviceID)
	}
	pd.token.revoked = true
	d.mu.Unlock()
	s.logf("device %.12s: token revoked", deviceID)
	s.dropDeviceConns(deviceID)
	s.changed()
	return nil
}

// RotateDeviceToken gives the device a new operator token with the same
// scopes (`openclaw devices rotate --device ID --role operator`) and
// returns it. OpenClaw closes the device's live connections with 4001
// "device removed"; Clawdbot keeps them.
func (s *Server) RotateDeviceToken(deviceID string) (string, error) {
	d := &s.dev
	d.mu.Lock()
	pd := d.paired[deviceID]
	if pd == nil {
		d.mu.Unlock()
		return "", fmt.Errorf("gatewaysim: device %s is not paired; there is no token to rotate", deviceID)
	}
	t := &deviceToken{token: newDeviceToken(s.opts.Generation), role: "operator", scopes: append([]string{}, pd.scopes...), issuedAt: nowMs()}
	if pd.token != nil {
		t.role, t.scopes = pd.token.role, append([]string{}, pd.token.scopes...)
	}
	pd.token = t
	d.mu.Unlock()
	s.logf("device %.12s: token rotated", deviceID)
	s.dropDeviceConns(deviceID)
	s.changed()
	return t.token, nil
}

// RemoveDevice unpairs the device (`openclaw devices remove ID`): its live
// connections are closed with 4001 "device removed" and its next connect
// needs a new approval (not-paired). OpenClaw only: Clawdbot has no remove
// (device.pair.remove is an unknown method there).
func (s *Server) RemoveDevice(deviceID string) error {
	if s.opts.Generation != OpenClaw {
		return fmt.Errorf("gatewaysim: %v cannot remove devices (no `devices remove`); use RevokeDeviceToken", s.opts.Generation)
	}
	d := &s.dev
	d.mu.Lock()
	_, ok := d.paired[deviceID]
	delete(d.paired, deviceID)
	var keep []*pendingPairing
	for _, pp := range d.pending {
		if pp.DeviceID != deviceID {
			keep = append(keep, pp)
		}
	}
	d.pending = keep
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("gatewaysim: device %s is not paired; nothing to remove", deviceID)
	}
	s.logf("device %.12s: removed", deviceID)
	s.dropDeviceConns(deviceID)
	s.changed()
	return nil
}

// PairedDevices returns the paired devices, ordered by device id.
func (s *Server) PairedDevices() []PairedDevice {
	d := &s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]PairedDevice, 0, len(d.paired))
	for _, pd := range d.paired {
		x := PairedDevice{DeviceID: pd.deviceID, PublicKey: pd.publicKey, Platform: pd.platform,
			Roles: append([]string{}, pd.roles...), Scopes: append([]string{}, pd.scopes...)}
		if pd.token != nil {
			x.Token, x.TokenScopes, x.TokenRevoked, x.IssuedAtMs = pd.token.token,
				append([]string{}, pd.token.scopes...), pd.token.revoked, pd.token.issuedAt
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DeviceID < out[j].DeviceID })
	return out
}

// Device returns the paired device deviceID, if it is paired.
func (s *Server) Device(deviceID string) (PairedDevice, bool) {
	for _, pd := range s.PairedDevices() {
		if pd.DeviceID == deviceID {
			return pd, true
		}
	}
	return PairedDevice{}, false
}

// dropDeviceConns closes the live connections of a device with 4001
// "device removed" (OpenClaw only; Clawdbot keeps them, §9).
func (s *Server) dropDeviceConns(deviceID string) {
	if s.opts.Generation != OpenClaw {
		return
	}
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	for _, c := range conns {
		if c.DeviceID() == deviceID {
			s.logf("conn %d: closing 4001 %s", c.id, closeDeviceRemoved)
			c.Close(closeCodeDeviceRemoved, closeDeviceRemoved)
		}
	}
}

// pairingResolved broadcasts device.pair.resolved to the connections that
// hold operator.pairing (or admin), as recorded (frames s8-rpc-approve).
func (s *Server) pairingResolved(pp *pendingPairing, decision string) {
	payload := obj{"requestId": pp.RequestID, "deviceId": pp.DeviceID, "decision": decision, "ts": nowMs()}
	s.mu.Lock()
	var conns []*Conn
	for _, c := range s.connList() {
		if c.isReady() && c.hasScope(scopePairing) {
			conns = append(conns, c)
		}
	}
	s.mu.Unlock()
	s.broadcast("device.pair.resolved", payload, "", conns)
}

// DeviceID returns the id of the device the connection authenticated with
// ("" for a device-less connection or before hello-ok).
func (c *Conn) DeviceID() string {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.deviceID
}

// newDeviceToken returns a fresh device token: OpenClaw 43 characters of
// base64url (32 random bytes), Clawdbot 32 hex characters (a uuid without
// dashes), §0.
func newDeviceToken(g Generation) string {
	if g == Clawdbot {
		return strings.ReplaceAll(uuid.NewString(), "-", "")
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// recoveryScope stands in for OpenClaw's hello-ok auth.recoveryScope (a
// sha256 of internal material including the token), base64url.
func recoveryScope(deviceID, token string) string {
	sum := sha256.Sum256([]byte(deviceID + "|" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// decodePublicKey decodes device.publicKey: raw 32 bytes in base64url (the
// normal form), base64, or an SPKI PEM (which the gateways also accept).
func decodePublicKey(s string) (ed25519.PublicKey, bool) {
	if strings.Contains(s, "BEGIN PUBLIC KEY") {
		blk, _ := pem.Decode([]byte(s))
		if blk == nil {
			return nil, false
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, false
		}
		pk, ok := k.(ed25519.PublicKey)
		return pk, ok
	}
	b, ok := decodeB64(s)
	if !ok || len(b) != ed25519.PublicKeySize {
		return nil, false
	}
	return ed25519.PublicKey(b), true
}

// decodeB64 decodes base64url or base64, padded or not.
func decodeB64(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// deviceIDOf is the device id of a key: lowercase hex sha256 of the raw key.
func deviceIDOf(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:])
}

// asciiLower trims s and lowers ASCII A–Z only, as both gateways normalise
// client.platform and client.deviceFamily in the signature payload.
func asciiLower(s string) string {
	b := []byte(strings.TrimSpace(s))
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

// scopesAllowV4 reports whether OpenClaw grants requested given allowed:
// each scope must be allowed, and operator.admin allows every operator
// scope (§7: even unknown ones such as operator.bogus).
func scopesAllowV4(requested, allowed []string) bool {
	admin := contains(allowed, scopeAdmin)
	for _, sc := range requested {
		if contains(allowed, sc) || (admin && strings.HasPrefix(sc, "operator.")) {
			continue
		}
		return false
	}
	return true
}

// scopesAllowLiteral is Clawdbot's scopesAllow: every requested scope
// string must be in allowed (no implications, §12).
func scopesAllowLiteral(requested, allowed []string) bool {
	for _, sc := range requested {
		if !contains(allowed, sc) {
			return false
		}
	}
	return true
}

// normalizeScopes trims, drops empties, dedups and sorts.
func normalizeScopes(scopes []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, sc := range scopes {
		sc = strings.TrimSpace(sc)
		if sc != "" && !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	sort.Strings(out)
	return out
}

// mergeScopes is the union of a and b in first-seen order.
func mergeScopes(a, b []string) []string {
	out := []string{}
	for _, sc := range append(append([]string{}, a...), b...) {
		sc = strings.TrimSpace(sc)
		if sc != "" && !contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// sameScopeSet reports whether a and b hold the same scopes.
func sameScopeSet(a, b []string) bool {
	na, nb := normalizeScopes(a), normalizeScopes(b)
	if len(na) != len(nb) {
		return false
	}
	for i := range na {
		if na[i] != nb[i] {
			return false
		}
	}
	return true
}
