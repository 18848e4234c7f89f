package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/inventory"
)

// verifyServer is a server over tp's store and accounts that proves ownership with pr (nil:
// not configured), as a deployment with a resolver and the fenced HTTP client would.
func verifyServer(t *testing.T, tp *twoProvinces, pr inventory.Prover) http.Handler {
	t.Helper()
	inv := inventory.NewService(tp.db, fixedNow)
	return NewServer(Deps{Log: testLog(t), Inventory: inv, Auth: tp.a, Assess: assess.NewService(inv, tp.db, nil, nil, fixedNow, testLog(t)),
		Now: tp.now, Prover: pr})
}

// pageDo serves a page request of hdr's session: a GET, or a POST of form with the session's
// CSRF token in its csrf field unless form sets one.
func pageDo(t *testing.T, srv http.Handler, hdr http.Header, method, path string, form url.Values) *httptestRecorder {
	t.Helper()
	h := hdr.Clone()
	body := ""
	if method == "POST" {
		if form == nil {
			form = url.Values{}
		}
		if form.Get("csrf") == "" {
			form.Set("csrf", hdr.Get(csrfHeader))
		}
		body = form.Encode()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	h.Del(csrfHeader)
	return sendBody(t, srv, method, path, body, h)
}

// challenges counts the resource.challenge entries of the audit log.
func challenges(t *testing.T, tp *twoProvinces) int {
	t.Helper()
	rec := send(t, tp.srv, "GET", "/api/v1/audit?object_type=resource&limit=100", "", bearer(tp.tokens["hn-admin"]))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/audit = %d %s", rec.Code, rec.Body)
	}
	return strings.Count(rec.Body.String(), `"action":"resource.challenge"`)
}

// auditCount counts the resource.verify entries of the audit log.
func auditCount(t *testing.T, tp *twoProvinces) int {
	t.Helper()
	rec := send(t, tp.srv, "GET", "/api/v1/audit?object_type=resource&limit=100", "", bearer(tp.tokens["hn-admin"]))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/audit = %d %s", rec.Code, rec.Body)
	}
	return strings.Count(rec.Body.String(), `"action":"resource.verify"`)
}

