package tools

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// toolSchema returns the JSON Schema of v's type, inline (no $ref, $defs or
// $id), as MCP tool input and output schemas want it. The schema comes from
// the struct tags: json for names and omitempty (required is every field
// without omitempty), jsonschema for descriptions, examples, bounds,
// defaults, enums and nullable.
func toolSchema(v any) (json.RawMessage, error) {
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, Anonymous: true}
	s := r.Reflect(v)
	s.Version = ""
	hoistDescriptions(s)
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("marshal schema of %T: %w", v, err)
	}
	return b, nil
}

// hoistDescriptions moves the description and examples of a nullable
// property (reflected as oneOf [T, null]) from the first branch up to the
// property, where clients and models look for them.
func hoistDescriptions(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			hoistDescriptions(p.Value)
		}
	}
	hoistDescriptions(s.Items)
	if len(s.OneOf) > 0 && s.Description == "" {
		for _, b := range s.OneOf {
			if b.Description != "" {
				s.Description, b.Description = b.Description, ""
				s.Examples, b.Examples = b.Examples, nil
				break
			}
		}
	}
}
