package schema

import "encoding/json"

// Frame types on the gateway WebSocket.
const (
	FrameRequest  = "req"
	FrameResponse = "res"
	FrameEvent    = "event"
)

// RequestFrame is a client → gateway request. Params is omitted when nil.
type RequestFrame struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// InboundFrame is any gateway → client frame: a response or an event. Only the
// fields of the frame's type are set; Payload stays raw so that each caller
// decodes just what it needs.
type InboundFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	OK      bool            `json:"ok,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *ErrorShape     `json:"error,omitempty"`
	Event   string          `json:"event,omitempty"`
	Seq     *int64          `json:"seq,omitempty"`
}

// ErrorShape is the error object of a failed response.
type ErrorShape struct {
	Code         string          `json:"code"`
	Message      string          `json:"message"`
	Details      json.RawMessage `json:"details,omitempty"`
	Retryable    bool            `json:"retryable,omitempty"`
	RetryAfterMs int64           `json:"retryAfterMs,omitempty"`
}

// ErrorDetails are the structured fields OpenClaw (protocol 4) puts into
// error.details. Clawdbot sends none or only a few of them.
type ErrorDetails struct {
	Code                string   `json:"code,omitempty"`
	Reason              string   `json:"reason,omitempty"`
	AuthReason          string   `json:"authReason,omitempty"`
	RecommendedNextStep string   `json:"recommendedNextStep,omitempty"`
	MissingScope        string   `json:"missingScope,omitempty"`
	RequiredScopes      []string `json:"requiredScopes,omitempty"`
	ExpectedProtocol    int      `json:"expectedProtocol,omitempty"`
	RequestID           string   `json:"requestId,omitempty"`
	// ApprovedScopes are the scopes a device already holds, in a
	// scope-upgrade pairing refusal.
	ApprovedScopes []string `json:"approvedScopes,omitempty"`
}

// Challenge is the payload of the connect.challenge event.
type Challenge struct {
	Nonce        string   `json:"nonce"`
	TS           int64    `json:"ts"`
	Capabilities []string `json:"capabilities,omitempty"`
}

// ConnectParams are the params of the connect request. Every optional field is
// omitted when empty: both generations use closed schemas that reject null
// arrays and empty strings.
type ConnectParams struct {
	MinProtocol int          `json:"minProtocol"`
	MaxProtocol int          `json:"maxProtocol"`
	Client      ClientInfo   `json:"client"`
	Caps        []string     `json:"caps,omitempty"`
	Role        string       `json:"role"`
	Scopes      []string     `json:"scopes,omitempty"`
	Auth        *ConnectAuth `json:"auth,omitempty"`
	// Device is the signed device identity (docs/protocol.md §2.7).
	Device    *ConnectDevice `json:"device,omitempty"`
	Locale    string         `json:"locale,omitempty"`
	UserAgent string         `json:"userAgent,omitempty"`
}

// ClientInfo identifies the client in ConnectParams.
type ClientInfo struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Version     string `json:"version,omitempty"`
	Platform    string `json:"platform,omitempty"`
	Mode        string `json:"mode"`
	InstanceID  string `json:"instanceId,omitempty"`
}

// ConnectAuth carries the shared secret. It never leaves the process except
// inside the connect frame; its String method hides the values.
type ConnectAuth struct {
	Token    string `json:"token,omitempty"`
	Password string `json:"password,omitempty"`
	// DeviceToken is the token a gateway issued to this device; protocol
	// 4 only (Clawdbot's closed schema refuses it: it takes the device
	// token as Token).
	DeviceToken string `json:"deviceToken,omitempty"`
}

// ConnectDevice is connect.device: the device identity and its signature
// over the connect (gateway.DeviceIdentity builds it). None of it is
// secret.
type ConnectDevice struct {
	ID        string `json:"id"`
	PublicKey string `json:"publicKey"`
	Signature string `json:"signature"`
	SignedAt  int64  `json:"signedAt"`
	Nonce     string `json:"nonce"`
}

// String hides the credentials so that a stray %v never prints them.
func (a ConnectAuth) String() string { return "{auth redacted}" }

// GoString hides the credentials from %#v.
func (a ConnectAuth) GoString() string { return a.String() }

// HelloOK is the payload of a successful connect response, for both
// generations.
type HelloOK struct {
	Type     string     `json:"type"`
	Protocol int        `json:"protocol"`
	Server   ServerInfo `json:"server"`
	Features struct {
		Methods []string `json:"methods"`
		Events  []string `json:"events"`
	} `json:"features"`
	Snapshot *Snapshot  `json:"snapshot,omitempty"`
	Auth     *HelloAuth `json:"auth,omitempty"`
	Policy   Policy     `json:"policy"`
}

// ServerInfo describes the gateway build. Version can be "dev" on Clawdbot.
type ServerInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Host    string `json:"host,omitempty"`
	BuildID string `json:"buildId,omitempty"`
	ConnID  string `json:"connId,omitempty"`
}

// Snapshot is the gateway state sent with hello-ok. Only the parts clawgate
// uses are decoded.
type Snapshot struct {
	UptimeMs        int64            `json:"uptimeMs,omitempty"`
	ConfigPath      string           `json:"configPath,omitempty"`
	StateDir        string           `json:"stateDir,omitempty"`
	AuthMode        string           `json:"authMode,omitempty"`
	SessionDefaults *SessionDefaults `json:"sessionDefaults,omitempty"`
}

// SessionDefaults names the default agent and its main session.
type SessionDefaults struct {
	DefaultAgentID string `json:"defaultAgentId,omitempty"`
	MainKey        string `json:"mainKey,omitempty"`
	MainSessionKey string `json:"mainSessionKey,omitempty"`
	Scope          string `json:"scope,omitempty"`
}

// HelloAuth is hello-ok.auth: always present on protocol 4, present on
// protocol 3 only when a device token was issued. Scopes is a pointer so that
// "absent" and "empty" can be told apart.
type HelloAuth struct {
	Method string    `json:"method,omitempty"`
	Role   string    `json:"role,omitempty"`
	Scopes *[]string `json:"scopes,omitempty"`
	// DeviceToken is the device's token, sent when the connect carried a
	// paired device identity. A secret.
	DeviceToken string `json:"deviceToken,omitempty"`
}

// Policy holds the connection limits the gateway announces.
type Policy struct {
	MaxPayload       int64 `json:"maxPayload"`
	MaxBufferedBytes int64 `json:"maxBufferedBytes"`
	TickIntervalMs   int64 `json:"tickIntervalMs"`
}

// RunRef is the smallest part of an agent or chat event payload: enough to
// route it to the run it belongs to.
type RunRef struct {
	RunID string `json:"runId"`
}
