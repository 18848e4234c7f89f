package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// AuthStore is a store that keeps accounts, sessions, tokens and the audit log as well as the
// inventory that scopes them.
type AuthStore interface {
	inventory.Store
	auth.Store
	audit.Store
}

// Raw is what an attacker with access to the database could do: run any statement. Unguard
// is the backend's statement that drops the audit log's append-only guard.
type Raw struct {
	Exec    func(ctx context.Context, query string) error
	Unguard []string
}

// RunAuth runs the contract of auth.Store, one subtest per documented behaviour. open must
// return an empty, migrated store that is closed when its t ends.
func RunAuth(t *testing.T, open func(t *testing.T) (AuthStore, Raw)) {
	tests := []struct {
		name string
		test func(t *testing.T, st AuthStore, raw Raw)
	}{
		{"UserRoundTrip", testUserRoundTrip},
		{"UserConflicts", testUserConflicts},
		{"UserNotFound", testUserNotFound},
		{"UpdateUser", testUpdateUser},
		{"UsersUnder", testUsersUnder},
		{"ChangeAndAuditAreOne", testChangeAndAuditAreOne},
		{"Sessions", testSessions},
		{"LastLogin", testLastLogin},
		{"LastLoginWithSession", testLastLoginWithSession},
		{"Tokens", testTokens},
		{"Throttle", testThrottle},
		{"ThrottleConcurrent", testThrottleConcurrent},
		{"Throttles", testThrottles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, raw := open(t)
			tt.test(t, st, raw)
		})
	}
}

