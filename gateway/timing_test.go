package gateway_test

import "testing"

// How long the tests of this package wait, and why, is the policy of
// internal/testwait: no bound assumes how fast the machine is.

// Messages of the client that a test waits for.
const (
	logConnLost = "gateway connection lost" // a connection died (not closed by clawgate)
)

// wantNil fails the test on a wait that ended without what it waited for.
func wantNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
