package httpcheck

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
)

// Observation literals: the checks are pure functions of what was observed.

const site = "portal.example.vn"

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func answer(url string, status int, kv ...string) Hop {
	h := Hop{URL: url, Status: status, Header: hdr(kv...)}
	if strings.HasPrefix(url, "https:") {
		h.TLS = &TLSState{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", Verified: true}
	}
	return h
}

func redirect(url, to string, kv ...string) Hop {
	h := answer(url, 301, append([]string{"Location", to}, kv...)...)
	h.Location, h.Next = to, to
	return h
}

func chain(hops ...Hop) Chain { return Chain{Hops: hops} }

func failed(kind, url string) Chain {
	return Chain{Failure: &Failure{Kind: kind, URL: url, Message: kind + " at " + url}}
}

func htmlPage(url string, d Document) *Page {
	return &Page{URL: url, ContentType: "text/html", Bytes: 100, SHA256: "00", HTML: &d}
}

// endpoint is one address whose HTTPS chain is https and HTTP chain is http; the CORS probe
// answers with no CORS headers unless cors is given.
func endpoint(https, http Chain, cors ...string) Endpoint {
	e := Endpoint{Address: "192.0.2.10", HTTPS: https, HTTP: http}
	if hop, _, ok := e.graded(); ok {
		e.CORS = Probe{URL: hop.URL, Origin: ProbeOrigin, Status: 200, Header: hdr(cors...)}
	}
	return e
}

func observation(eps ...Endpoint) Observation {
	return Observation{Host: site, HTTPSURL: "https://" + site + "/", HTTPURL: "http://" + site + "/", Endpoints: eps}
}

// page returns an endpoint whose HTTPS page answers with the headers kv, HTTP redirecting to it.
func page(kv ...string) Endpoint {
	return endpoint(chain(answer("https://"+site+"/", 200, kv...)), chain(redirect("http://"+site+"/", "https://"+site+"/")))
}

func TestEvaluate(t *testing.T) {
	u := "https://" + site + "/"
	def := GradingFor(check.ProfileKhien)
	tests := []struct {
		name       string
		eval       func(Observation) check.Result
		o          Observation
		want       check.Status
		wantReason string // substring of the English reason
	}{
		// https.missing
		{"https timeout is an error", def.httpsMissing, observation(endpoint(failed(FailTimeout, u), chain(answer("http://"+site+"/", 200)))), check.Error, "did not answer in time"},
		{"https refused fails", def.httpsMissing, observation(endpoint(failed(FailRefused, u), chain(answer("http://"+site+"/", 200)))), check.Fail, "No HTTPS"},
		{"https handshake failure fails", def.httpsMissing, observation(endpoint(failed(FailTLS, u), chain(answer("http://"+site+"/", 200)))), check.Fail, "No HTTPS"},
		{"https answers", def.httpsMissing, observation(page()), check.Pass, "HTTPS answers"},

		// redirect.missing
		{"no plain http", def.redirectMissing, observation(endpoint(chain(answer(u, 200)), failed(FailRefused, "http://"+site+"/"))), check.Pass, "nothing to redirect"},
		{"http to http to https", def.redirectMissing, observation(endpoint(chain(answer(u, 200)), chain(
			redirect("http://"+site+"/", "http://www."+site+"/"), redirect("http://www."+site+"/", "https://www."+site+"/"), answer("https://www."+site+"/", 200)))), check.Pass, "redirects to https://www."},
		{"redirect loop", def.redirectMissing, observation(endpoint(chain(answer(u, 200)), Chain{
			Hops:    []Hop{redirect("http://"+site+"/", "http://"+site+"/a")},
			Failure: &Failure{Kind: FailRedirects, URL: "http://" + site + "/b", Message: "more than 10 redirects"}})), check.Fail, "more than 10"},
		{"off site", def.redirectMissing, observation(endpoint(chain(answer(u, 200)), Chain{
			Hops:    []Hop{redirect("http://"+site+"/", "https://sso.other.vn/")},
			Failure: &Failure{Kind: FailOffSite, URL: "https://sso.other.vn/"}})), check.Fail, "another site"},
		{"public suffix sibling is off site", def.redirectMissing, observation(endpoint(chain(answer(u, 200)), chain(
			redirect("http://"+site+"/", "https://hanoi.gov.vn/"), answer("https://hanoi.gov.vn/", 200)))), check.Fail, "another site"},
		{"redirect target unreachable still redirects", def.redirectMissing, observation(endpoint(chain(answer(u, 200)), Chain{
			Hops:    []Hop{redirect("http://"+site+"/", u)},
			Failure: &Failure{Kind: FailTimeout, URL: u}})), check.Pass, "redirects to"},

		// hsts
		{"hsts on a same-host redirect counts", def.hstsMissing, observation(endpoint(chain(
			redirect(u, u+"home", "Strict-Transport-Security", "max-age=31536000"), answer(u+"home", 200)), Chain{})), check.Pass, "max-age=31536000"},
		{"hsts on another host does not count", def.hstsMissing, observation(endpoint(chain(
			redirect(u, "https://www."+site+"/"), answer("https://www."+site+"/", 200, "Strict-Transport-Security", "max-age=31536000")), Chain{})), check.Fail, "carry no Strict-Transport-Security"},
		{"only the first field counts", def.hstsMissing, observation(page("Strict-Transport-Security", "max-age=31536000", "Strict-Transport-Security", "garbage")), check.Pass, ""},
		{"invalid first field", def.hstsShort, observation(page("Strict-Transport-Security", "max-age=abc", "Strict-Transport-Security", "max-age=31536000")), check.NotApplicable, ""},
		{"hsts over http only", def.hstsMissing, observation(endpoint(failed(FailRefused, u), chain(answer("http://"+site+"/", 200, "Strict-Transport-Security", "max-age=31536000")))), check.Fail, "no HTTPS"},
		{"hsts https timeout", def.hstsMissing, observation(endpoint(failed(FailTimeout, u), chain(answer("http://"+site+"/", 200)))), check.Error, ""},
		{"hsts six months is short", def.hstsShort, observation(page("Strict-Transport-Security", "max-age=15552000")), check.Fail, "shorter than one year"},

		// csp
		{"report-only is not enforcement", def.cspMissing, observation(page("Content-Security-Policy-Report-Only", "default-src 'self'")), check.Fail, "Report-Only"},
		{"empty header is missing", def.cspMissing, observation(page("Content-Security-Policy", " ; ")), check.Fail, "no Content-Security-Policy"},
		{"a strict second policy blocks inline", def.cspUnsafe, observation(page(
			"Content-Security-Policy", "script-src 'self' 'unsafe-inline'", "Content-Security-Policy", "script-src 'self'")), check.Pass, ""},
		{"risks shared by every policy fail", def.cspUnsafe, observation(page(
			"Content-Security-Policy", "script-src * 'unsafe-inline', default-src 'unsafe-inline'")), check.Fail, "'unsafe-inline'"},
		{"meta policy counts", def.cspUnsafe, observation(endpoint(Chain{
			Hops: []Hop{answer(u, 200)},
			Page: htmlPage(u, Document{MetaCSP: []string{"script-src 'unsafe-eval'"}})}, Chain{})), check.Fail, "eval"},

		// xcto
		{"nosniff any case", def.xctoMissing, observation(page("X-Content-Type-Options", "NoSniff")), check.Pass, ""},
		{"nosniff first of a list", def.xctoMissing, observation(page("X-Content-Type-Options", "nosniff, other")), check.Pass, ""},
		{"nosniff second of a list", def.xctoMissing, observation(page("X-Content-Type-Options", "other", "X-Content-Type-Options", "nosniff")), check.Fail, "rather than exactly nosniff"},

		// framing
		{"conflicting xfo", def.framingUnprotected, observation(page("X-Frame-Options", "DENY, SAMEORIGIN")), check.Fail, "conflicting"},
		{"repeated xfo", def.framingUnprotected, observation(page("X-Frame-Options", "deny", "X-Frame-Options", "DENY")), check.Pass, ""},
		{"frame-ancestors * overrides xfo", def.framingUnprotected, observation(page("X-Frame-Options", "DENY", "Content-Security-Policy", "frame-ancestors https:")), check.Fail, "any site"},
		{"frame-ancestors none", def.framingUnprotected, observation(page("Content-Security-Policy", "frame-ancestors")), check.Pass, "'none'"},
		{"meta frame-ancestors ignored", def.framingUnprotected, observation(endpoint(Chain{
			Hops: []Hop{answer(u, 200)},
			Page: htmlPage(u, Document{MetaCSP: []string{"frame-ancestors 'none'"}})}, Chain{})), check.Fail, "Neither"},

		// referrer
		{"meta overrides an unsafe header", def.referrerUnsafe, observation(endpoint(Chain{
			Hops: []Hop{answer(u, 200, "Referrer-Policy", "unsafe-url")},
			Page: htmlPage(u, Document{MetaReferrer: []string{"no-referrer"}})}, Chain{})), check.Pass, "meta element"},
		{"legacy meta always is unsafe-url", def.referrerUnsafe, observation(endpoint(Chain{
			Hops: []Hop{answer(u, 200, "Referrer-Policy", "no-referrer")},
			Page: htmlPage(u, Document{MetaReferrer: []string{"always"}})}, Chain{})), check.Fail, "unsafe-url"},
		{"no-referrer-when-downgrade", def.referrerUnsafe, observation(page("Referrer-Policy", "no-referrer-when-downgrade")), check.Fail, "full URLs"},
		{"origin passes", def.referrerUnsafe, observation(page("Referrer-Policy", "origin")), check.Pass, ""},

		// cookies
		{"csrf cookie without samesite", def.cookieInsecure, observation(page("Set-Cookie", "XSRF-TOKEN=x; Secure")), check.Fail, "XSRF-TOKEN"},
		{"preference cookie without secure is noted", def.cookieInsecure, observation(page("Set-Cookie", "theme=dark")), check.Pass, ""},
		{"session cookie on the http redirect", def.cookieInsecure, observation(endpoint(chain(answer(u, 200)),
			chain(redirect("http://"+site+"/", u, "Set-Cookie", "JSESSIONID=x; Secure; HttpOnly; SameSite=Lax")))), check.Fail, "JSESSIONID"},
		{"invalid samesite on a session cookie", def.cookieInsecure, observation(page("Set-Cookie", "sid=x; Secure; HttpOnly; SameSite=Lx")), check.Fail, "sid"},
		{"unparseable cookie only", def.cookieInsecure, observation(page("Set-Cookie", "=")), check.NotApplicable, ""},

		// cors
		{"null with credentials", def.corsPermissive, observation(endpoint(chain(answer(u, 200)), Chain{},
			"Access-Control-Allow-Origin", "null", "Access-Control-Allow-Credentials", "true")), check.Fail, "null"},
		{"star with credentials", def.corsPermissive, observation(endpoint(chain(answer(u, 200)), Chain{},
			"Access-Control-Allow-Origin", "*", "Access-Control-Allow-Credentials", "TRUE")), check.Fail, "Browsers refuse"},
		{"star alone", def.corsPermissive, observation(endpoint(chain(answer(u, 200)), Chain{}, "Access-Control-Allow-Origin", "*")), check.Pass, "public"},
		{"probe failed", def.corsPermissive, func() Observation {
			e := page()
			e.CORS = Probe{URL: u, Origin: ProbeOrigin, Failure: &Failure{Kind: FailTimeout, URL: u, Message: "timeout"}}
			return observation(e)
		}(), check.Error, "no answer"},

		// version disclosure
		{"iis version", def.versionDisclosure, observation(page("Server", "Microsoft-IIS/10.0")), check.Fail, "Microsoft-IIS/10.0"},
		{"aspnet version", def.versionDisclosure, observation(page("X-AspNet-Version", "4.0.30319")), check.Fail, "4.0.30319"},
		{"bare names", def.versionDisclosure, observation(page("Server", "nginx", "X-Powered-By", "ASP.NET")), check.Pass, ""},
		{"opaque build id is not a version", def.versionDisclosure, observation(page("Server", "ECS (nyb/1D2E)")), check.Pass, ""},
		{"banner on the http redirect", def.versionDisclosure, observation(endpoint(chain(answer(u, 200, "Server", "nginx")),
			chain(redirect("http://"+site+"/", u, "Server", "nginx/1.18.0 (Ubuntu)")))), check.Fail, "nginx/1.18.0"},

		// mixed content
		{"not html", def.mixedContent, observation(endpoint(Chain{Hops: []Hop{answer(u, 200)}, Page: &Page{URL: u, ContentType: "application/json"}}, Chain{})), check.NotApplicable, "not an HTML page"},
		{"passive only", def.mixedContent, observation(endpoint(Chain{Hops: []Hop{answer(u, 200)},
			Page: htmlPage(u, Document{Subresources: 2, InsecureN: 1, Insecure: []Subresource{{"img", "http://cdn/x.png", false}}})}, Chain{})), check.Pass, "passive"},
		{"active", def.mixedContent, observation(endpoint(Chain{Hops: []Hop{answer(u, 200)},
			Page: htmlPage(u, Document{Subresources: 2, InsecureN: 1, Insecure: []Subresource{{"script", "http://cdn/x.js", true}}})}, Chain{})), check.Fail, "http://cdn/x.js"},
		{"page ends on http", def.mixedContent, observation(endpoint(chain(redirect(u, "http://"+site+"/"), answer("http://"+site+"/", 200)), Chain{})), check.NotApplicable, "not served over HTTPS"},

		// the worst endpoint decides
		{"silent address is an error", def.xctoMissing, observation(page("X-Content-Type-Options", "nosniff"),
			Endpoint{Address: "192.0.2.11", HTTPS: failed(FailTimeout, u), HTTP: failed(FailTimeout, "http://"+site+"/")}), check.Error, "192.0.2.11"},
		{"fail beats error", def.xctoMissing, observation(
			Endpoint{Address: "192.0.2.11", HTTPS: failed(FailTimeout, u), HTTP: failed(FailTimeout, "http://"+site+"/")}, page()), check.Fail, "the worst of 2"},
		{"no endpoints", def.xctoMissing, observation(), check.Error, "No address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.eval(tt.o)
			if got.Status != tt.want || !strings.Contains(got.Reason.EN, tt.wantReason) {
				t.Errorf("status %s, reason %q; want %s with %q\nevidence %s", got.Status, got.Reason.EN, tt.want, tt.wantReason, jsonOf(got.Evidence))
			}
			if got.Reason.VI == "" || got.Reason.EN == "" || got.Reason.VI == got.Reason.EN {
				t.Errorf("reason is not bilingual: %+v", got.Reason)
			}
			if _, err := json.Marshal(got.Evidence); err != nil {
				t.Errorf("evidence does not encode: %v", err)
			}
		})
	}
}

