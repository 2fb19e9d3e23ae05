package config

import (
	"fmt"
	"regexp"
	"strings"
)

// fromEnv marks the environment's place in a credential order: the
// variable <PREFIX>GATEWAY_TOKEN or <PREFIX>GATEWAY_PASSWORD, OPENCLAW_*
// before its legacy CLAWDBOT_* twin, from the real environment or the state
// directory's .env file.
const fromEnv = "$env"

// credStep is one place where a CLI looks for a credential.
type credStep struct {
	// key is a config key path such as gateway.auth.token, or fromEnv.
	key string
	// ifNotConfigured names a config key: the step applies only when that
	// key holds nothing at all (no string, no SecretRef, no unresolved
	// ${VAR}; a value clawgate cannot resolve still counts as configured).
	ifNotConfigured string
	// unlessAuthMode skips the step when gateway.auth.mode has this value.
	unlessAuthMode string
}

// credOrders is where each generation's CLI looks for the token and the
// password, after --token / --password and when the gateway URL was not
// given explicitly, keyed by "<generation>/<mode>/<token|password>".
//
// openclaw 2026.9.6: docs/gateway/remote.md, section "Credential precedence"
// (in the npm package openclaw@2026.9.6), as implemented by the bundled
// dist/credentials-*.mjs (source region src/gateway/credentials.ts:
// resolveGatewayCredentialsFromConfig with its defaults localPrecedence
// "config-first", remoteTokenPrecedence "remote-first" and
// remotePasswordPrecedence "env-first"; resolveLocalGatewayCredentials;
// resolveRemoteGatewayCredentials) and dist/credential-planner-*.mjs
// (src/gateway/credential-planner.ts: what counts as "configured").
//
// clawdbot 2026.1.24-3: dist/gateway/call.js, callGateway, the expressions
// that compute token and password (npm package clawdbot@2026.1.24-3). There
// is no SecretRef, no "configured" notion and no URL variable there.
var credOrders = map[string][]credStep{
	// remote.md "Local mode defaults": token: gateway.auth.token ->
	// OPENCLAW_GATEWAY_TOKEN -> gateway.remote.token "(remote fallback only
	// when the local token is unset)"; credentials.ts
	// resolveLocalGatewayCredentials drops the remote token whenever
	// plan.localToken.configured, even if its value cannot be resolved.
	"openclaw/local/token": {
		{key: "gateway.auth.token"},
		{key: fromEnv},
		{key: "gateway.remote.token", ifNotConfigured: "gateway.auth.token"},
	},
	// remote.md "Local mode defaults": password: gateway.auth.password ->
	// OPENCLAW_GATEWAY_PASSWORD -> gateway.remote.password (same fallback
	// rule); credentials.ts passwordConfigFallback also drops the remote
	// password when gateway.auth.mode is "trusted-proxy".
	"openclaw/local/password": {
		{key: "gateway.auth.password"},
		{key: fromEnv},
		{key: "gateway.remote.password", ifNotConfigured: "gateway.auth.password", unlessAuthMode: "trusted-proxy"},
	},
	// remote.md "Remote mode defaults": token: gateway.remote.token ->
	// OPENCLAW_GATEWAY_TOKEN -> gateway.auth.token (credentials.ts
	// resolveRemoteGatewayCredentials, "remote-first").
	"openclaw/remote/token": {
		{key: "gateway.remote.token"},
		{key: fromEnv},
		{key: "gateway.auth.token"},
	},
	// remote.md "Remote mode defaults": password: OPENCLAW_GATEWAY_PASSWORD
	// -> gateway.remote.password -> gateway.auth.password ("env-first").
	"openclaw/remote/password": {
		{key: fromEnv},
		{key: "gateway.remote.password"},
		{key: "gateway.auth.password"},
	},
	// call.js: process.env.CLAWDBOT_GATEWAY_TOKEN || gateway.auth.token.
	"clawdbot/local/token": {
		{key: fromEnv},
		{key: "gateway.auth.token"},
	},
	// call.js: process.env.CLAWDBOT_GATEWAY_PASSWORD || gateway.auth.password.
	"clawdbot/local/password": {
		{key: fromEnv},
		{key: "gateway.auth.password"},
	},
	// call.js: in remote mode the token is remote.token and nothing else.
	"clawdbot/remote/token": {
		{key: "gateway.remote.token"},
	},
	// call.js: process.env.CLAWDBOT_GATEWAY_PASSWORD || remote.password.
	"clawdbot/remote/password": {
		{key: fromEnv},
		{key: "gateway.remote.password"},
	},
}

// credState says what a place holds.
type credState int

const (
	credAbsent   credState = iota // nothing
	credUsable                    // a value clawgate can use
	credUnusable                  // configured, but clawgate cannot get the value
	credInvalid                   // neither a string nor a SecretRef; not configured
)

