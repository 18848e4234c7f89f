package web

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/assurance"
	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/control"
	"github.com/khien-vn/khien/internal/finding"
	"github.com/khien-vn/khien/internal/index"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// twoProvinces is a server over two provinces, HN (province A, from seed) and DN (province
// B), with accounts and tokens in each, findings in each, and changes recorded in the audit
// log of each.
//
//	HN ── HN.STTTT ── hn-portal: dns:x.vn, url:https://x.vn/   findings of dns:x.vn
//	               └─ hn-mail
//	DN ── DN.STTTT ── dn-portal: dns:y.vn                      findings of dns:y.vn
type twoProvinces struct {
	srv      http.Handler
	db       *sqlite.DB
	a        *auth.Service
	users    map[string]auth.User // by login
	tokens   map[string]string    // secret by login of the owner
	totp     map[string]string    // second-factor secret by login, for administrators
	dnToken  string               // the id of a DN token
	dnFP     string               // the fingerprint of a DN finding
	password string
	clock    time.Time // moves on at each sign-in with a code, which works only once
	dnAtt    string    // the id of a DN attestation
}

// seedAssuranceB gives province B an attestation, an incident and a gate decision, and returns
// the attestation's id.
func seedAssuranceB(t *testing.T, gov *assurance.Service) string {
	t.Helper()
	ctx := t.Context()
	att, err := gov.Declare(ctx, control.Attestation{Control: "org.policy.approved", Org: "DN", DeclaredBy: "dn-officer"},
		[]assurance.File{{Name: "quyche-dn.pdf", Content: []byte("Quy chế Đà Nẵng")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gov.ReportIncident(ctx, index.Incident{ID: "SC-DN-1", Org: "DN.STTTT", System: "dn-portal", Serious: true,
		DiscoveredAt: testTime.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gov.Decide(ctx, "dn-portal", inventory.StageOperation, "dn-admin"); err != nil {
		t.Fatal(err)
	}
	return att.ID
}

func (tp *twoProvinces) now() time.Time { return tp.clock }

func newTwoProvinces(t *testing.T) *twoProvinces {
	t.Helper()
	ctx := t.Context()
	db := openStore(t)
	inv := inventory.NewService(db, fixedNow)
	seed(t, inv)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(inv.CreateOrg(ctx, inventory.Organization{Code: "DN", Name: "Thành phố Đà Nẵng", Level: inventory.LevelProvince}))
	must(inv.CreateOrg(ctx, inventory.Organization{Code: "DN.STTTT", Name: "Sở TT&TT Đà Nẵng", Level: inventory.LevelDepartment, Parent: "DN"}))
	must(inv.CreateSystem(ctx, inventory.System{ID: "dn-portal", Org: "DN.STTTT", Name: "Cổng Đà Nẵng", Level: 3, Stage: inventory.StageOperation}))
	must(inv.CreateResource(ctx, inventory.Resource{ID: "dns:y.vn", System: "dn-portal", Scope: inventory.ScopeAssigned, ScopeReason: "ticket 7"}))

	tls10 := "tls.protocol.tls10"
	for _, r := range []struct{ run, resource, system string }{{"run-hn", "dns:x.vn", "hn-portal"}, {"run-dn", "dns:y.vn", "dn-portal"}} {
		_, err := db.RecordRun(ctx, assess.Run{ID: r.run, Resource: r.resource, System: r.system, Trigger: assess.TriggerSchedule,
			Status: assess.RunComplete, Started: testTime.Add(-time.Hour), Finished: testTime.Add(-time.Hour + time.Minute)},
			[]check.Result{{Check: tls10, Resource: r.resource, Endpoint: r.resource + "|192.0.2.7:443", Status: check.Fail,
				Reason: check.Text{VI: "TLS 1.0", EN: "TLS 1.0"}, At: testTime.Add(-time.Hour)}},
			map[string]check.Severity{tls10: check.High})
		if err != nil {
			t.Fatal(err)
		}
	}

	tp := &twoProvinces{db: db, users: map[string]auth.User{}, tokens: map[string]string{}, totp: map[string]string{},
		dnFP: finding.Fingerprint(tls10, "dns:y.vn", "dns:y.vn|192.0.2.7:443"), password: "mật khẩu đủ dài để thử", clock: testTime}
	a := newAuth(t, db, tp.now)
	svc := assess.NewService(inv, db, nil, nil, fixedNow, testLog(t))
	gov, err := assurance.NewService(db, db, db, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	tp.a, tp.srv = a, NewServer(Deps{Log: testLog(t), Inventory: inv, Auth: a, Assess: svc, Assurance: gov, Now: tp.now})
	tp.dnAtt = seedAssuranceB(t, gov)
	op := auth.WithPrincipal(ctx, auth.Operator("test"))
	for _, u := range []struct {
		login string
		role  auth.Role
		org   string
	}{
		{"hn-admin", auth.OrgAdmin, "HN"},
		{"hn-officer", auth.SecurityOfficer, "HN"},
		{"hn-auditor", auth.Auditor, "HN"},
		{"hn-leader", auth.Leader, "HN"},
		{"dn-admin", auth.OrgAdmin, "DN"},
		{"dn-officer", auth.SecurityOfficer, "DN.STTTT"},
	} {
		created, uri, err := a.CreateUser(op, auth.NewUser{Login: u.login, Role: u.role, Org: u.org, Password: tp.password})
		if err != nil {
			t.Fatal(err)
		}
		tp.users[u.login] = created
		if uri != "" {
			tp.totp[u.login] = secretOf(t, uri)
		}
		as := auth.WithPrincipal(ctx, auth.UserPrincipal(created))
		tok, secret, err := a.CreateToken(as, auth.NewToken{Name: "CI " + u.login, Actions: auth.ActionsOf(u.role)})
		if err != nil {
			t.Fatal(err)
		}
		tp.tokens[u.login] = secret
		if u.login == "dn-admin" {
			tp.dnToken = tok.ID
		}
	}
	// A change in each province, recorded in the audit log.
	for _, c := range []struct{ login, system string }{{"hn-admin", "hn-mail"}, {"dn-admin", "dn-portal"}} {
		as := auth.WithPrincipal(ctx, auth.UserPrincipal(tp.users[c.login]))
		sys, err := a.Inventory(inv).System(as, c.system)
		if err != nil {
			t.Fatal(err)
		}
		sys.Purpose = "đã rà soát"
		must(a.Inventory(inv).UpdateSystem(as, sys))
	}
	return tp
}

// send serves one request with headers.
func send(t *testing.T, h http.Handler, method, path, body string, hdr http.Header) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	maps.Copy(req.Header, hdr)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func bearer(secret string) http.Header { return http.Header{"Authorization": {"Bearer " + secret}} }

// signIn signs login in through the API and returns the headers its requests carry: the
// session cookie and the CSRF token.
func (tp *twoProvinces) signIn(t *testing.T, login string) http.Header {
	t.Helper()
	code := ""
	if secret, ok := tp.totp[login]; ok {
		tp.clock = tp.clock.Add(30 * time.Second)
		var err error
		if code, err = auth.TOTP(secret, tp.clock); err != nil {
			t.Fatal(err)
		}
	}
	rec := send(t, tp.srv, "POST", "/api/v1/session", `{"login":"`+login+`","password":"`+tp.password+`","totp":"`+code+`"}`, nil)
	if rec.Code != http.StatusCreated {
		t.Fatalf("sign in %s = %d %s", login, rec.Code, rec.Body)
	}
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &s)
	var cookie string
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" || s.CSRFToken == "" {
		t.Fatalf("sign in %s: no cookie or CSRF token: %s", login, rec.Body)
	}
	hdr := http.Header{}
	hdr.Set("Cookie", cookie)
	hdr.Set(csrfHeader, s.CSRFToken)
	return hdr
}

// secretOf is the secret of an otpauth:// URI.
func secretOf(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Query().Get("secret") == "" {
		t.Fatalf("provisioning URI %q: %v", uri, err)
	}
	return u.Query().Get("secret")
}

// provinceB is what of DN a principal of HN must never see, whatever the route.
func (tp *twoProvinces) provinceB() []string {
	return []string{`"DN"`, "DN.STTTT", "Đà Nẵng", "dn-portal", "y.vn", "dn-admin", "dn-officer", tp.dnAtt, "SC-DN-1", "quyche-dn",
		tp.users["dn-admin"].ID, tp.users["dn-officer"].ID, tp.dnToken, tp.dnFP, "run-dn", "/DN/"}
}

// stateOfB is everything of DN as stored, to check that no request changed it.
func (tp *twoProvinces) stateOfB(t *testing.T) any {
	t.Helper()
	ctx := t.Context()
	snap, err := tp.db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var state []any
	for _, o := range snap.Orgs {
		if strings.HasPrefix(o.Code, "DN") {
			state = append(state, o)
		}
	}
	for _, s := range snap.Systems {
		if s.ID == "dn-portal" {
			state = append(state, s)
		}
	}
	for _, r := range snap.Resources {
		if r.System == "dn-portal" {
			state = append(state, r)
		}
	}
	users, _, _ := tp.db.Users(ctx, auth.UserFilter{Under: "DN"})
	toks, _, _ := tp.db.Tokens(ctx, auth.TokenFilter{Under: "DN"})
	for _, tk := range toks {
		tk.LastUsed = time.Time{} // a use of a token is not a change of it
		state = append(state, tk)
	}
	fs, _, _ := tp.db.Findings(ctx, assess.FindingFilter{Under: "DN", At: testTime})
	entries, n, _ := tp.db.AuditEntries(ctx, audit.Filter{Under: "DN"})
	return append(state, users, fs, entries, n)
}

// scopeCase is one attempt of a principal of HN on DN. want lists the statuses allowed.
type scopeCase struct {
	pattern      string // the route, as addRoutes registers it
	method, path string
	body         string
	want         []int
	twin         string // a path naming a missing object instead: its answer must be the same
}

var (
	hidden    = []int{http.StatusNotFound}
	refused   = []int{http.StatusForbidden, http.StatusNotFound}
	listed    = []int{http.StatusOK, http.StatusForbidden} // 403 for a role without the read action
	forbidden = []int{http.StatusForbidden}
)

// scopeCases are, for every route, the ways a principal of HN could reach into DN.
func (tp *twoProvinces) scopeCases() []scopeCase {
	dnUser, fp := tp.users["dn-officer"].ID, tp.dnFP
	sysBody := `{"org":"DN.STTTT","name":"Chiếm","level":1,"stage":"build"}`
	return []scopeCase{
		{pattern: "GET /healthz", method: "GET", path: "/healthz", want: []int{200}},
		{pattern: "GET /api/v1/openapi.json", method: "GET", path: "/api/v1/openapi.json", want: []int{200}},
		{pattern: "GET /metrics", method: "GET", path: "/metrics", want: forbidden},
		{pattern: "POST /api/v1/session", method: "POST", path: "/api/v1/session", body: `{"login":"dn-officer","password":"đoán mò mật khẩu"}`, want: []int{401, 429}},
		{pattern: "GET /api/v1/me", method: "GET", path: "/api/v1/me", want: []int{200}},

		{pattern: "GET /api/v1/users", method: "GET", path: "/api/v1/users", want: listed},
		{pattern: "GET /api/v1/users", method: "GET", path: "/api/v1/users?under=DN", want: listed},
		{pattern: "GET /api/v1/users", method: "GET", path: "/api/v1/users?role=org_admin", want: listed},
		{pattern: "POST /api/v1/users", method: "POST", path: "/api/v1/users", body: `{"login":"spy","role":"auditor","org":"DN","password":"mật khẩu đủ dài để thử"}`, want: forbidden},
		{pattern: "GET /api/v1/users/{id}", method: "GET", path: "/api/v1/users/" + dnUser, want: refused, twin: "/api/v1/users/u-missing"},
		{pattern: "PUT /api/v1/users/{id}", method: "PUT", path: "/api/v1/users/" + dnUser, body: `{"name":"x","role":"auditor","org":"HN","disabled":true}`, want: refused, twin: "/api/v1/users/u-missing"},

		{pattern: "GET /api/v1/tokens", method: "GET", path: "/api/v1/tokens", want: listed},
		{pattern: "POST /api/v1/tokens", method: "POST", path: "/api/v1/tokens", body: `{"name":"spy","org":"DN","actions":["inventory:read"]}`, want: forbidden},
		{pattern: "GET /api/v1/tokens/{id}", method: "GET", path: "/api/v1/tokens/" + tp.dnToken, want: refused, twin: "/api/v1/tokens/missing"},
		{pattern: "DELETE /api/v1/tokens/{id}", method: "DELETE", path: "/api/v1/tokens/" + tp.dnToken, want: refused, twin: "/api/v1/tokens/missing"},

		{pattern: "GET /api/v1/audit", method: "GET", path: "/api/v1/audit", want: listed},
		{pattern: "GET /api/v1/audit", method: "GET", path: "/api/v1/audit?under=DN", want: listed},
		{pattern: "GET /api/v1/audit", method: "GET", path: "/api/v1/audit?object_id=dn-portal", want: listed},

		{pattern: "GET /api/v1/organizations", method: "GET", path: "/api/v1/organizations", want: listed},
		{pattern: "GET /api/v1/organizations", method: "GET", path: "/api/v1/organizations?under=DN", want: listed},
		{pattern: "GET /api/v1/organizations", method: "GET", path: "/api/v1/organizations?parent=DN", want: listed},
		{pattern: "POST /api/v1/organizations", method: "POST", path: "/api/v1/organizations", body: `{"code":"DN.X","name":"X","level":"department","parent":"DN"}`, want: forbidden},
		{pattern: "POST /api/v1/organizations", method: "POST", path: "/api/v1/organizations", body: `{"code":"ROOT2","name":"X","level":"province"}`, want: forbidden},
		{pattern: "GET /api/v1/organizations/{code}", method: "GET", path: "/api/v1/organizations/DN", want: refused, twin: "/api/v1/organizations/XX"},
		{pattern: "PUT /api/v1/organizations/{code}", method: "PUT", path: "/api/v1/organizations/DN.STTTT", body: `{"name":"X","level":"department","parent":"DN"}`, want: refused, twin: "/api/v1/organizations/XX"},
		{pattern: "PUT /api/v1/organizations/{code}", method: "PUT", path: "/api/v1/organizations/HN.STTTT", body: `{"name":"X","level":"department","parent":"DN"}`, want: forbidden},
		{pattern: "DELETE /api/v1/organizations/{code}", method: "DELETE", path: "/api/v1/organizations/DN.STTTT", want: refused, twin: "/api/v1/organizations/XX"},

		{pattern: "GET /api/v1/systems", method: "GET", path: "/api/v1/systems", want: listed},
		{pattern: "GET /api/v1/systems", method: "GET", path: "/api/v1/systems?org=DN.STTTT", want: listed},
		{pattern: "GET /api/v1/systems", method: "GET", path: "/api/v1/systems?under=DN", want: listed},
		{pattern: "POST /api/v1/systems", method: "POST", path: "/api/v1/systems", body: sysBody, want: forbidden},
		{pattern: "GET /api/v1/systems/{id}", method: "GET", path: "/api/v1/systems/dn-portal", want: refused, twin: "/api/v1/systems/zz-missing"},
		{pattern: "PUT /api/v1/systems/{id}", method: "PUT", path: "/api/v1/systems/dn-portal", body: sysBody, want: refused, twin: "/api/v1/systems/zz-missing"},
		{pattern: "PUT /api/v1/systems/{id}", method: "PUT", path: "/api/v1/systems/hn-mail", body: sysBody, want: forbidden},
		{pattern: "DELETE /api/v1/systems/{id}", method: "DELETE", path: "/api/v1/systems/dn-portal", want: refused, twin: "/api/v1/systems/zz-missing"},

		{pattern: "GET /api/v1/resources", method: "GET", path: "/api/v1/resources", want: listed},
		{pattern: "GET /api/v1/resources", method: "GET", path: "/api/v1/resources?system=dn-portal", want: listed},
		{pattern: "GET /api/v1/resources", method: "GET", path: "/api/v1/resources?under=DN", want: listed},
		{pattern: "POST /api/v1/resources", method: "POST", path: "/api/v1/resources", body: `{"id":"dns:z.vn","system":"dn-portal"}`, want: forbidden},
		{pattern: "GET /api/v1/resources/{id}", method: "GET", path: "/api/v1/resources/dns:y.vn", want: refused, twin: "/api/v1/resources/dns:zz.vn"},
		{pattern: "PUT /api/v1/resources/{id}", method: "PUT", path: "/api/v1/resources/dns:y.vn", body: `{"system":"hn-mail"}`, want: refused, twin: "/api/v1/resources/dns:zz.vn"},
		{pattern: "PUT /api/v1/resources/{id}", method: "PUT", path: "/api/v1/resources/dns:x.vn", body: `{"system":"dn-portal"}`, want: forbidden},
		{pattern: "DELETE /api/v1/resources/{id}", method: "DELETE", path: "/api/v1/resources/dns:y.vn", want: refused, twin: "/api/v1/resources/dns:zz.vn"},
		{pattern: "POST /api/v1/resources/{id}/challenge", method: "POST", path: "/api/v1/resources/dns:y.vn/challenge", want: refused, twin: "/api/v1/resources/dns:zz.vn/challenge"},
		{pattern: "POST /api/v1/resources/{id}/verify", method: "POST", path: "/api/v1/resources/dns:y.vn/verify", want: append(refused, 503)},
		{pattern: "GET /api/v1/resources/{id}/runs", method: "GET", path: "/api/v1/resources/dns:y.vn/runs", want: refused, twin: "/api/v1/resources/dns:zz.vn/runs"},

		{pattern: "POST /api/v1/assessments", method: "POST", path: "/api/v1/assessments", body: `{"resource":"dns:y.vn"}`, want: refused},
		{pattern: "POST /api/v1/assessments", method: "POST", path: "/api/v1/assessments", body: `{"system":"dn-portal"}`, want: refused},
		{pattern: "POST /api/v1/assessments", method: "POST", path: "/api/v1/assessments", body: `{"org":"DN"}`, want: refused},
		{pattern: "GET /api/v1/runs/{id}", method: "GET", path: "/api/v1/runs/run-dn", want: refused, twin: "/api/v1/runs/run-zz"},
		{pattern: "GET /api/v1/findings", method: "GET", path: "/api/v1/findings", want: listed},
		{pattern: "GET /api/v1/findings", method: "GET", path: "/api/v1/findings?under=DN", want: listed},
		{pattern: "GET /api/v1/findings", method: "GET", path: "/api/v1/findings?resource=dns:y.vn", want: listed},
		{pattern: "GET /api/v1/findings/{fingerprint}", method: "GET", path: "/api/v1/findings/" + fp, want: refused, twin: "/api/v1/findings/00000000000000000000000000000000"},
		{pattern: "POST /api/v1/findings/{fingerprint}/accept", method: "POST", path: "/api/v1/findings/" + fp + "/accept",
			body: `{"approver":"spy","reason":"x","expires":"2026-06-01T00:00:00Z"}`, want: refused, twin: "/api/v1/findings/00000000000000000000000000000000/accept"},
		{pattern: "GET /api/v1/diff", method: "GET", path: "/api/v1/diff?under=DN", want: refused},
		{pattern: "GET /api/v1/diff", method: "GET", path: "/api/v1/diff?system=dn-portal", want: refused},
		{pattern: "GET /api/v1/diff", method: "GET", path: "/api/v1/diff?resource=dns:y.vn", want: refused},
		{pattern: "GET /api/v1/diff", method: "GET", path: "/api/v1/diff?under=HN&to_run=run-dn", want: refused},

		{pattern: "GET /api/v1/index/{org}", method: "GET", path: "/api/v1/index/DN", want: refused, twin: "/api/v1/index/XX"},
		{pattern: "GET /api/v1/index/{org}", method: "GET", path: "/api/v1/index/DN.STTTT?at=2026-03-01", want: append(refused, 400)},
		{pattern: "GET /api/v1/index/{org}/history", method: "GET", path: "/api/v1/index/DN/history", want: refused},
		{pattern: "POST /api/v1/gate", method: "POST", path: "/api/v1/gate", body: `{"system":"dn-portal","stage":"operation"}`, want: refused},
		{pattern: "GET /api/v1/systems/{id}/gate", method: "GET", path: "/api/v1/systems/dn-portal/gate", want: refused},
		{pattern: "POST /api/v1/gate/exceptions", method: "POST", path: "/api/v1/gate/exceptions",
			body: `{"system":"dn-portal","reasons":["open_high"],"approver":"spy","justification":"không có lý do chính đáng nào cả","expires":"2026-06-01T00:00:00Z"}`, want: refused},
		{pattern: "GET /api/v1/attestations", method: "GET", path: "/api/v1/attestations", want: listed},
		{pattern: "GET /api/v1/attestations", method: "GET", path: "/api/v1/attestations?org=DN", want: refused},
		{pattern: "GET /api/v1/attestations", method: "GET", path: "/api/v1/attestations?system=dn-portal", want: refused},
		{pattern: "POST /api/v1/attestations", method: "POST", path: "/api/v1/attestations",
			body: `{"control":"org.policy.approved","org":"DN","evidence":[{"name":"x.pdf","content_base64":"eA=="}]}`, want: refused},
		{pattern: "POST /api/v1/attestations/{id}/review", method: "POST", path: "/api/v1/attestations/" + tp.dnAtt + "/review", body: `{"approved":true}`, want: refused},
		{pattern: "GET /api/v1/incidents", method: "GET", path: "/api/v1/incidents", want: listed},
		{pattern: "GET /api/v1/incidents", method: "GET", path: "/api/v1/incidents?org=DN", want: listed},
		{pattern: "POST /api/v1/incidents", method: "POST", path: "/api/v1/incidents", body: `{"org":"DN.STTTT","discovered_at":"2026-03-01T00:00:00Z"}`, want: refused},
		{pattern: "GET /api/v1/reports/scorecard", method: "GET", path: "/api/v1/reports/scorecard?org=DN&format=html", want: refused},

		// Last, as it ends a session principal's session.
		{pattern: "DELETE /api/v1/session", method: "DELETE", path: "/api/v1/session", want: []int{204, 400}},
	}
}

// TestScopeIsolation walks every route the server has and, for principals of province A
// (HN) of each role, by token and by session, tries to read, list, change and delete what
// belongs to province B (DN): nothing of B may show in any answer, an object of B must
// answer exactly as a missing one does, and B must be unchanged at the end.
func TestScopeIsolation(t *testing.T) {
	tp := newTwoProvinces(t)
	cases := tp.scopeCases()

	var routes patternRecorder
	addRoutes(&routes, Deps{}, newMetrics(""))
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
		if !slices.Contains(routes, c.pattern) {
			t.Errorf("case for %s, which is not a route", c.pattern)
		}
	}
	for _, r := range routes {
		if !covered[r] {
			t.Errorf("route %s has no case in scopeCases: say how a principal of one province could reach another through it", r)
		}
	}

	principals := []struct {
		name string
		hdr  func(t *testing.T) http.Header
	}{
		{"org_admin token", func(*testing.T) http.Header { return bearer(tp.tokens["hn-admin"]) }},
		{"org_admin session", func(t *testing.T) http.Header { return tp.signIn(t, "hn-admin") }},
		{"auditor token", func(*testing.T) http.Header { return bearer(tp.tokens["hn-auditor"]) }},
		{"security_officer session", func(t *testing.T) http.Header { return tp.signIn(t, "hn-officer") }},
		{"leader session", func(t *testing.T) http.Header { return tp.signIn(t, "hn-leader") }},
	}
	before := tp.stateOfB(t)
	for _, p := range principals {
		t.Run(p.name, func(t *testing.T) {
			hdr := p.hdr(t)
			for _, c := range cases {
				rec := send(t, tp.srv, c.method, c.path, c.body, hdr)
				body := rec.Body.String()
				if !slices.Contains(c.want, rec.Code) {
					t.Errorf("%s %s = %d %s; want one of %v", c.method, c.path, rec.Code, body, c.want)
				}
				if strings.Contains(body, `"code":"csrf"`) {
					t.Errorf("%s %s was stopped by the CSRF check, so the scope was not tried: %s", c.method, c.path, body)
				}
				for _, m := range tp.provinceB() {
					if strings.Contains(body, m) && !strings.Contains(c.path+c.body, strings.Trim(m, `"`)) {
						t.Errorf("%s %s = %d: the answer shows %s of province B:\n%s", c.method, c.path, rec.Code, m, body)
					}
				}
				if c.twin == "" || rec.Code != http.StatusNotFound {
					continue
				}
				twin := send(t, tp.srv, c.method, c.twin, c.body, hdr)
				missingID, hiddenID := lastSegment(c.twin), lastSegment(c.path)
				if twin.Code != rec.Code || strings.ReplaceAll(twin.Body.String(), missingID, hiddenID) != body {
					t.Errorf("%s %s answers unlike a missing one:\n\t%d %s\t%d %s", c.method, c.path, rec.Code, body, twin.Code, twin.Body)
				}
			}
		})
	}
	if after := tp.stateOfB(t); !reflect.DeepEqual(before, after) {
		t.Errorf("province B changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// lastSegment is the identifier a path names: its last segment, or the one before /accept.
func lastSegment(path string) string {
	path = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(path, "/accept"), "/challenge"), "/runs")
	return path[strings.LastIndex(path, "/")+1:]
}

// TestListsKeepToTheSubtree checks that what a principal of HN lists is its own: the
// listings are not empty for an uninteresting reason.
func TestListsKeepToTheSubtree(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-admin")
	for path, want := range map[string][]string{
		"/api/v1/organizations": {`"total":2`, `"HN.STTTT"`},
		"/api/v1/systems":       {`"total":2`, `"hn-portal"`},
		"/api/v1/resources":     {`"total":2`, `"dns:x.vn"`},
		"/api/v1/findings":      {`"total":1`, `"dns:x.vn"`},
		"/api/v1/users":         {`"total":4`, `"hn-leader"`},
		"/api/v1/tokens":        {`"total":4`},
		"/api/v1/audit":         {`"object_id":"hn-mail"`, `"org_path":"/HN/HN.STTTT/"`},
	} {
		rec := send(t, tp.srv, "GET", path, "", hdr)
		for _, w := range want {
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), w) {
				t.Errorf("GET %s = %d %s; want it to contain %s", path, rec.Code, rec.Body, w)
			}
		}
	}
	// The platform administrator sees both provinces.
	admin := testAdmin(t, tp.a)
	if rec := send(t, tp.srv, "GET", "/api/v1/systems", "", bearer(admin)); !strings.Contains(rec.Body.String(), `"total":3`) {
		t.Errorf("platform administrator lists %s", rec.Body)
	}
}

// TestEveryRouteNeedsCredentials checks that no route but the public ones answers a request
// without credentials with anything but 401.
func TestEveryRouteNeedsCredentials(t *testing.T) {
	tp := newTwoProvinces(t)
	for _, c := range tp.scopeCases() {
		if publicRoutes[c.pattern] {
			continue
		}
		rec := send(t, tp.srv, c.method, c.path, c.body, nil)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code":"unauthenticated"`) ||
			rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s without credentials = %d %s; want 401 with WWW-Authenticate", c.method, c.path, rec.Code, rec.Body)
		}
	}
}

// adminPageCases are the attempts of a principal of HN on DN through the administration
// pages; TestPageScopeIsolation runs them with the other pages' cases.
func (tp *twoProvinces) adminPageCases() []pageCase {
	dnUser := tp.users["dn-officer"].ID
	return []pageCase{
		{"GET /audit", "GET", "/audit", "", listed},
		{"GET /audit", "GET", "/audit?kind=system&action=system.update&actor=dn-admin&from=2026-01-01&to=2026-12-31", "", listed},
		{"GET /audit", "GET", "/audit?page=2", "", listed},
		{"POST /audit/verify", "POST", "/audit/verify", "q=under%3DDN", []int{http.StatusSeeOther, http.StatusForbidden}},
		{"GET /users", "GET", "/users", "", listed},
		{"GET /users", "GET", "/users?page=2", "", listed},
		{"POST /users", "POST", "/users", "login=spy&role=auditor&org=DN", forbidden},
		{"POST /users", "POST", "/users", "login=spy2&role=security_officer&org=DN.STTTT", forbidden},
		{"POST /users/{id}", "POST", "/users/" + dnUser, "role=auditor&org=HN", refused},
		{"POST /users/{id}/mfa", "POST", "/users/" + dnUser + "/mfa", "", refused},
		{"POST /users/{id}/password", "POST", "/users/" + dnUser + "/password", "", refused},
		{"POST /users/{id}/lock", "POST", "/users/" + dnUser + "/lock", "", refused},
		{"POST /users/{id}/unlock", "POST", "/users/" + dnUser + "/unlock", "", refused},
		{"GET /tokens", "GET", "/tokens", "", listed},
		{"POST /tokens", "POST", "/tokens", "name=spy&org=DN&action=inventory:read", forbidden},
		{"POST /tokens/{id}/revoke", "POST", "/tokens/" + tp.dnToken + "/revoke", "", refused},
	}
}
