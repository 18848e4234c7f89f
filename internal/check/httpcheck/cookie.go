package httpcheck

import (
	"errors"
	"strings"
)

// Cookie is what a Set-Cookie header field tells a browser about one cookie, without its
// value: Khiên never keeps cookie values.
type Cookie struct {
	Name        string
	Secure      bool
	HttpOnly    bool
	Partitioned bool
	// SameSite is "Strict", "Lax" or "None" as the browser enforces it, or "" when the
	// attribute is absent or its value is not one of those (browsers then apply their default).
	SameSite string
	// SameSiteRaw is the attribute's value as written when it is present but not valid.
	SameSiteRaw string
	Domain      string
	Path        string
	Persistent  bool // has Expires or Max-Age, so it outlives the browser session
}

// ParseSetCookie parses one Set-Cookie field value the way RFC 6265bis section 5.6 tells a
// browser to (which is more lenient than net/http's ParseSetCookie, which refuses names a
// browser would store and forgets an invalid SameSite value). The attribute names are
// case-insensitive and the last occurrence of an attribute wins. It fails only where a browser
// would ignore the whole field: control characters, or an empty name and value.
func ParseSetCookie(line string) (Cookie, error) {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return Cookie{}, errors.New("control character in Set-Cookie")
		}
	}
	pair, attrs, _ := strings.Cut(line, ";")
	name, value, hasEq := strings.Cut(pair, "=")
	if !hasEq {
		name, value = "", name // RFC 6265bis: a nameless cookie
	}
	name, value = strings.Trim(name, " \t"), strings.Trim(value, " \t")
	if name == "" && value == "" {
		return Cookie{}, errors.New("Set-Cookie has neither a name nor a value")
	}
	c := Cookie{Name: name}
	for _, a := range strings.Split(attrs, ";") {
		an, av, _ := strings.Cut(a, "=")
		an, av = strings.Trim(an, " \t"), strings.Trim(av, " \t")
		switch strings.ToLower(an) {
		case "secure":
			c.Secure = true
		case "httponly":
			c.HttpOnly = true
		case "partitioned":
			c.Partitioned = true
		case "samesite":
			c.SameSite, c.SameSiteRaw = "", ""
			switch strings.ToLower(av) {
			case "strict":
				c.SameSite = "Strict"
			case "lax":
				c.SameSite = "Lax"
			case "none":
				c.SameSite = "None"
			default:
				c.SameSiteRaw = truncate(av, 64)
				if c.SameSiteRaw == "" {
					c.SameSiteRaw = `""`
				}
			}
		case "domain":
			c.Domain = truncate(strings.TrimPrefix(strings.ToLower(av), "."), 255)
		case "path":
			if strings.HasPrefix(av, "/") {
				c.Path = truncate(av, 255)
			}
		case "expires", "max-age":
			c.Persistent = c.Persistent || av != ""
		}
	}
	return c, nil
}

// sessionLike reports whether a cookie's name suggests it carries a login session or an
// authentication token, the cookies whose theft is an account takeover. MDN HTTP Observatory
// looks for "sess" and "login"; common frameworks add sid, auth and token names.
func sessionLike(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"sess", "login", "auth", "token", "jwt"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	// "sid" as a word: connect.sid, sid, __Host-sid; not "inside" or "side".
	for i := strings.Index(n, "sid"); i >= 0; {
		before := i == 0 || !isLetter(n[i-1])
		after := i+3 == len(n) || !isLetter(n[i+3])
		if before && after {
			return true
		}
		j := strings.Index(n[i+1:], "sid")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// csrfLike reports whether a cookie's name suggests an anti-CSRF token, which only protects
// if the browser does not send it on cross-site requests.
func csrfLike(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "csrf") || strings.Contains(n, "xsrf")
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