// credCandidate is what one place holds.
type credCandidate struct {
	label   string  // how an order names the place: --token, gateway.auth.token, OPENCLAW_GATEWAY_TOKEN
	s       Setting // Value and Source when usable
	state   credState
	problem string   // unusable or invalid: what is wrong (names a source, never a value)
	short   string   // unusable or invalid: a few words for the report
	env     []envVar // the environment: every variable found, the one used first
}

// configured reports whether the place counts as configured for the
// openclaw CLI (credential-planner.ts: a string, a SecretRef, or a value
// with an unresolved ${VAR}).
func (c credCandidate) configured() bool { return c.state == credUsable || c.state == credUnusable }

// credSlot is a candidate in its place in an order.
type credSlot struct {
	c     credCandidate
	cond  string // the step's condition, for the report ("" if none)
	skip  bool   // the condition is not met
	isEnv bool   // the environment's place
}

// envName matches a plausible environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// credResolution is the state of one resolveSecret call.
type credResolution struct {
	name, hint string                   // "token" or "password"; what to tell the user
	slots      []credSlot               // the order, the flag first
	win        int                      // index of the winner in slots, -1 for none
	used       Setting                  // the winner's setting (unset if none)
	env        credCandidate            // the environment's candidate
	envInOrder bool                     // whether the order reads the environment at all
	cfg        map[string]credCandidate // the config keys of the CLI's order
	cfgKeys    []string                 // those keys, in order
}

// resolveSecret resolves the token or the password; name is "token" or
// "password", override the flag's value and suffix the variable name without
// its prefix (GATEWAY_TOKEN). It returns the setting and, for Report, why that
// source won.
//
// A flag always wins. An explicit URL (flag --url, or OPENCLAW_GATEWAY_URL)
// never reuses config-file credentials: only the flag, then the environment
// (remote.md "URL override safety"; with --url the openclaw CLI takes only
// explicit credentials, clawgate also reads the environment so that a secret
// need not be on a command line). Otherwise the CLI's order in credOrders
// applies.
func (d *discovery) resolveSecret(name, override, suffix string) (Setting, string) {
	r := &credResolution{name: name, hint: fmt.Sprintf("pass --%s or set %s%s", name, d.envPrefix, suffix), cfg: map[string]credCandidate{}}
	steps := credOrders[d.s.Generation+"/"+d.s.Mode+"/"+name]

	flag := credCandidate{label: "--" + name}
	if v := strings.TrimSpace(override); v != "" {
		flag.state, flag.s = credUsable, Setting{Value: v, Source: "flag --" + name, Secret: true}
	}
	r.env = credCandidate{label: d.envPrefix + suffix, env: d.findEnv("OPENCLAW_"+suffix, "CLAWDBOT_"+suffix)}
	if len(r.env.env) > 0 {
		r.env.state, r.env.s = credUsable, Setting{Value: r.env.env[0].value, Source: r.env.env[0].source, Secret: true}
	}
	for _, st := range steps {
		if st.key != fromEnv {
			r.cfg[st.key] = d.cfgCandidate(st.key)
			r.cfgKeys = append(r.cfgKeys, st.key)
		}
	}

	r.slots = []credSlot{{c: flag}}
	if d.urlFrom != "" {
		r.slots = append(r.slots, credSlot{c: r.env, isEnv: true})
		r.envInOrder = true
	} else {
		authMode, _ := d.getString("gateway.auth.mode")
		for _, st := range steps {
			if st.key == fromEnv {
				r.slots = append(r.slots, credSlot{c: r.env, isEnv: true})
				r.envInOrder = true
				continue
			}
			sl := credSlot{c: r.cfg[st.key]}
			if st.ifNotConfigured != "" {
				sl.cond = "only when " + st.ifNotConfigured + " is not configured"
				sl.skip = d.cfgCandidate(st.ifNotConfigured).configured()
			}
			if st.unlessAuthMode != "" {
				sl.cond = strings.TrimPrefix(sl.cond+", not with gateway.auth.mode "+st.unlessAuthMode, ", ")
				sl.skip = sl.skip || authMode == st.unlessAuthMode
			}
			r.slots = append(r.slots, sl)
		}
	}

	r.win, r.used = -1, Setting{Secret: true}
	for i, sl := range r.slots {
		if !sl.skip && sl.c.state == credUsable {
			r.win, r.used = i, sl.c.s
			break
		}
	}

	d.warnPassedOver(r)
	if r.win >= 0 && r.slots[r.win].isEnv {
		d.noteEnvChoice(r.env.env[0], r.env.env[1:])
	}
	if d.urlFrom != "" && r.win < 0 {
		for _, k := range r.cfgKeys {
			if r.cfg[k].state == credUsable {
				d.s.addWarning("%s: not using %s because the gateway URL comes from %s (an explicit URL never reuses config-file credentials); %s",
					name, r.cfg[k].s.Source, d.urlFrom, r.hint)
				break
			}
		}
	}
	if d.urlFrom == "" {
		d.warnMismatch(r)
	}
	return r.used, d.why(r)
}