// TestVerifyPage walks the ownership page: the link on the system's page, the challenge
// issued once and shown in both languages, a check that fails with its reason, one that
// succeeds, and the refusals.
func TestVerifyPage(t *testing.T) {
	tp := newTwoProvinces(t)
	failing := verifyServer(t, tp, prover{err: notProven})
	admin, auditor := tp.signIn(t, "hn-officer"), tp.signIn(t, "hn-auditor")

	// The system's page links each resource not yet verified, for those who may write.
	rec := pageDo(t, failing, admin, "GET", "/systems/hn-portal", nil)
	for _, want := range []string{`href="/resources/dns:x.vn/verify"`, `href="/resources/url:https:%2f%2fx.vn%2f/verify"`, "Xác minh quyền sở hữu"} {
		if !strings.Contains(strings.ToLower(rec.Body.String()), strings.ToLower(want)) {
			t.Errorf("the system page lacks %s:\n%s", want, rec.Body)
		}
	}
	if rec := pageDo(t, failing, auditor, "GET", "/systems/hn-portal", nil); rec.Code != 200 || strings.Contains(rec.Body.String(), "verify-link") {
		t.Errorf("an auditor's system page = %d, offers to verify:\n%s", rec.Code, rec.Body)
	}

	// Opening the page changes nothing: it offers to issue the challenge. Issuing it (a form)
	// is audited once; the page then shows it, unchanged on every visit.
	rec = pageDo(t, failing, admin, "GET", "/resources/dns:x.vn/verify", nil)
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, `action="/resources/dns:x.vn/challenge"`) || strings.Contains(body, "verify-http-token") {
		t.Fatalf("the ownership page before a challenge = %d:\n%s", rec.Code, body)
	}
	if n := challenges(t, tp); n != 0 {
		t.Fatalf("%d challenges after opening the page; want none", n)
	}
	for range 2 {
		rec = pageDo(t, failing, admin, "POST", "/resources/dns:x.vn/challenge", nil)
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/resources/dns:x.vn/verify" {
			t.Fatalf("issuing the challenge = %d %s; want 303 to the ownership page", rec.Code, loc)
		}
	}
	var token string
	for i, l := range []lang{langVI, langEN} {
		h := admin.Clone()
		h.Set("Cookie", h.Get("Cookie")+"; lang="+string(l))
		rec := pageDo(t, failing, h, "GET", "/resources/dns:x.vn/verify", nil)
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Fatalf("%s GET the ownership page = %d:\n%s", l, rec.Code, body)
		}
		m := regexp.MustCompile(`id="verify-http-token">([a-z2-7]+)<`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: the page shows no token:\n%s", l, body)
		}
		if i > 0 && m[1] != token {
			t.Errorf("the second visit shows token %s, the first %s", m[1], token)
		}
		token = m[1]
		want := []string{`id="verify-dns-name">_khien-challenge.x.vn<`, `id="verify-dns-value">khien-verification=` + token + `<`,
			`id="verify-http-url">http://x.vn/.well-known/khien-verification.txt<`, `id="verify-now"`, tr(l, "verify.intro"), tr(l, "verify.dns.name")}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the ownership page lacks %s", l, w)
			}
		}
	}
	if n := challenges(t, tp); n != 1 {
		t.Errorf("%d challenges recorded after issuing twice and two visits; want 1", n)
	}

	// A database proves ownership by a value written into it: the page gives the SQL.
	if _, err := inventory.NewService(tp.db, fixedNow).CreateResource(t.Context(), inventory.Resource{ID: "db:postgres://127.0.0.1/hn", System: "hn-portal"}); err != nil {
		t.Fatal(err)
	}
	pageDo(t, failing, admin, "POST", "/resources/"+url.PathEscape("db:postgres://127.0.0.1/hn")+"/challenge", nil)
	rec = pageDo(t, failing, admin, "GET", verifyPath("db:postgres://127.0.0.1/hn"), nil)
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, `id="verify-sql">COMMENT ON DATABASE &#34;hn&#34; IS &#39;khien-verification=`) || strings.Contains(body, "verify-dns-name") {
		t.Errorf("the ownership page of a database = %d:\n%s", rec.Code, body)
	}

	// A check that fails goes back to the system's page with the reason.
	rec = pageDo(t, failing, admin, "POST", "/resources/dns:x.vn/verify", nil)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/systems/hn-portal?e=verify" {
		t.Fatalf("a failing check = %d %s; want 303 to the system's page", rec.Code, loc)
	}
	if body := pageDo(t, failing, admin, "GET", "/systems/hn-portal?e=verify", nil).Body.String(); !strings.Contains(body, tr(langVI, "verify.failed")) {
		t.Errorf("the system page does not say why the check failed:\n%s", body)
	}
	// A check that fails with the prover's account shows the ownership page again (422), each
	// method's reason in the page's language and nothing of the other, nor the English detail.
	proof := &inventory.ProofError{Resource: "dns:x.vn", Attempts: []inventory.ProofAttempt{
		{Method: inventory.ProofDNSTXT, Target: "_khien-challenge.x.vn", Outcome: inventory.OutcomeRecordMissing, Seen: 2,
			Expected: "khien-verification=" + token, Detail: "DNS TXT _khien-challenge.x.vn: 2 record(s), none is the value"},
		{Method: inventory.ProofHTTP, Target: "http://x.vn/.well-known/khien-verification.txt", Outcome: inventory.OutcomeHTTPStatus, Status: 404,
			Detail: "HTTP http://x.vn/.well-known/khien-verification.txt: status 404, body is not the token"},
	}}
	explained := verifyServer(t, tp, prover{err: proof})
	before := auditCount(t, tp)
	for _, l := range []lang{langVI, langEN} {
		h := admin.Clone()
		h.Set("Cookie", h.Get("Cookie")+"; lang="+string(l))
		rec := pageDo(t, explained, h, "POST", "/resources/dns:x.vn/verify", nil)
		body := rec.Body.String()
		if rec.Code != http.StatusUnprocessableEntity || rec.Header().Get("Location") != "" {
			t.Fatalf("%s: a check failing with reasons = %d %s; want 422 on the ownership page", l, rec.Code, rec.Header().Get("Location"))
		}
		other := langEN
		if l == langEN {
			other = langVI
		}
		want := []string{`id="verify-failed"`, tr(l, "verify.why"), tr(l, "verify.retry"), `id="verify-now"`, `id="verify-http-token">` + token + `<`}
		var unwanted []string
		for _, a := range proof.Attempts {
			r := a.Reason()
			mine, theirs := r.VI, r.EN
			if l == langEN {
				mine, theirs = r.EN, r.VI
			}
			want = append(want, template.HTMLEscapeString(mine))
			unwanted = append(unwanted, template.HTMLEscapeString(theirs), a.Detail)
		}
		unwanted = append(unwanted, tr(other, "verify.why"), tr(other, "verify.retry"), tr(l, "verify.failed"))
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page of a failed check lacks %q:\n%s", l, w, body)
			}
		}
		for _, u := range unwanted {
			if strings.Contains(body, u) {
				t.Errorf("%s: the page of a failed check shows %q", l, u)
			}
		}
		if got := strings.Count(body, `class="verify-reason"`); got != len(proof.Attempts) {
			t.Errorf("%s: %d reasons shown, want %d", l, got, len(proof.Attempts))
		}
	}
	if n := auditCount(t, tp); n != before {
		t.Errorf("failed checks added %d audit entries; want none, as before", n-before)
	}
	// The Vietnamese reason reads as a sentence of its own.
	if r := proof.Attempts[0].Reason().VI; r != "Không tìm thấy bản ghi TXT khien-verification="+token+" tại _khien-challenge.x.vn (thấy 2 bản ghi khác)." {
		t.Errorf("Vietnamese reason = %q", r)
	}
	// The same account reaches API clients, attempt by attempt.
	api := send(t, explained, "POST", "/api/v1/resources/dns:x.vn/verify", "", bearer(tp.tokens["hn-admin"]))
	if api.Code != http.StatusBadRequest {
		t.Fatalf("POST /api/v1/resources/dns:x.vn/verify = %d %s", api.Code, api.Body)
	}
	var e struct {
		Error struct {
			Code     string `json:"code"`
			Message  string `json:"message"`
			Attempts []struct {
				Method, Target, Outcome string
				Status, Seen            int
				Reason                  struct{ VI, EN string }
			} `json:"attempts"`
		} `json:"error"`
	}
	if err := json.Unmarshal(api.Body.Bytes(), &e); err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal(api.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, p := range checkSchema(t, openAPIDoc(t), map[string]any{"$ref": "#/components/schemas/Error"}, got, "") {
		t.Errorf("the verify error departs from openapi.json: %s\n%s", p, api.Body)
	}
	if e.Error.Code != "invalid" || e.Error.Message != proof.Error() || len(e.Error.Attempts) != 2 {
		t.Fatalf("API error = %s", api.Body)
	}
	for i, a := range e.Error.Attempts {
		p := proof.Attempts[i]
		if a.Method != p.Method || a.Target != p.Target || a.Outcome != string(p.Outcome) || a.Status != p.Status || a.Seen != p.Seen || a.Reason.VI != p.Reason().VI || a.Reason.EN != p.Reason().EN {
			t.Errorf("API attempt %d = %+v; want %+v", i, a, p)
		}
	}

	rec = pageDo(t, failing, admin, "POST", "/resources/url:https:%2F%2Fx.vn%2F/verify", nil)
	if loc := rec.Header().Get("Location"); loc != "/systems/hn-portal?e=verifynone" {
		t.Errorf("checking a resource without a challenge = %d %s", rec.Code, loc)
	}

	// Refusals: a role without inventory:write, a forged form, another province, no prover.
	refusals := []struct {
		name   string
		srv    http.Handler
		hdr    http.Header
		method string
		path   string
		form   url.Values
		code   int
		want   string
	}{
		{"auditor sees no challenge", failing, auditor, "GET", "/resources/dns:x.vn/verify", nil, 403, tr(langVI, "err.forbidden")},
		{"auditor cannot check", failing, auditor, "POST", "/resources/dns:x.vn/verify", nil, 403, tr(langVI, "err.forbidden")},
		{"auditor cannot issue", failing, auditor, "POST", "/resources/dns:x.vn/challenge", nil, 403, tr(langVI, "err.forbidden")},
		{"forged CSRF token on issuing", failing, admin, "POST", "/resources/dns:x.vn/challenge", url.Values{"csrf": {"forged-" + strings.Repeat("0", 40)}}, 403, "csrf"},
		{"another province's challenge", failing, admin, "POST", "/resources/dns:y.vn/challenge", nil, 404, tr(langVI, "err.notfound")},
		{"forged CSRF token", failing, admin, "POST", "/resources/dns:x.vn/verify", url.Values{"csrf": {"forged-" + strings.Repeat("0", 40)}}, 403, "csrf"},
		{"another province", failing, admin, "GET", "/resources/dns:y.vn/verify", nil, 404, tr(langVI, "err.notfound")},
		{"missing resource", failing, admin, "GET", "/resources/dns:zz.vn/verify", nil, 404, tr(langVI, "err.notfound")},
		{"no prover", verifyServer(t, tp, nil), admin, "POST", "/resources/dns:x.vn/verify", nil, 503, tr(langVI, "verify.unavailable")},
	}
	for _, c := range refusals {
		rec := pageDo(t, c.srv, c.hdr, c.method, c.path, c.form)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s: %s %s = %d; want %d with %q:\n%s", c.name, c.method, c.path, rec.Code, c.code, c.want, rec.Body)
		}
	}
	if body := pageDo(t, verifyServer(t, tp, nil), admin, "GET", "/resources/dns:x.vn/verify", nil).Body.String(); strings.Contains(body, `id="verify-now"`) || !strings.Contains(body, tr(langVI, "verify.unavailable")) {
		t.Errorf("without a prover the page offers the check:\n%s", body)
	}

	// A check that succeeds verifies the resource; its link goes.
	proving := verifyServer(t, tp, prover{how: "dns-txt _khien-challenge.x.vn"})
	rec = pageDo(t, proving, admin, "POST", "/resources/dns:x.vn/verify", nil)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/systems/hn-portal?done=verified" {
		t.Fatalf("a proven check = %d %s", rec.Code, loc)
	}
	body := pageDo(t, proving, admin, "GET", "/systems/hn-portal?done=verified", nil).Body.String()
	if !strings.Contains(body, tr(langVI, "verify.done")) || strings.Contains(body, `href="/resources/dns:x.vn/verify"`) {
		t.Errorf("after the check the system page = \n%s", body)
	}
	if rec := send(t, tp.srv, "GET", "/api/v1/resources/dns:x.vn", "", bearer(tp.tokens["hn-admin"])); !strings.Contains(rec.Body.String(), `"scope":"verified"`) {
		t.Errorf("the resource is not verified: %s", rec.Body)
	}
	if body := pageDo(t, proving, admin, "GET", "/resources/dns:x.vn/verify", nil).Body.String(); !strings.Contains(body, tr(langVI, "verify.already")) || strings.Contains(body, "verify-now") {
		t.Errorf("the page of a verified resource = \n%s", body)
	}
}
