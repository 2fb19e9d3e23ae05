package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/internal/testwait"
)

// fuzzSecret is the value of the environment variable FUZZ_SECRET, which
// fuzzed configs may substitute (${FUZZ_SECRET}) or reference (SecretRef)
// anywhere. Whatever the config, it may show up as a URL or TLS pin the
// config put it in, but never in an error, a warning or a secret's
// description.
const fuzzSecret = "zq9-FUZZ-SECRET-value-7xk"

// FuzzDiscover runs discovery on an arbitrary config file and an arbitrary
// <state dir>/.env, next to include files that nest, cycle, are not objects
// or substitute the secret. Discovery must not panic or hang, must be
// deterministic, and must not reveal the secret.
//
//	go test -run '^$' -fuzz '^FuzzDiscover$' -fuzztime 10s ./config/
func FuzzDiscover(f *testing.F) {
	for _, name := range []string{
		"openclaw/openclaw.json", "clawdbot/clawdbot.json", "clawdbot/missing-var.json", "remote.json5", "remote-no-url.json5",
		"secretref-env.json5", "secretref-file.json5", "substitution.json5", "tls.json5", "bad.json5",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte(""))
	}
	env, err := os.ReadFile(filepath.Join("testdata", "state.env"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{gateway: {auth: {token: "${FUZZ_SECRET}", password: {source: "env", id: "FUZZ_SECRET"}}}}`), env)
	f.Add([]byte(`{$include: ["./inc/b.json5", "./inc/arr.json5"], gateway: {port: 1}}`), []byte("OPENCLAW_GATEWAY_TOKEN=${FUZZ_SECRET}\n"))
	f.Add([]byte(`{$include: "./inc/cycle.json5"}`), []byte(`export X="multi`+"\n"+`line"`))
	// SecretRef fields that expand to the secret must not be echoed in warnings.
	f.Add([]byte(`{gateway: {auth: {token: {source: "${FUZZ_SECRET}", id: "x"}, password: {source: "env", id: "${FUZZ_SECRET}"}}}}`), []byte(""))
	f.Add([]byte(`{gateway: {mode: "remote", remote: {token: {source: "env", id: "${FUZZ_SECRET}"}}, auth: {token: "${FUZZ_MISSING}"}}}`), []byte("OPENCLAW_GATEWAY_TOKEN=other\n"))

	// One home per fuzzing process; each input rewrites the config and .env.
	home := f.TempDir()
	state := filepath.Join(home, ".openclaw")
	for name, content := range map[string]string{
		"inc/a.json5":      `{gateway: {port: 1234, auth: {token: "${FUZZ_SECRET}"}, remote: {url: "wss://${FUZZ_SECRET}.example"}}}`,
		"inc/b.json5":      `{$include: "./a.json5", tags: ["b"]}`,
		"inc/cycle.json5":  `{$include: "./cycle.json5"}`,
		"inc/arr.json5":    `[1, 2]`,
		"inc/secret.json5": `{gateway: {auth: {password: "${FUZZ_SECRET}"}, remote: {token: {source: "env", id: "FUZZ_SECRET"}}}}`,
	} {
		p := filepath.Join(state, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, cfg, dotenv []byte) {
		check := !bytes.Contains(cfg, []byte(fuzzSecret)) && !bytes.Contains(dotenv, []byte(fuzzSecret))
		if err := os.WriteFile(filepath.Join(state, "openclaw.json"), cfg, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(state, ".env"), dotenv, 0o600); err != nil {
			t.Fatal(err)
		}
		vars := MapEnv{"FUZZ_SECRET": fuzzSecret}

		type result struct {
			s   *Settings
			err error
		}
		run := func() result {
			done := make(chan result, 1)
			go func() {
				s, err := Discover(Overrides{}, vars, home)
				done <- result{s, err}
			}()
			bound := testwait.FuzzPatience() // Discover only reads files
			select {
			case r := <-done:
				return r
			case <-time.After(bound):
				t.Fatalf("Discover hung for %s", bound)
			}
			return result{}
		}
		r1, r2 := run(), run()
		if fmt.Sprint(r1.err) != fmt.Sprint(r2.err) || (r1.s == nil) != (r2.s == nil) {
			t.Fatalf("not deterministic: %v / %v", r1.err, r2.err)
		}
		if r1.err != nil {
			if r1.s != nil {
				t.Fatal("settings and an error")
			}
			if check && strings.Contains(r1.err.Error(), fuzzSecret) {
				t.Fatalf("secret in error: %v", r1.err)
			}
			return
		}
		s := r1.s
		if !slices.Equal(s.Report(), r2.s.Report()) {
			t.Fatalf("not deterministic:\n%q\n%q", s.Report(), r2.s.Report())
		}
		if !s.URL.IsSet() || !(strings.HasPrefix(s.URL.Value, "ws://") || strings.HasPrefix(s.URL.Value, "wss://")) {
			t.Fatalf("URL %q", s.URL.Value)
		}
		if !s.Token.Secret || !s.Password.Secret {
			t.Fatal("credentials not marked secret")
		}
		if !check {
			return
		}
		for _, w := range s.Warnings {
			if strings.Contains(w, fuzzSecret) {
				t.Fatalf("secret in warning %q", w)
			}
		}
		// Everything that describes the settings, minus the two non-secret
		// values the config may have set to the secret's text on purpose.
		var logBuf bytes.Buffer
		slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("settings", "s", *s, "token", s.Token, "password", s.Password)
		js, _ := json.Marshal(s)
		all := strings.Join(s.Report(), "\n") + fmt.Sprintf("%v %+v %#v %s %q", *s, *s, *s, *s, *s) +
			fmt.Sprintf("%v %+v %#v %s %q %d", s.Token, s.Password, s.Token, s.Password, s.Token, s.Password) + logBuf.String() + string(js)
		for _, shown := range []string{s.URL.Value, s.TLSFingerprint.Value} {
			if shown != "" {
				all = strings.ReplaceAll(all, shown, "<shown>")
			}
		}
		if strings.Contains(all, fuzzSecret) {
			t.Fatalf("secret shown:\n%s", all)
		}
	})
}

// FuzzParseDotenv checks the .env parser on arbitrary input: no panic, keys
// that are valid names, and bad-line numbers that exist, in order.
func FuzzParseDotenv(f *testing.F) {
	f.Add("A=1\nexport B='two'\nC=\"multi\nline\" # c\n#x\nbad line\n")
	f.Add("\ufeffK=`v`\r\nQ=\"unterminated\n")
	f.Fuzz(func(t *testing.T, data string) {
		vars, bad := parseDotenv(data)
		lines := strings.Count(strings.ReplaceAll(data, "\r\n", "\n"), "\n") + 1
		for k := range vars {
			if !dotenvKey.MatchString(k) {
				t.Fatalf("invalid key %q", k)
			}
		}
		for i, n := range bad {
			if n < 1 || n > lines || (i > 0 && n <= bad[i-1]) {
				t.Fatalf("bad lines %v of %d", bad, lines)
			}
		}
	})
}
