package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/khien-vn/khien/internal/vuln"
)

// Feeds are stored whole, as the JSON they came in, keyed by advisory id and CVE id: an
// import of a newer copy replaces the older record, and the index is rebuilt from them.
const (
	qUpsertAdvisory = `INSERT INTO advisories (id, source, modified, doc, imported) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET source = excluded.source, modified = excluded.modified,
		doc = excluded.doc, imported = excluded.imported`
	qUpsertKEV = `INSERT INTO kev (cve, catalog_version, doc, imported) VALUES (?, ?, ?, ?)
		ON CONFLICT (cve) DO UPDATE SET catalog_version = excluded.catalog_version,
		doc = excluded.doc, imported = excluded.imported`
	qAdvisories = `SELECT doc FROM advisories ORDER BY id`
	qKEV        = `SELECT doc FROM kev ORDER BY cve`
)

// PutAdvisories stores OSV records from source, replacing records with the same id, all or
// nothing. It returns how many were new.
func (s *Store) PutAdvisories(ctx context.Context, source string, advs []vuln.Advisory, now time.Time) (int, error) {
	added := 0
	err := s.write(ctx, "import advisories", func(tx *sql.Tx) error {
		for _, a := range advs {
			var one int
			err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM advisories WHERE id = ?`), a.ID).Scan(&one)
			if err == sql.ErrNoRows {
				added++
			} else if err != nil {
				return err
			}
			doc, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("encode %s: %w", a.ID, err)
			}
			if _, err := tx.ExecContext(ctx, s.q(qUpsertAdvisory), a.ID, source, s.time(a.Modified), string(doc), s.time(now)); err != nil {
				return fmt.Errorf("store %s: %w", a.ID, err)
			}
		}
		return nil
	})
	return added, err
}

// PutKEV stores the entries of a KEV catalog, all or nothing. It returns how many were new.
func (s *Store) PutKEV(ctx context.Context, version string, entries []vuln.KEV, now time.Time) (int, error) {
	added := 0
	err := s.write(ctx, "import KEV catalog", func(tx *sql.Tx) error {
		for _, k := range entries {
			var one int
			err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM kev WHERE cve = ?`), k.CVE).Scan(&one)
			if err == sql.ErrNoRows {
				added++
			} else if err != nil {
				return err
			}
			doc, err := json.Marshal(k)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(qUpsertKEV), k.CVE, version, string(doc), s.time(now)); err != nil {
				return fmt.Errorf("store %s: %w", k.CVE, err)
			}
		}
		return nil
	})
	return added, err
}

// Feeds returns every stored advisory and KEV entry.
func (s *Store) Feeds(ctx context.Context) ([]vuln.Advisory, []vuln.KEV, error) {
	var (
		advs []vuln.Advisory
		kev  []vuln.KEV
	)
	err := s.read(ctx, "read feeds", func(tx *sql.Tx) error {
		if err := readDocs(ctx, tx, s.q(qAdvisories), &advs); err != nil {
			return err
		}
		return readDocs(ctx, tx, s.q(qKEV), &kev)
	})
	return advs, kev, err
}

func readDocs[T any](ctx context.Context, tx *sql.Tx, query string, out *[]T) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return fmt.Errorf("stored feed record: %w", err)
		}
		*out = append(*out, v)
	}
	return rows.Err()
}
