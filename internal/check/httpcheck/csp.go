package httpcheck

import (
	"slices"
	"strings"
)

// Policy is one parsed Content Security Policy: its directives in the order they appear.
type Policy struct {
	Directives []Directive
	// Duplicates names directives that appeared again and were ignored, as CSP3 tells
	// browsers to do (the first occurrence wins).
	Duplicates []string
}

// Directive is one CSP directive and its source list (or other value tokens), as written.
type Directive struct {
	Name    string   // lower case
	Sources []string // as written; keywords are compared case-insensitively
}

// ParseCSP parses one Content-Security-Policy header field value into its policies, following
// CSP3 section 2.2: a comma separates policies, a semicolon directives, ASCII whitespace the
// name and the values. A policy with no directive is dropped.
func ParseCSP(value string) []Policy {
	var out []Policy
	for _, serialized := range strings.Split(value, ",") {
		if p := ParsePolicy(serialized); len(p.Directives) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// ParsePolicy parses one serialized policy ("script-src 'self'; object-src 'none'") as CSP3's
// "parse a serialized CSP" does: tokens that are empty or not ASCII are skipped, names are
// lower-cased, and a repeated directive is ignored (and noted in Duplicates).
func ParsePolicy(serialized string) Policy {
	var p Policy
	for _, token := range strings.Split(serialized, ";") {
		token = strings.Trim(token, asciiSpace)
		if token == "" || !isASCII(token) {
			continue
		}
		fields := strings.FieldsFunc(token, isASCIISpace)
		name := strings.ToLower(fields[0])
		if p.Has(name) {
			if !slices.Contains(p.Duplicates, name) {
				p.Duplicates = append(p.Duplicates, name)
			}
			continue
		}
		p.Directives = append(p.Directives, Directive{Name: name, Sources: fields[1:]})
	}
	return p
}

// Get returns the value of the named directive and whether the policy has it.
func (p Policy) Get(name string) ([]string, bool) {
	for _, d := range p.Directives {
		if d.Name == name {
			return d.Sources, true
		}
	}
	return nil, false
}

// Has reports whether the policy has the named directive.
func (p Policy) Has(name string) bool {
	_, ok := p.Get(name)
	return ok
}

// String serializes p canonically: lower-case names, single spaces, "; " between directives.
func (p Policy) String() string {
	parts := make([]string, len(p.Directives))
	for i, d := range p.Directives {
		parts[i] = strings.Join(append([]string{d.Name}, d.Sources...), " ")
	}
	return strings.Join(parts, "; ")
}

// withoutMetaOnly drops the directives a <meta http-equiv> policy may not carry (HTML
// "Content security policy state").
func (p Policy) withoutMetaOnly() Policy {
	out := Policy{Duplicates: p.Duplicates}
	for _, d := range p.Directives {
		switch d.Name {
		case "frame-ancestors", "report-uri", "sandbox":
			continue
		}
		out.Directives = append(out.Directives, d)
	}
	return out
}

// fallback returns the first of the named directives the policy has (CSP3 "directive fallback
// list").
func (p Policy) fallback(names ...string) ([]string, bool) {
	for _, n := range names {
		if v, ok := p.Get(n); ok {
			return v, true
		}
	}
	return nil, false
}

// The script risks csp.unsafe reports. Each names what an attacker who can inject markup gains.
const (
	riskUnsafeInline = "unsafe-inline"   // inline <script> or event handlers run
	riskUnsafeEval   = "unsafe-eval"     // eval() and new Function() run
	riskAnySource    = "wildcard-source" // scripts load from any host (*, https:, http:)
	riskDataSource   = "data-source"     // scripts load from data: URLs: inline script by another name
	riskHTTPSource   = "http-source"     // scripts load over plain HTTP, so a network attacker controls them
	riskNoScriptRule = "no-script-rule"  // neither script-src nor default-src: scripts are unrestricted
)

// scriptRisks lists what p still lets scripts do, reading the directives a browser consults:
// script-src-elem for <script> elements, script-src-attr for event handlers, script-src for
// eval, each falling back to script-src then default-src. Per CSP3, 'unsafe-inline' is ignored
// when the list also has a nonce, a hash or 'strict-dynamic', and 'strict-dynamic' makes host
// and scheme sources (and 'self') ignored.
func scriptRisks(p Policy) []string {
	elem, hasElem := p.fallback("script-src-elem", "script-src", "default-src")
	attr, hasAttr := p.fallback("script-src-attr", "script-src", "default-src")
	base, hasBase := p.fallback("script-src", "default-src")
	var risks []string
	add := func(r string) {
		if !slices.Contains(risks, r) {
			risks = append(risks, r)
		}
	}
	if !hasElem && !hasBase {
		add(riskNoScriptRule)
	}
	if !hasElem { // <script src> and inline <script> are unrestricted
		add(riskUnsafeInline)
		add(riskAnySource)
	}
	if !hasAttr || allowsInline(attr) || hasElem && allowsInline(elem) {
		add(riskUnsafeInline)
	}
	if !hasBase || hasKeyword(base, "'unsafe-eval'") {
		add(riskUnsafeEval)
	}
	if hasElem && !hasKeyword(elem, "'strict-dynamic'") {
		for _, s := range elem {
			switch ls := strings.ToLower(s); {
			case ls == "*" || ls == "https:" || ls == "https://*" || ls == "*://*":
				add(riskAnySource)
			case ls == "http:" || ls == "http://*":
				add(riskAnySource)
				add(riskHTTPSource)
			case ls == "data:":
				add(riskDataSource)
			case strings.HasPrefix(ls, "http://"):
				add(riskHTTPSource)
			}
		}
	}
	slices.Sort(risks)
	return risks
}

// allowsInline implements CSP3 "Does a source list allow all inline behavior for type".
func allowsInline(list []string) bool {
	if !hasKeyword(list, "'unsafe-inline'") || hasKeyword(list, "'strict-dynamic'") {
		return false
	}
	for _, s := range list {
		ls := strings.ToLower(s)
		if strings.HasPrefix(ls, "'nonce-") || strings.HasPrefix(ls, "'sha256-") ||
			strings.HasPrefix(ls, "'sha384-") || strings.HasPrefix(ls, "'sha512-") {
			return false
		}
	}
	return true
}

// broadAncestor reports whether a frame-ancestors source lets any site frame the page.
func broadAncestor(s string) bool {
	switch strings.ToLower(s) {
	case "*", "https:", "http:", "https://*", "http://*", "*://*":
		return true
	}
	return false
}

func hasKeyword(list []string, kw string) bool {
	for _, s := range list {
		if strings.EqualFold(s, kw) {
			return true
		}
	}
	return false
}

const asciiSpace = "\t\n\f\r "

func isASCIISpace(r rune) bool { return strings.ContainsRune(asciiSpace, r) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
