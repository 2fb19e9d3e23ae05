package tools

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// ToolListSubagents is the name of the tool that lists started runs.
const ToolListSubagents = "list_subagents"

var listSubagentsTool = newTool(toolDef{
	name: ToolListSubagents, title: "List subagents",
	description: "List the runs this clawgate started with start_subagent that are still running or finished and not yet collected " +
		"with wait_subagent, newest first. Runs started before clawgate restarted are not listed (their run_id still works). Example: {}.",
	readOnly: true, idempotent: true, hideReadOnly: true,
}, (*tools).listSubagents)

// ListSubagentsInput takes no arguments.
type ListSubagentsInput struct{}

// ListSubagentsOutput lists the runs.
type ListSubagentsOutput struct {
	Runs []SubagentRun `json:"runs" jsonschema:"description=Runs\\, newest first."`
}

// SubagentRun is one run in list_subagents.
type SubagentRun struct {
	RunID     string `json:"run_id" jsonschema:"description=The run's handle; pass it to wait_subagent or cancel_subagent."`
	Status    string `json:"status" jsonschema:"description=running\\, or the final status of a finished run waiting to be collected (ok\\, error\\, cancelled).,example=running"`
	Mode      string `json:"mode" jsonschema:"description=The mode it runs in.,enum=agent,enum=light,enum=model"`
	Model     string `json:"model,omitempty" jsonschema:"description=The requested model\\, when one was asked for."`
	ElapsedMs int64  `json:"elapsed_ms" jsonschema:"description=Time since it started (until it ended\\, for a finished run) in milliseconds."`
	Message   string `json:"message" jsonschema:"description=The start of its task."`
}

func (t *tools) listSubagents(_ context.Context, _ mcp.CallToolRequest, _ ListSubagentsInput) (ListSubagentsOutput, string, error) {
	out := ListSubagentsOutput{Runs: []SubagentRun{}}
	var lines []string
	for _, r := range t.book.list(time.Now(), t.dropRun) {
		row := SubagentRun{RunID: r.handle, Status: "running", Mode: r.h.Mode, Model: r.h.Model, ElapsedMs: sinceMs(r.h.Started), Message: preview(r.message)}
		if r.finished() {
			r.mu.Lock()
			row.ElapsedMs = r.ended.UnixMilli() - r.h.Started
			switch {
			case r.cancelled:
				row.Status = "cancelled"
			case r.err != nil:
				row.Status = "error"
			default:
				row.Status = r.out.Status
			}
			r.mu.Unlock()
		}
		out.Runs = append(out.Runs, row)
		lines = append(lines, fmt.Sprintf("%s %s (%s, %s): %s", row.RunID, row.Status, row.Mode,
			(time.Duration(row.ElapsedMs)*time.Millisecond).Round(time.Second), row.Message))
	}
	if len(lines) == 0 {
		return out, "no subagent runs are going or waiting to be collected", nil
	}
	return out, strings.Join(lines, "\n"), nil
}
