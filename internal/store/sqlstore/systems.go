package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

const (
	systemColumns = `id, org, name, purpose, level, level_approved, stage, data_classes, operator, created, updated`

	qSystem       = `SELECT ` + systemColumns + ` FROM systems WHERE id = ?`
	qSystemExists = `SELECT 1 FROM systems WHERE id = ?`
	qInsertSystem = `INSERT INTO systems (` + systemColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpsertSystem = qInsertSystem + ` ON CONFLICT (id) DO UPDATE SET
		org = excluded.org, name = excluded.name, purpose = excluded.purpose, level = excluded.level,
		level_approved = excluded.level_approved, stage = excluded.stage,
		data_classes = excluded.data_classes, operator = excluded.operator, updated = excluded.updated`
	qUpdateSystem = `UPDATE systems SET org = ?, name = ?, purpose = ?, level = ?, level_approved = ?,
		stage = ?, data_classes = ?, operator = ?, updated = ? WHERE id = ?`
	qDeleteSystem    = `DELETE FROM systems WHERE id = ?`
	qSystemResources = `SELECT count(*) FROM resources WHERE system = ?`
)

func scanSystem(row scanner) (inventory.System, error) {
	var (
		s       inventory.System
		classes string
	)
	err := row.Scan(&s.ID, &s.Org, &s.Name, &s.Purpose, &s.Level, &s.LevelApproved, &s.Stage, &classes,
		&s.Operator, timeCol{&s.Created}, timeCol{&s.Updated})
	s.DataClasses = splitClasses(classes)
	return s, err
}

func (s *Store) systemArgs(sys inventory.System) []any {
	return []any{sys.ID, sys.Org, sys.Name, sys.Purpose, sys.Level, sys.LevelApproved, sys.Stage,
		joinClasses(sys.DataClasses), sys.Operator, s.time(sys.Created), s.time(sys.Updated)}
}

// joinClasses stores data classes as one comma-separated column: the values are a short
// closed list of identifiers, and neither backend needs to query inside it.
func joinClasses(cs []inventory.DataClass) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = string(c)
	}
	return strings.Join(parts, ",")
}

func splitClasses(s string) []inventory.DataClass {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	cs := make([]inventory.DataClass, len(parts))
	for i, p := range parts {
		cs[i] = inventory.DataClass(p)
	}
	return cs
}

func systemNotFound(id string) error { return errs.E(errs.NotFound, "system %q not found", id) }
func systemExists(id string) error   { return errs.E(errs.Conflict, "system %q already exists", id) }
func noOrg(org string) error         { return errs.Field("org", "organization %q does not exist", org) }
func badLevel(level int) error {
	return errs.Field("level", "security level must be 1 to 5, got %d", level)
}

// System returns the system with id, or an error of kind NotFound.
func (s *Store) System(ctx context.Context, id string) (inventory.System, error) {
	sys, err := scanSystem(s.db.QueryRowContext(ctx, s.q(qSystem), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return inventory.System{}, systemNotFound(id)
	case err != nil:
		return inventory.System{}, s.fail(err, fmt.Sprintf("read system %q", id))
	}
	return sys, nil
}

// Systems returns one page of the systems f selects, by id, and how many it selects.
func (s *Store) Systems(ctx context.Context, f inventory.SystemFilter) ([]inventory.System, int, error) {
	var w filter
	if f.Under != "" {
		w.under(f.Under)
		w.conds = append(w.conds, "org IN (SELECT code FROM subtree)")
	}
	if f.Org != "" {
		w.add("org = ?", f.Org)
	}
	if f.Stage != "" {
		w.add("stage = ?", f.Stage)
	}
	if f.Level != 0 {
		w.add("level = ?", f.Level)
	}
	return list(ctx, s, "list systems", "systems", systemColumns, "id", w, bounded(f.Page), scanSystem)
}

// CreateSystem inserts sys. An existing id is a Conflict; an organization that does not
// exist is Invalid, about the field "org".
func (s *Store) CreateSystem(ctx context.Context, sys inventory.System) error {
	return s.write(ctx, fmt.Sprintf("create system %q", sys.ID), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qSystemExists, sys.ID); err != nil {
			return err
		} else if ok {
			return systemExists(sys.ID)
		}
		if err := s.checkOrg(ctx, tx, sys.Org); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(qInsertSystem), s.systemArgs(sys)...)
		switch s.d.Constraint(err) {
		case Unique:
			return systemExists(sys.ID)
		case ForeignKey:
			return noOrg(sys.Org)
		case Check:
			return badLevel(sys.Level)
		}
		return err
	})
}

// UpdateSystem replaces every field of the system sys.ID except Created.
func (s *Store) UpdateSystem(ctx context.Context, sys inventory.System) error {
	return s.write(ctx, fmt.Sprintf("update system %q", sys.ID), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qSystemExists, sys.ID); err != nil {
			return err
		} else if !ok {
			return systemNotFound(sys.ID)
		}
		if err := s.checkOrg(ctx, tx, sys.Org); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(qUpdateSystem), sys.Org, sys.Name, sys.Purpose, sys.Level,
			sys.LevelApproved, sys.Stage, joinClasses(sys.DataClasses), sys.Operator, s.time(sys.Updated), sys.ID)
		switch s.d.Constraint(err) {
		case ForeignKey:
			return noOrg(sys.Org)
		case Check:
			return badLevel(sys.Level)
		}
		return notFoundIfNone(res, err, systemNotFound(sys.ID))
	})
}

// checkOrg returns an Invalid error if the organization org does not exist.
func (s *Store) checkOrg(ctx context.Context, q queryer, org string) error {
	ok, err := s.exists(ctx, q, qOrgExists, org)
	if err == nil && !ok {
		return noOrg(org)
	}
	return err
}

// DeleteSystem removes the system id. One that still has resources is a Conflict, and
// nothing is deleted.
func (s *Store) DeleteSystem(ctx context.Context, id string) error {
	return s.write(ctx, fmt.Sprintf("delete system %q", id), func(tx *sql.Tx) error {
		if ok, err := s.exists(ctx, tx, qSystemExists, id); err != nil {
			return err
		} else if !ok {
			return systemNotFound(id)
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(qSystemResources), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.E(errs.Conflict, "%s", stillHas(fmt.Sprintf("system %q", id), count{n, "resource", "resources"}))
		}
		res, err := tx.ExecContext(ctx, s.q(qDeleteSystem), id)
		if s.d.Constraint(err) == ForeignKey {
			return errs.E(errs.Conflict, "system %q still has resources; move or delete them first", id)
		}
		return notFoundIfNone(res, err, systemNotFound(id))
	})
}
