package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/schema"
	"github.com/clawgate/clawgate/tools"
)

// stubGateway answers every gateway call at once with canned data and
// records what the tools asked for, so that properties of the requests can
// be checked (fuzzing needs speed and determinism more than realism; the
// fake gateway is used everywhere else).
type stubGateway struct {
	mu      sync.Mutex
	patches []*string
	agents  []gateway.AgentRequest
	lists   []schema.SessionsListParams
}

func (s *stubGateway) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.patches, s.agents, s.lists = nil, nil, nil
}

func (s *stubGateway) URL() string { return "ws://127.0.0.1:18789" }

func (s *stubGateway) Info(context.Context) (*gateway.Info, error) {
	return &gateway.Info{URL: s.URL(), Protocol: 4, ServerVersion: "stub", Scopes: []string{gateway.ScopeAdmin}, ScopesReported: true,
		MainSessionKey: "agent:main:main", DefaultAgentID: "main"}, nil
}

func (s *stubGateway) Status(context.Context) (*schema.Status, json.RawMessage, error) {
	var st schema.Status
	used := schema.Int(10)
	st.Sessions.Count = 1
	st.Sessions.Defaults = schema.StatusDefaults{Model: "fake-echo", ContextTokens: 1000}
	st.Sessions.Recent = []schema.SessionStatus{{Key: "agent:main:main", TotalTokens: &used}}
	return &st, json.RawMessage(`{}`), nil
}

func (s *stubGateway) SessionsList(_ context.Context, p schema.SessionsListParams) (*schema.SessionsList, error) {
	s.mu.Lock()
	s.lists = append(s.lists, p)
	s.mu.Unlock()
	out := &schema.SessionsList{Defaults: schema.ModelDefaults{ModelProvider: "fake", Model: "fake-echo", ContextTokens: 1000}}
	for i := range 30 {
		out.Sessions = append(out.Sessions, schema.SessionRow{Key: fmt.Sprintf("agent:main:s%d", i), Model: "fake-echo", ModelProvider: "fake",
			TotalTokens: schema.Int(i), ContextTokens: 1000, UpdatedAt: 1_700_000_000_000})
	}
	out.Count = schema.Int(len(out.Sessions))
	return out, nil
}

func (s *stubGateway) SessionsPatch(_ context.Context, key string, model *string) (*schema.SessionsPatchResult, error) {
	s.mu.Lock()
	s.patches = append(s.patches, model)
	s.mu.Unlock()
	r := &schema.SessionsPatchResult{OK: true, Key: key}
	if model != nil {
		prov, m, ok := strings.Cut(*model, "/")
		if !ok {
			prov, m = "fake", *model
		}
		r.Entry = schema.SessionEntry{ProviderOverride: prov, ModelOverride: m}
	}
	return r, nil
}

func (s *stubGateway) ModelsList(context.Context) (*schema.ModelsList, error) {
	return &schema.ModelsList{Models: []schema.ModelInfo{
		{ID: "fake-echo", Provider: "fake", Name: "Fake Echo", ContextWindow: 1000},
		{ID: "claude-haiku-4-5", Provider: "anthropic", ContextWindow: 200000},
		{ID: "claude-opus-4-5", Provider: "anthropic", ContextWindow: 200000},
	}}, nil
}

func (s *stubGateway) Agent(_ context.Context, req gateway.AgentRequest, onEvent func(schema.AgentEvent)) (*gateway.AgentRun, error) {
	s.mu.Lock()
	s.agents = append(s.agents, req)
	s.mu.Unlock()
	if onEvent != nil {
		onEvent(schema.AgentEvent{RunID: "r", Seq: 1, Stream: "lifecycle", Data: json.RawMessage(`{"phase":"start"}`)})
		onEvent(schema.AgentEvent{RunID: "r", Seq: 2, Stream: "assistant", Data: json.RawMessage(`{"text":"partial"}`)})
	}
	return &gateway.AgentRun{RunID: "r", SessionKey: req.SessionKey, Elapsed: time.Millisecond, Reply: &schema.AgentReply{
		RunID: "r", Status: schema.RunOK, Result: &schema.AgentResult{Payloads: []schema.AgentPayload{{Text: "stub reply"}}}}}, nil
}

func (s *stubGateway) SessionsDelete(_ context.Context, key string) (*schema.SessionsDeleteResult, error) {
	return &schema.SessionsDeleteResult{Key: key, Deleted: true}, nil
}

func (s *stubGateway) UsageCost(context.Context) (*schema.UsageCost, error) {
	return &schema.UsageCost{}, nil
}

func (s *stubGateway) ModelPrices(context.Context) (map[string]schema.ModelPrice, error) {
	return map[string]schema.ModelPrice{}, nil
}

func (s *stubGateway) ModelAliases(context.Context) (map[string]string, error) {
	return map[string]string{}, nil
}

func (s *stubGateway) ChatHistory(_ context.Context, key string, _ int) (*schema.ChatHistory, error) {
	return &schema.ChatHistory{SessionKey: key}, nil
}

func (s *stubGateway) AgentWait(_ context.Context, runID string, _ time.Duration) (*schema.AgentWaitResult, error) {
	return &schema.AgentWaitResult{RunID: runID, Status: "ok"}, nil
}

