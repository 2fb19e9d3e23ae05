package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
)

// ToolCancelSubagent is the name of the tool that stops a started run.
const ToolCancelSubagent = "cancel_subagent"

// cancelWait bounds how long cancel_subagent waits for the run to end.
const cancelWait = 5 * time.Second

var cancelSubagentTool = newTool(toolDef{
	name: ToolCancelSubagent, title: "Cancel a subagent",
	description: "Stop a run started with start_subagent and return its final state. OpenClaw aborts the run; Clawdbot 2026.1 cannot abort " +
		"agent runs, so clawgate stops a run in a private session by removing the session (a run in a named session goes on there). " +
		`Its private session is removed unless keep_session was set. Example: {"run_id": "sa_eyJ2Ijox…"}.`,
	destructive: true, idempotent: true,
}, (*tools).cancelSubagent)

// CancelSubagentInput names the run to stop.
type CancelSubagentInput struct {
	RunID string `json:"run_id" jsonschema:"description=The run_id start_subagent returned.,minLength=1"`
}

// CancelSubagentOutput is the run's final state.
type CancelSubagentOutput struct {
	RunID   string `json:"run_id" jsonschema:"description=The run's handle."`
	Status  string `json:"status" jsonschema:"description=cancelled: stopped now; finished: it had ended already (its result is dropped; wait_subagent still returns it for a while when this clawgate started it); running: it could not be stopped.,enum=cancelled,enum=finished,enum=running"`
	Stopped bool   `json:"stopped" jsonschema:"description=Whether the gateway confirmed that the run stopped."`
	Note    string `json:"note" jsonschema:"description=What happened\\, in a sentence."`
}

func (t *tools) cancelSubagent(ctx context.Context, _ mcp.CallToolRequest, in CancelSubagentInput) (CancelSubagentOutput, string, error) {
	h, err := decodeHandle(in.RunID)
	if err != nil {
		return CancelSubagentOutput{}, "", err
	}
	out := CancelSubagentOutput{RunID: h.encode()}
	if r := t.book.get(h); r != nil {
		if r.finished() {
			out.Status, out.Note = "finished", "the run had already finished; nothing was stopped"
			return out, out.Note, nil
		}
		r.mu.Lock()
		r.cancelled = true
		r.mu.Unlock()
		r.cancel()
		select {
		case <-r.done:
		case <-time.After(cancelWait):
		case <-ctx.Done():
			return out, "", ctx.Err()
		}
		r.mu.Lock()
		err, stopped := r.err, r.stopped
		if !r.ended.IsZero() {
			r.collected = time.Now() // nothing left to collect
		}
		r.mu.Unlock()
		if !r.finished() {
			out.Status, out.Note = "running", fmt.Sprintf("the run did not stop within %s; it may still be going on the gateway", cancelWait)
			return out, out.Note, nil
		}
		t.releaseSession(r)
		switch {
		case err == nil:
			out.Status, out.Note = "finished", "the run finished before it could be stopped; its result is dropped"
		case stopped:
			out.Status, out.Stopped, out.Note = "cancelled", true, Explain(err)
		default:
			out.Status, out.Note = "running", Explain(err)
		}
		return out, out.Note, nil
	}
	// A run of an earlier clawgate process.
	if h.Mode != modeModel {
		res, err := t.gw.AgentWait(ctx, h.Run, 0)
		if err == nil && (res.Status == "ok" || res.Status == "error") {
			if h.Private && !h.Keep {
				t.janitor.Remove(h.Key)
			}
			out.Status, out.Note = "finished", "the run had already finished; nothing was stopped"
			return out, out.Note, nil
		}
	}
	abort, err := t.gw.AbortRun(ctx, h.Key, h.Run)
	switch {
	case errors.Is(err, gateway.ErrAbortUnsupported) && h.Private:
		if t.stopByRemoving(h.Key) {
			t.janitor.RemoveInterrupted(h.Key)
			out.Status, out.Stopped, out.Note = "cancelled", true, "the run was stopped by removing its private session (this gateway cannot abort a run otherwise)"
		} else {
			out.Status, out.Note = "finished", "the run's private session is gone: the run had ended and was collected or cancelled (or the run_id is not from start_subagent on this gateway)"
		}
	case errors.Is(err, gateway.ErrAbortUnsupported):
		out.Status, out.Note = "running", "Clawdbot (protocol 3) cannot abort agent runs, and the run is in the named session "+h.Key+", which clawgate does not remove: it goes on until it ends or hits its own timeout"
	case err != nil:
		return out, "", err
	case abort.DidAbort():
		if h.Private && !h.Keep {
			t.janitor.RemoveInterrupted(h.Key)
		}
		out.Status, out.Stopped, out.Note = "cancelled", true, "the run was aborted on the gateway"
	default:
		if h.Private && !h.Keep && h.Mode != modeModel {
			t.janitor.Remove(h.Key)
		}
		out.Status, out.Note = "finished", "the gateway has no running run with this id: it had ended (or the run_id is not from start_subagent on this gateway)"
	}
	return out, out.Note, nil
}