// TestEvidenceHasNoCookieValues: a cookie's value never reaches the evidence.
func TestEvidenceHasNoCookieValues(t *testing.T) {
	const secret = "s3cr3t-session-value"
	o := observation(endpoint(
		chain(answer("https://"+site+"/", 200, "Set-Cookie", "PHPSESSID="+secret+"; Path=/")),
		chain(redirect("http://"+site+"/", "https://"+site+"/", "Set-Cookie", "JSESSIONID="+secret))))
	for _, c := range Family(Options{}).Checks {
		r := c.Evaluate(o)
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), secret) {
			t.Errorf("%s evidence holds a cookie value: %s", c.ID, b)
		}
	}
}

// TestSparseObservations: every check copes with chains that hold nothing (no hops, no
// failure recorded, no page, no probe), as a hand-written or truncated observation may.
func TestSparseObservations(t *testing.T) {
	u := "https://" + site + "/"
	for name, o := range map[string]Observation{
		"empty endpoint":    observation(Endpoint{Address: "192.0.2.1"}),
		"https only":        observation(Endpoint{Address: "192.0.2.1", HTTPS: Chain{Hops: []Hop{{URL: u, Status: 200}}}}),
		"http only":         observation(Endpoint{Address: "192.0.2.1", HTTP: Chain{Hops: []Hop{{URL: "http://" + site + "/", Status: 200}}}}),
		"redirect, no next": observation(Endpoint{Address: "192.0.2.1", HTTPS: Chain{Hops: []Hop{{URL: u, Status: 301}}}}),
	} {
		for _, p := range check.Profiles() {
			for _, c := range Family(Options{Grading: GradingFor(p)}).Checks {
				r := c.Evaluate(o)
				if r.Status == "" || r.Reason.EN == "" || r.Reason.VI == "" {
					t.Errorf("%s on %s, profile %s: %+v", c.ID, name, p, r)
				}
			}
		}
	}
}