func (s *stubGateway) AbortRun(_ context.Context, _, _ string) (*schema.AbortResult, error) {
	return &schema.AbortResult{}, nil
}

var _ tools.Gateway = (*stubGateway)(nil)

// fuzzTools decodes the fuzzer's tool byte: byte b calls fuzzTools[b %
// len(fuzzTools)]. The first six names are fixed, because the seeds in
// testdata/fuzz were written for them; every tool added since follows, so
// that it is fuzzed too.
var fuzzTools = func() []string {
	names := []string{"gateway_status", "list_sessions", "list_models", "patch_session_model", "ask_subagent", "no_such_tool"}
	for _, name := range tools.Names(false) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}()

// FuzzToolArguments calls the tools with arbitrary JSON arguments through an
// in-process MCP client, on a server with an --allow-model policy. Whatever
// the arguments, the call returns a result or a JSON-RPC error (never a
// panic, never a hang); every tool error is a sentence (no Go value dumps,
// "Invalid arguments for <tool>: …." for arguments the schema refuses, and
// then no gateway request at all); and the gateway never sees a request the
// policies forbid: no model outside --allow-model, no agent run in the main
// session, no empty message, no non-positive limit or timeout.
//
//	go test -run '^$' -fuzz '^FuzzToolArguments$' -fuzztime 10s ./tools/
func FuzzToolArguments(f *testing.F) {
	for i, args := range []string{
		`{}`,
		`{"limit": 5, "search": "sub", "agent_id": "main", "active_minutes": 60}`,
		`{"provider": "anthropic"}`,
		`{"session_key": "agent:main:x", "model": "fake/fake-echo"}`,
		`{"message": "hello", "model": "anthropic/claude-haiku-4-5", "timeout_seconds": 5}`,
		`{"message": "hi", "session_key": "AGENT:MAIN:MAIN"}`,
	} {
		f.Add(uint8(i), []byte(args))
	}
	policy := tools.ModelPolicy{"fake/*", "*/claude-haiku-*"}
	stub := &stubGateway{}
	srv, err := tools.NewServer(tools.Config{Gateway: stub, AllowModels: policy, DefaultTimeout: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	c := startInProcess(f, srv)
	f.Cleanup(func() { c.Close() })

	f.Fuzz(func(t *testing.T, tool uint8, args []byte) {
		if !json.Valid(args) {
			return // the MCP client cannot even send it; stdio tests cover raw bytes
		}
		stub.reset()
		name := fuzzTools[int(tool)%len(fuzzTools)]
		req := mcp.CallToolRequest{}
		req.Params.Name = name
		req.Params.Arguments = json.RawMessage(args)
		// The stub gateway answers at once: only a hang waits this long.
		bound := testwait.FuzzPatience()
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		res, err := c.CallTool(ctx, req)
		if ctx.Err() != nil {
			t.Fatalf("%s %s: no answer within %s", name, args, bound)
		}
		if err != nil {
			if strings.Contains(err.Error(), "panic") {
				t.Fatalf("%s %s: %v", name, args, err)
			}
			// Only mcp-go's own refusals are JSON-RPC errors: an unknown
			// tool (-32602), or params it cannot decode (-32600, e.g. a
			// number beyond float64 such as 1e999).
			if !errors.Is(err, mcp.ErrInvalidRequest) && (name != "no_such_tool" || !errors.Is(err, mcp.ErrInvalidParams)) {
				t.Fatalf("%s %s: JSON-RPC error %v, want a result", name, args, err)
			}
			return
		}
		out := text(res)
		if strings.Contains(out, "panic") {
			t.Fatalf("%s %s: %s", name, args, out)
		}
		if res.IsError && strings.TrimSpace(out) == "" {
			t.Fatalf("%s %s: error without a message", name, args)
		}
		if res.IsError {
			checkSentence(t, name, string(args), out)
		}
		if !res.IsError && name != "no_such_tool" && res.StructuredContent == nil {
			t.Fatalf("%s %s: success without structuredContent", name, args)
		}

		stub.mu.Lock()
		defer stub.mu.Unlock()
		if res.IsError && strings.HasPrefix(out, "Invalid arguments for ") && len(stub.patches)+len(stub.agents)+len(stub.lists) > 0 {
			t.Fatalf("%s %s: refused as invalid (%s) after gateway requests", name, args, out)
		}
		for _, m := range stub.patches {
			if m != nil && !policy.Allows(*m) {
				t.Fatalf("%s %s: patched the forbidden model %q", name, args, *m)
			}
		}
		for _, a := range stub.agents {
			k := strings.ToLower(strings.TrimSpace(a.SessionKey))
			if k == "agent:main:main" || k == "main" {
				t.Fatalf("%s %s: agent run in the main session %q", name, args, a.SessionKey)
			}
			if strings.TrimSpace(a.Message) == "" || a.Timeout <= 0 {
				t.Fatalf("%s %s: agent request %+v", name, args, a)
			}
		}
		for _, l := range stub.lists {
			if l.Limit <= 0 {
				t.Fatalf("%s %s: sessions.list limit %d", name, args, l.Limit)
			}
		}
	})
}
