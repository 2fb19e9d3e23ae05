package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/clawgate/clawgate/tools"
)

// printTools lists the tools, one per line: name, arguments (* marks a
// required one) and what the tool does. In read-only mode the write tools
// are listed as disabled.
func printTools(w io.Writer, readOnly bool) {
	cat := tools.Catalog(readOnly)
	width := 0
	for _, t := range cat {
		width = max(width, len(t.Name))
	}
	for _, t := range cat {
		args := make([]string, 0, len(t.Arguments))
		for _, a := range t.Arguments {
			s := a.Name
			if a.Required {
				s += "*"
			}
			args = append(args, s)
		}
		summary := t.Summary
		if t.Disabled {
			summary = "(disabled by --read-only) " + summary
		}
		fmt.Fprintf(w, "  %-*s {%s}  %s\n", width, t.Name, strings.Join(args, ", "), summary)
	}
}
