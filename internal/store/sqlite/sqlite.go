// Package sqlite keeps Khiên's data in one SQLite file, for a single server or a laptop:
// nothing to install, and the binary stays free of cgo because the driver, modernc.org/sqlite,
// is SQLite translated to Go. The queries are shared with store/postgres (see store/sqlstore);
// this package opens the file with the settings a busy server needs and supplies SQLite's
// dialect and migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the store in one SQLite file. Its methods are those of sqlstore.Store: the
// inventory.Store methods, Migrate, SchemaVersion and Close. It is safe for concurrent use.
type DB struct {
	*sqlstore.Store
	db *sql.DB
}

var _ inventory.Store = (*DB)(nil)

// busyTimeout is how long a writer waits for another to finish before SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Open opens (creating if needed) the SQLite database at path, a file name or a "file:" URI.
// It does not migrate: call Migrate, or check SchemaVersion, before use.
//
// Every pooled connection gets the same settings through the DSN: write-ahead logging, so
// readers never wait for the writer; enforced foreign keys, which SQLite leaves off by
// default; a busy timeout, so concurrent writers queue instead of failing; and write
// transactions that begin IMMEDIATE, taking the write lock up front, because a transaction
// that reads and then upgrades to write can fail with SQLITE_BUSY however long it waits.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: no database file given")
	}
	if strings.Contains(path, "?") && !strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: database file name %q contains '?'; rename it or write it as a file: URI", path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_txlock", "immediate")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	db, err := sql.Open("sqlite", path+sep+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s, err := sqlstore.New(db, dialect(), migrations)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &DB{Store: s, db: db}, nil
}

// dialect returns what SQLite does differently from PostgreSQL.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:       "sqlite",
		Time:       formatTime,
		Constraint: constraint,
		// Migrations need no lock: every write transaction begins IMMEDIATE.
		MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			name    TEXT NOT NULL,
			applied TEXT NOT NULL
		) STRICT`,
		HasMigrationsTable: `SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`,
	}
}

// timeFormat is RFC 3339 in UTC with exactly six fractional digits: fixed width, so that
// text order is time order, and microseconds, to read back as PostgreSQL does.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

func formatTime(t time.Time) any { return t.UTC().Format(timeFormat) }

// constraint classifies SQLite's extended result codes, which the driver turns on.
func constraint(err error) sqlstore.Constraint {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.NoConstraint
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return sqlstore.Unique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKey
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		return sqlstore.Check
	}
	return sqlstore.NoConstraint
}
