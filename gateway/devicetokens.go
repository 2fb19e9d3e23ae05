package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DeviceToken is a token a gateway issued to clawgate's device after
// pairing, for one role, with the scopes it grants. The token is a secret:
// it is never printed (String shows the scopes only).
type DeviceToken struct {
	Token       string   `json:"token"`
	Scopes      []string `json:"scopes"`
	Protocol    int      `json:"protocol,omitempty"`
	UpdatedAtMs int64    `json:"updatedAtMs"`
}

// String never shows the token.
func (t DeviceToken) String() string {
	return fmt.Sprintf("device token (scopes %s)", strings.Join(t.Scopes, ", "))
}

// deviceTokensFile is identity/device-auth.json: the tokens of one device,
// per gateway (GatewayKey) and role.
type deviceTokensFile struct {
	Version  int                               `json:"version"`
	DeviceID string                            `json:"deviceId"`
	Gateways map[string]map[string]DeviceToken `json:"gateways"`
}

// DeviceTokens stores the device tokens of one identity in clawgate's state
// directory (identity/device-auth.json, 0600, written atomically). A file of
// another device id is ignored and replaced on the next Put.
type DeviceTokens struct {
	path, deviceID string
	mu             sync.Mutex
}

// DeviceTokensPath is the token file under clawgate's state directory.
func DeviceTokensPath(stateDir string) string {
	return filepath.Join(stateDir, "identity", "device-auth.json")
}

// NewDeviceTokens returns the token store of device under stateDir.
func NewDeviceTokens(stateDir string, device *DeviceIdentity) *DeviceTokens {
	return &DeviceTokens{path: DeviceTokensPath(stateDir), deviceID: device.ID()}
}

// GatewayKey is the key tokens are stored under: scheme://host:port[/path]
// in lower case, without a trailing slash, query or credentials, the way
// OpenClaw scopes the tokens of remote gateways.
func GatewayKey(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "ws" && u.Scheme != "wss") {
		return "", fmt.Errorf("%s is not a ws:// or wss:// gateway URL", RedactURL(raw))
	}
	host := strings.ToLower(u.Host)
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "wss" {
			port = "443"
		}
		host += ":" + port
	}
	return u.Scheme + "://" + host + strings.ToLower(strings.TrimRight(u.Path, "/")), nil
}

// Get returns the token held for the gateway at gatewayURL and role.
func (s *DeviceTokens) Get(gatewayURL, role string) (DeviceToken, bool, error) {
	key, err := GatewayKey(gatewayURL)
	if err != nil {
		return DeviceToken{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return DeviceToken{}, false, err
	}
	t, ok := f.Gateways[key][role]
	return t, ok, nil
}

// All returns every token held, by gateway key and role.
func (s *DeviceTokens) All() (map[string]map[string]DeviceToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return nil, err
	}
	return f.Gateways, nil
}

// Path is the token file.
func (s *DeviceTokens) Path() string { return s.path }

// Put stores (or, with an empty token, removes) the token for the gateway
// at gatewayURL and role.
func (s *DeviceTokens) Put(gatewayURL, role string, t DeviceToken) error {
	key, err := GatewayKey(gatewayURL)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return err
	}
	if t.Token == "" {
		delete(f.Gateways[key], role)
		if len(f.Gateways[key]) == 0 {
			delete(f.Gateways, key)
		}
	} else {
		if f.Gateways[key] == nil {
			f.Gateways[key] = map[string]DeviceToken{}
		}
		if t.UpdatedAtMs == 0 {
			t.UpdatedAtMs = time.Now().UnixMilli()
		}
		f.Gateways[key][role] = t
	}
	return s.write(f)
}

// read loads the file; a missing file, or one of another device, is empty.
func (s *DeviceTokens) read() (*deviceTokensFile, error) {
	empty := &deviceTokensFile{Version: 1, DeviceID: s.deviceID, Gateways: map[string]map[string]DeviceToken{}}
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the device token file %s is not a regular file; move it away (the gateways will ask for pairing again)", s.path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the device token file %s can be read by other users (mode %04o): run chmod 600 %s", s.path, fi.Mode().Perm(), s.path)
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	var f deviceTokensFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("the device token file %s is damaged; move it away (the gateways will ask for pairing again)", s.path)
	}
	if f.DeviceID != s.deviceID || f.Gateways == nil {
		return empty, nil // tokens of another identity are no use to this one
	}
	return &f, nil
}

// write replaces the file atomically with mode 0600.
func (s *DeviceTokens) write(f *deviceTokensFile) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	if err := writePrivateFile(s.path, append(b, '\n'), true); err != nil {
		return fmt.Errorf("write the device tokens %s: %w", s.path, err)
	}
	return nil
}
