package web

import "net/http"

// contentSecurityPolicy allows the pages their own stylesheet and nothing else: no script at
// all, no inline style, no framing, forms only to this site. The API's JSON needs less still.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setSecurityHeaders sets the headers Khiên's own http.* checks ask of every site: HSTS (a
// browser ignores it over plain HTTP), a strict CSP, no framing, no referrer beyond the
// origin. Go's server sends no Server header and none is added.
func setSecurityHeaders(h http.Header) {
	h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}
