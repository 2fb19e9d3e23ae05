package tools_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// catalogEntry is the tool called name in cat.
func catalogEntry(t *testing.T, cat []tools.ToolInfo, name string) tools.ToolInfo {
	t.Helper()
	i := slices.IndexFunc(cat, func(ti tools.ToolInfo) bool { return ti.Name == name })
	if i < 0 {
		t.Fatalf("%s is not in the catalog", name)
	}
	return cat[i]
}

// writeTools are the tools --read-only disables, in catalog order.
func writeTools() []string {
	var out []string
	for _, name := range tools.Names(false) {
		if !slices.Contains(tools.Names(true), name) {
			out = append(out, name)
		}
	}
	return out
}

// The catalog lists every tool in the server's order and describes the
// arguments exactly as the served input schemas declare them.
func TestCatalogMatchesTheServedTools(t *testing.T) {
	c := newInProcess(t, &stubGateway{}, tools.Config{})
	list, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]mcp.Tool{}
	for _, tl := range list.Tools {
		served[tl.Name] = tl
	}
	roList, err := newInProcess(t, &stubGateway{}, tools.Config{ReadOnly: true}).ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	servedReadOnly := map[string]bool{}
	for _, tl := range roList.Tools {
		servedReadOnly[tl.Name] = true
		if !*tl.Annotations.ReadOnlyHint {
			t.Errorf("--read-only serves %s, which is not annotated readOnlyHint", tl.Name)
		}
	}
	cat := tools.Catalog(false)
	var names []string
	for _, ti := range cat {
		names = append(names, ti.Name)
		tl, ok := served[ti.Name]
		if !ok {
			t.Errorf("%s is in the catalog but not served", ti.Name)
			continue
		}
		gotwant.Error(t, fmt.Sprintf("%s: %+v does not match the served tool %+v", ti.Name, ti, tl),
			gotwant.Eq("disabled", ti.Disabled, false),
			gotwant.Eq("title", ti.Title, tl.Annotations.Title),
			gotwant.Eq("write (against --read-only serving it)", ti.Write, !servedReadOnly[ti.Name]),
			gotwant.HasPrefix("served description", tl.Description, ti.Summary),
			gotwant.HasSuffix("summary", ti.Summary, "."),
			gotwant.Lacks("summary", ti.Summary, "\n"),
		)
		var in struct {
			Properties map[string]struct {
				Type        string
				OneOf       []struct{ Type string }
				Description string
				Default     any
			}
			Required []string
		}
		raw, _ := json.Marshal(tl.InputSchema)
		if len(tl.RawInputSchema) > 0 {
			raw = tl.RawInputSchema
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		if len(ti.Arguments) != len(in.Properties) {
			t.Errorf("%s: %d arguments in the catalog, %d in the schema", ti.Name, len(ti.Arguments), len(in.Properties))
		}
		for _, a := range ti.Arguments {
			p, ok := in.Properties[a.Name]
			if !ok {
				t.Errorf("%s.%s is not in the schema", ti.Name, a.Name)
				continue
			}
			types := []string{p.Type}
			if p.Type == "" {
				types = nil
				for _, b := range p.OneOf {
					types = append(types, b.Type)
				}
			}
			gotwant.Error(t, fmt.Sprintf("%s.%s: %+v, schema %+v required %v", ti.Name, a.Name, a, p, in.Required),
				gotwant.That("types", slices.Equal(a.Types, types), a.Types, fmt.Sprintf("%v (the schema's)", types)),
				gotwant.Eq("type", a.Type, strings.Join(types, " or ")),
				gotwant.Eq("required", a.Required, slices.Contains(in.Required, a.Name)),
				gotwant.Eq("description", a.Description, p.Description),
				gotwant.Ne("expect", a.Expect, ""),
			)
			if (p.Default == nil) != (a.Default == nil) {
				t.Errorf("%s.%s: default %v, schema %v", ti.Name, a.Name, a.Default, p.Default)
			}
		}
	}
	if want := tools.Names(false); !slices.Equal(names, want) || len(served) != len(names) {
		t.Fatalf("catalog %v, want %v (%d served)", names, want, len(served))
	}

	// Spot checks of what `clawgate tools` will show.
	ls := catalogEntry(t, cat, "list_sessions")
	if gotwant.Error(t, fmt.Sprintf("list_sessions: %+v", ls), gotwant.Eq("write", ls.Write, false), gotwant.That("arguments", len(ls.Arguments) >= 1, len(ls.Arguments), "at least 1")) {
		first := ls.Arguments[0]
		gotwant.Error(t, fmt.Sprintf("list_sessions: %+v", ls),
			gotwant.Eq("arguments[0].name", first.Name, "limit"),
			gotwant.Eq("arguments[0].type", first.Type, "integer"),
			gotwant.Eq("arguments[0].required", first.Required, false),
			gotwant.Eq("arguments[0].expect", first.Expect, "an integer from 1 to 500"),
			gotwant.Eq[any]("arguments[0].default", first.Default, int64(20)),
		)
	}
	ask := catalogEntry(t, cat, "ask_subagent")
	gotwant.Error(t, fmt.Sprintf("ask_subagent: %+v", ask),
		gotwant.Eq("write", ask.Write, true),
		gotwant.Eq("arguments[0].name", ask.Arguments[0].Name, "message"),
		gotwant.Eq("arguments[0].required", ask.Arguments[0].Required, true),
		gotwant.Eq("arguments[0].expect", ask.Arguments[0].Expect, "a non-empty string"),
	)
	patch := catalogEntry(t, cat, "patch_session_model")
	model := patch.Arguments[slices.IndexFunc(patch.Arguments, func(a tools.ArgInfo) bool { return a.Name == "model" })]
	if model.Type != "string or null" || !model.Required || model.Expect != "a string or null" {
		t.Errorf("patch_session_model.model: %+v", model)
	}
}

