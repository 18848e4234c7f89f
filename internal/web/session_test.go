package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
)

func TestSignInCookie(t *testing.T) {
	tp := newTwoProvinces(t)
	rec := send(t, tp.srv, "POST", "/api/v1/session", `{"login":"HN-Officer","password":"`+tp.password+`"}`, nil)
	if rec.Code != http.StatusCreated {
		t.Fatalf("sign in = %d %s", rec.Code, rec.Body)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("sign in set %d cookies, want 1", len(cs))
	}
	c := cs[0]
	if c.Name != "__Host-khien_session" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
		c.Domain != "" || len(c.Value) < 40 || c.MaxAge != int((12*time.Hour).Seconds()) {
		t.Errorf("session cookie = %+v; want __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, 12 hours", c)
	}
	if strings.Contains(rec.Body.String(), c.Value) {
		t.Error("the session id is in the body; it belongs in the cookie only")
	}
	for _, w := range []string{`"login":"hn-officer"`, `"role":"security_officer"`, `"csrf_token":"`, `"expires":"2026-03-01T20:00:00Z"`} {
		if !strings.Contains(rec.Body.String(), w) {
			t.Errorf("sign-in body lacks %s: %s", w, rec.Body)
		}
	}
	// The store keeps the session id hashed: its value opens nothing there.
	if _, err := tp.db.Session(t.Context(), c.Value); err == nil {
		t.Error("the session id is stored as it is")
	}

	// Signing in again from the same browser rotates the id: the old cookie stops working.
	// (While it is valid, the sign-in needs its CSRF token, as every unsafe request of it does.)
	var first sessionJSON
	json.Unmarshal(rec.Body.Bytes(), &first)
	old := http.Header{"Cookie": {c.Name + "=" + c.Value}}
	old.Set(csrfHeader, first.CSRFToken)
	if rec := send(t, tp.srv, "GET", "/api/v1/me", "", old); rec.Code != 200 {
		t.Fatalf("GET /api/v1/me with the cookie = %d %s", rec.Code, rec.Body)
	}
	again := send(t, tp.srv, "POST", "/api/v1/session", `{"login":"hn-officer","password":"`+tp.password+`"}`, old)
	if again.Code != http.StatusCreated || len(again.Result().Cookies()) != 1 || again.Result().Cookies()[0].Value == c.Value {
		t.Fatalf("second sign-in = %d %s; want 201 and a new session id", again.Code, again.Body)
	}
	rec = send(t, tp.srv, "GET", "/api/v1/me", "", old)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("GET /api/v1/me with the replaced cookie = %d %s (Set-Cookie %q); want 401 and the cookie cleared",
			rec.Code, rec.Body, rec.Header().Get("Set-Cookie"))
	}
}

func TestSignInRefusesForms(t *testing.T) {
	tp := newTwoProvinces(t)
	rec := send(t, tp.srv, "POST", "/api/v1/session", "login=hn-officer&password=x",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("form sign-in = %d %s; want 415", rec.Code, rec.Body)
	}
}

