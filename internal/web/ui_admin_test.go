package web

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/inventory"
)

// post sends a form with the session's CSRF token (unless csrf is false) and hdr's cookie.
func (tp *twoProvinces) post(t *testing.T, hdr http.Header, path string, form url.Values, csrf bool) *httptestRecorder {
	t.Helper()
	v := url.Values{}
	for k, vs := range form {
		v[k] = slices.Clone(vs)
	}
	if csrf {
		v.Set("csrf", hdr.Get(csrfHeader))
	} else if v.Get("csrf") == "" {
		v.Set("csrf", "forged-"+strings.Repeat("0", 40))
	}
	h := hdr.Clone()
	h.Del(csrfHeader)
	return sendForm(t, tp, "POST", path, v.Encode(), h)
}

// get serves a page for hdr's session.
func (tp *twoProvinces) get(t *testing.T, hdr http.Header, path string) (int, string) {
	t.Helper()
	h := hdr.Clone()
	h.Del(csrfHeader)
	return pageGet(t, tp, h, path)
}

// TestAuditPage reads the audit log through its page: newest first, the chain verified at
// the top, filters by actor, action, kind and dates, paging, and a readable diff.
func TestAuditPage(t *testing.T) {
	tp := newTwoProvinces(t)
	ctx := auth.WithPrincipal(t.Context(), auth.UserPrincipal(tp.users["hn-admin"]))
	inv := tp.a.Inventory(inventory.NewService(tp.db, fixedNow))
	for i := range 30 { // enough changes of HN for two pages
		sys, err := inv.System(ctx, "hn-mail")
		if err != nil {
			t.Fatal(err)
		}
		sys.Purpose = "rà soát lần " + string(rune('A'+i%26))
		if _, err := inv.UpdateSystem(ctx, sys); err != nil {
			t.Fatal(err)
		}
	}
	hdr := tp.signIn(t, "hn-auditor")
	seqs := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`id="entry-(\d+)"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	code, body := tp.get(t, hdr, "/audit")
	if code != 200 || !strings.Contains(body, `<p class="flash" id="chain" role="status">Chuỗi băm của toàn bộ nhật ký nguyên vẹn`) {
		t.Fatalf("GET /audit = %d; no intact chain at the top:\n%s", code, body)
	}
	// Only a principal of the whole platform is told how many entries the log holds.
	if rec := send(t, tp.srv, "GET", "/audit", "", bearer(testAdmin(t, tp.a))); !regexp.MustCompile(`Chuỗi băm nguyên vẹn: đã kiểm tra <b>\d+</b>`).MatchString(rec.Body.String()) {
		t.Errorf("the platform administrator's audit page = %d:\n%s", rec.Code, rec.Body)
	}
	first := seqs(body)
	if len(first) != auditPageSize {
		t.Fatalf("the first page shows %d entries, want %d", len(first), auditPageSize)
	}
	for i := 1; i < len(first); i++ {
		a, _ := strconv.Atoi(first[i-1])
		b, _ := strconv.Atoi(first[i])
		if a <= b {
			t.Errorf("entries are not newest first: %v", first)
			break
		}
	}
	for _, want := range []string{"system.update", "hn-mail", "/HN/HN.STTTT/", `class="changed"`, "purpose", "user:hn-admin", `id="next-page"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
	if strings.Contains(body, "/DN/") || strings.Contains(body, "dn-portal") {
		t.Error("the audit page of an HN auditor shows DN's entries")
	}
	_, body2 := tp.get(t, hdr, "/audit?page=2")
	second := seqs(body2)
	if len(second) == 0 || slices.ContainsFunc(second, func(s string) bool { return slices.Contains(first, s) }) {
		t.Errorf("page 2 = %v, page 1 = %v", second, first)
	}

	cases := []struct {
		name, query string
		want, not   []string
		count       int // entries expected; -1 to skip
	}{
		{"by kind", "kind=token", []string{"token.create"}, []string{"system.update"}, -1},
		{"by action", "action=user.create", []string{"user.create"}, []string{"token.create", "system.update"}, 4},
		{"by actor login", "actor=hn-admin", []string{"user:hn-admin"}, []string{"local:test"}, -1},
		{"by actor name", "actor=local:test", []string{"local:test"}, []string{"user:hn-admin"}, -1},
		{"dates that hold the changes", "from=2026-02-28&to=2026-03-02&action=user.create", []string{"user.create"}, nil, 4},
		{"dates before them", "from=2025-01-01&to=2025-12-31", []string{"Không có mục nhật ký nào"}, []string{"id=\"entry-"}, 0},
		{"bad dates are ignored", "from=hôm+qua&action=user.create", []string{"user.create"}, nil, 4},
		{"a subtree outside is empty", "kind=user&action=user.create&actor=local:test", nil, []string{"dn-"}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := tp.get(t, hdr, "/audit?"+c.query)
			if code != 200 {
				t.Fatalf("GET /audit?%s = %d", c.query, code)
			}
			body = body[strings.Index(body, `id="audit-entries"`):] // the entries, not the filter's suggestions
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(body, n) {
					t.Errorf("shows %q", n)
				}
			}
			if got := len(seqs(body)); c.count >= 0 && got != c.count {
				t.Errorf("%d entries, want %d", got, c.count)
			}
		})
	}

	// A leader may not read the log, and is not offered the page.
	lh := tp.signIn(t, "hn-leader")
	if code, _ := tp.get(t, lh, "/audit"); code != http.StatusForbidden {
		t.Errorf("GET /audit as a leader = %d, want 403", code)
	}
	if _, body := tp.get(t, lh, "/"); strings.Contains(body, `id="nav-audit"`) || strings.Contains(body, `id="nav-users"`) || !strings.Contains(body, `id="nav-tokens"`) {
		t.Error("a leader's navigation offers the audit log or the users, or not the tokens")
	}
	if _, body := tp.get(t, hdr, "/"); !strings.Contains(body, `id="nav-audit"`) {
		t.Error("an auditor's navigation does not offer the audit log")
	}
}

