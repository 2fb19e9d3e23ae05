package gatewaysim

import (
	"encoding/json"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// connectParams are the connect params the fake looks at (after validation).
type connectParams struct {
	MinProtocol int `json:"minProtocol"`
	MaxProtocol int `json:"maxProtocol"`
	Client      struct {
		ID   string `json:"id"`
		Mode string `json:"mode"`
	} `json:"client"`
	Role   *string         `json:"role"`
	Scopes []string        `json:"scopes"`
	Caps   []string        `json:"caps"`
	Device json.RawMessage `json:"device"`
	Auth   *struct {
		Token       string `json:"token"`
		Password    string `json:"password"`
		DeviceToken string `json:"deviceToken"`
	} `json:"auth"`
}

// sendChallenge sends the connect.challenge event (no seq, like the real ones).
func (c *Conn) sendChallenge() {
	p := cloneObj(c.srv.tpl.challenge)
	nonce := uuid.NewString()
	c.smu.Lock()
	c.nonce = nonce
	c.smu.Unlock()
	p["nonce"] = nonce
	p["ts"] = nowMs()
	c.sendAsync(mustJSON(obj{"type": "event", "event": "connect.challenge", "payload": p}))
}

// dispatchConnect handles the connect request (before hello-ok).
func (s *Server) dispatchConnect(c *Conn, req Request) {
	s.mu.Lock()
	s.connects = append(s.connects, ConnectInfo{Conn: c.id, Params: append(json.RawMessage(nil), req.Params...), Origin: c.origin})
	idx := len(s.connects) - 1
	s.mu.Unlock()
	s.changed()
	c.smu.Lock()
	c.connectIdx = idx
	c.smu.Unlock()
	if h := s.handler("connect"); h != nil {
		h(c, req)
		return
	}
	c.connectDefault(req)
}

// recordConnectAuth stores how a connect authenticated.
func (s *Server) recordConnectAuth(idx int, deviceID, method, deviceToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if idx < 0 || idx >= len(s.connects) {
		return
	}
	ci := &s.connects[idx]
	ci.DeviceID, ci.Method, ci.DeviceToken = deviceID, method, deviceToken
}

// recordConnect stores the outcome of a connect.
func (s *Server) recordConnect(idx int, ok bool, e *ErrorShape, protocol int, scopes []string) {
	defer s.changed()
	s.mu.Lock()
	defer s.mu.Unlock()
	if idx < 0 || idx >= len(s.connects) {
		return
	}
	ci := &s.connects[idx]
	ci.OK, ci.Error, ci.Protocol = ok, e, protocol
	if ok {
		ci.Scopes = append([]string{}, scopes...)
	}
}

// takeStartup consumes one "gateway starting" reply, if any are left.
func (s *Server) takeStartup() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.startupLeft > 0 {
		s.startupLeft--
		return true
	}
	return false
}

// connectDefault is the built-in connect handling: validation, auth, scopes,
// hello-ok; failures answer with the real error and close the socket.
func (c *Conn) connectDefault(req Request) {
	s := c.srv
	v4 := s.opts.Generation == OpenClaw
	c.smu.Lock()
	idx := c.connectIdx
	c.smu.Unlock()
	fail := func(e *ErrorShape, code websocket.StatusCode, reason string) {
		s.logf("conn %d: connect rejected: %s", c.id, e.Message)
		s.recordConnect(idx, false, e, 0, nil)
		c.replyErrAsync(req.ID, e)
		c.Close(int(code), reason)
	}
	policy := func(e *ErrorShape) { fail(e, websocket.StatusPolicyViolation, e.Message) }

	if s.takeStartup() {
		fail(&ErrorShape{Code: "UNAVAILABLE", Message: "gateway starting; retry shortly", Retryable: true,
			RetryAfterMs: 50, Details: obj{"reason": "startup-sidecars"}}, websocket.StatusTryAgainLater, "gateway starting")
		return
	}
	if msg := s.prof.val.check(s.prof.connect, req.Params); msg != "" {
		policy(invalid("invalid connect params: " + msg))
		return
	}
	var p connectParams
	_ = json.Unmarshal(req.Params, &p)

	protocol := s.prof.protocol
	if v4 {
		switch {
		case p.MaxProtocol >= 4 && p.MinProtocol <= 4:
		case p.Client.Mode == "probe" && p.MaxProtocol >= 3 && p.MinProtocol <= 4:
			protocol = 3
		default:
			fail(&ErrorShape{Code: "INVALID_REQUEST", Message: "protocol mismatch", Details: obj{
				"code": "PROTOCOL_MISMATCH", "clientMinProtocol": p.MinProtocol, "clientMaxProtocol": p.MaxProtocol,
				"expectedProtocol": 4, "minimumProbeProtocol": 3}}, websocket.StatusProtocolError, "protocol mismatch")
			return
		}
	} else if p.MaxProtocol < 3 || p.MinProtocol > 3 {
		fail(&ErrorShape{Code: "INVALID_REQUEST", Message: "protocol mismatch", Details: obj{"expectedProtocol": 3}},
			websocket.StatusProtocolError, "protocol mismatch")
		return
	}

	role := "operator"
	if p.Role != nil {
		role = *p.Role
	}
	if role != "operator" && role != "node" {
		policy(invalid("invalid role"))
		return
	}

	hasDevice := len(p.Device) > 0 && string(p.Device) != "null"
	if hasDevice {
		c.connectWithDevice(req, protocol, role, p.Caps, idx) // device.go
		return
	}
	var token, password string
	if p.Auth != nil {
		token, password = p.Auth.Token, p.Auth.Password
	}
	if v4 && (p.Client.ID == "webchat" || p.Client.ID == "webchat-ui" || p.Client.ID == "openclaw-control-ui") && !c.origin {
		policy(errorFrom(s.tpl.errControlUI))
		return
	}
	if !v4 && p.Client.ID == "clawdbot-control-ui" {
		policy(invalid("control ui requires HTTPS or localhost (secure context)"))
		return
	}
	// A device token without a device is "device identity required"
	// on OpenClaw too (frames s2-devtokenfield-no-device).
	if token == "" && (!v4 || password == "") {
		policy(errorFrom(s.tpl.errNoAuth))
		return
	}
	method := "token"
	switch {
	case token == s.opts.Token || (v4 && password == s.opts.Token):
	case s.opts.Password != "" && (password == s.opts.Password || (v4 && token == s.opts.Password)):
		method = "password"
	default:
		e := errorFrom(s.tpl.errWrongToken)
		if !v4 {
			e.Message = v3AuthMessage(p.Client.ID, s.opts.Password != "" && token != "" && password != "")
		}
		policy(e)
		return
	}

	scopes := p.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	if !v4 && len(scopes) == 0 && role == "operator" {
		scopes = []string{scopeAdmin}
	}
	if v4 {
		trusted := (p.Client.ID == "gateway-client" && p.Client.Mode == "backend") || (p.Client.ID == "cli" && p.Client.Mode == "cli")
		if role != "operator" || s.opts.ClearScopes || c.origin || !trusted || s.opts.Remote {
			scopes = []string{}
		}
	}

	c.smu.Lock()
	c.ready = true
	c.scopes = scopes
	c.caps = append([]string(nil), p.Caps...)
	c.smu.Unlock()
	s.recordConnectAuth(idx, "", method, "")
	s.recordConnect(idx, true, nil, protocol, scopes)
	s.logf("conn %d: hello-ok protocol %d scopes %v", c.id, protocol, scopes)
	c.replyAsync(req.ID, s.helloOK(c, protocol, role, scopes, method, nil))
	health := s.healthPayload()
	_ = s.sendEvent(c, "health", rawPayload(health), nil)
}

