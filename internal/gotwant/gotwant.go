// Package gotwant states what a test expects of a result field by field, so
// that a failure names each field that was wrong with what it was and what
// it should have been, instead of one message for a condition that packs
// many. It is imported only by tests, and imports nothing of clawgate's.
//
//	gotwant.Fatal(t, "gateway_status: "+text(res),
//		gotwant.Eq("isError", res.IsError, false),
//		gotwant.Eq("protocol", st.Protocol, 4),
//		gotwant.Contains("error", st.Error, "Is the gateway running?"),
//	)
//
// reports, when the protocol and the error are wrong:
//
//	gateway_status: …
//	    protocol: got 3, want 4
//	    error: got "", want it to contain "Is the gateway running?"
package gotwant

import (
	"fmt"
	"strings"
	"testing"
)

// A Check is one expectation about one field of a result.
type Check struct {
	field string
	ok    bool
	// problem says what was wrong when !ok: "got …, want …".
	problem string
}

// Eq expects got == want.
func Eq[T comparable](field string, got, want T) Check {
	return Check{field: field, ok: got == want, problem: fmt.Sprintf("got %s, want %s", show(got), show(want))}
}

// Ne expects got != bad.
func Ne[T comparable](field string, got, bad T) Check {
	return Check{field: field, ok: got != bad, problem: fmt.Sprintf("got %s, want anything else", show(got))}
}

// Contains expects got to contain sub.
func Contains(field, got, sub string) Check {
	return Check{field: field, ok: strings.Contains(got, sub), problem: fmt.Sprintf("got %s, want it to contain %q", show(got), sub)}
}

// Lacks expects got not to contain sub.
func Lacks(field, got, sub string) Check {
	return Check{field: field, ok: !strings.Contains(got, sub), problem: fmt.Sprintf("got %s, want it without %q", show(got), sub)}
}

// HasPrefix expects got to start with prefix.
func HasPrefix(field, got, prefix string) Check {
	return Check{field: field, ok: strings.HasPrefix(got, prefix), problem: fmt.Sprintf("got %s, want it to start with %q", show(got), prefix)}
}

// HasSuffix expects got to end with suffix.
func HasSuffix(field, got, suffix string) Check {
	return Check{field: field, ok: strings.HasSuffix(got, suffix), problem: fmt.Sprintf("got %s, want it to end with %q", show(got), suffix)}
}

// That expects ok, a condition on got that Eq and the others cannot say;
// want describes the values that satisfy it ("1 to 2", "not nil").
func That(field string, ok bool, got any, want string) Check {
	return Check{field: field, ok: ok, problem: fmt.Sprintf("got %s, want %s", show(got), want)}
}

// Error reports every failed check under the heading what (t.Errorf, one
// line per field) and returns whether all of them held.
func Error(t testing.TB, what string, checks ...Check) bool {
	t.Helper()
	var b strings.Builder
	for _, c := range checks {
		if !c.ok {
			fmt.Fprintf(&b, "\n    %s: %s", c.field, c.problem)
		}
	}
	if b.Len() == 0 {
		return true
	}
	t.Errorf("%s%s", what, b.String())
	return false
}

// Fatal is Error, then t.FailNow if a check failed.
func Fatal(t testing.TB, what string, checks ...Check) {
	t.Helper()
	if !Error(t, what, checks...) {
		t.FailNow()
	}
}

// show renders a value for a failure message: strings quoted (the longest
// cut in the middle), the rest with %+v.
func show(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("%+v", v)
	}
	const most = 2000
	if len(s) > most {
		return fmt.Sprintf("%q … (%d bytes) … %q", s[:most/2], len(s), s[len(s)-most/2:])
	}
	return fmt.Sprintf("%q", s)
}
