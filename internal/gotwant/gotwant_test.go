package gotwant

import (
	"fmt"
	"strings"
	"testing"
)

// recorder records what Error and Fatal report instead of failing.
type recorder struct {
	testing.TB
	errors []string
	failed bool
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) FailNow() { r.failed = true }

func TestChecksNameTheFieldsThatFailed(t *testing.T) {
	r := &recorder{TB: t}
	ok := Error(r, "status",
		Eq("connected", true, true),
		Eq("protocol", 3, 4),
		Ne("run id", "", ""),
		Contains("error", "refused", "Is the gateway running?"),
		Lacks("text", "the token tok-1", "tok-1"),
		HasPrefix("text", "2 sessions", "1 session"),
		HasSuffix("message", "no period", "."),
		That("count", false, 7, "1 to 2"),
	)
	if ok || len(r.errors) != 1 {
		t.Fatalf("Error returned %v with %d reports, want false with one", ok, len(r.errors))
	}
	want := `status
    protocol: got 3, want 4
    run id: got "", want anything else
    error: got "refused", want it to contain "Is the gateway running?"
    text: got "the token tok-1", want it without "tok-1"
    text: got "2 sessions", want it to start with "1 session"
    message: got "no period", want it to end with "."
    count: got 7, want 1 to 2`
	if r.errors[0] != want {
		t.Fatalf("report:\n%s\nwant:\n%s", r.errors[0], want)
	}
	if r.failed {
		t.Fatal("Error stopped the test")
	}
}

func TestAllHeld(t *testing.T) {
	r := &recorder{TB: t}
	Fatal(r, "status", Eq("a", 1, 1), Contains("b", "abc", "b"), That("c", true, nil, "anything"))
	if len(r.errors) != 0 || r.failed {
		t.Fatalf("checks that held were reported: %v %v", r.errors, r.failed)
	}
	Fatal(r, "status", Eq("a", 1, 2))
	if len(r.errors) != 1 || !r.failed {
		t.Fatalf("Fatal with a failed check: %v, failed %v", r.errors, r.failed)
	}
}

func TestLongStringsAreCut(t *testing.T) {
	long := strings.Repeat("x", 5000)
	if s := show(long); len(s) > 2100 || !strings.Contains(s, "(5000 bytes)") {
		t.Fatalf("show of 5000 bytes: %d bytes", len(s))
	}
}
