package web

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/check"
)

// TestCatalogComplete checks that every message has both languages and that every key the
// templates and handlers name is in the catalog.
func TestCatalogComplete(t *testing.T) {
	for k, m := range messages {
		if strings.TrimSpace(m.vi) == "" || strings.TrimSpace(m.en) == "" {
			t.Errorf("message %q lacks a language: %+v", k, m)
		}
	}
	keyRe := regexp.MustCompile(`\.T "([a-z0-9.]+)"|"((?:login|tree|org|system|accept|finding|findings|err|empty|nav|col|gate)\.[a-z0-9.]+)"`)
	files, _ := os.ReadDir("templates")
	var sources []string
	for _, f := range files {
		sources = append(sources, "templates/"+f.Name())
	}
	sources = append(sources, "ui.go", "ui_pages.go")
	for _, name := range sources {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if m[1]+m[2] == "family." {
				continue // named from the data: checked below
			}
			k := m[1] + m[2]
			if _, ok := messages[k]; !ok && !strings.HasSuffix(k, ".") {
				t.Errorf("%s names %q, which is not in the catalog", name, k)
			}
		}
	}
}

// TestFamilyNames: every family a finding can belong to (the prefix of every check id of the
// catalog) and every family the findings filter offers has a name in both languages.
func TestFamilyNames(t *testing.T) {
	cat, err := check.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	fams := slices.Clone(findingFamilies)
	for _, d := range cat.All() {
		fams = append(fams, d.Family())
	}
	for _, f := range fams {
		if _, ok := messages["family."+f]; !ok {
			t.Errorf("family %q has no name in the catalog (family.%s)", f, f)
		}
	}
}

// pageSession signs login in and returns its headers and a client of the pages.
func pageGet(t *testing.T, tp *twoProvinces, hdr http.Header, path string) (int, string) {
	t.Helper()
	rec := send(t, tp.srv, "GET", path, "", hdr)
	return rec.Code, rec.Body.String()
}

// TestPagesInOneLanguage renders every page in Vietnamese and in English and checks that
// each shows no catalog string of the other language (those that differ and are long enough
// not to be a word of both).
func TestPagesInOneLanguage(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-officer")
	fp := tp.hnFP(t)
	paths := []string{"/", "/orgs/HN", "/orgs/HN.STTTT", "/systems/hn-portal", "/systems/hn-mail", "/findings", "/findings?severity=high&family=tls&status=open&age=0", "/findings/" + fp, "/resources/dns:x.vn/verify", "/orgs/XX"}
	for _, l := range []lang{langVI, langEN} {
		h := hdr.Clone()
		h.Set("Cookie", h.Get("Cookie")+"; lang="+string(l))
		for _, p := range paths {
			code, body := pageGet(t, tp, h, p)
			if code != 200 && p != "/orgs/XX" {
				t.Errorf("%s GET %s = %d", l, p, code)
			}
			if !strings.Contains(body, `<html lang="`+string(l)+`">`) {
				t.Errorf("%s GET %s: not in %s", l, p, l)
			}
			for k, m := range messages {
				other := m.en
				if l == langEN {
					other = m.vi
				}
				if m.vi == m.en || len(other) < 12 {
					continue
				}
				if strings.Contains(body, ">"+other+"<") || strings.Contains(body, ">"+other+" ") {
					t.Errorf("%s GET %s shows %q (%s) of the other language", l, p, other, k)
				}
			}
		}
	}
	if code, body := pageGet(t, tp, hdr, "/systems/hn-portal"); code != 200 || !strings.Contains(body, "dns:x.vn") || !strings.Contains(body, "accept") {
		t.Errorf("system page = %d, lacks its resources or accept form:\n%s", code, body)
	}
}

