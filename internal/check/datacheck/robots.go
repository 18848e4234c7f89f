package datacheck

import (
	"bufio"
	"bytes"
	"strings"
)

// robots is the part of a robots.txt (RFC 9309) that applies to one user agent: its allow
// and disallow rules. The zero value allows everything.
type robots struct {
	rules    []robotsRule
	disallow bool // everything is disallowed (the server failed to answer, RFC 9309 §2.3.1.4)
}

type robotsRule struct {
	allow   bool
	pattern string
}

// agentToken returns the product token robots.txt groups name: "Khien" for
// "Khien/1.0 (+https://…)".
func agentToken(userAgent string) string {
	tok, _, _ := strings.Cut(strings.TrimSpace(userAgent), "/")
	tok, _, _ = strings.Cut(tok, " ")
	return strings.ToLower(tok)
}

// parseRobots reads the groups of a robots.txt and keeps the rules of the groups naming
// agent (a product token), or else those of the groups for "*".
func parseRobots(body []byte, agent string) robots {
	agent = strings.ToLower(agent)
	var (
		mine, star []robotsRule
		hasMine    bool
		// The user agents of the group being read, and whether rules have started (a
		// user-agent line after rules starts a new group).
		groupMine, groupStar, inRules bool
	)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		switch key {
		case "user-agent":
			if inRules {
				groupMine, groupStar, inRules = false, false, false
			}
			ua := strings.ToLower(value)
			switch {
			case ua == "*":
				groupStar = true
			case ua != "" && ua == agent:
				groupMine, hasMine = true, true
			}
		case "allow", "disallow":
			inRules = true
			if value == "" {
				continue // "Disallow:" with no path allows everything
			}
			r := robotsRule{allow: key == "allow", pattern: escapeNonASCII(value)}
			if groupMine {
				mine = append(mine, r)
			}
			if groupStar {
				star = append(star, r)
			}
		default:
			// Sitemap, Crawl-delay and the like end no group.
		}
	}
	if hasMine {
		return robots{rules: mine}
	}
	return robots{rules: star}
}

// allowed reports whether path (with its query) may be fetched: the longest matching rule
// decides, and Allow wins a tie.
func (r robots) allowed(path string) bool {
	if r.disallow {
		return false
	}
	if path == "/robots.txt" {
		return true
	}
	best, allow := -1, true
	for _, rule := range r.rules {
		if !robotsMatch(rule.pattern, path) {
			continue
		}
		n := len(rule.pattern)
		if n > best || n == best && rule.allow {
			best, allow = n, rule.allow
		}
	}
	return allow
}

// robotsMatch matches path against a robots.txt pattern: a prefix, where '*' stands for any
// characters and a final '$' anchors the end.
func robotsMatch(pattern, path string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	if anchored {
		pattern = pattern[:len(pattern)-1]
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(path, parts[0]) {
		return false
	}
	pos := len(parts[0])
	for i, p := range parts[1:] {
		if anchored && i == len(parts)-2 { // the last part must end the path
			return strings.HasSuffix(path[pos:], p)
		}
		j := strings.Index(path[pos:], p)
		if j < 0 {
			return false
		}
		pos += j + len(p)
	}
	return !anchored || pos == len(path)
}

// escapeNonASCII percent-encodes the bytes of a pattern that a request URI would carry
// encoded, so "/tin-tức/" in robots.txt matches the path /tin-t%E1%BB%A9c/ (RFC 9309 §2.2.2).
func escapeNonASCII(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < 0x80 && c != ' ' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
