package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
		bad  []int
	}{
		{"plain", "A=1\nB = two \n", map[string]string{"A": "1", "B": "two"}, nil},
		{"export", "export A=1\nexport\tB=2", map[string]string{"A": "1", "B": "2"}, nil},
		{"comments and blanks; an unquoted value ends at #", "# c\n\n  # indented\nA=1 # trailing\nB=x#y", map[string]string{"A": "1", "B": "x"}, nil},
		{"double quotes expand only \\n and \\r", `A="a b # c"` + "\n" + `B="l\nn \"q\" \\ \x"`, map[string]string{"A": "a b # c", "B": "l\nn \\\"q\\\" \\\\ \\x"}, nil},
		{"single quotes are literal", `A='a\nb "x"' # c`, map[string]string{"A": `a\nb "x"`}, nil},
		{"backquotes", "A=`it's`", map[string]string{"A": "it's"}, nil},
		{"multi-line quoted", "A=\"one\ntwo\"\nB=3", map[string]string{"A": "one\ntwo", "B": "3"}, nil},
		{"empty value", "A=\nB=''", map[string]string{"A": "", "B": ""}, nil},
		{"CRLF, CR and BOM", "\ufeffA=1\r\nB=2\rC=3\r\n", map[string]string{"A": "1", "B": "2", "C": "3"}, nil},
		{"later wins", "A=1\nA=2", map[string]string{"A": "2"}, nil},
		{"export as a key", "export=1", map[string]string{"export": "1"}, nil},
		{
			"an unterminated quote is a one-line literal; later lines are kept",
			"A='x\nB=2\nC=\"y # z\nD=4", map[string]string{"A": "'x", "B": "2", "C": `"y`, "D": "4"}, nil,
		},
		{
			"malformed lines and names OpenClaw drops are reported by number",
			"A=1\nnot a pair\n1BAD=x\nA.B=1\nC=\"unclosed\n  \n# fine\n", map[string]string{"A": "1", "C": `"unclosed`}, []int{2, 3, 4},
		},
		{"a multi-line value covers its lines", "A='x\\'\ny\\'\nz'\nbad\n", map[string]string{"A": "x\\'\ny\\'\nz"}, []int{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := parseDotenv(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("vars = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(bad, tt.bad) {
				t.Errorf("bad lines = %v, want %v", bad, tt.bad)
			}
		})
	}
}

// TestParseDotenvMatchesDotenv compares parseDotenv with what OpenClaw
// 2026.9.6 reads from the same text: dotenv 17.4.2's parse(), then only
// portable names (testdata/dotenv/gen.mjs recorded cases.json from the real
// package; issue 10, item 7).
func TestParseDotenvMatchesDotenv(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "dotenv", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Dotenv string
		Cases  []struct {
			In   string
			Want map[string]string
		}
	}
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if golden.Dotenv != "17.4.2" || len(golden.Cases) < 40 {
		t.Fatalf("cases.json: dotenv %q, %d cases", golden.Dotenv, len(golden.Cases))
	}
	for i, c := range golden.Cases {
		got, _ := parseDotenv(c.In)
		if !reflect.DeepEqual(got, c.Want) {
			t.Errorf("case %d %q:\n got  %q\n want %q (dotenv %s)", i, c.In, got, c.Want, golden.Dotenv)
		}
	}
}

// TestParseDotenvLinear: parsing takes time linear in the input (80,000
// lines after an unterminated quote took 26 s). For each shape, the time for
// 4N lines must stay well below the 16 times of N lines that quadratic
// scanning gives: linear gives 4 (measured up to 6.5 here, with allocation
// and GC growing with the input), and the bound is 10. The time is the CPU
// time of the parsing thread (on Linux), the least of five runs, so that
// other processes on the machine do not count; N doubles from 1,000 lines
// until one parse takes 10 ms, so that the measurement is not noise on a
// fast machine (issue 10, item 7).
func TestParseDotenvLinear(t *testing.T) {
	shapes := map[string]func(n int) string{
		"unterminated double quote": func(n int) string { return "A=\"x\n" + strings.Repeat("B=1\n", n) },
		"unterminated single quote, escaped quotes": func(n int) string {
			return "A='x\n" + strings.Repeat("B=\\'y\\'\n", n)
		},
		"every line unterminated": func(n int) string { return strings.Repeat("A=\"x\n", n) },
		"blank lines between garbage": func(n int) string {
			return strings.Repeat("  \n\n garbage line\n", n)
		},
		"key then blank lines": func(n int) string { return "KEY" + strings.Repeat("\n   ", n) + "\nX" },
		"comment after many blank lines": func(n int) string {
			return "A=" + strings.Repeat("\n", n) + "# c\n"
		},
	}
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			timeOf := func(n int) time.Duration {
				in := shape(n)
				best := time.Duration(1<<63 - 1)
				for range 5 {
					runtime.GC()
					best = min(best, cpuTimeOf(t, func() { parseDotenv(in) }))
				}
				return best
			}
			n := 1000
			for timeOf(n) < 10*time.Millisecond && n < 1<<21 {
				n *= 2
			}
			t1, t4 := timeOf(n), timeOf(4*n)
			t.Logf("%d lines: %v; %d lines: %v", n, t1, 4*n, t4)
			if t4 > 10*t1 {
				t.Errorf("%d lines took %v, %d lines %v: %.1f times, not linear", n, t1, 4*n, t4, float64(t4)/float64(t1))
			}
		})
	}
}
