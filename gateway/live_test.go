//go:build e2e

package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/schema"
)

// Live tests against real gateways. Set CLAWGATE_LIVE_OPENCLAW and/or
// CLAWGATE_LIVE_CLAWDBOT to their ws:// URLs and CLAWGATE_LIVE_TOKEN to the
// token; e2e/ starts such gateways.
func liveTargets(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, env := range map[string]string{"openclaw": "CLAWGATE_LIVE_OPENCLAW", "clawdbot": "CLAWGATE_LIVE_CLAWDBOT"} {
		if u := os.Getenv(env); u != "" {
			out[name] = u
		}
	}
	if len(out) == 0 {
		t.Skip("no live gateway configured (CLAWGATE_LIVE_OPENCLAW / CLAWGATE_LIVE_CLAWDBOT)")
	}
	return out
}

func liveClient(t *testing.T, url string, mod func(*gateway.Options)) *gateway.Client {
	t.Helper()
	o := gateway.Options{URL: url, Token: os.Getenv("CLAWGATE_LIVE_TOKEN")}
	if mod != nil {
		mod(&o)
	}
	c, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLive(t *testing.T) {
	for name, url := range liveTargets(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c := liveClient(t, url, nil)
			info, err := c.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("info: protocol=%d version=%s scopes=%v reported=%v main=%s maxPayload=%d", info.Protocol, info.ServerVersion, info.Scopes, info.ScopesReported, info.MainSessionKey, info.MaxPayload)
			wantProto := map[string]int{"openclaw": 4, "clawdbot": 3}[name]
			if info.Protocol != wantProto {
				t.Fatalf("protocol %d, want %d", info.Protocol, wantProto)
			}
			st, _, err := c.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("status: count=%d defaults=%+v", st.Sessions.Count, st.Sessions.Defaults)
			list, err := c.SessionsList(ctx, schema.SessionsListParams{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("sessions.list: count=%d defaults=%+v", list.Count, list.Defaults)
			models, err := c.ModelsList(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("models: %d, first %+v", len(models.Models), models.Models[0])
			key := fmt.Sprintf("agent:main:clawgate-live-%s-%d", name, time.Now().UnixNano()) // fresh: an aborted run leaves queued context behind
			m := "fake/fake-echo"
			pr, err := c.SessionsPatch(ctx, key, &m)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("patch: key=%s override=%q effective=%q", pr.Key, pr.OverrideModel(), pr.EffectiveModel())
			bad := "fake/no-such-model"
			_, err = c.SessionsPatch(ctx, key, &bad)
			ge, ok := gateway.AsError(err)
			if !ok || !strings.Contains(ge.Message, "model not allowed") {
				t.Fatalf("bad model: %v", err)
			}
			t.Logf("bad model: %v", err)
			pr, err = c.SessionsPatch(ctx, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("cleared: override=%q effective=%q", pr.OverrideModel(), pr.EffectiveModel())

			var mu sync.Mutex
			streams := map[string]int{}
			run, err := c.Agent(ctx, gateway.AgentRequest{Message: "hello live " + name, SessionKey: key, Timeout: 90 * time.Second}, func(ev schema.AgentEvent) {
				mu.Lock()
				streams[ev.Stream]++
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("agent: status=%s text=%q elapsed=%s events=%v", run.Reply.Status, run.Reply.Text(), run.Elapsed, streams)
			if !strings.Contains(run.Reply.Text(), "hello live "+name) {
				t.Fatalf("reply %q", run.Reply.Text())
			}

			// cancel a slow run once it is accepted and streaming (its first
			// event), as TestAgentCancelAndTimeoutAbortTheRun does
			actx, acancel := context.WithCancel(ctx)
			defer acancel()
			_, err = c.Agent(actx, gateway.AgentRequest{Message: "[[delay=20]] slow " + name, SessionKey: key, Timeout: 60 * time.Second},
				func(schema.AgentEvent) { acancel() })
			var re *gateway.RunError
			if !errors.As(err, &re) {
				t.Fatalf("cancelled run: %v", err)
			}
			t.Logf("cancelled: %v (aborted=%v)", err, re.Aborted)
			if name == "openclaw" && !re.Aborted {
				t.Fatalf("openclaw run not aborted: %v", err)
			}
			if name == "clawdbot" && !errors.Is(re.AbortErr, gateway.ErrAbortUnsupported) {
				t.Fatalf("clawdbot abort: %v", re.AbortErr)
			}

			// wrong token
			wc := liveClient(t, url, func(o *gateway.Options) { o.Token = "wrong-token" })
			_, err = wc.Info(ctx)
			ge, ok = gateway.AsError(err)
			if !ok || ge.Kind() != gateway.KindAuth {
				t.Fatalf("wrong token: %v", err)
			}
			t.Logf("wrong token: %v", err)
			if strings.Contains(err.Error(), "wrong-token") {
				t.Fatal("token leaked into error")
			}
			// read-only
			rc := liveClient(t, url, func(o *gateway.Options) { o.ReadOnly = true })
			_, err = rc.SessionsPatch(ctx, key, &m)
			ge, ok = gateway.AsError(err)
			if !ok || ge.Kind() != gateway.KindMissingScope {
				t.Fatalf("read-only patch: %v", err)
			}
			t.Logf("read-only patch: %v", err)
		})
	}
}
