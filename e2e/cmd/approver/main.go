// Command approver is the e2e tests' operator on the gateway host: it runs
// inside the gateway's network namespace, connects over the gateway's
// loopback as client cli/cli with a device identity of its own (which both
// products pair silently, with operator.admin, on loopback: DEVICE.md
// §16.4), calls gateway methods and prints each payload as one JSON line on
// stdout.
//
//	ip netns exec NS approver -url ws://127.0.0.1:PORT -identity FILE \
//	    -call 'device.pair.list' -call 'device.pair.approve {"requestId":"…"}'
//
// The shared token comes from -token or, better (a flag is visible in ps),
// from $APPROVER_TOKEN. The identity file holds the Ed25519 seed (created
// with mode 0600 when missing). The signature is v3 (OpenClaw) first, v2
// (Clawdbot) after "device signature invalid". Values of "token" and
// "deviceToken" members are printed as "<redacted>".
//
// Exit codes: 0 every call succeeded; 1 a call failed (the gateway's error
// on stderr: code, message, details); 2 no connection (or bad usage).
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/clawgate/clawgate/gateway"
)

// TokenEnv is the variable the shared token is read from when -token is
// not given.
const TokenEnv = "APPROVER_TOKEN"

type call struct {
	method string
	params json.RawMessage
}

type config struct {
	url, token, identity, fingerprint, payload string
	scopes                                     []string
	timeout                                    time.Duration
	calls                                      []call
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "approver:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	os.Exit(run(ctx, cfg))
}

func parseFlags(args []string) (*config, error) {
	flags := flag.NewFlagSet("approver", flag.ContinueOnError)
	cfg := &config{}
	scopes := "operator.admin"
	flags.StringVar(&cfg.url, "url", "", "gateway URL (ws://127.0.0.1:PORT inside the namespace; wss:// with -tls-fingerprint)")
	flags.StringVar(&cfg.token, "token", "", "shared gateway token (default $"+TokenEnv+")")
	flags.StringVar(&cfg.identity, "identity", "", "file holding the approver's device key seed (created 0600 if missing)")
	flags.StringVar(&cfg.fingerprint, "tls-fingerprint", "", "SHA-256 hex of the gateway's certificate, for wss://")
	flags.StringVar(&cfg.payload, "payload", "auto", "signature payload: auto (v3, then v2 after \"device signature invalid\"), v3 or v2")
	flags.StringVar(&scopes, "scopes", scopes, "comma-separated scopes to request")
	flags.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "bound on everything: connect and every call")
	flags.Func("call", "`METHOD [JSON params]` to call (repeatable, in order)", func(v string) error {
		m, p, _ := strings.Cut(strings.TrimSpace(v), " ")
		if m == "" {
			return errors.New("empty method")
		}
		params := json.RawMessage("{}")
		if p = strings.TrimSpace(p); p != "" {
			if !json.Valid([]byte(p)) {
				return fmt.Errorf("the params of %s are not valid JSON: %s", m, p)
			}
			params = json.RawMessage(p)
		}
		cfg.calls = append(cfg.calls, call{method: m, params: params})
		return nil
	})
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	if cfg.token == "" {
		cfg.token = os.Getenv(TokenEnv)
	}
	switch {
	case cfg.url == "":
		return nil, errors.New("-url is required")
	case cfg.token == "":
		return nil, errors.New("no token: give -token or set $" + TokenEnv)
	case cfg.identity == "":
		return nil, errors.New("-identity is required")
	case len(cfg.calls) == 0:
		return nil, errors.New("nothing to do: give at least one -call")
	case cfg.payload != "auto" && cfg.payload != "v3" && cfg.payload != "v2":
		return nil, fmt.Errorf("-payload %q: want auto, v3 or v2", cfg.payload)
	}
	for _, s := range strings.Split(scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.scopes = append(cfg.scopes, s)
		}
	}
	return cfg, nil
}

func run(ctx context.Context, cfg *config) int {
	id, err := loadIdentity(cfg.identity)
	if err != nil {
		fmt.Fprintln(os.Stderr, "approver:", err)
		return 2
	}
	versions := []string{"v3", "v2"}
	if cfg.payload != "auto" {
		versions = []string{cfg.payload}
	}
	var c *conn
	for i, v := range versions {
		c, err = connect(ctx, cfg, id, v)
		if err == nil {
			break
		}
		var ge *gatewayError
		if i+1 < len(versions) && errors.As(err, &ge) && strings.Contains(ge.Message, "device signature invalid") {
			continue
		}
		fmt.Fprintf(os.Stderr, "approver: connect to %s as device %s (%s): %v\n", cfg.url, id.ID(), v, err)
		return 2
	}
	defer c.ws.Close(websocket.StatusNormalClosure, "done")
	fmt.Fprintf(os.Stderr, "approver: connected to %s as device %s (%s signature), protocol %d, scopes %s\n",
		cfg.url, id.ID(), c.payload, c.protocol, strings.Join(c.scopes, ","))
	for i, cl := range cfg.calls {
		payload, err := c.call(ctx, fmt.Sprintf("r%d", i+1), cl.method, cl.params)
		if err != nil {
			fmt.Fprintf(os.Stderr, "approver: %s failed: %v\n", cl.method, err)
			return 1
		}
		fmt.Println(string(redact(payload)))
	}
	return 0
}

// seedFile is the identity file: the Ed25519 seed, base64.
type seedFile struct {
	Seed string `json:"seed"`
}

