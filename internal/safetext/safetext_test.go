package safetext

import "testing"

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, line, text string }{
		{"plain", "plain", "plain"},
		{"a\nb\tc", `a\u000ab\u0009c`, "a\nb\tc"},
		{"nul\x00", `nul\u0000`, `nul\u0000`},
		{"\x1b[31mred\x1b[0m", `\u001b[31mred\u001b[0m`, `\u001b[31mred\u001b[0m`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`, `evil\u202egnp.exe`},
		{"del\x7f c1\u0085", `del\u007f c1\u0085`, `del\u007f c1\u0085`},
		{"bad\xffutf8", "bad\uFFFDutf8", "bad\uFFFDutf8"},
		{"real \uFFFD kept", "real \uFFFD kept", "real \uFFFD kept"},
		{"émoji 🙂 ok", "émoji 🙂 ok", "émoji 🙂 ok"},
	} {
		if got := Line(tc.in); got != tc.line {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}
