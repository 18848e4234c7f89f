package inventory

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/khien-vn/khien/internal/errs"
)

// Export writes the whole inventory in format f, in the same form Import reads: importing the
// output into an empty store and exporting again gives the same bytes. The output depends only
// on what is stored, not on the store's order, so that exports can be diffed and versioned.
func (s *Service) Export(ctx context.Context, w io.Writer, f Format) error {
	inv, err := s.store.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return WriteFile(w, inv, f)
}

// WriteFile encodes inv as an inventory file in format f. Organizations come parents first
// (each followed by its subtree, siblings by code), systems by id with their resources by
// identifier. Created, Updated and VerifyToken are not written; VerifiedAt is, for a verified
// resource.
func WriteFile(w io.Writer, inv Inventory, f Format) error {
	inv = exportOrder(inv)
	switch f {
	case FormatYAML:
		return encodeYAML(w, inv)
	case FormatCSV:
		return encodeCSV(w, inv)
	}
	return errs.E(errs.Invalid, "unknown format %q; use yaml or csv", f)
}

// exportOrder returns a copy of inv in the order WriteFile writes it.
func exportOrder(inv Inventory) Inventory {
	out := Inventory{
		Orgs:      treeOrder(inv.Orgs),
		Systems:   slices.Clone(inv.Systems),
		Resources: slices.Clone(inv.Resources),
	}
	slices.SortStableFunc(out.Systems, func(a, b System) int { return cmp.Compare(a.ID, b.ID) })
	for i := range out.Systems {
		dc := slices.Clone(out.Systems[i].DataClasses)
		slices.Sort(dc)
		out.Systems[i].DataClasses = dc
	}
	slices.SortStableFunc(out.Resources, func(a, b Resource) int {
		return cmp.Or(cmp.Compare(a.System, b.System), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// treeOrder lists organizations depth first: each root (an organization whose parent is not
// in the list) by code, followed by its children by code, recursively.
func treeOrder(orgs []Organization) []Organization {
	byCode := make(map[string]bool, len(orgs))
	for _, o := range orgs {
		byCode[o.Code] = true
	}
	children := make(map[string][]Organization)
	for _, o := range orgs {
		parent := o.Parent
		if !byCode[parent] || parent == o.Code {
			parent = ""
		}
		children[parent] = append(children[parent], o)
	}
	for _, c := range children {
		slices.SortStableFunc(c, func(a, b Organization) int { return cmp.Compare(a.Code, b.Code) })
	}
	out := make([]Organization, 0, len(orgs))
	done := make(map[string]bool, len(orgs))
	var walk func(parent string)
	walk = func(parent string) {
		for _, o := range children[parent] {
			if done[o.Code] {
				continue // a code given twice
			}
			done[o.Code] = true
			out = append(out, o)
			walk(o.Code)
		}
	}
	walk("")
	// Organizations in a loop are unreachable from a root; a stored tree has none, but
	// WriteFile loses nothing it is given.
	var rest []Organization
	for _, o := range orgs {
		if !done[o.Code] {
			rest = append(rest, o)
		}
	}
	slices.SortStableFunc(rest, func(a, b Organization) int { return cmp.Compare(a.Code, b.Code) })
	return append(out, rest...)
}

// groupResources splits resources (sorted by system, then id) into those of each system of inv
// and those whose system inv does not hold.
func groupResources(inv Inventory) (bySystem map[string][]Resource, orphans []Resource) {
	systems := make(map[string]bool, len(inv.Systems))
	for _, s := range inv.Systems {
		systems[s.ID] = true
	}
	bySystem = make(map[string][]Resource)
	for _, r := range inv.Resources {
		if systems[r.System] {
			bySystem[r.System] = append(bySystem[r.System], r)
		} else {
			orphans = append(orphans, r)
		}
	}
	return bySystem, orphans
}

// scopeOf returns r's scope, an empty one being unverified.
func scopeOf(r Resource) ScopeStatus {
	if r.Scope == "" {
		return ScopeUnverified
	}
	return r.Scope
}

// plainResource reports whether r is fully described by its identifier: an unverified
// resource with no reason. Export writes such a resource without a scope.
func plainResource(r Resource) bool {
	return scopeOf(r) == ScopeUnverified && r.ScopeReason == ""
}

// verifiedAt formats the verification time of a verified resource for the file, or returns "".
func verifiedAt(r Resource) string {
	if scopeOf(r) != ScopeVerified || r.VerifiedAt.IsZero() {
		return ""
	}
	return r.VerifiedAt.UTC().Format(time.RFC3339Nano)
}
