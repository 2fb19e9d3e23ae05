package config

import (
	"reflect"
	"testing"
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
		{"comments and blanks", "# c\n\n  # indented\nA=1 # trailing\nB=x#not-a-comment", map[string]string{"A": "1", "B": "x#not-a-comment"}, nil},
		{"double quotes", `A="a b # c"` + "\n" + `B="line\nnext \"q\" \\ \x"`, map[string]string{"A": "a b # c", "B": "line\nnext \"q\" \\ \\x"}, nil},
		{"single quotes are literal", `A='a\nb "x"' # c`, map[string]string{"A": `a\nb "x"`}, nil},
		{"backquotes", "A=`it's`", map[string]string{"A": "it's"}, nil},
		{"multi-line quoted", "A=\"one\ntwo\"\nB=3", map[string]string{"A": "one\ntwo", "B": "3"}, nil},
		{"empty value", "A=\nB=''", map[string]string{"A": "", "B": ""}, nil},
		{"CRLF and BOM", "\ufeffA=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}, nil},
		{"later wins", "A=1\nA=2", map[string]string{"A": "2"}, nil},
		{"export as a key", "export=1", map[string]string{"export": "1"}, nil},
		{"malformed lines are reported by number", "A=1\nnot a pair\n1BAD=x\nC=\"unclosed", map[string]string{"A": "1"}, []int{2, 3, 4}},
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
