//go:build e2e

package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/e2e/internal/harness"
	"github.com/clawgate/clawgate/gateway"
	"github.com/clawgate/clawgate/tools"
)

// testRemoteReadme follows the README's "Remote gateway" section as
// written, against a TLS gateway in the namespace: the variables of step 2
// (with this gateway's values; the fingerprint in the colon form `openssl
// -fingerprint` prints), its `clawgate pair` line, the approval command
// pair prints run as printed on the gateway host, then step 3's MCP client
// line (its -e variables and its clawgate arguments, no token: the device
// token alone) serving the tools, and doctor's device section.
func testRemoteReadme(t *testing.T, e *remoteEnv) {
	g := e.gateway(t, true)
	rt := newRemoteTest(t, g)
	section := readmeSection(t, "## Remote gateway")

	// Step 2: the exports and the pair command.
	values := map[string]string{
		"OPENCLAW_GATEWAY_URL":     g.gw.URL,
		"CLAWGATE_TLS_FINGERPRINT": colonFingerprint(g.fingerprint),
		"OPENCLAW_GATEWAY_TOKEN":   g.gw.Token,
	}
	pairBlock := blockAfter(t, section, "**2. Pair.**")
	var env, pairArgs []string
	for _, line := range strings.Split(pairBlock, "\n") {
		line = strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
		switch {
		case line == "":
		case strings.HasPrefix(line, "export "):
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			v, ok := values[name]
			if !ok {
				t.Fatalf("README step 2 exports %s, which this test has no value for", name)
			}
			env = append(env, name+"="+v)
		case strings.HasPrefix(line, "clawgate "):
			pairArgs = strings.Fields(strings.TrimPrefix(line, "clawgate "))
		default:
			t.Fatalf("README step 2 has a line this test does not follow: %q", line)
		}
	}
	if len(env) != len(values) || len(pairArgs) == 0 || pairArgs[0] != "pair" {
		t.Fatalf("README step 2: exports %v, command %v; want the three variables and clawgate pair", env, pairArgs)
	}
	p := rt.start("readme-pair", pairArgs, env...)
	m := p.waitLine(t, pendingLine, remoteTimeout)
	if m[1] != e.product.Name {
		t.Fatalf("pair printed %q for a %s gateway", m[0], e.product.Name)
	}
	// Run on the gateway host exactly as printed.
	argv := strings.Fields(strings.TrimSpace(m[0]))
	out, errOut, code, err := runToEnd(t, "readme-approve", g.gw.CLI(argv[1:]...), remoteTimeout)
	if err != nil || code != 0 {
		t.Fatalf("%q on the gateway host: exit %d, %v\nstdout: %s\nstderr: %s", m[0], code, err, out, errOut)
	}
	if code, out := p.wait(t, remoteTimeout); code != 0 || !strings.Contains(out, "Paired with "+g.gw.URL) {
		t.Fatalf("README's clawgate pair: exit %d\nstdout: %s\nstderr: %s", code, out, harness.Tail(p.stderr(), 30))
	}

	// Step 3: the MCP client line, without the token.
	client := blockAfter(t, section, "**3. Wire it in**")
	line := strings.TrimSpace(client)
	cmd, clawArgs, ok := strings.Cut(line, " -- ")
	if !ok || !strings.HasPrefix(cmd, "claude mcp add clawgate") {
		t.Fatalf("README step 3 is not a claude mcp add line: %q", line)
	}
	var serveEnv []string
	for _, m := range regexp.MustCompile(`-e ([A-Z_]+)=(\S+)`).FindAllStringSubmatch(cmd, -1) {
		v, ok := values[m[1]]
		if !ok || m[1] == "OPENCLAW_GATEWAY_TOKEN" {
			t.Fatalf("README step 3 sets %s, which this test does not expect", m[1])
		}
		serveEnv = append(serveEnv, m[1]+"="+v)
	}
	fields := strings.Fields(clawArgs) // /path/to/clawgate [args]
	c := rt.serve("readme-serve", fields[1:], serveEnv...)
	st := wantOK[tools.GatewayStatusOutput](t, callTool(t, c, remoteTimeout, "gateway_status", nil))
	if !st.Connected || st.URL != g.gw.URL {
		t.Fatalf("gateway_status as README step 3 wires it: %+v", st)
	}
	wantOK[tools.ListSessionsOutput](t, callTool(t, c, remoteTimeout, "list_sessions", nil))

	// doctor prints the device section the README shows.
	out, errOut, code = rt.run("readme-doctor", []string{"doctor"}, serveEnv...)
	key, _ := gateway.GatewayKey(g.gw.URL)
	for _, want := range []string{"Device identity:\n", "\n  device: ", "\n  device token for " + key + ": held (scopes operator."} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("doctor: exit %d, want %q\nstdout: %s\nstderr: %s", code, want, out, harness.Tail(errOut, 20))
		}
	}
}

// readmeSection is the README's section under heading, up to the next
// heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// blockAfter is the body of the first fenced block after marker.
func blockAfter(t *testing.T, section, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(section, marker)
	if !ok {
		t.Fatalf("README's remote section has no %q", marker)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatalf("no sh block after %q", marker)
	}
	body, _, _ := strings.Cut(rest, "```")
	return body
}

// colonFingerprint is a hex SHA-256 the way `openssl x509 -fingerprint`
// prints it: upper case, bytes joined by colons.
func colonFingerprint(hex string) string {
	var parts []string
	for i := 0; i+1 < len(hex); i += 2 {
		parts = append(parts, strings.ToUpper(hex[i:i+2]))
	}
	return strings.Join(parts, ":")
}
