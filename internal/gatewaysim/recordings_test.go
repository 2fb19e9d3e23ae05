package gatewaysim

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/clawgate/clawgate/internal/testwait"
)

var update = flag.Bool("update", false, "rewrite testdata/*.jsonl from ../../testdata/frames")

var generations = []Generation{Clawdbot, OpenClaw}

// loadFullRecording reads the complete recordings of a generation from the
// module's testdata/frames directory.
func loadFullRecording(t *testing.T, g Generation) *recording {
	t.Helper()
	var all []byte
	for _, prefix := range []string{"frames-", "extra-"} {
		path := filepath.Join("..", "..", "testdata", "frames", prefix+profileFor(g).recording+".jsonl")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read recording: %v", err)
		}
		all = append(all, data...)
	}
	rec, err := parseRecording(all)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestEmbeddedExtractUpToDate checks that the embedded extract is exactly the
// set of recorded lines the templates use, so the fake is built from the
// real recordings. Run with -update after re-recording.
func TestEmbeddedExtractUpToDate(t *testing.T) {
	for _, g := range generations {
		t.Run(g.String(), func(t *testing.T) {
			full := loadFullRecording(t, g)
			fromFull, err := buildTemplates(g, full)
			if err != nil {
				t.Fatal(err)
			}
			want := full.extract()
			path := filepath.Join("testdata", profileFor(g).recording+".jsonl")
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := embeddedRecordings.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s is stale: run go test -run TestEmbeddedExtractUpToDate -update", path)
			}
			embedded, err := parseRecording(got)
			if err != nil {
				t.Fatal(err)
			}
			fromEmbedded, err := buildTemplates(g, embedded)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromFull, fromEmbedded) {
				t.Fatal("templates built from the extract differ from those built from the full recordings")
			}
		})
	}
}

// replaySkip lists recorded scenarios the replay does not cover, and why.
var replaySkip = map[string]string{
	"device-auth":       "signed device identities are not verified and no device tokens are issued",
	"oversize":          "frames were logged as placeholders; see TestReadLimits",
	"handshake-timeout": "takes 10-15 s; see TestHandshakeTimeout",
	"tick":              "takes 30 s; see TestTicks",
	"stop-mid-call":     "needs a gateway kill; see TestStopStart and TestShutdown",
	"connect-once":      "needs a gateway kill",
	"init":              "",
	"usage-cost-warm":   "waits until the real usage.cost cache is fresh; the fake's always is",
}

// labModels is the model config of the gateways the issue-12 scenarios were
// recorded against (testdata/README.md): priced, unpriced and failing
// models besides fake/fake-echo.
var labModels = []Model{
	{Ref: "fake/fake-echo", Name: "Fake Echo", Alias: "Fake", ContextWindow: 128000, Price: &Price{}},
	{Ref: "fake/fake-mini", Name: "Fake Mini", Alias: "Mini", ContextWindow: 64000,
		Price: &Price{Input: 0.25, Output: 1.25, CacheRead: 0.025, CacheWrite: 0.3}},
	{Ref: "fake/fake-free", Name: "Fake Free", ContextWindow: 32000},
	{Ref: "down/down-echo", Name: "Down Echo", Alias: "Down", ContextWindow: 200000,
		Price: &Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75}},
}

// replayOptions configures the fake for the scenarios recorded against a
// differently configured gateway.
var replayOptions = map[string]func(*Options){
	"usage-cost": withLabModels, "agent-modes": withLabModels, "agent-label": withLabModels,
	"subagent-session": withLabModels, "reply-markers": withLabModels, "agent-cost": withLabModels,
	"sessions-delete": withLabModels, "models-caps": withLabModels,
	// The lab config lists fallbacks (unused while the primary works).
	"config-get": withLabFallback,
	// recorded with primary down/down-echo failing over to fake/fake-mini
	"fallback": withLabFallback,
}

func withLabModels(o *Options) { o.Models = labModels }

func withLabFallback(o *Options) {
	withLabModels(o)
	o.Fallbacks = map[string]string{DefaultModel: "fake/fake-mini"}
}

