package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeFile writes body to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// nested returns a config nested depth levels deep in all: the top-level
// object and, under its key "k", depth-1 objects inside each other, the
// innermost holding leaf. The brackets are on line 2.
func nested(depth int, leaf string) string {
	return "{\n k: " + strings.Repeat("{a: ", depth-1) + leaf + strings.Repeat("}", depth-1) + "\n}"
}

// TestLoadNestingDepth: nesting deeper than maxNesting is refused with the
// file and line, before the JSON5 parser (which recurses) sees it; a
// 2 MB config of brackets used to overflow the stack (issue 10, item 6).
func TestLoadNestingDepth(t *testing.T) {
	dir := t.TempDir()
	l, _ := testLoader(nil, true)
	if _, err := l.load(writeFile(t, dir, "ok.json5", nested(maxNesting, "1"))); err != nil {
		t.Fatalf("%d levels: %v", maxNesting, err)
	}
	// Brackets inside strings and comments do not count.
	quoted := "{\n s: '" + strings.Repeat("[{", 200) + "', t: \"" + strings.Repeat("{", 200) + "\\\"{\",\n // " + strings.Repeat("[", 200) + "\n /* " + strings.Repeat("{", 200) + " */ u: 1}"
	if _, err := l.load(writeFile(t, dir, "quoted.json5", quoted)); err != nil {
		t.Fatalf("brackets in strings and comments: %v", err)
	}

	for _, tt := range []struct{ name, body, where string }{
		{"one level too deep", nested(maxNesting+1, "1"), "deep.json5:2:"},
		{"2 MB of brackets", "{a: " + strings.Repeat("[", 999_990) + strings.Repeat("]", 999_990) + "}", "deep.json5:1:"},
		{"arrays, after a multi-line comment", "/*\n\n*/ {a: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "}", "deep.json5:3:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := testLoader(nil, true)
			_, err := l.load(writeFile(t, t.TempDir(), "deep.json5", tt.body))
			if err == nil {
				t.Fatal("load succeeded, want a nesting error")
			}
			for _, want := range []string{tt.where, fmt.Sprintf("nested more than %d levels deep", maxNesting), "flatten"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}

	t.Run("in an included file", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "deep.json5", nested(maxNesting+1, "1"))
		l, _ := testLoader(nil, true)
		_, err := l.load(writeFile(t, dir, "main.json5", "{a: {$include: './deep.json5'}}"))
		if err == nil || !strings.Contains(err.Error(), "deep.json5:2:") || !strings.Contains(err.Error(), "main.json5") {
			t.Fatalf("err = %v, want the nesting error naming deep.json5:2 and main.json5", err)
		}
	})
}

// TestLoadKeyPathsLinear: key paths are not built at every level (that was
// quadratic in the depth: a 100 KB deeply nested config took 3.6 GB). The
// bytes allocated for a chain of maxNesting-1 objects with long keys must be
// about those of a flat object with the same keys and values, not the 19
// times more that building "k1.k2.….kN" at every level cost (measured
// before the fix; issue 10, item 6).
func TestLoadKeyPathsLinear(t *testing.T) {
	const depth = maxNesting - 1
	key := strings.Repeat("k", 4096)
	var chain, flat strings.Builder
	chain.WriteString("{")
	flat.WriteString("{")
	for i := range depth {
		fmt.Fprintf(&chain, "%s%d: {v: '${V}', ", key, i)
		fmt.Fprintf(&flat, "%s%d: {v: '${V}'}, ", key, i)
	}
	chain.WriteString(strings.Repeat("}", depth) + "}")
	flat.WriteString("}")
	dir := t.TempDir()
	chainPath := writeFile(t, dir, "chain.json5", chain.String())
	flatPath := writeFile(t, dir, "flat.json5", flat.String())

	allocated := func(path string) uint64 {
		best := ^uint64(0)
		for range 3 {
			l, _ := testLoader(map[string]string{"V": "value"}, true)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			if _, err := l.load(path); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			best = min(best, after.TotalAlloc-before.TotalAlloc)
		}
		return best
	}
	c, f := allocated(chainPath), allocated(flatPath)
	t.Logf("chain of %d: %d bytes allocated; flat: %d bytes", depth, c, f)
	if c > 3*f {
		t.Errorf("loading a chain of %d objects allocated %d bytes, %.1f times a flat config with the same keys (%d bytes): key paths are built per level", depth, c, float64(c)/float64(f), f)
	}
}

// TestLoadIncludeFanOut: an $include fan-out (11 files each including the
// next 4 times used to take 39 s, 4^10 loads) stops at maxIncludeFiles
// (issue 10, item 6).
func TestLoadIncludeFanOut(t *testing.T) {
	dir := t.TempDir()
	const files = 8 // 4^7 = 16,384 loads without the cap
	for i := range files {
		body := fmt.Sprintf("{x%d: [1]}", i)
		if i < files-1 {
			n := fmt.Sprintf("'./f%d.json5'", i+1)
			body = fmt.Sprintf("{$include: [%s, %s, %s, %s], x%d: [1]}", n, n, n, n, i)
		}
		writeFile(t, dir, fmt.Sprintf("f%d.json5", i), body)
	}
	l, _ := testLoader(nil, true)
	_, err := l.load(filepath.Join(dir, "f0.json5"))
	if err == nil {
		t.Fatal("load succeeded, want the include limit")
	}
	for _, want := range []string{fmt.Sprintf("more than %d files", maxIncludeFiles), "counting a file each time it is included", "include each file once"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if l.files > maxIncludeFiles+1 {
		t.Errorf("read %d files, more than the limit %d", l.files, maxIncludeFiles)
	}

	// A modest fan-out stays within the limit.
	l, _ = testLoader(nil, true)
	got, err := l.load(filepath.Join(dir, "f5.json5")) // 1 + 4 + 16 files
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got["x7"].([]any)); n != 16 {
		t.Errorf("x7 has %d items, want 16", n)
	}
}

