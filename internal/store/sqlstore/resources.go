package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// The kind column repeats the identifier's prefix so that listings can filter on it with an
// equality rather than a pattern.
const (
	resourceColumns = `id, system, kind, scope, scope_reason, verify_token, verified_at, created, updated`

	qResource       = `SELECT ` + resourceColumns + ` FROM resources WHERE id = ?`
	qResourceExists = `SELECT 1 FROM resources WHERE id = ?`
	qInsertResource = `INSERT INTO resources (` + resourceColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpsertResource = qInsertResource + ` ON CONFLICT (id) DO UPDATE SET
		system = excluded.system, kind = excluded.kind, scope = excluded.scope,
		scope_reason = excluded.scope_reason, verify_token = excluded.verify_token,
		verified_at = excluded.verified_at, updated = excluded.updated`
	qUpdateResource = `UPDATE resources SET system = ?, kind = ?, scope = ?, scope_reason = ?,
		verify_token = ?, verified_at = ?, updated = ? WHERE id = ?`
	qDeleteResource = `DELETE FROM resources WHERE id = ?`
)

func scanResource(row scanner) (inventory.Resource, error) {
	var (
		r    inventory.Resource
		kind string // read back from the ID by Resource.Kind; the column is for filtering
	)
	err := row.Scan(&r.ID, &r.System, &kind, &r.Scope, &r.ScopeReason, &r.VerifyToken,
		timeCol{&r.VerifiedAt}, timeCol{&r.Created}, timeCol{&r.Updated})
	return r, err
}

func (s *Store) resourceArgs(r inventory.Resource) []any {
	return []any{r.ID, r.System, string(r.Kind()), r.Scope, r.ScopeReason, r.VerifyToken,
		s.nullTime(r.VerifiedAt), s.time(r.Created), s.time(r.Updated)}
}

func resourceNotFound(id string) error { return errs.E(errs.NotFound, "resource %q not found", id) }
func resourceExists(id string) error {
	return errs.E(errs.Conflict, "resource %q already exists", id)
}
func noSystem(id string) error { return errs.Field("system", "system %q does not exist", id) }

// Resource returns the resource with the normalized identifier id, or an error of kind
// NotFound.
func (s *Store) Resource(ctx context.Context, id string) (inventory.Resource, error) {
	r, err := scanResource(s.db.QueryRowContext(ctx, s.q(qResource), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return inventory.Resource{}, resourceNotFound(id)
	case err != nil:
		return inventory.Resource{}, s.fail(err, fmt.Sprintf("read resource %q", id))
	}
	return r, nil
}

// Resources returns one page of the resources f selects, by id, and how many it selects.
func (s *Store) Resources(ctx context.Context, f inventory.ResourceFilter) ([]inventory.Resource, int, error) {
	var w filter
	if f.Under != "" {
		w.under(f.Under)
		w.conds = append(w.conds, "system IN (SELECT id FROM systems WHERE org IN (SELECT code FROM subtree))")
	}
	if f.System != "" {
		w.add("system = ?", f.System)
	}
	if f.Kind != "" {
		w.add("kind = ?", string(f.Kind))
	}
	if f.Scope != "" {
		w.add("scope = ?", f.Scope)
	}
	return list(ctx, s, "list resources", "resources", resourceColumns, "id", w, bounded(f.Page), scanResource)
}

// CreateResource inserts r. An existing identifier is a Conflict; a system that does not
// exist is Invalid, about the field "system".
func (s *Store) CreateResource(ctx context.Context, r inventory.Resource) error {
	return s.write(ctx, fmt.Sprintf("create resource %q", r.ID), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qResourceExists, r.ID); err != nil {
			return err
		} else if ok {
			return resourceExists(r.ID)
		}
		if err := s.checkSystem(ctx, tx, r.System); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(qInsertResource), s.resourceArgs(r)...)
		switch s.d.Constraint(err) {
		case Unique:
			return resourceExists(r.ID)
		case ForeignKey:
			return noSystem(r.System)
		}
		return err
	})
}

// UpdateResource replaces every field of the resource r.ID except Created.
func (s *Store) UpdateResource(ctx context.Context, r inventory.Resource) error {
	return s.write(ctx, fmt.Sprintf("update resource %q", r.ID), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qResourceExists, r.ID); err != nil {
			return err
		} else if !ok {
			return resourceNotFound(r.ID)
		}
		if err := s.checkSystem(ctx, tx, r.System); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(qUpdateResource), r.System, string(r.Kind()), r.Scope,
			r.ScopeReason, r.VerifyToken, s.nullTime(r.VerifiedAt), s.time(r.Updated), r.ID)
		if s.d.Constraint(err) == ForeignKey {
			return noSystem(r.System)
		}
		return notFoundIfNone(res, err, resourceNotFound(r.ID))
	})
}

// checkSystem returns an Invalid error if the system id does not exist.
func (s *Store) checkSystem(ctx context.Context, q queryer, id string) error {
	ok, err := s.exists(ctx, q, qSystemExists, id)
	if err == nil && !ok {
		return noSystem(id)
	}
	return err
}

// DeleteResource removes the resource id.
func (s *Store) DeleteResource(ctx context.Context, id string) error {
	return s.write(ctx, fmt.Sprintf("delete resource %q", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(qDeleteResource), id)
		return notFoundIfNone(res, err, resourceNotFound(id))
	})
}
