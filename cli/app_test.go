package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/config"
	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// exitCode is the one place where a command's error becomes the exit code
// and the message on stderr.
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"a clean end", nil, ExitOK, ""},
		{"a failure", errors.New("gateway config: no such file"), ExitFailure, "clawgate: gateway config: no such file\n"},
		{"a wrapped failure", fmt.Errorf("list_models: %w", errors.New("closed")), ExitFailure, "clawgate: list_models: closed\n"},
		{"a usage error with its pointer", usagef(nil, "unknown flag --bogus"), ExitUsage,
			"clawgate: unknown flag --bogus\nRun 'clawgate -h' for usage.\n"},
		{"a command's usage error", usagef(&command{name: "serve"}, "clawgate serve takes no arguments"), ExitUsage,
			"clawgate: clawgate serve takes no arguments\nRun 'clawgate serve -h' for its usage.\n"},
		{"a usage error alone", &usageError{msg: `simulate "x": want openclaw or clawdbot`}, ExitUsage,
			"clawgate: simulate \"x\": want openclaw or clawdbot\n"},
		{"the usage itself", &usageError{more: "Usage: clawgate call TOOL\n\nTools:\n  a {}"}, ExitUsage,
			"Usage: clawgate call TOOL\n\nTools:\n  a {}\n"},
		{"an interrupt", interrupted("%s: interrupted", "ask_subagent"), ExitInterrupt, "clawgate: ask_subagent: interrupted\n"},
		{"a shown failure", shownError{errors.New("unauthorized")}, ExitFailure, ""},
		{"a shown interrupt", shownError{interrupted("doctor: interrupted")}, ExitInterrupt, ""},
	} {
		var stderr bytes.Buffer
		code := exitCode(&stderr, tc.err)
		if code != tc.code {
			t.Errorf("%s: exit code %d, want %d", tc.name, code, tc.code)
		}
		if got := stderr.String(); got != tc.stderr {
			t.Errorf("%s: stderr %q, want %q", tc.name, got, tc.stderr)
		}
	}
}

// Env.Lookup is the one way to the environment: ConfigEnv, else Getenv,
// else the process environment.
func TestEnvLookup(t *testing.T) {
	t.Setenv("CLAWGATE_TEST_LOOKUP", "process")
	getenv := func(k string) string {
		if k == "CLAWGATE_TEST_LOOKUP" {
			return "getenv"
		}
		return ""
	}
	for _, tc := range []struct {
		name      string
		env       Env
		key       string
		want      string
		wantIsSet bool
	}{
		{"ConfigEnv wins", Env{Getenv: getenv, ConfigEnv: config.MapEnv{"CLAWGATE_TEST_LOOKUP": "config"}}, "CLAWGATE_TEST_LOOKUP", "config", true},
		{"ConfigEnv alone, even unset", Env{Getenv: getenv, ConfigEnv: config.MapEnv{}}, "CLAWGATE_TEST_LOOKUP", "", false},
		{"ConfigEnv tells empty from unset", Env{ConfigEnv: config.MapEnv{"CLAWGATE_TEST_LOOKUP": ""}}, "CLAWGATE_TEST_LOOKUP", "", true},
		{"Getenv without ConfigEnv", Env{Getenv: getenv}, "CLAWGATE_TEST_LOOKUP", "getenv", true},
		{"Getenv: empty is unset", Env{Getenv: getenv}, "CLAWGATE_TEST_OTHER", "", false},
		{"the process environment", Env{}, "CLAWGATE_TEST_LOOKUP", "process", true},
	} {
		v, ok := tc.env.Lookup(tc.key)
		if v != tc.want || ok != tc.wantIsSet {
			t.Errorf("%s: Lookup(%s) = %q, %v; want %q, %v", tc.name, tc.key, v, ok, tc.want, tc.wantIsSet)
		}
	}
	// The parser reads its variables through the same Lookup.
	inv, err := parseArgs(nil, Env{Getenv: func(k string) string {
		if k == "CLAWGATE_READ_ONLY" {
			return " true "
		}
		return ""
	}})
	if err != nil || !inv.opts.ReadOnly {
		t.Errorf("CLAWGATE_READ_ONLY through Getenv: read-only %v, err %v", inv != nil && inv.opts.ReadOnly, err)
	}
}

