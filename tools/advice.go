package tools

import (
	"fmt"
	"strings"

	"github.com/clawgate/clawgate/gateway"
)

// The advice: what the user can do about a gateway error, in clawgate's
// words. Package gateway states facts and classifies its errors by what the
// user has to do about them (gateway.Kind); this file, and no other, turns
// a kind and its facts (the missing scope, the auth problem, whether the
// client runs read-only, what the negotiated gateway can do, …) into the
// sentence that names clawgate's flags, environment variables and commands,
// and the gateway's. Every place that shows an error to a user shows it
// through Explain: the tools' error results and gateway_status, and the
// CLI's doctor and error output.

// Explain returns the text a user sees for err: err's text, in which each
// gateway error that err holds (wrapped, or as the abort error of a
// gateway.RunError) is followed by its advice. The advice goes right after
// the gateway error's own text wherever a wrapper quotes it ("…: <gateway
// error>. <advice>; more of the wrapper"), or, should no wrapper quote it,
// at the end. Explain(nil) is "".
func Explain(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	done := map[string]bool{}
	for _, e := range chain(err) {
		facts := e.Error()
		shown := explainOne(e)
		if shown == facts || done[facts] {
			continue
		}
		done[facts] = true
		if strings.Contains(text, facts) {
			text = strings.Replace(text, facts, shown, 1)
		} else {
			text += ". " + Advice(e)
		}
	}
	return text
}

// Advice returns what the user can do about err: the advice for the first
// gateway error in err (as Explain walks it) that has advice, or "".
func Advice(err error) string {
	for _, e := range chain(err) {
		if a, _ := advise(e); a != "" {
			return a
		}
	}
	return ""
}

// chain lists err and the errors it holds, outermost first: what Unwrap
// returns, and the abort error of a gateway.RunError (which its text
// quotes, but which is not in its Unwrap chain).
func chain(err error) []error {
	var out []error
	for err != nil {
		out = append(out, err)
		if re, ok := err.(*gateway.RunError); ok && re.AbortErr != nil {
			out = append(out, chain(re.AbortErr)...)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				out = append(out, chain(e)...)
			}
			return out
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return out
		}
	}
	return out
}

// explainOne is the text of e alone, its advice included.
func explainOne(e error) string {
	a, join := advise(e)
	switch {
	case a == "":
		return e.Error()
	case join == joinAsReason:
		// The advice says what to do instead: it is the reason shown.
		ue := *e.(*gateway.URLError)
		ue.Reason = a
		return ue.Error()
	}
	return e.Error() + join + a
}

// joinAsReason is advise's join for a URLError whose advice replaces the
// reason.
const joinAsReason = "reason"

// advise returns the advice for e itself (not for the errors it wraps) and
// how it joins e's text ("" when e has none): the one map from a gateway
// error's kind and facts to clawgate's words.
func advise(e error) (advice, join string) {
	k, ok := e.(interface{ Kind() gateway.Kind })
	if !ok {
		return "", ""
	}
	if ge, ok := e.(*gateway.Error); ok {
		return replyAdvice(ge), ". "
	}
	switch k.Kind() {
	case gateway.KindUnreachable:
		return "Is the gateway running? Start it with `openclaw gateway` (or `clawdbot gateway`), " +
			"or point clawgate at it with --url / OPENCLAW_GATEWAY_URL", ". "
	case gateway.KindRedirected:
		return "Point clawgate at the address the gateway itself listens on " +
			"(--url, OPENCLAW_GATEWAY_URL or gateway.remote.url), after checking that the redirect target is yours", ". "
	case gateway.KindNotGateway:
		return "Is this an OpenClaw/Clawdbot gateway, and is it still starting or draining?", ". "
	case gateway.KindNoScopes:
		return "OpenClaw does this for device-less clients that do not connect directly over loopback: let clawgate use its device identity " +
			"(--device-identity auto or always, not never) and pair it once with `clawgate pair`", ". "
	case gateway.KindConnLost:
		if cl, ok := e.(*gateway.ConnLostError); ok && cl.DeviceRemoved() {
			return "The gateway's owner revoked or rotated clawgate's device token, or removed the device: the next call connects again and says what to do", ". "
		}
	case gateway.KindDeviceToken:
		if de, ok := e.(*gateway.DeviceTokenError); ok && de.ScopeUpgrade {
			return "Asking for more scopes needs the shared gateway token: run `clawgate pair` with --token (or OPENCLAW_GATEWAY_TOKEN) " +
				"and approve the scope upgrade on the gateway host, or use --read-only", ". "
		}
		return "This device was revoked or rotated: re-pair with `clawgate pair` (it needs the shared gateway token, --token or OPENCLAW_GATEWAY_TOKEN, " +
			"and an approval on the gateway host); configuring that token also lets clawgate recover from a rotation by itself", ". "
	case gateway.KindInsecureTransport:
		return "use wss:// (gateway.tls.enabled), or an SSH tunnel to 127.0.0.1, or allow it explicitly with --allow-insecure-transport", ": "
	case gateway.KindBadURL:
		if ue, ok := e.(*gateway.URLError); ok && ue.UserInfo {
			return "put credentials in --token/--password, not in the URL", joinAsReason
		}
	}
	return "", ""
}

