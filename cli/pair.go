package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/tools"
)

// pairPoll is how often clawgate pair connects again while the pairing
// request waits for approval; each connect also renews the request, which
// a gateway otherwise drops after about 5 minutes.
const pairPoll = 2 * time.Second

// pair connects with the device identity; while the gateway wants it
// approved, it prints the command that approves it and connects again
// every pairPoll, for at most --pair-wait, until the gateway admits it.
// The device token the gateway then issues is stored by the gateway client
// (see gateway.DeviceTokens). Ctrl-C ends the wait (exit 130).
func (a *app) pair(ctx context.Context) error {
	w := a.env.Stdout
	if err := a.connect(ctx); err != nil {
		return err
	}
	_, held, _ := a.heldToken()
	wait, cancel := context.WithTimeout(ctx, a.opts.PairWait)
	defer cancel()
	shown, prompted := "", false
	for {
		_, err := a.gw.Info(wait)
		if err == nil {
			a.reportPaired(held != nil && !prompted)
			return nil
		}
		if ctx.Err() != nil {
			return interrupted("clawgate pair: interrupted; %s", stillPending(shown))
		}
		ge, _ := gateway.AsError(err)
		id := ""
		if ge != nil {
			id, _ = ge.PairingRequest()
		}
		switch {
		case id == "" && wait.Err() != nil && prompted:
			return fmt.Errorf("clawgate pair: no approval within %s; %s", a.opts.PairWait, stillPending(shown))
		case id == "":
			return err
		case id != shown:
			printApproval(w, ge, a.gw.URL(), a.opts.PairWait)
			shown, prompted = id, true
		}
		select {
		case <-time.After(pairPoll):
		case <-wait.Done():
			if ctx.Err() != nil {
				return interrupted("clawgate pair: interrupted; %s", stillPending(shown))
			}
			return fmt.Errorf("clawgate pair: no approval within %s (--pair-wait); %s", a.opts.PairWait, stillPending(shown))
		}
	}
}

// stillPending says what became of the pairing request id when pair stops
// waiting.
func stillPending(id string) string {
	if id == "" {
		return "nothing was approved"
	}
	return fmt.Sprintf("the gateway drops request %s about 5 minutes after clawgate's last attempt; run clawgate pair again to renew it", id)
}

// printApproval tells the person at the keyboard what to run, and where.
func printApproval(w io.Writer, ge *gateway.Error, url string, wait time.Duration) {
	cli, what := tools.PairingWords(ge)
	id, _ := ge.PairingRequest()
	fmt.Fprintf(w, "clawgate's device %s %s at %s (request %s).\n", safetext.Line(ge.DeviceID), what, url, safetext.Line(id))
	fmt.Fprintf(w, "On the gateway host, run:\n\n  %s devices approve %s\n\n", cli, safetext.Line(id))
	fmt.Fprintf(w, "(Approving from another machine does not work; `%s devices list` shows the pending requests.)\n", cli)
	fmt.Fprintf(w, "Waiting up to %s for the approval; Ctrl-C stops waiting.\n", wait)
}

// heldToken reads the device identity under the state directory and the
// token it holds for the gateway in use (nil: none).
func (a *app) heldToken() (*gateway.DeviceIdentity, *gateway.DeviceToken, error) {
	dev, err := gateway.LoadDeviceIdentity(a.stateDir)
	if err != nil {
		return nil, nil, err
	}
	t, ok, err := gateway.NewDeviceTokens(a.stateDir, dev).Get(a.gwURL, gateway.RoleOperator)
	if err != nil || !ok {
		return dev, nil, err
	}
	return dev, &t, nil
}

// reportPaired prints the outcome of a successful pair.
func (a *app) reportPaired(already bool) {
	w := a.env.Stdout
	dev, t, err := a.heldToken()
	if dev == nil {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(w, "Connected to %s without a device identity.\n", a.gw.URL())
		}
		return
	}
	if t == nil {
		fmt.Fprintf(w, "Connected to %s as device %s. The gateway issued no device token: it admits clawgate here without pairing "+
			"(OpenClaw does so on loopback), so there is nothing to store.\n", a.gw.URL(), dev.ID())
		return
	}
	verb := "Paired"
	if already {
		verb = "Already paired"
	}
	fmt.Fprintf(w, "%s with %s as device %s: scopes %s (token stored in %s).\n", verb, a.gw.URL(), dev.ID(),
		safetext.Line(strings.Join(t.Scopes, ", ")), gateway.DeviceTokensPath(a.stateDir))
}
