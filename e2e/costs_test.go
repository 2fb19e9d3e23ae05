//go:build e2e

package e2e

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/schema"
	"github.com/clawgate/clawgate/tools"
)

// TestCostListModels checks selectable, price and context window of the
// gateways' two fake models: both allowed on OpenClaw (manualSelectionAllowed),
// only the default known to be on Clawdbot; --allow-model marks the other
// one not selectable; prices are the configured ones, and a read-only
// clawgate on Clawdbot (config.get needs operator.admin there) lists the
// models without prices and says why.
func TestCostListModels(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		openclaw := r.gw.Product.Protocol >= 4
		// OpenClaw's first config.get after a start takes a second on an
		// idle machine and far longer on a busy one, beyond what list_models
		// waits for prices (that case is unit-tested): ask it once first.
		warm, err := r.gw.Client(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer warm.Close()
		if _, err := warm.ModelPrices(ctxFor(t, 2*time.Minute)); err != nil {
			t.Fatalf("config.get: %v", err)
		}
		c := startFor(t, r)
		res := callTool(t, c, 30*time.Second, "list_models", map[string]any{"provider": "fake"})
		out := wantOK[tools.ListModelsOutput](t, res)
		t.Logf("list_models: %s", res.Text())
		miniSelectable := "unknown" // Clawdbot does not report its allowlist
		if openclaw {
			miniSelectable = "true"
		}
		checkModels(t, "list_models", out.Models, map[string]modelCheck{
			harness.ModelRef: {"true", "", harness.ModelPrice, harness.ModelContextWindow},
			harness.MiniRef:  {miniSelectable, "", harness.MiniPrice, harness.MiniContextWindow},
		})
		wantNote := !openclaw
		if got := slices.ContainsFunc(out.Notes, func(n string) bool { return strings.Contains(n, "does not report which models its allowlist") }); got != wantNote {
			t.Errorf("notes %q: Clawdbot's allowlist note present %v, want %v", out.Notes, got, wantNote)
		}
		cheapest := harness.ModelRef
		if openclaw {
			cheapest = harness.MiniRef
		}
		if !strings.Contains(res.Text(), "Cheapest selectable model (by input + output price): "+cheapest+".") {
			t.Errorf("text %q does not name %s as the cheapest selectable model", res.Text(), cheapest)
		}

		// --allow-model: the model it forbids is listed, not selectable.
		strict := startFor(t, r, "--allow-model", harness.ModelRef)
		out = wantOK[tools.ListModelsOutput](t, callTool(t, strict, 30*time.Second, "list_models", map[string]any{"provider": "fake"}))
		checkModels(t, "list_models with --allow-model "+harness.ModelRef, out.Models, map[string]modelCheck{
			harness.ModelRef: {"true", "", harness.ModelPrice, harness.ModelContextWindow},
			harness.MiniRef:  {"false", "allow_model", harness.MiniPrice, harness.MiniContextWindow},
		})

		// Read-only: OpenClaw's config.get needs operator.read, Clawdbot's
		// operator.admin.
		ro := startFor(t, r, "--read-only")
		res = callTool(t, ro, 30*time.Second, "list_models", map[string]any{"provider": "fake"})
		out = wantOK[tools.ListModelsOutput](t, res)
		if len(out.Models) != 2 {
			t.Fatalf("read-only: %+v", out.Models)
		}
		for _, m := range out.Models {
			if hasPrice := m.Price != nil; hasPrice != openclaw {
				t.Errorf("read-only: %s has a price: %v, want %v", m.ID, hasPrice, openclaw)
			}
		}
		noted := slices.ContainsFunc(out.Notes, func(n string) bool {
			return strings.Contains(n, "Prices are missing") && strings.Contains(n, "operator.admin")
		})
		if noted == openclaw || strings.Contains(res.Text(), "Prices are missing") != noted {
			t.Errorf("read-only: notes %q and text %q; want a note on missing prices only on Clawdbot", out.Notes, res.Text())
		}
	})
}