// TestCSRF checks that a session's unsafe requests need its CSRF token: a missing or forged
// one is refused with 403 and changes nothing, the right one works, in the header or a form
// field. Token requests need none.
func TestCSRF(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-officer")
	good := hdr.Get(csrfHeader)
	cookie := http.Header{"Cookie": hdr["Cookie"]}
	forged := cookie.Clone()
	forged.Set(csrfHeader, strings.Repeat("a", len(good)))
	other := cookie.Clone()
	other.Set(csrfHeader, tp.signIn(t, "hn-leader").Get(csrfHeader)) // a real token, of another session
	const body = `{"id":"hn-new","org":"HN","name":"Hệ thống mới","level":2,"stage":"design"}`
	for name, h := range map[string]http.Header{"missing": cookie, "forged": forged, "another session's": other} {
		rec := send(t, tp.srv, "POST", "/api/v1/systems", body, h)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"code":"csrf"`) {
			t.Errorf("%s CSRF token: POST = %d %s; want 403 csrf", name, rec.Code, rec.Body)
		}
	}
	if rec := send(t, tp.srv, "GET", "/api/v1/systems/hn-new", "", hdr); rec.Code != http.StatusNotFound {
		t.Fatalf("a refused request created the system: %d %s", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "GET", "/api/v1/systems", "", cookie); rec.Code != http.StatusOK {
		t.Errorf("a safe request without the token = %d %s; want 200", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "POST", "/api/v1/systems", body, hdr); rec.Code != http.StatusCreated {
		t.Errorf("with the right CSRF token: POST = %d %s; want 201", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "POST", "/api/v1/systems", strings.Replace(body, "hn-new", "hn-new2", 1), bearer(tp.tokens["hn-officer"])); rec.Code != http.StatusCreated {
		t.Errorf("with an API token and no CSRF token: POST = %d %s; want 201", rec.Code, rec.Body)
	}
	// A form (as the pages will send) carries the token in the csrf field. The sign-in route
	// then refuses the form itself, but only after the CSRF check let it through.
	form := cookie.Clone()
	form.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := send(t, tp.srv, "POST", "/api/v1/session", "csrf=forged&login=x", form); rec.Code != http.StatusForbidden {
		t.Errorf("a form with a forged csrf field = %d %s; want 403", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "POST", "/api/v1/session", "csrf="+good+"&login=x", form); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("a form with the csrf field = %d %s; want past the CSRF check to 415", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "DELETE", "/api/v1/session", "", cookie); rec.Code != http.StatusForbidden {
		t.Errorf("sign out without the token = %d %s; want 403", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "DELETE", "/api/v1/session", "", hdr); rec.Code != http.StatusNoContent {
		t.Errorf("sign out = %d %s; want 204", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "GET", "/api/v1/me", "", hdr); rec.Code != http.StatusUnauthorized {
		t.Errorf("after signing out: GET /api/v1/me = %d; want 401", rec.Code)
	}
}

// TestCrossOrigin checks the second wall: a browser's cross-site request that changes
// something is refused even with a valid session and token.
func TestCrossOrigin(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-officer")
	hdr.Set("Sec-Fetch-Site", "cross-site")
	rec := send(t, tp.srv, "DELETE", "/api/v1/systems/hn-mail", "", hdr)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"code":"cross_origin"`) {
		t.Errorf("cross-site DELETE = %d %s; want 403 cross_origin", rec.Code, rec.Body)
	}
}

// TestRevokedToken checks that a token works until it is revoked, then gets 401 at once.
func TestRevokedToken(t *testing.T) {
	tp := newTwoProvinces(t)
	admin := tp.signIn(t, "hn-admin")
	rec := send(t, tp.srv, "POST", "/api/v1/tokens", `{"name":"CI cổng","org":"HN.STTTT","actions":["inventory:read","scan:run"]}`, admin)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create token = %d %s", rec.Code, rec.Body)
	}
	var tok tokenJSON
	json.Unmarshal(rec.Body.Bytes(), &tok)
	if !strings.HasPrefix(tok.Secret, tok.Prefix+"_") || tok.Prefix != "khien_"+tok.ID || tok.Org != "HN.STTTT" {
		t.Fatalf("created token %+v", tok)
	}
	ci := bearer(tok.Secret)
	if rec := send(t, tp.srv, "GET", "/api/v1/systems", "", ci); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total":2`) {
		t.Fatalf("with the new token: GET /api/v1/systems = %d %s", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "DELETE", "/api/v1/systems/hn-mail", "", ci); rec.Code != http.StatusForbidden {
		t.Errorf("a token without inventory:write deleted: %d %s", rec.Code, rec.Body)
	}
	// The secret is shown once: never in a listing or a read.
	for _, path := range []string{"/api/v1/tokens", "/api/v1/tokens/" + tok.ID, "/api/v1/audit"} {
		rec := send(t, tp.srv, "GET", path, "", admin)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), tok.Secret[len(tok.Prefix):]) {
			t.Errorf("GET %s = %d, shows the secret: %s", path, rec.Code, rec.Body)
		}
	}
	rec = send(t, tp.srv, "GET", "/api/v1/tokens/"+tok.ID, "", admin)
	if !strings.Contains(rec.Body.String(), `"last_used":"`) {
		t.Errorf("the token's use is not recorded: %s", rec.Body)
	}
	if rec := send(t, tp.srv, "DELETE", "/api/v1/tokens/"+tok.ID, "", admin); rec.Code != http.StatusNoContent {
		t.Fatalf("revoke = %d %s", rec.Code, rec.Body)
	}
	rec = send(t, tp.srv, "GET", "/api/v1/systems", "", ci)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "was revoked") {
		t.Errorf("with the revoked token: GET = %d %s; want 401 saying it was revoked", rec.Code, rec.Body)
	}
	if rec := send(t, tp.srv, "GET", "/api/v1/tokens/"+tok.ID, "", admin); !strings.Contains(rec.Body.String(), `"revoked":"`) {
		t.Errorf("the revoked token is not listed as such: %s", rec.Body)
	}
	if rec := send(t, tp.srv, "DELETE", "/api/v1/tokens/"+tok.ID, "", admin); rec.Code != http.StatusNoContent {
		t.Errorf("revoking twice = %d %s; want 204", rec.Code, rec.Body)
	}
	for _, bad := range []string{"khien_nope_nope", tok.Secret + "x", "Basic " + tok.Secret} {
		h := bearer(bad)
		if strings.HasPrefix(bad, "Basic") {
			h = http.Header{"Authorization": {bad}}
		}
		if rec := send(t, tp.srv, "GET", "/healthz", "", h); rec.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q = %d; want 401 even on a public route", bad, rec.Code)
		}
	}
}

