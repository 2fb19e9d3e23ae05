package config

import "os"

// Env abstracts the process environment so that discovery can be tested
// hermetically.
type Env interface {
	// Lookup returns the value of key and whether it is set.
	Lookup(key string) (string, bool)
}

// OSEnv is the real process environment.
type OSEnv struct{}

// Lookup implements Env with os.LookupEnv.
func (OSEnv) Lookup(key string) (string, bool) { return os.LookupEnv(key) }

// MapEnv is an Env backed by a map, for tests. A nil MapEnv is empty.
type MapEnv map[string]string

// Lookup implements Env.
func (m MapEnv) Lookup(key string) (string, bool) {
	v, ok := m[key]
	return v, ok
}