// replayIgnore lists payload paths whose shape depends on the real gateway's
// environment or state rather than on the request.
var replayIgnore = []string{
	"hello-ok.snapshot.health",         // health snapshot: depends on plugins, event-loop load, sessions
	"hello-ok.snapshot.updateSchedule", // appears once the update checker ran
	"hello-ok.snapshot.presence",       // other clients' presence entries
	"health.eventLoop", "health.modelRuntime", "health.plugins", "health.configReload",
	"status.queuedSystemEvents", "status.eventLoop", "status.processMemory", "status.tasks",
	"status.sessions.recent", "status.sessions.byAgent",
	"event.health",
	// Present only for labelled or run-created sessions, and the real
	// gateways' stores held other sessions than the fake's.
	"payload.sessions[].displayName", "payload.sessions[].label",
	// The real usage.cost cache refreshes in the background (its status
	// and refresh time lag behind the runs); the fake's is always fresh.
	"payload.cacheStatus.refreshedAt",
}

// replayIgnoreIn lists payload paths ignored in one scenario only.
var replayIgnoreIn = map[string][]string{
	// The real probe session held the messages of earlier probe runs, so
	// its chat.history had another page (nextOffset is absent on the last).
	"happy": {"payload.nextOffset"},
}

// TestFakeMatchesRecordings replays the requests of every recorded scenario
// against the fake and checks that the fake answers like the real gateway:
// the same number of res frames per request, the same ok flag, the same
// error code, message and detail code, the same payload shape (key sets,
// recursively), the same close code and reason, and for agent runs the same
// sequence of event kinds.
func TestFakeMatchesRecordings(t *testing.T) {
	for _, g := range generations {
		t.Run(g.String(), func(t *testing.T) {
			t.Parallel()
			rec := loadFullRecording(t, g)
			for _, scen := range scenarios(rec) {
				if _, skip := replaySkip[scen]; skip {
					continue
				}
				t.Run(scen, func(t *testing.T) {
					t.Parallel()
					opts := Options{Generation: g, Token: "lab-token-123", Logf: func(string, ...any) {}}
					if f := replayOptions[scen]; f != nil {
						f(&opts)
					}
					srv := newServer(t, opts)
					for _, conn := range scenarioConns(rec, scen) {
						replayConn(t, srv, scen, conn)
					}
				})
			}
		})
	}
}

// scenarios returns the scenario names in recorded order.
func scenarios(rec *recording) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range rec.lines {
		if !seen[l.Scenario] {
			seen[l.Scenario] = true
			out = append(out, l.Scenario)
		}
	}
	return out
}

// scenarioConns groups the lines of a scenario by connection, keeping only
// connections opened in that scenario.
func scenarioConns(rec *recording, scen string) [][]*recLine {
	var order []int
	byConn := map[int][]*recLine{}
	opened := map[int]bool{}
	for _, l := range rec.lines {
		if l.Scenario != scen {
			continue
		}
		if l.Dir == "meta" && str(l.frame, "event") == "open" && !opened[l.Conn] {
			opened[l.Conn] = true
			order = append(order, l.Conn)
		}
		if opened[l.Conn] {
			byConn[l.Conn] = append(byConn[l.Conn], l)
		}
	}
	var out [][]*recLine
	for _, c := range order {
		if len(byConn[c]) > 0 {
			out = append(out, byConn[c])
		}
	}
	return out
}

// replayConn replays one recorded connection against the fake.
func replayConn(t *testing.T, srv *Server, scen string, lines []*recLine) {
	t.Helper()
	var header http.Header
	if strings.HasPrefix(scen, "origin-") {
		header = http.Header{"Origin": {strings.Replace(srv.URL(), "ws://", "http://", 1)}}
	}
	c := dialClient(t, srv.URL(), header)
	if ch, _ := c.waitFor(isEvent("connect.challenge"), 0, testwait.Patience()); ch == nil {
		t.Fatal("no challenge")
	}

	// Walk the recording in order: send what the client sent; wait for each
	// response the gateway sent (matched by request id and position), so
	// the fake sees requests with the same causality as the real gateway.
	var serverClose *recLine
	seen := map[string]int{}
	for _, l := range lines {
		switch {
		case l.Dir == "meta" && str(l.frame, "event") == "close":
			if r := str(l.frame, "reason"); r != "probe done" && r != "rec done" {
				serverClose = l
			}
		case l.Dir == "out":
			if _, ok := l.frame["_raw"]; ok {
				c.sendRaw([]byte(str(l.frame, "_raw")))
			} else {
				c.sendRaw(l.Frame)
			}
		case l.Dir == "in" && str(l.frame, "type") == "res":
			key := idKey(l.frame["id"])
			if !awaitRes(t, c, key, seen[key], l, replayIgnoreIn[scen]) {
				return
			}
			seen[key]++
		}
	}
	compareRunEvents(t, c, lines)
	if serverClose != nil {
		code, reason := c.waitClose(testwait.Patience())
		wantCode, _ := num(serverClose.frame["code"])
		if int64(code) != wantCode || reason != str(serverClose.frame, "reason") {
			t.Errorf("close: got %d %q, recorded %d %q", code, reason, wantCode, str(serverClose.frame, "reason"))
		}
	}
}

