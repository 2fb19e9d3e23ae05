package tools_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/tools"
)

var update = flag.Bool("update", false, "rewrite the golden tool definitions in testdata/tools")

// TestToolDefinitionsGolden snapshots every tool definition (name,
// description, schemas, annotations) so that a schema never changes by
// accident, and guards against mcp-go's silent fallback to an empty schema.
func TestToolDefinitionsGolden(t *testing.T) {
	c := newInProcess(t, unreachableGateway(t), tools.Config{})
	res, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		raw, err := json.Marshal(tool)
		if err != nil {
			t.Fatal(err)
		}
		var canon any
		if err := json.Unmarshal(raw, &canon); err != nil {
			t.Fatal(err)
		}
		got, _ := json.MarshalIndent(canon, "", "  ")
		got = append(got, '\n')
		path := filepath.Join("..", "testdata", "tools", tool.Name+".json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test ./tools -run Golden -update to create it)", tool.Name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s definition changed; if intended, run go test ./tools -run Golden -update\n got: %s", tool.Name, got)
		}
		checkDefinition(t, canon.(map[string]any))
	}
	want := slices.Sorted(slices.Values(tools.Names(false)))
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	// No golden file of a tool that is gone: e2e serves exactly these.
	files, err := filepath.Glob(filepath.Join("..", "testdata", "tools", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !slices.Contains(names, name) {
			t.Errorf("%s is the golden definition of %s, which is not a tool (any more): delete it", f, name)
		}
	}
}

func checkDefinition(t *testing.T, def map[string]any) {
	t.Helper()
	name := def["name"].(string)
	in := def["inputSchema"].(map[string]any)
	props, _ := in["properties"].(map[string]any)
	// The catalog reads the schema reflected from the tool's argument type,
	// before mcp-go: an empty served schema for a tool with arguments is
	// mcp-go's fallback.
	var args []tools.ArgInfo
	for _, ti := range tools.Catalog(false) {
		if ti.Name == name {
			args = ti.Arguments
		}
	}
	if len(props) != len(args) {
		t.Errorf("%s: %d input schema properties, the tool takes %d arguments", name, len(props), len(args))
	}
	if _, ok := def["outputSchema"].(map[string]any)["properties"]; !ok {
		t.Errorf("%s: no output schema properties", name)
	}
	ann, _ := def["annotations"].(map[string]any)
	for _, hint := range []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
		if _, ok := ann[hint].(bool); !ok {
			t.Errorf("%s: annotation %s not set explicitly", name, hint)
		}
	}
	raw, _ := json.Marshal(def)
	if bytes.Contains(raw, []byte(`"$ref"`)) || bytes.Contains(raw, []byte(`"$defs"`)) {
		t.Errorf("%s: schema uses $ref/$defs", name)
	}
	if def["description"] == "" {
		t.Errorf("%s: no description", name)
	}
}

func TestAnnotations(t *testing.T) {
	c := newInProcess(t, unreachableGateway(t), tools.Config{})
	res, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// A tool not listed here has its annotations pinned by its golden file
	// (and checked to be explicit by checkDefinition).
	want := map[string][4]bool{ // readOnly, destructive, idempotent, openWorld
		"gateway_status":      {true, false, true, false},
		"list_sessions":       {true, false, true, false},
		"list_models":         {true, false, true, false},
		"patch_session_model": {false, false, true, false},
		"ask_subagent":        {false, false, false, true},
	}
	for _, tool := range res.Tools {
		a := tool.Annotations
		got := [4]bool{*a.ReadOnlyHint, *a.DestructiveHint, *a.IdempotentHint, *a.OpenWorldHint}
		if w, ok := want[tool.Name]; ok && got != w {
			t.Errorf("%s annotations %v, want %v", tool.Name, got, want[tool.Name])
		}
	}
}
