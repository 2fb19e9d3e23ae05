//go:build !linux

package config

import (
	"testing"
	"time"
)

// cpuTimeOf returns how long f takes (the wall time: there is no portable
// per-thread CPU clock).
func cpuTimeOf(_ testing.TB, f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
