package auth

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/audit"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// Inventory is inventory.Service as the principal of each call's context may use it: every
// method checks the principal's action and scope with the Policy before it reads or writes,
// listings are narrowed to the principal's subtree, and each change is recorded in the audit
// log after it succeeds. Its methods have the signatures of inventory.Service's, so the web
// handlers take either.
type Inventory struct {
	inv *inventory.Service
	pol *Policy
	rec audit.Recorder
}

// NewInventory wraps inv.
func NewInventory(inv *inventory.Service, pol *Policy, rec audit.Recorder) *Inventory {
	return &Inventory{inv: inv, pol: pol, rec: rec}
}

// may returns the principal of ctx if its role has action a.
func (s *Inventory) may(ctx context.Context, a Action) (Principal, error) {
	p, err := need(ctx)
	if err != nil {
		return Principal{}, err
	}
	if !p.Has(a) {
		return Principal{}, errs.E(errs.Forbidden, "your role (%s) does not allow %s", p.roleName(), a)
	}
	return p, nil
}

// hide returns notFound when org is outside p's scope: what lies outside does not exist for p.
func (s *Inventory) hide(ctx context.Context, p Principal, org string, notFound error) error {
	ok, err := s.pol.Within(ctx, p.Scope, org)
	if err != nil {
		return err
	}
	if !ok {
		return notFound
	}
	return nil
}

// mayUse returns an error of kind Forbidden about field when p may not take action a on org,
// named in a request body: when org is outside p's scope, whether or not it exists.
func (s *Inventory) mayUse(ctx context.Context, p Principal, a Action, field, org string) error {
	return forbiddenField(s.pol.Can(ctx, p, a, org), field)
}

// mayUseSystem is mayUse for a system named in a request body. A system that does not exist
// is left for the service to report to a principal of the whole tree, and is outside the
// scope of every other.
func (s *Inventory) mayUseSystem(ctx context.Context, p Principal, a Action, id string) error {
	sys, err := s.inv.System(ctx, id)
	switch {
	case errs.Is(err, errs.NotFound) && p.Scope == "":
		return nil
	case errs.Is(err, errs.NotFound):
		// Outside the scope, as below: whether it exists is not for p to learn.
	case err != nil:
		return err
	default:
		if err := s.mayUse(ctx, p, a, "system", sys.Org); !errs.Is(err, errs.Forbidden) {
			return err
		}
	}
	return &errs.Error{Kind: errs.Forbidden, Field: "system", Msg: fmt.Sprintf("system %q is not within your scope (%s)", id, p.ScopeName())}
}

// narrowed is the shape of every scoped listing: the principal of ctx needs action a, and
// the subtree asked for (under; "" for the whole tree) is narrowed to the principal's before
// list runs with it. A subtree outside the principal's lists nothing.
func narrowed[T any](ctx context.Context, s *Inventory, a Action, under string, list func(under string) ([]T, int, error)) ([]T, int, error) {
	p, err := s.may(ctx, a)
	if err != nil {
		return nil, 0, err
	}
	under, ok, err := s.pol.narrow(ctx, p, under)
	if err != nil || !ok {
		return nil, 0, err
	}
	return list(under)
}

// record appends a change to the audit log. The change is made already: if the log refuses
// it, the error says so, for the operator to act on.
func (s *Inventory) record(ctx context.Context, r audit.Record) error {
	if _, err := s.rec.Record(ctx, r); err != nil {
		return fmt.Errorf("%s %s was done but could not be recorded in the audit log: %w", r.Action, r.ObjectID, err)
	}
	return nil
}

// The messages of objects outside the scope are those of missing ones, word for word.
func orgNotFound(code string) error    { return errs.E(errs.NotFound, "organization %q not found", code) }
func systemNotFound(id string) error   { return errs.E(errs.NotFound, "system %q not found", id) }
func resourceNotFound(id string) error { return errs.E(errs.NotFound, "resource %q not found", id) }

// org returns an organization of p's subtree.
func (s *Inventory) org(ctx context.Context, p Principal, code string) (inventory.Organization, error) {
	o, err := s.inv.Org(ctx, code)
	if err != nil {
		return inventory.Organization{}, err
	}
	if err := s.hide(ctx, p, o.Code, orgNotFound(code)); err != nil {
		return inventory.Organization{}, err
	}
	return o, nil
}

// system returns a system of p's subtree.
func (s *Inventory) system(ctx context.Context, p Principal, id string) (inventory.System, error) {
	sys, err := s.inv.System(ctx, id)
	if err != nil {
		return inventory.System{}, err
	}
	if err := s.hide(ctx, p, sys.Org, systemNotFound(id)); err != nil {
		return inventory.System{}, err
	}
	return sys, nil
}

