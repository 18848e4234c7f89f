package auth_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

var (
	t0   = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	fast = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
)

const (
	secretKey = "khien-test-secret-key-0123456789abcdef"
	password  = "một mật khẩu đủ dài"
)

// env is an auth service over a SQLite store holding HN ── HN.STTTT and DN, with a clock
// the test moves.
type env struct {
	db    *sqlite.DB
	inv   *inventory.Service
	a     *auth.Service
	clock time.Time
}

func (e *env) now() time.Time { return e.clock }

func newEnv(t *testing.T, cfg auth.Config) *env {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clock: t0}
	e.inv = inventory.NewService(db, e.now)
	for _, o := range []inventory.Organization{
		{Code: "HN", Name: "Hà Nội", Level: inventory.LevelProvince},
		{Code: "HN.STTTT", Name: "Sở TT&TT", Level: inventory.LevelDepartment, Parent: "HN"},
		{Code: "DN", Name: "Đà Nẵng", Level: inventory.LevelProvince},
	} {
		if _, err := e.inv.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Params == (auth.Params{}) {
		cfg.Params = fast
	}
	cfg.Now = e.now
	if e.a, err = auth.NewService(db, auth.NewPolicy(db), audit.NewLog(db, db, e.now), cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func operator(t *testing.T) context.Context {
	return auth.WithPrincipal(t.Context(), auth.Operator("test"))
}

func as(t *testing.T, u auth.User) context.Context {
	return auth.WithPrincipal(t.Context(), auth.UserPrincipal(u))
}

// user creates an account as the operator and returns it with its second factor's secret.
func (e *env) user(t *testing.T, login string, role auth.Role, org string) (auth.User, string) {
	t.Helper()
	u, uri, err := e.a.CreateUser(operator(t), auth.NewUser{Login: login, Role: role, Org: org, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	secret := ""
	if uri != "" {
		pu, _ := url.Parse(uri)
		secret = pu.Query().Get("secret")
	}
	return u, secret
}

func (e *env) login(t *testing.T, login, totpSecret string) (auth.NewSession, error) {
	t.Helper()
	code := ""
	if totpSecret != "" {
		code, _ = auth.TOTP(totpSecret, e.clock)
	}
	return e.a.Login(t.Context(), auth.Credentials{Login: login, Password: password, TOTP: code, ClientIP: "192.0.2.1"})
}

func TestSessionEnds(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	e.user(t, "lan", auth.SecurityOfficer, "HN")
	ns, err := e.login(t, "lan", "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantOK bool) {
		t.Helper()
		p, err := e.a.SessionPrincipal(t.Context(), ns.ID)
		if (err == nil) != wantOK {
			t.Errorf("%s: SessionPrincipal = %+v, %v; want ok %v", when, p, err, wantOK)
		}
		if err != nil && !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("%s: error of kind %v", when, errs.KindOf(err))
		}
	}
	check("just signed in", true)
	for range 7 { // active every 100 minutes: never idle for two hours
		e.clock = e.clock.Add(100 * time.Minute)
		check("active", true)
	}
	e.clock = t0.Add(12 * time.Hour)
	check("after twelve hours, however active", false)

	ns, _ = e.login(t, "lan", "")
	e.clock = e.clock.Add(2 * time.Hour)
	check("idle for two hours", false)
	check("idle, asked again", false)
	if _, err := e.a.SessionPrincipal(t.Context(), "forged"); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("a forged session id = %v", err)
	}
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	e := newEnv(t, auth.Config{})
	u, _ := e.user(t, "lan", auth.Auditor, "HN")
	ns, err := e.login(t, "lan", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.a.SetPassword(operator(t), u.ID, "một mật khẩu mới hẳn"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.SessionPrincipal(t.Context(), ns.ID); err == nil {
		t.Error("the session outlived a password change")
	}
	if _, err := e.login(t, "lan", ""); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := e.a.Login(t.Context(), auth.Credentials{Login: "lan", Password: "một mật khẩu mới hẳn"}); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

func TestAdministratorsNeedSecondFactor(t *testing.T) {
	e := newEnv(t, auth.Config{})
	_, _, err := e.a.CreateUser(operator(t), auth.NewUser{Login: "root", Role: auth.PlatformAdmin, Password: password})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "KHIEN_SECRET_KEY is not set") {
		t.Errorf("creating an administrator without a secret key = %v", err)
	}
	if _, _, err := e.a.CreateUser(operator(t), auth.NewUser{Login: "lan", Role: auth.Auditor, Org: "HN", Password: password}); err != nil {
		t.Errorf("an auditor needs no key: %v", err)
	}

	e = newEnv(t, auth.Config{SecretKey: secretKey})
	u, secret := e.user(t, "root", auth.PlatformAdmin, "")
	if secret == "" || u.TOTPSecret == "" || strings.Contains(u.TOTPSecret, secret) {
		t.Fatalf("administrator enrolled with secret %q stored as %q", secret, u.TOTPSecret)
	}
	if _, err := e.login(t, "root", ""); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("administrator without a code = %v", err)
	}
	if _, err := e.login(t, "root", secret); err != nil {
		t.Errorf("administrator with the code = %v", err)
	}
	// A reset gives a new secret: the old one's codes stop working.
	uri, err := e.a.ResetMFA(operator(t), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.clock = e.clock.Add(time.Minute)
	if _, err := e.login(t, "root", secret); err == nil {
		t.Error("the old second factor works after a reset")
	}
	pu, _ := url.Parse(uri)
	e.clock = e.clock.Add(time.Minute)
	if _, err := e.login(t, "root", pu.Query().Get("secret")); err != nil {
		t.Errorf("the new second factor: %v", err)
	}
	// A server started with another key cannot read the secret: sign-in fails, and says why
	// to the log, not to the user.
	a2, _ := auth.NewService(e.db, auth.NewPolicy(e.db), audit.NewLog(e.db, e.db, e.now), auth.Config{SecretKey: secretKey + "-changed", Params: fast, Now: e.now})
	code, _ := auth.TOTP(pu.Query().Get("secret"), e.clock.Add(time.Minute))
	e.clock = e.clock.Add(time.Minute)
	if _, err := a2.Login(t.Context(), auth.Credentials{Login: "root", Password: password, TOTP: code}); errs.KindOf(err) != errs.Internal {
		t.Errorf("sign-in with the wrong key = %v; want an internal error", err)
	}
}

// TestRehash checks that a hash made with weaker parameters is redone at sign-in.
func TestRehash(t *testing.T) {
	e := newEnv(t, auth.Config{})
	e.user(t, "lan", auth.Auditor, "HN")
	stronger := auth.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	a2, err := auth.NewService(e.db, auth.NewPolicy(e.db), audit.NewLog(e.db, e.db, e.now), auth.Config{Params: stronger, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a2.Login(t.Context(), auth.Credentials{Login: "lan", Password: password}); err != nil {
		t.Fatal(err)
	}
	u, _ := e.db.UserByLogin(t.Context(), "lan")
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Errorf("hash after sign-in = %s; want it redone with m=128,t=2", u.PasswordHash)
	}
	if h, _ := e.db.AuditHead(t.Context()); h.Seq != 1 {
		t.Errorf("a sign-in's bookkeeping was recorded as a change: head at %d", h.Seq)
	}
}

// TestTokenFollowsOwner checks that a token can never do more than its owner can now.
func TestTokenFollowsOwner(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	owner, _ := e.user(t, "lan", auth.SecurityOfficer, "HN")
	tok, secret, err := e.a.CreateToken(as(t, owner), auth.NewToken{Name: "ci", Org: "HN.STTTT",
		Actions: []auth.Action{auth.InventoryWrite, auth.ScanRun}, Expires: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.a.TokenPrincipal(t.Context(), secret)
	if err != nil || p.Scope != "HN.STTTT" || !p.Has(auth.ScanRun) || p.Has(auth.FindingsWrite) || p.Actor() != "token:khien_"+tok.ID+" (lan)" {
		t.Fatalf("TokenPrincipal = %+v, %v", p, err)
	}
	change := func(role auth.Role, org string, disabled bool) {
		t.Helper()
		if _, _, err := e.a.UpdateUser(operator(t), owner.ID, auth.UserChange{Role: role, Org: org, Disabled: disabled}); err != nil {
			t.Fatal(err)
		}
	}
	change(auth.Auditor, "HN", false) // an auditor cannot write or scan
	if p, err := e.a.TokenPrincipal(t.Context(), secret); err != nil || p.Has(auth.ScanRun) || p.Has(auth.InventoryWrite) {
		t.Errorf("after the owner became an auditor: %+v, %v", p.Actions, err)
	}
	change(auth.SecurityOfficer, "DN", false) // the token's scope is no longer the owner's
	if _, err := e.a.TokenPrincipal(t.Context(), secret); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("after the owner moved to DN: %v", err)
	}
	change(auth.SecurityOfficer, "HN", true)
	if _, err := e.a.TokenPrincipal(t.Context(), secret); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("after the owner was disabled: %v", err)
	}
	change(auth.SecurityOfficer, "HN", false)
	e.clock = t0.Add(24 * time.Hour)
	if _, err := e.a.TokenPrincipal(t.Context(), secret); !errs.Is(err, errs.Unauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("after expiry: %v", err)
	}
}

// TestGrants checks what an organization administrator may give.
func TestGrants(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	admin, _ := e.user(t, "hn-admin", auth.OrgAdmin, "HN")
	dn, _ := e.user(t, "dn-lan", auth.Auditor, "DN")
	ctx := as(t, admin)
	tests := []struct {
		name  string
		nu    auth.NewUser
		kind  errs.Kind
		field string
	}{
		{"officer below", auth.NewUser{Login: "a", Role: auth.SecurityOfficer, Org: "HN.STTTT"}, 0, ""},
		{"admin of own org", auth.NewUser{Login: "b", Role: auth.OrgAdmin, Org: "HN"}, 0, ""},
		{"platform admin", auth.NewUser{Login: "c", Role: auth.PlatformAdmin}, errs.Forbidden, "org"},
		{"other province", auth.NewUser{Login: "d", Role: auth.Auditor, Org: "DN"}, errs.Forbidden, "org"},
		{"missing org", auth.NewUser{Login: "e", Role: auth.Auditor, Org: "XX"}, errs.Forbidden, "org"},
		{"no org", auth.NewUser{Login: "f", Role: auth.Auditor}, errs.Invalid, "org"},
	}
	for _, tt := range tests {
		tt.nu.Password = password
		_, _, err := e.a.CreateUser(ctx, tt.nu)
		if tt.kind == 0 && err != nil || tt.kind != 0 && !errs.Is(err, tt.kind) {
			t.Errorf("%s: CreateUser = %v; want kind %v", tt.name, err, tt.kind)
		}
		if ee, ok := err.(*errs.Error); ok && ee.Field != tt.field {
			t.Errorf("%s: field %q, want %q", tt.name, ee.Field, tt.field)
		}
	}
	if _, err := e.a.User(ctx, dn.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("an account of DN is visible from HN: %v", err)
	}
	if _, err := e.a.UserByLogin(ctx, "dn-lan"); !errs.Is(err, errs.NotFound) {
		t.Errorf("an account of DN is found by login from HN: %v", err)
	}
	if _, err := e.a.ResetMFA(ctx, dn.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("HN reset DN's second factor: %v", err)
	}
	if err := e.a.SetPassword(ctx, dn.ID, "chiếm tài khoản ngay"); !errs.Is(err, errs.NotFound) {
		t.Errorf("HN set DN's password: %v", err)
	}
	if _, _, err := e.a.CreateUser(t.Context(), auth.NewUser{Login: "x"}); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("CreateUser without a principal = %v", err)
	}
}

// TestScopeRootIsFixed checks that a principal cannot move or delete the organization its
// scope hangs on, nor create a root.
func TestScopeRootIsFixed(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	officer, _ := e.user(t, "lan", auth.SecurityOfficer, "HN")
	inv, ctx := e.a.Inventory(e.inv), as(t, officer)
	hn, _ := inv.Org(ctx, "HN")
	hn.Parent = "DN"
	if _, err := inv.UpdateOrg(ctx, hn); !errs.Is(err, errs.Forbidden) {
		t.Errorf("moving one's own scope = %v", err)
	}
	hn.Parent, hn.Name = "", "Thành phố Hà Nội"
	if _, err := inv.UpdateOrg(ctx, hn); err != nil {
		t.Errorf("renaming one's own scope = %v", err)
	}
	if err := inv.DeleteOrg(ctx, "HN"); !errs.Is(err, errs.Forbidden) {
		t.Errorf("deleting one's own scope = %v", err)
	}
	if _, err := inv.CreateOrg(ctx, inventory.Organization{Code: "HCM", Name: "HCM", Level: inventory.LevelProvince}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("creating a root = %v", err)
	}
	sttt, _ := inv.Org(ctx, "HN.STTTT")
	sttt.Parent = "DN"
	if _, err := inv.UpdateOrg(ctx, sttt); !errs.Is(err, errs.Forbidden) {
		t.Errorf("moving a department to another province = %v", err)
	}
	if err := inv.DeleteOrg(ctx, "HN.STTTT"); err != nil {
		t.Errorf("deleting a department = %v", err)
	}
	es, _, _ := e.db.AuditEntries(t.Context(), audit.Filter{ObjectID: "HN.STTTT"})
	if len(es) != 1 || es[0].Action != "organization.delete" || es[0].OrgPath != "/HN/HN.STTTT/" || es[0].Actor != "user:lan" {
		t.Errorf("the deletion is recorded as %+v", es)
	}
}

func TestPolicy(t *testing.T) {
	e := newEnv(t, auth.Config{})
	pol := auth.NewPolicy(e.db)
	officer := auth.UserPrincipal(auth.User{Login: "lan", Role: auth.SecurityOfficer, Org: "HN"})
	leader := auth.UserPrincipal(auth.User{Login: "an", Role: auth.Leader, Org: "HN.STTTT"})
	root := auth.Operator("cli")
	tests := []struct {
		p    auth.Principal
		a    auth.Action
		org  string
		want errs.Kind // 0: allowed
	}{
		{officer, auth.InventoryWrite, "HN", 0},
		{officer, auth.InventoryWrite, "HN.STTTT", 0},
		{officer, auth.InventoryWrite, "DN", errs.Forbidden},
		{officer, auth.InventoryWrite, "XX", errs.Forbidden},
		{officer, auth.InventoryWrite, "", errs.Forbidden},
		{officer, auth.UsersManage, "HN", errs.Forbidden},
		{leader, auth.IndexRead, "HN.STTTT", 0},
		{leader, auth.IndexRead, "HN", errs.Forbidden},
		{leader, auth.InventoryWrite, "HN.STTTT", errs.Forbidden},
		{root, auth.MetricsRead, "", 0},
		{root, auth.UsersManage, "DN", 0},
	}
	for _, tt := range tests {
		err := pol.Can(t.Context(), tt.p, tt.a, tt.org)
		if tt.want == 0 && err != nil || tt.want != 0 && !errs.Is(err, tt.want) {
			t.Errorf("Can(%s@%s, %s, %q) = %v; want kind %v", tt.p.Role, tt.p.Scope, tt.a, tt.org, err, tt.want)
		}
	}
}
