package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/storetest"
)

// openTemp opens a new database file in a temporary directory, closed when t ends.
func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "khien.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return db
}

// openMigrated is openTemp with the schema in place.
func openMigrated(t *testing.T) *DB {
	t.Helper()
	db := openTemp(t)
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) inventory.Store { return openMigrated(t) })
}

func TestAssessmentContract(t *testing.T) {
	storetest.RunAssessment(t, func(t *testing.T) storetest.AssessmentStore { return openMigrated(t) })
}

// TestPragmas checks the settings every pooled connection must have, on several
// connections at once.
func TestPragmas(t *testing.T) {
	db := openMigrated(t)
	ctx := t.Context()
	var conns []interface{ Close() error }
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 3 {
		c, err := db.db.Conn(ctx) // held open, so each loop takes a new connection
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		for _, tt := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
			}
			if !strings.EqualFold(got, tt.want) {
				t.Errorf("connection %d: PRAGMA %s = %q, want %q", i, tt.pragma, got, tt.want)
			}
		}
	}
}

func TestMigrate(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()

	current, latest, err := db.SchemaVersion(ctx)
	if err != nil || current != 0 || latest < 1 {
		t.Fatalf("SchemaVersion() on a new file = %d, %d, %v; want 0, ≥1, nil", current, latest, err)
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
	var n int
	if err := db.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != latest {
		t.Errorf("schema_migrations holds %d rows (%v), want %d", n, err, latest)
	}
}

// TestReopen checks that data and schema version survive closing the file.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "khien.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	o := inventory.Organization{Code: "HN", Name: "Hà Nội", Level: inventory.LevelProvince}
	if err := db.CreateOrg(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openAt(t, path)
	if current, latest, err := db.SchemaVersion(t.Context()); err != nil || current != latest {
		t.Errorf("SchemaVersion() after reopening = %d, %d, %v; want current", current, latest, err)
	}
	if got, err := db.Org(t.Context(), "HN"); err != nil || got.Name != o.Name {
		t.Errorf("Org(HN) after reopening = %+v, %v", got, err)
	}
}

func openAt(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenRefusesQuestionMark(t *testing.T) {
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "what?.db"))
	if err == nil || !strings.Contains(err.Error(), "'?'") {
		t.Errorf("Open(name with '?') = %v, want an error about the '?'", err)
	}
}

// TestMigrationsMatchPostgres keeps the two backends' migrations numbered alike.
func TestMigrationsMatchPostgres(t *testing.T) {
	names := func(dir string) []string {
		m, err := filepath.Glob(filepath.Join(dir, "*.sql"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		slices.Sort(m)
		return m
	}
	sqlite, postgres := names("migrations"), names(filepath.Join("..", "postgres", "migrations"))
	if len(sqlite) == 0 || !slices.Equal(sqlite, postgres) {
		t.Errorf("migration files differ:\n\tsqlite:   %q\n\tpostgres: %q\nevery change needs a file of the same name in both", sqlite, postgres)
	}
}
