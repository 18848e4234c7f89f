package httpcheck

import (
	"slices"

	"github.com/khien-vn/khien/internal/check"
)

// SixMonths is the HSTS max-age, in seconds, the MDN HTTP Observatory and testssl.sh accept:
// 180 days ("a lot of sites use 15552000, so a white lie", in the Observatory's own source).
const SixMonths = 15552000

// Grading is what the http family grades an observation by: the thresholds and judgement
// choices in which Khiên and its peers differ. Observation is the same under every profile, so
// a verdict can be re-graded under a peer's choices to tell a difference of policy from one
// of observation. The zero value is Khiên's grading.
type Grading struct {
	Profile check.Profile // named in every result's evidence
	// HSTSMinMaxAge is the max-age, in seconds, below which http.hsts.short fails, and
	// HSTSMinText names it in the verdict.
	HSTSMinMaxAge int64
	HSTSMinText   check.Text
	// CertGatesHSTS ignores HSTS received over an HTTPS answer whose certificate does not
	// verify (RFC 6797 section 8.1, and the Observatory's hsts-invalid-cert). Khiên judges the
	// header anyway: an expired certificate must not hide a missing header, and the TLS family
	// fails the certificate.
	CertGatesHSTS bool
	// CertGatesRedirect fails the HTTP-to-HTTPS redirect when an HTTPS answer of the chain has
	// a certificate that does not verify (the Observatory's redirection-invalid-cert).
	CertGatesRedirect bool
	// ReferrerOptional passes a page without a Referrer-Policy (browsers default to
	// strict-origin-when-cross-origin), as the Observatory does. Khiên asks for an explicit
	// policy, since older browsers send full URLs.
	ReferrerOptional bool
	// ReferrerUnsafe are the policies http.referrer.unsafe fails. Khiên fails those that send
	// the full URL to other sites; the Observatory also fails origin and
	// origin-when-cross-origin, which send the origin over plain HTTP.
	ReferrerUnsafe []string
	// CORSUniversalOnly fails only a server that echoes the probe's Origin together with
	// Access-Control-Allow-Credentials: true (the Observatory's "universal access"). Khiên
	// also fails an echo without credentials, and * or null with credentials.
	CORSUniversalOnly bool
}

// GradingFor returns the http family's grading for a profile. testssl.sh's header checks (-h)
// differ from Khiên's only in the HSTS lifetime it accepts (HSTS_MIN, 180 days).
func GradingFor(p check.Profile) Grading {
	pol := Grading{
		Profile:        check.ProfileKhien,
		HSTSMinMaxAge:  OneYear,
		HSTSMinText:    check.Text{VI: "một năm", EN: "one year"},
		ReferrerUnsafe: []string{"unsafe-url", "no-referrer-when-downgrade"},
	}
	switch p {
	case check.ProfileTestssl:
		pol.Profile = p
		pol.HSTSMinMaxAge, pol.HSTSMinText = SixMonths, check.Text{VI: "180 ngày", EN: "180 days"}
	case check.ProfileObservatory:
		pol.Profile = p
		pol.HSTSMinMaxAge, pol.HSTSMinText = SixMonths, check.Text{VI: "sáu tháng", EN: "six months"}
		pol.CertGatesHSTS, pol.CertGatesRedirect = true, true
		pol.ReferrerOptional = true
		pol.ReferrerUnsafe = []string{"unsafe-url", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin"}
		pol.CORSUniversalOnly = true
	}
	return pol
}

// orDefault returns Khiên's grading for the zero value.
func (p Grading) orDefault() Grading {
	if p.Profile == "" {
		return GradingFor(check.ProfileKhien)
	}
	return p
}

func (p Grading) unsafeReferrer(policy string) bool { return slices.Contains(p.ReferrerUnsafe, policy) }
