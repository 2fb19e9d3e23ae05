package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A gateway URL may carry a credential in its query, fragment or user info
// (e.g. a tokenized dashboard link pasted as --url): the value is used as
// given, but never shown.
func TestURLCredentialsNeverShown(t *testing.T) {
	const secret = "url-SECRET-5150"
	for _, raw := range []string{
		"ws://127.0.0.1:18789/?token=" + secret,
		"wss://gw.example/path#token=" + secret,
		"ws://user:" + secret + "@127.0.0.1:1",
	} {
		s, err := Discover(Overrides{URL: raw}, MapEnv{}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if s.URL.Value != raw {
			t.Fatalf("URL value %q, want it unchanged", s.URL.Value)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "settings", *s, "url", s.URL)
		js, _ := json.Marshal(s)
		out := strings.Join(s.Report(), "\n") + fmt.Sprintf("%v %+v %#v %s %q", *s, *s, *s, s.URL, s.URL) + buf.String() + string(js)
		if strings.Contains(out, secret) {
			t.Fatalf("%s shown:\n%s", raw, out)
		}
		if !strings.Contains(strings.Join(s.Report(), "\n"), "(query, fragment and user info hidden) (from flag --url)") {
			t.Fatalf("report: %q", s.Report())
		}
	}
	// An ordinary URL is shown as it is.
	s, err := Discover(Overrides{URL: "ws://127.0.0.1:18789"}, MapEnv{}, t.TempDir())
	if err != nil || s.URL.String() != "ws://127.0.0.1:18789 (from flag --url)" {
		t.Fatalf("%v %v", s.URL, err)
	}
}
