package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Independent MCP clients the e2e tier drives clawgate with. Each is its own
// install prefix, run with the cached Node (conformance needs Node >= 22).
var (
	// InspectorCLI is the official MCP Inspector (v2), run in its CLI mode
	// (the launcher with --cli). 2.x needs Node >= 22.19 and speaks both
	// protocol eras (--protocol-era legacy|auto|modern). It replaces the
	// deprecated @modelcontextprotocol/inspector-cli 1.x.
	InspectorCLI = Package{
		Dir:          "inspector-" + InspectorVersion,
		Dependencies: map[string]string{"@modelcontextprotocol/inspector": InspectorVersion},
		Files:        []string{InspectorCLIEntry, filepath.Join(inspectorDir, "clients", "cli", "build", "index.js")},
		WithNode:     true,
		Verify:       verifyVersion(filepath.Join(inspectorDir, "package.json"), InspectorVersion),
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

// InspectorVersion is the pinned @modelcontextprotocol/inspector release.
const InspectorVersion = "2.12.0"

var inspectorDir = filepath.Join("node_modules", "@modelcontextprotocol", "inspector")

// Entry points of the client packages, relative to their prefixes.
// InspectorCLIEntry is the Inspector's launcher (bin "mcp-inspector"),
// which runs the CLI when its first argument is --cli.
var (
	InspectorCLIEntry = filepath.Join(inspectorDir, "clients", "launcher", "build", "index.js")
	SupergatewayEntry = filepath.Join("node_modules", "supergateway", "dist", "index.js")
	ConformanceEntry  = filepath.Join("node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
)

// verifyVersion checks that the package.json at rel (relative to the prefix)
// has version want, so that a registry or lockfile surprise cannot swap in
// another release under the pinned prefix name.
func verifyVersion(rel, want string) func(context.Context, string) error {
	return func(_ context.Context, prefix string) error {
		b, err := os.ReadFile(filepath.Join(prefix, rel))
		if err != nil {
			return fmt.Errorf("read the installed package.json: %w", err)
		}
		var pkg struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(b, &pkg); err != nil {
			return fmt.Errorf("parse %s: %w", rel, err)
		}
		if pkg.Version != want {
			return fmt.Errorf("%s says version %q, want %s", rel, pkg.Version, want)
		}
		return nil
	}
}