// Org returns one organization of the principal's subtree.
func (s *Inventory) Org(ctx context.Context, code string) (inventory.Organization, error) {
	p, err := s.may(ctx, InventoryRead)
	if err != nil {
		return inventory.Organization{}, err
	}
	return s.org(ctx, p, code)
}

// Orgs lists the organizations of the principal's subtree that f selects.
func (s *Inventory) Orgs(ctx context.Context, f inventory.OrgFilter) ([]inventory.Organization, int, error) {
	return narrowed(ctx, s, InventoryRead, f.Under, func(under string) ([]inventory.Organization, int, error) {
		f.Under = under
		return s.inv.Orgs(ctx, f)
	})
}

// CreateOrg creates an organization under a parent in the principal's subtree. Only a
// principal of the whole tree creates a root.
func (s *Inventory) CreateOrg(ctx context.Context, o inventory.Organization) (inventory.Organization, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.Organization{}, err
	}
	o.Parent = strings.TrimSpace(o.Parent)
	if err := s.mayUse(ctx, p, InventoryWrite, "parent", o.Parent); err != nil {
		return inventory.Organization{}, err
	}
	created, err := s.inv.CreateOrg(ctx, o)
	if err != nil {
		return inventory.Organization{}, err
	}
	return created, s.record(ctx, audit.Record{Action: "organization.create", ObjectType: "organization",
		ObjectID: created.Code, Org: created.Code, After: orgRecord(created)})
}

// UpdateOrg replaces an organization of the principal's subtree. Moving it needs the new
// parent in the subtree too, and the organization a principal is scoped to cannot be moved
// by that principal.
func (s *Inventory) UpdateOrg(ctx context.Context, o inventory.Organization) (inventory.Organization, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.Organization{}, err
	}
	o.Code, o.Parent = strings.TrimSpace(o.Code), strings.TrimSpace(o.Parent)
	old, err := s.org(ctx, p, o.Code)
	if err != nil {
		return inventory.Organization{}, err
	}
	if o.Parent != old.Parent {
		if old.Code == p.Scope {
			return inventory.Organization{}, &errs.Error{Kind: errs.Forbidden, Field: "parent",
				Msg: fmt.Sprintf("%q is the organization your account is scoped to; an administrator above it may move it", old.Code)}
		}
		if err := s.mayUse(ctx, p, InventoryWrite, "parent", o.Parent); err != nil {
			return inventory.Organization{}, err
		}
	}
	updated, err := s.inv.UpdateOrg(ctx, o)
	if err != nil {
		return inventory.Organization{}, err
	}
	return updated, s.record(ctx, audit.Record{Action: "organization.update", ObjectType: "organization",
		ObjectID: updated.Code, Org: updated.Code, Before: orgRecord(old), After: orgRecord(updated)})
}

// DeleteOrg deletes an organization below the principal's scope.
func (s *Inventory) DeleteOrg(ctx context.Context, code string) error {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return err
	}
	old, err := s.org(ctx, p, code)
	if err != nil {
		return err
	}
	if old.Code == p.Scope {
		return errs.E(errs.Forbidden, "%q is the organization your account is scoped to; an administrator above it may delete it", old.Code)
	}
	path, err := s.pol.Path(ctx, old.Code) // now, while it exists
	if err != nil {
		return err
	}
	if err := s.inv.DeleteOrg(ctx, code); err != nil {
		return err
	}
	return s.record(ctx, audit.Record{Action: "organization.delete", ObjectType: "organization",
		ObjectID: old.Code, Path: path, Before: orgRecord(old)})
}

// System returns one system of the principal's subtree.
func (s *Inventory) System(ctx context.Context, id string) (inventory.System, error) {
	p, err := s.may(ctx, InventoryRead)
	if err != nil {
		return inventory.System{}, err
	}
	return s.system(ctx, p, id)
}

// Systems lists the systems of the principal's subtree that f selects.
func (s *Inventory) Systems(ctx context.Context, f inventory.SystemFilter) ([]inventory.System, int, error) {
	return narrowed(ctx, s, InventoryRead, f.Under, func(under string) ([]inventory.System, int, error) {
		f.Under = under
		return s.inv.Systems(ctx, f)
	})
}

// CreateSystem creates a system owned by an organization of the principal's subtree.
func (s *Inventory) CreateSystem(ctx context.Context, sys inventory.System) (inventory.System, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.System{}, err
	}
	if sys.Org = strings.TrimSpace(sys.Org); sys.Org == "" {
		return inventory.System{}, errs.Field("org", "is required")
	}
	if err := s.mayUse(ctx, p, InventoryWrite, "org", sys.Org); err != nil {
		return inventory.System{}, err
	}
	created, err := s.inv.CreateSystem(ctx, sys)
	if err != nil {
		return inventory.System{}, err
	}
	return created, s.record(ctx, audit.Record{Action: "system.create", ObjectType: "system",
		ObjectID: created.ID, Org: created.Org, After: systemRecord(created)})
}

