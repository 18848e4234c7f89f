package sqlstore

import (
	"context"
	"database/sql"

	"github.com/khien-vn/khien/internal/audit"
)

// The audit log of audit.Store. Appends are serialized by the head row: its UPDATE takes
// PostgreSQL's row lock until the transaction ends (SQLite's write transactions exclude each
// other already), so that no two entries get one sequence number and the chain stays linear.

const (
	auditColumns = `seq, at, actor, action, object_type, object_id, org_path, before_json, after_json, prev_hash, hash`

	// qAdvanceHead locks the head and returns the sequence number the new entry takes and the
	// hash it chains to.
	qAdvanceHead = `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`
	qSetHeadHash = `UPDATE audit_head SET hash = ? WHERE id = 1`
	qAuditHead   = `SELECT seq, hash FROM audit_head WHERE id = 1`
	qInsertAudit = `INSERT INTO audit_log (` + auditColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qEachAudit   = `SELECT ` + auditColumns + ` FROM audit_log ORDER BY seq`
)

func scanAudit(row scanner) (audit.Entry, error) {
	var e audit.Entry
	err := row.Scan(&e.Seq, timeCol{&e.At}, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &e.OrgPath,
		&e.Before, &e.After, &e.PrevHash, &e.Hash)
	return e, err
}

// AppendAudit chains e after the head and stores it, in a transaction of its own.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	err := s.write(ctx, "append audit entry "+e.Action, func(tx *sql.Tx) error {
		var err error
		e, err = s.chain(ctx, tx, e)
		return err
	})
	return e, err
}

// appendAudit appends e within tx, the transaction of the change it records.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, e audit.Entry) error {
	_, err := s.chain(ctx, tx, e)
	return err
}

func (s *Store) chain(ctx context.Context, tx *sql.Tx, e audit.Entry) (audit.Entry, error) {
	var head audit.Head
	if err := tx.QueryRowContext(ctx, qAdvanceHead).Scan(&head.Seq, &head.Hash); err != nil {
		return audit.Entry{}, err
	}
	head.Seq-- // the head as it was; Chain numbers e after it
	e = audit.Chain(head, e)
	if _, err := tx.ExecContext(ctx, s.q(qInsertAudit), e.Seq, s.time(e.At), e.Actor, e.Action, e.ObjectType,
		e.ObjectID, e.OrgPath, e.Before, e.After, e.PrevHash, e.Hash); err != nil {
		return audit.Entry{}, err
	}
	if _, err := tx.ExecContext(ctx, s.q(qSetHeadHash), e.Hash); err != nil {
		return audit.Entry{}, err
	}
	return e, nil
}

// AuditEntries returns one page of the entries f selects, newest first, and how many it
// selects. Under matches an organization anywhere on an entry's path, exactly: replace()
// compares bytes in both engines, where LIKE would ignore case in SQLite.
func (s *Store) AuditEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, int, error) {
	var w filter
	if f.Under != "" {
		w.add("replace(org_path, ?, '') <> org_path", "/"+f.Under+"/")
	}
	if f.ObjectType != "" {
		w.add("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		w.add("object_id = ?", f.ObjectID)
	}
	if f.Actor != "" {
		w.add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		w.add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", s.time(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", s.time(f.Until))
	}
	return list(ctx, s, "list audit entries", "audit_log", auditColumns, "seq DESC", w, bounded(f.Page), scanAudit)
}

// EachAuditEntry calls fn on every entry in the order of seq and returns the head, all from
// one consistent read.
func (s *Store) EachAuditEntry(ctx context.Context, fn func(audit.Entry) error) (audit.Head, error) {
	var h audit.Head
	err := s.read(ctx, "read audit log", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, qAuditHead).Scan(&h.Seq, &h.Hash); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, qEachAudit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	return h, err
}

// AuditHead returns the last entry appended, as the head row remembers it.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	if err := s.db.QueryRowContext(ctx, qAuditHead).Scan(&h.Seq, &h.Hash); err != nil {
		return audit.Head{}, s.fail(err, "read audit head")
	}
	return h, nil
}