// loadIdentity reads the seed in path, or creates it (0600) if missing.
func loadIdentity(path string) (*gateway.DeviceIdentity, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		data, _ := json.Marshal(seedFile{Seed: base64.StdEncoding.EncodeToString(seed)})
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadIdentity(path) // another approver was first
		}
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return gateway.NewDeviceIdentity(seed)
	}
	if err != nil {
		return nil, err
	}
	var sf seedFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	seed, err := base64.StdEncoding.DecodeString(sf.Seed)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: seed: %w", path, err)
	}
	return gateway.NewDeviceIdentity(seed)
}

// gatewayError is a gateway's error answer.
type gatewayError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details,omitempty"`
}

func (e *gatewayError) Error() string {
	s := e.Code + ": " + e.Message
	if len(e.Details) > 0 && string(e.Details) != "null" {
		s += " (details " + string(redact(e.Details)) + ")"
	}
	return s
}

type frame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Event   string          `json:"event,omitempty"`
	OK      bool            `json:"ok,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *gatewayError   `json:"error,omitempty"`
}

type conn struct {
	ws       *websocket.Conn
	payload  string
	protocol int
	scopes   []string
}

func connect(ctx context.Context, cfg *config, id *gateway.DeviceIdentity, payloadVersion string) (*conn, error) {
	opts := &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled}
	if cfg.fingerprint != "" {
		want := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(cfg.fingerprint, "sha256:"), ":", ""))
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: true, // the pin below replaces the chain check (a self-signed cert without SAN)
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return errors.New("the gateway sent no certificate")
				}
				sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
				if got := hex.EncodeToString(sum[:]); got != want {
					return fmt.Errorf("gateway certificate sha256 %s, pinned %s", got, want)
				}
				return nil
			},
		}}}
	}
	ws, _, err := websocket.Dial(ctx, cfg.url, opts)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	ws.SetReadLimit(64 << 20)
	c := &conn{ws: ws, payload: payloadVersion}
	var challenge struct {
		Nonce string `json:"nonce"`
		TS    int64  `json:"ts"`
	}
	for {
		f, err := c.read(ctx)
		if err != nil {
			ws.CloseNow()
			return nil, fmt.Errorf("waiting for connect.challenge: %w", err)
		}
		if f.Type == "event" && f.Event == "connect.challenge" {
			if err := json.Unmarshal(f.Payload, &challenge); err != nil || challenge.Nonce == "" {
				ws.CloseNow()
				return nil, fmt.Errorf("connect.challenge without a nonce: %s", f.Payload)
			}
			break
		}
	}
	sc := gateway.SignedConnect{ClientID: "cli", ClientMode: "cli", Role: "operator", Scopes: cfg.scopes,
		SignedAt: challenge.TS, Token: cfg.token, Nonce: challenge.Nonce, Platform: "linux"}
	payload := id.PayloadV3(sc)
	if payloadVersion == "v2" {
		payload = id.PayloadV2(sc)
	}
	params := map[string]any{
		"minProtocol": gateway.MinProtocol, "maxProtocol": gateway.MaxProtocol,
		"client": map[string]any{"id": "cli", "displayName": "clawgate-e2e-approver", "version": "e2e",
			"platform": "linux", "mode": "cli", "instanceId": "approver-" + id.ID()[:12]},
		"caps": []string{}, "role": "operator", "scopes": cfg.scopes,
		"auth": map[string]any{"token": cfg.token},
		"device": map[string]any{"id": id.ID(), "publicKey": id.PublicKey(), "signature": id.Sign(payload),
			"signedAt": challenge.TS, "nonce": challenge.Nonce},
	}
	hello, err := c.call(ctx, "connect", "connect", params)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	var h struct {
		Protocol int `json:"protocol"`
		Auth     *struct {
			Scopes []string `json:"scopes"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(hello, &h); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("undecodable hello-ok: %w", err)
	}
	c.protocol = h.Protocol
	if h.Auth != nil {
		c.scopes = h.Auth.Scopes
	} else {
		c.scopes = cfg.scopes
	}
	return c, nil
}

func (c *conn) read(ctx context.Context) (*frame, error) {
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("malformed frame: %w", err)
	}
	return &f, nil
}

// call sends a request and returns the payload of its answer, skipping
// events and other frames; an error answer is a *gatewayError.
func (c *conn) call(ctx context.Context, id, method string, params any) (json.RawMessage, error) {
	data, err := json.Marshal(map[string]any{"type": "req", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return nil, fmt.Errorf("send %s: %w", method, err)
	}
	for {
		f, err := c.read(ctx)
		if err != nil {
			return nil, fmt.Errorf("waiting for the answer to %s: %w", method, err)
		}
		if f.Type != "res" || f.ID != id {
			continue
		}
		// OpenClaw answers some methods first with {status:"accepted"}
		// and later with the final payload under the same id.
		if f.OK && isAccepted(f.Payload) {
			continue
		}
		if !f.OK {
			if f.Error == nil {
				f.Error = &gatewayError{Code: "UNKNOWN", Message: "error answer without an error"}
			}
			return nil, f.Error
		}
		if f.Payload == nil {
			return json.RawMessage("null"), nil
		}
		return f.Payload, nil
	}
}

func isAccepted(p json.RawMessage) bool {
	var v struct {
		Status string `json:"status"`
	}
	return json.Unmarshal(p, &v) == nil && v.Status == "accepted"
}

// redact replaces the values of members named token or deviceToken, at any
// depth, with "<redacted>".
func redact(raw json.RawMessage) json.RawMessage {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "token" || k == "deviceToken" {
					if _, ok := e.(string); ok {
						x[k] = "<redacted>"
						continue
					}
				}
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return raw
	}
	return out
}
