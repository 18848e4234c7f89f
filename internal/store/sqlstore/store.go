// Package sqlstore implements inventory.Store once, in SQL that both SQLite and PostgreSQL
// accept, over database/sql. The backends store/sqlite and store/postgres open the connection
// and supply a Dialect (placeholders, how times are stored, how constraint errors look, how
// migrations are locked) and their own numbered migration files. Writing the queries once
// keeps the two backends behaving alike by construction; storetest checks that they do.
//
// Only the backends import this package; the rest of Khiên sees an inventory.Store.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

// Constraint is the kind of integrity constraint that a driver error reports as violated.
type Constraint int

// The constraints the schema declares.
const (
	NoConstraint Constraint = iota // not a constraint violation
	Unique                         // primary key or unique
	ForeignKey                     // a reference to a missing row, or a delete of a referenced one
	Check                          // a CHECK constraint
)

// Dialect is what differs between the database engines; everything else is shared.
type Dialect struct {
	// Name prefixes internal errors: "sqlite", "postgres".
	Name string
	// Numbered is set when the driver takes $1, $2, … placeholders. Queries are written with ?.
	Numbered bool
	// Time converts a UTC time, already truncated to the microsecond, to the value stored.
	Time func(time.Time) any
	// Constraint reports which constraint, if any, err says was violated.
	Constraint func(err error) Constraint
	// MigrationLock, when set, runs first in every migration transaction so that processes
	// migrating at once apply each file once. SQLite needs none: its write transactions begin
	// IMMEDIATE and so already exclude each other.
	MigrationLock string
	// MigrationsTable creates schema_migrations(version, name, applied) if it is missing.
	MigrationsTable string
	// HasMigrationsTable is a query with one boolean result: does schema_migrations exist?
	HasMigrationsTable string
}

// Store is the inventory store over one database. It is safe for concurrent use.
type Store struct {
	db         *sql.DB
	d          Dialect
	migrations []Migration
}

// New returns a Store over db, which it owns from now on (Close closes it). migrations holds
// the dialect's numbered *.sql files at its root; see Load.
func New(db *sql.DB, d Dialect, migrations fs.FS) (*Store, error) {
	ms, err := Load(migrations)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	return &Store{db: db, d: d, migrations: ms}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// write runs fn in a write transaction and commits it, or rolls it back if fn fails. Errors
// that are not already domain errors are wrapped with the backend's name and what.
func (s *Store) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(err, what)
	}
	defer tx.Rollback() // a no-op after Commit
	if err := fn(tx); err != nil {
		return s.fail(err, what)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(err, what)
	}
	return nil
}

// read runs fn in a read-only transaction that sees one state of the database, so that a
// page and its total, or the parts of a snapshot, agree. (SQLite ignores the isolation
// level: its read transactions are snapshots already.)
func (s *Store) read(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return s.fail(err, what)
	}
	defer tx.Rollback() // nothing to commit
	if err := fn(tx); err != nil {
		return s.fail(err, what)
	}
	return nil
}

// fail returns domain errors as they are and wraps anything else, which is of kind Internal,
// with the backend's name and what was being done.
func (s *Store) fail(err error, what string) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %s: %w", s.d.Name, what, err)
}

// q rewrites the ? placeholders of query for the driver. Queries hold no literal '?'.
func (s *Store) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	return numbered(query)
}

// numbered replaces each ? in query by $1, $2, … in order.
func numbered(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// time returns the stored form of t. Both backends keep microseconds, PostgreSQL's
// precision, so that a value reads back the same from either; t is truncated on the way in.
func (s *Store) time(t time.Time) any {
	return s.d.Time(t.UTC().Truncate(time.Microsecond))
}

// nullTime is time, with the zero time stored as NULL.
func (s *Store) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.time(t)
}

// timeCol scans a stored time, whichever form the driver gives it, into a UTC time.Time;
// NULL gives the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("cannot read a time from %T", src)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("stored time %q: %w", s, err)
	}
	*c.t = t.UTC()
	return nil
}

// nullString stores the empty string as NULL, for optional references.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exists reports whether query, which selects at most one row, finds one.
func (s *Store) exists(ctx context.Context, q queryer, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, s.q(query), args...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// collect reads every row of query with scan.
func collect[T any](ctx context.Context, s *Store, q queryer, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// filter accumulates the conditions of a listing and their arguments. A subtree filter puts
// a recursive common table expression in front of the query, whose argument comes first.
type filter struct {
	with  string
	conds []string
	args  []any
}

// subtree is the organizations under the code given as its argument, that one included.
// UNION (not UNION ALL) ends the recursion even if the data held a cycle.
const subtree = `WITH RECURSIVE subtree(code) AS (
	SELECT code FROM organizations WHERE code = ?
	UNION
	SELECT o.code FROM organizations o JOIN subtree t ON o.parent = t.code
) `

func (f *filter) under(code string) {
	f.with = subtree
	f.args = append([]any{code}, f.args...)
}

func (f *filter) add(cond string, arg any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, arg)
}

func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// list returns one page of the rows of table that match f, ordered by key, and how many
// match in all. Both come from one read transaction, so they agree.
func list[T any](ctx context.Context, s *Store, what, table, columns, key string, f filter, p pageArgs, scan func(scanner) (T, error)) ([]T, int, error) {
	var (
		items []T
		total int
	)
	err := s.read(ctx, what, func(tx *sql.Tx) error {
		count := f.with + "SELECT count(*) FROM " + table + f.where()
		if err := tx.QueryRowContext(ctx, s.q(count), f.args...).Scan(&total); err != nil {
			return err
		}
		page := f.with + "SELECT " + columns + " FROM " + table + f.where() + " ORDER BY " + key + " LIMIT ? OFFSET ?"
		var err error
		items, err = collect(ctx, s, tx, scan, page, append(f.args, p.limit, p.offset)...)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return items, total, nil
}

// pageArgs is a bounded inventory.Page.
type pageArgs struct{ limit, offset int }

// plural returns "1 system" or "3 systems".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// count is how many dependents of one sort block a delete.
type count struct {
	n         int
	one, many string
}

// stillHas builds the message of a refused delete: what is left, and what to do about it.
func stillHas(subject string, counts ...count) string {
	var left []string
	total := 0
	for _, c := range counts {
		if c.n > 0 {
			left = append(left, plural(c.n, c.one, c.many))
			total += c.n
		}
	}
	them := "them"
	if total == 1 {
		them = "it"
	}
	return fmt.Sprintf("%s still has %s; move or delete %s first", subject, strings.Join(left, " and "), them)
}

// about prefixes the message of a domain error with the item it concerns, for errors raised
// while writing many items at once; other errors pass unchanged.
func about(err error, format string, args ...any) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind == errs.Internal {
		return err
	}
	c := *e
	c.Msg = fmt.Sprintf(format, args...) + ": " + e.Msg
	return &c
}