// why says, for Report, why the winner won (or why there is none) and which
// other sources hold a value, the same or a different one.
func (d *discovery) why(r *credResolution) string {
	var b strings.Builder
	order := describeOrder(r.slots, r.win)
	switch {
	case r.win == 0:
		b.WriteString("flags win over the environment and the config file")
	case strings.HasPrefix(d.urlFrom, "flag "):
		fmt.Fprintf(&b, "the gateway URL comes from %s, so clawgate reads %s and never the config file", d.urlFrom, order)
		if d.s.Generation == GenerationClawdbot {
			b.WriteString(" (the clawdbot CLI would still read it; clawgate never sends config-file credentials to an explicitly named gateway)")
		} else {
			fmt.Fprintf(&b, " (the openclaw CLI reads only --%s with --url; clawgate also reads the environment so that the secret need not be on a command line)", r.name)
		}
	case d.urlFrom != "":
		fmt.Fprintf(&b, "the gateway URL comes from %s, so clawgate reads %s and never the config file, as the openclaw CLI does", d.urlFrom, order)
	default:
		fmt.Fprintf(&b, "%s %s mode reads %s", d.s.Generation, d.s.Mode, order)
	}

	var unused []string
	addUnused := func(s Setting) {
		switch {
		case s.Source == r.used.Source:
		case !r.used.IsSet():
			unused = append(unused, s.Source)
		case s.Value == r.used.Value:
			unused = append(unused, s.Source+" (same value)")
		default:
			unused = append(unused, s.Source+" (different value)")
		}
	}
	for _, sl := range r.slots[1:] {
		if sl.c.state == credUsable {
			addUnused(sl.c.s)
		}
	}
	if !r.envInOrder && r.env.state == credUsable {
		addUnused(r.env.s)
	}
	if d.urlFrom != "" {
		for _, k := range r.cfgKeys {
			if r.cfg[k].state == credUsable {
				addUnused(r.cfg[k].s)
			}
		}
	}
	for _, twin := range r.env.env[min(1, len(r.env.env)):] {
		addUnused(Setting{Value: twin.value, Source: twin.source})
	}
	if len(unused) > 0 {
		b.WriteString("; also set but not used: " + strings.Join(unused, ", "))
	}
	return b.String()
}