// replyAdvice is the advice for a gateway error reply, or "" when its
// message speaks for itself.
func replyAdvice(e *gateway.Error) string {
	switch e.Kind() {
	case gateway.KindMissingScope:
		switch {
		case e.ReadOnly:
			return fmt.Sprintf("clawgate runs read-only (--read-only) and asked only for %s; this needs %s: restart it without --read-only to allow it",
				gateway.ScopeRead, e.MissingScope())
		case e.Caps != nil && !e.Caps.ScopeDowngrade:
			return fmt.Sprintf("This connection lacks scope %s: the gateway's operator settings do not grant it to this client", e.MissingScope())
		}
		return fmt.Sprintf("This connection lacks scope %s. Without --read-only clawgate asks for %s; "+
			"OpenClaw silently grants no scopes to device-less clients that connect through a LAN/tailnet address, a proxy or an SSH port-forward, "+
			"so let clawgate use its device identity (--device-identity auto or always) and pair it with `clawgate pair`", e.MissingScope(), gateway.ScopeAdmin)
	case gateway.KindProtocol:
		want := ""
		if e.Details.ExpectedProtocol != 0 {
			want = fmt.Sprintf(" (it wants protocol %d)", e.Details.ExpectedProtocol)
		}
		return "This gateway speaks no protocol version clawgate knows" + want +
			"; clawgate supports protocol 3 (Clawdbot 2026.1.x) and 4 (OpenClaw 2026.9.x): upgrade clawgate or the gateway"
	case gateway.KindAuth:
		if e.DeviceID != "" && (e.Details.Code == "AUTH_DEVICE_TOKEN_MISMATCH" || e.Details.Code == "AUTH_SCOPE_MISMATCH") {
			return "" // the device token's: gateway.DeviceTokenError, which holds it, advises
		}
		switch e.AuthProblem() {
		case gateway.AuthRateLimited:
			return "Too many failed attempts: wait a minute, then fix the credentials"
		case gateway.AuthNotConfigured:
			return "The gateway has no shared secret configured for this auth mode: set gateway.auth.token in its config and restart it"
		case gateway.AuthMissing:
			if e.DeviceID != "" {
				return "The gateway requires a token, and clawgate's device holds none for it (never paired here, or its token was refused and forgotten): " +
					"pass the gateway token (--token or OPENCLAW_GATEWAY_TOKEN), or pair the device once with `clawgate pair --token …`"
			}
			return "The gateway requires a token: pass --token or set OPENCLAW_GATEWAY_TOKEN (Clawdbot: CLAWDBOT_GATEWAY_TOKEN), or put it in gateway.auth.token"
		}
		return "The token or password clawgate sent does not match the gateway's: check --token / OPENCLAW_GATEWAY_TOKEN / CLAWDBOT_GATEWAY_TOKEN and gateway.auth.token " +
			"(`clawgate doctor` shows where each came from)"
	case gateway.KindNotPaired:
		switch {
		case e.DeviceIdentityRequired() && e.Password:
			return "Clawdbot 2026.1.x refuses password-only clients without a device identity: switch the gateway to token auth (gateway.auth.mode \"token\") and pass the token"
		case e.DeviceIdentityRequired():
			return "No credentials were sent: pass the gateway token with --token or OPENCLAW_GATEWAY_TOKEN, or make sure the config file clawgate reads has gateway.auth.token"
		}
		return pairingAdvice(e)
	case gateway.KindUnavailable:
		if e.Temporary() {
			return "The gateway is starting or busy; try again in a few seconds"
		}
	}
	return ""
}

// pairingRequestTTL is how long a gateway keeps a pairing request that no
// connect refreshes (both generations: about 5 minutes).
const pairingRequestTTL = "about 5 minutes"

// PairingWords are the words for a pending pairing request of e (a
// KindNotPaired refusal): the CLI that approves it on the gateway host
// ("openclaw" or "clawdbot") and what the request is about, as a predicate
// of "clawgate's device" ("is waiting for approval", "asks for more scopes
// than were approved", …).
func PairingWords(e *gateway.Error) (cli, what string) {
	cli = "openclaw"
	if e.Clawdbot() {
		cli = "clawdbot"
	}
	_, reason := e.PairingRequest()
	what = map[string]string{
		"scope-upgrade":    "asks for more scopes than were approved",
		"role-upgrade":     "had its token revoked and needs approving again",
		"metadata-upgrade": "changed its details and needs approving again",
	}[reason]
	if what == "" {
		what = "is waiting for approval"
	}
	return cli, what
}

// pairingAdvice is the one sentence for a pending pairing: the command to
// run on the gateway host, with the request id.
func pairingAdvice(e *gateway.Error) string {
	cli, what := PairingWords(e)
	id, _ := e.PairingRequest()
	if id == "" {
		return fmt.Sprintf("The gateway wants this client paired: on the gateway host run `%s devices list`, approve clawgate's request with `%s devices approve <requestId>`, "+
			"then call again (or run `clawgate pair`, which waits for the approval)", cli, cli)
	}
	return fmt.Sprintf("Pairing required: clawgate's device %s (request %s). On the gateway host run `%s devices approve %s` "+
		"(approving from another machine does not work; the request expires after %s, and each call renews it), then call again: clawgate connects on the next call",
		what, id, cli, id, pairingRequestTTL)
}
