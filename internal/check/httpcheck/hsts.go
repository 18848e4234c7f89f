package httpcheck

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// OneYear is the HSTS max-age, in seconds, below which http.hsts.short fails: the value the
// HSTS preload list, pshtt and internet.nl ask for.
const OneYear = 31536000

// HSTS is a parsed Strict-Transport-Security header field (RFC 6797 section 6.1).
type HSTS struct {
	MaxAge            int64 // seconds; math.MaxInt64 when the value is larger than that
	IncludeSubDomains bool
	Preload           bool // not in RFC 6797: the hstspreload.org submission flag
}

// ParseHSTS parses one Strict-Transport-Security field value strictly, as RFC 6797 tells a
// browser to: directives are separated by ";", each name is a token, each value a token or a
// quoted string, no directive may appear twice, and max-age (delta-seconds) is required. An
// error says why a browser would ignore the header. Unknown directives are ignored.
func ParseHSTS(value string) (HSTS, error) {
	var h HSTS
	seen := map[string]bool{}
	haveMaxAge := false
	for _, part := range splitOutsideQuotes(value, ';') {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue // the grammar allows empty directives: "max-age=1;;"
		}
		name, val, hasVal := strings.Cut(part, "=")
		name = strings.TrimRight(name, " \t")
		if !isToken(name) {
			return HSTS{}, fmt.Errorf("directive %q is not a token", truncate(part, 40))
		}
		lname := strings.ToLower(name)
		if seen[lname] {
			return HSTS{}, fmt.Errorf("directive %s appears more than once", lname)
		}
		seen[lname] = true
		if hasVal {
			v, err := directiveValue(strings.TrimLeft(val, " \t"))
			if err != nil {
				return HSTS{}, fmt.Errorf("directive %s: %w", lname, err)
			}
			val = v
		}
		switch lname {
		case "max-age":
			if !hasVal {
				return HSTS{}, errors.New("max-age has no value")
			}
			n, err := deltaSeconds(val)
			if err != nil {
				return HSTS{}, err
			}
			h.MaxAge, haveMaxAge = n, true
		case "includesubdomains":
			if hasVal {
				return HSTS{}, errors.New("includeSubDomains takes no value")
			}
			h.IncludeSubDomains = true
		case "preload":
			h.Preload = true
		}
	}
	if !haveMaxAge {
		return HSTS{}, errors.New("no max-age directive")
	}
	return h, nil
}

// splitOutsideQuotes splits s at each sep that is not inside a quoted string.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++ // the escaped character cannot end the string
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// directiveValue returns a token as it is and a quoted string unquoted.
func directiveValue(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			switch c := v[i]; c {
			case '\\':
				if i+1 == len(v) {
					return "", errors.New("quoted string ends in a backslash")
				}
				i++
				b.WriteByte(v[i])
			case '"':
				if strings.Trim(v[i+1:], " \t") != "" {
					return "", fmt.Errorf("text after the quoted value %q", truncate(v, 40))
				}
				return b.String(), nil
			default:
				if c < 0x20 && c != '\t' || c == 0x7f {
					return "", errors.New("control character in quoted value")
				}
				b.WriteByte(c)
			}
		}
		return "", errors.New("quoted value is not closed")
	}
	v = strings.TrimRight(v, " \t")
	if !isToken(v) {
		return "", fmt.Errorf("value %q is neither a token nor a quoted string", truncate(v, 40))
	}
	return v, nil
}

// deltaSeconds parses 1*DIGIT, saturating at math.MaxInt64 as browsers clamp it.
func deltaSeconds(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("max-age is empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("max-age %q is not a whole number of seconds", truncate(s, 40))
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return math.MaxInt64, nil // only digits, so the error is a range error
	}
	return n, nil
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes for an error message, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
