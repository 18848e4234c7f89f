// Package postgres keeps Khiên's data in PostgreSQL, for a deployment that runs several
// servers or wants the database managed apart from them. It goes through database/sql with
// the pgx driver, so that it reads like store/sqlite; the queries themselves are shared with
// it (see store/sqlstore), and this package supplies PostgreSQL's dialect and migrations.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the store in a PostgreSQL database. Its methods are those of sqlstore.Store: the
// inventory.Store methods, Migrate, SchemaVersion and Close. It is safe for concurrent use.
type DB struct {
	*sqlstore.Store
	db *sql.DB
}

var _ inventory.Store = (*DB)(nil)

// Open connects to the database dsn names, a URL (postgres://user@host:5432/khien) or
// key=value pairs as libpq takes them. A search_path parameter in dsn is honoured. It does
// not migrate: call Migrate, or check SchemaVersion, before use.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenSchema(ctx, dsn, "")
}

// OpenSchema is Open with every table in schema, which must exist, instead of in the
// connection's default search path; several Khiên instances, or tests, can so share one
// database. An empty schema is Open.
func OpenSchema(ctx context.Context, dsn, schema string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password in its message.
		return nil, errs.Wrap(errs.Invalid, err, "the PostgreSQL DSN is not valid; write it as postgres://user@host:5432/dbname")
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s@%s:%d/%s: %w", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s, err := sqlstore.New(db, dialect(), migrations)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &DB{Store: s, db: db}, nil
}

// dialect returns what PostgreSQL does differently from SQLite.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:       "postgres",
		Numbered:   true,
		Time:       func(t time.Time) any { return t },
		Constraint: constraint,
		// A transaction-scoped advisory lock, keyed by the schema, so that servers starting
		// together migrate one after the other. It is taken before schema_migrations is
		// created because two concurrent CREATE TABLE IF NOT EXISTS can both fail otherwise.
		MigrationLock: `SELECT pg_advisory_xact_lock(hashtext('khien.schema_migrations'), hashtext(current_schema()))`,
		MigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY,
			name    text NOT NULL,
			applied timestamptz NOT NULL
		)`,
		HasMigrationsTable: `SELECT to_regclass('schema_migrations') IS NOT NULL`,
	}
}

// PostgreSQL's SQLSTATE codes for the constraints the schema declares.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	checkViolation      = "23514"
)

func constraint(err error) sqlstore.Constraint {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return sqlstore.NoConstraint
	}
	switch e.Code {
	case uniqueViolation:
		return sqlstore.Unique
	case foreignKeyViolation:
		return sqlstore.ForeignKey
	case checkViolation:
		return sqlstore.Check
	}
	return sqlstore.NoConstraint
}