// TestAuditPageNamesBrokenEntry edits one row of the audit log in the database: the page
// keeps showing the latest check, with its time, until a check is made again (the server's
// periodic one, or "check again now"); then it says the chain is broken and names that entry,
// as khien audit verify does, and keeps the page's filters.
func TestAuditPageNamesBrokenEntry(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-auditor")
	code, body := tp.get(t, hdr, "/audit")
	if code != 200 || !strings.Contains(body, `class="flash" id="chain"`) || !strings.Contains(body, `id="verified-at"`) {
		t.Fatalf("GET /audit before any edit = %d; no intact chain with the time of its check:\n%s", code, body)
	}
	paths, _ := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "k.db"))
	if len(paths) != 1 {
		t.Fatalf("the test's store: %v", paths)
	}
	raw, err := sql.Open("sqlite", paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`,
		`UPDATE audit_log SET actor = 'user:someone-else' WHERE seq = 3`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, body := tp.get(t, hdr, "/audit"); strings.Contains(body, `id="broken-at"`) {
		t.Errorf("GET /audit read the whole log again on load:\n%s", body)
	}
	if rec := tp.post(t, hdr, "/audit/verify", url.Values{"q": {"kind=system&to=2026-12-31&next=//evil.example"}}, false); rec.Code != http.StatusForbidden {
		t.Errorf("POST /audit/verify with a forged CSRF token = %d, want 403", rec.Code)
	}
	rec := tp.post(t, hdr, "/audit/verify", url.Values{"q": {"kind=system&to=2026-12-31&next=//evil.example"}}, true)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/audit?kind=system&to=2026-12-31" {
		t.Errorf("POST /audit/verify = %d to %q; want 303 back to the filtered page, no other parameter", rec.Code, loc)
	}
	code, body = tp.get(t, hdr, "/audit")
	if code != 200 || !strings.Contains(body, `<b id="broken-at">#3</b>`) || strings.Contains(body, `class="flash" id="chain"`) {
		t.Errorf("GET /audit after editing entry 3 and checking again = %d:\n%s", code, body)
	}
	lh := tp.signIn(t, "hn-leader")
	if rec := tp.post(t, lh, "/audit/verify", nil, true); rec.Code != http.StatusForbidden {
		t.Errorf("POST /audit/verify as a leader = %d, want 403", rec.Code)
	}
}

