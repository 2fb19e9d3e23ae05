package schema

import (
	"encoding/json"
	"math"
	"testing"
)

// Any JSON number decodes; values past int64 clamp instead of failing the
// whole result.
func TestIntDecodesAnyNumber(t *testing.T) {
	for in, want := range map[string]Int{
		`0`: 0, `42`: 42, `-5`: -5, `1.9`: 1, `-1.9`: -1, `1e3`: 1000, `null`: 0,
		`9007199254740993`: 9007199254740993, `1e30`: math.MaxInt64, `-1e30`: math.MinInt64,
		`9223372036854775807`: math.MaxInt64, `99999999999999999999999`: math.MaxInt64,
	} {
		var n Int
		if err := json.Unmarshal([]byte(in), &n); err != nil || n != want {
			t.Errorf("%s: %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{`"5"`, `true`, `{}`, `[]`} {
		var n Int
		if err := json.Unmarshal([]byte(in), &n); err == nil {
			t.Errorf("%s decoded as %d", in, n)
		}
	}
}

func TestIntRanges(t *testing.T) {
	for n, want := range map[Int]int64{-5: 0, 0: 0, 7: 7, MaxSafeInt + 1: MaxSafeInt, math.MaxInt64: MaxSafeInt} {
		if got := n.Count(); got != want {
			t.Errorf("Count(%d) = %d, want %d", n, got, want)
		}
	}
	for n, want := range map[Int]bool{1_700_000_000_000: true, -1: false, 0: false, math.MaxInt64: false, 7258118400000: false} {
		if _, ok := n.Millis(); ok != want {
			t.Errorf("Millis(%d) ok=%v, want %v", n, ok, want)
		}
	}
}
