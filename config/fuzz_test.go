package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
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
	// Issue 10: limits, non-regular files, dotenv's quirks.
	f.Add([]byte(`{a: `+strings.Repeat("[", 70)+strings.Repeat("]", 70)+`}`), []byte("A='unterminated\nOPENCLAW_GATEWAY_TOKEN=${FUZZ_SECRET}\n"))
	f.Add([]byte(`{$include: "/dev/zero", gateway: {auth: {token: "${FUZZ_SECRET}"}}}`), []byte("KEY: \"${FUZZ_SECRET}\\\"\n#\n"))
	f.Add([]byte(`{gateway: {mode: "remote", remote: {url: "wss://${FUZZ_SECRET}.example/${FUZZ_SECRET}${FUZZ_SECRET}"}}}`), []byte("export\nOPENCLAW_GATEWAY_PORT=1\n"))

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

// FuzzParseDotenv checks the .env parser on arbitrary input: no panic,
// names OpenClaw accepts, and bad-line numbers that exist, in order. (That
// it returns what dotenv returns is TestParseDotenvMatchesDotenv's job.)
func FuzzParseDotenv(f *testing.F) {
	f.Add("A=1\nexport B='two'\nC=\"multi\nline\" # c\n#x\nbad line\n")
	f.Add("\ufeffK=`v`\r\nQ=\"unterminated\n")
	f.Add("A='x\\'\n\\'\nB=2\rC: d\nexport\nE=1\u2028F=2\n")
	f.Add("KEY\n=value\n1BAD=x\nA.B=1\n__proto__=1\nA=\n'quoted'\n")
	f.Fuzz(func(t *testing.T, data string) {
		vars, bad := parseDotenv(data)
		normalized := strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
		lines := strings.Count(normalized, "\n") + 1
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

// FuzzLoadBounds loads configs built from a few numbers that can express
// each attack of issue 10, item 6 (deep nesting, an $include fan-out, a
// huge ${VAR} referenced many times), plus an arbitrary config and an
// arbitrary included file. Whatever the input, the loader must not panic
// or hang, must stay within its limits (files, bytes read, bytes
// substituted, nesting), and must allocate no more than allocPerByte bytes
// per byte it read or substituted: the memory is bounded by the limits.
//
//	go test -run '^$' -fuzz '^FuzzLoadBounds$' -fuzztime 30s ./config/
func FuzzLoadBounds(f *testing.F) {
	f.Add([]byte(`{gateway: {port: 1, auth: {token: "${BIG}"}}}`), []byte(`{a: 1}`), uint16(3), uint8(1), uint8(2), uint16(1), uint16(2))
	f.Add([]byte(`{$include: "./f0.json5"}`), []byte(`{x: [1, 2]}`), uint16(0), uint8(4), uint8(11), uint16(0), uint16(0))                                                                                                             // fan-out: 11 files, each including the next 4 times
	f.Add([]byte(`{a: 1}`), []byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`), uint16(5000), uint8(1), uint8(1), uint16(0), uint16(0)) // nesting
	f.Add([]byte(`{a: "${BIG}${BIG}"}`), []byte(`{}`), uint16(1), uint8(0), uint8(0), uint16(1024), uint16(4000))                                                                                                                      // 1 MiB referenced 4,000 times
	f.Add([]byte(`{$include: "/dev/zero"}`), []byte(``), uint16(0), uint8(0), uint8(0), uint16(0), uint16(0))
	f.Add([]byte(`{$include: ["./f0.json5", "./f0.json5", "./f0.json5"], k: "${MISSING} ${BIG}"}`), []byte(`{s: "${BIG}"}`), uint16(64), uint8(2), uint8(6), uint16(300), uint16(3))
	f.Add([]byte("/* * / {a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"), []byte(`{}`), uint16(0), uint8(0), uint8(0), uint16(0), uint16(0))

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, cfg, inc []byte, depth uint16, fanout, files uint8, varKiB, refs uint16) {
		nFiles, nFanout := int(files%12), int(fanout%6)
		for i := range nFiles {
			body := string(inc) // the last file: arbitrary
			if i < nFiles-1 {
				items := strings.Repeat(fmt.Sprintf("'./f%d.json5', ", i+1), nFanout)
				body = fmt.Sprintf("{$include: [%s], x%d: [%d]}", items, i, i)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.json5", i)), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		d := int(depth % 8192)
		generated := "{inc: {$include: './f0.json5'}, deep: " + strings.Repeat("[", d) + "'${BIG}'" + strings.Repeat("]", d) +
			", refs: [" + strings.Repeat("'${BIG}', ", int(refs%5000)) + "], missing: '${UNSET}'}"
		vars := map[string]string{"BIG": strings.Repeat("v", int(varKiB%2049)<<10)}

		for name, body := range map[string][]byte{"arbitrary.json5": cfg, "generated.json5": []byte(generated)} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, body, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, strict := range []bool{false, true} {
				checkLoadBounds(t, path, vars, strict)
			}
		}
	})
}

// allocPerByte bounds the bytes the loader allocates per byte it read or
// substituted: github.com/titanous/json5 allocates up to ~46 bytes per
// byte of input (an array of zeros, measured), and a ${VAR} reference,
// at least 4 bytes, costs at most a key path (maxShownKeyPath) and a few
// small strings; 256 leaves room for both at once.
const allocPerByte = 256

// checkLoadBounds loads path and checks the limits and the memory.
func checkLoadBounds(t *testing.T, path string, vars map[string]string, strict bool) {
	t.Helper()
	l, _ := testLoader(vars, strict)
	type result struct {
		tree  map[string]any
		err   error
		alloc uint64
	}
	done := make(chan result, 1)
	go func() {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tree, err := l.load(path)
		runtime.ReadMemStats(&after)
		done <- result{tree, err, after.TotalAlloc - before.TotalAlloc}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(testwait.FuzzPatience()):
		t.Fatalf("load hung for %s", testwait.FuzzPatience())
	}
	if l.files > maxIncludeFiles || l.bytes > maxConfigTotalBytes || l.expanded > maxExpandedBytes {
		t.Fatalf("limits exceeded: %d files, %d bytes read, %d bytes substituted", l.files, l.bytes, l.expanded)
	}
	if bound := allocPerByte*(uint64(l.bytes)+uint64(l.expanded)) + 1<<20; r.alloc > bound {
		t.Fatalf("allocated %d bytes for %d bytes read and %d substituted (bound %d)", r.alloc, l.bytes, l.expanded, bound)
	}
	if r.err != nil {
		return
	}
	// Each file nests at most maxNesting levels, and a chain of includes
	// has at most maxIncludeDepth+1 files.
	if depth := treeDepth(r.tree); depth > (maxIncludeDepth+1)*maxNesting {
		t.Fatalf("tree %d levels deep", depth)
	}
}

// treeDepth is how deeply objects and arrays nest in v.
func treeDepth(v any) int {
	deepest := 0
	switch t := v.(type) {
	case map[string]any:
		for _, c := range t {
			deepest = max(deepest, treeDepth(c))
		}
	case []any:
		for _, c := range t {
			deepest = max(deepest, treeDepth(c))
		}
	default:
		return 0
	}
	return deepest + 1
}