// UpdateSystem replaces a system of the principal's subtree; a new owner must be in it too.
func (s *Inventory) UpdateSystem(ctx context.Context, sys inventory.System) (inventory.System, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.System{}, err
	}
	sys.ID, sys.Org = strings.TrimSpace(sys.ID), strings.TrimSpace(sys.Org)
	old, err := s.system(ctx, p, sys.ID)
	if err != nil {
		return inventory.System{}, err
	}
	if sys.Org != old.Org && sys.Org != "" { // an empty one is refused by the service
		if err := s.mayUse(ctx, p, InventoryWrite, "org", sys.Org); err != nil {
			return inventory.System{}, err
		}
	}
	updated, err := s.inv.UpdateSystem(ctx, sys)
	if err != nil {
		return inventory.System{}, err
	}
	return updated, s.record(ctx, audit.Record{Action: "system.update", ObjectType: "system",
		ObjectID: updated.ID, Org: updated.Org, Before: systemRecord(old), After: systemRecord(updated)})
}

// DeleteSystem deletes a system of the principal's subtree.
func (s *Inventory) DeleteSystem(ctx context.Context, id string) error {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return err
	}
	old, err := s.system(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.inv.DeleteSystem(ctx, id); err != nil {
		return err
	}
	return s.record(ctx, audit.Record{Action: "system.delete", ObjectType: "system",
		ObjectID: old.ID, Org: old.Org, Before: systemRecord(old)})
}

// resource returns a resource of the principal's subtree and its system.
func (s *Inventory) resource(ctx context.Context, p Principal, id string) (inventory.Resource, inventory.System, error) {
	r, err := s.inv.Resource(ctx, id)
	if err != nil {
		return inventory.Resource{}, inventory.System{}, err
	}
	sys, err := s.inv.System(ctx, r.System)
	if err != nil {
		return inventory.Resource{}, inventory.System{}, err
	}
	if err := s.hide(ctx, p, sys.Org, resourceNotFound(r.ID)); err != nil {
		return inventory.Resource{}, inventory.System{}, err
	}
	return r, sys, nil
}

// Resource returns one resource of the principal's subtree.
func (s *Inventory) Resource(ctx context.Context, id string) (inventory.Resource, error) {
	p, err := s.may(ctx, InventoryRead)
	if err != nil {
		return inventory.Resource{}, err
	}
	r, _, err := s.resource(ctx, p, id)
	return r, err
}

// Resources lists the resources of the principal's subtree that f selects.
func (s *Inventory) Resources(ctx context.Context, f inventory.ResourceFilter) ([]inventory.Resource, int, error) {
	return narrowed(ctx, s, InventoryRead, f.Under, func(under string) ([]inventory.Resource, int, error) {
		f.Under = under
		return s.inv.Resources(ctx, f)
	})
}

// CreateResource creates a resource of a system in the principal's subtree.
func (s *Inventory) CreateResource(ctx context.Context, r inventory.Resource) (inventory.Resource, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.Resource{}, err
	}
	if r.System = strings.TrimSpace(r.System); r.System == "" {
		return inventory.Resource{}, errs.Field("system", "is required")
	}
	if err := s.mayUseSystem(ctx, p, InventoryWrite, r.System); err != nil {
		return inventory.Resource{}, err
	}
	created, err := s.inv.CreateResource(ctx, r)
	if err != nil {
		return inventory.Resource{}, err
	}
	return created, s.record(ctx, audit.Record{Action: "resource.create", ObjectType: "resource",
		ObjectID: created.ID, Org: s.orgOf(ctx, created.System), After: resourceRecord(created)})
}

// orgOf is the organization of a system, or "" when it cannot be read (the entry then has
// the platform's path, which only platform administrators see).
func (s *Inventory) orgOf(ctx context.Context, system string) string {
	sys, err := s.inv.System(ctx, system)
	if err != nil {
		return ""
	}
	return sys.Org
}

