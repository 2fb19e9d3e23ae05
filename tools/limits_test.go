package tools_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// Cost and safety limits beyond tools_test.go: aliases, defaults, ordering of
// the checks, and that a refusal never leaves a side effect on the gateway.

// patchedModels returns the model param of every sessions.patch the fake
// received for key ("<null>" for a clear).
func patchedModels(t *testing.T, e *env, key string) []string {
	t.Helper()
	var out []string
	for _, r := range e.fake.RequestsFor("sessions.patch") {
		var p struct {
			Key   string
			Model *string
		}
		if err := json.Unmarshal(r.Params, &p); err != nil {
			t.Fatal(err)
		}
		if p.Key != key {
			continue
		}
		if p.Model == nil {
			out = append(out, "<null>")
		} else {
			out = append(out, *p.Model)
		}
	}
	return out
}

// --allow-model globs are about provider/model references: an alias is
// resolved first (as the gateway resolves it) and judged by the model it
// names. An alias whose name the policy would let through but whose model
// it forbids is refused before anything changes on the gateway, naming the
// resolved model; no session is patched and no run starts.
func TestAllowModelAliasResolvingToForbiddenModel(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			// "Fake" is the fake gateway's alias of fake/fake-echo; the policy
			// allows the alias's name only.
			e := setup(t, gen, tools.Config{AllowModels: tools.ModelPolicy{"Fake"}})
			ctx := testwait.Ctx(t)
			res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:alias", "model": "Fake", "create": true}, nil)
			if !res.IsError || !strings.Contains(text(res), `model "Fake" resolves to fake/fake-echo, which this clawgate does not allow`) {
				t.Fatalf("patch: %s", text(res))
			}
			res = e.call(t, ctx, "ask_subagent", map[string]any{"message": "hi", "session_key": "agent:main:alias2", "model": "Fake"}, nil)
			if !res.IsError || !strings.Contains(text(res), `model "Fake" resolves to fake/fake-echo, which this clawgate does not allow`) {
				t.Fatalf("ask_subagent: %s", text(res))
			}
			if n := len(e.fake.RequestsFor("sessions.patch")); n != 0 {
				t.Fatalf("%d sessions.patch requests for a forbidden model", n)
			}
			if n := len(e.fake.Runs()); n != 0 {
				t.Fatalf("%d runs started on a forbidden model", n)
			}
		})
	}
}

// The other way round: the alias "Fake" is allowed under "fake/*", because
// the model it names is.
func TestAllowModelAliasOfAllowedModel(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{AllowModels: tools.ModelPolicy{"fake/*"}})
			var out tools.AskSubagentOutput
			res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "model": "Fake"}, &out)
			gotwant.Fatal(t, fmt.Sprintf("%s %+v", text(res), out),
				gotwant.Eq("isError", res.IsError, false),
				gotwant.Eq("model", out.Model, "fake/fake-echo"),
				gotwant.Eq("requested_model", out.RequestedModel, "fake/fake-echo"))
		})
	}
}

// With a policy whose first pattern names one model, ask_subagent without a
// model runs on that model, never on whatever the session had: on OpenClaw
// as the run's own model (no session patched), on Clawdbot set on the
// private session first.
func TestAllowModelDefaultForAskSubagent(t *testing.T) {
	for _, gen := range gens {
		t.Run(gen.String(), func(t *testing.T) {
			e := setup(t, gen, tools.Config{AllowModels: tools.ModelPolicy{"fake/fake-echo", "anthropic/*"}})
			var out tools.AskSubagentOutput
			res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "default model please"}, &out)
			if res.IsError || out.Model != "fake/fake-echo" || out.RequestedModel != "fake/fake-echo" {
				t.Fatalf("%s %+v", text(res), out)
			}
			runs := e.fake.Runs()
			if len(runs) != 1 || runs[0].Model != "fake/fake-echo" {
				t.Fatalf("runs %+v", runs)
			}
			patches := patchedModels(t, e, out.SessionKey)
			if gen == gatewaysim.OpenClaw {
				if runs[0].RequestedModel != "fake/fake-echo" || len(patches) != 0 {
					t.Fatalf("OpenClaw: run model param %q, patches %v; want the model with the run and no patch", runs[0].RequestedModel, patches)
				}
			} else if strings.Join(patches, ",") != "fake/fake-echo" || runs[0].RequestedModel != "" {
				t.Fatalf("Clawdbot: patches %v, run model param %q; want one patch of the private session and no model param", patches, runs[0].RequestedModel)
			}
		})
	}
}

