package tools

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/clawgate/clawgate/schema"
)

// assistantEvery is the minimum gap between two progress notifications
// about streamed assistant text.
const assistantEvery = 250 * time.Millisecond

// progressTail is how much of the streamed text a progress message shows.
const progressTail = 80

// progress turns a run's events into notifications/progress for the
// request's progressToken. Without a token it does nothing. Notifications are
// best effort: a failed send never fails the tool.
type progress struct {
	// send delivers one message (nil: progress is not wanted).
	send func(msg string)
	// observe, if set, sees every event's stream and data (a background
	// run keeps its progress summary with it).
	observe  func(stream string, d schema.AgentEventData)
	lastText time.Time
}

// newProgress reports to the request's progressToken, if it has one.
func newProgress(ctx context.Context, req mcp.CallToolRequest) *progress {
	p := &progress{}
	if m := req.Params.Meta; m != nil && m.ProgressToken != nil {
		p.send = notifier(ctx, m.ProgressToken)
	}
	return p
}

// notifier returns a function that sends notifications/progress for token
// to the client of ctx's request, numbered from 1. Sends are best effort.
func notifier(ctx context.Context, token mcp.ProgressToken) func(msg string) {
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return nil
	}
	var mu sync.Mutex
	n := 0
	return func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		n++
		_ = srv.SendNotificationToClient(ctx, string(mcp.MethodNotificationProgress), map[string]any{
			"progressToken": token,
			"progress":      n,
			"message":       msg,
		})
	}
}

// onEvent is called by the gateway client for each event of the run, on one
// goroutine.
func (p *progress) onEvent(ev schema.AgentEvent) {
	if p.send == nil && p.observe == nil {
		return
	}
	d := ev.DecodeData()
	if p.observe != nil {
		p.observe(ev.Stream, d)
	}
	if p.send == nil {
		return
	}
	var msg string
	switch ev.Stream {
	case "lifecycle":
		switch d.Phase {
		case "start":
			msg = "run started"
		case "end":
			msg = "run finished"
		case "error":
			msg = "run error: " + d.Error
		default:
			return
		}
	case "assistant":
		if time.Since(p.lastText) < assistantEvery || d.Text == "" {
			return
		}
		p.lastText = time.Now()
		msg = "writing: " + tail(d.Text, progressTail)
	case "tool", "item":
		name := d.Name
		if name == "" {
			name = d.Title
		}
		if name == "" || d.Phase == "update" {
			return
		}
		switch d.Phase {
		case "start":
			msg = "tool " + name + " started"
		case "result", "end":
			msg = "tool " + name + " finished"
			if d.IsError || d.Status == "failed" {
				msg = "tool " + name + " failed"
			}
		default:
			return
		}
	case "compaction":
		msg = "compacting context (" + d.Phase + ")"
	default:
		return
	}
	p.note(msg)
}

// note sends msg as a progress notification of its own (for what the run's
// events do not say).
func (p *progress) note(msg string) {
	if p.send != nil {
		p.send(msg)
	}
}

// tail returns the last n runes of s on one line, with an ellipsis when cut.
func tail(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return fmt.Sprintf("…%s", string(r[len(r)-n:]))
}
