package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/leakcheck"
	"github.com/clawgate/clawgate/tools"
)

// goroutineResult is what the in-process goroutine check found.
type goroutineResult struct {
	before    int // before the gateway client and the MCP server exist
	idle      int // connected and idle, after one call
	peak      int // highest count seen while the calls ran
	after     int // after the calls, once settled
	closed    int // after closing client and server, once settled
	calls     int
	heapIdle  uint64 // live heap of this process when connected and idle (bytes, after a GC)
	heapAfter uint64 // the same after the calls
}

// countGoroutines runs calls list_sessions tool calls with workers
// concurrent callers through clawgate's own MCP server and gateway client,
// in this process, against the real gateway, and counts goroutines before,
// during and after. clawgate's binary cannot be asked for its goroutines, so
// this is the same code measured where it can be.
func countGoroutines(ctx context.Context, url, token string, calls, workers, limit int) (*goroutineResult, error) {
	res := &goroutineResult{calls: calls}
	res.before = leakcheck.Baseline(5 * time.Second).Goroutines()
	gw, err := gateway.New(gateway.Options{URL: url, Token: token})
	if err != nil {
		return nil, err
	}
	srv, err := tools.NewServer(tools.Config{Gateway: gw})
	if err != nil {
		gw.Close()
		return nil, err
	}
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		gw.Close()
		return nil, err
	}
	closeAll := func() { c.Close(); gw.Close() }
	if err := c.Start(ctx); err != nil {
		closeAll()
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "sidebyside", Version: "dev"}
	if _, err := c.Initialize(ctx, init); err != nil {
		closeAll()
		return nil, err
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = tools.ToolListSessions
	req.Params.Arguments = map[string]any{"limit": limit}
	call := func() error {
		r, err := c.CallTool(ctx, req)
		if err != nil {
			return err
		}
		if r.IsError {
			return fmt.Errorf("list_sessions: %v", r.Content)
		}
		return nil
	}
	if err := call(); err != nil {
		closeAll()
		return nil, err
	}
	res.idle = leakcheck.Baseline(5 * time.Second).Goroutines()
	res.heapIdle = liveHeap()

	var next, peak atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(calls); n = next.Add(1) {
				if err := call(); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				if n%64 == 0 {
					if g := int64(runtime.NumGoroutine()); g > peak.Load() {
						peak.Store(g)
					}
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		closeAll()
		return nil, firstErr
	}
	res.peak = int(peak.Load())
	res.after = settledGoroutines(res.idle)
	res.heapAfter = liveHeap()
	closeAll()
	res.closed = settledGoroutines(res.before)
	return res, nil
}

// settledGoroutines waits until the goroutine count is at most target, for
// up to 5 s, and returns it (the count at the end of the wait if it stayed
// higher: the report shows it).
func settledGoroutines(target int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now, _ := leakcheck.SettleCount(ctx, target)
	return now.Goroutines()
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