// In read-only mode the write tools stay in the catalog, disabled; the
// catalog hands out copies.
func TestCatalogReadOnly(t *testing.T) {
	cat := tools.Catalog(true)
	var disabled []string
	for _, ti := range cat {
		if ti.Disabled != ti.Write {
			t.Errorf("%s: write %v, disabled %v", ti.Name, ti.Write, ti.Disabled)
		}
		if ti.Disabled {
			disabled = append(disabled, ti.Name)
		}
	}
	if len(cat) != len(tools.Names(false)) || !slices.Equal(disabled, writeTools()) || len(disabled) == 0 {
		t.Fatalf("read-only catalog: %d tools, disabled %v", len(cat), disabled)
	}
	i := slices.IndexFunc(cat, func(ti tools.ToolInfo) bool { return ti.Name == "list_sessions" })
	cat[i].Arguments[0].Name = "changed"
	cat[i].Arguments[0].Types[0] = "changed"
	if again := catalogEntry(t, tools.Catalog(true), "list_sessions"); again.Arguments[0].Name != "limit" || again.Arguments[0].Types[0] != "integer" {
		t.Fatal("Catalog returned shared slices")
	}
}

func TestUnknownToolMessage(t *testing.T) {
	// "the tools are gateway_status, list_sessions, list_models, patch_session_model, ask_subagent"
	tools5 := "the tools are " + strings.Join(tools.Names(false), ", ")
	// "the available tools are gateway_status, list_sessions, list_models
	// (patch_session_model and ask_subagent are disabled by --read-only)"
	available := strings.Join(tools.Names(true), ", ")
	write := writeTools()
	readTools := "the available tools are " + available + " (" + strings.Join(write[:len(write)-1], ", ") + " and " + write[len(write)-1] + " are disabled by --read-only)"
	for _, tc := range []struct {
		name     string
		readOnly bool
		want     string
	}{
		{"list_sesions", false, `unknown tool "list_sesions" (did you mean "list_sessions"?); ` + tools5},
		{"List_Sessions", false, `unknown tool "List_Sessions" (did you mean "list_sessions"?); ` + tools5},
		{"listModels", false, `unknown tool "listModels" (did you mean "list_models"?); ` + tools5},
		{"gateway-status", false, `unknown tool "gateway-status" (did you mean "gateway_status"?); ` + tools5},
		{"status", false, `unknown tool "status" (did you mean "gateway_status"?); ` + tools5},
		{"mcp__clawgate__ask_subagent", false, `unknown tool "mcp__clawgate__ask_subagent" (did you mean "ask_subagent"?); ` + tools5},
		{"ask_subagnet", false, `unknown tool "ask_subagnet" (did you mean "ask_subagent"?); ` + tools5},
		{"delete_session", false, `unknown tool "delete_session"; ` + tools5},
		{"no_such_tool", false, `unknown tool "no_such_tool"; ` + tools5},
		{"", false, `no tool name was given (params.name); ` + tools5},
		{" ", false, `no tool name was given (params.name); ` + tools5},
		{strings.Repeat("z", 100), false, `unknown tool "` + strings.Repeat("z", 40) + `…"; ` + tools5},
		{"bad\nname\x00", false, `unknown tool "bad\nname\x00"; ` + tools5},

		{"list_sesions", true, `unknown tool "list_sesions" (did you mean "list_sessions"?); ` + readTools},
		{"no_such_tool", true, `unknown tool "no_such_tool"; ` + readTools},
		{"patch_session_model", true, `the tool "patch_session_model" is disabled because this clawgate runs with --read-only (or CLAWGATE_READ_ONLY); ` +
			`the available tools are ` + available},
		{"ask_subagent", true, `the tool "ask_subagent" is disabled because this clawgate runs with --read-only (or CLAWGATE_READ_ONLY); ` +
			`the available tools are ` + available},
		{"ask_subagnet", true, `unknown tool "ask_subagnet" (did you mean "ask_subagent"? it is disabled because this clawgate runs with --read-only); ` + readTools},
		{"", true, `no tool name was given (params.name); ` + readTools},

		// Available tools are not unknown.
		{"list_sessions", false, ""},
		{"ask_subagent", false, ""},
		{"gateway_status", true, ""},
	} {
		if got := tools.UnknownToolMessage(tc.name, tc.readOnly); got != tc.want {
			t.Errorf("UnknownToolMessage(%q, %v):\n got %q\nwant %q", tc.name, tc.readOnly, got, tc.want)
		}
	}
}

