package bench_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStdioListSessions is one tools/call list_sessions through
// clawgate's whole serving path (mcp-go's stdio server, the tools, the
// gateway client, a loopback WebSocket) against a replay gateway that
// answers with a recorded OpenClaw 2026.9.6 sessions.list reply at almost no
// cost of its own: 20 sessions (40 KB), and the first of them alone (2 KB),
// which leaves the per-call overhead. What it measures is what clawgate adds
// to a real call, minus the process boundary.
func BenchmarkStdioListSessions(b *testing.B) {
	b.Run("limit=20", func(b *testing.B) { benchList(b, "sessions-list-openclaw-2026.9.6.json", 20) })
	b.Run("limit=1", func(b *testing.B) { benchList(b, "sessions-list-openclaw-2026.9.6-limit1.json", 1) })
}

func benchList(b *testing.B, reply string, limit int) {
	g := startReplay(b, map[string]string{"sessions.list": reply})
	c := startStdio(b, g.url)
	benchCalls(b, c, fmt.Sprintf(`{"name":"list_sessions","arguments":{"limit":%d}}`, limit))
}

// benchCalls measures the tools/call with params through c, after one
// unmeasured call (which connects).
func benchCalls(b *testing.B, c *stdioClawgate, params string) {
	if err := c.request("tools/call", params); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if err := c.request("tools/call", params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdioAskSubagent is one tools/call ask_subagent through the same
// path, against a replay of a recorded OpenClaw 2026.9.6 run (accepted, 18
// events, an 8 KB final reply) sent all at once: what clawgate adds to an
// agent run, minus the process boundary and the model's time.
func BenchmarkStdioAskSubagent(b *testing.B) {
	g := startReplay(b, map[string]string{"agent": "agent-run-openclaw-2026.9.6.jsonl"})
	c := startStdio(b, g.url)
	benchCalls(b, c, `{"name":"ask_subagent","arguments":{"message":"bench","session_key":"agent:main:bench"}}`)
}

// reportCPU adds the process's CPU time (user + system) per operation to
// the benchmark's results: on a busy machine wall time per op mostly says
// how often the benchmark got a core, CPU time what the work costs. It
// counts everything in the process: clawgate, the replay gateway (which
// does next to nothing) and the benchmark's client.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