// TestUsersPage manages accounts through the page: list, add (the password shown once and
// working), change role and scope, reset the second factor and the password, lock, unlock.
func TestUsersPage(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-admin")
	code, body := tp.get(t, hdr, "/users")
	if code != 200 {
		t.Fatalf("GET /users = %d", code)
	}
	for _, w := range []string{"hn-admin", "hn-officer", "hn-auditor", "hn-leader", `id="user-add"`, "Quản trị tổ chức"} {
		if !strings.Contains(body, w) {
			t.Errorf("the users page lacks %q", w)
		}
	}
	if strings.Contains(body, "dn-admin") || strings.Contains(body, "dn-officer") {
		t.Error("the users page of HN shows DN's accounts")
	}
	if strings.Contains(body, `value="platform_admin"`) {
		t.Error("an organization administrator is offered the platform administrator's role")
	}

	// Add an account: its first password is shown once and signs in.
	rec := tp.post(t, hdr, "/users", url.Values{"login": {"hn-moi"}, "name": {"Cán bộ mới"}, "role": {"security_officer"}, "org": {"HN.STTTT"}}, true)
	pw := regexp.MustCompile(`id="once-password">([a-z0-9]+)<`).FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || pw == nil {
		t.Fatalf("POST /users = %d, no password shown:\n%s", rec.Code, rec.Body)
	}
	if _, err := tp.a.Login(t.Context(), auth.Credentials{Login: "hn-moi", Password: pw[1]}); err != nil {
		t.Errorf("the new account does not sign in with the password shown: %v", err)
	}
	if _, body := tp.get(t, hdr, "/users"); strings.Contains(body, pw[1]) {
		t.Error("the password is shown again")
	}
	// An administrator gets a second factor at once.
	rec = tp.post(t, hdr, "/users", url.Values{"login": {"hn-admin2"}, "role": {"org_admin"}, "org": {"HN"}}, true)
	if !strings.Contains(rec.Body.String(), `id="once-uri">otpauth://`) {
		t.Errorf("a new administrator gets no second factor:\n%s", rec.Body)
	}
	// Invalid input shows the field, and keeps what was typed.
	rec = tp.post(t, hdr, "/users", url.Values{"login": {"Sai Tên!"}, "role": {"auditor"}, "org": {"HN"}}, true)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="invalid"`) || !strings.Contains(rec.Body.String(), "Sai Tên!") {
		t.Errorf("POST /users with a bad login = %d:\n%s", rec.Code, rec.Body)
	}

	officer := tp.users["hn-officer"]
	get := func() auth.User {
		t.Helper()
		u, err := tp.db.User(t.Context(), officer.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	steps := []struct {
		name, path string
		form       url.Values
		status     int
		check      func(u auth.User, body string) bool
	}{
		{"change role and scope", "/users/" + officer.ID, url.Values{"role": {"auditor"}, "org": {"HN.STTTT"}}, 303,
			func(u auth.User, _ string) bool { return u.Role == auth.Auditor && u.Org == "HN.STTTT" }},
		{"scope outside the subtree", "/users/" + officer.ID, url.Values{"role": {"auditor"}, "org": {"DN"}}, 403,
			func(u auth.User, _ string) bool { return u.Org == "HN.STTTT" }},
		{"reset the second factor", "/users/" + officer.ID + "/mfa", nil, 200,
			func(u auth.User, body string) bool { return u.TOTPSecret != "" && strings.Contains(body, "otpauth://") }},
		{"reset the password", "/users/" + officer.ID + "/password", nil, 200,
			func(u auth.User, body string) bool { return strings.Contains(body, `id="once-password"`) }},
		{"lock", "/users/" + officer.ID + "/lock", nil, 303, func(u auth.User, _ string) bool { return u.Disabled }},
		{"unlock", "/users/" + officer.ID + "/unlock", nil, 303, func(u auth.User, _ string) bool { return !u.Disabled }},
		{"lock oneself", "/users/" + tp.users["hn-admin"].ID + "/lock", nil, 400, func(auth.User, string) bool { return true }},
	}
	for _, s := range steps {
		rec := tp.post(t, hdr, s.path, s.form, true)
		if rec.Code != s.status || !s.check(get(), rec.Body.String()) {
			t.Errorf("%s: POST %s = %d (want %d); account %+v", s.name, s.path, rec.Code, s.status, get().LogValue())
		}
	}

	// A security officer manages no account.
	oh := tp.signIn(t, "dn-officer")
	if code, _ := tp.get(t, oh, "/users"); code != http.StatusForbidden {
		t.Errorf("GET /users as a security officer = %d", code)
	}
}

// TestUsersPageSignInLock shows an account locked by failed sign-ins as locked and the
// others of the page as active, and unlocks it. An account locked in another province is
// not listed at all.
func TestUsersPageSignInLock(t *testing.T) {
	tp := newTwoProvinces(t)
	for _, login := range []string{"hn-leader", "dn-officer"} {
		for range 5 {
			tp.a.Login(t.Context(), auth.Credentials{Login: login, Password: "sai mật khẩu rồi nhé"})
		}
		if _, err := tp.a.Login(t.Context(), auth.Credentials{Login: login, Password: tp.password}); err == nil {
			t.Fatalf("five failures did not lock %s", login)
		}
	}
	hdr := tp.signIn(t, "hn-admin")
	// userRow is the row of login on the users page, "" when the page lists no such account.
	userRow := func(login string) string {
		t.Helper()
		code, body := tp.get(t, hdr, "/users")
		if code != http.StatusOK {
			t.Fatalf("GET /users = %d", code)
		}
		i := strings.Index(body, `id="user-`+login+`"`)
		if i < 0 {
			return ""
		}
		row := body[i:]
		return row[:strings.Index(row, "</tr>")]
	}
	const throttled, active = "Tạm khóa do đăng nhập sai", "Đang hoạt động"
	for _, c := range []struct {
		login  string
		locked bool
	}{
		{"hn-leader", true},
		{"hn-auditor", false},
		{"hn-officer", false},
	} {
		row := userRow(c.login)
		if row == "" {
			t.Fatalf("no row for %s", c.login)
		}
		if got := strings.Contains(row, throttled) && strings.Contains(row, "/unlock"); got != c.locked ||
			strings.Contains(row, active) == c.locked {
			t.Errorf("%s: shown locked %v, want %v; its row:\n%s", c.login, got, c.locked, row)
		}
	}
	if row := userRow("dn-officer"); row != "" {
		t.Errorf("an account of another province is listed:\n%s", row)
	}
	if rec := tp.post(t, hdr, "/users/"+tp.users["hn-leader"].ID+"/unlock", nil, true); rec.Code != 303 {
		t.Fatalf("unlock = %d %s", rec.Code, rec.Body)
	}
	if row := userRow("hn-leader"); strings.Contains(row, throttled) || !strings.Contains(row, active) {
		t.Errorf("after unlocking, the row:\n%s", row)
	}
	if _, err := tp.a.Login(t.Context(), auth.Credentials{Login: "hn-leader", Password: tp.password}); err != nil {
		t.Errorf("after unlocking, sign-in = %v", err)
	}
}

// TestTokensPage creates a token through the page (its secret shown once, working),
// lists it with its use, and revokes it (it stops working).
func TestTokensPage(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-officer")
	rec := tp.post(t, hdr, "/tokens", url.Values{"name": {"CI cổng"}, "org": {"HN.STTTT"}, "action": {"inventory:read", "findings:read"},
		"expires": {"2026-06-01"}}, true)
	m := regexp.MustCompile(`id="once-secret">(khien_[a-z0-9]+_[a-z0-9]+)<`).FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		t.Fatalf("POST /tokens = %d, no secret:\n%s", rec.Code, rec.Body)
	}
	secret := m[1]
	if r := send(t, tp.srv, "GET", "/api/v1/systems", "", bearer(secret)); r.Code != 200 || !strings.Contains(r.Body.String(), "hn-portal") {
		t.Fatalf("the new token = %d %s", r.Code, r.Body)
	}
	code, body := tp.get(t, hdr, "/tokens")
	if code != 200 || strings.Contains(body, secret) || !strings.Contains(body, "CI cổng") || !strings.Contains(body, "findings:read") {
		t.Fatalf("GET /tokens = %d:\n%s", code, body)
	}
	if strings.Contains(body, "CI hn-admin") {
		t.Error("a security officer sees another user's token")
	}
	id := strings.SplitN(secret, "_", 3)[1]
	row := body[strings.Index(body, `id="token-`+id+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	if strings.Contains(row, "Chưa bao giờ") {
		t.Errorf("the token's row does not show its use:\n%s", row)
	}

	// Invalid and refused forms.
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no action", url.Values{"name": {"x"}}, 400},
		{"no name", url.Values{"action": {"inventory:read"}}, 400},
		{"bad date", url.Values{"name": {"x"}, "action": {"inventory:read"}, "expires": {"mai"}}, 400},
		{"past date", url.Values{"name": {"x"}, "action": {"inventory:read"}, "expires": {"2020-01-01"}}, 400},
		{"an action the role lacks", url.Values{"name": {"x"}, "action": {"users:manage"}}, 403},
		{"a scope outside", url.Values{"name": {"x"}, "action": {"inventory:read"}, "org": {"DN"}}, 403},
	} {
		if rec := tp.post(t, hdr, "/tokens", c.form, true); rec.Code != c.status {
			t.Errorf("%s: POST /tokens = %d, want %d", c.name, rec.Code, c.status)
		}
	}

	if rec := tp.post(t, hdr, "/tokens/"+id+"/revoke", nil, true); rec.Code != 303 {
		t.Fatalf("revoke = %d %s", rec.Code, rec.Body)
	}
	if r := send(t, tp.srv, "GET", "/api/v1/systems", "", bearer(secret)); r.Code != http.StatusUnauthorized {
		t.Errorf("the revoked token = %d", r.Code)
	}
	if _, body := tp.get(t, hdr, "/tokens"); !strings.Contains(body, "Đã thu hồi") {
		t.Error("the list does not show the token revoked")
	}

	// An administrator lists the subtree's tokens with their owners, and may revoke them.
	ah := tp.signIn(t, "hn-admin")
	_, body = tp.get(t, ah, "/tokens")
	for _, w := range []string{"CI hn-officer", "CI hn-leader", "hn-officer", "CI cổng"} {
		if !strings.Contains(body, w) {
			t.Errorf("the administrator's tokens page lacks %q", w)
		}
	}
	if strings.Contains(body, "CI dn-") {
		t.Error("the administrator of HN sees DN's tokens")
	}
}

