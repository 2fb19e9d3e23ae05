//go:build race

package stdioguard

// raceEnabled: the race detector slows the byte-by-byte scanning ~20 times.
const raceEnabled = true