// modelCheck is what list_models must say of one model.
type modelCheck struct {
	selectable, reason string // selectable "true", "false" or "unknown"
	price              harness.Price
	contextWindow      int
}

func checkModels(t *testing.T, what string, models []tools.ModelOut, want map[string]modelCheck) {
	t.Helper()
	if len(models) != len(want) {
		t.Errorf("%s: %d models, want %d: %+v", what, len(models), len(want), models)
	}
	for _, m := range models {
		w, ok := want[m.ID]
		if !ok {
			t.Errorf("%s: unexpected model %+v", what, m)
			continue
		}
		sel := "unknown"
		if m.Selectable != nil {
			sel = fmt.Sprint(*m.Selectable)
		}
		var price harness.Price
		if p := m.Price; p != nil {
			for _, f := range []struct {
				dst *float64
				src *float64
			}{{&price.Input, p.InputPerMTok}, {&price.Output, p.OutputPerMTok}, {&price.CacheRead, p.CacheReadPerMTok}, {&price.CacheWrite, p.CacheWritePerMTok}} {
				if f.src == nil {
					*f.dst = math.NaN() // a configured field is missing
				} else {
					*f.dst = *f.src
				}
			}
		}
		gotwant.Error(t, fmt.Sprintf("%s: %s: %+v (price %+v)", what, m.ID, m, m.Price),
			gotwant.Eq("selectable", sel, w.selectable),
			gotwant.Eq("not_selectable_reason", m.NotSelectableReason, w.reason),
			gotwant.Eq("price", price, w.price),
			gotwant.Eq("context_window", m.ContextWindow, int64(w.contextWindow)),
		)
	}
}

