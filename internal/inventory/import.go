package inventory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// ImportResult counts what an import did, or, from CheckImport, would do.
type ImportResult struct {
	Orgs, Systems, Resources Counts
}

// Counts is how many rows of one kind an import created, updated, and found as the file has them.
type Counts struct {
	Created, Updated, Unchanged int
}

// String summarizes r for people: "organizations: 3 created, 1 updated, 0 unchanged; …".
func (r ImportResult) String() string {
	c := func(what string, n Counts) string {
		return fmt.Sprintf("%s: %d created, %d updated, %d unchanged", what, n.Created, n.Updated, n.Unchanged)
	}
	return c("organizations", r.Orgs) + "; " + c("systems", r.Systems) + "; " + c("resources", r.Resources)
}

// Import reads an inventory file and merges it into the store, all or nothing.
//
// The file is checked as ParseFile does and against what is stored: a parent, a system's
// organization and a resource's system must be in the file or the store; a parent must not
// lead back to its child through the file and the store together; a resource stored under
// another system may not be listed under this one; and "verified" may only be kept, not
// claimed. Every problem is returned at once as a FileErrors, and then nothing is written.
//
// Otherwise everything is written with one Store.Apply: a row whose key is new is created,
// one whose key is stored is replaced by the file's (Created kept), one that the file gives
// exactly as stored is left alone. Nothing is deleted. A resource for which the file gives no
// scope keeps its stored scope, reason and verification time (a new one starts unverified);
// a pending ownership challenge is always kept.
func (s *Service) Import(ctx context.Context, name string, r io.Reader, f Format) (ImportResult, error) {
	p, err := s.planImport(ctx, name, r, f)
	if err != nil {
		return ImportResult{}, err
	}
	if err := s.apply(ctx, name, p); err != nil {
		return ImportResult{}, err
	}
	return p.result, nil
}

// apply writes a plan, if there is anything to write.
func (s *Service) apply(ctx context.Context, name string, p importPlan) error {
	if len(p.write.Orgs)+len(p.write.Systems)+len(p.write.Resources) == 0 {
		return nil
	}
	if err := s.store.Apply(ctx, p.write); err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	return nil
}

// CheckImport does what Import does except write: it returns the problems Import would
// report, or the counts Import would return (for "khien import --dry-run").
func (s *Service) CheckImport(ctx context.Context, name string, r io.Reader, f Format) (ImportResult, error) {
	p, err := s.planImport(ctx, name, r, f)
	return p.result, err
}

// importPlan is what an import writes and the counts it reports.
type importPlan struct {
	write  Inventory
	result ImportResult
}

// ApplyInventory merges inv into the store under the rules of Import, with one Store.Apply: for
// inventories built in code, such as the demo province. A problem is reported as a FileErrors
// whose File names the record at fault (organization "HN.VP") and whose Line is 0.
func (s *Service) ApplyInventory(ctx context.Context, inv Inventory) error {
	d := &fileData{name: "inventory"}
	var labels []string
	at := func(what, key string) pos {
		labels = append(labels, fmt.Sprintf("%s %q", what, key))
		return pos{line: len(labels)}
	}
	for _, o := range inv.Orgs {
		d.orgs = append(d.orgs, &orgRec{Organization: o, pos: at("organization", o.Code)})
	}
	for _, sys := range inv.Systems {
		d.systems = append(d.systems, &sysRec{System: sys, pos: at("system", sys.ID)})
	}
	for _, r := range inv.Resources {
		d.resources = append(d.resources, &resRec{Resource: r, pos: at("resource", r.ID), written: r.ID,
			scopeGiven: r.Scope != "", reasonGiven: r.ScopeReason != "", verifiedAtGiven: !r.VerifiedAt.IsZero()})
	}
	p, err := s.plan(ctx, d)
	var fe FileErrors
	if errors.As(err, &fe) {
		// Lines here are indexes into labels: name the record instead.
		for i := range fe {
			if fe[i].Line > 0 {
				fe[i].File, fe[i].Line = labels[fe[i].Line-1], 0
			}
		}
	}
	if err != nil {
		return err
	}
	return s.apply(ctx, "inventory", p)
}

func (s *Service) planImport(ctx context.Context, name string, r io.Reader, f Format) (importPlan, error) {
	d, err := readFile(name, r, f)
	if err != nil {
		return importPlan{}, err
	}
	return s.plan(ctx, d)
}

// plan checks the decoded records d against the store and works out what to write.
func (s *Service) plan(ctx context.Context, d *fileData) (importPlan, error) {
	name := d.name
	d.validate()
	v := newStoreView(s.store)
	if err := d.checkTree(ctx, v); err != nil {
		return importPlan{}, fmt.Errorf("import %s: %w", name, err)
	}
	if err := d.checkStored(ctx, v); err != nil {
		return importPlan{}, fmt.Errorf("import %s: %w", name, err)
	}
	if err := d.err(); err != nil {
		return importPlan{}, err
	}
	p, err := d.merge(ctx, v, s.now().UTC())
	if err != nil {
		return importPlan{}, fmt.Errorf("import %s: %w", name, err)
	}
	return p, nil
}

