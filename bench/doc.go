// Package bench holds clawgate's end-to-end performance measurements.
//
// The command bench/sidebyside compares clawgate with a raw WebSocket client
// and the gateway's own CLI against a real gateway (see BENCHMARKS.md). The
// tests and benchmarks of this package measure clawgate's whole serving
// path in process against a replay gateway that answers with recorded real
// replies at almost no cost of its own, and check that goroutines return to
// their baseline after many calls.
package bench