// hnFP is the fingerprint of the HN finding.
func (tp *twoProvinces) hnFP(t *testing.T) string {
	t.Helper()
	rec := send(t, tp.srv, "GET", "/api/v1/findings", "", bearer(tp.tokens["hn-admin"]))
	m := regexp.MustCompile(`"fingerprint":"([0-9a-f]+)"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no HN finding: %s", rec.Body)
	}
	return m[1]
}

// pageCase is an attempt of a principal of HN on DN through a page.
type pageCase struct {
	pattern, method, path, form string
	want                        []int
}

// TestPageScopeIsolation walks every page route as principals of province A and tries to
// reach province B: nothing of B may show, B's objects answer as missing ones.
func TestPageScopeIsolation(t *testing.T) {
	tp := newTwoProvinces(t)
	fp := tp.dnFP
	cases := []pageCase{
		{"GET /static/{name}", "GET", "/static/app.css", "", []int{200}},
		{"GET /login", "GET", "/login", "", []int{303}},
		{"POST /login", "POST", "/login", "login=dn-officer&password=x", []int{401}},
		{"POST /lang", "POST", "/lang", "lang=en&next=/orgs/DN", []int{303}},
		{"GET /{$}", "GET", "/", "", listed},
		{"GET /orgs/{code}", "GET", "/orgs/DN", "", hidden},
		{"GET /orgs/{code}", "GET", "/orgs/DN.STTTT", "", hidden},
		{"GET /systems/{id}", "GET", "/systems/dn-portal", "", hidden},
		{"POST /systems/{id}/scan", "POST", "/systems/dn-portal/scan", "", hidden},
		{"GET /findings", "GET", "/findings", "", listed},
		{"GET /findings", "GET", "/findings?family=tls", "", listed},
		{"GET /findings.csv", "GET", "/findings.csv", "", listed},
		{"GET /findings/{fingerprint}", "GET", "/findings/" + fp, "", refused},
		{"POST /findings/{fingerprint}/accept", "POST", "/findings/" + fp + "/accept", "reason=spy&expires=2026-05-01&back=/", refused},
		{"GET /resources/{id}/verify", "GET", "/resources/dns:y.vn/verify", "", refused},
		{"POST /resources/{id}/verify", "POST", "/resources/dns:y.vn/verify", "", refused},
		{"POST /resources/{id}/challenge", "POST", "/resources/dns:y.vn/challenge", "", refused},
		{"POST /logout", "POST", "/logout", "", []int{303}},
	}
	cases = append(tp.adminPageCases(), cases...) // the administration pages (ui_admin_test.go); logout stays last
	var routes patternRecorder
	addPages(&routes, Deps{})
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
		if !slices.Contains(routes, c.pattern) {
			t.Errorf("case for %s, which is not a page", c.pattern)
		}
	}
	for _, r := range routes {
		if !covered[r] {
			t.Errorf("page %s has no case in TestPageScopeIsolation", r)
		}
	}
	before := tp.stateOfB(t)
	for _, login := range []string{"hn-admin", "hn-officer", "hn-leader", "hn-auditor"} {
		t.Run(login, func(t *testing.T) {
			hdr := tp.signIn(t, login)
			for _, c := range cases {
				h := hdr.Clone()
				body := c.form
				if c.method == "POST" {
					v, _ := url.ParseQuery(c.form)
					v.Set("csrf", h.Get(csrfHeader))
					body = v.Encode()
				}
				h.Del(csrfHeader)
				rec := sendForm(t, tp, c.method, c.path, body, h)
				if !slices.Contains(c.want, rec.Code) {
					t.Errorf("%s %s = %d; want %v\n%s", c.method, c.path, rec.Code, c.want, rec.Body)
				}
				for _, m := range tp.provinceB() {
					if strings.Contains(rec.Body.String(), strings.Trim(m, `"`)) && !strings.Contains(c.path+c.form, strings.Trim(m, `"`)) && m != `"DN"` {
						t.Errorf("%s %s shows %s of province B", c.method, c.path, m)
					}
				}
			}
		})
	}
	if after := tp.stateOfB(t); !reflectEqual(before, after) {
		t.Errorf("province B changed")
	}
	// Without a session, pages send the browser to the sign-in page.
	for _, c := range cases {
		if publicPages[c.pattern] || c.method != "GET" {
			continue
		}
		if rec := send(t, tp.srv, "GET", c.path, "", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Errorf("GET %s without a session = %d %s", c.path, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func sendForm(t *testing.T, tp *twoProvinces, method, path, form string, hdr http.Header) *httptestRecorder {
	t.Helper()
	h := hdr.Clone()
	if method == "POST" {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return sendBody(t, tp.srv, method, path, form, h)
}

// TestSecurityHeaders checks the headers of a page and of the API.
func TestSecurityHeaders(t *testing.T) {
	tp := newTwoProvinces(t)
	for _, p := range []string{"/login", "/api/v1/openapi.json", "/static/app.css"} {
		rec := send(t, tp.srv, "GET", p, "", nil)
		h := rec.Header()
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if h.Get(k) != want {
				t.Errorf("GET %s: %s = %q, want %q", p, k, h.Get(k), want)
			}
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		if !strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") || h.Get("Server") != "" {
			t.Errorf("GET %s: HSTS %q, Server %q", p, h.Get("Strict-Transport-Security"), h.Get("Server"))
		}
	}
}
