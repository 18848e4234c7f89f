package tlscheck

import (
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// Grading is what the tls family grades an observation by: the thresholds and judgement
// choices in which Khiên and its peers differ. The observation is the same under every
// profile (every verification a profile may ask for is made while observing), so a verdict can
// be re-graded under a peer's choices to tell a difference of policy from one of observation.
type Grading struct {
	Profile check.Profile // named in every result's evidence
	// ExpiringWithin is how close to its end a certificate must be renewed.
	ExpiringWithin time.Duration
	// HalveForLetsEncrypt halves ExpiringWithin for certificates issued by Let's Encrypt,
	// which renews at 30 days of 90 (testssl.sh does so).
	HalveForLetsEncrypt bool
	// LeafOnly judges the dates and the signature of the leaf alone, not of the intermediates
	// the server sends (testssl.sh looks at the host certificate only).
	LeafOnly bool
	// MinRSABits and MinECBits are the smallest acceptable keys (RSA and DSA; ECDSA).
	// MaxRSABits, when not zero, is the largest: testssl.sh flags odd keys above 4096 bits.
	MinRSABits, MaxRSABits, MinECBits int
	// TrustAtScanTime verifies the chain at the moment of the scan, so that an expired
	// certificate also breaks the chain of trust (OpenSSL's verify). Khiên verifies at a time
	// inside the validity of every certificate, so that an expiry is reported once, by
	// tls.cert.expired.
	TrustAtScanTime bool
	// AcceptSHA1 accepts SHA-1 signatures in the chain of trust, as OpenSSL 3.0 does at its
	// default security level. Khiên verifies as browsers do, which refuse them since 2017;
	// either way tls.cert.weak_signature fails them.
	AcceptSHA1 bool
}

// GradingFor returns the tls family's grading for a profile. The Observatory grades no TLS, so
// its profile grades TLS as Khiên does.
func GradingFor(p check.Profile) Grading {
	pol := Grading{
		Profile:        check.ProfileKhien,
		ExpiringWithin: 30 * 24 * time.Hour,
		MinRSABits:     2048,
		MinECBits:      256,
	}
	switch p {
	case check.ProfileTestssl:
		// testssl.sh 3.0 run_server_defaults: expiry warnings at 60 days (DAYS2WARN1), RSA
		// keys of 1024 bits or fewer and EC keys of 163 bits or fewer rated MEDIUM or worse,
		// above 4096 bits WARN; chain of trust from `openssl verify` at the current time.
		return Grading{
			Profile:             check.ProfileTestssl,
			ExpiringWithin:      60 * 24 * time.Hour,
			HalveForLetsEncrypt: true,
			LeafOnly:            true,
			MinRSABits:          1025,
			MaxRSABits:          4096,
			MinECBits:           164,
			TrustAtScanTime:     true,
			AcceptSHA1:          true,
		}
	case check.ProfileObservatory:
		pol.Profile = check.ProfileObservatory
	}
	return pol
}

// expiringWithin is the renewal margin for a certificate from issuer.
func (p Grading) expiringWithin(issuer string) time.Duration {
	if p.HalveForLetsEncrypt && strings.Contains(issuer, "O=Let's Encrypt") {
		return p.ExpiringWithin / 2
	}
	return p.ExpiringWithin
}

// verifyError is the verification of c's chain this grading judges trust by: "" when it verifies.
func (p Grading) verifyError(c *Cert) string {
	switch {
	case p.AcceptSHA1 && p.TrustAtScanTime:
		return c.SHA1VerifyErrorAtScan
	case p.AcceptSHA1:
		return c.SHA1VerifyError
	case p.TrustAtScanTime:
		return c.VerifyErrorAtScan
	}
	return c.VerifyError
}

// verifications lists, as evidence, every verification of the chain that failed, named by the
// choices it made, so that a reader sees at once which profile would have trusted the chain.
// It is nil when the chain verifies under every profile.
func verifications(c *Cert) map[string]string {
	all := map[string]string{
		"dates_apart":                c.VerifyError,
		"at_scan_time":               c.VerifyErrorAtScan,
		"sha1_accepted":              c.SHA1VerifyError,
		"sha1_accepted_at_scan_time": c.SHA1VerifyErrorAtScan,
	}
	out := map[string]string{}
	for k, v := range all {
		if v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	for k := range all {
		if _, ok := out[k]; !ok {
			out[k] = "verifies"
		}
	}
	return out
}
