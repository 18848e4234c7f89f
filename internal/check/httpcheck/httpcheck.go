// Package httpcheck is the http check family: whether a web service offers HTTPS, sends plain
// HTTP there, and protects its visitors with the response headers browsers act on (HSTS,
// Content-Security-Policy, X-Content-Type-Options, framing protection, Referrer-Policy),
// secure cookies, a CORS policy that does not hand data to any site, no version banners, and
// no scripts, styles or frames over plain HTTP on an HTTPS page.
//
// It observes the way a browser would arrive, and no more: for each address of the host (the
// worst address decides, and each one's evidence is kept) one GET of https://host/ and one of
// http://host/, following redirects by hand while they stay on the site, then one GET of the
// page with a foreign Origin for CORS. That is three to six requests per address, whatever
// the number of checks. Certificates are not verified before talking (certificate trust is the
// TLS family's verdict, and an expired certificate must not hide a missing header), but each
// HTTPS answer records whether its chain would have verified.
//
// Every header is parsed by the grammar browsers use (RFC 6797 for HSTS, CSP3 for
// Content-Security-Policy, RFC 6265bis for Set-Cookie, the Referrer Policy spec, HTML for
// X-Frame-Options, golang.org/x/net/html for the page), not matched by pattern, and each
// parser is exported and fuzzed so that its reading can be checked on its own.
package httpcheck

import (
	"strings"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

// Options tune the family. The zero value is what the Internet uses: ports 80 and 443, pages
// read up to 2 MiB, at most 10 redirects.
type Options struct {
	// HTTPPort and HTTPSPort are the ports fetched for dns: and ip: resources, and for the
	// scheme a url: resource does not name. The lab maps them to unprivileged ports.
	HTTPPort, HTTPSPort int
	MaxBody             int64 // bytes of a page read; more is ignored and noted
	MaxRedirects        int   // redirects followed from each start URL
	// Grading grades the observation; the zero value is Khiên's (GradingFor(check.ProfileKhien)).
	Grading Grading
}

func (o Options) httpPort() int  { return orDefault(o.HTTPPort, 80) }
func (o Options) httpsPort() int { return orDefault(o.HTTPSPort, 443) }
func (o Options) maxBody() int64 {
	if o.MaxBody <= 0 {
		return 2 << 20
	}
	return o.MaxBody
}
func (o Options) maxRedirects() int { return orDefault(o.MaxRedirects, 10) }

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Family returns the http family with the given options.
func Family(opts Options) check.Family[Observation] {
	pol := opts.Grading.orDefault()
	return check.Family[Observation]{
		Name:          "http",
		Applies:       Applies,
		Observe:       observer{opts}.observe,
		ErrorEvidence: map[string]any{"profile": string(pol.Profile)},
		Checks: []check.Check[Observation]{
			{ID: "http.https.missing", Evaluate: pol.httpsMissing},
			{ID: "http.redirect.missing", Evaluate: pol.redirectMissing},
			{ID: "http.hsts.missing", Evaluate: pol.hstsMissing},
			{ID: "http.hsts.short", Evaluate: pol.hstsShort},
			{ID: "http.csp.missing", Evaluate: pol.cspMissing},
			{ID: "http.csp.unsafe", Evaluate: pol.cspUnsafe},
			{ID: "http.xcto.missing", Evaluate: pol.xctoMissing},
			{ID: "http.framing.unprotected", Evaluate: pol.framingUnprotected},
			{ID: "http.referrer.unsafe", Evaluate: pol.referrerUnsafe},
			{ID: "http.cookie.insecure", Evaluate: pol.cookieInsecure},
			{ID: "http.cors.permissive", Evaluate: pol.corsPermissive},
			{ID: "http.version_disclosure", Evaluate: pol.versionDisclosure},
			{ID: "http.mixed_content", Evaluate: pol.mixedContent},
		},
	}
}

// Applies reports whether the family looks at r: web URLs, addresses, and domain names other
// than wildcards and service labels (_dmarc.…), which no browser visits.
func Applies(r inventory.Resource) bool {
	switch r.Kind() {
	case inventory.KindURL, inventory.KindIP:
		return true
	case inventory.KindDNS:
		v := r.Value()
		return !strings.HasPrefix(v, "*.") && !strings.Contains(v, "_")
	}
	return false
}
