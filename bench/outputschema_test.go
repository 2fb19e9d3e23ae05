package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// TestResultsMatchOutputSchemas checks every tool's structuredContent
// against the outputSchema the server lists for it, against both fake
// gateway generations and an unreachable gateway. It does so on its own,
// whether or not the server validates its results at run time
// (mcp-go's WithOutputSchemaValidation, about a fifth of a list_sessions
// call's CPU), so results and schemas stay in step either way.
func TestResultsMatchOutputSchemas(t *testing.T) {
	for _, gen := range []gatewaysim.Generation{gatewaysim.OpenClaw, gatewaysim.Clawdbot} {
		t.Run(gen.String(), func(t *testing.T) {
			fake := gatewaysim.New(gatewaysim.Options{Generation: gen, Token: replayToken, AgentDelay: time.Millisecond})
			t.Cleanup(fake.Close)
			s := newSchemaServer(t, fake.URL(), time.Minute) // no connect may time out

			s.check(t, "list_models", `{}`, nil)
			const model = "fake/fake-echo" // both fakes' default model, always allowed
			s.check(t, "gateway_status", `{}`, nil)
			s.check(t, "list_sessions", `{"limit": 5}`, nil)
			s.check(t, "patch_session_model", fmt.Sprintf(`{"session_key": "agent:main:bench-schema", "model": %q, "create": true}`, model), nil)
			s.check(t, "patch_session_model", `{"session_key": "agent:main:bench-schema", "model": null}`, nil)
			s.check(t, "ask_subagent", fmt.Sprintf(`{"message": "hello", "session_key": "agent:main:bench-schema", "model": %q}`, model), nil)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		// Refused at once: the connect timeout never matters here.
		s := newSchemaServer(t, "ws://127.0.0.1:1", 200*time.Millisecond)
		s.check(t, "gateway_status", `{}`, nil) // connected:false is a result, not an error
	})
}

// schemaServer is clawgate's MCP server driven through HandleMessage, with
// the compiled output schemas of its tools.
type schemaServer struct {
	handle  func(ctx context.Context, msg json.RawMessage) any
	schemas map[string]*jsonschema.Schema
}

func newSchemaServer(t *testing.T, url string, dialTimeout time.Duration) *schemaServer {
	t.Helper()
	gw, err := gateway.New(gateway.Options{URL: url, Token: replayToken, DialTimeout: dialTimeout, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	srv, err := tools.NewServer(tools.Config{Gateway: gw})
	if err != nil {
		t.Fatal(err)
	}
	s := &schemaServer{
		handle:  func(ctx context.Context, msg json.RawMessage) any { return srv.HandleMessage(ctx, msg) },
		schemas: map[string]*jsonschema.Schema{},
	}
	var list struct {
		Tools []struct {
			Name         string          `json:"name"`
			OutputSchema json.RawMessage `json:"outputSchema"`
		} `json:"tools"`
	}
	s.rpc(t, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, &list)
	for _, tool := range list.Tools {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(tool.OutputSchema))
		if err != nil {
			t.Fatalf("%s: outputSchema: %v", tool.Name, err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(tool.Name+".json", doc); err != nil {
			t.Fatal(err)
		}
		if s.schemas[tool.Name], err = c.Compile(tool.Name + ".json"); err != nil {
			t.Fatalf("%s: compile outputSchema: %v", tool.Name, err)
		}
	}
	if want := len(tools.Names(false)); len(s.schemas) != want {
		t.Fatalf("tools/list listed %d tools with output schemas, want %d", len(s.schemas), want)
	}
	return s
}

// rpc sends one JSON-RPC request and decodes its result into out.
func (s *schemaServer) rpc(t *testing.T, req string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testwait.Patience())
	defer cancel()
	resp, err := json.Marshal(s.handle(ctx, json.RawMessage(req)))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  any             `json:"error"`
	}
	if err := json.Unmarshal(resp, &env); err != nil || env.Error != nil || env.Result == nil {
		t.Fatalf("%s: %s", req, resp)
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		t.Fatalf("%s: %v", req, err)
	}
}

// check calls a tool, requires a successful result, validates its
// structuredContent against the tool's output schema, and decodes it into
// out (if not nil).
func (s *schemaServer) check(t *testing.T, tool, args string, out any) {
	t.Helper()
	var res struct {
		IsError           bool            `json:"isError"`
		Content           json.RawMessage `json:"content"`
		StructuredContent json.RawMessage `json:"structuredContent"`
	}
	s.rpc(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, tool, args), &res)
	if res.IsError || res.StructuredContent == nil {
		t.Fatalf("%s %s: no structured result: %s", tool, args, res.Content)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.StructuredContent))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.schemas[tool].Validate(doc); err != nil {
		t.Errorf("%s %s: result does not match the output schema: %v\nresult: %s", tool, args, err, res.StructuredContent)
	}
	if out != nil {
		if err := json.Unmarshal(res.StructuredContent, out); err != nil {
			t.Fatal(err)
		}
	}
}
