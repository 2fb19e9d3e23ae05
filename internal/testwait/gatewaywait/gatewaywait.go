// Package gatewaywait holds the bounds of waits that depend on clawgate's
// gateway client, for the tests of the packages above it (gateway, tools,
// cli): the quick timeout, measured with the real client against a fresh
// fake gateway, and the bounds of an operation under a fault, derived from
// the client's options; and the waits for the fake gateway that those tests
// share, bounded by the test's patience (the fake's Wait methods, which
// wake on the change they wait for, with the test failed when they end
// without it). It is a package of its own because testwait imports nothing
// of clawgate's, so that the fake gateway's own tests can use it; the
// policy is testwait's.
package gatewaywait

import (
	"testing"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/gatewaysim"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/schema"
)

// token is the calibration fake's token; it is never a secret under test.
const token = "calibration-token"

// QuickTimeout is a connect, call or tick timeout for a test that waits for
// such a timeout to fire and whose client must also connect and call within
// it while no fault is injected: testwait.QuickTimeout of a probe that
// connects a new gateway client to a fresh fake, lists one session and
// closes the client.
func QuickTimeout(t testing.TB) time.Duration {
	t.Helper()
	fake := gatewaysim.New(gatewaysim.Options{Token: token})
	defer fake.Close()
	return testwait.QuickTimeout(t, func() error {
		c, err := gateway.New(gateway.Options{URL: fake.URL(), Token: token,
			DialTimeout: testwait.LongTimeout, CallTimeout: testwait.LongTimeout})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.SessionsList(testwait.Ctx(t), schema.SessionsListParams{Limit: 1})
		return err
	})
}

// Bounds gives how long an operation under a fault may take, from the
// options of the gateway client it goes through: at least lo, at most hi.
type Bounds func(o gateway.Options) (lo, hi time.Duration)

// AtOnce: the error must come well before the connect or call timeout.
func AtOnce(o gateway.Options) (lo, hi time.Duration) {
	return 0, testwait.WellBefore(min(o.DialTimeout, o.CallTimeout))
}

// DialFires: the connect timeout fires; the error comes back after it, and
// before twice it.
func DialFires(o gateway.Options) (lo, hi time.Duration) {
	return o.DialTimeout, 2 * o.DialTimeout
}

// CallFires: the call timeout fires; the error comes back after it, and
// before twice it.
func CallFires(o gateway.Options) (lo, hi time.Duration) {
	return o.CallTimeout, 2 * o.CallTimeout
}

// Runs waits until the fake g has started at least n agent runs and returns
// them all.
func Runs(t testing.TB, g *gatewaysim.Server, n int) []gatewaysim.RunInfo {
	t.Helper()
	runs, err := g.WaitRuns(testwait.Ctx(t), n)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// OnlyRunAborted waits until the first agent run of the fake g has ended
// aborted, checks that it is g's only run, and returns it.
func OnlyRunAborted(t testing.TB, g *gatewaysim.Server) gatewaysim.RunInfo {
	t.Helper()
	run, err := g.WaitAborted(testwait.Ctx(t), Runs(t, g, 1)[0].RunID)
	if err != nil {
		t.Fatal(err)
	}
	if runs := g.Runs(); len(runs) != 1 {
		t.Fatalf("%d agent runs on the fake, want only the aborted one: %+v", len(runs), runs)
	}
	return run
}
