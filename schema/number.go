package schema

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
)

// Int is an integer the gateway sends. It decodes any JSON number, so that
// one absurd value (1e30 tokens, a fraction, a timestamp past int64) cannot
// make a whole result undecodable: values beyond int64 are clamped to its
// range and fractions are truncated toward zero. null decodes as 0; any
// other JSON type is an error. What range makes sense is for the user of the
// value to check (see Count and Millis).
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = 0
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return fmt.Errorf("schema.Int: %.40q is not a number", b)
	}
	f, _, err := big.ParseFloat(string(b), 10, 128, big.ToZero)
	if err != nil {
		return fmt.Errorf("schema.Int: %.40q is not a number: %w", b, err)
	}
	switch {
	case f.Cmp(big.NewFloat(math.MaxInt64)) >= 0:
		*n = math.MaxInt64
	case f.Cmp(big.NewFloat(math.MinInt64)) <= 0:
		*n = math.MinInt64
	default:
		i, _ := f.Int64() // truncates toward zero
		*n = Int(i)
	}
	return nil
}

// MaxSafeInt is the largest integer a JSON number carries exactly in every
// client (2^53 - 1, JavaScript's Number.MAX_SAFE_INTEGER).
const MaxSafeInt = 1<<53 - 1

// Count is n as a count of tokens or sessions for a result: negative values
// are 0 and values past MaxSafeInt are MaxSafeInt, so a result never shows a
// count a client would round or a negative one.
func (n Int) Count() int64 {
	switch {
	case n < 0:
		return 0
	case n > MaxSafeInt:
		return MaxSafeInt
	}
	return int64(n)
}

// Millis is n as a Unix time in milliseconds, and false when it lies
// outside 2000-01-01 .. 2200-01-01, which no session can have been updated
// in: such a time is left out of results rather than shown as year
// 292278994.
func (n Int) Millis() (int64, bool) {
	const (
		y2000 = 946684800000
		y2200 = 7258118400000
	)
	return int64(n), n >= y2000 && n < y2200
}
