package stdioguard

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fuzzOpts are small bounds, so that the fuzzer reaches them.
var fuzzOpts = Options{MaxLine: 200, MaxToolCalls: 2, MaxInflight: 5, MaxInflightBytes: 700, MaxID: 24, MaxRemembered: 4}

// FuzzGuard feeds arbitrary client bytes through the guard's stdin, then
// has a server answer every request the guard let through (a progress
// notification before and after each result, when the request has a
// token), mixed with arbitrary server lines, written in arbitrary pieces.
// It checks that:
//
//   - the server gets only the client's lines, in order, none over
//     MaxLine, changed in nothing but ids, progress tokens and cancelled
//     request ids; it sees every request (as encoding/json, and so mcp-go,
//     reads the id) under a surrogate, never the client's id, and never
//     more than MaxToolCalls tool calls or MaxInflight requests at once;
//   - stdout is exactly the server's lines in order, each answer with the
//     client's id and token byte for byte, no answer or progress for a
//     cancelled request and no progress after a result, with only the
//     guard's own JSON-RPC error responses in between;
//   - once everything is answered, nothing is left in flight.
func FuzzGuard(f *testing.F) {
	f.Add(call("1", `"p"`)+"\n"+cancelled("1")+"\n"+call(`"x"`, "9007199254740993")+"\n", "junk\n"+result("2")+"\n", 7, uint64(5))
	f.Add(`{"jsonrpc":"2.0","ID":1,"Method":"tools/call","params":{"_META":{"progressToken":1}}}`+"\n"+cancelled("1.0")+"\n",
		`{"id":1,"result":1}`+"\n", 3, uint64(0))
	f.Add(strings.Repeat(call("1", "")+"\n", 3)+call("2", "")+"\n"+call("3", "")+"\n"+`{"jsonrpc":"2.0","id":null,"method":"ping"}`+"\n",
		`{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}`+"\n", 1, ^uint64(0))
	f.Add(`{"jsonrpc":"2.0","id":"`+strings.Repeat("y", 300)+`","method":"ping"}`+"\n"+`{"jsonrpc":"2.0","id":7,"method":"ping","result":1}`+"\n"+
		`{"jsonrpc":"2.0","id":7,"result":1}`+"\n", strings.Repeat("z", 500)+"\n", 100, uint64(3))
	f.Fuzz(func(t *testing.T, in, out string, split int, order uint64) {
		opts := fuzzOpts
		opts.Logger = slog.New(slog.DiscardHandler)
		stdout := &lockedBuffer{}
		g := New(strings.NewReader(in), stdout, opts)
		got, err := io.ReadAll(g.Stdin())
		if err != nil {
			t.Fatal(err)
		}
		g.rep.drain()
		checkServerGot(t, in, string(got))

		// The server answers every request in flight, in order of arrival.
		type answer struct {
			line string
			want string // "" when it must be dropped
		}
		g.mu.Lock()
		var reqs []*request
		for _, r := range g.bySur {
			reqs = append(reqs, r)
		}
		g.mu.Unlock()
		slices.SortFunc(reqs, func(a, b *request) int { return strings.Compare(pad(a.sur), pad(b.sur)) })
		var mirror []answer
		for _, r := range reqs {
			p := func(n int) string { return progress(string(jsonQuote(r.tokenSur)), n) }
			if r.token != nil {
				w := progress(string(r.token), 1)
				if r.cancelled {
					w = ""
				}
				mirror = append(mirror, answer{p(1), w})
			}
			w := result(string(r.id))
			if r.cancelled {
				w = ""
			}
			mirror = append(mirror, answer{result(string(jsonQuote(r.sur))), w})
			if r.token != nil {
				mirror = append(mirror, answer{p(2), ""})
			}
		}
		// Arbitrary server lines that cannot name a surrogate.
		var other []answer
		for _, l := range strings.SplitAfter(strings.NewReplacer(`\`, "/", "cg:", "cx:").Replace(out), "\n") {
			if l == "" {
				continue
			}
			l = strings.TrimSuffix(l, "\n")
			other = append(other, answer{l, l})
		}
		var stream strings.Builder
		var want []string
		for len(mirror) > 0 || len(other) > 0 {
			next := &other
			if len(other) == 0 || (len(mirror) > 0 && order&1 == 1) {
				next = &mirror
			}
			order = order>>1 | order<<63
			a := (*next)[0]
			*next = (*next)[1:]
			stream.WriteString(a.line + "\n")
			if a.want != "" || next == &other {
				want = append(want, a.want)
			}
		}
		if split <= 0 {
			split = 1
		}
		for rest := stream.String(); len(rest) > 0; {
			n := min(split, len(rest))
			if k, err := g.Stdout().Write([]byte(rest[:n])); err != nil || k != n {
				t.Fatalf("Write = %d, %v", k, err)
			}
			rest = rest[n:]
		}
		if err := g.Flush(); err != nil {
			t.Fatal(err)
		}

		// stdout: the expected lines in order, and the guard's responses.
		k := 0
		for _, o := range strings.SplitAfter(stdout.String(), "\n") {
			if o == "" {
				continue
			}
			if !strings.HasSuffix(o, "\n") {
				t.Fatalf("a line without its newline: %q", o)
			}
			o = strings.TrimSuffix(o, "\n")
			if k < len(want) && o == want[k] {
				k++
				continue
			}
			if !isGuardReply(o) {
				t.Fatalf("stdout line %q is neither the next expected line %q nor a response of the guard's", o, at(want, k))
			}
		}
		if k != len(want) {
			t.Fatalf("missing on stdout: %q", want[k:])
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.bySur) != 0 || len(g.live) != 0 || len(g.byToken) != 0 || g.bytes != 0 || g.toolCalls != 0 {
			t.Fatalf("left in flight after every answer: %d %d %d %d %d", len(g.bySur), len(g.live), len(g.byToken), g.bytes, g.toolCalls)
		}
	})
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(nothing)"
}

// pad orders surrogates by their number.
func pad(sur string) string { return strings.Repeat(" ", 30-len(sur)) + sur }

// isGuardReply reports whether line is a JSON-RPC error response of the
// kind the guard writes.
func isGuardReply(line string) bool {
	var m struct {
		JSONRPC string
		ID      json.RawMessage
		Error   *struct {
			Code    int
			Message string
		}
	}
	if json.Unmarshal([]byte(line), &m) != nil || m.JSONRPC != "2.0" || m.ID == nil || m.Error == nil || !strings.HasSuffix(m.Error.Message, ".") {
		return false
	}
	return slices.Contains([]int{CodeInvalidRequest, CodeInvalidParams, CodeBusy}, m.Error.Code)
}

// checkServerGot checks what the server read against what the client sent.
func checkServerGot(t *testing.T, in, got string) {
	t.Helper()
	client := strings.SplitAfter(in, "\n")
	if l := client[len(client)-1]; !strings.HasSuffix(l, "\n") {
		client = client[:len(client)-1] // no newline: never handed over
	}
	j, toolCalls, requests := 0, 0, 0
	for _, p := range strings.SplitAfter(got, "\n") {
		if p == "" {
			continue
		}
		if len(p) > fuzzOpts.MaxLine+1 {
			t.Fatalf("the server got a line of %d bytes", len(p))
		}
		for j < len(client) && !sameButIDs(client[j], p) {
			j++
		}
		if j == len(client) {
			t.Fatalf("the server got %q, which is not the next of the client's lines", p)
		}
		j++
		// As mcp-go reads it.
		var m struct {
			ID     any `json:"id"`
			Method any `json:"method"`
			Params any `json:"params"`
		}
		if json.Unmarshal([]byte(p), &m) != nil || m.Method == nil {
			continue
		}
		if m.ID != nil {
			if s, ok := m.ID.(string); !ok || !strings.HasPrefix(s, idPrefix) {
				t.Fatalf("the server got a request with the client's id: %q", p)
			}
			requests++
			if m.Method == "tools/call" {
				toolCalls++
			}
		} else if m.Method == "tools/call" {
			t.Fatalf("the server got a tools/call without an id: %q", p)
		}
		if params, ok := m.Params.(map[string]any); ok && m.Method == "notifications/cancelled" {
			if id, ok := params["requestId"]; ok {
				if s, ok := id.(string); !ok || !strings.HasPrefix(s, idPrefix) {
					t.Fatalf("the server got a cancellation with the client's id: %q", p)
				}
			}
		}
	}
	if toolCalls > fuzzOpts.MaxToolCalls || requests > fuzzOpts.MaxInflight {
		t.Fatalf("the server got %d tool calls and %d requests at once", toolCalls, requests)
	}
}

// sameButIDs reports whether p is the client's line c, or c with only ids,
// progress tokens and cancelled request ids changed.
func sameButIDs(c, p string) bool {
	if c == p {
		return true
	}
	strip := func(s string) (any, bool) {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return nil, false
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		for k, v := range m {
			switch {
			case strings.EqualFold(k, "id"):
				delete(m, k)
			case strings.EqualFold(k, "params"):
				params, ok := v.(map[string]any)
				if !ok {
					continue
				}
				delete(params, "requestId")
				for pk, pv := range params {
					if meta, ok := pv.(map[string]any); ok && strings.EqualFold(pk, "_meta") {
						delete(meta, "progressToken")
					}
				}
			}
		}
		return m, true
	}
	cv, ok1 := strip(c)
	pv, ok2 := strip(p)
	return ok1 && ok2 && reflect.DeepEqual(cv, pv) && bytes.Count([]byte(p), []byte("\n")) == 1
}