// TestAdminFormsRefuseForgedCSRF posts every administration form with a forged CSRF token:
// each is refused and nothing changes.
func TestAdminFormsRefuseForgedCSRF(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-admin")
	officer := tp.users["hn-officer"].ID
	tok, _, err := tp.db.Tokens(t.Context(), auth.TokenFilter{Owner: tp.users["hn-admin"].ID})
	if err != nil || len(tok) == 0 {
		t.Fatal(err)
	}
	forms := map[string]url.Values{
		"/users":                           {"login": {"csrf-spy"}, "role": {"auditor"}, "org": {"HN"}},
		"/users/" + officer:                {"role": {"auditor"}, "org": {"HN"}},
		"/users/" + officer + "/mfa":       nil,
		"/users/" + officer + "/password":  nil,
		"/users/" + officer + "/lock":      nil,
		"/users/" + officer + "/unlock":    nil,
		"/tokens":                          {"name": {"x"}, "action": {"inventory:read"}},
		"/tokens/" + tok[0].ID + "/revoke": nil,
	}
	var routes patternRecorder
	addPages(&routes, Deps{})
	posts := 0
	for _, r := range routes {
		if strings.HasPrefix(r, "POST /users") || strings.HasPrefix(r, "POST /tokens") {
			posts++
		}
	}
	if posts != len(forms) {
		t.Errorf("%d administration forms, %d tried", posts, len(forms))
	}
	before, _ := tp.db.AuditHead(t.Context())
	for path, form := range forms {
		for _, csrf := range []string{"forged", ""} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			h := hdr.Clone()
			h.Del(csrfHeader)
			if csrf != "" {
				f.Set("csrf", csrf)
			}
			rec := sendForm(t, tp, "POST", path, f.Encode(), h)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"code":"csrf"`) {
				t.Errorf("POST %s with CSRF %q = %d %s", path, csrf, rec.Code, rec.Body)
			}
		}
	}
	if after, _ := tp.db.AuditHead(t.Context()); after != before {
		t.Errorf("a refused form changed something: audit head %d → %d", before.Seq, after.Seq)
	}
}

// TestAdminPagesInOneLanguage renders the administration pages in each language: nothing of
// the other shows.
func TestAdminPagesInOneLanguage(t *testing.T) {
	tp := newTwoProvinces(t)
	hdr := tp.signIn(t, "hn-admin")
	for _, l := range []lang{langVI, langEN} {
		h := hdr.Clone()
		h.Set("Cookie", h.Get("Cookie")+"; lang="+string(l))
		for _, p := range []string{"/audit", "/users", "/tokens"} {
			code, body := tp.get(t, h, p)
			if code != 200 || !strings.Contains(body, `<html lang="`+string(l)+`">`) {
				t.Errorf("%s GET %s = %d", l, p, code)
			}
			for k, m := range messages {
				other := m.en
				if l == langEN {
					other = m.vi
				}
				if m.vi == m.en || len(other) < 8 {
					continue
				}
				if strings.Contains(body, ">"+other+"<") || strings.Contains(body, ">"+other+" ") || strings.Contains(body, " "+other+"<") {
					t.Errorf("%s GET %s shows %q (%s) of the other language", l, p, other, k)
				}
			}
		}
	}
}

// TestAdminCatalogKeys checks that every catalog key ui_admin.go names is in the catalog
// (the templates are checked by TestCatalogComplete).
func TestAdminCatalogKeys(t *testing.T) {
	b, err := os.ReadFile("ui_admin.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"((?:users|tokens|audit|field|once|admin)\.[a-z0-9.]+)"`)
	n := 0
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		n++
		if _, ok := messages[m[1]]; !ok {
			t.Errorf("ui_admin.go names %q, which is not in the catalog", m[1])
		}
	}
	for _, k := range auditKinds {
		if _, ok := messages["kind."+k]; !ok {
			t.Errorf("kind %q has no name in the catalog", k)
		}
	}
	for _, r := range auth.Roles {
		if _, ok := messages["role."+string(r)]; !ok {
			t.Errorf("role %q has no name in the catalog", r)
		}
	}
	for _, a := range auth.Actions {
		if _, ok := messages["action."+string(a)]; !ok {
			t.Errorf("action %q has no name in the catalog", a)
		}
	}
	if n < 10 {
		t.Errorf("found only %d keys in ui_admin.go: the pattern is wrong", n)
	}
}

