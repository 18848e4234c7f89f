package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/auth/oidctest"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// oidcEnv is Khiên over TLS on loopback, offering sign-in through a test provider on
// loopback too, with a clock both share.
type oidcEnv struct {
	srv   *httptest.Server
	idp   *oidctest.Provider
	a     *auth.Service
	db    *sqlite.DB
	users map[string]auth.User
	totp  map[string]string

	mu    sync.Mutex
	clock time.Time
}

func (e *oidcEnv) now() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.clock }

func newOIDCEnv(t *testing.T, offer bool) *oidcEnv {
	t.Helper()
	e := &oidcEnv{db: openStore(t), users: map[string]auth.User{}, totp: map[string]string{},
		clock: time.Now().UTC().Truncate(time.Second)}
	inv := inventory.NewService(e.db, e.now)
	seed(t, inv)
	e.a = newAuth(t, e.db, e.now)
	e.idp = oidctest.New(t, e.now)
	d := Deps{Log: testLog(t), Inventory: inv, Auth: e.a, Now: e.now}
	if offer {
		rp, err := auth.NewOIDC(auth.OIDCConfig{Issuer: e.idp.Issuer, ClientID: e.idp.ClientID, ClientSecret: e.idp.ClientSecret,
			Name: "VNeID thử", Now: e.now})
		if err != nil {
			t.Fatal(err)
		}
		d.OIDC = rp
	}
	e.srv = httptest.NewTLSServer(NewServer(d))
	t.Cleanup(e.srv.Close)
	op := auth.WithPrincipal(t.Context(), auth.Operator("test"))
	for _, u := range []struct {
		login string
		role  auth.Role
	}{{"lan@hn.gov.vn", auth.SecurityOfficer}, {"quan@hn.gov.vn", auth.OrgAdmin}} {
		created, uri, err := e.a.CreateUser(op, auth.NewUser{Login: u.login, Role: u.role, Org: "HN", Password: "mật khẩu đủ dài để thử"})
		if err != nil {
			t.Fatal(err)
		}
		e.users[u.login] = created
		if uri != "" {
			e.totp[u.login] = secretOf(t, uri)
		}
	}
	return e
}

// link links the identity subject of the test provider to the account login, as an
// operator does (khien user link-oidc).
func (e *oidcEnv) link(t *testing.T, login, subject string) {
	t.Helper()
	op := auth.WithPrincipal(t.Context(), auth.Operator("test"))
	if _, err := e.a.LinkOIDC(op, e.users[login].ID, e.idp.Issuer, subject); err != nil {
		t.Fatal(err)
	}
}

// browser is a client with a cookie jar, as a browser would be: follow follows every
// redirect; stop does not follow the provider's redirect back to Khiên, so that a test can
// change the callback before delivering it.
type browser struct {
	jar          *cookiejar.Jar
	follow, stop *http.Client
}

func (e *oidcEnv) browser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base := e.srv.Client()
	b := &browser{jar: jar}
	b.follow = &http.Client{Transport: base.Transport, Jar: jar, Timeout: 10 * time.Second}
	b.stop = &http.Client{Transport: base.Transport, Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if r.URL.Path == "/login/oidc/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	return b
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// begin starts a sign-in and returns the callback the provider sends the browser back to.
func (e *oidcEnv) begin(t *testing.T, b *browser) *url.URL {
	t.Helper()
	resp, body := get(t, b.stop, e.srv.URL+"/login/oidc")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /login/oidc ended in %d, want the provider's 302 back: %s", resp.StatusCode, body)
	}
	back, err := resp.Location()
	if err != nil || back.Path != "/login/oidc/callback" {
		t.Fatalf("the provider sends back to %v, %v", back, err)
	}
	return back
}

// signedInAs returns the login of the browser's session, or "".
func (e *oidcEnv) signedInAs(t *testing.T, b *browser) string {
	t.Helper()
	resp, body := get(t, b.follow, e.srv.URL+"/api/v1/me")
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	var me struct {
		Login string `json:"login"`
	}
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	return me.Login
}