// authFixture creates the organizations HN ── HN.STTTT and DN.
func authFixture(t *testing.T, st AuthStore) {
	t.Helper()
	for _, o := range []inventory.Organization{
		{Code: "HN", Name: "Hà Nội", Level: inventory.LevelProvince, Created: t0(), Updated: t0()},
		{Code: "HN.STTTT", Name: "Sở TT&TT", Level: inventory.LevelDepartment, Parent: "HN", Created: t0(), Updated: t0()},
		{Code: "DN", Name: "Đà Nẵng", Level: inventory.LevelProvince, Created: t0(), Updated: t0()},
	} {
		if err := st.CreateOrg(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func user(id, login string, role auth.Role, org string) auth.User {
	return auth.User{ID: id, Login: login, Name: "Người dùng " + login, Role: role, Org: org,
		PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", Created: t0(), Updated: t0()}
}

func entry(action, id, org string) audit.Entry {
	return audit.Entry{At: t0(), Actor: "local:test", Action: action, ObjectType: "user", ObjectID: id,
		OrgPath: audit.JoinPath([]string{org}), After: `{"id":"` + id + `"}`}
}

func head(t *testing.T, st AuthStore) audit.Head {
	t.Helper()
	h, err := st.AuditHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func testUserRoundTrip(t *testing.T, st AuthStore, _ Raw) {
	authFixture(t, st)
	ctx := t.Context()
	u := user("u-1", "lan", auth.OrgAdmin, "HN")
	u.TOTPSecret, u.TOTPLast = "v1:sealed", 59_000_000
	if err := st.CreateUser(ctx, u, entry("user.create", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	admin := user("u-2", "root", auth.PlatformAdmin, "")
	if err := st.CreateUser(ctx, admin, entry("user.create", "u-2", "")); err != nil {
		t.Fatal(err)
	}
	want := u
	want.Created, want.Updated = t0().UTC().Truncate(time.Microsecond), t0().UTC().Truncate(time.Microsecond)
	for _, got := range []func() (auth.User, error){
		func() (auth.User, error) { return st.User(ctx, "u-1") },
		func() (auth.User, error) { return st.UserByLogin(ctx, "lan") },
	} {
		if u, err := got(); err != nil || !reflect.DeepEqual(u, want) {
			t.Errorf("read back %+v, %v\nwant        %+v", u, err, want)
		}
	}
	if got, err := st.User(ctx, "u-2"); err != nil || got.Org != "" || got.Role != auth.PlatformAdmin {
		t.Errorf("platform admin read back %+v, %v", got, err)
	}
	if h := head(t, st); h.Seq != 2 {
		t.Errorf("two creations appended %d audit entries, want 2", h.Seq)
	}
}

func testUserConflicts(t *testing.T, st AuthStore, _ Raw) {
	authFixture(t, st)
	ctx := t.Context()
	if err := st.CreateUser(ctx, user("u-1", "lan", auth.Auditor, "HN"), entry("user.create", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		u     auth.User
		kind  errs.Kind
		field string
	}{
		{"same login", user("u-2", "lan", auth.Auditor, "HN"), errs.Conflict, ""},
		{"same id", user("u-1", "minh", auth.Auditor, "HN"), errs.Conflict, ""},
		{"missing org", user("u-3", "hoa", auth.Auditor, "XX"), errs.Invalid, "org"},
	}
	for _, tt := range tests {
		err := st.CreateUser(ctx, tt.u, entry("user.create", tt.u.ID, "HN"))
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != tt.kind || e.Field != tt.field {
			t.Errorf("%s: CreateUser = %v, want kind %v field %q", tt.name, err, tt.kind, tt.field)
		}
	}
	if h := head(t, st); h.Seq != 1 {
		t.Errorf("refused creations appended audit entries: head at %d, want 1", h.Seq)
	}
}

func testUserNotFound(t *testing.T, st AuthStore, _ Raw) {
	ctx := t.Context()
	for name, err := range map[string]error{
		"User":        second(st.User(ctx, "u-x")),
		"UserByLogin": second(st.UserByLogin(ctx, "nobody")),
		"UpdateUser":  st.UpdateUser(ctx, user("u-x", "x", auth.Auditor, ""), nil),
		"Session":     second(st.Session(ctx, "abc")),
		"Token":       second(st.Token(ctx, "abc")),
		"Throttle":    second(st.LoginThrottle(ctx, "login:x")),
		"TouchToken":  st.TouchToken(ctx, "abc", t0()),
		"RevokeToken": st.RevokeToken(ctx, "abc", t0(), entry("token.revoke", "abc", "")),
	} {
		if !errs.Is(err, errs.NotFound) {
			t.Errorf("%s of a missing row = %v, want NotFound", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func testUpdateUser(t *testing.T, st AuthStore, _ Raw) {
	authFixture(t, st)
	ctx := t.Context()
	u := user("u-1", "lan", auth.Auditor, "HN")
	if err := st.CreateUser(ctx, u, entry("user.create", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	u.Name, u.Role, u.Org, u.Disabled, u.TOTPLast, u.Updated = "Lan", auth.SecurityOfficer, "HN.STTTT", true, 7, t0().Add(time.Hour)
	u.Login, u.Created = "changed", t0().Add(time.Hour) // neither may change
	if err := st.UpdateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.User(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Login != "lan" || !got.Created.Equal(t0().Truncate(time.Microsecond)) || got.Name != "Lan" || got.Role != auth.SecurityOfficer ||
		got.Org != "HN.STTTT" || !got.Disabled || got.TOTPLast != 7 || !got.Updated.Equal(t0().Add(time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("after update: %+v", got)
	}
	if h := head(t, st); h.Seq != 1 {
		t.Errorf("an update without an entry appended one: head at %d", h.Seq)
	}
	e := entry("user.update", "u-1", "HN")
	if err := st.UpdateUser(ctx, u, &e); err != nil {
		t.Fatal(err)
	}
	if h := head(t, st); h.Seq != 2 {
		t.Errorf("an update with an entry: head at %d, want 2", h.Seq)
	}
	u.Org = "XX"
	if err := st.UpdateUser(ctx, u, &e); !errs.Is(err, errs.Invalid) {
		t.Errorf("update to a missing org = %v, want Invalid", err)
	}
}

func testUsersUnder(t *testing.T, st AuthStore, _ Raw) {
	authFixture(t, st)
	ctx := t.Context()
	for _, u := range []auth.User{
		user("u-1", "root", auth.PlatformAdmin, ""),
		user("u-2", "hn-admin", auth.OrgAdmin, "HN"),
		user("u-3", "hn-officer", auth.SecurityOfficer, "HN.STTTT"),
		user("u-4", "dn-admin", auth.OrgAdmin, "DN"),
	} {
		if err := st.CreateUser(ctx, u, entry("user.create", u.ID, u.Org)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		f    auth.UserFilter
		want []string
	}{
		{auth.UserFilter{}, []string{"dn-admin", "hn-admin", "hn-officer", "root"}},
		{auth.UserFilter{Under: "HN"}, []string{"hn-admin", "hn-officer"}},
		{auth.UserFilter{Under: "HN.STTTT"}, []string{"hn-officer"}},
		{auth.UserFilter{Under: "DN", Role: auth.Auditor}, nil},
		{auth.UserFilter{Role: auth.OrgAdmin}, []string{"dn-admin", "hn-admin"}},
		{auth.UserFilter{Page: inventory.Page{Limit: 1, Offset: 1}}, []string{"hn-admin"}},
	}
	for _, tt := range tests {
		us, total, err := st.Users(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var logins []string
		for _, u := range us {
			logins = append(logins, u.Login)
		}
		if !reflect.DeepEqual(logins, tt.want) {
			t.Errorf("Users(%+v) = %v, want %v", tt.f, logins, tt.want)
		}
		if tt.f.Limit == 0 && total != len(tt.want) {
			t.Errorf("Users(%+v) total = %d, want %d", tt.f, total, len(tt.want))
		}
	}
}

// testChangeAndAuditAreOne checks both halves of atomicity: a refused change appends no
// entry, and an entry that cannot be appended undoes the change.
func testChangeAndAuditAreOne(t *testing.T, st AuthStore, raw Raw) {
	authFixture(t, st)
	ctx := t.Context()
	if err := st.CreateUser(ctx, user("u-1", "lan", auth.Auditor, "XX"), entry("user.create", "u-1", "XX")); err == nil {
		t.Fatal("CreateUser with a missing org succeeded")
	}
	if h := head(t, st); h.Seq != 0 {
		t.Errorf("a refused creation appended an entry: head at %d", h.Seq)
	}
	for _, q := range raw.Unguard {
		if err := raw.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Exec(ctx, "DROP TABLE audit_log"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, user("u-1", "lan", auth.Auditor, "HN"), entry("user.create", "u-1", "HN")); err == nil {
		t.Fatal("CreateUser succeeded with no audit log to append to")
	}
	if _, err := st.User(ctx, "u-1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("the user was created though its audit entry was not: %v", err)
	}
}

func testSessions(t *testing.T, st AuthStore, _ Raw) {
	authFixture(t, st)
	ctx := t.Context()
	for _, u := range []auth.User{user("u-1", "lan", auth.Auditor, "HN"), user("u-2", "minh", auth.Auditor, "HN")} {
		if err := st.CreateUser(ctx, u, entry("user.create", u.ID, "HN")); err != nil {
			t.Fatal(err)
		}
	}
	s1 := auth.Session{IDHash: "h1", UserID: "u-1", CSRF: "c1", Created: t0(), LastSeen: t0(), Expires: t0().Add(12 * time.Hour)}
	s2 := auth.Session{IDHash: "h2", UserID: "u-1", CSRF: "c2", Created: t0(), LastSeen: t0(), Expires: t0().Add(time.Hour)}
	s3 := auth.Session{IDHash: "h3", UserID: "u-2", CSRF: "c3", Created: t0(), LastSeen: t0(), Expires: t0().Add(12 * time.Hour)}
	for _, s := range []auth.Session{s1, s2, s3} {
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateSession(ctx, s1); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateSession twice = %v, want Conflict", err)
	}
	if err := st.CreateSession(ctx, auth.Session{IDHash: "h9", UserID: "u-x", Created: t0(), LastSeen: t0(), Expires: t0()}); !errs.Is(err, errs.NotFound) {
		t.Errorf("CreateSession of a missing user = %v, want NotFound", err)
	}
	got, err := st.Session(ctx, "h1")
	want := s1
	want.Created, want.LastSeen, want.Expires = s1.Created.UTC().Truncate(time.Microsecond), s1.LastSeen.UTC().Truncate(time.Microsecond), s1.Expires.UTC().Truncate(time.Microsecond)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Session = %+v, %v\nwant      %+v", got, err, want)
	}
	if err := st.TouchSession(ctx, "h1", t0().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Session(ctx, "h1"); !got.LastSeen.Equal(t0().Add(time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("LastSeen after touch = %v", got.LastSeen)
	}
	if n, err := st.DeleteExpiredSessions(ctx, t0().Add(2*time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want the one expired", n, err)
	}
	if _, err := st.Session(ctx, "h2"); !errs.Is(err, errs.NotFound) {
		t.Errorf("expired session still there: %v", err)
	}
	if err := st.DeleteUserSessions(ctx, "u-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, "h1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("session of u-1 after DeleteUserSessions: %v", err)
	}
	if _, err := st.Session(ctx, "h3"); err != nil {
		t.Errorf("another user's session went too: %v", err)
	}
	if err := st.DeleteSession(ctx, "h3"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSession(ctx, "h3"); !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteSession twice = %v, want NotFound", err)
	}
}

func testTokens(t *testing.T, st AuthStore, _ Raw) {
	authFixture(t, st)
	ctx := t.Context()
	for _, u := range []auth.User{user("u-1", "lan", auth.OrgAdmin, "HN"), user("u-2", "minh", auth.OrgAdmin, "DN")} {
		if err := st.CreateUser(ctx, u, entry("user.create", u.ID, u.Org)); err != nil {
			t.Fatal(err)
		}
	}
	tok := func(id, owner, org string, created time.Time) auth.Token {
		return auth.Token{ID: id, Name: "CI " + id, Hash: "hash-" + id, Owner: owner, Org: org,
			Actions: []auth.Action{auth.GateRead, auth.ScanRun}, Created: created}
	}
	a := tok("a", "u-1", "HN.STTTT", t0())
	a.Expires = t0().Add(24 * time.Hour)
	for _, tk := range []auth.Token{a, tok("b", "u-1", "HN", t0().Add(time.Minute)), tok("c", "u-2", "DN", t0().Add(2*time.Minute))} {
		if err := st.CreateToken(ctx, tk, entry("token.create", tk.ID, tk.Org)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateToken(ctx, tok("d", "u-1", "XX", t0()), entry("token.create", "d", "")); !errs.Is(err, errs.Invalid) {
		t.Errorf("CreateToken with a missing org = %v, want Invalid", err)
	}
	got, err := st.Token(ctx, "a")
	want := a
	want.Created, want.Expires = a.Created.UTC().Truncate(time.Microsecond), a.Expires.UTC().Truncate(time.Microsecond)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Token = %+v, %v\nwant    %+v", got, err, want)
	}
	ids := func(f auth.TokenFilter) []string {
		ts, total, err := st.Tokens(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		if total != len(out) {
			t.Errorf("Tokens(%+v) total %d for %d items", f, total, len(out))
		}
		return out
	}
	for _, tt := range []struct {
		f    auth.TokenFilter
		want []string
	}{
		{auth.TokenFilter{}, []string{"c", "b", "a"}},
		{auth.TokenFilter{Owner: "u-1"}, []string{"b", "a"}},
		{auth.TokenFilter{Under: "HN.STTTT"}, []string{"a"}},
		{auth.TokenFilter{Under: "DN"}, []string{"c"}},
	} {
		if got := ids(tt.f); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Tokens(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}
	if err := st.TouchToken(ctx, "a", t0().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(ctx, "a", t0().Add(2*time.Hour), entry("token.revoke", "a", "HN")); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(ctx, "a", t0().Add(3*time.Hour), entry("token.revoke", "a", "HN")); !errs.Is(err, errs.Conflict) {
		t.Errorf("RevokeToken twice = %v, want Conflict", err)
	}
	got, _ = st.Token(ctx, "a")
	if !got.LastUsed.Equal(t0().Add(time.Hour).Truncate(time.Microsecond)) || !got.Revoked.Equal(t0().Add(2*time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("after touch and revoke: last used %v, revoked %v", got.LastUsed, got.Revoked)
	}
	if h := head(t, st); h.Seq != 6 {
		t.Errorf("head at %d after 2 users, 3 tokens and 1 revocation, want 6", h.Seq)
	}
}

func testThrottle(t *testing.T, st AuthStore, _ Raw) {
	ctx := t.Context()
	const key = "login:lan"
	const window = 24 * time.Hour
	for i := 1; i <= 3; i++ {
		th, err := st.LoginFailure(ctx, key, t0().Add(time.Duration(i)*time.Minute), window)
		if err != nil || th.Failures != i || th.Key != key {
			t.Fatalf("failure %d: %+v, %v", i, th, err)
		}
	}
	until := t0().Add(time.Hour)
	if err := st.LockLogin(ctx, key, until); err != nil {
		t.Fatal(err)
	}
	th, err := st.LoginThrottle(ctx, key)
	if err != nil || th.Failures != 3 || !th.LockedUntil.Equal(until.Truncate(time.Microsecond)) ||
		!th.LastFailure.Equal(t0().Add(3*time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("LoginThrottle = %+v, %v", th, err)
	}
	th, err = st.LoginFailure(ctx, key, t0().Add(window+4*time.Minute), window)
	if err != nil || th.Failures != 1 {
		t.Errorf("a failure after a quiet window = %+v, %v; want the count back at 1", th, err)
	}
	if _, err := st.LoginFailure(ctx, "ip:192.0.2.1", t0(), window); err != nil {
		t.Fatal(err)
	}
	if err := st.ClearLoginFailures(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LoginThrottle(ctx, key); !errs.Is(err, errs.NotFound) {
		t.Errorf("after clearing: %v, want NotFound", err)
	}
	if th, err := st.LoginThrottle(ctx, "ip:192.0.2.1"); err != nil || th.Failures != 1 {
		t.Errorf("clearing one key touched another: %+v, %v", th, err)
	}
	if err := st.LockLogin(ctx, "login:nobody", until); !errs.Is(err, errs.NotFound) {
		t.Errorf("LockLogin of a key without failures = %v, want NotFound", err)
	}
}

// testThrottles checks that the records of many keys are read at once: those that have one,
// each whole, however long the list (longer than one query's list of arguments).
func testThrottles(t *testing.T, st AuthStore, _ Raw) {
	ctx := t.Context()
	until := t0().Add(time.Hour)
	for _, k := range []string{"login:lan", "login:minh", "ip:192.0.2.1"} {
		if _, err := st.LoginFailure(ctx, k, t0(), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.LockLogin(ctx, "login:lan", until); err != nil {
		t.Fatal(err)
	}
	keys := []string{"login:lan", "login:nobody", "login:minh"}
	for i := range 1200 {
		keys = append(keys, fmt.Sprintf("login:u%d", i))
	}
	keys = append(keys, "login:lan") // a key twice is one record
	for _, c := range []struct {
		name string
		keys []string
		want map[string]time.Time // key: locked until
	}{
		{"none", nil, map[string]time.Time{}},
		{"unknown", []string{"login:nobody"}, map[string]time.Time{}},
		{"many", keys, map[string]time.Time{"login:lan": until.UTC().Truncate(time.Microsecond), "login:minh": {}}},
	} {
		ts, err := st.LoginThrottles(ctx, c.keys)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := map[string]time.Time{}
		for _, th := range ts {
			if th.Failures != 1 || !th.LastFailure.Equal(t0().Truncate(time.Microsecond)) {
				t.Errorf("%s: record %+v", c.name, th)
			}
			got[th.Key] = th.LockedUntil
		}
		if len(ts) != len(c.want) || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: LoginThrottles = %+v, want locks %v", c.name, ts, c.want)
		}
	}
}

// testThrottleConcurrent checks that failures at once are all counted: a lost count would
// give a password guesser free attempts.
func testThrottleConcurrent(t *testing.T, st AuthStore, _ Raw) {
	const n = 12
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := st.LoginFailure(t.Context(), "ip:192.0.2.7", t0(), time.Hour)
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if th, err := st.LoginThrottle(t.Context(), "ip:192.0.2.7"); err != nil || th.Failures != n {
		t.Errorf("%d failures at once counted as %d (%v)", n, th.Failures, err)
	}
}

// testLastLogin checks that opening a session records the account's last sign-in, when and
// how; that a session refused (a duplicate) records nothing; and that neither UpdateUser,
// from a copy read before the sign-in, nor CreateUser sets it.
func testLastLogin(t *testing.T, st AuthStore, _ Raw) {
	authFixture(t, st)
	ctx := t.Context()
	u := user("u-1", "lan", auth.Auditor, "HN")
	u.LastLogin, u.LastLoginMethod = t0(), auth.MethodPassword // not CreateUser's to set
	if err := st.CreateUser(ctx, u, entry("user.create", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, user("u-2", "minh", auth.Auditor, "HN"), entry("user.create", "u-2", "HN")); err != nil {
		t.Fatal(err)
	}
	stale, err := st.User(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if !stale.LastLogin.IsZero() || stale.LastLoginMethod != "" {
		t.Errorf("a new account has a last sign-in: %v %q", stale.LastLogin, stale.LastLoginMethod)
	}
	at := t0().Add(90 * time.Minute)
	steps := []struct {
		name    string
		s       auth.Session
		refused bool
		wantErr errs.Kind // when refused
		at      time.Time // the last sign-in of u-1 afterwards
		method  string
	}{
		{"password", auth.Session{IDHash: "h1", UserID: "u-1", CSRF: "c1", Created: at, LastSeen: at,
			Expires: at.Add(time.Hour), Method: auth.MethodPassword}, false, 0, at, auth.MethodPassword},
		{"oidc later", auth.Session{IDHash: "h2", UserID: "u-1", CSRF: "c2", Created: at.Add(time.Hour), LastSeen: at.Add(time.Hour),
			Expires: at.Add(2 * time.Hour), Method: auth.MethodOIDC}, false, 0, at.Add(time.Hour), auth.MethodOIDC},
		{"duplicate refused", auth.Session{IDHash: "h1", UserID: "u-1", CSRF: "c3", Created: at.Add(2 * time.Hour), LastSeen: at.Add(2 * time.Hour),
			Expires: at.Add(3 * time.Hour), Method: auth.MethodPassword}, true, errs.Conflict, at.Add(time.Hour), auth.MethodOIDC},
		{"missing user refused", auth.Session{IDHash: "h4", UserID: "u-x", CSRF: "c4", Created: at.Add(3 * time.Hour), LastSeen: at.Add(3 * time.Hour),
			Expires: at.Add(4 * time.Hour), Method: auth.MethodPassword}, true, errs.NotFound, at.Add(time.Hour), auth.MethodOIDC},
	}
	for _, step := range steps {
		err := st.CreateSession(ctx, step.s)
		if !step.refused && err != nil || step.refused && !errs.Is(err, step.wantErr) {
			t.Fatalf("%s: CreateSession = %v, want refused %v (kind %d)", step.name, err, step.refused, step.wantErr)
		}
		got, err := st.User(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastLogin.Equal(step.at.Truncate(time.Microsecond)) || got.LastLogin.Location() != time.UTC || got.LastLoginMethod != step.method {
			t.Errorf("%s: last sign-in %v %q, want %v %q", step.name, got.LastLogin, got.LastLoginMethod, step.at, step.method)
		}
	}
	if ss, err := st.Session(ctx, "h2"); err != nil || ss.Method != auth.MethodOIDC {
		t.Errorf("Session h2 = %+v, %v; want method oidc", ss, err)
	}
	// An administrator's change made from the copy read before the sign-ins keeps them.
	stale.Name, stale.Updated = "Lan", at.Add(5*time.Hour)
	e := entry("user.update", "u-1", "HN")
	if err := st.UpdateUser(ctx, stale, &e); err != nil {
		t.Fatal(err)
	}
	us, _, err := st.Users(ctx, auth.UserFilter{Under: "HN"})
	if err != nil || len(us) != 2 {
		t.Fatalf("Users = %v, %v", us, err)
	}
	for _, u := range us {
		switch u.ID {
		case "u-1":
			if u.Name != "Lan" || !u.LastLogin.Equal(at.Add(time.Hour).Truncate(time.Microsecond)) || u.LastLoginMethod != auth.MethodOIDC {
				t.Errorf("Users: u-1 after UpdateUser = %v %q %q; want its last sign-in kept", u.Name, u.LastLogin, u.LastLoginMethod)
			}
		case "u-2":
			if !u.LastLogin.IsZero() || u.LastLoginMethod != "" {
				t.Errorf("Users: u-2 never signed in but shows %v %q", u.LastLogin, u.LastLoginMethod)
			}
		}
	}
}

// testLastLoginWithSession checks that the session and the last sign-in are one write: when
// the last sign-in cannot be recorded, no session is opened either.
func testLastLoginWithSession(t *testing.T, st AuthStore, raw Raw) {
	authFixture(t, st)
	ctx := t.Context()
	if err := st.CreateUser(ctx, user("u-1", "lan", auth.Auditor, "HN"), entry("user.create", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	if err := raw.Exec(ctx, "ALTER TABLE users DROP COLUMN last_login_method"); err != nil {
		t.Fatal(err)
	}
	s := auth.Session{IDHash: "h1", UserID: "u-1", CSRF: "c1", Created: t0(), LastSeen: t0(), Expires: t0().Add(time.Hour),
		Method: auth.MethodPassword}
	if err := st.CreateSession(ctx, s); err == nil {
		t.Fatal("CreateSession succeeded though the last sign-in could not be recorded")
	}
	if _, err := st.Session(ctx, "h1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("a session was opened though the sign-in was not recorded: %v", err)
	}
}