// v3AuthMessage is the 1.24 auth failure message (its hint depends on the client).
func v3AuthMessage(clientID string, password bool) string {
	what, hint := "token", "provide gateway auth token"
	if password {
		what, hint = "password", "provide gateway auth password"
	}
	switch clientID {
	case "cli":
		hint = "set gateway.remote." + what + " to match gateway.auth." + what
	case "webchat", "webchat-ui", "clawdbot-control-ui":
		hint = "open a tokenized dashboard URL or paste token in Control UI settings"
		if password {
			hint = "enter the password in Control UI settings"
		}
	}
	return "unauthorized: gateway " + what + " mismatch (" + hint + ")"
}

// errorFrom converts a recorded error object.
func errorFrom(e obj) *ErrorShape {
	es := &ErrorShape{Code: str(e, "code"), Message: str(e, "message")}
	if d, ok := e["details"]; ok {
		es.Details = clone(d)
	}
	return es
}

// helloOK builds the hello-ok payload from the recorded one; dt is the
// device token to hand out (nil: none).
func (s *Server) helloOK(c *Conn, protocol int, role string, scopes []string, method string, dt *deviceToken) obj {
	s.mu.Lock()
	bootID, bootedAt := s.bootID, s.bootedAt
	s.mu.Unlock()
	h := newRewriter(nowMs() - s.tpl.t0).applyObj(s.tpl.hello)
	h["protocol"] = protocol
	if server := sub(h, "server"); server != nil {
		server["connId"] = c.connID
		if _, ok := server["bootId"]; ok {
			server["bootId"] = bootID
		}
	}
	if snap := sub(h, "snapshot"); snap != nil {
		snap["uptimeMs"] = time.Since(bootedAt).Milliseconds()
	}
	if pol := sub(h, "policy"); pol != nil {
		pol["maxPayload"] = s.maxPayload()
		pol["tickIntervalMs"] = s.opts.tickIntervalMs()
	}
	if s.opts.Generation == OpenClaw {
		// Recorded: only admins see config paths; callers without read scope
		// get no Control UI extras either.
		if !scopesSatisfy(OpenClaw, scopes, scopeAdmin) {
			if snap := sub(h, "snapshot"); snap != nil {
				delete(snap, "authMode")
				delete(snap, "configPath")
				delete(snap, "stateDir")
			}
		}
		if !scopesSatisfy(OpenClaw, scopes, scopeRead) {
			delete(h, "controlUiLinkReaders")
			delete(h, "controlUiWidgetKinds")
		}
		auth := cloneObj(sub(s.tpl.hello, "auth"))
		auth["method"] = method
		auth["role"] = role
		auth["scopes"] = scopes
		if dt != nil { // DEVICE.md §5
			auth["deviceToken"] = dt.token
			auth["issuedAtMs"] = dt.issuedAt
			auth["recoveryScope"] = recoveryScope(c.DeviceID(), dt.token)
			auth["recoveryMigrationAllowed"] = true
		}
		h["auth"] = auth
	} else if dt != nil {
		// 1.24: the token's role and scopes, not the connection's (§12).
		h["auth"] = obj{"deviceToken": dt.token, "role": dt.role, "scopes": append([]string{}, dt.scopes...),
			"issuedAtMs": dt.issuedAt}
	} else {
		delete(h, "auth") // 1.24 sends auth only when it issued a device token
	}
	return h
}
