package schema

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// ToolSchema returns the JSON Schema of v's type, inline (no $ref, $defs or
// $id), as MCP tool input and output schemas want it.
func ToolSchema(v any) (json.RawMessage, error) {
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, Anonymous: true}
	s := r.Reflect(v)
	s.Version = ""
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("marshal schema of %T: %w", v, err)
	}
	return b, nil
}
