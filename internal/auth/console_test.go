package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
)

// TestSearchAuditScoped checks that the audit search keeps to the reader's subtree, filters
// by action and time, and refuses a role without audit:read.
func TestSearchAuditScoped(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	hn, _ := e.user(t, "hn-auditor", auth.Auditor, "HN")
	e.clock = e.clock.Add(time.Hour)
	e.user(t, "dn-leader", auth.Leader, "DN")
	e.user(t, "hn-officer", auth.SecurityOfficer, "HN.STTTT")
	for _, c := range []struct {
		name string
		q    audit.Filter
		want []string // logins created, newest first
	}{
		{"all of the subtree", audit.Filter{}, []string{"hn-officer", "hn-auditor"}},
		{"by action", audit.Filter{Action: "user.create"}, []string{"hn-officer", "hn-auditor"}},
		{"another action", audit.Filter{Action: "token.create"}, nil},
		{"since", audit.Filter{Since: t0.Add(30 * time.Minute)}, []string{"hn-officer"}},
		{"until", audit.Filter{Until: t0.Add(30 * time.Minute)}, []string{"hn-auditor"}},
		{"a subtree outside", auditUnder("DN"), nil},
		{"a part of the subtree", auditUnder("HN.STTTT"), []string{"hn-officer"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			es, n, err := e.a.AuditEntries(as(t, hn), c.q)
			if err != nil || n != len(c.want) || len(es) != len(c.want) {
				t.Fatalf("AuditEntries = %d entries (total %d), %v; want %v", len(es), n, err, c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(es[i].After, `"login":"`+w+`"`) {
					t.Errorf("entry %d = %s, want the creation of %s", i, es[i].After, w)
				}
			}
		})
	}
	if n, err := e.a.VerifyAudit(as(t, hn)); err != nil || n != 3 {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
	leader, _ := e.user(t, "hn-leader", auth.Leader, "HN")
	if _, _, err := e.a.AuditEntries(as(t, leader), audit.Filter{}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a leader's AuditEntries = %v", err)
	}
	if _, err := e.a.VerifyAudit(as(t, leader)); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a leader's VerifyAudit = %v", err)
	}
}

// TestSignInLockScoped checks that an administrator sees and clears the sign-in lock of an
// account of its subtree only, and that clearing it is audited.
func TestSignInLockScoped(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	admin, _ := e.user(t, "hn-admin", auth.OrgAdmin, "HN")
	lan, _ := e.user(t, "lan", auth.Auditor, "HN.STTTT")
	dn, _ := e.user(t, "dn-auditor", auth.Auditor, "DN")
	for _, login := range []string{"lan", "dn-auditor"} {
		for range 5 {
			e.a.Login(t.Context(), auth.Credentials{Login: login, Password: "không phải mật khẩu"})
		}
	}
	ctx := as(t, admin)
	until, err := e.a.SignInLock(ctx, lan.ID)
	if err != nil || !until.After(e.clock) {
		t.Fatalf("SignInLock of a locked account = %v, %v", until, err)
	}
	if _, err := e.a.SignInLock(ctx, dn.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("SignInLock outside the subtree = %v", err)
	}
	if err := e.a.ClearSignInLock(ctx, dn.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("ClearSignInLock outside the subtree = %v", err)
	}
	if err := e.a.ClearSignInLock(ctx, lan.ID); err != nil {
		t.Fatal(err)
	}
	if until, err := e.a.SignInLock(ctx, lan.ID); err != nil || !until.IsZero() {
		t.Errorf("after clearing, SignInLock = %v, %v", until, err)
	}
	if _, err := e.login(t, "lan", ""); err != nil {
		t.Errorf("after clearing, sign-in = %v", err)
	}
	if _, err := e.login(t, "dn-auditor", ""); err == nil {
		t.Error("the account outside the subtree was unlocked too")
	}
	es, _, err := e.a.AuditEntries(ctx, audit.Filter{Action: "user.unlock"})
	if err != nil || len(es) != 1 || es[0].ObjectID != lan.ID || es[0].Actor != "user:hn-admin" {
		t.Errorf("the unlock's audit entries = %+v, %v", es, err)
	}
	officer, _ := e.user(t, "hn-officer", auth.SecurityOfficer, "HN")
	if _, err := e.a.SignInLock(as(t, officer), lan.ID); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a security officer's SignInLock = %v", err)
	}
}

