package tools_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/clawgate/clawgate/internal/gotwant"
	"github.com/clawgate/clawgate/internal/testwait"
	"github.com/clawgate/clawgate/tools"
)

// validationEnv is a server on the recording stub gateway with an
// in-process client, and a way to call a tool with raw JSON arguments.
type validationEnv struct {
	stub *stubGateway
	c    *client.Client
}

func newValidationEnv(t *testing.T, cfg tools.Config) *validationEnv {
	t.Helper()
	stub := &stubGateway{}
	return &validationEnv{stub: stub, c: newInProcess(t, stub, cfg)}
}

// call sends args (raw JSON, or "" for no arguments) to tool and returns
// the result's text and whether it is an error.
func (v *validationEnv) call(t *testing.T, tool, args string) (string, bool) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	if args != "" {
		req.Params.Arguments = json.RawMessage(args)
	}
	res, err := v.c.CallTool(testwait.Ctx(t), req)
	if err != nil {
		t.Fatalf("%s %s: JSON-RPC error %v", tool, args, err)
	}
	return text(res), res.IsError
}

// gatewayCalls counts the requests the stub gateway received.
func (v *validationEnv) gatewayCalls() int {
	v.stub.mu.Lock()
	defer v.stub.mu.Unlock()
	return len(v.stub.patches) + len(v.stub.agents) + len(v.stub.lists)
}