// TestLockout checks throttling: the fifth wrong password locks the login with a message
// that says until when, and then even the right password is refused.
func TestLockout(t *testing.T) {
	tp := newTwoProvinces(t)
	login := func(pw string) *http.Response {
		rec := send(t, tp.srv, "POST", "/api/v1/session", `{"login":"hn-officer","password":"`+pw+`"}`, nil)
		return rec.Result()
	}
	for i := 1; i <= 4; i++ {
		if r := login("sai mật khẩu lần " + fmt.Sprint(i)); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d; want 401", i, r.StatusCode)
		}
	}
	// testTime is 08:00 UTC, 15:00 in Vietnam; the first lock is five minutes.
	const msg = "Tài khoản tạm khóa đến 15:05 do đăng nhập sai nhiều lần / Account locked until 15:05 after repeated failed sign-ins"
	for _, pw := range []string{"sai lần thứ năm rồi", tp.password} {
		r := login(pw)
		var body errorJSON
		json.NewDecoder(r.Body).Decode(&body)
		if r.StatusCode != http.StatusTooManyRequests || body.Error.Code != "locked" || body.Error.Message != msg || r.Header.Get("Retry-After") != "301" {
			t.Errorf("locked sign-in = %d %+v (Retry-After %q); want 429 %q", r.StatusCode, body, r.Header.Get("Retry-After"), msg)
		}
	}
	// Another login from the same address is not locked.
	if rec := send(t, tp.srv, "POST", "/api/v1/session", `{"login":"hn-leader","password":"`+tp.password+`"}`, nil); rec.Code != http.StatusCreated {
		t.Errorf("another login = %d %s", rec.Code, rec.Body)
	}
	// After the lock, the right password works again.
	tp.clock = tp.clock.Add(6 * time.Minute)
	if r := login(tp.password); r.StatusCode != http.StatusCreated {
		t.Errorf("after the lock = %d; want 201", r.StatusCode)
	}
}