// awaitRes waits for the nth res with key from the fake and compares it
// with the recorded one.
func awaitRes(t *testing.T, c *testClient, key string, nth int, want *recLine, ignore []string) bool {
	t.Helper()
	from := 0
	var got obj
	for i := 0; i <= nth; i++ {
		var idx int
		got, idx = c.waitFor(func(f obj) bool { return str(f, "type") == "res" && idKey(f["id"]) == key }, from, testwait.Patience())
		if got == nil {
			t.Errorf("request %s: fake sent %d res frames, recorded at least %d (want %s)", key, i, nth+1, jsonStr(want.frame))
			return false
		}
		from = idx + 1
	}
	compareRes(t, key, want.frame, got, ignore)
	return true
}

// compareRes compares one recorded res frame with the fake's; ignore lists
// further payload paths to ignore.
func compareRes(t *testing.T, key string, want, got obj, ignore []string) {
	t.Helper()
	if want["ok"] != got["ok"] {
		t.Errorf("res %s: ok=%v, recorded ok=%v\n got: %s\nwant: %s", key, got["ok"], want["ok"], jsonStr(got), jsonStr(want))
		return
	}
	if we := sub(want, "error"); we != nil {
		ge := sub(got, "error")
		if str(ge, "code") != str(we, "code") || str(ge, "message") != str(we, "message") {
			t.Errorf("res %s error:\n got: %s\nwant: %s", key, jsonStr(ge), jsonStr(we))
		}
		if str(sub(ge, "details"), "code") != str(sub(we, "details"), "code") || keysOf(sub(ge, "details")) != keysOf(sub(we, "details")) {
			t.Errorf("res %s error details:\n got: %s\nwant: %s", key, jsonStr(ge["details"]), jsonStr(we["details"]))
		}
	}
	wp, gp := sub(want, "payload"), sub(got, "payload")
	if (wp == nil) != (gp == nil) {
		t.Errorf("res %s: payload presence differs\n got: %s\nwant: %s", key, jsonStr(got), jsonStr(want))
		return
	}
	name := "payload"
	if str(wp, "type") == "hello-ok" {
		name = "hello-ok"
	} else if _, ok := wp["heartbeatSeconds"]; ok {
		name = "health"
	} else if _, ok := wp["heartbeat"]; ok {
		name = "status"
	}
	var diffs []string
	shapeDiff(name, wp, gp, &diffs, ignore...)
	if len(diffs) > 0 {
		t.Errorf("res %s (%s) shape differs from the recording:\n  %s", key, name, strings.Join(diffs, "\n  "))
	}
}

// ignored reports whether a payload path is in replayIgnore or ignore.
func ignored(path string, ignore []string) bool {
	return contains(replayIgnore, path) || contains(ignore, path)
}

