package web

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// testParams make argon2id cheap: the tests hash many passwords and prove nothing about cost.
var testParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const testSecretKey = "khien-test-secret-key-0123456789abcdef"

// newAuth builds the auth service over db, as app does.
func newAuth(t *testing.T, db *sqlite.DB, now func() time.Time) *auth.Service {
	t.Helper()
	a, err := auth.NewService(db, auth.NewPolicy(db), audit.NewLog(db, db, now),
		auth.Config{SecretKey: testSecretKey, Params: testParams, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var adminSeq atomic.Int64

// testAdmin creates a platform administrator as the operator would and an API token of
// theirs allowed everything, and returns the token.
func testAdmin(t *testing.T, a *auth.Service) string {
	t.Helper()
	login := "admin" + strconv.FormatInt(adminSeq.Add(1), 10)
	ctx := auth.WithPrincipal(t.Context(), auth.Operator("test"))
	u, _, err := a.CreateUser(ctx, auth.NewUser{Login: login, Role: auth.PlatformAdmin, Password: "mật khẩu thật dài của quản trị"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.CreateToken(auth.WithPrincipal(t.Context(), auth.UserPrincipal(u)),
		auth.NewToken{Name: "tests", Actions: auth.Actions})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// asAdmin makes h answer as if every request without credentials carried the token.
func asAdmin(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && r.Header.Get("Cookie") == "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		h.ServeHTTP(w, r)
	})
}

// serveAsAdmin is NewServer(d) with an auth service over d's SQLite store (unless d has
// one), acting for a platform administrator's token.
func serveAsAdmin(t *testing.T, d Deps) http.Handler {
	t.Helper()
	now := d.Now
	if now == nil {
		now = fixedNow
	}
	if d.Auth == nil {
		d.Auth = newAuth(t, d.Inventory.Store().(*sqlite.DB), now)
	}
	return asAdmin(NewServer(d), testAdmin(t, d.Auth))
}
