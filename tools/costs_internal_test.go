package tools

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/clawgate/clawgate/schema"
)

// SetCostWait sets how long gateway_status and list_models wait for cost
// and prices, and returns the function that restores the default. Only
// tests that do not run in parallel may use it.
func SetCostWait(d time.Duration) (restore func()) {
	old := costWaitNanos.Swap(int64(d))
	return func() { costWaitNanos.Store(old) }
}

func TestIsClawgateSessionKey(t *testing.T) {
	for key, want := range map[string]bool{
		"agent:main:subagent:clawgate-0123456789":   true,
		"agent:ops:subagent:clawgate-abcdef0123":    true,
		"agent:main:subagent:clawgate-0123456789ab": false, // 12 hex digits
		"agent:main:subagent:clawgate-012345678":    false, // 9
		"agent:main:subagent:clawgate-ABCDEF0123":   false, // clawgate writes lower case
		"agent:main:subagent:clawgate-ghijklmnop":   false,
		"agent:main:subagent":                       false,
		"agent:main:clawgate-0123456789":            false,
		"agent:main:subagent:x:clawgate-0123456789": false,
		"agent::subagent:clawgate-0123456789":       false,
		"xagent:main:subagent:clawgate-0123456789":  false,
		"agent:main:subagent:clawgate-0123456789\n": false,
	} {
		if got := IsPrivateSession(key); got != want {
			t.Errorf("IsPrivateSession(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestUSDOf(t *testing.T) {
	for in, want := range map[json.Number]string{
		"":        "<nil>",
		"0":       "0",
		"0.00012": "0.00012",
		"1e400":   "<nil>", // beyond float64
		"-1":      "<nil>",
		"12.5":    "12.5",
	} {
		got := "<nil>"
		if p := usdOf(in); p != nil {
			got = fmt.Sprint(*p)
		}
		if got != want {
			t.Errorf("usdOf(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSelectability(t *testing.T) {
	yes, no := boolp(true), boolp(false)
	for _, tc := range []struct {
		gateway    *bool
		policy     bool
		want       string // "true", "false" or "unknown"
		wantReason string
	}{
		{yes, true, "true", ""},
		{yes, false, "false", "allow_model"},
		{no, true, "false", "gateway"},
		{no, false, "false", "gateway_and_allow_model"},
		{nil, true, "unknown", ""},
		{nil, false, "false", "allow_model"},
	} {
		sel, reason := selectability(tc.gateway, tc.policy)
		got := "unknown"
		if sel != nil {
			got = fmt.Sprint(*sel)
		}
		if got != tc.want || reason != tc.wantReason {
			t.Errorf("selectability(%v, %v) = %s %q, want %s %q", showBool(tc.gateway), tc.policy, got, reason, tc.want, tc.wantReason)
		}
	}
}

func showBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprint(*b)
}

// The day usage.cost counts as today: clawgate's date unless the gateway's
// list shows its own.
func TestGatewayToday(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.Local)
	days := func(from string, n int) []schema.UsageDay {
		d0, _ := time.Parse(time.DateOnly, from)
		var out []schema.UsageDay
		for i := range n {
			out = append(out, schema.UsageDay{Date: d0.AddDate(0, 0, i).Format(time.DateOnly)})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		daily []schema.UsageDay
		want  string
	}{
		{"no usage listed (Clawdbot)", nil, "2026-11-28"},
		{"older days only (Clawdbot)", days("2026-11-20", 2), "2026-11-28"},
		{"today listed", days("2026-11-27", 2), "2026-11-28"},
		{"gateway a day ahead (Clawdbot)", days("2026-11-29", 1), "2026-11-29"},
		{"full window ending today (OpenClaw)", days("2026-10-30", 30), "2026-11-28"},
		{"full window ending yesterday: the gateway is behind", days("2026-10-29", 30), "2026-11-27"},
		{"full window ending tomorrow: the gateway is ahead", days("2026-10-31", 30), "2026-11-29"},
		{"a date that is not one is ignored", []schema.UsageDay{{Date: "9999-zz"}}, "2026-11-28"},
	} {
		if got := gatewayToday(tc.daily, now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestUSD(t *testing.T) {
	for v, want := range map[float64]string{
		0:                    "$0",
		0.00001:              "$0.00001",
		0.000015:             "$0.000015",
		0.029360999999999998: "$0.029361",
		0.054186:             "$0.054186",
		1e-7:                 "$0.0000001",
		3:                    "$3",
		0.25:                 "$0.25",
		18.75:                "$18.75",
		1234.5678:            "$1234.57",
		12345678.9:           "$12345679",
	} {
		if got := usd(v); got != want {
			t.Errorf("usd(%v) = %s, want %s", v, got, want)
		}
	}
}
