package httpcheck

import (
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/check/checktest"
)

// realFailure is a failure as observe records it, with the text Go gives for its kind.
func realFailure(kind, url, msg string) Chain {
	return Chain{Failure: &Failure{Kind: kind, URL: url, Message: msg}}
}

// TestFailureDescribe: every kind reads in Vietnamese without the technical message, which
// the English keeps.
func TestFailureDescribe(t *testing.T) {
	tests := []struct{ kind, msg, vi string }{
		{FailTimeout, "dial tcp 192.0.2.10:443: i/o timeout", "hết thời gian chờ"},
		{FailRefused, "dial tcp 192.0.2.10:443: connect: connection refused", "máy đích từ chối kết nối"},
		{FailTLS, "remote error: tls: handshake failure", "bắt tay TLS thất bại"},
		{FailRedirects, "more than 10 redirects", "chuyển hướng quá nhiều lần"},
		{FailOffSite, "redirect leaves a.example for b.example; not followed", "chuyển hướng sang một trang khác"},
		{FailBadLocation, `redirect to "ftp://x", which is not an http or https URL`, "không phải URL http hoặc https"},
		{FailOther, "EOF", "lỗi kỹ thuật"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			d := (&Failure{Kind: tt.kind, Message: tt.msg}).Describe()
			if !strings.Contains(d.VI, tt.vi) || strings.Contains(d.VI, tt.msg) {
				t.Errorf("VI = %q, want %q without %q", d.VI, tt.vi, tt.msg)
			}
			if !strings.Contains(d.EN, tt.msg) {
				t.Errorf("EN = %q, want the message %q", d.EN, tt.msg)
			}
		})
	}
}

// TestReasonsInVietnamese evaluates every check of every grading on observations that fail
// the ways observe records (Go's error text in Failure.Message and TLSState.VerifyError, an
// invalid HSTS header): no Vietnamese reason carries that text; the English still does.
func TestReasonsInVietnamese(t *testing.T) {
	u, h := "https://"+site+"/", "http://"+site+"/"
	const (
		refused = "dial tcp 192.0.2.10:443: connect: connection refused"
		reset   = "read tcp 192.0.2.10:443: connection reset by peer"
		tlsErr  = "remote error: tls: handshake failure"
		timeout = "dial tcp 192.0.2.10:443: i/o timeout"
		eof     = "Get \"https://www.example.vn/\": EOF"
		x509Err = "x509: certificate signed by unknown authority"
	)
	untrusted := func(e Endpoint) Endpoint {
		for _, c := range []*Chain{&e.HTTPS, &e.HTTP} {
			hops := append([]Hop(nil), c.Hops...)
			for i := range hops {
				if hops[i].TLS != nil {
					hops[i].TLS = &TLSState{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", VerifyError: x509Err}
				}
			}
			c.Hops = hops
		}
		return e
	}
	noCORS := func(e Endpoint, msg string) Endpoint {
		e.CORS = Probe{URL: u, Origin: ProbeOrigin, Failure: &Failure{Kind: FailOther, URL: u, Message: msg}}
		return e
	}
	observations := map[string]Endpoint{
		"https refused":      endpoint(realFailure(FailRefused, u, refused), chain(answer(h, 200))),
		"https tls":          endpoint(realFailure(FailTLS, u, tlsErr), chain(answer(h, 200))),
		"https timeout":      endpoint(realFailure(FailTimeout, u, timeout), chain(answer(h, 200))),
		"https closed":       endpoint(realFailure(FailOther, u, eof), chain(redirect(h, u), answer(u, 200))),
		"http refused":       endpoint(chain(answer(u, 200)), realFailure(FailRefused, h, refused)),
		"untrusted":          untrusted(page("Strict-Transport-Security", "max-age=31536000")),
		"untrusted redirect": untrusted(endpoint(chain(answer(u, 200)), chain(redirect(h, u), answer(u, 200)))),
		"invalid hsts":       page("Strict-Transport-Security", "max-age=31536000; max-age=1"),
		"cors reset":         noCORS(page(), reset),
		"redirect loop": endpoint(chain(answer(u, 200)), Chain{Hops: []Hop{redirect(h, h+"a")},
			Failure: &Failure{Kind: FailRedirects, URL: h + "a", Message: "more than 10 redirects"}}),
		"no answer": {Address: "192.0.2.10", HTTPS: realFailure(FailRefused, u, refused), HTTP: realFailure(FailTimeout, h, timeout)},
	}
	for _, p := range []check.Profile{check.ProfileKhien, check.ProfileObservatory, check.ProfileTestssl} {
		fam := Family(Options{Grading: GradingFor(p)})
		for name, e := range observations {
			for _, c := range fam.Checks {
				res := c.Evaluate(observation(e))
				res.Check = string(p) + " " + name + " " + c.ID
				checktest.VietnameseOnly(t, res)
			}
		}
	}
	// The technical account stays where a reader of English or of the evidence looks.
	g := GradingFor(check.ProfileObservatory)
	if got := g.httpsMissing(observation(observations["https refused"])); !strings.Contains(got.Reason.EN, refused) || !strings.Contains(got.Reason.VI, "máy đích từ chối kết nối") {
		t.Errorf("https.missing on refused: %+v", got.Reason)
	}
	if got := g.hstsMissing(observation(observations["untrusted"])); !strings.Contains(got.Reason.EN, x509Err) || !strings.Contains(got.Reason.VI, "do tổ chức cấp chứng thư không được tin cậy ký") {
		t.Errorf("hsts.missing on an untrusted certificate: %+v", got.Reason)
	}
	if got := g.corsPermissive(observation(observations["cors reset"])); !strings.Contains(got.Reason.EN, reset) {
		t.Errorf("cors.permissive on a reset probe: %+v", got.Reason)
	}
	if got := g.hstsMissing(observation(observations["invalid hsts"])); got.Evidence["error"] == nil {
		t.Errorf("hsts.missing on an invalid header lost the parse error: %+v", got)
	}
}