// Every tool, every kind of argument error: the exact sentence the model
// sees, and no gateway request.
func TestValidationMessages(t *testing.T) {
	env := newValidationEnv(t, tools.Config{})
	for _, tc := range []struct {
		tool, args, want string
	}{
		// The arguments as a whole.
		{"list_sessions", `[]`, `the arguments must be a JSON object (got an array)`},
		{"list_sessions", `[{"limit": 1}]`, `the arguments must be a JSON object (got an array)`},
		{"gateway_status", `"limit=5"`, `the arguments must be a JSON object (got the string "limit=5")`},
		{"list_models", `7`, `the arguments must be a JSON object (got 7)`},
		{"ask_subagent", `true`, `the arguments must be a JSON object (got true)`},
		{"patch_session_model", `""`, `the arguments must be a JSON object (got an empty string)`},

		// minimum, maximum, and integers.
		{"list_sessions", `{"limit": -1}`, `limit must be an integer ≥ 1 (got -1)`},
		{"list_sessions", `{"limit": 0}`, `limit must be an integer ≥ 1 (got 0)`},
		{"list_sessions", `{"limit": 501}`, `limit must be an integer ≤ 500 (got 501)`},
		{"list_sessions", `{"limit": 1e308}`, `limit must be an integer ≤ 500 (got 1e308)`},
		{"list_sessions", `{"active_minutes": -5}`, `active_minutes must be an integer ≥ 1 (got -5)`},
		{"list_sessions", `{"active_minutes": 1e300}`, `active_minutes must be an integer ≤ 9223372036854775807 (got 1e300)`},
		{"list_sessions", `{"active_minutes": 9223372036854775808}`, `active_minutes must be an integer ≤ 9223372036854775807 (got 9223372036854775808)`},
		{"ask_subagent", `{"message": "hi", "timeout_seconds": 0}`, `timeout_seconds must be an integer ≥ 1 (got 0)`},
		{"ask_subagent", `{"message": "hi", "timeout_seconds": 86401}`, `timeout_seconds must be an integer ≤ 86400 (got 86401)`},

		// Wrong JSON types.
		{"list_sessions", `{"limit": "ten"}`, `limit must be an integer from 1 to 500 (got the string "ten")`},
		{"list_sessions", `{"limit": "5"}`, `limit must be an integer from 1 to 500 (got the string "5")`},
		{"list_sessions", `{"limit": 2.5}`, `limit must be an integer from 1 to 500 (got 2.5)`},
		{"list_sessions", `{"limit": true}`, `limit must be an integer from 1 to 500 (got true)`},
		{"list_sessions", `{"limit": [5]}`, `limit must be an integer from 1 to 500 (got an array)`},
		{"list_sessions", `{"limit": null}`, `limit must be an integer from 1 to 500 or left out (got null)`},
		{"list_sessions", `{"active_minutes": {"min": 5}}`, `active_minutes must be an integer ≥ 1 (got an object)`},
		{"list_sessions", `{"search": {"text": "x"}}`, `search must be a string (got an object)`},
		{"list_sessions", `{"agent_id": 7}`, `agent_id must be a string (got 7)`},
		{"list_models", `{"provider": 7}`, `provider must be a string (got 7)`},
		{"list_models", `{"provider": ["anthropic"]}`, `provider must be a string (got an array)`},
		{"list_models", `{"provider": null}`, `provider must be a string or left out (got null)`},
		{"ask_subagent", `{"message": {"nested": true}}`, `message must be a non-empty string (got an object)`},
		{"ask_subagent", `{"message": null}`, `message must be a non-empty string (got null)`},
		{"ask_subagent", `{"message": 42}`, `message must be a non-empty string (got 42)`},
		{"ask_subagent", `{"message": "hi", "model": null}`, `model must be a string or left out (got null)`},
		{"ask_subagent", `{"message": "hi", "session_key": false}`, `session_key must be a string (got false)`},
		{"ask_subagent", `{"message": "hi", "timeout_seconds": "60"}`, `timeout_seconds must be an integer from 1 to 86400 (got the string "60")`},
		{"ask_subagent", `{"message": "hi", "thinking": 1}`, `thinking must be a string (got 1)`},
		{"ask_subagent", `{"message": "hi", "agent_id": []}`, `agent_id must be a string (got an array)`},
		{"ask_subagent", `{"message": "hi", "extra_system_prompt": {}}`, `extra_system_prompt must be a string (got an object)`},
		{"patch_session_model", `{"session_key": 5, "model": "x"}`, `session_key must be a non-empty string (got 5)`},
		{"patch_session_model", `{"session_key": "agent:main:x", "model": 1}`, `model must be a string or null (got 1)`},
		{"patch_session_model", `{"session_key": "agent:main:x", "model": {"id": "x"}}`, `model must be a string or null (got an object)`},
		{"patch_session_model", `{"session_key": "agent:main:x", "model": ["x"]}`, `model must be a string or null (got an array)`},
		{"patch_session_model", `{"session_key": "agent:main:x", "model": "x", "create": "yes"}`, `create must be true or false (got the string "yes")`},
		{"patch_session_model", `{"session_key": "agent:main:x", "model": "x", "create": 1}`, `create must be true or false (got 1)`},

		// minLength.
		{"ask_subagent", `{"message": ""}`, `message must be a non-empty string (got an empty string)`},
		{"patch_session_model", `{"session_key": "", "model": "x"}`, `session_key must be a non-empty string (got an empty string)`},

		// required.
		{"ask_subagent", `{}`, `missing required argument "message"`},
		{"ask_subagent", ``, `missing required argument "message"`},
		{"ask_subagent", `null`, `missing required argument "message"`},
		{"patch_session_model", `{"model": "x"}`, `missing required argument "session_key"`},
		{"patch_session_model", `{"session_key": "agent:main:x"}`, `missing required argument "model"`},
		{"patch_session_model", `{}`, `missing required argument "session_key"; missing required argument "model"`},

		// additionalProperties false: unknown arguments, with a suggestion
		// when one is close, or the tool's arguments when none is.
		{"list_sessions", `{"limt": 5}`, `unknown argument "limt" (did you mean "limit"?)`},
		{"list_sessions", `{"Limit": 5}`, `unknown argument "Limit" (did you mean "limit"?)`},
		{"list_sessions", `{"serch": "x"}`, `unknown argument "serch" (did you mean "search"?)`},
		{"list_sessions", `{"agentId": "main"}`, `unknown argument "agentId" (did you mean "agent_id"?)`},
		{"list_sessions", `{"bogus": true}`, `unknown argument "bogus" (list_sessions takes limit, active_minutes, search and agent_id)`},
		{"gateway_status", `{"extra": 1}`, `unknown argument "extra" (gateway_status takes no arguments)`},
		{"gateway_status", `{"verbose": true, "limit": 1}`, `unknown arguments "limit" and "verbose" (gateway_status takes no arguments)`},
		{"list_models", `{"provder": "anthropic"}`, `unknown argument "provder" (did you mean "provider"?)`},
		{"list_models", `{"vendor": "anthropic"}`, `unknown argument "vendor" (list_models takes provider)`},
		{"patch_session_model", `{"session_key": "k", "model": "x", "force": true}`,
			`unknown argument "force" (patch_session_model takes session_key and model, and optionally create)`},
		{"patch_session_model", `{"sessionKey": "k", "model": "x"}`, `missing required argument "session_key"; unknown argument "sessionKey" (did you mean "session_key"?)`},
		{"ask_subagent", `{"message": "hi", "timeout": 60}`, `unknown argument "timeout" (did you mean "timeout_seconds"?)`},
		{"ask_subagent", `{"message": "hi", "mesage": "x"}`, `unknown argument "mesage" (did you mean "message"?)`},
		{"ask_subagent", `{"message": "hi", "priority": 1}`,
			`unknown argument "priority" (ask_subagent takes message, and optionally mode, model, session_key, keep_session, output_schema, timeout_seconds, thinking, agent_id and extra_system_prompt)`},
		{"ask_subagent", `{"prompt": "hi"}`, `missing required argument "message"; unknown argument "prompt" (ask_subagent takes message, and optionally mode, model, session_key, keep_session, output_schema, timeout_seconds, thinking, agent_id and extra_system_prompt)`},

		// Several problems at once: all of them, missing arguments first,
		// then values in the order of the schema, then unknown arguments.
		{"list_sessions", `{"search": {"a": 1}, "agent_id": ["x"], "limit": 0, "active_minutes": true, "zzz": 1, "limt": 2, "aaa": 3}`,
			`limit must be an integer ≥ 1 (got 0); active_minutes must be an integer ≥ 1 (got true); search must be a string (got an object); ` +
				`agent_id must be a string (got an array); unknown argument "limt" (did you mean "limit"?); ` +
				`unknown arguments "aaa" and "zzz" (list_sessions takes limit, active_minutes, search and agent_id)`},
		{"patch_session_model", `{"session_key": ["a"], "model": 1}`, `session_key must be a non-empty string (got an array); model must be a string or null (got 1)`},
		{"ask_subagent", `{"timeout_seconds": -1, "model": 3, "mesage": "hi"}`,
			`missing required argument "message"; model must be a string (got 3); timeout_seconds must be an integer ≥ 1 (got -1); unknown argument "mesage" (did you mean "message"?)`},

		// Long and odd values are shortened and quoted.
		{"list_sessions", `{"limit": "` + strings.Repeat("x", 100) + `"}`,
			`limit must be an integer from 1 to 500 (got the string "` + strings.Repeat("x", 40) + `…")`},
		{"list_sessions", `{"limit": "a\u0000b\nc"}`, `limit must be an integer from 1 to 500 (got the string "a\x00b\nc")`},
		{"list_sessions", `{"` + strings.Repeat("q", 100) + `": 1}`,
			`unknown argument "` + strings.Repeat("q", 40) + `…" (list_sessions takes limit, active_minutes, search and agent_id)`},
		// Many problems: the first 12, and how many more.
		{"gateway_status", manyUnknown(20), `unknown arguments "a00", "a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09", "a10" and "a11" ` +
			`(gateway_status takes no arguments); and 8 more problems`},
	} {
		t.Run(tc.tool+" "+tc.args, func(t *testing.T) {
			before := env.gatewayCalls()
			got, isErr := env.call(t, tc.tool, tc.args)
			want := "Invalid arguments for " + tc.tool + ": " + tc.want + "."
			if !isErr || got != want {
				t.Errorf("%s %s:\n got %q (isError %v)\nwant %q", tc.tool, tc.args, got, isErr, want)
			}
			if n := env.gatewayCalls() - before; n != 0 {
				t.Errorf("%s %s: %d gateway requests for invalid arguments", tc.tool, tc.args, n)
			}
		})
	}
}

