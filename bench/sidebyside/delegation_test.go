package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestByTokenFindsEachAskByItsOwnSubtask(t *testing.T) {
	n := func(v int) *int { return &v }
	reqs := []fakeEntry{
		// A named session: the earlier subtasks are still in the history,
		// and OpenClaw appends injected context after the real message.
		{BodyBytes: n(100), Messages: 3, UserTexts: []string{"[Sat] task [x-p01]\n\nRuntime: …", "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> …"}},
		{BodyBytes: n(150), Messages: 5, UserTexts: []string{"task [x-p01]", "task [x-p02]", "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>"}},
		{BodyBytes: n(40), UserTexts: []string{"something else"}},
		{BodyBytes: n(30), Messages: 2, UserTexts: []string{"task [x-p10]"}},
	}
	got, other := byToken(reqs, []string{"[x-p01]", "[x-p02]", "[x-p10]", "[x-p03]"})
	want := []askBytes{
		{requests: 1, bytes: 100, largest: 100, messages: 3},
		{requests: 1, bytes: 150, largest: 150, messages: 5},
		{requests: 1, bytes: 30, largest: 30, messages: 2},
		{},
	}
	if other != 1 {
		t.Errorf("other = %d, want 1 (the request without a token)", other)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ask %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}

func TestFakeLogReadsOnlyCompleteNewLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fake-requests.jsonl")
	old := `{"seq":1,"method":"POST","body_bytes":7,"user_texts":["before"]}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := openFakeLog(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	write := func(s string) {
		t.Helper()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"seq":2,"method":"POST","body_bytes":9,"user_texts":["a"]}` + "\n" + `{"seq":2,"end":"ok"}` + "\n" +
		`{"seq":3,"method":"GET","path":"/v1/models"}` + "\n" + `{"seq":4,"method":"POST","body_by`)
	if err := l.read(); err != nil {
		t.Fatal(err)
	}
	if len(l.reqs) != 1 || l.reqs[0].Seq != 2 {
		t.Fatalf("after the first read: %+v, want only the model request 2", l.reqs)
	}
	write(`tes":11,"user_texts":["b"]}` + "\n")
	if err := l.read(); err != nil {
		t.Fatal(err)
	}
	if got := l.since(1); len(got) != 1 || got[0].Seq != 4 || *got[0].BodyBytes != 11 {
		t.Fatalf("after the second read: %+v, want request 4 of 11 bytes", got)
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 10: "10th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{0: "0 B", 340: "340 B", 1953: "1,953 B", 38890: "38,890 B", 1234567: "1,234,567 B", -1953: "-1,953 B"} {
		if got := bytesOf(n); got != want {
			t.Errorf("bytesOf(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestIsPrivateKey(t *testing.T) {
	for key, want := range map[string]bool{
		"agent:main:subagent:clawgate-0123456789":  true,
		"agent:ops:subagent:clawgate-abcdefabcd":   true,
		"agent:main:subagent:clawgate-ABCDEFABCD":  false,
		"agent:main:subagent:clawgate-012345678":   false,
		"agent:main:subagent:clawgate-0123456789a": false,
		"agent:main:subagent:other-0123456789":     false,
		"agent:main:dlg-abc-agent":                 false,
	} {
		if got := isPrivateKey(key); got != want {
			t.Errorf("isPrivateKey(%q) = %v, want %v", key, got, want)
		}
	}
}
