package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/config"
)

// readmeFlagRow is one row of the README's flag table: its cells as
// written.
type readmeFlagRow struct {
	line                 int
	flag, env, def, mean string
}

var (
	codeSpanRE = regexp.MustCompile("`([^`]*)`")
	linkRE     = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	envNameRE  = regexp.MustCompile(`^[A-Z][A-Z0-9]*_[A-Z0-9_]+$`)
)

// codeSpans returns the `code` spans of a table cell.
func codeSpans(cell string) []string {
	var spans []string
	for _, m := range codeSpanRE.FindAllStringSubmatch(cell, -1) {
		spans = append(spans, m[1])
	}
	return spans
}

// readmeFlagTable returns the rows of the flag table (flag | env | default
// | meaning) of the README's "## Configuration" section, by flag name.
func readmeFlagTable(t *testing.T) map[string]readmeFlagRow {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := slices.Index(lines, "## Configuration")
	if start < 0 {
		t.Fatal(`README.md has no "## Configuration" section`)
	}
	rows := map[string]readmeFlagRow{}
	inTable := false
	for i := start + 1; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, "## ") {
			break
		}
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break // the end of the flag table
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if !inTable {
			if header := strings.Join(cells[:min(len(cells), 3)], " | "); header != "flag | env | default" {
				t.Fatalf("README.md:%d: the first table of ## Configuration must start with | flag | env | default |, not %q", i+1, line)
			}
			inTable = true
			continue
		}
		if strings.Trim(line, "|- ") == "" {
			continue // the separator row
		}
		if len(cells) != 4 {
			t.Fatalf("README.md:%d: a flag row has 4 cells (flag, env, default, meaning), this one %d: %q", i+1, len(cells), line)
		}
		spans := codeSpans(cells[0])
		if len(spans) == 0 || !strings.HasPrefix(spans[0], "--") {
			t.Fatalf("README.md:%d: the flag cell %q does not start with a `--flag`", i+1, cells[0])
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(spans[0], "--"), "[")
		if _, dup := rows[name]; dup {
			t.Fatalf("README.md:%d: --%s has two rows", i+1, name)
		}
		rows[name] = readmeFlagRow{line: i + 1, flag: spans[0], env: cells[1], def: cells[2], mean: cells[3]}
	}
	if len(rows) == 0 {
		t.Fatal("README.md: no flag table in ## Configuration")
	}
	return rows
}

// readmeDefault is the value a default cell states: its first code span,
// else its text (links reduced to their text).
func readmeDefault(cell string) string {
	if spans := codeSpans(cell); len(spans) > 0 {
		return spans[0]
	}
	return strings.TrimSpace(linkRE.ReplaceAllString(cell, "$1"))
}

// hermeticEnv is an environment holding only vars, with empty streams.
func hermeticEnv(vars map[string]string) Env {
	return Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, ConfigEnv: config.MapEnv(vars)}
}

// parseDefaults parses a command line without flags in env and returns the
// flag set, whose values are then the defaults.
func parseDefaults(t *testing.T, vars map[string]string) *flag.FlagSet {
	t.Helper()
	inv, err := parseArgs(nil, hermeticEnv(vars))
	if err != nil {
		t.Fatalf("parse with %v: %v", vars, err)
	}
	return inv.flags
}

// discovered returns the setting config discovery finds for a discovered
// flag (its value, or for --config the file read), with env and no config
// file in home.
func discovered(t *testing.T, name string, vars map[string]string) string {
	t.Helper()
	s, err := config.Discover(config.Overrides{}, config.MapEnv(vars), t.TempDir())
	if err != nil {
		t.Fatalf("--%s: discovery with %v: %v", name, vars, err)
	}
	switch name {
	case "url":
		return s.URL.Value
	case "token":
		return s.Token.Value
	case "password":
		return s.Password.Value
	case "config":
		return s.ConfigPath
	}
	t.Fatalf("--%s is discovered, but this test does not know which setting it is: add it to discovered", name)
	return ""
}