// shapeDiff compares the key structure of two JSON values, ignoring the
// paths of replayIgnore and ignore.
func shapeDiff(path string, want, got any, diffs *[]string, ignore ...string) {
	if ignored(path, ignore) {
		return
	}
	switch w := want.(type) {
	case obj:
		g, ok := got.(obj)
		if !ok {
			*diffs = append(*diffs, path+": recorded an object, fake sent "+jsonStr(got))
			return
		}
		var missing, extra []string
		for k := range w {
			if _, ok := g[k]; !ok && !ignored(path+"."+k, ignore) {
				missing = append(missing, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok && !ignored(path+"."+k, ignore) {
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			*diffs = append(*diffs, path+": fake lacks "+strings.Join(missing, ","))
		}
		if len(extra) > 0 {
			*diffs = append(*diffs, path+": fake adds "+strings.Join(extra, ","))
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				shapeDiff(path+"."+k, wv, gv, diffs, ignore...)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*diffs = append(*diffs, path+": recorded an array, fake sent "+jsonStr(got))
			return
		}
		if len(w) == 0 || len(g) == 0 {
			return
		}
		// Every fake element must look like some recorded element.
		for _, ge := range g {
			best := []string(nil)
			for _, we := range w {
				var d []string
				shapeDiff(path+"[]", we, ge, &d, ignore...)
				if d == nil {
					best = nil
					break
				}
				if best == nil || len(d) < len(best) {
					best = d
				}
			}
			if best != nil {
				*diffs = append(*diffs, best...)
				return
			}
		}
	default:
		switch got.(type) {
		case obj, []any:
			*diffs = append(*diffs, path+": recorded a scalar, fake sent "+jsonStr(got))
		}
	}
}

// compareRunEvents checks, for each agent run of the recorded connection,
// that the fake streamed the same kinds of agent/chat events in the same
// order, with the same payload keys.
func compareRunEvents(t *testing.T, c *testClient, lines []*recLine) {
	t.Helper()
	// Runs whose final response the recording holds (the recorder sometimes
	// closed right after "accepted"; their events then went elsewhere).
	runs := map[string]bool{}
	agentReqs := map[string]string{}
	for _, l := range lines {
		if l.Dir == "out" && str(l.frame, "method") == "agent" {
			if id := str(sub(l.frame, "params"), "idempotencyKey"); id != "" {
				agentReqs[idKey(l.frame["id"])] = id
			}
		}
		if l.Dir == "in" && str(l.frame, "type") == "res" && str(sub(l.frame, "payload"), "status") != "accepted" {
			if run, ok := agentReqs[idKey(l.frame["id"])]; ok {
				runs[run] = true
			}
		}
	}
	sig := func(f obj) string {
		p := sub(f, "payload")
		return str(f, "event") + ":" + str(p, "stream") + str(p, "state") + ":" + str(sub(p, "data"), "phase")
	}
	for runID := range runs {
		var want, got []string
		// Each fake event is compared with the recorded event of the same
		// kind at the same position among the events of that kind (or the
		// last one recorded): a run's events of one kind may differ, e.g.
		// those after a fallback.
		wantFrames := map[string][]obj{}
		gotCount := map[string]int{}
		for _, l := range lines {
			if l.Dir == "in" && str(l.frame, "type") == "event" && str(sub(l.frame, "payload"), "runId") == runID {
				s := sig(l.frame)
				if len(want) == 0 || want[len(want)-1] != s || !strings.Contains(s, "assistant") {
					want = append(want, s)
				}
				wantFrames[s] = append(wantFrames[s], sub(l.frame, "payload"))
			}
		}
		for _, f := range c.snapshot() {
			if str(f, "type") == "event" && str(sub(f, "payload"), "runId") == runID {
				s := sig(f)
				if len(got) == 0 || got[len(got)-1] != s || !strings.Contains(s, "assistant") {
					got = append(got, s)
				}
				var wp obj
				if ws := wantFrames[s]; len(ws) > 0 {
					wp = ws[min(gotCount[s], len(ws)-1)]
				}
				gotCount[s]++
				if wp != nil {
					var diffs []string
					shapeDiff("event."+s, wp, sub(f, "payload"), &diffs)
					if len(diffs) > 0 {
						t.Errorf("run %s event %s shape:\n  %s", runID, s, strings.Join(diffs, "\n  "))
					}
				}
			}
		}
		if strings.Join(want, " ") != strings.Join(got, " ") {
			t.Errorf("run %s events:\n got: %v\nwant: %v", runID, got, want)
		}
	}
}

// extract returns the used lines, in recorded order: the embedded extract
// that -update writes.
func (r *recording) extract() []byte {
	var b bytes.Buffer
	for _, l := range r.lines {
		if l.used {
			b.Write(l.raw)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
