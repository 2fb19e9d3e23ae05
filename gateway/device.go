package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Device identity (docs/protocol.md §2.7): an Ed25519 key of clawgate's own,
// which a gateway not on loopback requires before it grants scopes. This
// file holds the identity, its storage and the signature of the connect
// request; the handshake that uses it and pairing come with the remote
// gateway work.

// DeviceIdentity is clawgate's Ed25519 device key. Its ID is the lowercase
// hex SHA-256 of the raw public key, as both gateway generations compute it.
type DeviceIdentity struct {
	key       ed25519.PrivateKey
	createdAt int64
}

// NewDeviceIdentity returns the identity of an Ed25519 seed (32 bytes).
func NewDeviceIdentity(seed []byte) (*DeviceIdentity, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("a device key seed has %d bytes, not %d", ed25519.SeedSize, len(seed))
	}
	return &DeviceIdentity{key: ed25519.NewKeyFromSeed(seed), createdAt: time.Now().UnixMilli()}, nil
}

// ID is the device id: lowercase hex of sha256(raw 32-byte public key).
func (d *DeviceIdentity) ID() string {
	sum := sha256.Sum256(d.key.Public().(ed25519.PublicKey))
	return hex.EncodeToString(sum[:])
}

// PublicKey is the raw public key, base64url without padding, as the
// connect request's device.publicKey carries it.
func (d *DeviceIdentity) PublicKey() string {
	return base64.RawURLEncoding.EncodeToString(d.key.Public().(ed25519.PublicKey))
}

// Sign signs payload and returns the signature base64url without padding.
func (d *DeviceIdentity) Sign(payload string) string {
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(d.key, []byte(payload)))
}

// String never shows the key.
func (d *DeviceIdentity) String() string { return "device " + d.ID() }

// SignedConnect is what a device signs in a connect request.
type SignedConnect struct {
	ClientID, ClientMode, Role string
	Scopes                     []string // in the order sent
	SignedAt                   int64    // the connect.challenge's ts (ms)
	Token                      string   // exactly the token sent ("" when none)
	Nonce                      string   // the connect.challenge's nonce
	Platform, DeviceFamily     string   // client.platform, client.deviceFamily
}

// PayloadV3 is OpenClaw's signature payload:
// v3|deviceId|clientId|mode|role|scopes|signedAt|token|nonce|platform|deviceFamily,
// with platform and deviceFamily trimmed and ASCII-lowered.
func (d *DeviceIdentity) PayloadV3(c SignedConnect) string {
	return strings.Join([]string{"v3", d.ID(), c.ClientID, c.ClientMode, c.Role, strings.Join(c.Scopes, ","),
		strconv.FormatInt(c.SignedAt, 10), c.Token, c.Nonce, asciiLower(c.Platform), asciiLower(c.DeviceFamily)}, "|")
}

// PayloadV2 is Clawdbot's signature payload (it rejects v3):
// v2|deviceId|clientId|mode|role|scopes|signedAt|token|nonce.
func (d *DeviceIdentity) PayloadV2(c SignedConnect) string {
	return strings.Join([]string{"v2", d.ID(), c.ClientID, c.ClientMode, c.Role, strings.Join(c.Scopes, ","),
		strconv.FormatInt(c.SignedAt, 10), c.Token, c.Nonce}, "|")
}

// asciiLower trims s and lowers ASCII A–Z only, as the gateways normalise
// platform and deviceFamily.
func asciiLower(s string) string {
	b := []byte(strings.TrimSpace(s))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// deviceFile is the stored identity: the JSON shape of Clawdbot's
// identity/device.json (version 1, PKCS#8 and SPKI PEM).
type deviceFile struct {
	Version       int    `json:"version"`
	DeviceID      string `json:"deviceId"`
	PublicKeyPem  string `json:"publicKeyPem"`
	PrivateKeyPem string `json:"privateKeyPem"`
	CreatedAtMs   int64  `json:"createdAtMs"`
}

// DeviceIdentityPath is the identity file under clawgate's state directory.
func DeviceIdentityPath(stateDir string) string {
	return filepath.Join(stateDir, "identity", "device.json")
}

// LoadOrCreateDeviceIdentity reads the identity stored under stateDir, or
// creates one on first need: the directories 0700, the file 0600, written
// atomically. A file that exists but cannot be used is an error, never
// replaced (a new identity would need pairing again on every gateway); so
// is a file or directory others may read or change.
func LoadOrCreateDeviceIdentity(stateDir string) (*DeviceIdentity, error) {
	path := DeviceIdentityPath(stateDir)
	d, err := loadDeviceIdentity(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return d, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("create a device key: %w", err)
	}
	d, err = NewDeviceIdentity(seed)
	if err != nil {
		return nil, err
	}
	if err := d.save(path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadDeviceIdentity(path) // another clawgate created it first
		}
		return nil, err
	}
	return d, nil
}

// LoadDeviceIdentity reads the identity stored under stateDir without
// creating one: an error wrapping fs.ErrNotExist when there is none yet.
func LoadDeviceIdentity(stateDir string) (*DeviceIdentity, error) {
	return loadDeviceIdentity(DeviceIdentityPath(stateDir))
}

func loadDeviceIdentity(path string) (*DeviceIdentity, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the device identity %s is not a regular file; move it away and clawgate creates a new identity (which needs pairing again)", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the device identity %s can be read by other users (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f deviceFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("the device identity %s is damaged (not a version 1 identity); clawgate does not replace it: move it away for a new identity (which needs pairing again)", path)
	}
	blk, _ := pem.Decode([]byte(f.PrivateKeyPem))
	if blk == nil {
		return nil, fmt.Errorf("the device identity %s holds no private key PEM; move it away for a new identity", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	priv, ok := k.(ed25519.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("the device identity %s holds no Ed25519 private key; move it away for a new identity", path)
	}
	d := &DeviceIdentity{key: priv, createdAt: f.CreatedAtMs}
	if f.DeviceID != "" && f.DeviceID != d.ID() {
		return nil, fmt.Errorf("the device identity %s names device %s but its key is device %s; move it away for a new identity", path, f.DeviceID, d.ID())
	}
	return d, nil
}

// save writes the identity to path atomically with mode 0600 in a 0700
// directory.
func (d *DeviceIdentity) save(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("the directory %s of the device identity can be read or changed by other users (mode %04o): run chmod 700 %s", dir, fi.Mode().Perm(), dir)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(d.key)
	if err != nil {
		return fmt.Errorf("encode the device key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(d.key.Public())
	if err != nil {
		return fmt.Errorf("encode the device key: %w", err)
	}
	b, _ := json.MarshalIndent(deviceFile{
		Version: 1, DeviceID: d.ID(), CreatedAtMs: d.createdAt,
		PublicKeyPem:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		PrivateKeyPem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})),
	}, "", "  ")
	// Link, not rename: of two clawgates creating at once, the second
	// keeps the first one's identity instead of replacing it.
	if err := writePrivateFile(path, append(b, '\n'), false); err != nil {
		return fmt.Errorf("write the device identity %s: %w", path, err)
	}
	return nil
}

// writePrivateFile writes data to path atomically with mode 0600: to a
// temporary file in the same directory, synced, then renamed over path
// (replace) or linked to it, which fails with fs.ErrExist when path exists.
func writePrivateFile(path string, data []byte, replace bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if replace {
		return os.Rename(tmp.Name(), path)
	}
	return os.Link(tmp.Name(), path)
}