// manyUnknown is an object with n unknown arguments a00, a01, ...
func manyUnknown(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"a%02d": %d`, i, i))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Valid arguments in every notation JSON Schema allows still work: integers
// written as 5.0 or 1e2, no arguments, null arguments.
func TestValidationAcceptsValidArguments(t *testing.T) {
	env := newValidationEnv(t, tools.Config{})
	for _, tc := range []struct {
		tool, args string
		limit      int // the sessions.list limit the gateway should get, 0 for no check
	}{
		{"list_sessions", `{"limit": 5.0}`, 5},
		{"list_sessions", `{"limit": 1e2}`, 100},
		{"list_sessions", `{"limit": 500, "active_minutes": 9223372036854775807}`, 500},
		{"list_sessions", `{"limit": 7, "active_minutes": 6e1, "search": "", "agent_id": "main"}`, 7},
		{"list_sessions", ``, 20},
		{"list_sessions", `null`, 20},
		{"list_sessions", `{}`, 20},
		{"gateway_status", `{}`, 0},
		{"gateway_status", `null`, 0},
		{"list_models", `{"provider": "fake"}`, 0},
		{"patch_session_model", `{"session_key": "agent:main:s1", "model": null}`, 0},
		{"patch_session_model", `{"session_key": "agent:main:s1", "model": "fake/fake-echo", "create": false}`, 0},
		{"ask_subagent", `{"message": "hi", "timeout_seconds": 3.0}`, 0},
	} {
		env.stub.reset()
		got, isErr := env.call(t, tc.tool, tc.args)
		if strings.HasPrefix(got, "Invalid arguments") {
			t.Errorf("%s %s refused: %s", tc.tool, tc.args, got)
			continue
		}
		env.stub.mu.Lock()
		lists := env.stub.lists
		env.stub.mu.Unlock()
		if tc.limit != 0 && (isErr || len(lists) != 1 || lists[0].Limit != tc.limit) {
			t.Errorf("%s %s: %s; sessions.list requests %+v, want limit %d", tc.tool, tc.args, got, lists, tc.limit)
		}
	}
	// timeout_seconds 3.0 is timeout_seconds 3.
	var timeouts []time.Duration
	for _, args := range []string{`{"message": "hi", "timeout_seconds": 3}`, `{"message": "hi", "timeout_seconds": 3.0}`} {
		env.stub.reset()
		if got, isErr := env.call(t, "ask_subagent", args); isErr {
			t.Fatalf("ask_subagent %s: %s", args, got)
		}
		env.stub.mu.Lock()
		for _, a := range env.stub.agents {
			timeouts = append(timeouts, a.Timeout.Round(time.Second))
		}
		env.stub.mu.Unlock()
	}
	if len(timeouts) != 2 || timeouts[0] != timeouts[1] {
		t.Fatalf("agent request timeouts %v, want two equal ones", timeouts)
	}
}

// At the JSON-RPC level: arguments that are not an object reach the tool
// and are refused with a sentence; null or absent arguments are no
// arguments. What mcp-go refuses itself before any tool code runs (params
// that are not an object, numbers beyond float64) stays a -32600.
func TestValidationAtTheJSONRPCLevel(t *testing.T) {
	srv, err := tools.NewServer(tools.Config{Gateway: &stubGateway{}})
	if err != nil {
		t.Fatal(err)
	}
	type reply struct {
		Result *struct {
			Content []struct{ Text string }
			IsError bool
		}
		Error *struct {
			Code    int
			Message string
		}
	}
	send := func(params string) reply {
		line := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":` + params + `}`
		b, err := json.Marshal(srv.HandleMessage(context.Background(), json.RawMessage(line)))
		if err != nil {
			t.Fatal(err)
		}
		var r reply
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return r
	}
	for _, tc := range []struct{ args, got string }{
		{`[]`, "an array"}, {`[1, 2]`, "an array"}, {`"nope"`, `the string "nope"`}, {`3`, "3"}, {`-0.5`, "-0.5"}, {`false`, "false"},
	} {
		r := send(`{"name":"list_sessions","arguments":` + tc.args + `}`)
		want := "Invalid arguments for list_sessions: the arguments must be a JSON object (got " + tc.got + ")."
		if r.Result == nil {
			t.Errorf("arguments %s: %+v, want the tool error %q", tc.args, r, want)
			continue
		}
		var texts []string
		for _, c := range r.Result.Content {
			texts = append(texts, c.Text)
		}
		gotwant.Error(t, fmt.Sprintf("arguments %s: %+v", tc.args, r),
			gotwant.Eq("isError", r.Result.IsError, true),
			gotwant.Eq("content items", len(texts), 1),
			gotwant.Eq("text", strings.Join(texts, "\n"), want),
		)
	}
	for _, params := range []string{
		`{"name":"list_sessions","arguments":null}`,
		`{"name":"list_sessions"}`,
		`{"name":"list_sessions","arguments":{}}`,
	} {
		if r := send(params); r.Result == nil || r.Result.IsError {
			t.Errorf("%s: %+v, want a result", params, r)
		}
	}
	for _, tc := range []struct{ params, msg string }{
		{`"list_sessions"`, "unparsable tools/call request: json: cannot unmarshal string into Go struct field CallToolRequest.params of type mcp.params"},
		{`[]`, "unparsable tools/call request: json: cannot unmarshal array into Go struct field CallToolRequest.params of type mcp.params"},
		{`{"name":5}`, "unparsable tools/call request: json: cannot unmarshal number into Go struct field CallToolRequest.params.name of type string"},
		{`{"name":"list_sessions","arguments":{"limit":1e999}}`,
			"unparsable tools/call request: json: cannot unmarshal number 1e999 into Go struct field CallToolRequest.params of type float64"},
	} {
		r := send(tc.params)
		if r.Error == nil || r.Error.Code != -32600 || r.Error.Message != tc.msg {
			t.Errorf("params %s: %+v %+v, want -32600 %q", tc.params, r.Result, r.Error, tc.msg)
		}
	}
}