// UpdateResource changes a resource of the principal's subtree; a new system must be in it too.
func (s *Inventory) UpdateResource(ctx context.Context, r inventory.Resource) (inventory.Resource, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.Resource{}, err
	}
	old, oldSys, err := s.resource(ctx, p, r.ID)
	if err != nil {
		return inventory.Resource{}, err
	}
	if r.System = strings.TrimSpace(r.System); r.System != old.System && r.System != "" {
		if err := s.mayUseSystem(ctx, p, InventoryWrite, r.System); err != nil {
			return inventory.Resource{}, err
		}
	}
	updated, err := s.inv.UpdateResource(ctx, r)
	if err != nil {
		return inventory.Resource{}, err
	}
	rec := audit.Record{Action: "resource.update", ObjectType: "resource", ObjectID: updated.ID,
		Org: s.orgOf(ctx, updated.System), Before: resourceRecord(old), After: resourceRecord(updated)}
	if updated.System != old.System {
		// Moved between organizations: keep it visible to the auditors of the one it left.
		rec.Org = oldSys.Org
	}
	return updated, s.record(ctx, rec)
}

// DeleteResource deletes a resource of the principal's subtree.
func (s *Inventory) DeleteResource(ctx context.Context, id string) error {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return err
	}
	old, sys, err := s.resource(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.inv.DeleteResource(ctx, id); err != nil {
		return err
	}
	return s.record(ctx, audit.Record{Action: "resource.delete", ObjectType: "resource",
		ObjectID: old.ID, Org: sys.Org, Before: resourceRecord(old)})
}

// IssueChallenge issues the ownership challenge of a resource of the principal's subtree.
// The token itself is not recorded.
func (s *Inventory) IssueChallenge(ctx context.Context, id string) (inventory.Challenge, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.Challenge{}, err
	}
	old, sys, err := s.resource(ctx, p, id)
	if err != nil {
		return inventory.Challenge{}, err
	}
	c, err := s.inv.IssueChallenge(ctx, id)
	if err != nil {
		return inventory.Challenge{}, err
	}
	if old.VerifyToken != "" { // the pending challenge, shown again: nothing changed
		return c, nil
	}
	return c, s.record(ctx, audit.Record{Action: "resource.challenge", ObjectType: "resource",
		ObjectID: old.ID, Org: sys.Org, After: map[string]any{"challenge": "issued"}})
}

// Verify checks the pending challenge of a resource of the principal's subtree.
func (s *Inventory) Verify(ctx context.Context, id string, pr inventory.Prover) (inventory.Resource, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.Resource{}, err
	}
	old, sys, err := s.resource(ctx, p, id)
	if err != nil {
		return inventory.Resource{}, err
	}
	verified, err := s.inv.Verify(ctx, id, pr)
	if err != nil {
		return inventory.Resource{}, err
	}
	return verified, s.record(ctx, audit.Record{Action: "resource.verify", ObjectType: "resource",
		ObjectID: verified.ID, Org: sys.Org, Before: resourceRecord(old), After: resourceRecord(verified)})
}

// Import merges an inventory file, as inventory.Service.Import does. A file may hold any
// organization, so importing needs the whole tree; the counts are recorded.
func (s *Inventory) Import(ctx context.Context, name string, r io.Reader, f inventory.Format) (inventory.ImportResult, error) {
	p, err := s.may(ctx, InventoryWrite)
	if err != nil {
		return inventory.ImportResult{}, err
	}
	if err := s.pol.Can(ctx, p, InventoryWrite, ""); err != nil {
		return inventory.ImportResult{}, err
	}
	res, err := s.inv.Import(ctx, name, r, f)
	if err != nil {
		return inventory.ImportResult{}, err
	}
	return res, s.record(ctx, audit.Record{Action: "inventory.import", ObjectType: "inventory", ObjectID: name,
		After: map[string]any{"organizations": res.Orgs, "systems": res.Systems, "resources": res.Resources}})
}

// The audit form of inventory objects: snake_case, as the API shows them, and never the
// ownership token.

func orgRecord(o inventory.Organization) map[string]any {
	return map[string]any{
		"code": o.Code, "name": o.Name, "level": o.Level, "parent": o.Parent,
		"head": map[string]string{"name": o.Head.Name, "title": o.Head.Title, "contact": o.Head.Contact},
	}
}

func systemRecord(s inventory.System) map[string]any {
	classes := make([]string, 0, len(s.DataClasses))
	for _, c := range s.DataClasses {
		classes = append(classes, string(c))
	}
	return map[string]any{
		"id": s.ID, "org": s.Org, "name": s.Name, "purpose": s.Purpose, "level": s.Level,
		"level_approved": s.LevelApproved, "stage": s.Stage, "data_classes": classes, "operator": s.Operator,
	}
}

func resourceRecord(r inventory.Resource) map[string]any {
	m := map[string]any{"id": r.ID, "system": r.System, "scope": r.Scope, "scope_reason": r.ScopeReason}
	if !r.VerifiedAt.IsZero() {
		m["verified_at"] = r.VerifiedAt.UTC().Format(time.RFC3339)
	}
	return m
}
