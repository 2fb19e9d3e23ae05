package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/internal/safetext"
	"github.com/clawgate/clawgate/schema"
	"github.com/clawgate/clawgate/tools"
)

// doctor reports where each setting came from (never a secret's value),
// connects, calls status, and says what to fix, all on stdout. A problem is
// a shownError (exit code 1, or 130 when a signal cut doctor short).
func (a *app) doctor(ctx context.Context) error {
	opts, w := a.opts, a.env.Stdout
	fmt.Fprintf(w, "clawgate %s doctor\n\n", version())
	err := a.connect(ctx)
	settings := a.settings
	if settings != nil {
		fmt.Fprintln(w, "Settings:")
		for _, line := range settings.Report() {
			fmt.Fprintln(w, "  "+line)
		}
		fmt.Fprintln(w)
	} else if opts.Simulate != "" {
		fmt.Fprintf(w, "Settings:\n  simulated %s gateway (--simulate)\n\n", opts.Simulate)
	}
	problem := func(err error) error {
		if ctx.Err() != nil {
			fmt.Fprintln(w, "Interrupted.")
			return shownError{interrupted("doctor: interrupted")}
		}
		fmt.Fprintf(w, "PROBLEM: %s\n", safetext.Text(tools.Explain(err)))
		var pe *gateway.TLSPinError
		if errors.As(err, &pe) {
			fmt.Fprintf(w, "The gateway presented a certificate with SHA-256 fingerprint %s.\n"+
				"Compare it on the gateway host with: openssl x509 -in <stateDir>/gateway/tls/gateway-cert.pem -outform DER | sha256sum\n", pe.Got)
		}
		return shownError{err}
	}
	if err != nil {
		return problem(err)
	}
	if a.sim == nil {
		a.reportDevice(w)
	}
	gw := a.gw
	info, err := gw.Info(ctx)
	if err != nil {
		fmt.Fprintf(w, "Connect %s: failed\n", gw.URL())
		return problem(err)
	}
	scopes := safetext.Line(strings.Join(info.Scopes, ","))
	if !info.ScopesReported {
		scopes += " (requested; this gateway does not report granted scopes)"
	}
	fmt.Fprintf(w, "Connect %s: ok, protocol %d, server version %s, scopes %s\n", info.URL, info.Protocol, safetext.Line(info.ServerVersion), scopes)
	st, _, err := gw.Status(ctx)
	if err != nil {
		fmt.Fprintln(w, "Status: failed")
		return problem(err)
	}
	sessions := fmt.Sprintf("%d sessions", st.Sessions.Count)
	if st.Sessions.Count == 1 {
		sessions = "1 session"
	}
	fmt.Fprintf(w, "Status: ok, %s, main session %s\n", sessions, safetext.Line(info.MainSessionKey))
	list, err := gw.SessionsList(ctx, schema.SessionsListParams{Limit: 1})
	if err != nil {
		fmt.Fprintln(w, "Sessions: failed")
		return problem(err)
	}
	fmt.Fprintf(w, "Sessions: ok, default model %s\n", safetext.Line(schema.ModelRef(list.Defaults.ModelProvider, list.Defaults.Model)))
	if opts.ReadOnly {
		read := tools.Names(true)
		fmt.Fprintf(w, "Mode: read-only (only %s and %s)\n", strings.Join(read[:len(read)-1], ", "), read[len(read)-1])
	}
	if len(opts.AllowModels) > 0 {
		fmt.Fprintf(w, "Allowed models: %s\n", opts.AllowModels)
	}
	fmt.Fprintf(w, "Timeouts: ask_subagent %s (wall clock), connect %s, gateway calls %s\n", opts.Timeout, opts.ConnectTimeout, opts.CallTimeout)
	if opts.AllowMainSession {
		fmt.Fprintln(w, "Main session: ask_subagent may run in it (--allow-main-session)")
	}
	if opts.AllowInsecureTransport {
		fmt.Fprintln(w, "Transport: credentials may travel over plain ws:// to a non-loopback host (--allow-insecure-transport)")
	}
	if settings != nil && len(settings.Warnings) > 0 {
		fmt.Fprintf(w, "\nHealthy, with %d warning(s) above.\n", len(settings.Warnings))
		return nil
	}
	fmt.Fprintln(w, "\nHealthy.")
	return nil
}

// reportDevice prints clawgate's device identity (its public id only) and
// the device token held for the gateway in use (its scopes, never the
// token).
func (a *app) reportDevice(w io.Writer) {
	fmt.Fprintln(w, "Device identity:")
	fmt.Fprintf(w, "  mode: %s (%s)\n", a.opts.DeviceIdentity, a.source("device-identity"))
	fmt.Fprintf(w, "  state dir: %s\n", a.stateDir)
	dev, err := gateway.LoadDeviceIdentity(a.stateDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintln(w, "  device: none yet (created on first need, e.g. by clawgate pair)")
	case err != nil:
		fmt.Fprintf(w, "  device: unusable: %s\n", safetext.Line(err.Error()))
	default:
		fmt.Fprintf(w, "  device: %s\n", dev.ID())
		tokens := gateway.NewDeviceTokens(a.stateDir, dev)
		all, err := tokens.All()
		if err != nil {
			fmt.Fprintf(w, "  device tokens: unusable: %s\n", safetext.Line(err.Error()))
			break
		}
		key, _ := gateway.GatewayKey(a.gwURL)
		held := func(k string, t gateway.DeviceToken) string {
			return fmt.Sprintf("  device token for %s: held (scopes %s)", safetext.Line(k), safetext.Line(strings.Join(t.Scopes, ", ")))
		}
		if t, ok := all[key][gateway.RoleOperator]; ok {
			fmt.Fprintln(w, held(key, t))
		} else {
			fmt.Fprintf(w, "  device token for %s: none\n", key)
		}
		var others []string
		for k, roles := range all {
			if t, ok := roles[gateway.RoleOperator]; ok && k != key {
				others = append(others, held(k, t))
			}
		}
		slices.Sort(others)
		for _, line := range others {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintln(w)
}
