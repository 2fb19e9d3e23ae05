package tools

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/clawgate/clawgate/internal/prose"
	"github.com/clawgate/clawgate/internal/suggest"
)

// ToolInfo describes one tool as the server serves it, for `clawgate tools`,
// `clawgate call` and error messages.
type ToolInfo struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Summary is the first sentence of Description.
	Summary     string `json:"summary"`
	Description string `json:"description"`
	// Write is true for the tools --read-only leaves out: those that
	// change the gateway's state or run agents (not annotated
	// readOnlyHint), and wait_subagent and list_subagents, which serve the
	// runs only such a clawgate starts.
	Write bool `json:"write"`
	// Disabled is true for a write tool when clawgate runs with --read-only.
	Disabled bool `json:"disabled,omitempty"`
	// Arguments are the tool's arguments in the order its input schema
	// lists them.
	Arguments []ArgInfo `json:"arguments"`
}

// ArgInfo describes one argument of a tool, from the tool's input schema.
type ArgInfo struct {
	Name string `json:"name"`
	// Type is the JSON type, or types ("string or null").
	Type string `json:"type"`
	// Types lists the JSON types the argument accepts: "string",
	// "integer", "boolean", "null", ...
	Types    []string `json:"types"`
	Required bool     `json:"required"`
	// Description is the schema's description on one line.
	Description string `json:"description"`
	// Expect says what a valid value is, as the validation errors say it:
	// "an integer from 1 to 500", "a non-empty string".
	Expect string `json:"expect"`
	// Default is the schema's default value, nil when it has none.
	Default any `json:"default,omitempty"`
}

// catalog is every tool's ToolInfo, none disabled, built once from the
// registry the server uses.
var catalog = sync.OnceValues(func() ([]ToolInfo, error) {
	out := make([]ToolInfo, 0, len(registry))
	for _, d := range registry {
		tl, err := d.mcpTool()
		if err != nil {
			return nil, err
		}
		args, err := argInfos(tl.RawInputSchema)
		if err != nil {
			return nil, fmt.Errorf("tools: read the input schema of %s: %w", d.name, err)
		}
		out = append(out, ToolInfo{
			Name: d.name, Title: d.title, Summary: firstSentence(d.description), Description: oneLine(d.description),
			Write: d.write(), Arguments: args,
		})
	}
	return out, nil
})

// Catalog lists every tool in the order the server lists them, with its
// arguments as its input schema declares them. With readOnly the write
// tools are included but marked Disabled.
func Catalog(readOnly bool) []ToolInfo {
	all, err := catalog()
	if err != nil {
		// The schemas are generated from fixed Go types; NewServer and the
		// golden tests fail the same way.
		panic(err)
	}
	out := make([]ToolInfo, len(all))
	for i, t := range all {
		t.Arguments = slices.Clone(t.Arguments)
		for j := range t.Arguments {
			t.Arguments[j].Types = slices.Clone(t.Arguments[j].Types)
		}
		t.Disabled = readOnly && t.Write
		out[i] = t
	}
	return out
}

// argInfos describes the properties of an input schema.
func argInfos(inputSchema json.RawMessage) ([]ArgInfo, error) {
	root, err := parseObjectSchema(inputSchema)
	if err != nil {
		return nil, err
	}
	args := make([]ArgInfo, 0, len(root.order))
	for _, name := range root.order {
		p, _ := root.props[name].(map[string]any)
		types := typeNames(p)
		desc, _ := p["description"].(string)
		args = append(args, ArgInfo{
			Name: name, Type: prose.Or(types), Types: types, Required: slices.Contains(root.required, name),
			Description: oneLine(desc), Expect: expect(p), Default: plainDefault(p["default"]),
		})
	}
	return args, nil
}

// plainDefault turns a json.Number default into an int64 or float64.
func plainDefault(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return f
	}
	return n.String()
}

// oneLine collapses runs of white space, line breaks included.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// firstSentence is s up to the end of its first sentence.
func firstSentence(s string) string {
	s = oneLine(s)
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// UnknownToolMessage says why name is not a tool that can be called and
// which tools there are, for the JSON-RPC error of a tools/call that names
// no available tool:
//
//	unknown tool "list_sesions" (did you mean "list_sessions"?); the tools are gateway_status, list_sessions, list_models, patch_session_model, ask_subagent
//
// For a write tool while clawgate runs with --read-only it says that the
// tool is disabled and which tools are available. It returns "" for the
// name of an available tool.
func UnknownToolMessage(name string, readOnly bool) string {
	cat := Catalog(readOnly)
	var all, available, disabled []string
	for _, t := range cat {
		all = append(all, t.Name)
		if t.Disabled {
			disabled = append(disabled, t.Name)
		} else {
			available = append(available, t.Name)
		}
	}
	if slices.Contains(available, name) {
		return ""
	}
	list := "the tools are " + strings.Join(all, ", ")
	if readOnly {
		list = "the available tools are " + strings.Join(available, ", ") +
			" (" + prose.And(disabled) + " are disabled by --read-only)"
	}
	if slices.Contains(disabled, name) {
		return fmt.Sprintf("the tool %s is disabled because this clawgate runs with --read-only (or CLAWGATE_READ_ONLY); "+
			"the available tools are %s", quote(name), strings.Join(available, ", "))
	}
	if strings.TrimSpace(name) == "" {
		return "no tool name was given (params.name); " + list
	}
	msg := "unknown tool " + quote(name)
	if s := suggest.Closest(name, all); s != "" {
		if slices.Contains(disabled, s) {
			msg += fmt.Sprintf(" (did you mean %s? it is disabled because this clawgate runs with --read-only)", quote(s))
		} else {
			msg += fmt.Sprintf(" (did you mean %s?)", quote(s))
		}
	}
	return msg + "; " + list
}
