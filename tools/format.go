package tools

import (
	"fmt"
	"math"
)

// percent is used/max in percent with one decimal, or nil when max is 0 or
// the numbers make no sense (more than ten times the window used).
func percent(used, max int64) *float64 {
	if max <= 0 || used < 0 || used/10 > max {
		return nil
	}
	p := math.Round(float64(used)*1000/float64(max)) / 10
	return &p
}

// countOf is "1 session", "2 sessions".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