// describeOrder renders an order for Report: "--token, then
// gateway.auth.token (not set), then OPENCLAW_GATEWAY_TOKEN, …". Places
// before the winner (all places if there is none) say why they lost.
func describeOrder(slots []credSlot, win int) string {
	parts := make([]string, 0, len(slots))
	for i, sl := range slots {
		p := sl.c.label
		var notes []string
		if sl.cond != "" {
			notes = append(notes, sl.cond)
		}
		if i > 0 && (win < 0 || i < win) {
			switch {
			case sl.skip:
				notes = append(notes, "skipped")
			case sl.c.state == credAbsent:
				notes = append(notes, "not set")
			case sl.c.state != credUsable:
				notes = append(notes, sl.c.short)
			}
		}
		if len(notes) > 0 {
			p += " (" + strings.Join(notes, "; ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", then ")
}

// warnPassedOver warns about the places before the winner (all places if
// there is none) whose content clawgate could not use.
func (d *discovery) warnPassedOver(r *credResolution) {
	for i, sl := range r.slots {
		if r.win >= 0 && i >= r.win {
			return
		}
		if sl.skip || (sl.c.state != credUnusable && sl.c.state != credInvalid) {
			continue
		}
		switch {
		case r.win >= 0 && sl.c.state == credUnusable:
			d.s.addWarning("%s: %s; the %s CLI would use it before %s, which clawgate uses instead (if the gateway refuses the %s, %s)",
				r.name, sl.c.problem, d.s.Generation, r.used.Source, r.name, r.hint)
		case r.win >= 0:
			d.s.addWarning("%s: %s; using %s instead", r.name, sl.c.problem, r.used.Source)
		case sl.c.state == credUnusable:
			d.s.addWarning("%s; %s", sl.c.problem, r.hint)
		default:
			d.s.addWarning("%s", sl.c.problem)
		}
	}
}

// warnMismatch warns when the environment and the config file both hold the
// credential with different values, the usual cause of "token mismatch":
// e.g. a variable pasted into an MCP client's settings next to a config file
// that already works. It applies when the URL was not given explicitly.
func (d *discovery) warnMismatch(r *credResolution) {
	const fix = "if the gateway refuses the %s, remove the variable, e.g. from the MCP client's env settings, or make the two agree"
	switch {
	case r.env.state != credUsable || r.win == 0:
		// No environment value, or a flag decided.
	case !r.envInOrder:
		if !r.used.IsSet() || r.used.Value != r.env.s.Value {
			d.s.addWarning("%s: %s is set but not used: in %s mode the %s CLI reads the %s only from %s; put it there or pass --%s",
				r.name, r.env.s.Source, d.s.Mode, d.s.Generation, r.name, labels(r.slots[1:]), r.name)
		}
	case r.win >= 0 && r.slots[r.win].isEnv:
		for _, sl := range r.slots[r.win+1:] {
			if sl.skip || sl.c.state != credUsable {
				continue
			}
			if sl.c.s.Value != r.used.Value {
				d.s.addWarning("%s: using %s; %s, which the %s CLI reads only after it, holds a different value ("+fix+")",
					r.name, r.used.Source, sl.c.s.Source, d.s.Generation, r.name)
			}
			return
		}
	case r.win >= 0 && r.used.Value != r.env.s.Value:
		d.s.addWarning("%s: %s is set but not used: in %s mode the %s CLI reads %s first, and it holds a different value ("+fix+")",
			r.name, r.env.s.Source, d.s.Mode, d.s.Generation, r.slots[r.win].c.label, r.name)
	}
}

// labels joins the labels of slots with " and ".
func labels(slots []credSlot) string {
	out := make([]string, len(slots))
	for i, sl := range slots {
		out[i] = sl.c.label
	}
	return strings.Join(out, " and ")
}

// cfgCandidate reads a credential from the config: a string, or a SecretRef
// object {source, provider?, id}, of which only source "env" can be resolved
// here. It never warns; resolveSecret decides whether a problem matters.
func (d *discovery) cfgCandidate(keyPath string) credCandidate {
	c := credCandidate{label: keyPath}
	raw, ok := d.get(keyPath)
	if !ok {
		return c
	}
	src := d.cfgSource(keyPath)
	switch v := raw.(type) {
	case string:
		v = strings.TrimSpace(v)
		switch {
		case v == "":
		case d.unresolved[keyPath]:
			// The openclaw CLI treats it as configured but unavailable
			// (credential-planner.ts hasUnresolvedConfigPath) and never sends
			// the placeholder.
			c.state, c.short = credUnusable, "unresolved ${VAR}"
			c.problem = src + " still contains a ${VAR} reference to an unset variable, so it is not used"
		default:
			c.state, c.s = credUsable, Setting{Value: v, Source: src, Secret: true}
		}
	case map[string]any:
		source, _ := v["source"].(string)
		id, _ := v["id"].(string)
		id = strings.TrimSpace(id)
		switch {
		case source == "env" && id != "":
			if val, from, ok := d.lookup(id); ok {
				c.state, c.s = credUsable, Setting{Value: val, Source: src + " (SecretRef " + from + ")", Secret: true}
				break
			}
			c.state, c.short = credUnusable, "SecretRef to an unset variable"
			c.problem = fmt.Sprintf("%s is a SecretRef to environment variable %s, which is not set", src, d.shownID(keyPath, id))
		case (source == "file" || source == "exec" || source == "store") && id != "":
			c.state, c.short = credUnusable, "a "+source+" SecretRef clawgate cannot resolve"
			c.problem = fmt.Sprintf("%s is a SecretRef with source %q, which clawgate cannot resolve", src, source)
		case source == "env" || source == "file" || source == "exec" || source == "store":
			c.state, c.short = credInvalid, "a SecretRef without id"
			c.problem = fmt.Sprintf("%s is a SecretRef with source %q but no id; ignored", src, source)
		case source != "":
			c.state, c.short = credInvalid, "a SecretRef with an unknown source"
			c.problem = src + " is a SecretRef with a source other than env, file, exec or store; ignored"
		default:
			c.state, c.short = credInvalid, "not a SecretRef"
			c.problem = src + " is an object without a SecretRef source; ignored"
		}
	default:
		c.state, c.short = credInvalid, "not a string"
		c.problem = src + " must be a string or a SecretRef object; ignored"
	}
	return c
}

// shownID is a SecretRef's variable name as it may be shown: the name itself
// when it looks like one and was written literally, else a description (the
// id might be a ${VAR} that expanded to a secret).
func (d *discovery) shownID(keyPath, id string) string {
	if envName.MatchString(id) && len(d.via[keyPath+".id"]) == 0 {
		return id
	}
	return "named by " + keyPath + ".id"
}