// fuzzSeeds reads the FuzzToolArguments corpus: each file's tool index
// and arguments.
func fuzzSeeds(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzToolArguments", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fuzz seeds: %v", err)
	}
	seeds := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		fh.Close()
		if len(lines) != 3 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: unexpected seed format %q", f, lines)
		}
		b, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "byte("), ")"))
		if err != nil || len(b) != 1 {
			t.Fatalf("%s: tool %q: %v", f, lines[1], err)
		}
		args, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[2], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: arguments %q: %v", f, lines[2], err)
		}
		name := fuzzTools[int(b[0])%len(fuzzTools)]
		seeds[name] = append(seeds[name], args)
	}
	return seeds
}

// quoted matches a Go-quoted string.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// checkSentence fails when a tool error text looks like a Go value or an
// encoding/json error rather than a sentence, or an invalid-arguments
// error is not of the form "Invalid arguments for <tool>: ….".
func checkSentence(t testing.TB, tool, args, msg string) {
	t.Helper()
	// Quoted values are the caller's own input repeated.
	own := quoted.ReplaceAllString(msg, `"…"`)
	for _, bad := range []string{"&{", "<root>", "map[", "Go struct", "cannot unmarshal", "json:", "input schema validation failed"} {
		if strings.Contains(own, bad) {
			t.Errorf("%s %s: message contains %q: %s", tool, args, bad, msg)
		}
	}
	if strings.HasPrefix(strings.ToLower(msg), "invalid arguments") {
		prefix := "Invalid arguments for " + tool + ": "
		gotwant.Error(t, fmt.Sprintf("%s %s: malformed invalid-arguments message", tool, args),
			gotwant.HasPrefix("message", msg, prefix),
			gotwant.HasSuffix("message", msg, "."),
			gotwant.That("length", len(msg) > len(prefix)+1, len(msg), fmt.Sprintf("more than %d (the prefix and a period)", len(prefix)+1)),
			gotwant.Lacks("message", msg, "\n"),
		)
	}
}

