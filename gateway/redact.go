package gateway

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	neturl "net/url"
	"regexp"
	"slices"
	"strings"
)

// redacted replaces a secret or a URL query in gateway-supplied text.
const redacted = "[redacted]"

// minFrameSecret is the shortest secret scrubbed from results (frames):
// a shorter one (a weak password) occurs by chance in ordinary text often
// enough that redacting it would mangle results. It is still scrubbed from
// everything that becomes an error or a log line.
const minFrameSecret = 6

// redactor is the one place where gateway-supplied text is scrubbed of the
// client's secrets before clawgate uses it. A buggy or hostile gateway, or a
// proxy in front of it, may echo the token it was sent; nothing it sends
// may carry the token, the password, a device token or the gateway URL's
// query values on into errors, tool results, doctor output or logs.
//
// It works at two levels:
//
//   - Frame, applied by the read loop (and the handshake) to every text
//     frame before it is decoded, replaces each secret in every JSON string
//     of the frame, keys included: results, events, error replies and
//     hello-ok are scrubbed before anything decodes them.
//   - Text, applied where gateway text becomes an error or a log line
//     (error messages and details, close reasons, the shutdown reason),
//     replaces each secret, and also every URL query, since such text is
//     never a result whose URLs the user asked for.
//
// A secret is searched for in every shape an echo plausibly takes: as is,
// URL-encoded (query and path style, either hex case), base64 (standard and
// URL alphabets), and each of those JSON-escaped the ways common encoders
// escape strings (Go's, JavaScript's, ASCII-only ones, with "\/").
// A nil *redactor changes nothing.
type redactor struct {
	forms   []string // longest first
	frame   [][]byte // forms of the secrets long enough for frames
	secrets int
}

// newRedactor returns a redactor for the non-empty secrets (nil if there
// are none).
func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	seen := map[string]bool{}
	for _, s := range secrets {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		r.secrets++
		for _, f := range secretForms(s) {
			if !seen["\x00"+f] {
				seen["\x00"+f] = true
				r.forms = append(r.forms, f)
				if len(s) >= minFrameSecret {
					r.frame = append(r.frame, []byte(f))
				}
			}
		}
	}
	if r.secrets == 0 {
		return nil
	}
	slices.SortFunc(r.forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	slices.SortFunc(r.frame, func(a, b []byte) int { return cmp.Compare(len(b), len(a)) })
	return r
}

// optionSecrets lists the secrets of o: the token, the password,
// ExtraSecrets, and the values of the URL's query that are long enough to
// be secrets (at least minFrameSecret bytes: "v=1" holds none, and
// redacting every "1" would garble every message).
func optionSecrets(o Options) []string {
	s := append([]string{o.Token, o.Password}, o.ExtraSecrets...)
	if u, err := neturl.Parse(o.URL); err == nil {
		for _, vs := range u.Query() {
			for _, v := range vs {
				if len(v) >= minFrameSecret {
					s = append(s, v)
				}
			}
		}
	}
	return s
}