func TestJSONDiff(t *testing.T) {
	for _, c := range []struct {
		name, before, after string
		want                []diffRow
	}{
		{"creation", "", `{"b":1,"a":"x"}`, []diffRow{{"a", "", "x", true}, {"b", "", "1", true}}},
		{"deletion", `{"a":"x"}`, "", []diffRow{{"a", "x", "", true}}},
		{"change", `{"a":"x","n":[1,2],"k":true}`, `{"a":"y","n":[1, 2],"k":true}`,
			[]diffRow{{"a", "x", "y", true}, {"k", "true", "true", false}, {"n", "[1,2]", "[1,2]", true}}},
		{"not objects", `[1]`, `"s"`, []diffRow{{"", `[1]`, `"s"`, true}}},
		{"nothing", "", "", []diffRow{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := jsonDiff(c.before, c.after); !reflectEqual(got, c.want) {
				t.Errorf("jsonDiff(%s, %s) = %+v, want %+v", c.before, c.after, got, c.want)
			}
		})
	}
}

// TestAuditQueryDates checks that the date range is of days in Việt Nam, both included.
func TestAuditQueryDates(t *testing.T) {
	r, _ := http.NewRequest("GET", "/audit?from=2026-03-01&to=2026-03-01&actor=Lan", nil)
	f, q := auditQuery(r)
	if want := time.Date(2026, 2, 28, 17, 0, 0, 0, time.UTC); !q.Since.Equal(want) {
		t.Errorf("since %v, want %v", q.Since, want)
	}
	if want := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC); !q.Until.Equal(want) {
		t.Errorf("until %v, want %v", q.Until, want)
	}
	if q.Actor != "user:lan" || f.Actor != "Lan" {
		t.Errorf("actor %q (form %q)", q.Actor, f.Actor)
	}
}

