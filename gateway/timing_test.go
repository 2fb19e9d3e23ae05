package gateway_test

// How long the tests of this package wait, and why, is the policy of
// internal/testwait: no bound assumes how fast the machine is.

// Messages of the client that a test waits for.
const (
	logConnLost = "gateway connection lost" // a connection died (not closed by clawgate)
)
