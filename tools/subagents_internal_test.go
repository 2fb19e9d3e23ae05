package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func bookRun(started time.Time) *bgRun {
	r := &bgRun{h: runHandle{V: 1, Run: uuid.NewString(), Key: "agent:main:x", Mode: modeAgent, Started: started.UnixMilli()}, done: make(chan struct{})}
	r.handle = r.h.encode()
	return r
}

// The book holds at most maxRuns: collected results make room first, runs
// going or waiting to be collected never; uncollected results go after
// resultTTL (their sessions released), collected ones after collectedTTL.
func TestRunBookLimits(t *testing.T) {
	now := time.Now()
	b := newRunBook()
	var runs []*bgRun
	for i := range maxRuns {
		r := bookRun(now.Add(time.Duration(i) * time.Millisecond))
		if err := b.add(r, now, nil); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	err := b.add(bookRun(now), now, nil)
	if err == nil || !strings.Contains(err.Error(), "100 subagent runs are going or waiting to be collected") {
		t.Fatalf("a full book: %v", err)
	}
	// Two finished, one collected: the collected one makes room.
	for _, r := range runs[:2] {
		r.ended = now
		close(r.done)
	}
	runs[1].collected = now
	if err := b.add(bookRun(now), now, nil); err != nil {
		t.Fatal(err)
	}
	if b.get(runs[1].h) != nil || b.get(runs[0].h) == nil {
		t.Fatal("evicted the wrong run")
	}
	if got := len(b.list(now, nil)); got != maxRuns {
		t.Fatalf("list: %d runs", got)
	}
	// After resultTTL the uncollected result is dropped, with its session.
	var dropped []string
	b.list(now.Add(resultTTL+time.Minute), func(r *bgRun) { dropped = append(dropped, r.h.Run) })
	if len(dropped) != 1 || dropped[0] != runs[0].h.Run || b.get(runs[0].h) != nil {
		t.Fatalf("dropped %v", dropped)
	}
	// Runs still going are never dropped.
	if b.get(runs[5].h) == nil {
		t.Fatal("a running run was dropped")
	}
}

// A handle survives a round trip and nothing else decodes.
func TestHandleRoundTrip(t *testing.T) {
	h := runHandle{V: 1, Run: uuid.NewString(), Key: "agent:main:subagent:clawgate-0123456789", Mode: modeLight, Private: true, Model: "fake/fake-echo", Started: 1}
	got, err := decodeHandle(h.encode())
	if err != nil || got != h {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := decodeHandle(h.encode() + "x"); err == nil {
		t.Fatal("a damaged handle decoded")
	}
}
