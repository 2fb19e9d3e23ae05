package harness

import "path/filepath"

// Independent MCP clients the e2e tier drives clawgate with. Each is its own
// install prefix, run with the cached Node (conformance needs Node >= 22).
var (
	// InspectorCLI is the official MCP Inspector's CLI mode.
	InspectorCLI = Package{
		Dir:          "inspector-cli-1.0.3",
		Dependencies: map[string]string{"@modelcontextprotocol/inspector-cli": "1.0.3"},
		Files:        []string{InspectorCLIEntry},
		WithNode:     true,
	}
	// Supergateway bridges a stdio MCP server to Streamable HTTP.
	Supergateway = Package{
		Dir:          "supergateway-4.0.0",
		Dependencies: map[string]string{"supergateway": "4.0.0"},
		Files:        []string{SupergatewayEntry},
		WithNode:     true,
	}
	// Conformance is the MCP conformance test suite (server mode needs
	// Streamable HTTP, hence Supergateway).
	Conformance = Package{
		Dir:          "conformance-0.1.16",
		Dependencies: map[string]string{"@modelcontextprotocol/conformance": "0.1.16"},
		Files:        []string{ConformanceEntry},
		WithNode:     true,
	}
)

// Entry points of the client packages, relative to their prefixes.
var (
	InspectorCLIEntry = filepath.Join("node_modules", "@modelcontextprotocol", "inspector-cli", "build", "cli.js")
	SupergatewayEntry = filepath.Join("node_modules", "supergateway", "dist", "index.js")
	ConformanceEntry  = filepath.Join("node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
)
