package cli

import (
	"context"
	"fmt"
	"strings"

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
		return shownError{err}
	}
	if err != nil {
		return problem(err)
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