// The policy filters list_models to the allowed models, case-insensitively.
func TestAllowModelFiltersListModels(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{AllowModels: tools.ModelPolicy{"FAKE/*"}})
	var lm tools.ListModelsOutput
	if res := e.call(t, testwait.Ctx(t), "list_models", nil, &lm); res.IsError || len(lm.Models) != 1 || lm.Models[0].ID != "fake/fake-echo" {
		t.Fatalf("%s %+v", text(res), lm)
	}
}

// The main-session refusal comes before anything touches the gateway: a
// refused ask_subagent with a model does not change the main session's model
// as a side effect, in any spelling of the key.
func TestAskSubagentMainSessionRefusedBeforeAnyPatch(t *testing.T) {
	e := setup(t, gatewaysim.OpenClaw, tools.Config{})
	for _, key := range []string{"agent:main:main", " agent:main:main ", "Agent:Main:Main", "main", "MAIN"} {
		res := e.call(t, testwait.Ctx(t), "ask_subagent", map[string]any{"message": "hi", "session_key": key, "model": "fake/fake-echo"}, nil)
		if !res.IsError || !strings.Contains(text(res), "is the gateway's main session") || !strings.Contains(text(res), "--allow-main-session") {
			t.Fatalf("%q: %s", key, text(res))
		}
	}
	if n := len(e.fake.RequestsFor("sessions.patch")) + len(e.fake.RequestsFor("agent")); n != 0 {
		t.Fatalf("%d requests reached the gateway for refused main-session runs", n)
	}
}

// A refused model never reaches the gateway, whichever tool names it, and
// the refusal lists what is allowed.
func TestAllowModelRefusalHasNoSideEffects(t *testing.T) {
	for _, gen := range gens {
		e := setup(t, gen, tools.Config{AllowModels: tools.ModelPolicy{"anthropic/claude-haiku-*"}})
		ctx := testwait.Ctx(t)
		for _, c := range []struct {
			tool string
			args map[string]any
		}{
			{"patch_session_model", map[string]any{"session_key": "agent:main:x", "model": "fake/fake-echo"}},
			{"patch_session_model", map[string]any{"session_key": "agent:main:x", "model": "claude-opus-4-5"}},
			{"ask_subagent", map[string]any{"message": "hi", "model": "anthropic/claude-opus-4-5"}},
			{"ask_subagent", map[string]any{"message": "hi", "model": "anthropic/claude-haiku-4-5/../../opus"}},
		} {
			res := e.call(t, ctx, c.tool, c.args, nil)
			if !res.IsError || !strings.Contains(text(res), "is not allowed by this clawgate (--allow-model anthropic/claude-haiku-*)") {
				t.Fatalf("%s %s %v: %s", gen, c.tool, c.args, text(res))
			}
		}
		if n := len(e.fake.RequestsFor("sessions.patch")) + len(e.fake.RequestsFor("agent")); n != 0 {
			t.Fatalf("%s: %d refused requests reached the gateway", gen, n)
		}
		// Clearing an override is always allowed: it returns to the default.
		if res := e.call(t, ctx, "patch_session_model", map[string]any{"session_key": "agent:main:x", "model": nil, "create": true}, nil); res.IsError {
			t.Fatalf("%s clear: %s", gen, text(res))
		}
	}
}
