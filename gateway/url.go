package gateway

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The gateway URL and transport rules, stated once. Options (when a Client
// is made) and package config (discovery, and doctor's report) both apply
// them through the functions below; TestURLRules checks them in one table.
//
//   - Schemes: ws:// and wss:// only. http:// and https:// are refused,
//     not rewritten. (OpenClaw's CLI connects to them as ws:// and wss://;
//     clawgate's discovery has always refused them, with a test, and a URL
//     naming HTTP is more often a dashboard link than the gateway's
//     WebSocket, so the stricter rule stands, and the error says what to
//     write instead.) A host is required.
//   - Credentials never go in the URL's user info: Options refuses a URL
//     with user info (discovery keeps it, so that doctor can report where
//     it came from, hidden; connecting then fails).
//   - Plaintext: a token or password is sent over plain ws:// only to a
//     loopback host, unless the user allows it explicitly
//     (Options.AllowInsecureTransport, --allow-insecure-transport); a
//     plain ws:// URL to any other host draws a warning from discovery
//     even without credentials. (OpenClaw's CLI also trusts private
//     addresses, .local and .ts.net names over ws://; clawgate does not.)
//     wss:// is always allowed.
//   - Loopback: the name "localhost", in any case, and IP literals in
//     127.0.0.0/8 and ::1, also in IPv4-mapped form (::ffff:127.0.0.1, which
//     Go dials as 127.0.0.1). Nothing else: not "localhost." nor
//     "*.localhost" (OpenClaw accepts the first), not the IPv4-compatible
//     ::127.0.0.1, not shorthand such as 127.1 (a resolver may read it as
//     127.0.0.1, but it is not an IP literal), not an address with a zone,
//     not 0.0.0.0. A name other than localhost is never loopback, whatever
//     it resolves to now.
//   - Shown: a URL's user info, query and fragment may hold a credential
//     (a tokenized dashboard link pasted as the URL) and are never shown in
//     errors, logs or reports (RedactURL); the URL is used as given.

// URLError is a gateway URL that breaks the rules. Its text never holds
// the URL's user info, query or fragment.
type URLError struct {
	URL    string // as RedactURL shows it
	Reason string // what is wrong, as a clause: "it has no host"
	Fix    string // what to write instead, when the rules know (for an http:// URL)
	// UserInfo: the URL carries credentials in its user info, which
	// Options refuses (Reason says so; where the credentials belong
	// instead is the edge's to say).
	UserInfo bool
}

// Kind is KindBadURL.
func (e *URLError) Kind() Kind { return KindBadURL }

func (e *URLError) Error() string {
	s := fmt.Sprintf("invalid gateway URL %q: %s", e.URL, e.Reason)
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

// CheckURL parses raw as a gateway URL and checks its scheme and host (the
// first rule above; user info is the caller's to refuse or keep). It
// returns the parsed URL, or a *URLError.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error quotes raw, query and all: it is not shown.
		return nil, &URLError{URL: RedactURL(raw), Reason: "it is not a valid URL"}
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http", "https":
		return nil, &URLError{URL: RedactURL(raw), Reason: "the scheme must be ws:// or wss://",
			Fix: fmt.Sprintf("a gateway at %s://host:port takes WebSocket connections at %s://host:port: write that", u.Scheme, wsScheme[u.Scheme])}
	default:
		return nil, &URLError{URL: RedactURL(raw), Reason: "the scheme must be ws:// or wss://"}
	}
	if u.Host == "" {
		return nil, &URLError{URL: RedactURL(raw), Reason: "it has no host"}
	}
	return u, nil
}

// wsScheme is the WebSocket scheme of an HTTP scheme.
var wsScheme = map[string]string{"http": "ws", "https": "wss"}

// Plaintext reports whether u carries frames unencrypted to a host that is
// not loopback: whether a token or password sent there could be read on
// the way.
func Plaintext(u *url.URL) bool {
	return u.Scheme == "ws" && !IsLoopback(u.Hostname())
}

// IsLoopback reports whether host, as url.URL.Hostname returns it (no
// brackets, no port), is loopback by the rule above: "localhost" in any
// case, or an IP literal in 127.0.0.0/8 or ::1 (also IPv4-mapped).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedactURL returns raw without user info, query and fragment, for
// messages, logs and reports; a URL with none of them is returned as it
// is, and one that does not parse becomes "<unparseable URL>".
func RedactURL(raw string) string {
	shown, _ := hideURL(raw)
	return shown
}

// hideURL is RedactURL, and whether it hid anything.
func hideURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>", true
	}
	if u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery {
		return raw, false
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = nil, "", "", "", false
	return u.String(), true
}

// URLShown is how a report shows the gateway URL raw: as RedactURL does,
// saying so when it hid anything.
func URLShown(raw string) string {
	shown, hidden := hideURL(raw)
	if hidden && shown != "<unparseable URL>" {
		shown += " (query, fragment and user info hidden)"
	}
	return shown
}
