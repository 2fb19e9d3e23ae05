// Package suggest finds the name a user probably meant ("did you mean
// ...?") for clawgate's error messages: flags, commands, tools, arguments
// and session keys.
package suggest

import "strings"

// Closest returns the candidate name is most likely a misspelling of, or ""
// when none is close: the same name in another case or with other word
// separators ("listSessions"), a small edit distance ("limt"), a name that
// contains the candidate ("mcp__clawgate__list_sessions"), or a good part
// (at least 40 %) of the candidate ("sessions", "timeout").
func Closest(name string, candidates []string) string {
	n := normalizeName(name)
	if n == "" {
		return ""
	}
	best, bestScore := "", -1
	for _, c := range candidates {
		cn := normalizeName(c)
		score := -1
		switch d := Distance(n, cn); {
		case d == 0:
			score = 0
		case d <= maxEdits(len(cn)):
			score = d
		case len(n) >= 4 && strings.Contains(n, cn),
			len(n) >= 4 && strings.Contains(cn, n) && 5*len(n) >= 2*len(cn):
			// A prefixed name ("mcp__clawgate__list_sessions"), or a
			// good part of one ("sessions", "timeout").
			score = 10 + abs(len(cn)-len(n))
		}
		if score >= 0 && (bestScore < 0 || score < bestScore) {
			best, bestScore = c, score
		}
	}
	return best
}

// maxEdits is how many edits still count as a misspelling of a name of n
// letters.
func maxEdits(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	}
	return 3
}

// normalizeName lower-cases s and drops word separators.
func normalizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case '_', '-', ' ', '.':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Distance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and transpositions of adjacent
// letters), on runes. Long inputs are not compared.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
