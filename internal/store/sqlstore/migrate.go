package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Migration is one numbered, forward-only schema change.
type Migration struct {
	Version int    // the file name's number: 0001_inventory.sql is version 1
	Name    string // the file name, as Migrate reports it
	SQL     string
}

// migrationName is the form of a migration file name: a zero-padded number, an underscore,
// a lower-case description.
var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// Load reads the *.sql files at the root of fsys, ordered by version. Every file must be
// named like 0001_inventory.sql, and the versions must run 1, 2, 3, … with no gap or repeat,
// so that a missing or misnumbered file is caught before anything is applied.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	ms := make([]Migration, 0, len(names))
	for i, name := range names {
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("migration %s: name must look like 0001_description.sql", name)
		}
		v, _ := strconv.Atoi(m[1])
		if v != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d; versions must run from 1 without gaps or repeats", name, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations found")
	}
	return ms, nil
}

// Migrate applies, in order, each migration the database has not had yet, each in its own
// transaction together with its row in schema_migrations. It returns the names of those it
// applied: none when the schema is current. A failed migration leaves the ones before it
// applied and itself not at all.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	for _, m := range s.migrations {
		done, err := s.migrate(ctx, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

const (
	qMigrationApplied = `SELECT 1 FROM schema_migrations WHERE version = ?`
	qRecordMigration  = `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`
	qSchemaVersion    = `SELECT coalesce(max(version), 0) FROM schema_migrations`
)

// migrate applies m unless it is recorded already, and reports whether it did.
func (s *Store) migrate(ctx context.Context, m Migration) (bool, error) {
	done := false
	err := s.write(ctx, "migration "+m.Name, func(tx *sql.Tx) error {
		if s.d.MigrationLock != "" {
			if _, err := tx.ExecContext(ctx, s.d.MigrationLock); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.MigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		if ok, err := s.exists(ctx, tx, qMigrationApplied, m.Version); err != nil || ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(qRecordMigration), m.Version, m.Name, s.time(time.Now())); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		done = true
		return nil
	})
	return done, err
}

// SchemaVersion returns the version of the last migration applied to the database (0 for an
// empty one) and the latest this build knows. current < latest means Migrate is needed;
// current > latest means the database was migrated by a newer Khiên.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	latest = len(s.migrations)
	err = s.read(ctx, "read schema version", func(tx *sql.Tx) error {
		var ok bool
		if err := tx.QueryRowContext(ctx, s.d.HasMigrationsTable).Scan(&ok); err != nil || !ok {
			return err
		}
		return tx.QueryRowContext(ctx, qSchemaVersion).Scan(&current)
	})
	if err != nil {
		return 0, latest, err
	}
	return current, latest, nil
}
