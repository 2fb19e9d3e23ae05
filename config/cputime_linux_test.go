package config

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// cpuTimeOf returns the CPU time that f takes on its thread
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID), in nanoseconds; getrusage's
// per-thread times only tick every few milliseconds): unlike the wall time
// it does not grow when other processes share the machine.
func cpuTimeOf(t testing.TB, f func()) time.Duration {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	now := func() time.Duration {
		const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
		var ts syscall.Timespec
		if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
			t.Fatalf("clock_gettime: %v", errno)
		}
		return time.Duration(ts.Nano())
	}
	before := now()
	f()
	return now() - before
}
