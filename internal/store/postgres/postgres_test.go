package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the admin connection

	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/storetest"
)

// server returns the DSN of the test server from KHIEN_TEST_POSTGRES and an admin
// connection to it. Without one the test is skipped, except under CI=true, where a missing
// server is a failure: CI must not pass by testing nothing.
func server(t *testing.T) (dsn string, admin *sql.DB) {
	t.Helper()
	dsn = os.Getenv("KHIEN_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KHIEN_TEST_POSTGRES is not set; CI must provide a PostgreSQL server")
		}
		t.Skip("KHIEN_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(t.Context()); err != nil {
		t.Fatalf("KHIEN_TEST_POSTGRES: %v", err)
	}
	return dsn, admin
}

// freshSchema creates a schema of a random name, which the server's other users (CI shares
// it) will not meet, and drops it with everything in it when t ends.
func freshSchema(t *testing.T, admin *sql.DB) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "khien_test_" + hex.EncodeToString(b)
	quoted := pgx.Identifier{schema}.Sanitize()
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+quoted); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is done by now: give the drop its own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+quoted+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// openFresh opens a store in a new schema, unmigrated, closed when t ends.
func openFresh(t *testing.T, dsn string, admin *sql.DB) *DB {
	t.Helper()
	schema := freshSchema(t, admin)
	db, err := OpenSchema(t.Context(), dsn, schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // registered after the drop, so it runs before it
	return db
}

func TestContract(t *testing.T) {
	dsn, admin := server(t)
	storetest.Run(t, func(t *testing.T) inventory.Store {
		db := openFresh(t, dsn, admin)
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate() = %v", err)
		}
		return db
	})
}

func TestAssessmentContract(t *testing.T) {
	dsn, admin := server(t)
	storetest.RunAssessment(t, func(t *testing.T) storetest.AssessmentStore {
		db := openFresh(t, dsn, admin)
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate() = %v", err)
		}
		return db
	})
}

func TestMigrate(t *testing.T) {
	dsn, admin := server(t)
	db := openFresh(t, dsn, admin)
	ctx := t.Context()

	current, latest, err := db.SchemaVersion(ctx)
	if err != nil || current != 0 || latest < 1 {
		t.Fatalf("SchemaVersion() on an empty schema = %d, %d, %v; want 0, ≥1, nil", current, latest, err)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	if len(applied) != latest || applied[0] != "0001_inventory.sql" {
		t.Errorf("Migrate() applied %q, want all %d from 0001_inventory.sql", applied, latest)
	}
	if current, _, err := db.SchemaVersion(ctx); err != nil || current != latest {
		t.Errorf("SchemaVersion() after Migrate = %d, %v; want %d", current, err, latest)
	}
	again, err := db.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate() = %q, %v; want nothing applied", again, err)
	}
}

// TestMigrateConcurrently starts several servers on one empty schema at once: each
// migration must be applied exactly once, and none may fail.
func TestMigrateConcurrently(t *testing.T) {
	dsn, admin := server(t)
	schema := freshSchema(t, admin)
	const servers = 4
	results := make(chan []string, servers)
	errc := make(chan error, servers)
	for range servers {
		go func() {
			db, err := OpenSchema(t.Context(), dsn, schema)
			if err != nil {
				errc <- err
				return
			}
			defer db.Close()
			applied, err := db.Migrate(t.Context())
			errc <- err
			results <- applied
		}()
	}
	total := 0
	for range servers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		total += len(<-results)
	}
	var latest int
	if err := admin.QueryRowContext(t.Context(),
		"SELECT count(*) FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()).Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if total != latest {
		t.Errorf("%d servers migrating at once applied %d migrations in all, want %d", servers, total, latest)
	}
}

// TestSchemaIsolation checks that OpenSchema keeps every table in its schema.
func TestSchemaIsolation(t *testing.T) {
	dsn, admin := server(t)
	a, b := openFresh(t, dsn, admin), openFresh(t, dsn, admin)
	for _, db := range []*DB{a, b} {
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	o := inventory.Organization{Code: "HN", Name: "Hà Nội", Level: inventory.LevelProvince}
	if err := a.CreateOrg(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if _, n, err := b.Orgs(t.Context(), inventory.OrgFilter{}); err != nil || n != 0 {
		t.Errorf("other schema holds %d organizations (%v), want 0", n, err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	if _, err := Open(t.Context(), "postgres://[::1"); err == nil {
		t.Error("Open(malformed DSN) = nil error")
	}
}
