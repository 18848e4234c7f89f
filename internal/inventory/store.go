package inventory

import "context"

// Store persists the inventory. It is implemented by store/sqlite and store/postgres, which
// both pass storetest.Run. Contract, for every method:
//   - a missing row gives an error of kind errs.NotFound, never a zero value and nil;
//   - creating something that exists gives errs.Conflict; a reference to a missing organization
//     or system gives errs.Invalid naming the field ("parent", "org", "system");
//   - deleting an organization with children or systems, or a system with resources, gives
//     errs.Conflict and deletes nothing;
//   - every write is atomic: it happens whole or not at all;
//   - methods are safe for concurrent use.
type Store interface {
	Org(ctx context.Context, code string) (Organization, error)
	Orgs(ctx context.Context, f OrgFilter) ([]Organization, int, error)
	CreateOrg(ctx context.Context, o Organization) error
	// UpdateOrg replaces every field of the organization o.Code except Created.
	UpdateOrg(ctx context.Context, o Organization) error
	DeleteOrg(ctx context.Context, code string) error

	System(ctx context.Context, id string) (System, error)
	Systems(ctx context.Context, f SystemFilter) ([]System, int, error)
	CreateSystem(ctx context.Context, s System) error
	UpdateSystem(ctx context.Context, s System) error
	DeleteSystem(ctx context.Context, id string) error

	Resource(ctx context.Context, id string) (Resource, error)
	Resources(ctx context.Context, f ResourceFilter) ([]Resource, int, error)
	CreateResource(ctx context.Context, r Resource) error
	UpdateResource(ctx context.Context, r Resource) error
	DeleteResource(ctx context.Context, id string) error

	// Apply writes a whole inventory in one transaction: each organization, system and resource
	// is inserted, or updated in place when its key exists (Created is kept). Organizations
	// are written parents first. Any error rolls everything back.
	Apply(ctx context.Context, inv Inventory) error
	// Snapshot reads the whole inventory, organizations parents first (then by code), systems
	// by id, resources by id.
	Snapshot(ctx context.Context) (Inventory, error)
}

// Inventory is a whole register, or the part of one that an import file holds.
type Inventory struct {
	Orgs      []Organization
	Systems   []System
	Resources []Resource
}

// Page bounds a listing. Limit 0 means the default (50); it is capped at 1000.
type Page struct {
	Limit  int
	Offset int
}

// Bounded returns the page with its limit defaulted and capped.
func (p Page) Bounded() Page {
	switch {
	case p.Limit <= 0:
		p.Limit = 50
	case p.Limit > 1000:
		p.Limit = 1000
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

// OrgFilter selects organizations. Empty fields do not filter. Results are ordered by code.
type OrgFilter struct {
	Under  string // the subtree rooted at this code, the root included
	Parent string // direct children of this code
	Level  Level
	Page
}

// SystemFilter selects systems. Empty fields do not filter. Results are ordered by id.
type SystemFilter struct {
	Org   string // owned by exactly this organization
	Under string // owned by any organization in this subtree
	Stage Stage
	Level int
	Page
}

// ResourceFilter selects resources. Empty fields do not filter. Results are ordered by id.
type ResourceFilter struct {
	System string
	Under  string // resources of systems owned in this subtree
	Kind   Kind
	Scope  ScopeStatus
	Page
}