// TestCostSessionsAndStatus runs a turn in a session keyed like clawgate's
// private ones (with its label) and checks that list_sessions marks it as
// clawgate's and shows its cost as the gateway estimates it (OpenClaw;
// Clawdbot reports none), and that gateway_status reports usage.cost's
// today and 30-day totals.
func TestCostSessionsAndStatus(t *testing.T) {
	eachGateway(t, false, func(t *testing.T, g *target, r *running) {
		openclaw := r.gw.Product.Protocol >= 4
		gw, err := r.gw.Client(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer gw.Close()
		key := "agent:main:subagent:clawgate-" + randomHex(10)
		run, err := gw.Agent(ctxFor(t, 2*time.Minute), gateway.AgentRequest{Message: "cost e2e " + randomHex(8), SessionKey: key,
			Label: "clawgate subagent", Timeout: 90 * time.Second}, nil)
		if err != nil || run.Reply == nil || run.Reply.Status != "ok" {
			t.Fatalf("agent run in %s: %+v %v", key, run, err)
		}

		c := startFor(t, r)
		res := callTool(t, c, 30*time.Second, "list_sessions", map[string]any{"limit": 200})
		list := wantOK[tools.ListSessionsOutput](t, res)
		raw := rawSessions(t, r)
		i := slices.IndexFunc(list.Sessions, func(s tools.SessionInfo) bool { return s.Key == key })
		if i < 0 {
			t.Fatalf("session %s not listed: %+v", key, list.Sessions)
		}
		row := list.Sessions[i]
		t.Logf("list_sessions row: %+v (cost_usd %v)", row, deref(row.CostUSD))
		gotwant.Error(t, fmt.Sprintf("row %+v", row),
			gotwant.Eq("created_by_clawgate", row.CreatedByClawgate, true),
			gotwant.Eq("label", row.Label, "clawgate subagent"),
		)
		if openclaw {
			rawCost, ok := raw[key]["estimatedCostUsd"].(float64)
			switch {
			case !ok:
				t.Errorf("OpenClaw's row has no estimatedCostUsd: %v", raw[key])
			case row.CostUSD == nil || *row.CostUSD != rawCost:
				t.Errorf("cost_usd %v, want the gateway's estimatedCostUsd %v", row.CostUSD, rawCost)
			case harness.ModelPrice.Input > 0 && rawCost <= 0:
				t.Errorf("estimatedCostUsd %v for a turn at %+v", rawCost, harness.ModelPrice)
			}
			if line := lineOf(res.Text(), key); !strings.Contains(line, "  cost $") || !strings.HasSuffix(line, "(created by clawgate)") {
				t.Errorf("the text's line of %s does not show its cost and that clawgate created it: %q", key, line)
			}
		} else if row.CostUSD != nil {
			t.Errorf("cost_usd %v on Clawdbot, whose rows have no cost", *row.CostUSD)
		}
		for _, s := range list.Sessions {
			if s.CreatedByClawgate != strings.Contains(s.Key, ":subagent:clawgate-") {
				t.Errorf("created_by_clawgate %v for %s", s.CreatedByClawgate, s.Key)
			}
		}

		// gateway_status reports what usage.cost says: read it before and
		// after on a second connection (which also fills OpenClaw's cache,
		// whose first fill takes seconds) until both agree.
		for attempt := 1; ; attempt++ {
			before := usageCost(t, gw)
			st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, 30*time.Second, "gateway_status", nil))
			after := usageCost(t, gw)
			if before.Totals == nil || after.Totals == nil || totalsOf(before) != totalsOf(after) {
				if attempt == 5 {
					t.Fatalf("usage.cost kept changing: %+v / %+v", before.Totals, after.Totals)
				}
				continue
			}
			if st.Cost == nil {
				t.Fatalf("gateway_status has no cost (cost_note %q)", st.CostNote)
			}
			t.Logf("gateway_status cost: date %s, today %v, last 30 days %v, missing %d",
				st.Cost.Date, deref(st.Cost.TodayUSD), deref(st.Cost.Last30DaysUSD), st.Cost.MissingCostEntries)
			if _, err := time.Parse(time.DateOnly, st.Cost.Date); err != nil {
				t.Errorf("cost.date %q: %v", st.Cost.Date, err)
			}
			var today *float64
			for _, d := range after.Daily {
				if d.Date == st.Cost.Date {
					today = d.TotalCost
				}
			}
			if today == nil {
				today = new(float64) // no use today: Clawdbot lists no such day
			}
			gotwant.Error(t, fmt.Sprintf("cost %+v, usage.cost totals %+v", st.Cost, after.Totals),
				gotwant.Eq("last_30_days_usd", fmt.Sprint(deref(st.Cost.Last30DaysUSD)), fmt.Sprint(deref(after.Totals.TotalCost))),
				gotwant.Eq("today_usd", fmt.Sprint(deref(st.Cost.TodayUSD)), fmt.Sprint(*today)),
				gotwant.Eq("missing_cost_entries", st.Cost.MissingCostEntries, after.Totals.MissingCostEntries.Count()),
				gotwant.Eq("cost_note", st.CostNote, ""),
			)
			break
		}
	})
}

// usageCost reads usage.cost on gw.
func usageCost(t *testing.T, gw *gateway.Client) *schema.UsageCost {
	t.Helper()
	uc, err := gw.UsageCost(ctxFor(t, 30*time.Second))
	if err != nil {
		t.Fatalf("usage.cost: %v", err)
	}
	return uc
}

// totalsOf is usage.cost's totals as a comparable string.
func totalsOf(uc *schema.UsageCost) string {
	tt := uc.Totals
	return fmt.Sprintf("%d/%d/%d/%d/%d/%v/%d", tt.Input, tt.Output, tt.CacheRead, tt.CacheWrite, tt.TotalTokens, deref(tt.TotalCost), tt.MissingCostEntries)
}

// deref is *p, or NaN for nil.
func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// lineOf is the line of text that starts with prefix, or "".
func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix+" ") {
			return l
		}
	}
	return ""
}