// TestAccountsScoped checks that the list of accounts with their sign-in locks and links
// keeps to the principal's subtree, tells a locked account from an unlocked one, forgets a
// lock that has run out, and refuses a role that manages no account.
func TestAccountsScoped(t *testing.T) {
	e := newEnv(t, auth.Config{SecretKey: secretKey})
	admin, _ := e.user(t, "hn-admin", auth.OrgAdmin, "HN")
	lan, _ := e.user(t, "lan", auth.Auditor, "HN.STTTT")
	e.user(t, "minh", auth.Auditor, "HN")
	e.user(t, "dn-auditor", auth.Auditor, "DN")
	for _, login := range []string{"lan", "dn-auditor"} {
		for range 5 {
			e.a.Login(t.Context(), auth.Credentials{Login: login, Password: "không phải mật khẩu"})
		}
	}
	e.a.Login(t.Context(), auth.Credentials{Login: "minh", Password: "không phải mật khẩu"}) // one failure locks nothing
	if _, err := e.a.LinkOIDC(operator(t), lan.ID, "https://idp.example.vn", "s-lan"); err != nil {
		t.Fatal(err)
	}
	ctx := as(t, admin)
	accounts := func(f auth.UserFilter) map[string]auth.Account {
		t.Helper()
		list, total, err := e.a.Accounts(ctx, f)
		if err != nil || total != len(list) {
			t.Fatalf("Accounts(%+v) = %d of %d, %v", f, len(list), total, err)
		}
		m := map[string]auth.Account{}
		for _, a := range list {
			m[a.Login] = a
		}
		return m
	}
	got := accounts(auth.UserFilter{})
	if len(got) != 3 || got["dn-auditor"].ID != "" {
		t.Errorf("Accounts of HN = %v, want hn-admin, lan and minh", got)
	}
	if a := got["lan"]; !a.LockedUntil.After(e.clock) || a.OIDCLinks != 1 || a.ID != lan.ID {
		t.Errorf("the locked, linked account = %+v", a)
	}
	for _, login := range []string{"hn-admin", "minh"} {
		if a := got[login]; !a.LockedUntil.IsZero() || a.OIDCLinks != 0 {
			t.Errorf("%s = locked until %v, %d links; want neither", login, a.LockedUntil, a.OIDCLinks)
		}
	}
	if until, err := e.a.SignInLock(ctx, lan.ID); err != nil || !until.Equal(got["lan"].LockedUntil) {
		t.Errorf("SignInLock = %v, %v; Accounts said %v", until, err, got["lan"].LockedUntil)
	}
	if got := accounts(auth.UserFilter{Under: "HN.STTTT"}); len(got) != 1 || got["lan"].ID == "" {
		t.Errorf("Accounts under HN.STTTT = %v", got)
	}
	if got := accounts(auth.UserFilter{Under: "DN"}); len(got) != 0 {
		t.Errorf("Accounts under DN, outside the subtree = %v", got)
	}
	e.clock = got["lan"].LockedUntil
	if a := accounts(auth.UserFilter{})["lan"]; !a.LockedUntil.IsZero() {
		t.Errorf("a lock that ran out = %v", a.LockedUntil)
	}
	officer, _ := e.user(t, "hn-officer", auth.SecurityOfficer, "HN")
	if _, _, err := e.a.Accounts(as(t, officer), auth.UserFilter{}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a security officer's Accounts = %v", err)
	}
}

func TestNewPassword(t *testing.T) {
	a, b := auth.NewPassword(), auth.NewPassword()
	if a == b || len(a) < auth.MinPassword || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Errorf("NewPassword = %q, %q", a, b)
	}
}

func auditUnder(code string) audit.Filter { return audit.Filter{Under: code} }
