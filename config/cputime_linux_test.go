package config

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTimeOf returns the CPU time that f takes on its thread (user and
// system, from getrusage(RUSAGE_THREAD)): unlike the wall time it does not
// grow when other processes share the machine.
func cpuTimeOf(t testing.TB, f func()) time.Duration {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const rusageThread = 1 // RUSAGE_THREAD
	var before, after syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &before); err != nil {
		t.Fatal(err)
	}
	f()
	if err := syscall.Getrusage(rusageThread, &after); err != nil {
		t.Fatal(err)
	}
	used := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return used(after) - used(before)
}
