package httpcheck

import (
	"testing"

	"github.com/khien-vn/khien/internal/check"
)

// unverifiedCert marks every HTTPS answer of e as served with a certificate that does not
// verify, as the lab's expired and self-signed hosts do.
func unverifiedCert(e Endpoint) Endpoint {
	for _, c := range []*Chain{&e.HTTPS, &e.HTTP} {
		hops := append([]Hop(nil), c.Hops...)
		for i := range hops {
			if hops[i].TLS != nil {
				hops[i].TLS = &TLSState{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", VerifyError: "x509: certificate has expired or is not yet valid"}
			}
		}
		c.Hops = hops
	}
	return e
}

// TestGradingFlips shows each choice of the observatory and testssl profiles turning a
// verdict: the same observation graded under Khiên's, the Observatory's and testssl.sh's
// choices.
func TestGradingFlips(t *testing.T) {
	u := "https://" + site + "/"
	type eval func(Grading, Observation) check.Result
	var (
		hstsMissing eval = func(g Grading, o Observation) check.Result { return g.hstsMissing(o) }
		hstsShort   eval = func(g Grading, o Observation) check.Result { return g.hstsShort(o) }
		redirects   eval = func(g Grading, o Observation) check.Result { return g.redirectMissing(o) }
		referrer    eval = func(g Grading, o Observation) check.Result { return g.referrerUnsafe(o) }
		cors        eval = func(g Grading, o Observation) check.Result { return g.corsPermissive(o) }
	)
	withCORS := func(e Endpoint, kv ...string) Endpoint {
		e.CORS = Probe{URL: u, Origin: ProbeOrigin, Status: 200, Header: hdr(kv...)}
		return e
	}
	const (
		pass = check.Pass
		fail = check.Fail
		na   = check.NotApplicable
	)
	tests := []struct {
		name                        string
		eval                        eval
		e                           Endpoint
		khien, observatory, testssl check.Status
	}{
		{"HSTS of 180 days: one year vs six months", hstsShort, page("Strict-Transport-Security", "max-age=15552000"), fail, pass, pass},
		{"HSTS a second under 180 days", hstsShort, page("Strict-Transport-Security", "max-age=15551999"), fail, fail, fail},
		{"HSTS of a year", hstsShort, page("Strict-Transport-Security", "max-age=31536000"), pass, pass, pass},
		{"HSTS over an invalid certificate: judged vs ignored", hstsMissing,
			unverifiedCert(page("Strict-Transport-Security", "max-age=31536000")), pass, fail, pass},
		{"HSTS lifetime over an invalid certificate", hstsShort,
			unverifiedCert(page("Strict-Transport-Security", "max-age=31536000")), pass, na, pass},
		{"redirect to HTTPS with an invalid certificate", redirects,
			unverifiedCert(endpoint(chain(answer(u, 200)), chain(redirect("http://"+site+"/", u), answer(u, 200)))), pass, fail, pass},
		{"redirect to HTTPS with a valid certificate", redirects,
			endpoint(chain(answer(u, 200)), chain(redirect("http://"+site+"/", u), answer(u, 200))), pass, pass, pass},
		{"no Referrer-Policy: explicit policy vs browser default", referrer, page(), fail, pass, fail},
		{"Referrer-Policy origin: no full URL vs origin leaked", referrer, page("Referrer-Policy", "origin"), pass, fail, pass},
		{"Referrer-Policy present but invalid", referrer, page("Referrer-Policy", "no-referer"), fail, fail, fail},
		{"Referrer-Policy unsafe-url", referrer, page("Referrer-Policy", "unsafe-url"), fail, fail, fail},
		{"CORS echo without credentials", cors, withCORS(page(), "Access-Control-Allow-Origin", ProbeOrigin), fail, pass, fail},
		{"CORS * with credentials", cors, withCORS(page(), "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Credentials", "true"), fail, pass, fail},
		{"CORS echo with credentials", cors, withCORS(page(), "Access-Control-Allow-Origin", ProbeOrigin, "Access-Control-Allow-Credentials", "true"), fail, fail, fail},
		{"CORS another origin", cors, withCORS(page(), "Access-Control-Allow-Origin", "https://partner.example.vn"), pass, pass, pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				profile check.Profile
				want    check.Status
			}{{check.ProfileKhien, tt.khien}, {check.ProfileObservatory, tt.observatory}, {check.ProfileTestssl, tt.testssl}} {
				got := tt.eval(GradingFor(c.profile), observation(tt.e))
				if got.Status != c.want {
					t.Errorf("%s: status = %s (%s), want %s", c.profile, got.Status, got.Reason.EN, c.want)
				}
				if got.Reason.VI == "" || got.Reason.VI == got.Reason.EN {
					t.Errorf("%s: no Vietnamese reason: %q", c.profile, got.Reason.VI)
				}
				if p := got.Evidence["profile"]; p != string(c.profile) {
					t.Errorf("%s: evidence names profile %v", c.profile, p)
				}
			}
		})
	}
}

// TestZeroGradingIsKhien: Options without a grading grade as Khiên does.
func TestZeroGradingIsKhien(t *testing.T) {
	o := observation(page("Strict-Transport-Security", "max-age=15552000"))
	for _, c := range Family(Options{}).Checks {
		if c.ID != "http.hsts.short" {
			continue
		}
		r := c.Evaluate(o)
		if r.Status != check.Fail || r.Evidence["profile"] != string(check.ProfileKhien) {
			t.Errorf("zero Grading: %s, profile %v; want fail under khien", r.Status, r.Evidence["profile"])
		}
	}
}