// TestSecondFactor checks that an administrator signs in only with the current code, once.
func TestSecondFactor(t *testing.T) {
	tp := newTwoProvinces(t)
	try := func(code string) int {
		return send(t, tp.srv, "POST", "/api/v1/session", `{"login":"hn-admin","password":"`+tp.password+`","totp":"`+code+`"}`, nil).Code
	}
	if got := try(""); got != http.StatusUnauthorized {
		t.Errorf("an administrator without a code = %d; want 401", got)
	}
	tp.clock = tp.clock.Add(time.Minute)
	code, _ := auth.TOTP(tp.totp["hn-admin"], tp.clock)
	stale, _ := auth.TOTP(tp.totp["hn-admin"], tp.clock.Add(-5*time.Minute))
	if got := try(stale); got != http.StatusUnauthorized {
		t.Errorf("a code five minutes old = %d; want 401", got)
	}
	if got := try(code); got != http.StatusCreated {
		t.Errorf("the current code = %d; want 201", got)
	}
	if got := try(code); got != http.StatusUnauthorized {
		t.Errorf("the same code again = %d; want 401: a code works once", got)
	}
}

// TestUsersAPI creates and changes an account as an organization administrator and checks the
// limits of what it may grant.
func TestUsersAPI(t *testing.T) {
	tp := newTwoProvinces(t)
	admin := tp.signIn(t, "hn-admin")
	runAuthCases(t, tp, admin, []apiCase{
		{"create officer", "POST", "/api/v1/users", `{"login":"Lan.Nguyen","name":"Nguyễn Thị Lan","role":"security_officer","org":"HN.STTTT","password":"một mật khẩu rất dài"}`, 201,
			[]string{`"login":"lan.nguyen"`, `"org":"HN.STTTT"`, `"mfa":false`}, []string{"totp_uri", "password", "argon2"}},
		{"create admin enrols a second factor", "POST", "/api/v1/users", `{"login":"minh","role":"org_admin","org":"HN.STTTT","password":"một mật khẩu rất dài"}`, 201,
			[]string{`"mfa":true`, `"totp_uri":"otpauth://totp/Khi%C3%AAn:minh?`}, nil},
		{"login taken", "POST", "/api/v1/users", `{"login":"hn-leader","role":"leader","org":"HN","password":"một mật khẩu rất dài"}`, 409, nil, nil},
		{"short password", "POST", "/api/v1/users", `{"login":"x","role":"leader","org":"HN","password":"ngắn"}`, 400, []string{`"field":"password"`}, nil},
		{"platform role", "POST", "/api/v1/users", `{"login":"x","role":"platform_admin","password":"một mật khẩu rất dài"}`, 403, []string{`"field":"org"`}, nil},
		{"bad role", "POST", "/api/v1/users", `{"login":"x","role":"king","org":"HN","password":"một mật khẩu rất dài"}`, 400, []string{`"field":"role"`}, nil},
		{"bad login", "POST", "/api/v1/users", `{"login":"a b","role":"leader","org":"HN","password":"một mật khẩu rất dài"}`, 400, []string{`"field":"login"`}, nil},
		{"list", "GET", "/api/v1/users?role=auditor", "", 200, []string{`"total":1`, `"hn-auditor"`}, nil},
		{"update", "PUT", "/api/v1/users/" + tp.users["hn-leader"].ID, `{"name":"Lãnh đạo","role":"auditor","org":"HN.STTTT"}`, 200,
			[]string{`"role":"auditor"`, `"org":"HN.STTTT"`}, nil},
		{"update password refused", "PUT", "/api/v1/users/" + tp.users["hn-leader"].ID, `{"role":"auditor","org":"HN","password":"một mật khẩu rất dài"}`, 400, []string{`"field":"password"`}, nil},
		{"disable self refused", "PUT", "/api/v1/users/" + tp.users["hn-admin"].ID, `{"role":"org_admin","org":"HN","disabled":true}`, 400, []string{`"field":"disabled"`}, nil},
	})
	// An officer may not manage accounts at all.
	officer := tp.signIn(t, "hn-officer")
	if rec := send(t, tp.srv, "GET", "/api/v1/users", "", officer); rec.Code != http.StatusForbidden {
		t.Errorf("officer lists users: %d %s", rec.Code, rec.Body)
	}
	// A disabled account's session and tokens stop working.
	if rec := send(t, tp.srv, "PUT", "/api/v1/users/"+tp.users["hn-officer"].ID, `{"role":"security_officer","org":"HN","disabled":true}`, admin); rec.Code != 200 {
		t.Fatalf("disable = %d %s", rec.Code, rec.Body)
	}
	for name, h := range map[string]http.Header{"session": officer, "token": bearer(tp.tokens["hn-officer"])} {
		if rec := send(t, tp.srv, "GET", "/api/v1/me", "", h); rec.Code != http.StatusUnauthorized {
			t.Errorf("disabled account's %s = %d; want 401", name, rec.Code)
		}
	}
}

