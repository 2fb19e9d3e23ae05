package tools

import (
	"fmt"
	"path"
	"strings"
)

// ModelPolicy decides which models patch_session_model and ask_subagent may
// select. Patterns use shell globs (path.Match): "anthropic/claude-sonnet-*",
// "*/claude-haiku-*", or an exact "provider/model". An empty policy allows
// every model the gateway allows.
type ModelPolicy []string

// Validate checks that every pattern is a well-formed glob.
func (p ModelPolicy) Validate() error {
	for _, pat := range p {
		if strings.TrimSpace(pat) == "" {
			return fmt.Errorf("--allow-model: empty pattern")
		}
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("--allow-model %q: %w", pat, err)
		}
	}
	return nil
}

// Allows reports whether model matches a pattern. Matching is
// case-insensitive and a pattern without "/" also matches the model part of
// a "provider/model" reference.
func (p ModelPolicy) Allows(model string) bool {
	if len(p) == 0 {
		return true
	}
	m := strings.ToLower(strings.TrimSpace(model))
	_, bare, hasProvider := strings.Cut(m, "/")
	for _, pat := range p {
		pat = strings.ToLower(strings.TrimSpace(pat))
		if ok, _ := path.Match(pat, m); ok {
			return true
		}
		if hasProvider && !strings.Contains(pat, "/") {
			if ok, _ := path.Match(pat, bare); ok {
				return true
			}
		}
	}
	return false
}

// Default is the model ask_subagent uses when the caller names none and the
// policy restricts models: the first pattern, if it names exactly one model.
func (p ModelPolicy) Default() (string, bool) {
	if len(p) == 0 || strings.ContainsAny(p[0], "*?[") {
		return "", false
	}
	return p[0], true
}

func (p ModelPolicy) String() string { return strings.Join(p, ", ") }