func (e *oidcEnv) sessionCookie(b *browser) string {
	u, _ := url.Parse(e.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

// failures counts the audit log's refused sign-ins through the provider, by reason.
func (e *oidcEnv) audited(t *testing.T) map[string]int {
	t.Helper()
	entries, _, err := e.db.AuditEntries(t.Context(), audit.Filter{ObjectType: "user", Page: inventory.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, en := range entries {
		var after struct{ Method, Reason string }
		_ = json.Unmarshal([]byte(en.After), &after)
		if after.Method == "oidc" {
			n[en.Action+" "+after.Reason]++
		}
	}
	return n
}

// TestOIDCSignInFlow drives the whole flow with a browser's cookie jar against the real
// handler and a real provider on loopback: discovery, the redirect with PKCE, state and
// nonce, the code for a signed ID token, and a session like the sign-in form's.
func TestOIDCSignInFlow(t *testing.T) {
	e := newOIDCEnv(t, true)
	e.idp.SetUser(oidctest.User{Subject: "s-lan", Email: "lan@hn.gov.vn", EmailVerified: true})
	b := e.browser(t)

	// An old session of the same browser, to see it replaced.
	form := url.Values{"login": {"lan@hn.gov.vn"}, "password": {"mật khẩu đủ dài để thử"}}
	resp, err := b.follow.PostForm(e.srv.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	old := e.sessionCookie(b)
	if old == "" {
		t.Fatal("the sign-in form set no session")
	}

	resp, body := get(t, b.follow, e.srv.URL+"/login/oidc")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("the flow ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
	}
	if got := e.signedInAs(t, b); got != "lan@hn.gov.vn" {
		t.Fatalf("signed in as %q", got)
	}
	now := e.sessionCookie(b)
	if now == "" || now == old {
		t.Error("the session id was not rotated at sign-in")
	}
	if _, err := e.a.SessionPrincipal(t.Context(), old); err == nil {
		t.Error("the browser's previous session still works")
	}
	if e.idp.Redeemed() != 1 {
		t.Errorf("the provider redeemed %d codes, want 1", e.idp.Redeemed())
	}
	if n := e.audited(t); n["user.signin "] != 1 {
		t.Errorf("audit log: %v; want one user.signin with the method oidc", n)
	}
	if u, err := e.db.User(t.Context(), e.users["lan@hn.gov.vn"].ID); err != nil || u.LastLoginMethod != auth.MethodOIDC || !u.LastLogin.Equal(e.now()) {
		t.Errorf("last sign-in after the flow = %v %q, %v; want now, oidc", u.LastLogin, u.LastLoginMethod, err)
	}

	// The cookies the flow set: the session's like the form's, the state's gone.
	b2 := e.browser(t)
	var state *http.Cookie
	first, err := b2.stop.Do(mustReq(t, e.srv.URL+"/login/oidc"))
	if err != nil {
		t.Fatal(err)
	}
	first.Body.Close()
	for _, c := range first.Request.Response.Cookies() {
		if c.Name == oidcCookie {
			state = c
		}
	}
	if state == nil || !state.Secure || !state.HttpOnly || state.SameSite != http.SameSiteLaxMode || state.Path != "/" {
		t.Errorf("state cookie = %+v; want __Host-, Secure, HttpOnly, SameSite=Lax, Path=/", state)
	}
}

func mustReq(t *testing.T, u string) *http.Request {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOIDCRefusals checks each way a callback is refused: the page says why in the reader's
// language, no session is made, and the refusal is in the audit log.
func TestOIDCRefusals(t *testing.T) {
	tests := []struct {
		name    string
		user    oidctest.User
		tamper  func(h, c map[string]any)
		deliver func(t *testing.T, e *oidcEnv, b *browser, back *url.URL) *url.URL // changes the callback
		status  int
		key     string
		// audited is the audit log's "action reason"; "" for none: a refusal before the token
		// exchange involves nobody's identity and is only logged.
		audited string
	}{
		{name: "wrong state", status: http.StatusBadRequest, key: "oidc.err.state",
			deliver: func(t *testing.T, e *oidcEnv, b *browser, back *url.URL) *url.URL {
				q := back.Query()
				q.Set("state", "not-the-browsers")
				back.RawQuery = q.Encode()
				return back
			}},
		{name: "state of another browser", status: http.StatusBadRequest, key: "oidc.err.state",
			deliver: func(t *testing.T, e *oidcEnv, b *browser, back *url.URL) *url.URL {
				other := e.begin(t, e.browser(t)) // an attacker's own sign-in, delivered to the victim
				return other
			}},
		{name: "provider refused", status: http.StatusUnauthorized, key: "oidc.err.provider",
			deliver: func(t *testing.T, e *oidcEnv, b *browser, back *url.URL) *url.URL {
				q := back.Query()
				q.Del("code")
				q.Set("error", "access_denied")
				back.RawQuery = q.Encode()
				return back
			}},
		{name: "code forged", status: http.StatusBadGateway, key: "oidc.err.exchange", audited: "user.signin_failed exchange",
			deliver: func(t *testing.T, e *oidcEnv, b *browser, back *url.URL) *url.URL {
				q := back.Query()
				q.Set("code", "forged")
				back.RawQuery = q.Encode()
				return back
			}},
		{name: "bad nonce", tamper: func(h, c map[string]any) { c["nonce"] = "another" }, status: http.StatusUnauthorized,
			key: "oidc.err.nonce", audited: "user.signin_failed nonce"},
		{name: "another issuer", tamper: func(h, c map[string]any) { c["iss"] = "https://idp.example.vn" }, status: http.StatusUnauthorized,
			key: "oidc.err.issuer", audited: "user.signin_failed issuer"},
		{name: "another audience", tamper: func(h, c map[string]any) { c["aud"] = "another-app" }, status: http.StatusUnauthorized,
			key: "oidc.err.audience", audited: "user.signin_failed audience"},
		{name: "expired", tamper: func(h, c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, status: http.StatusUnauthorized,
			key: "oidc.err.expired", audited: "user.signin_failed expired"},
		{name: "bad signature", tamper: func(h, c map[string]any) { h["kid"] = "unknown" }, status: http.StatusUnauthorized,
			key: "oidc.err.token", audited: "user.signin_failed token"},
		{name: "unverified e-mail", user: oidctest.User{Subject: "s-new", Email: "lan@hn.gov.vn", EmailVerified: false},
			status: http.StatusForbidden, key: "oidc.err.unverified", audited: "user.signin_failed unverified"},
		{name: "e-mail verified only as a string false", user: oidctest.User{Subject: "s-new", Email: "lan@hn.gov.vn", EmailVerified: "false"},
			status: http.StatusForbidden, key: "oidc.err.unverified", audited: "user.signin_failed unverified"},
		{name: "no account", user: oidctest.User{Subject: "s-x", Email: "x@hn.gov.vn", EmailVerified: true},
			status: http.StatusForbidden, key: "oidc.err.noaccount", audited: "user.signin_failed no_account"},
		{name: "no state cookie", status: http.StatusBadRequest, key: "oidc.err.state",
			deliver: func(t *testing.T, e *oidcEnv, b *browser, back *url.URL) *url.URL {
				u, _ := url.Parse(e.srv.URL)
				b.jar.SetCookies(u, []*http.Cookie{{Name: oidcCookie, Value: "", Path: "/", MaxAge: -1}})
				return back
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOIDCEnv(t, true)
			if tt.user.Subject != "" {
				e.idp.SetUser(tt.user)
			} else {
				e.idp.SetUser(oidctest.User{Subject: "s-lan", Email: "lan@hn.gov.vn", EmailVerified: true})
			}
			e.idp.Tamper(tt.tamper)
			b := e.browser(t)
			back := e.begin(t, b)
			if tt.deliver != nil {
				back = tt.deliver(t, e, b, back)
			}
			for _, l := range []lang{langVI, langEN} {
				if l == langEN { // the same refusal again, read in English: start over
					e.idp.Tamper(tt.tamper)
					b = e.browser(t)
					u, _ := url.Parse(e.srv.URL)
					b.jar.SetCookies(u, []*http.Cookie{{Name: langCookie, Value: "en", Path: "/"}})
					back = e.begin(t, b)
					if tt.deliver != nil {
						back = tt.deliver(t, e, b, back)
					}
				}
				resp, body := get(t, b.follow, back.String())
				if resp.StatusCode != tt.status {
					t.Errorf("%s: status %d, want %d: %s", l, resp.StatusCode, tt.status, body)
				}
				if want := tr(l, tt.key); !strings.Contains(body, htmlEscape(want)) {
					t.Errorf("%s: the page does not say %q:\n%s", l, want, body)
				}
				if who := e.signedInAs(t, b); who != "" {
					t.Errorf("%s: refused, yet signed in as %q", l, who)
				}
			}
			n := e.audited(t)
			if tt.audited != "" && n[tt.audited] != 2 {
				t.Errorf("audit log %v; want 2 of %q", n, tt.audited)
			}
			if tt.audited == "" && len(n) != 0 {
				t.Errorf("audit log %v; want nothing", n)
			}
		})
	}
}

func htmlEscape(s string) string { return template.HTMLEscapeString(s) }

// TestOIDCReplay checks that a callback works once, even when the provider would redeem its
// code again and the browser still held the state.
func TestOIDCReplay(t *testing.T) {
	e := newOIDCEnv(t, true)
	e.idp.SetUser(oidctest.User{Subject: "s-lan", Email: "lan@hn.gov.vn", EmailVerified: true})
	e.idp.ReuseCodes(true)
	b := e.browser(t)
	back := e.begin(t, b)
	u, _ := url.Parse(e.srv.URL)
	var state string
	for _, c := range b.jar.Cookies(u) {
		if c.Name == oidcCookie {
			state = c.Value
		}
	}
	if resp, body := get(t, b.follow, back.String()); resp.Request.URL.Path != "/" {
		t.Fatalf("first callback ended at %s: %s", resp.Request.URL, body)
	}
	// An attacker holding the callback URL and the state cookie.
	thief := e.browser(t)
	thief.jar.SetCookies(u, []*http.Cookie{{Name: oidcCookie, Value: state, Path: "/"}})
	resp, body := get(t, thief.follow, back.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, htmlEscape(tr(langVI, "oidc.err.replay"))) {
		t.Errorf("replayed callback: %d %s", resp.StatusCode, body)
	}
	if who := e.signedInAs(t, thief); who != "" {
		t.Errorf("the replay signed in as %q", who)
	}
	// The replay involved no identity: it is logged, not audited.
	if n := e.audited(t); n["user.signin_failed replay"] != 0 || n["user.signin "] != 1 {
		t.Errorf("audit log %v", n)
	}
}

// TestOIDCAdminSecondFactor checks that an administrator signs in through the provider only
// with a second factor: the provider's (amr), or the local one-time code after it.
func TestOIDCAdminSecondFactor(t *testing.T) {
	e := newOIDCEnv(t, true)
	e.idp.SetUser(oidctest.User{Subject: "s-quan", Email: "quan@hn.gov.vn", EmailVerified: true, AMR: []string{"pwd", "otp"}})
	// Not by its e-mail address, even with the provider's second factor: an operator links it.
	b := e.browser(t)
	if resp, body := get(t, b.follow, e.srv.URL+"/login/oidc"); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, htmlEscape(tr(langVI, "oidc.err.linkrequired"))) {
		t.Fatalf("admin by e-mail: %d %s", resp.StatusCode, body)
	}
	e.link(t, "quan@hn.gov.vn", "s-quan")
	b = e.browser(t)
	if resp, body := get(t, b.follow, e.srv.URL+"/login/oidc"); resp.Request.URL.Path != "/" {
		t.Fatalf("admin with the provider's second factor ended at %s: %s", resp.Request.URL, body)
	}
	if who := e.signedInAs(t, b); who != "quan@hn.gov.vn" {
		t.Fatalf("signed in as %q", who)
	}

	e.idp.SetUser(oidctest.User{Subject: "s-quan", AMR: []string{"pwd"}})
	step := func(code string) (*http.Response, string, *browser) {
		t.Helper()
		b := e.browser(t)
		resp, body := get(t, b.follow, e.srv.URL+"/login/oidc")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/login/oidc/totp"`) {
			t.Fatalf("no one-time code asked: %d %s", resp.StatusCode, body)
		}
		if who := e.signedInAs(t, b); who != "" {
			t.Fatalf("signed in as %q before the one-time code", who)
		}
		resp, err := b.follow.PostForm(e.srv.URL+"/login/oidc/totp", url.Values{"totp": {code}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		bb, _ := io.ReadAll(resp.Body)
		return resp, string(bb), b
	}
	resp, body, b := step("000000")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, htmlEscape(tr(langVI, "oidc.err.totp"))) {
		t.Errorf("wrong code: %d %s", resp.StatusCode, body)
	}
	if who := e.signedInAs(t, b); who != "" {
		t.Errorf("a wrong code signed in as %q", who)
	}
	code, err := auth.TOTP(e.totp["quan@hn.gov.vn"], e.now())
	if err != nil {
		t.Fatal(err)
	}
	resp, body, b = step(code)
	if resp.Request.URL.Path != "/" {
		t.Fatalf("right code ended at %s %d: %s", resp.Request.URL, resp.StatusCode, body)
	}
	if who := e.signedInAs(t, b); who != "quan@hn.gov.vn" {
		t.Errorf("signed in as %q", who)
	}
	n := e.audited(t)
	if n["user.signin "] != 2 || n["user.signin_failed totp"] != 1 || n["user.signin_failed link_required"] != 1 {
		t.Errorf("audit log %v", n)
	}
}

// TestOIDCAdminWithoutAnySecondFactor checks, through the handler, the refusal of an
// administrator who has no local second factor and whose provider reports none: the page
// says why in the reader's language, no session and no step-up are given, and each refusal
// is in the audit log. The account is made in the store, since the service enrols every
// administrator it creates.
func TestOIDCAdminWithoutAnySecondFactor(t *testing.T) {
	e := newOIDCEnv(t, true)
	ctx := auth.WithPrincipal(t.Context(), auth.Operator("test"))
	fast := auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	u := auth.User{ID: "u-nomfa", Login: "ha@hn.gov.vn", Name: "Hà", Role: auth.OrgAdmin, Org: "HN",
		PasswordHash: auth.HashPassword("mật khẩu đủ dài để thử", fast), Created: e.now(), Updated: e.now()}
	en, err := audit.NewLog(e.db, e.db, e.now).Entry(ctx, audit.Record{Action: "user.create", ObjectType: "user", ObjectID: u.ID, Org: "HN"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateUser(ctx, u, en); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.LinkOIDC(ctx, u.ID, e.idp.Issuer, "s-ha"); err != nil {
		t.Fatal(err)
	}
	e.idp.SetUser(oidctest.User{Subject: "s-ha", Email: "ha@hn.gov.vn", EmailVerified: true, AMR: []string{"pwd"}})
	for _, l := range []lang{langVI, langEN} {
		b := e.browser(t)
		base, _ := url.Parse(e.srv.URL)
		b.jar.SetCookies(base, []*http.Cookie{{Name: langCookie, Value: string(l), Path: "/"}})
		resp, body := get(t, b.follow, e.srv.URL+"/login/oidc")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403: %s", l, resp.StatusCode, body)
		}
		if want := tr(l, "oidc.err.mfa"); !strings.Contains(body, htmlEscape(want)) {
			t.Errorf("%s: the page does not say %q:\n%s", l, want, body)
		}
		if strings.Contains(body, `action="/login/oidc/totp"`) {
			t.Errorf("%s: a one-time code is asked of an account that has none", l)
		}
		if c := e.sessionCookie(b); c != "" {
			t.Errorf("%s: refused, yet a session cookie was set", l)
		}
		if who := e.signedInAs(t, b); who != "" {
			t.Errorf("%s: refused, yet signed in as %q", l, who)
		}
	}
	if n := e.audited(t); n["user.signin_failed mfa"] != 2 || n["user.signin "] != 0 {
		t.Errorf("audit log %v; want 2 of user.signin_failed mfa and no sign-in", n)
	}
	if got, err := e.db.User(t.Context(), u.ID); err != nil || !got.LastLogin.IsZero() {
		t.Errorf("last sign-in after refusals = %v, %v", got.LastLogin, err)
	}
}

// TestOIDCSignInPage checks the button beside the local form, in both languages, and that
// nothing of it is served when no provider is configured.
func TestOIDCSignInPage(t *testing.T) {
	e := newOIDCEnv(t, true)
	for _, l := range []lang{langVI, langEN} {
		b := e.browser(t)
		u, _ := url.Parse(e.srv.URL)
		b.jar.SetCookies(u, []*http.Cookie{{Name: langCookie, Value: string(l), Path: "/"}})
		_, body := get(t, b.follow, e.srv.URL+"/login")
		want := tr(l, "login.oidc") + " VNeID thử"
		if !strings.Contains(body, `id="sign-in-oidc"`) || !strings.Contains(body, htmlEscape(want)) || !strings.Contains(body, `id="sign-in"`) {
			t.Errorf("%s: the sign-in page lacks %q beside the form:\n%s", l, want, body)
		}
	}

	plain := newOIDCEnv(t, false)
	b := plain.browser(t)
	_, body := get(t, b.follow, plain.srv.URL+"/login")
	if strings.Contains(body, "sign-in-oidc") {
		t.Error("the sign-in page offers a provider when none is configured")
	}
	for _, path := range []string{"/login/oidc", "/login/oidc/callback?state=x&code=y"} {
		if resp, _ := get(t, b.stop, plain.srv.URL+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without a provider: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestOIDCCatalog checks that every refusal has its message.
func TestOIDCCatalog(t *testing.T) {
	for reason, m := range oidcReasons {
		if _, ok := messages[m.key]; !ok {
			t.Errorf("reason %s: %s is not in the catalog", reason, m.key)
		}
	}
	for _, k := range []string{"login.or", "login.oidc", "oidc.unavailable", "oidc.totp.title", "oidc.totp.intro", "oidc.totp.code", "oidc.totp.submit"} {
		if _, ok := messages[k]; !ok {
			t.Errorf("%s is not in the catalog", k)
		}
	}
}

// TestOIDCProviderDown checks that a provider that does not answer gives a clear page, not
// an error of Khiên's, and that the local form still works beside it.
func TestOIDCProviderDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	db := openStore(t)
	inv := inventory.NewService(db, fixedNow)
	seed(t, inv)
	rp, err := auth.NewOIDC(auth.OIDCConfig{Issuer: down, ClientID: "k", ClientSecret: "s",
		Client: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(NewServer(Deps{Log: testLog(t), Inventory: inv, Auth: newAuth(t, db, fixedNow), OIDC: rp}))
	defer srv.Close()
	resp, body := get(t, srv.Client(), srv.URL+"/login/oidc")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, htmlEscape(tr(langVI, "oidc.unavailable"))) ||
		!strings.Contains(body, `id="sign-in"`) {
		t.Errorf("provider down: %d %s", resp.StatusCode, body)
	}
}

// TestOIDCAnonymousRefusalsNotAudited checks that callbacks refused before the token exchange
// (a made-up or missing state, the provider's own refusal) add nothing to the audit log:
// anyone can send them, nobody's identity is involved, and each would otherwise be a record
// kept forever. They are refused all the same.
func TestOIDCAnonymousRefusalsNotAudited(t *testing.T) {
	e := newOIDCEnv(t, true)
	c := e.srv.Client()
	tests := []struct {
		name, query, cookie string
		status              int
	}{
		{"made-up state", "state=x&code=y", "made-up", http.StatusBadRequest},
		{"no state cookie", "state=x&code=y", "", http.StatusBadRequest},
		{"provider error, made-up state", "state=x&error=access_denied", "made-up", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 20 {
				req := mustReq(t, e.srv.URL+"/login/oidc/callback?"+tt.query)
				if tt.cookie != "" {
					req.AddCookie(&http.Cookie{Name: oidcCookie, Value: fmt.Sprintf("%s-%d", tt.cookie, i)})
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
			}
			if n := e.audited(t); len(n) != 0 {
				t.Errorf("audit log %v after anonymous refusals; want nothing", n)
			}
		})
	}
	// The state of a real sign-in taken, a refusal after the exchange is still audited.
	e.idp.SetUser(oidctest.User{Subject: "s-x", Email: "x@hn.gov.vn", EmailVerified: true})
	b := e.browser(t)
	if resp, _ := get(t, b.follow, e.srv.URL+"/login/oidc"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no account: status %d, want 403", resp.StatusCode)
	}
	if n := e.audited(t); n["user.signin_failed no_account"] != 1 {
		t.Errorf("audit log %v; want the refusal of the verified identity", n)
	}
}