// The README's flag table and the flags the parser defines agree: the same
// flags (a flag without a row fails, and a row without a flag), the same
// environment variables, which really set the flag, and the same defaults,
// which come from the constants (defaultOptions) and from config discovery.
func TestREADMEFlagTable(t *testing.T) {
	rows := readmeFlagTable(t)
	fs := parseDefaults(t, nil)

	// The parser defines flagDefs and nothing else (-h and --help aside).
	var defined, documented, inREADME []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "h" && f.Name != "help" {
			defined = append(defined, f.Name)
		}
	})
	for _, d := range flagDefs {
		documented = append(documented, d.name)
	}
	for name := range rows {
		inREADME = append(inREADME, name)
	}
	slices.Sort(defined)
	slices.Sort(documented)
	slices.Sort(inREADME)
	if !slices.Equal(defined, documented) {
		t.Errorf("the parser defines %v, but flagDefs lists %v: define every flag through flagDefs", defined, documented)
	}
	for _, name := range documented {
		if _, ok := rows[name]; !ok {
			t.Errorf("--%s has no row in README.md's flag table (## Configuration)", name)
		}
	}
	for _, name := range inREADME {
		if !slices.Contains(documented, name) {
			t.Errorf("README.md:%d documents --%s, which clawgate does not have", rows[name].line, name)
		}
	}

	for _, d := range flagDefs {
		row, ok := rows[d.name]
		if !ok {
			continue
		}
		where := fmt.Sprintf("README.md:%d: --%s", row.line, d.name)

		// The flag cell: `--name`, or `--name[=value]` as -h writes it.
		if _, arg, ok := strings.Cut(row.flag, "["); ok && "["+arg != d.arg {
			t.Errorf("%s is written %q, but -h writes --%s%s", where, row.flag, d.name, d.arg)
		}

		// The env cell: the variable first, then only its legacy twin,
		// which config discovery reads for the flags it resolves.
		envs := codeSpans(row.env)
		if d.env == "" {
			if strings.TrimSpace(row.env) != "" || strings.TrimSpace(row.def) != "" {
				t.Errorf("%s has no environment variable and no default, but its row says env %q, default %q", where, row.env, row.def)
			}
			continue
		}
		if len(envs) == 0 || envs[0] != d.env {
			t.Errorf("%s: env cell %q, want `%s` first", where, row.env, d.env)
		}
		for _, e := range envs[1:] {
			if !envNameRE.MatchString(e) {
				continue // a value, e.g. CLAWGATE_SIMULATE (`openclaw`, `clawdbot`, `1`)
			}
			if twin := "CLAWDBOT_" + strings.TrimPrefix(d.env, "OPENCLAW_"); !d.discovered || e != twin {
				t.Errorf("%s: env cell names %s, which is not the legacy twin of %s read by config discovery", where, e, d.env)
			}
		}

		// The default cell states the default: the parser's, or config
		// discovery's for the gateway settings. A flag without one (a
		// credential, a policy that allows anything) has a cell in words,
		// without a `value`.
		var def string
		if d.discovered {
			if v := fs.Lookup(d.name).Value.String(); v != "" {
				t.Errorf("--%s is discovered, but the parser sets it to %q without the flag", d.name, v)
			}
			def = discovered(t, d.name, nil)
		} else {
			def = fs.Lookup(d.name).Value.String()
		}
		if def == "" {
			if spans := codeSpans(row.def); len(spans) > 0 {
				t.Errorf("%s has no default, but its default cell %q states `%s`", where, row.def, spans[0])
			}
		} else if got := readmeDefault(row.def); got != def {
			t.Errorf("%s: the default cell %q states %q, but the default is %q", where, row.def, got, def)
		}
		if def != "" && def != "false" && !strings.Contains(d.usage, def) {
			t.Errorf("--%s: -h says %q, which does not state the default %s", d.name, d.usage, def)
		}

		// The variable sets the flag: the parser reads it, or config
		// discovery does (with the legacy twins the README lists).
		for _, e := range envs {
			if !envNameRE.MatchString(e) {
				continue
			}
			sample, want := envSample(t, d)
			var got string
			if d.discovered {
				got = discovered(t, d.name, map[string]string{e: sample})
			} else {
				got = parseDefaults(t, map[string]string{e: sample}).Lookup(d.name).Value.String()
			}
			if got != want || got == def {
				t.Errorf("--%s: with %s=%s the value is %q, want %q (the default is %q)", d.name, e, sample, got, want, def)
			}
		}
	}
}

// envSample is a value for d's variable other than the default, and the
// flag's value it must give.
func envSample(t *testing.T, d flagDef) (sample, want string) {
	t.Helper()
	if d.name == "config" {
		p := filepath.Join(t.TempDir(), "openclaw.json")
		if err := os.WriteFile(p, []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p, p
	}
	fs := parseDefaults(t, nil)
	switch v := fs.Lookup(d.name).Value.(type) {
	case durationValue:
		return "7s", "7s"
	case simulateFlag:
		return "clawdbot", "clawdbot"
	case multiFlag:
		return "x/*, y/z", "x/*, y/z"
	case interface{ IsBoolFlag() bool }:
		if v.IsBoolFlag() {
			return "true", "true"
		}
	}
	switch d.name {
	case "url":
		return "ws://127.0.0.1:4242", "ws://127.0.0.1:4242"
	case "token", "password":
		return "sample-secret", "sample-secret"
	case "log-level":
		return "debug", "debug"
	case "device-identity":
		return "ALWAYS", "always"
	case "state-dir":
		return "/tmp/clawgate-state-sample", "/tmp/clawgate-state-sample"
	case "tls-fingerprint":
		fp := strings.Repeat("ab", 32)
		return fp, fp
	}
	t.Fatalf("--%s: this test has no sample value for its variable %s: add one to envSample", d.name, d.env)
	return "", ""
}
