package app

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/khien-vn/khien/internal/assess"
	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/data"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/queue/queuetest"
	"github.com/khien-vn/khien/internal/scope"
)

// TestDatabaseOwnershipProof walks issue #7's path for a PostgreSQL database: registered,
// refused by the guard while unverified, challenged, its owner's comment written, verified by
// the server's prover with the --db-passfile credentials, then scanned.
func TestDatabaseOwnershipProof(t *testing.T) {
	dsn := os.Getenv("KHIEN_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KHIEN_TEST_POSTGRES is not set; CI must provide a PostgreSQL server")
		}
		t.Skip("KHIEN_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to KHIEN_TEST_POSTGRES: %v", err)
	}
	name := "khien_prove_" + strings.ToLower(queuetest.Name())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		admin.Close(context.Background())
	})
	u, _ := url.Parse(dsn)
	passfile := filepath.Join(t.TempDir(), "passfile")
	if err := os.WriteFile(passfile, []byte("# test\n127.0.0.1:5432:"+name+":"+u.User.Username()+":\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := data.PassFile(passfile)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(ctx, Config{DB: filepath.Join(t.TempDir(), "khien.db"), Net: Net{Fence: scope.LoopbackFence(),
		Families: FamilyOptions{DBCredentials: creds, DataKey: []byte("test key of sixteen bytes")}}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	id := "db:postgres://127.0.0.1:5432/" + name
	inv := `version: 1
organizations:
  - {code: T, name: Sở thử nghiệm, level: department}
systems:
  - id: t-hoso
    org: T
    name: Hồ sơ một cửa
    level: 2
    stage: operation
    resources:
      - {id: "` + id + `"}
`
	if _, err := a.Inventory.Import(ctx, "inv.yaml", strings.NewReader(inv), inventory.FormatYAML); err != nil {
		t.Fatal(err)
	}
	r, err := a.Inventory.Resource(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	id = r.ID // normalized
	if err := a.Guard.Authorize(r, scope.Active); !errs.Is(err, errs.OutOfScope) {
		t.Fatalf("the guard let an unverified database be sampled: %v", err)
	}
	c, err := a.Inventory.IssueChallenge(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database == "" || !strings.Contains(c.DBSQL, "COMMENT ON DATABASE") || !strings.Contains(c.DBSQL, c.DBValue) {
		t.Fatalf("challenge %+v: want the database, its value and the SQL to write it", c)
	}
	if _, err := a.Inventory.Verify(ctx, id, a.Prover); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "has no comment") {
		t.Fatalf("verify before the comment: %v; want an invalid error saying the database has no comment", err)
	}
	u.Path = "/" + name
	owner, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = owner.Exec(ctx, c.DBSQL)
	owner.Close(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", c.DBSQL, err)
	}
	r, err = a.Inventory.Verify(ctx, id, a.Prover)
	if err != nil {
		t.Fatal(err)
	}
	if r.Scope != inventory.ScopeVerified || r.ScopeReason != "postgres-comment "+c.Database {
		t.Fatalf("resource %s is %s (%q); want verified by its comment", r.ID, r.Scope, r.ScopeReason)
	}
	if err := a.Guard.Authorize(r, scope.Active); err != nil {
		t.Fatalf("the guard refuses the verified database: %v", err)
	}
	sum, err := a.Assess.AssessResource(ctx, id, assess.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	results, err := a.Assess.RunResults(ctx, sum.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no data-security results for the verified database")
	}
	for _, res := range results {
		if res.Status == check.Error {
			t.Errorf("%s: %s", res.Check, res.Reason.EN)
		}
	}
}