// checkStored checks the file's references and resources against the store.
func (d *fileData) checkStored(ctx context.Context, v *storeView) error {
	for _, s := range d.systems {
		if s.badKey || s.Org == "" || d.orgByCode[s.Org] != nil {
			continue
		}
		o, err := v.org(ctx, s.Org)
		if err != nil {
			return err
		}
		if o == nil {
			d.addf(s.at("org"), "org", "organization %q is not in the file or the inventory", s.Org)
		}
	}
	for _, r := range d.resources {
		if r.badKey {
			continue
		}
		if r.System != "" && d.sysByID[r.System] == nil {
			sys, err := v.system(ctx, r.System)
			if err != nil {
				return err
			}
			if sys == nil {
				d.addf(r.at("system"), "system", "system %q is not in the file or the inventory", r.System)
			}
		}
		old, err := v.resource(ctx, r.ID)
		if err != nil {
			return err
		}
		if old != nil && r.System != "" && old.System != r.System {
			d.addf(r.at("id"), "id", "resource %s belongs to system %q in the inventory; a resource belongs to one system (delete it there first to move it)", r.ID, old.System)
		}
		if r.scopeGiven && r.Scope == ScopeVerified && (old == nil || old.Scope != ScopeVerified) {
			d.addf(r.at("scope"), "scope", "verified is earned by passing the ownership challenge; use assigned with a reason")
		}
	}
	return nil
}

// maxDepth bounds walks up the tree; checkTree has ruled out loops, so it only guards against
// a store gone wrong.
const maxDepth = 10000

// merge merges the checked file with the store: what to write, and the counts.
func (d *fileData) merge(ctx context.Context, v *storeView, now time.Time) (importPlan, error) {
	var p importPlan
	depth := make(map[string]int)
	for _, o := range d.orgs {
		if d.orgByCode[o.Code] != o {
			continue
		}
		old, err := v.org(ctx, o.Code)
		if err != nil {
			return importPlan{}, err
		}
		row := o.Organization
		switch {
		case old == nil:
			row.Created, row.Updated = now, now
			p.result.Orgs.Created++
		case sameOrg(*old, row):
			p.result.Orgs.Unchanged++
			continue
		default:
			row.Created, row.Updated = old.Created, now
			p.result.Orgs.Updated++
		}
		if _, err := d.depth(ctx, v, row.Code, depth); err != nil {
			return importPlan{}, err
		}
		p.write.Orgs = append(p.write.Orgs, row)
	}
	// Parents first, as Apply writes them in order.
	slices.SortStableFunc(p.write.Orgs, func(a, b Organization) int { return cmp.Compare(depth[a.Code], depth[b.Code]) })

	for _, s := range d.systems {
		if d.sysByID[s.ID] != s {
			continue
		}
		old, err := v.system(ctx, s.ID)
		if err != nil {
			return importPlan{}, err
		}
		row := s.System
		switch {
		case old == nil:
			row.Created, row.Updated = now, now
			p.result.Systems.Created++
		case sameSystem(*old, row):
			p.result.Systems.Unchanged++
			continue
		default:
			row.Created, row.Updated = old.Created, now
			p.result.Systems.Updated++
		}
		p.write.Systems = append(p.write.Systems, row)
	}

	for _, r := range d.resources {
		if r.badKey {
			continue
		}
		old, err := v.resource(ctx, r.ID)
		if err != nil {
			return importPlan{}, err
		}
		row := r.Resource
		switch {
		case !r.scopeGiven && old != nil:
			row.Scope, row.ScopeReason, row.VerifiedAt = old.Scope, old.ScopeReason, old.VerifiedAt
		case !r.scopeGiven:
			row.Scope, row.ScopeReason, row.VerifiedAt = ScopeUnverified, "", time.Time{}
		case row.Scope == ScopeVerified: // checkStored made sure it is stored as verified
			row.ScopeReason, row.VerifiedAt = old.ScopeReason, old.VerifiedAt
		default:
			row.VerifiedAt = time.Time{}
		}
		switch {
		case old == nil:
			row.Created, row.Updated = now, now
			p.result.Resources.Created++
		default:
			row.VerifyToken = old.VerifyToken
			if sameResource(*old, row) {
				p.result.Resources.Unchanged++
				continue
			}
			row.Created, row.Updated = old.Created, now
			p.result.Resources.Updated++
		}
		p.write.Resources = append(p.write.Resources, row)
	}
	return p, nil
}

func sameOrg(a, b Organization) bool {
	a.Created, a.Updated, b.Created, b.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

func sameSystem(a, b System) bool {
	return a.ID == b.ID && a.Org == b.Org && a.Name == b.Name && a.Purpose == b.Purpose &&
		a.Level == b.Level && a.LevelApproved == b.LevelApproved && a.Stage == b.Stage &&
		slices.Equal(a.DataClasses, b.DataClasses) && a.Operator == b.Operator
}

func sameResource(a, b Resource) bool {
	return a.ID == b.ID && a.System == b.System && a.Scope == b.Scope && a.ScopeReason == b.ScopeReason &&
		a.VerifyToken == b.VerifyToken && a.VerifiedAt.Equal(b.VerifiedAt)
}