// TestUsersPageLockEndsSessions locks an account on the users page while it is signed in
// twice: its next request, page or API, finds it signed out, while another account's session
// goes on; its API token is refused but not revoked, and the audit log says the sessions
// ended. Unlocking brings the token back, not the sessions, not even one left unused
// while the account was locked.
func TestUsersPageLockEndsSessions(t *testing.T) {
	tp := newTwoProvinces(t)
	admin := tp.signIn(t, "hn-admin")
	officer := []http.Header{tp.signIn(t, "hn-officer"), tp.signIn(t, "hn-officer")}
	auditor := tp.signIn(t, "hn-auditor")
	id := tp.users["hn-officer"].ID
	for i, h := range officer {
		if code, _ := tp.get(t, h, "/"); code != http.StatusOK {
			t.Fatalf("session %d before the lock: GET / = %d", i, code)
		}
	}

	if rec := tp.post(t, admin, "/users/"+id+"/lock", nil, true); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users?done=locked" {
		t.Fatalf("lock = %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// One session is used while the account is locked, the other not until it is unlocked:
	// both must stay ended, the second though nothing refused it in between.
	for i, h := range officer[:1] {
		rec := sendForm(t, tp, "GET", "/", "", h)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Errorf("session %d after the lock: GET / = %d %s; want sent to sign in", i, rec.Code, rec.Header().Get("Location"))
		}
		ended := false
		for _, c := range rec.Result().Cookies() {
			ended = ended || c.Name == sessionCookie && c.MaxAge < 0
		}
		if !ended {
			t.Errorf("session %d after the lock: the cookie was not cleared", i)
		}
		if rec := send(t, tp.srv, "GET", "/api/v1/me", "", h); rec.Code != http.StatusUnauthorized {
			t.Errorf("session %d after the lock: GET /api/v1/me = %d", i, rec.Code)
		}
		// The form of a signed-out session changes nothing either.
		if rec := tp.post(t, h, "/tokens", url.Values{"name": {"sau khi khóa"}, "action": {"inventory:read"}}, true); rec.Code == http.StatusOK {
			t.Errorf("session %d after the lock created a token", i)
		}
	}
	if code, _ := tp.get(t, auditor, "/"); code != http.StatusOK {
		t.Errorf("another account's session after the lock: GET / = %d", code)
	}
	tok := tp.tokens["hn-officer"]
	if rec := send(t, tp.srv, "GET", "/api/v1/me", "", bearer(tok)); rec.Code != http.StatusUnauthorized {
		t.Errorf("the locked account's token: GET /api/v1/me = %d", rec.Code)
	}
	if got, err := tp.db.Token(t.Context(), tokenID(tok)); err != nil || !got.Revoked.IsZero() {
		t.Errorf("the lock revoked the token: %+v, %v", got, err)
	}
	es, _, err := tp.a.AuditEntries(auth.WithPrincipal(t.Context(), auth.Operator("test")),
		audit.Filter{ObjectID: id})
	if err != nil || len(es) == 0 {
		t.Fatalf("audit of the lock: %v, %v", es, err)
	}
	if es[0].Action != "user.update" || es[0].Actor != "user:hn-admin" || !strings.Contains(es[0].After, `"sessions_ended":true`) {
		t.Errorf("the lock's audit entry: %s %s %s", es[0].Action, es[0].Actor, es[0].After)
	}

	if rec := tp.post(t, admin, "/users/"+id+"/unlock", nil, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("unlock = %d", rec.Code)
	}
	if rec := send(t, tp.srv, "GET", "/api/v1/me", "", bearer(tok)); rec.Code != http.StatusOK {
		t.Errorf("the token after unlocking: GET /api/v1/me = %d", rec.Code)
	}
	for i, h := range officer {
		if rec := send(t, tp.srv, "GET", "/api/v1/me", "", h); rec.Code != http.StatusUnauthorized {
			t.Errorf("session %d, ended by the lock, came back with the unlock: %d", i, rec.Code)
		}
	}
}

