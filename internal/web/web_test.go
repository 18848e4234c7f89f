package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlite"
)

var testTime = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testTime }

// testLog writes to the test's output, shown when the test fails or with -v.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openStore opens a migrated SQLite store in the test's temporary directory.
func openStore(t *testing.T) *sqlite.DB {
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
	return db
}

// newTestServer builds the real server over a fresh SQLite store filled by seed. edit, if
// not nil, changes the dependencies first. The server answers requests that carry no
// credentials as a platform administrator's API token (see serveAsAdmin); tests of access
// send their own.
func newTestServer(t *testing.T, edit func(*Deps)) (http.Handler, *inventory.Service) {
	t.Helper()
	inv := inventory.NewService(openStore(t), fixedNow)
	seed(t, inv)
	d := Deps{Log: testLog(t), Inventory: inv, Now: fixedNow, Version: "v0.1.0-test"}
	if edit != nil {
		edit(&d)
	}
	return serveAsAdmin(t, d), inv
}

// seed is a small inventory: a province with one department, a system of the department
// with two resources, and an empty second system.
//
//	HN (province) ── HN.STTTT (department) ── hn-portal: dns:x.vn, url:https://x.vn/
//	                                       └─ hn-mail
func seed(t *testing.T, inv *inventory.Service) {
	t.Helper()
	ctx := t.Context()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(inv.CreateOrg(ctx, inventory.Organization{Code: "HN", Name: "Thành phố Hà Nội", Level: inventory.LevelProvince,
		Head: inventory.Person{Name: "Nguyễn Văn A", Title: "Chủ tịch", Contact: "ubnd@hanoi.gov.vn"}}))
	must(inv.CreateOrg(ctx, inventory.Organization{Code: "HN.STTTT", Name: "Sở Thông tin và Truyền thông", Level: inventory.LevelDepartment, Parent: "HN"}))
	must(inv.CreateSystem(ctx, inventory.System{ID: "hn-portal", Org: "HN.STTTT", Name: "Cổng dịch vụ công", Level: 3,
		Stage: inventory.StageOperation, DataClasses: []inventory.DataClass{inventory.DataPersonal}}))
	must(inv.CreateSystem(ctx, inventory.System{ID: "hn-mail", Org: "HN.STTTT", Name: "Thư điện tử", Level: 2, Stage: inventory.StageBuild}))
	must(inv.CreateResource(ctx, inventory.Resource{ID: "dns:x.vn", System: "hn-portal"}))
	must(inv.CreateResource(ctx, inventory.Resource{ID: "url:https://x.vn/", System: "hn-portal",
		Scope: inventory.ScopeAssigned, ScopeReason: "ticket 42, approved by the CISO"}))
}

// apiCase is one request and what its response must be: the exact status and, in the body,
// each of the substrings in want.
type apiCase struct {
	name, method, path, body string
	wantStatus               int
	want                     []string
	deny                     []string // substrings that must not appear
}

func runAPICases(t *testing.T, tests []apiCase, edit func(*Deps), prepare func(t *testing.T, inv *inventory.Service)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case has its own store
			srv, inv := newTestServer(t, edit)
			if prepare != nil {
				prepare(t, inv)
			}
			rec := do(t, srv, tt.method, tt.path, tt.body)
			body := rec.Body.String()
			if rec.Code != tt.wantStatus {
				t.Errorf("%s %s = %d %s; want %d", tt.method, tt.path, rec.Code, body, tt.wantStatus)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s = %d %s; want it to contain %s", tt.method, tt.path, rec.Code, body, w)
				}
			}
			for _, d := range tt.deny {
				if strings.Contains(body, d) {
					t.Errorf("%s %s = %d %s; want no %s", tt.method, tt.path, rec.Code, body, d)
				}
			}
		})
	}
}

// do serves one request.
func do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// prover is a fake inventory.Prover that answers with how or fails with err.
type prover struct {
	how string
	err error
}

func (p prover) Prove(context.Context, inventory.Challenge) (string, error) { return p.how, p.err }

var notProven = errs.E(errs.Invalid, "ownership is not proven: DNS TXT _khien-challenge.x.vn: 0 record(s)")
