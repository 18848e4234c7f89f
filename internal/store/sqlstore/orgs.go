package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

const (
	orgColumns = `code, name, level, parent, head_name, head_title, head_contact, created, updated`

	qOrg       = `SELECT ` + orgColumns + ` FROM organizations WHERE code = ?`
	qOrgExists = `SELECT 1 FROM organizations WHERE code = ?`
	qInsertOrg = `INSERT INTO organizations (` + orgColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpsertOrg = qInsertOrg + ` ON CONFLICT (code) DO UPDATE SET
		name = excluded.name, level = excluded.level, parent = excluded.parent,
		head_name = excluded.head_name, head_title = excluded.head_title,
		head_contact = excluded.head_contact, updated = excluded.updated`
	qUpdateOrg = `UPDATE organizations SET name = ?, level = ?, parent = ?,
		head_name = ?, head_title = ?, head_contact = ?, updated = ? WHERE code = ?`
	qDeleteOrg    = `DELETE FROM organizations WHERE code = ?`
	qOrgDependent = `SELECT (SELECT count(*) FROM organizations WHERE parent = ?),
		(SELECT count(*) FROM systems WHERE org = ?)`

	// qIsAncestor counts code among parent and parent's ancestors: making parent the
	// parent of code would then close a cycle.
	qIsAncestor = `WITH RECURSIVE up(code, parent) AS (
		SELECT code, parent FROM organizations WHERE code = ?
		UNION
		SELECT o.code, o.parent FROM organizations o JOIN up ON o.code = up.parent
	) SELECT count(*) FROM up WHERE code = ?`

	// qOffTree lists the organizations that no root reaches: those on a cycle of parents.
	qOffTree = `WITH RECURSIVE tree(code) AS (
		SELECT code FROM organizations WHERE parent IS NULL
		UNION
		SELECT o.code FROM organizations o JOIN tree t ON o.parent = t.code
	) SELECT code FROM organizations WHERE code NOT IN (SELECT code FROM tree) ORDER BY code LIMIT 10`
)

func scanOrg(row scanner) (inventory.Organization, error) {
	var (
		o      inventory.Organization
		parent sql.NullString
	)
	err := row.Scan(&o.Code, &o.Name, &o.Level, &parent, &o.Head.Name, &o.Head.Title, &o.Head.Contact,
		timeCol{&o.Created}, timeCol{&o.Updated})
	o.Parent = parent.String
	return o, err
}

func (s *Store) orgArgs(o inventory.Organization) []any {
	return []any{o.Code, o.Name, o.Level, nullString(o.Parent), o.Head.Name, o.Head.Title, o.Head.Contact,
		s.time(o.Created), s.time(o.Updated)}
}

func orgNotFound(code string) error { return errs.E(errs.NotFound, "organization %q not found", code) }
func orgExists(code string) error {
	return errs.E(errs.Conflict, "organization %q already exists", code)
}
func noParent(parent string) error {
	return errs.Field("parent", "organization %q does not exist", parent)
}

// Org returns the organization with code, or an error of kind NotFound.
func (s *Store) Org(ctx context.Context, code string) (inventory.Organization, error) {
	o, err := scanOrg(s.db.QueryRowContext(ctx, s.q(qOrg), code))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return inventory.Organization{}, orgNotFound(code)
	case err != nil:
		return inventory.Organization{}, s.fail(err, fmt.Sprintf("read organization %q", code))
	}
	return o, nil
}

// Orgs returns one page of the organizations f selects, by code, and how many it selects.
// Under a code that does not exist selects nothing.
func (s *Store) Orgs(ctx context.Context, f inventory.OrgFilter) ([]inventory.Organization, int, error) {
	var w filter
	if f.Under != "" {
		w.under(f.Under)
		w.conds = append(w.conds, "code IN (SELECT code FROM subtree)")
	}
	if f.Parent != "" {
		w.add("parent = ?", f.Parent)
	}
	if f.Level != "" {
		w.add("level = ?", f.Level)
	}
	return list(ctx, s, "list organizations", "organizations", orgColumns, "code", w, bounded(f.Page), scanOrg)
}