// secretForms returns the shapes in which s may be echoed.
func secretForms(s string) []string {
	b := []byte(s)
	plain := []string{
		s,
		neturl.QueryEscape(s),
		neturl.PathEscape(s),
		base64.RawStdEncoding.EncodeToString(b), // a prefix of the padded form
		base64.RawURLEncoding.EncodeToString(b),
	}
	for _, p := range plain[1:3] {
		plain = append(plain, lowerPercentHex(p))
	}
	var out []string
	for _, p := range plain {
		out = append(out, p)
		out = append(out, jsonForms(p)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// lowerPercentHex lower-cases the hex digits of %XX escapes.
func lowerPercentHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b.WriteByte('%')
			b.WriteString(strings.ToLower(s[i+1 : i+3]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// jsonForms returns s as it appears inside a JSON string, escaped the ways
// common encoders escape: '"', '\' and control characters always; '<', '>'
// and '&' (Go), '/' (PHP and others) and non-ASCII characters (ASCII-only
// encoders, in lower- or upper-case hex) optionally.
func jsonForms(s string) []string {
	var out []string
	for variant := range 16 {
		html, slash, ascii, upper := variant&1 != 0, variant&2 != 0, variant&4 != 0, variant&8 != 0
		var b strings.Builder
		hex := func(r rune) {
			if upper {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
		for _, r := range s {
			switch {
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x20:
				hex(r)
			case html && (r == '<' || r == '>' || r == '&'):
				hex(r)
			case slash && r == '/':
				b.WriteString(`\/`)
			case ascii && r > 0x7e:
				if r > 0xffff {
					hi, lo := surrogates(r)
					hex(hi)
					hex(lo)
				} else {
					hex(r)
				}
			case (html || ascii) && (r == '\u2028' || r == '\u2029'):
				hex(r)
			default:
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// surrogates splits a rune beyond the BMP into its UTF-16 surrogate pair.
func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// urlQuery matches a URL's query (and fragment) in text: after an
// absolute URL, everything from its '?' or '#'; in a relative one, a '?'
// followed by key=value.
var urlQuery = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>?#]*)[?#][^\s"'<>]*|\?[^\s"'<>?#=&]+=[^\s"'<>]*`)

// Text scrubs gateway-supplied text that is about to become part of an
// error or a log line: every secret and every URL query is replaced.
func (r *redactor) Text(s string) string {
	s = r.secretsOut(s)
	if strings.ContainsAny(s, "?#") {
		s = urlQuery.ReplaceAllStringFunc(s, func(m string) string {
			if i := strings.Index(m, "://"); i >= 0 {
				if j := strings.IndexAny(m[i:], "?#"); j >= 0 {
					return m[:i+j] + "?" + redacted
				}
			}
			return "?" + redacted
		})
	}
	return s
}

// secretsOut replaces every secret in s.
func (r *redactor) secretsOut(s string) string {
	if r == nil {
		return s
	}
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, redacted)
		}
	}
	return s
}

// Frame returns the text frame data with every secret replaced in its JSON
// strings. A frame holding no secret (the rule) is returned as is, after
// one search per secret shape; one that does is decoded and encoded again,
// so that the replacement cannot break the frame's structure (or hide in
// it: a secret matching a key or a number is no leak, and stays). A frame
// that is not JSON gets the secrets replaced in its bytes: it is dropped as
// malformed anyway, and only its decode error may be shown.
func (r *redactor) Frame(data []byte) []byte {
	if r == nil || !r.inFrame(data) {
		return data
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return r.frameBytes(data)
	}
	var out bytes.Buffer
	e := json.NewEncoder(&out)
	e.SetEscapeHTML(false)
	if err := e.Encode(r.walk(v, r.frameSecretsOut)); err != nil {
		return r.frameBytes(data)
	}
	res := bytes.TrimSuffix(out.Bytes(), []byte("\n"))
	if r.inFrame(res) {
		// A short escape can spell a secret that no decoded string holds:
		// "\f" + "uzz-token" is "fuzz-token" in the bytes. Spell control
		// characters as \u00XX instead. (What still shows then is a key or
		// a number equal to a secret, which is no leak, as above.)
		res = longEscapes(res)
	}
	return res
}

// longEscapes rewrites the short escapes \b \f \n \r \t of encoded JSON
// as \u0008 \u000c \u000a \u000d \u0009. In encoded JSON a backslash only
// starts an escape, so a backslash and the byte after it are one unit.
func longEscapes(b []byte) []byte {
	long := map[byte]string{'b': `\u0008`, 'f': `\u000c`, 'n': `\u000a`, 'r': `\u000d`, 't': `\u0009`}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		if l, ok := long[b[i+1]]; ok {
			out = append(out, l...)
		} else {
			out = append(out, b[i], b[i+1])
		}
		i++
	}
	return out
}

// inFrame reports whether a shape of a frame-length secret occurs in data.
func (r *redactor) inFrame(data []byte) bool {
	for _, f := range r.frame {
		if bytes.Contains(data, f) {
			return true
		}
	}
	return false
}

// frameSecretsOut replaces the frame-length secrets in a decoded string.
func (r *redactor) frameSecretsOut(s string) string {
	for _, f := range r.frame {
		if strings.Contains(s, string(f)) {
			s = strings.ReplaceAll(s, string(f), redacted)
		}
	}
	return s
}

// frameBytes replaces the frame-length secrets in raw bytes.
func (r *redactor) frameBytes(data []byte) []byte {
	for _, f := range r.frame {
		data = bytes.ReplaceAll(data, f, []byte(redacted))
	}
	return data
}

// JSON scrubs a JSON value of gateway text bound for an error (error
// details) with Text, string by string; a value that does not decode is
// scrubbed as text.
func (r *redactor) JSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return json.RawMessage(r.Text(string(raw)))
	}
	var out bytes.Buffer
	e := json.NewEncoder(&out)
	e.SetEscapeHTML(false)
	if err := e.Encode(r.walk(v, r.Text)); err != nil {
		return json.RawMessage(r.Text(string(raw)))
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

// walk applies scrub to every string of a decoded JSON value, object keys
// included.
func (r *redactor) walk(v any, scrub func(string) string) any {
	switch x := v.(type) {
	case string:
		return scrub(x)
	case []any:
		for i, e := range x {
			x[i] = r.walk(e, scrub)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[scrub(k)] = r.walk(e, scrub)
		}
		return out
	}
	return v
}