// What mcp-go answers today for a tools/call of an unknown tool, or of a
// write tool in read-only mode, before any clawgate code runs: JSON-RPC
// -32602 "tool '<name>' not found: tool not found". This is the message the
// stdio filter replaces with UnknownToolMessage.
func TestUnknownToolRawMCPError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readOnly bool
	}{
		{"list_sesions", false},
		{"patch_session_model", true},
		{"", false},
	} {
		srv, err := tools.NewServer(tools.Config{Gateway: &stubGateway{}, ReadOnly: tc.readOnly})
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{"name": tc.name, "arguments": map[string]any{}}})
		b, _ := json.Marshal(srv.HandleMessage(context.Background(), line))
		var r struct {
			Error *struct {
				Code    int
				Message string
			}
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		raw := "tool '" + tc.name + "' not found: tool not found"
		if r.Error == nil || r.Error.Code != mcp.INVALID_PARAMS || r.Error.Message != raw {
			t.Fatalf("%s: %s, want -32602 %q", tc.name, b, raw)
		}

		// The same through an in-process client.
		c := newInProcess(t, &stubGateway{}, tools.Config{ReadOnly: tc.readOnly})
		req := mcp.CallToolRequest{}
		req.Params.Name = tc.name
		_, err = c.CallTool(testwait.Ctx(t), req)
		if err == nil || !errors.Is(err, mcp.ErrInvalidParams) || !strings.Contains(err.Error(), raw) {
			t.Fatalf("%s: client error %v, want invalid params with %q", tc.name, err, raw)
		}
		t.Logf("mcp-go: -32602 %q\n  replacement: %q", r.Error.Message, tools.UnknownToolMessage(tc.name, tc.readOnly))
	}
}

// The instructions name the read tools from the registry, so they stay true
// when a tool is added.
func TestInstructionsNameTheReadTools(t *testing.T) {
	srv, err := tools.NewServer(tools.Config{Gateway: &stubGateway{}})
	if err != nil {
		t.Fatal(err)
	}
	line := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + mcp.LATEST_LEGACY_PROTOCOL_VERSION +
		`","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`
	b, _ := json.Marshal(srv.HandleMessage(context.Background(), []byte(line)))
	var r struct {
		Result struct{ Instructions string }
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	read := tools.Names(true)
	want := "A `--read-only` clawgate offers only " + strings.Join(read[:len(read)-1], ", ") + " and " + read[len(read)-1] + "."
	if got := r.Result.Instructions; !strings.Contains(got, want) || strings.Contains(got, "{{") {
		t.Fatalf("instructions %q do not say %q", got, want)
	}
}

// The README's tool table has a row for every tool and none for a tool
// that does not exist.
func TestReadmeTableListsEveryTool(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	inTable := false
	for line := range strings.Lines(string(b)) {
		switch {
		case strings.HasPrefix(line, "| tool |"):
			inTable = true
		case inTable && strings.HasPrefix(line, "| ---"):
		case inTable && strings.HasPrefix(line, "| `"):
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			rows = append(rows, name)
		case inTable:
			inTable = false
		}
	}
	slices.Sort(rows)
	if want := slices.Sorted(slices.Values(tools.Names(false))); !slices.Equal(rows, want) {
		t.Fatalf("the README's tool table (| tool | what it does | gateway call |) lists %v, want a row for each of %v", rows, want)
	}
}
