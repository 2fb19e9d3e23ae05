package gateway_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/config"
	"github.com/clawgate/clawgate/gateway"
)

// The URL and transport rules (gateway/url.go), in one table, as the
// gateway client applies them (gateway.New, with and without credentials,
// with and without AllowInsecureTransport) and as discovery does
// (config.Discover: refusal, warning, and the URL as its report shows it).
func TestURLRules(t *testing.T) {
	const secret = "url-SECRET-77"
	for _, tc := range []struct {
		url       string
		bad       string // CheckURL's refusal ("": the URL is valid)
		loopback  bool   // the host is loopback
		userInfo  bool   // credentials in the URL: gateway.New refuses, discovery keeps it
		shown     string // as reports show it ("": as it is)
		why       string
		plaintext bool // derived: ws:// to a host that is not loopback
	}{
		{url: "ws://127.0.0.1:18789", loopback: true, why: "the default"},
		{url: "ws://127.254.3.9:1", loopback: true, why: "all of 127.0.0.0/8"},
		{url: "ws://localhost:1", loopback: true},
		{url: "ws://LocalHost:1", loopback: true, why: "the name in any case"},
		{url: "ws://[::1]:1", loopback: true},
		{url: "ws://[::ffff:127.0.0.1]:1", loopback: true, why: "IPv4-mapped: Go dials 127.0.0.1"},
		{url: "ws://localhost.:1", why: "a resolver's name, not the name (OpenClaw accepts it)"},
		{url: "ws://gw.localhost:1", why: "a name that may resolve to loopback is not loopback"},
		{url: "ws://127.1:1", why: "shorthand is not an IP literal"},
		{url: "ws://[::127.0.0.1]:1", why: "IPv4-compatible is not IPv4-mapped"},
		{url: "ws://[::1%25lo]:1", why: "no zones"},
		{url: "ws://0.0.0.0:1"},
		{url: "ws://192.168.1.10:18789", why: "private addresses get no exception (OpenClaw's CLI makes one)"},
		{url: "ws://gw.tail1234.ts.net:18789", why: "nor .ts.net names"},
		{url: "wss://gateway.example", why: "TLS to anywhere"},
		{url: "wss://gateway.example:8443/?token=" + secret, shown: "wss://gateway.example:8443/ (query, fragment and user info hidden)"},
		{url: "ws://127.0.0.1:1/#token=" + secret, loopback: true, shown: "ws://127.0.0.1:1/ (query, fragment and user info hidden)"},
		{url: "ws://user:" + secret + "@127.0.0.1:1", loopback: true, userInfo: true, shown: "ws://127.0.0.1:1 (query, fragment and user info hidden)"},
		{url: "http://127.0.0.1:18789", bad: "must be ws:// or wss://; a gateway at http://host:port takes WebSocket connections at ws://host:port", why: "refused, not rewritten (OpenClaw's CLI rewrites it)"},
		{url: "https://gateway.example", bad: "at wss://host:port"},
		{url: "ftp://x", bad: "must be ws:// or wss://"},
		{url: "ws:///path", bad: "it has no host"},
		{url: "ws://127.0.0.1:1/%zz?token=" + secret, bad: "is not a valid URL", shown: "<unparseable URL>"},
	} {
		u, err := gateway.CheckURL(tc.url)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("CheckURL(%s) = %v, want %q", tc.url, err, tc.bad)
			}
		} else if err != nil {
			t.Errorf("CheckURL(%s): %v", tc.url, err)
		} else {
			if got := gateway.IsLoopback(u.Hostname()); got != tc.loopback {
				t.Errorf("IsLoopback(%q) = %v, want %v (%s)", u.Hostname(), got, tc.loopback, tc.why)
			}
			tc.plaintext = u.Scheme == "ws" && !tc.loopback
			if got := gateway.Plaintext(u); got != tc.plaintext {
				t.Errorf("Plaintext(%s) = %v", tc.url, got)
			}
		}
		if tc.shown == "" {
			tc.shown = tc.url
		}
		if got := gateway.URLShown(tc.url); got != tc.shown {
			t.Errorf("URLShown(%s) = %q, want %q", tc.url, got, tc.shown)
		}

		// The client: credentials over plain ws:// only to loopback,
		// unless allowed; never in the URL.
		for _, o := range []gateway.Options{{}, {Token: "t"}, {Password: "p"}, {Token: "t", AllowInsecureTransport: true}} {
			o.URL = tc.url
			c, err := gateway.New(o)
			var want string
			switch {
			case tc.bad != "":
				want = tc.bad
			case tc.userInfo:
				// Where they belong instead is the advice's to say
				// (tools/advice_test.go).
				want = "carries credentials in its user info"
			case tc.plaintext && (o.Token != "" || o.Password != "") && !o.AllowInsecureTransport:
				want = "refusing to send the gateway token over unencrypted ws to " + u.Hostname() + ", which is not a loopback address"
			}
			switch {
			case want == "" && err != nil:
				t.Errorf("New(%v): %v", o, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("New(%v) = %v, want %q", o, err, want)
			case err != nil && strings.Contains(err.Error(), secret):
				t.Errorf("New(%v): the URL's secret in %v", o, err)
			}
			if c != nil {
				if got := c.URL(); strings.Contains(got, secret) {
					t.Errorf("Client.URL() = %q", got)
				}
				_ = c.Close()
			}
		}

		// Discovery: the same refusals, a warning for plain ws:// to a host
		// that is not loopback, the URL kept as given.
		s, err := config.Discover(config.Overrides{URL: tc.url}, config.MapEnv{}, t.TempDir())
		switch {
		case tc.bad != "":
			if err == nil || !strings.Contains(err.Error(), "gateway URL from flag --url must look like ws://host:port or wss://host:port") || strings.Contains(err.Error(), secret) {
				t.Errorf("Discover(%s) = %v", tc.url, err)
			}
			continue
		case err != nil:
			t.Errorf("Discover(%s): %v", tc.url, err)
			continue
		}
		warned := strings.Contains(strings.Join(s.Warnings, "\n"), "plain ws:// to a non-loopback host")
		if s.URL.Value != tc.url || warned != tc.plaintext || !strings.HasPrefix(s.URL.String(), tc.shown+" (from flag --url)") {
			t.Errorf("Discover(%s): URL %q shown %q, warnings %q", tc.url, s.URL.Value, s.URL, s.Warnings)
		}
	}
	// CheckURL leaves the URL as parsed; what the client dials is its
	// String (the scheme in lower case).
	if u, err := gateway.CheckURL("WS://127.0.0.1:1"); err != nil || u.String() != (&url.URL{Scheme: "ws", Host: "127.0.0.1:1"}).String() {
		t.Errorf("CheckURL(WS://…) = %v, %v", u, err)
	}
}