// TestUsersLastSignIn checks the users page's last sign-in column and the users API: when
// and how each account last signed in, "never" for one that has not, and a refused attempt
// changes nothing.
func TestUsersLastSignIn(t *testing.T) {
	tp := newTwoProvinces(t)
	admin := tp.signIn(t, "hn-admin")
	adminAt := tp.clock
	tp.clock = tp.clock.Add(10 * time.Minute)
	tp.signIn(t, "hn-officer")
	officerAt := tp.clock
	tp.clock = tp.clock.Add(10 * time.Minute)
	if rec := send(t, tp.srv, "POST", "/api/v1/session", `{"login":"hn-officer","password":"không phải mật khẩu"}`, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("a wrong password = %d", rec.Code)
	}
	// A session opened through the provider, as auth.Service.OIDCSignIn opens it.
	oidcAt := tp.clock
	if err := tp.db.CreateSession(t.Context(), auth.Session{IDHash: "oidc-session", UserID: tp.users["hn-auditor"].ID, CSRF: "x",
		Created: oidcAt, LastSeen: oidcAt, Expires: oidcAt.Add(time.Hour), Method: auth.MethodOIDC}); err != nil {
		t.Fatal(err)
	}

	rows := map[string]string{}
	for _, l := range []lang{langVI, langEN} {
		h := admin.Clone()
		h.Set("Cookie", h.Get("Cookie")+"; lang="+string(l))
		code, body := tp.get(t, h, "/users")
		if code != http.StatusOK {
			t.Fatalf("GET /users = %d", code)
		}
		v := view{Lang: l}
		for login, want := range map[string]string{
			"hn-admin":   v.Time(adminAt) + "<br><small>" + tr(l, "users.via.password"),
			"hn-officer": v.Time(officerAt) + "<br><small>" + tr(l, "users.via.password"),
			"hn-auditor": v.Time(oidcAt) + "<br><small>" + htmlEscape(tr(l, "users.via.oidc")),
			"hn-leader":  `<td class="last-login">` + tr(l, "never") + `</td>`,
		} {
			i := strings.Index(body, `id="user-`+login+`"`)
			if i < 0 {
				t.Fatalf("no row of %s", login)
			}
			row := body[i:]
			row = row[:strings.Index(row, "</tr>")]
			rows[login] = row
			if !strings.Contains(row, want) {
				t.Errorf("%s: the row of %s does not say %q:\n%s", l, login, want, row)
			}
		}
		if !strings.Contains(body, tr(l, "users.lastlogin")) {
			t.Errorf("%s: the column is not named %q", l, tr(l, "users.lastlogin"))
		}
	}

	rec := send(t, tp.srv, "GET", "/api/v1/users", "", admin)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/users = %d %v", rec.Code, err)
	}
	want := map[string][2]string{
		"hn-admin":   {adminAt.UTC().Format(time.RFC3339Nano), "password"},
		"hn-officer": {officerAt.UTC().Format(time.RFC3339Nano), "password"},
		"hn-auditor": {oidcAt.UTC().Format(time.RFC3339Nano), "oidc"},
		"hn-leader":  {"<nil>", "<nil>"},
	}
	for _, it := range list.Items {
		w, ok := want[it["login"].(string)]
		if !ok {
			continue
		}
		if got := [2]string{fmt.Sprint(it["last_login"]), fmt.Sprint(it["last_login_method"])}; got != w {
			t.Errorf("GET /api/v1/users: %s has last sign-in %v, want %v", it["login"], got, w)
		}
		delete(want, it["login"].(string))
	}
	if len(want) != 0 {
		t.Errorf("GET /api/v1/users lacks %v", want)
	}
}
