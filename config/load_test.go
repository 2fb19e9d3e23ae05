package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testLoader returns a loader that resolves ${VAR} from vars and collects
// warnings.
func testLoader(vars map[string]string, strict bool) (*loader, *[]string) {
	var warnings []string
	l := &loader{
		lookup: func(name string) (string, string, bool) {
			v, ok := vars[name]
			return v, "env " + name, ok && v != ""
		},
		strict: strict,
		warn:   func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) },
	}
	return l, &warnings
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadIncludes(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    map[string]any
		wantErr []string // substrings of the error
	}{
		{
			name: "relative and nested, siblings deep-merged over the included content",
			file: "include/main.json5",
			want: map[string]any{
				"gateway": map[string]any{
					"port": 18801.0, "bind": "loopback", "mode": "local",
					"auth": map[string]any{"mode": "token", "token": "main-token"},
				},
				"tags": []any{"gateway", "main"},
			},
		},
		{
			name: "array merged left to right, arrays concatenate",
			file: "include/array.json5",
			want: map[string]any{
				"gateway": map[string]any{
					"port": 2222.0,
					"auth": map[string]any{"mode": "token", "token": "b-token"},
				},
				"tags": []any{"a", "b", "main"},
			},
		},
		{
			name:    "cycle is refused with the chain",
			file:    "include/cycle/a.json5",
			wantErr: []string{"cycle", "cycle/a.json5 -> ", "cycle/b.json5 -> ", "cycle/a.json5"},
		},
		{
			name:    "sibling keys need an object",
			file:    "include/not-object.json5",
			wantErr: []string{"not-object.json5", "must include an object, not an array"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := testLoader(nil, true)
			got, err := l.load(fixture(t, tt.file))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("load succeeded, want error containing %q", tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// writeChain writes main.json5 -> f01.json5 -> … -> fNN.json5 (n includes)
// and returns the path of main.json5.
func writeChain(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	name := func(i int) string {
		if i == 0 {
			return "main.json5"
		}
		return fmt.Sprintf("f%02d.json5", i)
	}
	for i := 0; i <= n; i++ {
		body := fmt.Sprintf("{ level%d: true }", i)
		if i < n {
			body = fmt.Sprintf("{ $include: './%s', level%d: true }", name(i+1), i)
		}
		if err := os.WriteFile(filepath.Join(dir, name(i)), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, name(0))
}

func TestLoadIncludeDepth(t *testing.T) {
	l, _ := testLoader(nil, true)
	got, err := l.load(writeChain(t, 10))
	if err != nil {
		t.Fatalf("10 nested includes: %v", err)
	}
	if got["level10"] != true || got["level0"] != true {
		t.Errorf("10 nested includes: got %v", got)
	}

	_, err = l.load(writeChain(t, 11))
	if err == nil || !strings.Contains(err.Error(), "maximum include depth (10) exceeded") || !strings.Contains(err.Error(), "f11.json5") {
		t.Errorf("11 nested includes: err = %v, want depth error naming f11.json5", err)
	}
}

func TestLoadIncludeAbsoluteAndErrors(t *testing.T) {
	dir := t.TempDir()
	abs := fixture(t, "include/parts/port.json5")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	l, _ := testLoader(nil, true)
	got, err := l.load(write("abs.json5", fmt.Sprintf("{ gateway: { $include: %q } }", abs)))
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[string]any{"gateway": map[string]any{"port": 18801.0, "bind": "loopback"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("absolute include: got %v, want %v", got, want)
	}

	_, err = l.load(write("missing.json5", `{ $include: "./nope.json5" }`))
	if err == nil || !strings.Contains(err.Error(), "missing.json5") || !strings.Contains(err.Error(), "nope.json5") {
		t.Errorf("missing include: err = %v, want it to name both files", err)
	}

	write("broken.json5", "{\n  a: 1,\n  b: @,\n}")
	_, err = l.load(write("includes-broken.json5", `{ $include: "./broken.json5" }`))
	if err == nil || !strings.Contains(err.Error(), "broken.json5:3:6: invalid character '@'") {
		t.Errorf("broken include: err = %v, want broken.json5:3:6", err)
	}

	_, err = l.load(write("badspec.json5", `{ $include: 42 }`))
	if err == nil || !strings.Contains(err.Error(), "must be a path or an array of paths") {
		t.Errorf("bad $include: err = %v", err)
	}
}

func TestLoadParseErrorPosition(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"token line", "", "bad.json5:5:37: invalid character 'o' after object key:value pair"},
		{"unexpected end", "{\n  a: [1,\n", "x.json5:3:1: unexpected end of JSON input"},
		{"multibyte column", "{a: 'é', b: @}", "x.json5:1:13: invalid character '@'"},
		{"top level not an object", "[1]", "the top level must be an object, not an array"},
		{"huge number is not echoed", "{a: 1e999}", "x.json5:1:9: invalid number value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fixture(t, "bad.json5")
			if tt.body != "" {
				path = filepath.Join(t.TempDir(), "x.json5")
				if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l, _ := testLoader(nil, true)
			_, err := l.load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "1e999") {
				t.Errorf("error echoes file content: %v", err)
			}
		})
	}
}

func TestLoadSubstitution(t *testing.T) {
	vars := map[string]string{"SUB_HOST": "gw.local", "SUB_PORT": "1234", "lower": "nope"}
	l, warnings := testLoader(vars, true)
	got, err := l.load(fixture(t, "substitution.json5"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": "gw.local:1234",
		"b": "prefix-gw.local-suffix",
		"c": "${SUB_HOST} stays literal",
		"d": "${lower} and ${1BAD} and ${UNCLOSED",
		"e": []any{"gw.local", map[string]any{"f": "1234"}},
		"n": 42.0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if len(*warnings) != 0 {
		t.Errorf("unexpected warnings %q", *warnings)
	}
	if via := l.via["e[1].f"]; len(via) != 1 || via[0] != "env SUB_PORT" {
		t.Errorf("via[e[1].f] = %q", via)
	}
}

func TestLoadMissingVar(t *testing.T) {
	path := fixture(t, "openclaw/openclaw.json")

	// clawdbot rules: an error naming the variable, the file and the key.
	strict, _ := testLoader(nil, true)
	_, err := strict.load(path)
	if err == nil {
		t.Fatal("strict: load succeeded, want missing-variable error")
	}
	for _, s := range []string{"OC_TEST_TOKEN", path, "gateway.auth.token"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("strict: error %q does not contain %q", err, s)
		}
	}

	// openclaw rules: left as is, plus a warning. Set to "" counts as missing.
	lenient, warnings := testLoader(map[string]string{"OC_TEST_TOKEN": ""}, false)
	got, err := lenient.load(path)
	if err != nil {
		t.Fatal(err)
	}
	token := got["gateway"].(map[string]any)["auth"].(map[string]any)["token"]
	if token != "${OC_TEST_TOKEN}" {
		t.Errorf("lenient: token = %q, want it left unresolved", token)
	}
	if len(*warnings) != 1 || !strings.Contains((*warnings)[0], "OC_TEST_TOKEN is not set") || !strings.Contains((*warnings)[0], "gateway.auth.token") {
		t.Errorf("lenient: warnings = %q", *warnings)
	}
}

func TestDeepMerge(t *testing.T) {
	dst := map[string]any{"o": map[string]any{"a": 1.0, "l": []any{"x"}}, "s": "old"}
	src := map[string]any{"o": map[string]any{"b": 2.0, "l": []any{"y"}}, "s": "new"}
	got := deepMerge(dst, src)
	want := map[string]any{"o": map[string]any{"a": 1.0, "b": 2.0, "l": []any{"x", "y"}}, "s": "new"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, ok := dst["o"].(map[string]any)["b"]; ok {
		t.Error("deepMerge modified its input")
	}
}