// newApp chooses who logs: serve everything at the level asked for; call
// only warnings of its own unless a level is asked for, and nothing from
// the gateway client and the tools (it prints their errors itself); doctor
// nothing (it reports on stdout).
func TestAppLoggers(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args                    []string
		logInfo, logWarn, inner bool // enabled at info, warn; inner at error
	}{
		{[]string{"serve"}, true, true, true},
		{[]string{"--log-level", "warn", "serve"}, false, true, true},
		{[]string{"call", "list_models"}, false, true, false},
		{[]string{"--log-level", "info", "call", "list_models"}, true, true, true},
		{[]string{"doctor"}, false, false, false},
	} {
		a, err := newApp(tc.args, hermeticEnv(nil))
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got := [3]bool{a.log.Enabled(ctx, slog.LevelInfo), a.log.Enabled(ctx, slog.LevelWarn), a.inner.Enabled(ctx, slog.LevelError)}
		if want := [3]bool{tc.logInfo, tc.logWarn, tc.inner}; got != want {
			t.Errorf("%v: log info/warn, inner error enabled %v, want %v", tc.args, got, want)
		}
		a.Close()
	}
}

// An app that never connected closes; one that did closes its gateway
// client and stops the simulator.
func TestAppClose(t *testing.T) {
	env := hermeticEnv(nil)
	a, err := newApp([]string{"tools"}, env)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	a, err = newApp([]string{"--simulate", "call", "gateway_status"}, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testwait.Ctx(t)
	if err := a.connect(ctx); err != nil {
		t.Fatal(err)
	}
	gotwant.Fatal(t, "connect with --simulate",
		gotwant.Eq("gateway set", a.gw != nil, true),
		gotwant.Eq("simulator set", a.sim != nil, true),
		gotwant.Eq("server set", a.srv != nil, true),
		gotwant.That("settings", a.settings == nil, a.settings, "none (no config with --simulate)"),
	)
	if _, err := a.gw.Info(ctx); err != nil {
		t.Fatalf("the simulator does not answer: %v", err)
	}
	addr := strings.TrimPrefix(a.sim.URL, "ws://")
	a.Close()
	if _, _, err := a.gw.Status(ctx); !errors.Is(err, gateway.ErrClosed) {
		t.Errorf("a call after Close: %v, want ErrClosed", err)
	}
	// The simulator is gone: nothing listens on its address any more.
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the simulator still listens on %s after Close", addr)
	}
}

// The options the parser starts from are the constants of the packages
// that use them, and -h says so.
func TestDefaultsFromConstants(t *testing.T) {
	inv, err := parseArgs([]string{"serve"}, hermeticEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := defaultOptions(); !reflect.DeepEqual(inv.opts, want) {
		t.Errorf("options without flags or variables: %+v, want defaultOptions %+v", *inv.opts, *want)
	}
	if o := defaultOptions(); o.Timeout != tools.DefaultTimeout || o.ConnectTimeout != gateway.DefaultDialTimeout || o.CallTimeout != gateway.DefaultCallTimeout {
		t.Errorf("defaultOptions timeouts %s, %s, %s; want the constants tools.DefaultTimeout, gateway.DefaultDialTimeout, gateway.DefaultCallTimeout", o.Timeout, o.ConnectTimeout, o.CallTimeout)
	}
	var help strings.Builder
	printFlags(&help, nil)
	for _, want := range []string{
		"(default " + gateway.DefaultDialTimeout.String() + ")",
		"(default " + gateway.DefaultCallTimeout.String() + ")",
		"else " + gateway.DefaultURL + ")",
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("-h does not say %q:\n%s", want, help.String())
		}
	}
}