// TestLoadSizeLimits: one config file may be at most maxConfigFileBytes,
// all of them together (counting repeats) maxConfigTotalBytes (issue 10,
// item 6).
func TestLoadSizeLimits(t *testing.T) {
	dir := t.TempDir()
	big := func(n int) string { // a valid config of exactly n bytes
		return "{a: '" + strings.Repeat("x", n-7) + "'}"
	}
	l, _ := testLoader(nil, true)
	if _, err := l.load(writeFile(t, dir, "max.json5", big(maxConfigFileBytes))); err != nil {
		t.Fatalf("a config of exactly %d bytes: %v", maxConfigFileBytes, err)
	}
	l, _ = testLoader(nil, true)
	_, err := l.load(writeFile(t, dir, "over.json5", big(maxConfigFileBytes+1)))
	if err == nil || !strings.Contains(err.Error(), "over.json5 is larger than 2 MiB") {
		t.Errorf("err = %v, want over.json5 is larger than 2 MiB", err)
	}
	if err != nil && strings.Contains(err.Error(), "xxxx") {
		t.Errorf("error quotes the content: %.200s", err)
	}

	third := big(maxConfigTotalBytes/3 + 1)
	writeFile(t, dir, "part.json5", third)
	l, _ = testLoader(nil, true)
	_, err = l.load(writeFile(t, dir, "parts.json5", "{b: {$include: ['./part.json5', './part.json5', './part.json5']}}"))
	if err == nil || !strings.Contains(err.Error(), "add up to more than 4 MiB") || !strings.Contains(err.Error(), "part.json5") {
		t.Errorf("err = %v, want the total limit naming part.json5", err)
	}
}

// TestLoadExpansionLimit: ${VAR} substitution may add at most
// maxExpandedBytes in all (a 1 MB variable referenced 4,000 times took
// 1.5 GB) (issue 10, item 6).
func TestLoadExpansionLimit(t *testing.T) {
	value := strings.Repeat("v", 64<<10)
	refs := func(n int) string {
		return "{list: [" + strings.Repeat("'${BIG}', ", n) + "]}"
	}
	dir := t.TempDir()
	l, _ := testLoader(map[string]string{"BIG": value}, true)
	if _, err := l.load(writeFile(t, dir, "ok.json5", refs(maxExpandedBytes/len(value)))); err != nil {
		t.Fatalf("%d references: %v", maxExpandedBytes/len(value), err)
	}
	l, _ = testLoader(map[string]string{"BIG": value}, true)
	_, err := l.load(writeFile(t, dir, "over.json5", refs(400)))
	if err == nil {
		t.Fatal("load succeeded, want the expansion limit")
	}
	for _, want := range []string{"over.json5", "list[16]", "${BIG}", "more than 1 MiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "vvvv") {
		t.Error("error quotes the value")
	}
	if l.expanded > maxExpandedBytes {
		t.Errorf("substituted %d bytes, more than the limit %d", l.expanded, maxExpandedBytes)
	}
}

// TestLoadManyMissingVars: a config full of unset ${VAR}s gives a bounded
// number of warnings, and long key paths are shortened in them.
func TestLoadManyMissingVars(t *testing.T) {
	key := strings.Repeat("k", 10_000)
	body := "{" + key + ": [" + strings.Repeat("'${NOPE}', ", 1000) + "]}"
	l, warnings := testLoader(nil, false)
	if _, err := l.load(writeFile(t, t.TempDir(), "many.json5", body)); err != nil {
		t.Fatal(err)
	}
	if n := len(*warnings); n > maxVarWarnings+1 {
		t.Errorf("%d warnings, want at most %d", n, maxVarWarnings+1)
	}
	total := 0
	for _, w := range *warnings {
		total += len(w)
	}
	if total > 100_000 {
		t.Errorf("warnings total %d bytes; key paths are not shortened", total)
	}
	if last := (*warnings)[len(*warnings)-1]; !strings.Contains(last, "980 more") {
		t.Errorf("last warning %q does not summarise the rest", last)
	}
}

// TestDotenvSizeLimit: a .env larger than maxDotenvBytes is ignored with a
// warning, as OpenClaw does (issue 10, item 6).
func TestDotenvSizeLimit(t *testing.T) {
	home := newHome(t, map[string]string{".openclaw/.env": "OPENCLAW_GATEWAY_TOKEN=dotenv-token\n#" + strings.Repeat("x", maxDotenvBytes)})
	s, err := Discover(Overrides{}, MapEnv{}, home)
	if err != nil {
		t.Fatal(err)
	}
	if s.Token.IsSet() {
		t.Error("the token was read from an oversized .env")
	}
	if want := filepath.Join(home, ".openclaw/.env") + " is larger than 1 MiB"; !hasWarning(s, want) {
		t.Errorf("no warning contains %q; warnings: %q", want, s.Warnings)
	}
}