// runAuthCases runs apiCases against tp's server with hdr, in order, on one store.
func runAuthCases(t *testing.T, tp *twoProvinces, hdr http.Header, cases []apiCase) {
	t.Helper()
	for _, tt := range cases {
		rec := send(t, tp.srv, tt.method, tt.path, tt.body, hdr)
		body := rec.Body.String()
		if rec.Code != tt.wantStatus {
			t.Errorf("%s: %s %s = %d %s; want %d", tt.name, tt.method, tt.path, rec.Code, body, tt.wantStatus)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: %s %s = %s; want it to contain %s", tt.name, tt.method, tt.path, body, w)
			}
		}
		for _, d := range tt.deny {
			if strings.Contains(body, d) {
				t.Errorf("%s: %s %s = %s; want no %s", tt.name, tt.method, tt.path, body, d)
			}
		}
	}
}

func TestTokensAPI(t *testing.T) {
	tp := newTwoProvinces(t)
	officer := tp.signIn(t, "hn-officer")
	runAuthCases(t, tp, officer, []apiCase{
		{"create", "POST", "/api/v1/tokens", `{"name":"quét hằng đêm","actions":["scan:run","gate:read"],"expires":"2026-06-01T00:00:00Z"}`, 201,
			[]string{`"org":"HN"`, `"actions":["gate:read","scan:run"]`, `"secret":"khien_`, `"expires":"2026-06-01T00:00:00Z"`}, nil},
		{"action beyond the role", "POST", "/api/v1/tokens", `{"name":"x","actions":["users:manage"]}`, 403, []string{`"field":"actions"`}, nil},
		{"unknown action", "POST", "/api/v1/tokens", `{"name":"x","actions":["root"]}`, 400, []string{`"field":"actions"`}, nil},
		{"no action", "POST", "/api/v1/tokens", `{"name":"x","actions":[]}`, 400, []string{`"field":"actions"`}, nil},
		{"no name", "POST", "/api/v1/tokens", `{"actions":["gate:read"]}`, 400, []string{`"field":"name"`}, nil},
		{"expired", "POST", "/api/v1/tokens", `{"name":"x","actions":["gate:read"],"expires":"2020-01-01T00:00:00Z"}`, 400, []string{`"field":"expires"`}, nil},
		// Without users:manage an officer sees its own tokens only.
		{"list own", "GET", "/api/v1/tokens", "", 200, []string{`"total":2`, `"name":"quét hằng đêm"`}, []string{`"secret"`}},
		{"other's token", "GET", "/api/v1/tokens/" + tokenID(tp.tokens["hn-admin"]), "", 404, nil, nil},
	})
	// A token cannot make tokens, however it is allowed.
	if rec := send(t, tp.srv, "POST", "/api/v1/tokens", `{"name":"x","actions":["gate:read"]}`, bearer(tp.tokens["hn-admin"])); rec.Code != http.StatusForbidden {
		t.Errorf("a token made a token: %d %s", rec.Code, rec.Body)
	}
	// The organization administrator sees and revokes the tokens of its subtree.
	admin := tp.signIn(t, "hn-admin")
	officerToken := tokenID(tp.tokens["hn-officer"])
	if rec := send(t, tp.srv, "DELETE", "/api/v1/tokens/"+officerToken, "", admin); rec.Code != http.StatusNoContent {
		t.Errorf("admin revokes an officer's token: %d %s", rec.Code, rec.Body)
	}
}

func tokenID(secret string) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(secret, auth.TokenPrefix), "_")
	return id
}

