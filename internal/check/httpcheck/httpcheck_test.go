package httpcheck

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/checktest"
	"github.com/khien-vn/khien/internal/lab/weblab"
)

// TestChecksAgainstLab makes every check pass and fail against real loopback servers, each
// failing case flipping one thing of the good host.
func TestChecksAgainstLab(t *testing.T) {
	const name = "good.lab.khien.test"
	tests := []struct {
		check  string
		name   string
		change func(*weblab.Config)
		want   check.Status
	}{
		{"http.https.missing", "good", nil, check.Pass},
		{"http.https.missing", "http only", func(c *weblab.Config) { c.NoHTTPS = true }, check.Fail},
		{"http.https.missing", "https downgrades to http", func(c *weblab.Config) { c.HTTPSRedirectTo = "http://" + name + "/" }, check.Fail},

		{"http.redirect.missing", "good", nil, check.Pass},
		{"http.redirect.missing", "no http at all", func(c *weblab.Config) { c.NoHTTP = true }, check.Pass},
		{"http.redirect.missing", "serves the page over http", func(c *weblab.Config) { c.RedirectHTTP = false }, check.Fail},
		{"http.redirect.missing", "redirects off site", func(c *weblab.Config) { c.RedirectTo = "https://login.other.example/" }, check.Fail},
		{"http.redirect.missing", "redirects to http", func(c *weblab.Config) { c.RedirectTo = "http://www." + name + "/" }, check.Fail},

		{"http.hsts.missing", "good", nil, check.Pass},
		{"http.hsts.missing", "no header", func(c *weblab.Config) { c.HSTS = "" }, check.Fail},
		{"http.hsts.missing", "duplicate directive", func(c *weblab.Config) { c.HSTS = "max-age=31536000; max-age=63072000" }, check.Fail},
		{"http.hsts.missing", "max-age=0", func(c *weblab.Config) { c.HSTS = "max-age=0" }, check.Fail},
		{"http.hsts.missing", "http only", func(c *weblab.Config) { c.NoHTTPS = true }, check.Fail},

		{"http.hsts.short", "good", nil, check.Pass},
		{"http.hsts.short", "one day", func(c *weblab.Config) { c.HSTS = "max-age=86400" }, check.Fail},
		{"http.hsts.short", "no hsts", func(c *weblab.Config) { c.HSTS = "" }, check.NotApplicable},

		{"http.csp.missing", "good", nil, check.Pass},
		{"http.csp.missing", "no csp", func(c *weblab.Config) { c.CSP = "" }, check.Fail},
		{"http.csp.missing", "report-only", func(c *weblab.Config) { c.CSP, c.CSPReportOnly = "", "default-src 'self'" }, check.Fail},
		{"http.csp.missing", "meta csp", func(c *weblab.Config) {
			c.CSP = ""
			c.Body = `<html><head><meta http-equiv="Content-Security-Policy" content="default-src 'self'"></head></html>`
		}, check.Pass},

		{"http.csp.unsafe", "good", nil, check.Pass},
		{"http.csp.unsafe", "unsafe-inline", func(c *weblab.Config) { c.CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'" }, check.Fail},
		{"http.csp.unsafe", "unsafe-inline with nonce", func(c *weblab.Config) { c.CSP = "script-src 'nonce-r4nd0m' 'unsafe-inline'" }, check.Pass},
		{"http.csp.unsafe", "unsafe-eval", func(c *weblab.Config) { c.CSP = "default-src 'self' 'unsafe-eval'" }, check.Fail},
		{"http.csp.unsafe", "https: source", func(c *weblab.Config) { c.CSP = "script-src https:" }, check.Fail},
		{"http.csp.unsafe", "no script rule", func(c *weblab.Config) { c.CSP = "frame-ancestors 'none'" }, check.Fail},
		{"http.csp.unsafe", "no csp", func(c *weblab.Config) { c.CSP = "" }, check.NotApplicable},

		{"http.xcto.missing", "good", nil, check.Pass},
		{"http.xcto.missing", "missing", func(c *weblab.Config) { c.XCTO = "" }, check.Fail},
		{"http.xcto.missing", "not exactly nosniff", func(c *weblab.Config) { c.XCTO = "nosniff; mode=block" }, check.Fail},

		{"http.framing.unprotected", "good", nil, check.Pass},
		{"http.framing.unprotected", "xfo only", func(c *weblab.Config) { c.CSP = "default-src 'self'" }, check.Pass},
		{"http.framing.unprotected", "frame-ancestors only", func(c *weblab.Config) { c.FrameOptions = "" }, check.Pass},
		{"http.framing.unprotected", "neither", func(c *weblab.Config) { c.FrameOptions, c.CSP = "", "default-src 'self'" }, check.Fail},
		{"http.framing.unprotected", "frame-ancestors *", func(c *weblab.Config) { c.CSP = "default-src 'self'; frame-ancestors *" }, check.Fail},
		{"http.framing.unprotected", "allow-from", func(c *weblab.Config) { c.FrameOptions, c.CSP = "ALLOW-FROM https://a.example/", "" }, check.Fail},

		{"http.referrer.unsafe", "good", nil, check.Pass},
		{"http.referrer.unsafe", "unsafe-url", func(c *weblab.Config) { c.ReferrerPolicy = "unsafe-url" }, check.Fail},
		{"http.referrer.unsafe", "missing", func(c *weblab.Config) { c.ReferrerPolicy = "" }, check.Fail},
		{"http.referrer.unsafe", "last valid token wins", func(c *weblab.Config) { c.ReferrerPolicy = "unsafe-url, no-referrer, future-policy" }, check.Pass},

		{"http.cookie.insecure", "good", nil, check.Pass},
		{"http.cookie.insecure", "session cookie without secure", func(c *weblab.Config) {
			c.Cookies = []string{"SESSIONID=v; Path=/; HttpOnly; SameSite=Lax"}
		}, check.Fail},
		{"http.cookie.insecure", "session cookie without httponly", func(c *weblab.Config) {
			c.Cookies = []string{"connect.sid=v; Secure; SameSite=Strict"}
		}, check.Fail},
		{"http.cookie.insecure", "no cookies", func(c *weblab.Config) { c.Cookies = nil }, check.NotApplicable},

		{"http.cors.permissive", "good", nil, check.Pass},
		{"http.cors.permissive", "public *", func(c *weblab.Config) { c.CORS = weblab.CORS{AllowOrigin: "*"} }, check.Pass},
		{"http.cors.permissive", "fixed origin", func(c *weblab.Config) {
			c.CORS = weblab.CORS{AllowOrigin: "https://portal.lab.khien.test", AllowCredentials: true}
		}, check.Pass},
		{"http.cors.permissive", "reflects with credentials", func(c *weblab.Config) {
			c.CORS = weblab.CORS{ReflectOrigin: true, AllowCredentials: true}
		}, check.Fail},
		{"http.cors.permissive", "reflects", func(c *weblab.Config) { c.CORS = weblab.CORS{ReflectOrigin: true} }, check.Fail},

		{"http.version_disclosure", "good", nil, check.Pass},
		{"http.version_disclosure", "nginx version", func(c *weblab.Config) { c.Server = "nginx/1.18.0" }, check.Fail},
		{"http.version_disclosure", "php version", func(c *weblab.Config) { c.PoweredBy = "PHP/7.4.3" }, check.Fail},

		{"http.mixed_content", "good", nil, check.Pass},
		{"http.mixed_content", "active mixed content", func(c *weblab.Config) { c.Body = weblab.MixedPage }, check.Fail},
		{"http.mixed_content", "passive only", func(c *weblab.Config) { c.Body = weblab.PassiveMixedPage }, check.Pass},
		{"http.mixed_content", "upgrade-insecure-requests", func(c *weblab.Config) {
			c.Body, c.CSP = weblab.MixedPage, "default-src 'self'; upgrade-insecure-requests; frame-ancestors 'none'"
		}, check.Pass},
		{"http.mixed_content", "http only", func(c *weblab.Config) { c.NoHTTPS, c.Body = true, weblab.MixedPage }, check.NotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.check+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := weblab.Good(name)
			if tt.change != nil {
				tt.change(&cfg)
			}
			_, r, env, opts := startHost(t, cfg)
			results := Family(opts).Run(t.Context(), r, env)
			got := resultFor(t, results, tt.check)
			checktest.VietnameseOnly(t, got)
			if got.Status != tt.want {
				t.Errorf("%s on %s = %s (%s), want %s\nevidence: %s", tt.check, tt.name, got.Status, got.Reason.EN, tt.want, jsonOf(got.Evidence))
			}
			if got.Reason.VI == "" || got.Reason.EN == "" || got.Evidence == nil {
				t.Errorf("%s: result lacks a bilingual reason or evidence: %+v", tt.check, got)
			}
		})
	}
}

// TestGoodAndBadHosts runs the whole family on the lab's ready-made hosts.
func TestGoodAndBadHosts(t *testing.T) {
	tests := []struct {
		name string
		cfg  weblab.Config
		want map[string]check.Status // checks not listed must pass
	}{
		{"good", weblab.Good("good.lab.khien.test"), nil},
		{"bad", weblab.Bad("bad.lab.khien.test"), map[string]check.Status{
			"http.redirect.missing": check.Fail, "http.hsts.missing": check.Fail, "http.hsts.short": check.NotApplicable,
			"http.csp.unsafe": check.Fail, "http.xcto.missing": check.Fail, "http.framing.unprotected": check.Fail,
			"http.referrer.unsafe": check.Fail, "http.cookie.insecure": check.Fail, "http.cors.permissive": check.Fail,
			"http.version_disclosure": check.Fail, "http.mixed_content": check.Fail,
		}},
		{"bad http only", weblab.BadHTTPOnly("old.lab.khien.test"), map[string]check.Status{
			"http.https.missing": check.Fail, "http.redirect.missing": check.Fail, "http.hsts.missing": check.Fail,
			"http.hsts.short": check.NotApplicable, "http.csp.missing": check.Fail, "http.csp.unsafe": check.NotApplicable,
			"http.xcto.missing": check.Fail, "http.framing.unprotected": check.Fail,
			"http.referrer.unsafe": check.Fail, "http.cookie.insecure": check.Fail, "http.cors.permissive": check.Fail,
			"http.version_disclosure": check.Fail, "http.mixed_content": check.NotApplicable,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, r, env, opts := startHost(t, tt.cfg)
			for _, res := range Family(opts).Run(t.Context(), r, env) {
				want, ok := tt.want[res.Check]
				if !ok {
					want = check.Pass
				}
				if res.Status != want {
					t.Errorf("%s = %s (%s), want %s", res.Check, res.Status, res.Reason.EN, want)
				}
				checktest.VietnameseOnly(t, res)
				if res.Resource != r.ID || res.Endpoint == "" {
					t.Errorf("%s: resource %q endpoint %q", res.Check, res.Resource, res.Endpoint)
				}
			}
		})
	}
}

// TestDNSResourceWorstEndpoint scans a dns: resource whose name has two addresses on the
// ports the options map: one good host and one bad. The bad one decides, and both are in the
// evidence.
func TestDNSResourceWorstEndpoint(t *testing.T) {
	const name = "portal.lab.khien.test"
	ctx := t.Context()
	ca := labCA(t)
	goodCfg := weblab.Good(name)
	goodCfg.IP, goodCfg.CA = "127.0.0.6", ca
	good, err := weblab.Start(ctx, goodCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	badCfg := weblab.Good(name)
	badCfg.IP, badCfg.CA = "127.0.0.7", ca
	badCfg.HTTPPort, badCfg.HTTPSPort = good.Config.HTTPPort, good.Config.HTTPSPort
	badCfg.XCTO = ""
	bad, err := weblab.Start(ctx, badCfg)
	if err != nil {
		t.Skipf("cannot bind the second address on the same ports: %v", err)
	}
	defer bad.Close()

	dnsAddr := startDNS(t, map[string][]string{name: {"127.0.0.6", "127.0.0.7"}})
	r, env := envFor(t, "dns:"+name, dnsAddr, ca)
	results := Family(Options{HTTPPort: good.Config.HTTPPort, HTTPSPort: good.Config.HTTPSPort}).Run(ctx, r, env)

	x := resultFor(t, results, "http.xcto.missing")
	if x.Status != check.Fail || x.Evidence["address"] != "127.0.0.7" {
		t.Errorf("xcto = %s from %v, want fail from 127.0.0.7", x.Status, x.Evidence["address"])
	}
	per, _ := x.Evidence["endpoints"].([]map[string]any)
	if len(per) != 2 || per[0]["status"] != "pass" || per[1]["status"] != "fail" {
		t.Errorf("per-endpoint evidence = %s", jsonOf(per))
	}
	if !strings.Contains(x.Reason.VI, "127.0.0.7") {
		t.Errorf("reason does not name the address: %q", x.Reason.VI)
	}
	if h := resultFor(t, results, "http.hsts.missing"); h.Status != check.Pass {
		t.Errorf("hsts = %s (%s), want pass on both addresses", h.Status, h.Reason.EN)
	}
	if _, err := json.Marshal(x.Evidence); err != nil {
		t.Errorf("evidence does not encode: %v", err)
	}
}

// TestUnreachableIsError: a host with no web server gives every check an error, not a fail.
func TestUnreachableIsError(t *testing.T) {
	dnsAddr := startDNS(t, map[string][]string{"down.lab.khien.test": {"127.0.0.9"}})
	r, env := envFor(t, "dns:down.lab.khien.test", dnsAddr, nil)
	opts := Options{HTTPPort: closedPort(t), HTTPSPort: closedPort(t)}
	for _, res := range Family(opts).Run(t.Context(), r, env) {
		if res.Status != check.Error {
			t.Errorf("%s = %s, want error", res.Check, res.Status)
		}
		if !strings.Contains(res.Reason.EN, "no HTTP or HTTPS answer") || !strings.Contains(res.Reason.EN, "connection refused") {
			t.Errorf("%s reason = %q", res.Check, res.Reason.EN)
		}
		// The Vietnamese says why in words, per address; the English keeps Go's text.
		checktest.VietnameseOnly(t, res)
		if !strings.Contains(res.Reason.VI, "127.0.0.9: HTTPS máy đích từ chối kết nối") {
			t.Errorf("%s Vietnamese reason = %q", res.Check, res.Reason.VI)
		}
	}
}

// TestObserveRecordsChainAndTrust checks what observation keeps: the redirect chain with
// statuses and Locations, the TLS state with the verdict of a trust store that does not know
// the lab's CA, and the CORS probe's origin.
func TestObserveRecordsChainAndTrust(t *testing.T) {
	cfg := weblab.Good("trust.lab.khien.test")
	h, r, env, opts := startHost(t, cfg)
	other, err := weblab.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	env.Roots = other.Pool()
	o, err := observer{opts}.observe(t.Context(), r, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Endpoints) != 1 {
		t.Fatalf("endpoints = %d, want 1", len(o.Endpoints))
	}
	e := o.Endpoints[0]
	if len(e.HTTP.Hops) != 2 || e.HTTP.Hops[0].Status != 301 || e.HTTP.Hops[0].Location != h.HTTPSURL() || e.HTTP.Hops[1].Status != 200 {
		t.Errorf("HTTP chain = %+v, want 301 to %s then 200", hopsEvidence(e.HTTP), h.HTTPSURL())
	}
	tls := e.HTTPS.Hops[0].TLS
	if tls == nil || tls.Verified || tls.VerifyError == "" || tls.Version == "" {
		t.Errorf("TLS state = %+v, want unverified with a reason", tls)
	}
	if e.CORS.Origin != ProbeOrigin || e.CORS.Status != 200 {
		t.Errorf("CORS probe = %+v", e.CORS)
	}
	if e.HTTPS.Page == nil || e.HTTPS.Page.HTML == nil || e.HTTPS.Page.HTML.Subresources == 0 {
		t.Errorf("page = %+v, want HTML with subresources", e.HTTPS.Page)
	}
	// An untrusted certificate is the TLS family's verdict, not a missing HTTPS.
	got := GradingFor(check.ProfileKhien).httpsMissing(o)
	if got.Status != check.Pass || !strings.Contains(got.Reason.EN, "does not verify") || !strings.Contains(got.Reason.EN, "x509: certificate signed by unknown authority") {
		t.Errorf("https.missing = %s (%s)", got.Status, got.Reason.EN)
	}
	checktest.VietnameseOnly(t, got)
	if !strings.Contains(got.Reason.VI, "Chứng thư số do tổ chức cấp chứng thư không được tin cậy ký") {
		t.Errorf("https.missing Vietnamese reason = %q", got.Reason.VI)
	}
}

// TestOffSiteRedirectNotFollowed: a redirect to another site is recorded, not fetched.
func TestOffSiteRedirectNotFollowed(t *testing.T) {
	cfg := weblab.Good("hop.lab.khien.test")
	cfg.RedirectTo = "https://login.other.example/sso"
	_, r, env, opts := startHost(t, cfg)
	o, err := observer{opts}.observe(t.Context(), r, env)
	if err != nil {
		t.Fatal(err)
	}
	c := o.Endpoints[0].HTTP
	if len(c.Hops) != 1 || c.Failure == nil || c.Failure.Kind != FailOffSite || c.Failure.URL != cfg.RedirectTo {
		t.Errorf("chain = %+v failure %+v, want one hop and an off-site stop", hopsEvidence(c), c.Failure)
	}
}

// TestFamilyMatchesCatalog keeps the family's checks and catalog/http.yaml in step.
func TestFamilyMatchesCatalog(t *testing.T) {
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var inCatalog []string
	for _, d := range cat.All() {
		if d.Family() == "http" {
			inCatalog = append(inCatalog, d.ID)
			if strings.Contains(d.Remediation.VI+d.Remediation.EN+d.Detect, "TODO") || len(d.References) == 0 || d.Detect == "" {
				t.Errorf("%s: catalog entry is unfinished", d.ID)
			}
		}
	}
	ids := Family(Options{}).CheckIDs()
	if !slices.Equal(ids, inCatalog) {
		t.Errorf("family checks %v\ncatalog http checks %v", ids, inCatalog)
	}
}

func jsonOf(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// TestIPResource scans an ip: resource: no DNS, the address is the host, the ports come from
// the options.
func TestIPResource(t *testing.T) {
	cfg := weblab.Good("127.0.0.12")
	cfg.IP, cfg.CA = "127.0.0.12", labCA(t)
	h, err := weblab.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r, env := envFor(t, "ip:127.0.0.12", "", cfg.CA)
	results := Family(Options{HTTPPort: h.Config.HTTPPort, HTTPSPort: h.Config.HTTPSPort}).Run(t.Context(), r, env)
	for _, res := range results {
		want := check.Pass
		if strings.HasPrefix(res.Check, "http.hsts.") {
			want = check.NotApplicable // RFC 6797 section 8.1.1
		}
		if res.Status != want {
			t.Errorf("%s = %s (%s), want %s", res.Check, res.Status, res.Reason.EN, want)
		}
	}
	if tls := resultFor(t, results, "http.https.missing").Evidence["tls"].(*TLSState); !tls.Verified {
		t.Errorf("certificate for the address did not verify: %+v", tls)
	}
}
