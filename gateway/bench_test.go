package gateway_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/schema"
)

// recordedFrame returns the raw JSON of the first recorded gateway frame of
// scenario matching pred.
func recordedFrame(b *testing.B, gen, scenario string, pred func(map[string]any) bool) []byte {
	b.Helper()
	t := &testing.T{}
	for _, f := range recordedFrames(t, gen, scenario) {
		if pred(f) {
			raw, _ := json.Marshal(f)
			return raw
		}
	}
	b.Fatalf("no matching frame in %s/%s", gen, scenario)
	return nil
}

func BenchmarkDecodeAgentEvent(b *testing.B) {
	raw := recordedFrame(b, "openclaw", "happy", func(f map[string]any) bool { return f["event"] == "agent" })
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var f schema.InboundFrame
		if err := json.Unmarshal(raw, &f); err != nil {
			b.Fatal(err)
		}
		var ev schema.AgentEvent
		if err := json.Unmarshal(f.Payload, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSessionsList(b *testing.B) {
	for _, gen := range []string{"openclaw", "clawdbot"} {
		b.Run(gen, func(b *testing.B) {
			raw := recordedFrame(b, gen, "happy", func(f map[string]any) bool {
				p, _ := f["payload"].(map[string]any)
				_, ok := p["sessions"].([]any)
				return f["type"] == "res" && ok
			})
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				var f schema.InboundFrame
				if err := json.Unmarshal(raw, &f); err != nil {
					b.Fatal(err)
				}
				var l schema.SessionsList
				if err := json.Unmarshal(f.Payload, &l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	req := schema.RequestFrame{Type: "req", ID: "12345", Method: "sessions.list", Params: schema.SessionsListParams{Limit: 20}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(req); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFake is a fake gateway whose test.echo answers immediately, so the
// benchmark measures the client and the WebSocket, not the fake's methods.
func benchFake(b *testing.B) (*gatewaysim.Server, *gateway.Client) {
	s := gatewaysim.New(gatewaysim.Options{Token: testToken})
	b.Cleanup(s.Close)
	s.Handle("test.echo", func(c *gatewaysim.Conn, req gatewaysim.Request) { _ = c.Reply(req.ID, map[string]int{"n": 1}) })
	c, err := gateway.New(gateway.Options{URL: s.URL(), Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.Info(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s, c
}

func BenchmarkCallRoundTrip(b *testing.B) {
	_, c := benchFake(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		var out struct{ N int }
		if err := c.Call(ctx, "test.echo", nil, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCallRoundTripParallel(b *testing.B) {
	_, c := benchFake(b)
	ctx := b.Context()
	b.SetParallelism(32) // 64 goroutines on 2 cores: many calls in flight on one connection
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Call(ctx, "test.echo", nil, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCallSessionsList is a call whose reply is large: the recorded
// OpenClaw sessions.list reply, decoded into the result (the reply is
// decoded once, on the caller's goroutine).
func BenchmarkCallSessionsList(b *testing.B) {
	frame := recordedFrame(b, "openclaw", "happy", func(f map[string]any) bool {
		p, _ := f["payload"].(map[string]any)
		_, ok := p["sessions"].([]any)
		return f["type"] == "res" && ok
	})
	var rec struct{ Payload json.RawMessage }
	if err := json.Unmarshal(frame, &rec); err != nil {
		b.Fatal(err)
	}
	s, c := benchFake(b)
	s.Handle("sessions.list", func(c *gatewaysim.Conn, req gatewaysim.Request) { _ = c.Reply(req.ID, rec.Payload) })
	ctx := b.Context()
	b.SetBytes(int64(len(rec.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		l, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 20})
		if err != nil || len(l.Sessions) == 0 {
			b.Fatal(l, err)
		}
	}
}

func BenchmarkAgentRun(b *testing.B) {
	s := gatewaysim.New(gatewaysim.Options{Token: testToken, AgentDelay: time.Nanosecond})
	b.Cleanup(s.Close)
	c, err := gateway.New(gateway.Options{URL: s.URL(), Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Agent(ctx, gateway.AgentRequest{Message: "bench", SessionKey: "agent:main:bench"}, func(schema.AgentEvent) {}); err != nil {
			b.Fatal(err)
		}
	}
}