// bounded applies the default and maximum page size.
func bounded(p inventory.Page) pageArgs {
	p = p.Bounded()
	return pageArgs{limit: p.Limit, offset: p.Offset}
}

// CreateOrg inserts o. An existing code is a Conflict; a parent that does not exist is
// Invalid, about the field "parent".
func (s *Store) CreateOrg(ctx context.Context, o inventory.Organization) error {
	return s.write(ctx, fmt.Sprintf("create organization %q", o.Code), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qOrgExists, o.Code); err != nil {
			return err
		} else if ok {
			return orgExists(o.Code)
		}
		if err := s.checkParent(ctx, tx, o); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(qInsertOrg), s.orgArgs(o)...)
		switch s.d.Constraint(err) {
		case Unique: // created meanwhile by another transaction
			return orgExists(o.Code)
		case ForeignKey: // parent deleted meanwhile
			return noParent(o.Parent)
		}
		return err
	})
}

// UpdateOrg replaces every field of the organization o.Code except Created. A parent that
// does not exist, or that would put the organization under itself, is Invalid ("parent").
func (s *Store) UpdateOrg(ctx context.Context, o inventory.Organization) error {
	return s.write(ctx, fmt.Sprintf("update organization %q", o.Code), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qOrgExists, o.Code); err != nil {
			return err
		} else if !ok {
			return orgNotFound(o.Code)
		}
		if err := s.checkParent(ctx, tx, o); err != nil {
			return err
		}
		if o.Parent != "" {
			// The service checks this too, but only here, inside the transaction, is the
			// answer still true when the row is written.
			var n int
			if err := tx.QueryRowContext(ctx, s.q(qIsAncestor), o.Parent, o.Code).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errs.Field("parent", "making %q the parent of %q would create a cycle", o.Parent, o.Code)
			}
		}
		res, err := tx.ExecContext(ctx, s.q(qUpdateOrg), o.Name, o.Level, nullString(o.Parent),
			o.Head.Name, o.Head.Title, o.Head.Contact, s.time(o.Updated), o.Code)
		if s.d.Constraint(err) == ForeignKey {
			return noParent(o.Parent)
		}
		return notFoundIfNone(res, err, orgNotFound(o.Code))
	})
}

// checkParent returns an Invalid error if o names a parent that does not exist.
func (s *Store) checkParent(ctx context.Context, q queryer, o inventory.Organization) error {
	if o.Parent == "" {
		return nil
	}
	ok, err := s.exists(ctx, q, qOrgExists, o.Parent)
	if err == nil && !ok {
		return noParent(o.Parent)
	}
	return err
}

// DeleteOrg removes the organization code. One that still has child organizations or
// systems is a Conflict, and nothing is deleted.
func (s *Store) DeleteOrg(ctx context.Context, code string) error {
	return s.write(ctx, fmt.Sprintf("delete organization %q", code), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qOrgExists, code); err != nil {
			return err
		} else if !ok {
			return orgNotFound(code)
		}
		var children, systems int
		if err := tx.QueryRowContext(ctx, s.q(qOrgDependent), code, code).Scan(&children, &systems); err != nil {
			return err
		}
		if children+systems > 0 {
			return errs.E(errs.Conflict, "%s", stillHas(fmt.Sprintf("organization %q", code),
				count{children, "child organization", "child organizations"},
				count{systems, "system", "systems"}))
		}
		res, err := tx.ExecContext(ctx, s.q(qDeleteOrg), code)
		if s.d.Constraint(err) == ForeignKey { // a child or system added meanwhile
			return errs.E(errs.Conflict, "organization %q still has child organizations or systems; move or delete them first", code)
		}
		return notFoundIfNone(res, err, orgNotFound(code))
	})
}

// notFoundIfNone returns err, or notFound if the statement changed no row.
func notFoundIfNone(res sql.Result, err, notFound error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}
