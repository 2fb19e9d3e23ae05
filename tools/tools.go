package tools

// registry is the list of clawgate's tools, the only one: NewServer serves
// it (without the write tools under --read-only), and Catalog, Names,
// UnknownToolMessage, `clawgate tools`, `clawgate doctor`, the server's
// instructions and the tests read it. Its order is the order in which the
// catalog, `clawgate tools` and error messages list the tools (tools/list
// itself is sorted by name).
//
// Adding a tool: a file holding its argument and result types, its
// definition (newTool) and its handler; its line here; its golden
// definition (go test ./tools -run Golden -update writes
// testdata/tools/<name>.json); its row in the README.
var registry = []tool{
	gatewayStatusTool,
	listSessionsTool,
	listModelsTool,
	patchSessionModelTool,
	askSubagentTool,
	startSubagentTool,
	waitSubagentTool,
	cancelSubagentTool,
	listSubagentsTool,
	readSessionTool,
}

// Names lists the names of the tools a server with Config.ReadOnly set to
// readOnly serves, in catalog order: every tool, or only the read tools.
func Names(readOnly bool) []string {
	names := make([]string, 0, len(registry))
	for _, d := range registry {
		if readOnly && d.write() {
			continue
		}
		names = append(names, d.name)
	}
	return names
}
