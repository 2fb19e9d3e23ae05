package tools_test

import (
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/internal/testwait/gatewaywait"
	"github.com/clawgate/clawgate/tools"
)

// BenchmarkToolCallInProcess is one list_sessions tool call through the MCP
// server (in-process client) and the gateway client, against the fake.
func BenchmarkToolCallInProcess(b *testing.B) {
	e := setup(b, gatewaysim.OpenClaw, tools.Config{})
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_sessions"
	req.Params.Arguments = map[string]any{"limit": 5}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.c.CallTool(ctx, req)
		if err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}

// BenchmarkProgressLatency measures a gateway agent event → its
// notifications/progress at the MCP client, in-process: each op emits one
// lifecycle event for a running run and waits for the notification.
func BenchmarkProgressLatency(b *testing.B) {
	e := setup(b, gatewaysim.OpenClaw, tools.Config{})
	got := make(chan struct{}, 1024)
	e.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			got <- struct{}{}
		}
	})
	req := mcp.CallToolRequest{}
	req.Params.Name = "ask_subagent"
	req.Params.Arguments = map[string]any{"message": "[[delay=600]] hold"}
	req.Params.Meta = &mcp.Meta{ProgressToken: "bench"}
	ctx := b.Context()
	go func() { _, _ = e.c.CallTool(ctx, req) }()
	runID := gatewaywait.Runs(b, e.fake, 1)[0].RunID
	<-got // "run started"
	b.ResetTimer()
	for b.Loop() {
		e.fake.EmitAgentEvent(runID, "lifecycle", map[string]any{"phase": "start"})
		select {
		case <-got:
		case <-time.After(testwait.Patience()):
			b.Fatal("no progress notification")
		}
	}
}
