package main

import (
	"fmt"
	"slices"
	"time"
)

// samples are the durations of one measurement, in the order taken.
type samples []time.Duration

// quantile returns the q-quantile (0 ≤ q ≤ 1) by linear interpolation
// between the two nearest ranks, or 0 for no samples.
func (s samples) quantile(q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + time.Duration(frac*float64(sorted[lo+1]-sorted[lo]))
}

func (s samples) p50() time.Duration { return s.quantile(0.5) }
func (s samples) p90() time.Duration { return s.quantile(0.9) }

// sum is the total of all samples.
func (s samples) sum() time.Duration {
	var t time.Duration
	for _, d := range s {
		t += d
	}
	return t
}

// summary is "p50 (p90 …)", the form every latency cell of the table uses.
func (s samples) summary() string {
	if len(s) == 0 {
		return "–"
	}
	return fmt.Sprintf("%s (p90 %s)", ms(s.p50()), ms(s.p90()))
}

// ms formats d in milliseconds with a precision that suits its size.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch a := max(v, -v); {
	case a < 10:
		return fmt.Sprintf("%.3f ms", v)
	case a < 1000:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f s", v/1000)
}

// ratio formats a/b as a multiplier.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	r := float64(a) / float64(b)
	if r >= 100 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}