// No validation message is a struct dump, for the fuzz corpus and a corpus
// of bad arguments, against every tool.
func TestValidationMessagesAreSentences(t *testing.T) {
	env := newValidationEnv(t, tools.Config{AllowModels: tools.ModelPolicy{"fake/*", "*/claude-haiku-*"}})
	corpus := []string{
		``, `null`, `{}`, `[]`, `[{}]`, `""`, `"x"`, `0`, `-1.5e3`, `true`,
		`{"limit": -1}`, `{"limit": 1e308}`, `{"limit": -1e308}`, `{"limit": 1e-300}`, `{"limit": "1"}`, `{"limit": {}}`,
		`{"active_minutes": 12345678901234567890123}`, `{"timeout_seconds": 0.5}`, `{"timeout_seconds": 1e5}`,
		`{"message": ""}`, `{"message": []}`, `{"session_key": null, "model": null}`, `{"model": false}`,
		`{"create": null}`, `{"provider": {"name": "x"}}`, `{"": 1}`, `{"~1/0": 1}`, `{"a/b": {"c": [1]}}`,
		`{"message": "hi", "message": 5}`, `{"limit": 5, "limit": "x"}`,
	}
	seeds := fuzzSeeds(t)
	for _, tool := range tools.Names(false) {
		for _, args := range append(append([]string(nil), corpus...), seeds[tool]...) {
			before := env.gatewayCalls()
			msg, isErr := env.call(t, tool, args)
			if !isErr {
				continue
			}
			checkSentence(t, tool, args, msg)
			if strings.HasPrefix(msg, "Invalid arguments for ") && env.gatewayCalls() != before {
				t.Errorf("%s %s: refused as invalid, but the gateway was called", tool, args)
			}
		}
	}
	var n int
	for _, s := range seeds {
		n += len(s)
	}
	if n < 40 {
		t.Fatalf("only %d fuzz seeds read", n)
	}
}

// The sentences are the same over stdio-style raw arguments and Go values
// (what `clawgate call` and other in-process callers send).
func TestValidationOfGoValues(t *testing.T) {
	env := newValidationEnv(t, tools.Config{})
	req := mcp.CallToolRequest{}
	req.Params.Name = "list_sessions"
	req.Params.Arguments = map[string]any{"limit": -1, "limt": 2}
	res, err := env.c.CallTool(testwait.Ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	want := `Invalid arguments for list_sessions: limit must be an integer ≥ 1 (got -1); unknown argument "limt" (did you mean "limit"?).`
	if !res.IsError || text(res) != want {
		t.Fatalf("got %q, want %q", text(res), want)
	}
	req.Params.Arguments = []string{"a"}
	if res, err = env.c.CallTool(testwait.Ctx(t), req); err != nil || text(res) != "Invalid arguments for list_sessions: the arguments must be a JSON object (got an array)." {
		t.Fatalf("%v %s", err, fmt.Sprint(text(res)))
	}
}