// TestAuditAPI checks that changes through the API are recorded with who, before and
// after, that the log verifies, and that the page reads newest first.
func TestAuditAPI(t *testing.T) {
	tp := newTwoProvinces(t)
	admin := tp.signIn(t, "hn-admin")
	steps := []struct{ method, path, body string }{
		{"PUT", "/api/v1/systems/hn-mail", `{"org":"HN.STTTT","name":"Thư điện tử công vụ","level":3,"stage":"test"}`},
		{"POST", "/api/v1/resources", `{"id":"dns:mail.x.vn","system":"hn-mail"}`},
		{"DELETE", "/api/v1/resources/dns:mail.x.vn", ""},
		{"POST", "/api/v1/tokens", `{"name":"ci","actions":["gate:read"]}`},
	}
	for _, s := range steps {
		if rec := send(t, tp.srv, s.method, s.path, s.body, admin); rec.Code >= 300 {
			t.Fatalf("%s %s = %d %s", s.method, s.path, rec.Code, rec.Body)
		}
	}
	rec := send(t, tp.srv, "GET", "/api/v1/audit?limit=4", "", admin)
	var page struct {
		Items []auditEntryJSON
		Total int
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Items) != 4 {
		t.Fatalf("GET /api/v1/audit = %d %s (%v)", rec.Code, rec.Body, err)
	}
	want := []string{"token.create", "resource.delete", "resource.create", "system.update"}
	for i, e := range page.Items {
		if e.Action != want[i] || e.Actor != "user:hn-admin" || e.Hash == "" || e.PrevHash == "" {
			t.Errorf("entry %d = %+v; want %s by user:hn-admin", i, e, want[i])
		}
	}
	if up := page.Items[3]; !strings.Contains(string(up.Before), `"level":2,`) || !strings.Contains(string(up.Before), `"stage":"build"`) ||
		!strings.Contains(string(up.After), `"level":3,`) || !strings.Contains(string(up.After), `"stage":"test"`) || up.OrgPath != "/HN/HN.STTTT/" {
		t.Errorf("system.update entry: before %s after %s path %s", up.Before, up.After, up.OrgPath)
	}
	if del := page.Items[1]; string(del.After) != "null" || !strings.Contains(string(del.Before), `"id":"dns:mail.x.vn"`) {
		t.Errorf("resource.delete entry: before %s after %s", del.Before, del.After)
	}
	if n, err := audit.NewLog(tp.db, tp.db, fixedNow).Verify(t.Context()); err != nil || n < 4 {
		t.Errorf("Verify = %d, %v", n, err)
	}
	// A leader may not read the log; an auditor may.
	if rec := send(t, tp.srv, "GET", "/api/v1/audit", "", tp.signIn(t, "hn-leader")); rec.Code != http.StatusForbidden {
		t.Errorf("leader reads the audit log: %d", rec.Code)
	}
	if rec := send(t, tp.srv, "GET", "/api/v1/audit", "", bearer(tp.tokens["hn-auditor"])); rec.Code != http.StatusOK {
		t.Errorf("auditor cannot read the audit log: %d %s", rec.Code, rec.Body)
	}
}

// TestMetricsAccess checks who may read /metrics: this machine, or a token allowed it.
func TestMetricsAccess(t *testing.T) {
	tp := newTwoProvinces(t)
	admin := testAdmin(t, tp.a)
	tests := []struct {
		name, remote string
		hdr          http.Header
		want         int
	}{
		{"loopback", "127.0.0.1:5000", nil, 200},
		{"loopback IPv6", "[::1]:5000", nil, 200},
		{"through a proxy", "127.0.0.1:5000", http.Header{"X-Forwarded-For": {"203.0.113.9"}}, 401},
		{"remote", "192.0.2.10:5000", nil, 401},
		{"remote, org admin token", "192.0.2.10:5000", bearer(tp.tokens["hn-admin"]), 403},
		{"remote, platform token", "192.0.2.10:5000", bearer(admin), 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "/metrics", nil)
		req.RemoteAddr = tt.remote
		for k, v := range tt.hdr {
			req.Header[k] = v
		}
		rec := newRecorder()
		tp.srv.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: GET /metrics = %d %s; want %d", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
