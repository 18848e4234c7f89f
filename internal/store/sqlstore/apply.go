package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// Apply writes inv in one transaction: each organization, system and resource is inserted,
// or updated in place when its key exists, keeping its Created. Organizations are written
// parents first. A reference to something neither in inv nor stored, a cycle of parents, or
// a key given twice is Invalid, names the item, and nothing at all is written.
func (s *Store) Apply(ctx context.Context, inv inventory.Inventory) error {
	orgSet, err := keys(inv.Orgs, "code", "organization", func(o inventory.Organization) string { return o.Code })
	if err != nil {
		return err
	}
	systemSet, err := keys(inv.Systems, "id", "system", func(s inventory.System) string { return s.ID })
	if err != nil {
		return err
	}
	if _, err := keys(inv.Resources, "id", "resource", func(r inventory.Resource) string { return r.ID }); err != nil {
		return err
	}
	orgs, cycle := parentsFirst(inv.Orgs)
	if len(cycle) > 0 {
		return errs.Field("parent", "organizations %s form a cycle of parents", strings.Join(cycle, ", "))
	}
	return s.write(ctx, "apply inventory", func(tx *sql.Tx) error {
		for _, o := range orgs {
			if !orgSet[o.Parent] { // a parent in inv is written before its children
				if err := s.checkParent(ctx, tx, o); err != nil {
					return about(err, "organization %q", o.Code)
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(qUpsertOrg), s.orgArgs(o)...); err != nil {
				return fmt.Errorf("organization %q: %w", o.Code, err)
			}
		}
		if len(orgs) > 0 {
			// inv has no cycle of its own, but new parents of stored organizations may
			// close one through organizations inv does not mention.
			off, err := collect(ctx, s, tx, scanString, qOffTree)
			if err != nil {
				return err
			}
			if len(off) > 0 {
				return errs.Field("parent", "these parents would put organizations %s in a cycle", strings.Join(off, ", "))
			}
		}
		for _, sys := range inv.Systems {
			if !orgSet[sys.Org] {
				if err := s.checkOrg(ctx, tx, sys.Org); err != nil {
					return about(err, "system %q", sys.ID)
				}
			}
			_, err := tx.ExecContext(ctx, s.q(qUpsertSystem), s.systemArgs(sys)...)
			if s.d.Constraint(err) == Check {
				return about(badLevel(sys.Level), "system %q", sys.ID)
			}
			if err != nil {
				return fmt.Errorf("system %q: %w", sys.ID, err)
			}
		}
		for _, r := range inv.Resources {
			if !systemSet[r.System] {
				if err := s.checkSystem(ctx, tx, r.System); err != nil {
					return about(err, "resource %q", r.ID)
				}
			}
			if _, err := tx.ExecContext(ctx, s.q(qUpsertResource), s.resourceArgs(r)...); err != nil {
				return fmt.Errorf("resource %q: %w", r.ID, err)
			}
		}
		return nil
	})
}

// keys returns the set of the keys of items, or an Invalid error if one appears twice: which
// of the two should win is the caller's to say.
func keys[T any](items []T, field, noun string, key func(T) string) (map[string]bool, error) {
	set := make(map[string]bool, len(items))
	for _, it := range items {
		k := key(it)
		if set[k] {
			return nil, errs.Field(field, "%s %q appears more than once", noun, k)
		}
		set[k] = true
	}
	return set, nil
}

func scanString(row scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

const (
	qAllOrgs      = `SELECT ` + orgColumns + ` FROM organizations ORDER BY code`
	qAllSystems   = `SELECT ` + systemColumns + ` FROM systems ORDER BY id`
	qAllResources = `SELECT ` + resourceColumns + ` FROM resources ORDER BY id`
)

// Snapshot reads the whole inventory as one state: organizations parents first (by depth in
// the tree, then by code), systems by id, resources by id.
func (s *Store) Snapshot(ctx context.Context) (inventory.Inventory, error) {
	var inv inventory.Inventory
	err := s.read(ctx, "read inventory", func(tx *sql.Tx) error {
		var err error
		if inv.Orgs, err = collect(ctx, s, tx, scanOrg, qAllOrgs); err != nil {
			return err
		}
		if inv.Systems, err = collect(ctx, s, tx, scanSystem, qAllSystems); err != nil {
			return err
		}
		inv.Resources, err = collect(ctx, s, tx, scanResource, qAllResources)
		return err
	})
	if err != nil {
		return inventory.Inventory{}, err
	}
	inv.Orgs, _ = parentsFirst(inv.Orgs) // the store admits no cycle; were there one, its members come last
	return inv, nil
}

// parentsFirst returns orgs ordered by depth in the tree they form, then by code; a parent
// that is not among orgs counts as a root. Organizations on a cycle of parents, or under
// one, have no depth: they come last, and their codes are returned as cycle.
func parentsFirst(orgs []inventory.Organization) (sorted []inventory.Organization, cycle []string) {
	const cyclic = -1
	parent := make(map[string]string, len(orgs))
	for _, o := range orgs {
		parent[o.Code] = o.Parent
	}
	depth := make(map[string]int, len(orgs))
	for _, o := range orgs {
		if _, ok := depth[o.Code]; ok {
			continue
		}
		// Walk up until a root, a known depth or a repeat, then number the path back down.
		var (
			path   []string
			onPath = map[string]bool{}
			base   int // depth of the last element of path
		)
		for c := o.Code; ; {
			path = append(path, c)
			onPath[c] = true
			p := parent[c]
			if _, in := parent[p]; p == "" || !in {
				base = 0
				break
			}
			if d, ok := depth[p]; ok {
				base = d + 1
				if d == cyclic {
					base = cyclic
				}
				break
			}
			if onPath[p] {
				base = cyclic
				break
			}
			c = p
		}
		for i, c := range slices.Backward(path) {
			if base == cyclic {
				depth[c] = cyclic
			} else {
				depth[c] = base + len(path) - 1 - i
			}
		}
	}
	sorted = slices.Clone(orgs)
	slices.SortStableFunc(sorted, func(a, b inventory.Organization) int {
		da, db := depth[a.Code], depth[b.Code]
		if (da == cyclic) != (db == cyclic) {
			if da == cyclic {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(da, db), strings.Compare(a.Code, b.Code))
	})
	for _, o := range sorted {
		if depth[o.Code] == cyclic {
			cycle = append(cycle, o.Code)
		}
	}
	return sorted, cycle
}
