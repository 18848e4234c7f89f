package auth_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
)

// TestLastLogin checks that every way of signing in records the account's last sign-in,
// when and how, and that no refused attempt moves it: the sign-in form (with and without a
// one-time code), the provider, and the provider with the local code after it.
func TestLastLogin(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	ctx := t.Context()
	const iss = "https://idp.example.vn"
	officer, _ := e.user(t, "lan@hn.gov.vn", auth.SecurityOfficer, "HN")
	admin, adminTOTP := e.user(t, "quan@hn.gov.vn", auth.OrgAdmin, "HN")
	cl := auth.OIDCClient{ClientIP: "192.0.2.7"}
	// An administrator's identity is linked by an operator, never by e-mail.
	if _, err := e.a.LinkOIDC(operator(t), admin.ID, iss, "s-quan"); err != nil {
		t.Fatal(err)
	}
	code := func() string {
		c, err := auth.TOTP(adminTOTP, e.clock)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// stepUp signs the administrator in at the provider without a second factor and returns
	// the token the local code must come with.
	stepUp := func() string {
		t.Helper()
		_, token, err := e.a.OIDCSignIn(ctx, auth.Identity{Issuer: iss, Subject: "s-quan", Email: "quan@hn.gov.vn", EmailVerified: true, AMR: []string{"pwd"}}, cl)
		if err != nil || token == "" {
			t.Fatalf("OIDCSignIn of the administrator = %q, %v; want a step-up token", token, err)
		}
		return token
	}

	type last struct {
		at     time.Time
		method string
	}
	var never last
	steps := []struct {
		name string
		user auth.User
		do   func() (auth.NewSession, error)
		ok   bool
		want last // the account's last sign-in afterwards
	}{
		{"wrong password", officer, func() (auth.NewSession, error) {
			return e.a.Login(ctx, auth.Credentials{Login: "lan@hn.gov.vn", Password: "không phải mật khẩu này"})
		}, false, never},
		{"password", officer, func() (auth.NewSession, error) { return e.login(t, "lan@hn.gov.vn", "") }, true,
			last{t0.Add(time.Hour), auth.MethodPassword}},
		{"wrong password later", officer, func() (auth.NewSession, error) {
			return e.a.Login(ctx, auth.Credentials{Login: "lan@hn.gov.vn", Password: "không phải mật khẩu này"})
		}, false, last{t0.Add(time.Hour), auth.MethodPassword}},
		{"provider, unverified address", officer, func() (auth.NewSession, error) {
			ns, _, err := e.a.OIDCSignIn(ctx, auth.Identity{Issuer: iss, Subject: "s-lan", Email: "lan@hn.gov.vn"}, cl)
			return ns, err
		}, false, last{t0.Add(time.Hour), auth.MethodPassword}},
		{"provider", officer, func() (auth.NewSession, error) {
			ns, _, err := e.a.OIDCSignIn(ctx, auth.Identity{Issuer: iss, Subject: "s-lan", Email: "lan@hn.gov.vn", EmailVerified: true}, cl)
			return ns, err
		}, true, last{t0.Add(4 * time.Hour), auth.MethodOIDC}},
		{"administrator, wrong code", admin, func() (auth.NewSession, error) {
			return e.a.Login(ctx, auth.Credentials{Login: "quan@hn.gov.vn", Password: password, TOTP: "000000"})
		}, false, never},
		{"administrator, password and code", admin, func() (auth.NewSession, error) { return e.login(t, "quan@hn.gov.vn", adminTOTP) }, true,
			last{t0.Add(6 * time.Hour), auth.MethodPassword}},
		{"administrator, provider then no code yet", admin, func() (auth.NewSession, error) {
			stepUp()
			return auth.NewSession{}, errs.E(errs.Unauthenticated, "no session yet")
		}, false, last{t0.Add(6 * time.Hour), auth.MethodPassword}},
		{"administrator, provider then a wrong code", admin, func() (auth.NewSession, error) {
			return e.a.OIDCTOTP(ctx, stepUp(), "000000", cl)
		}, false, last{t0.Add(6 * time.Hour), auth.MethodPassword}},
		{"administrator, provider then the code", admin, func() (auth.NewSession, error) {
			return e.a.OIDCTOTP(ctx, stepUp(), code(), cl)
		}, true, last{t0.Add(9 * time.Hour), auth.MethodOIDC}},
	}
	for i, s := range steps {
		e.clock = t0.Add(time.Duration(i) * time.Hour)
		ns, err := s.do()
		if (err == nil) != s.ok {
			t.Fatalf("%s: err = %v, want ok %v", s.name, err, s.ok)
		}
		got, err := e.db.User(ctx, s.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastLogin.Equal(s.want.at) || got.LastLoginMethod != s.want.method {
			t.Errorf("%s: last sign-in %v %q, want %v %q", s.name, got.LastLogin, got.LastLoginMethod, s.want.at, s.want.method)
		}
		if s.ok {
			if !ns.User.LastLogin.Equal(e.clock) || ns.User.LastLoginMethod != s.want.method || ns.Session.Method != s.want.method {
				t.Errorf("%s: the new session says %v %q (session %q)", s.name, ns.User.LastLogin, ns.User.LastLoginMethod, ns.Session.Method)
			}
		}
	}
}

// TestOIDCAdminWithoutAnySecondFactor checks the refusal of an administrator who has no local
// second factor and whose provider reports none. Such an account cannot be made through the
// service (an administrator is enrolled at once), so it is made in the store, as an older
// version or a hand-edited database could have left it.
func TestOIDCAdminWithoutAnySecondFactor(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	ctx := operator(t)
	const iss = "https://idp.example.vn"
	u := auth.User{ID: "u-nomfa", Login: "ha@hn.gov.vn", Name: "Hà", Role: auth.OrgAdmin, Org: "HN",
		PasswordHash: auth.HashPassword(password, fast), Created: t0, Updated: t0}
	en, err := audit.NewLog(e.db, e.db, e.now).Entry(ctx, audit.Record{Action: "user.create", ObjectType: "user", ObjectID: u.ID, Org: "HN"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateUser(ctx, u, en); err != nil {
		t.Fatal(err)
	}
	cl := auth.OIDCClient{ClientIP: "192.0.2.9"}
	amrs := [][]string{nil, {"pwd"}, {"pwd", "kba"}}
	// By e-mail, an administrator's identity is not even linked: an operator links it.
	for _, amr := range amrs {
		ns, step, err := e.a.OIDCSignIn(t.Context(), auth.Identity{Issuer: iss, Subject: "s-ha", Email: "ha@hn.gov.vn", EmailVerified: true, AMR: amr}, cl)
		if reasonOf(err) != auth.ReasonLinkRequired || ns.ID != "" || step != "" {
			t.Errorf("amr %q by e-mail: OIDCSignIn = %+v, %q, %v; want refused until an operator links it", amr, ns, step, err)
		}
	}
	if ls, err := e.db.OIDCLinks(t.Context(), u.ID); err != nil || len(ls) != 0 {
		t.Errorf("OIDCLinks = %v, %v; want none made by a refused sign-in", ls, err)
	}
	if _, err := e.a.LinkOIDC(ctx, u.ID, iss, "s-ha"); err != nil {
		t.Fatal(err)
	}
	for _, amr := range amrs {
		ns, step, err := e.a.OIDCSignIn(t.Context(), auth.Identity{Issuer: iss, Subject: "s-ha", Email: "ha@hn.gov.vn", EmailVerified: true, AMR: amr}, cl)
		if reasonOf(err) != auth.ReasonMFA || ns.ID != "" || step != "" {
			t.Errorf("amr %q: OIDCSignIn = %+v, %q, %v; want refused for want of a second factor, no session, no step-up", amr, ns, step, err)
		}
	}
	// Nothing was recorded as a sign-in; each refusal is in the audit log.
	if got, err := e.db.User(t.Context(), u.ID); err != nil || !got.LastLogin.IsZero() {
		t.Errorf("last sign-in after refusals = %v, %v", got.LastLogin, err)
	}
	entries, _, err := e.db.AuditEntries(t.Context(), audit.Filter{ObjectID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]int{}
	for _, en := range entries {
		var after struct{ Method, Reason string }
		_ = json.Unmarshal([]byte(en.After), &after)
		switch en.Action {
		case "user.signin_failed":
			if after.Method != "oidc" || en.Actor != "user:ha@hn.gov.vn" {
				t.Errorf("entry %d: %s %s", en.Seq, en.Actor, en.After)
			}
			refused[after.Reason]++
		case "user.signin":
			t.Errorf("entry %d: %s after a refusal", en.Seq, en.Action)
		case "user.link_oidc":
			if en.Actor == "user:ha@hn.gov.vn" {
				t.Errorf("entry %d: a link made by the sign-in: %s", en.Seq, en.After)
			}
		}
	}
	if refused["link_required"] != 3 || refused["mfa"] != 3 || len(refused) != 2 {
		t.Errorf("audit log has refusals %v, want 3 link_required and 3 mfa", refused)
	}
	// The sign-in form refuses the account too, saying how to enrol a second factor.
	_, err = e.login(t, "ha@hn.gov.vn", "")
	if !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "reset-mfa") {
		t.Errorf("password sign-in = %v; want Forbidden naming khien user reset-mfa", err)
	}
	// The provider's word on a second factor is enough, as for any administrator.
	ns, _, err := e.a.OIDCSignIn(t.Context(), auth.Identity{Issuer: iss, Subject: "s-ha", Email: "ha@hn.gov.vn", EmailVerified: true, AMR: []string{"pwd", "hwk"}}, cl)
	if err != nil || ns.ID == "" {
		t.Errorf("with the provider's second factor: %+v, %v", ns, err)
	}
}

// TestLockEndsSessions checks that disabling an account ends its sessions at once and says
// so in the audit log, and revokes nothing else: its API token is refused while it is
// locked and works again once it is unlocked; the sessions do not come back.
func TestLockEndsSessions(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	u, _ := e.user(t, "lan", auth.SecurityOfficer, "HN")
	e.user(t, "minh", auth.SecurityOfficer, "HN")
	var sessions []auth.NewSession
	for range 2 {
		ns, err := e.login(t, "lan", "")
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, ns)
	}
	others, err := e.login(t, "minh", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := e.a.CreateToken(as(t, u), auth.NewToken{Name: "ci", Actions: []auth.Action{auth.InventoryRead}})
	if err != nil {
		t.Fatal(err)
	}
	lock := func(disabled bool) {
		t.Helper()
		if _, _, err := e.a.UpdateUser(operator(t), u.ID, auth.UserChange{Name: u.Name, Role: u.Role, Org: u.Org, Disabled: disabled}); err != nil {
			t.Fatal(err)
		}
	}
	lock(true)
	for i, ns := range sessions { // gone at once, not at their next use
		if _, err := e.db.Session(t.Context(), ns.Session.IDHash); !errs.Is(err, errs.NotFound) {
			t.Errorf("session %d is still stored after the lock: %v", i, err)
		}
	}
	if _, err := e.a.SessionPrincipal(t.Context(), sessions[0].ID); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("session 0 after the lock: %v", err)
	}
	if _, err := e.a.SessionPrincipal(t.Context(), others.ID); err != nil {
		t.Errorf("another account's session ended with the lock: %v", err)
	}
	if _, err := e.a.TokenPrincipal(t.Context(), secret); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("the locked account's token = %v; want refused", err)
	}
	if got, err := e.db.Token(t.Context(), tok.ID); err != nil || !got.Revoked.IsZero() {
		t.Errorf("the lock revoked the token: %+v, %v", got, err)
	}
	entries, _, err := e.db.AuditEntries(t.Context(), audit.Filter{ObjectID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Action != "user.update" || !strings.Contains(entries[0].After, `"sessions_ended":true`) ||
		!strings.Contains(entries[0].After, `"disabled":true`) {
		t.Errorf("the lock's audit entry: %+v", entries[:min(len(entries), 1)])
	}
	for _, en := range entries {
		if en.Action == "token.revoke" {
			t.Errorf("the lock recorded a revocation: %s", en.After)
		}
	}

	lock(false)
	if _, err := e.a.TokenPrincipal(t.Context(), secret); err != nil {
		t.Errorf("the token after unlocking: %v", err)
	}
	for i, ns := range sessions { // session 1 was not used while the account was locked
		if _, err := e.a.SessionPrincipal(t.Context(), ns.ID); err == nil {
			t.Errorf("session %d, ended by the lock, came back with the unlock", i)
		}
	}
	entries, _, _ = e.db.AuditEntries(t.Context(), audit.Filter{ObjectID: u.ID})
	if strings.Contains(entries[0].After, "sessions_ended") {
		t.Errorf("unlocking says sessions ended: %s", entries[0].After)
	}
}
