package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/demo"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

// BenchmarkPages measures the server time of each page on the demo province (its inventory
// imported into a SQLite store, one failing result on every fifth resource), for its
// security officer signed in with a session, and the administration pages for its
// administrator. Each page must stay well under 200 ms.
func BenchmarkPages(b *testing.B) {
	ctx := b.Context()
	db := openStoreTB(b)
	inv := inventory.NewService(db, fixedNow)
	if err := inv.ApplyInventory(ctx, demo.Inventory()); err != nil {
		b.Fatal(err)
	}
	snap, err := db.Snapshot(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var aSys, aFP string
	for i, r := range snap.Resources {
		if i%5 != 0 {
			continue
		}
		id := "run-" + r.ID
		_, err := db.RecordRun(ctx, assess.Run{ID: id, Resource: r.ID, System: r.System, Trigger: assess.TriggerSchedule,
			Status: assess.RunComplete, Started: testTime.Add(-2 * time.Hour), Finished: testTime.Add(-time.Hour)},
			[]check.Result{
				{Check: "tls.protocol.tls10", Resource: r.ID, Endpoint: r.ID + "|192.0.2.7:443", Status: check.Fail, At: testTime.Add(-time.Hour)},
				{Check: "http.hsts.missing", Resource: r.ID, Endpoint: r.ID + "|192.0.2.7:443", Status: check.Pass, At: testTime.Add(-time.Hour)},
			},
			map[string]check.Severity{"tls.protocol.tls10": check.High, "http.hsts.missing": check.Medium})
		if err != nil {
			b.Fatal(err)
		}
		if aSys == "" {
			aSys = r.System
		}
	}
	a := newAuthTB(b, db)
	svc := assess.NewService(inv, db, nil, nil, fixedNow, nil)
	srv := NewServer(Deps{Inventory: inv, Auth: a, Assess: svc, Now: fixedNow})
	op := auth.WithPrincipal(ctx, auth.Operator("bench"))
	if _, _, err := a.CreateUser(op, auth.NewUser{Login: "sh.canbo", Role: auth.SecurityOfficer, Org: demo.Root, Password: "mật khẩu đủ dài để đo"}); err != nil {
		b.Fatal(err)
	}
	ns, err := a.Login(ctx, auth.Credentials{Login: "sh.canbo", Password: "mật khẩu đủ dài để đo"})
	if err != nil {
		b.Fatal(err)
	}
	// The administration pages: a thousand changes in the audit log (chained, as appended),
	// read and verified by an organization administrator of the province.
	log := audit.NewLog(db, db, fixedNow)
	for i := range 1000 {
		sys := snap.Systems[i%len(snap.Systems)]
		if _, err := log.Record(op, audit.Record{Action: "system.update", ObjectType: "system", ObjectID: sys.ID, Org: sys.Org,
			Before: sys, After: sys}); err != nil {
			b.Fatal(err)
		}
	}
	_, uri, err := a.CreateUser(op, auth.NewUser{Login: "sh.quantri", Role: auth.OrgAdmin, Org: demo.Root, Password: "mật khẩu đủ dài để đo"})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(uri)
	code, err := auth.TOTP(u.Query().Get("secret"), fixedNow())
	if err != nil {
		b.Fatal(err)
	}
	admin, err := a.Login(ctx, auth.Credentials{Login: "sh.quantri", Password: "mật khẩu đủ dài để đo", TOTP: code})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/audit", "/audit?kind=system&page=3", "/users", "/tokens"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", p, nil)
				req.Header.Set("Cookie", sessionCookie+"="+admin.ID)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d %s", p, rec.Code, rec.Body)
				}
			}
		})
	}

	fs, _, _ := svc.Findings(ctx, assess.FindingFilter{At: testTime})
	if len(fs) > 0 {
		aFP = fs[0].Fingerprint
	}
	cookie := sessionCookie + "=" + ns.ID
	for _, p := range []string{"/", "/orgs/" + demo.Root, "/systems/" + aSys, "/findings", "/findings.csv", "/findings/" + aFP} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", p, nil)
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d %s", p, rec.Code, rec.Body)
				}
			}
		})
	}
}

func openStoreTB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "k.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db
}

func newAuthTB(tb testing.TB, db *sqlite.DB) *auth.Service {
	tb.Helper()
	a, err := auth.NewService(db, auth.NewPolicy(db), audit.NewLog(db, db, fixedNow),
		auth.Config{SecretKey: testSecretKey, Params: testParams, Now: fixedNow})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}
