package main

import (
	"strings"
	"testing"
	"time"
)

func TestReportHeader(t *testing.T) {
	start := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	ri := runInfo{started: start, finished: start.Add(95 * time.Second), loadStart: "0.50", gatewayVersion: "dev", protocol: 3, clawgateVersion: "v1"}
	var b strings.Builder
	ri.header(&b, "ask_subagent delegation", &config{url: "ws://127.0.0.1:1"})
	out := b.String()
	for _, want := range []string{
		"\n### ask_subagent delegation: Clawdbot (server.version \"dev\") (protocol 3) at ws://127.0.0.1:1\n\n",
		"clawgate v1, ", ", 2026-11-28 14:00 UTC, took 1m35s; load average 0.50 at the start, ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("header lacks %q:\n%s", want, out)
		}
	}
	ri.protocol, ri.gatewayVersion, ri.finished = 4, "2026.9.6", time.Time{}
	b.Reset()
	ri.header(&b, "clawgate side by side", &config{url: "ws://x", label: ""})
	if out := b.String(); !strings.HasPrefix(out, "\n### clawgate side by side: OpenClaw 2026.9.6 (protocol 4) at ws://x\n\n") || !strings.Contains(out, "took unfinished") {
		t.Errorf("header:\n%s", out)
	}
}
