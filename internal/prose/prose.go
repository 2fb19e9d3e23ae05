// Package prose builds the small pieces of English that clawgate's
// messages share, so that every list in every message reads the same.
package prose

import "strings"

// And joins "a", "b" and "c" as "a, b and c".
func And(items []string) string { return join(items, "and") }

// Or joins "a", "b" and "c" as "a, b or c".
func Or(items []string) string { return join(items, "or") }

func join(items []string, word string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + word + " " + items[len(items)-1]
}
